/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adaptive spin threshold: how long a lock waiter spins before it gives its
 * vCPU away (yield or halt).
 *
 * Spinning is right when the lock comes soon: the holder is running and its
 * critical section is short. It is wasted when the holder (or the queue
 * predecessor) is preempted: then nothing happens until the host runs that
 * vCPU again, and the spinner only burns the time slice the holder needs.
 * The stock kernel spins 2^15 iterations whatever happens. The policy below
 * watches each wait on this CPU and, once per window of samples, moves the
 * threshold, down under lock-holder preemption and back up when it stops:
 *
 *   - waits behind a preempted vCPU (lock-holder preemption), a quarter of
 *     the window's waits or of its wait time (rare, but each costs a host
 *     time slice, so the count alone would never see them): cut at once to
 *     what successful spins need (twice their EWMA, or the longest of this
 *     window, whichever is more);
 *   - waits that gave up and then got the lock almost at once ("late":
 *     spinning a little longer would have won): double;
 *   - no wait behind a preempted vCPU in the whole window: the reason to
 *     spin less is gone, double ("quiet"), so that a guest whose host stops
 *     overcommitting climbs back to the kernel's 2^15 within a few windows;
 *   - some waits behind a preempted vCPU (fewer than a quarter) and waits
 *     that gave up and then waited long: halve, but never below what
 *     successful spins need;
 *   - otherwise keep.
 *
 * A wait counts as "waited" only when the call really blocked (halted or
 * yielded), not when it gave up spinning and found the lock free at once.
 * Samples may stand for several calls (@weight: the guest times one short
 * call in PVLOCK_TIME_EVERY and lets it count for all of them).
 *
 * The result is clamped to [min, max] and, when the host sent a hint, to
 * at most the hint (the host knows the overcommit; the guest does not).
 */
#ifndef _PVLOCK_THRESHOLD_H
#define _PVLOCK_THRESHOLD_H

#include "types.h"

struct pvlock_thresh_cfg {
	u32 min;		/* lowest threshold, >= PVLOCK_SPIN_LIMIT_MIN */
	u32 max;		/* highest threshold, <= PVLOCK_SPIN_LIMIT_MAX */
	u32 window;		/* samples per decision */
	u64 late_ns;		/* a wait that blocked less than this was "late" */
};

#define PVLOCK_THRESH_WINDOW_DEFAULT	64u
#define PVLOCK_THRESH_LATE_NS_DEFAULT	20000ull	/* ~2 halt/wake round trips */
#define PVLOCK_THRESH_WAIT_CAP_NS	1000000000ull	/* one wait counts at most 1 s */

/* One wait in the slow path, as the guest measured it. */
struct pvlock_wait_sample {
	u32 spins;		/* iterations spun (until the lock, or giving up) */
	u64 blocked_ns;		/* time spent yielded/halted, 0 if it never gave up */
	u64 wait_ns;		/* slow-path entry to the lock, all of it */
	bool waited;		/* blocked (halted or yielded) at least once */
	bool preempted;		/* the holder or predecessor was seen preempted */
	u16 weight;		/* calls this sample stands for; 0 counts as 1 */
};

struct pvlock_thresh {
	u32 threshold;		/* in use now */
	u32 n, n_waited, n_late, n_preempted;
	u32 ewma_ok;		/* EWMA of spins of waits won by spinning, x16 */
	u32 max_ok;		/* largest such spin count in this window */
	u64 ns_all, ns_preempted;	/* wait time in this window, all / behind a preempted vCPU */
};

/* Decision of the last window, for tests, stats and the simulator's trace. */
enum pvlock_thresh_reason {
	PVLOCK_TR_NONE,		/* window not full */
	PVLOCK_TR_KEEP,
	PVLOCK_TR_LHP,		/* preempted holders: cut to what spins need */
	PVLOCK_TR_LATE,		/* gave up too early: double */
	PVLOCK_TR_LONG,		/* long waits: halve */
	PVLOCK_TR_HINT,		/* the host's hint capped it */
	PVLOCK_TR_QUIET,	/* no preempted vCPU seen: double, back towards max */
	__PVLOCK_TR_LAST
};

static inline void pvlock_thresh_cfg_default(struct pvlock_thresh_cfg *cfg)
{
	cfg->min = 256;
	cfg->max = PVLOCK_SPIN_STOCK;
	cfg->window = PVLOCK_THRESH_WINDOW_DEFAULT;
	cfg->late_ns = PVLOCK_THRESH_LATE_NS_DEFAULT;
}

static inline u32 pvlock_thresh_bound(const struct pvlock_thresh_cfg *cfg, u32 hint, u32 v)
{
	u32 lo = pvlock_clamp_u32(cfg->min, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX);
	u32 hi = pvlock_clamp_u32(cfg->max, lo, PVLOCK_SPIN_LIMIT_MAX);

	if (hint)
		hi = pvlock_clamp_u32(hint, lo, hi);
	return pvlock_clamp_u32(v, lo, hi);
}

static inline void pvlock_thresh_init(struct pvlock_thresh *t, const struct pvlock_thresh_cfg *cfg,
				      u32 start)
{
	*t = (struct pvlock_thresh){ 0 };
	t->threshold = pvlock_thresh_bound(cfg, 0, start);
	t->ewma_ok = 16 * pvlock_thresh_bound(cfg, 0, 0);
}

/*
 * Feed one wait. Returns the reason of a decision when this sample closed a
 * window (the threshold may have changed), PVLOCK_TR_NONE otherwise.
 */
static inline enum pvlock_thresh_reason
pvlock_thresh_observe(struct pvlock_thresh *t, const struct pvlock_thresh_cfg *cfg,
		      const struct pvlock_wait_sample *s, u32 hint)
{
	u32 window = cfg->window ? cfg->window : PVLOCK_THRESH_WINDOW_DEFAULT;
	u32 w = s->weight ? s->weight : 1;
	u64 ns = pvlock_min_u64(s->wait_ns, PVLOCK_THRESH_WAIT_CAP_NS) * w;
	u32 old = t->threshold, need, v;
	enum pvlock_thresh_reason why;

	t->n += w;
	t->ns_all += ns;
	if (s->preempted) {
		t->n_preempted += w;
		t->ns_preempted += ns;
	}
	if (s->waited) {
		t->n_waited += w;
		if (s->blocked_ns < cfg->late_ns && !s->preempted)
			t->n_late += w;
	} else {
		u32 spins = pvlock_min_u32(s->spins, PVLOCK_SPIN_LIMIT_MAX);

		/* ewma += (x - ewma) / 8, in x16 fixed point, once per sample */
		t->ewma_ok = t->ewma_ok - t->ewma_ok / 8 + spins * 2;
		t->max_ok = pvlock_max_u32(t->max_ok, spins);
	}
	if (t->n < window)
		return PVLOCK_TR_NONE;

	/* what successful spins need: twice their average, and their maximum */
	need = pvlock_max_u32(t->ewma_ok / 8, t->max_ok);

	if (t->n_preempted * 4 >= t->n || (t->ns_all && t->ns_preempted >= t->ns_all / 4)) {
		why = PVLOCK_TR_LHP;
		v = pvlock_min_u32(need, old);
	} else if (t->n_waited && t->n_late * 2 >= t->n_waited) {
		why = PVLOCK_TR_LATE;
		v = old > PVLOCK_SPIN_LIMIT_MAX / 2 ? PVLOCK_SPIN_LIMIT_MAX : old * 2;
	} else if (!t->n_preempted) {
		why = PVLOCK_TR_QUIET;
		v = old > PVLOCK_SPIN_LIMIT_MAX / 2 ? PVLOCK_SPIN_LIMIT_MAX : old * 2;
	} else if (t->n_waited * 8 >= t->n) {
		why = PVLOCK_TR_LONG;
		v = pvlock_max_u32(need, old / 2);
		if (v > old)
			v = old;
	} else {
		why = PVLOCK_TR_KEEP;
		v = old;
	}

	t->threshold = pvlock_thresh_bound(cfg, hint, v);
	if (hint && t->threshold < v && t->threshold != old)
		why = PVLOCK_TR_HINT;
	t->n = t->n_waited = t->n_late = t->n_preempted = 0;
	t->max_ok = 0;
	t->ns_all = t->ns_preempted = 0;
	return why;
}

/* The threshold a CPU uses in @mode (enum pvlock_mode). */
static inline u32 pvlock_thresh_for_mode(const struct pvlock_thresh *t,
					 const struct pvlock_thresh_cfg *cfg,
					 u32 mode, u32 fixed, u32 hint)
{
	switch (mode) {
	case PVLOCK_MODE_ADAPTIVE:
		return pvlock_thresh_bound(cfg, hint, t->threshold);
	case PVLOCK_MODE_FIXED:
		return pvlock_thresh_bound(cfg, 0, fixed);
	default:
		return PVLOCK_SPIN_STOCK;
	}
}

#endif /* _PVLOCK_THRESHOLD_H */
