/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime tuning of one VM, as pvlockd does it once per tuning period: from
 * the per-VM counter deltas the host module reports and the host's
 * overcommit, choose the spin-threshold hint the host writes into that VM's
 * records and the VM's boost budget.
 *
 * Why a host-side hint at all: a guest sees its own waits, not the host's
 * load. When the host runs more vCPU threads than it has pCPUs, a waiter's
 * spin competes with the very vCPU it waits for; the guest learns that only
 * after many wasted windows. The host knows it at once.
 *
 * Threshold (the hint caps the guest's own adaptive threshold; 0 = no cap):
 *   - lock-holder/waiter preemptions (LHP: eCS or waiter preempted) at or
 *     above @lhp_high per vCPU-second: halve, down to @min;
 *   - overcommitted (> 100%): at most max * 100 / overcommit_pct, so spin
 *     time shrinks as the share of a pCPU each vCPU gets shrinks, and at
 *     most @over_max (the simulator, tests/sim, measured a low cap of about
 *     20 us of spinning best once vCPUs share pCPUs: 2x, 3x and 4x all
 *     gained over the share-proportional cap alone);
 *   - calm (not overcommitted and LHP below @lhp_low) for @calm_periods
 *     periods in a row: double; reaching @max removes the hint.
 * Budget (boosts per period for the VM):
 *   - boosts refused by the budget while overcommitted: double, up to
 *     @budget_max, so a VM that needs boosts gets them;
 *   - otherwise it returns by halves towards @budget_base, so a VM's
 *     share never stays raised after its need is gone.
 * Pinned values (PVLOCK_PIN_*) are left as they are.
 */
#ifndef _PVLOCK_TUNE_H
#define _PVLOCK_TUNE_H

#include "types.h"

struct pvlock_tune_cfg {
	u32 min, max;			/* threshold bounds, PVLOCK_SPIN_LIMIT_* */
	u32 budget_base;		/* a VM's budget when nothing asks for more */
	u32 budget_max;			/* <= PVLOCK_BUDGET_MAX */
	u32 lhp_low, lhp_high;		/* LHP events per vCPU-second */
	u32 calm_periods;		/* calm periods before relaxing */
	u32 over_max;			/* cap while overcommitted; 0 = share only */
};

#define PVLOCK_TUNE_LHP_LOW_DEFAULT	5u
#define PVLOCK_TUNE_LHP_HIGH_DEFAULT	50u
#define PVLOCK_TUNE_CALM_DEFAULT	3u
#define PVLOCK_TUNE_OVER_MAX_DEFAULT	1024u

/* One VM over one tuning period: counter deltas and the host's load. */
struct pvlock_tune_sample {
	u64 dt_ns;
	u32 nr_vcpus;
	u32 overcommit_pct;		/* runnable vCPU threads per online pCPU, % */
	u64 lhp;			/* PVLOCK_HS_ECS_PREEMPTIONS + _WAITER_PREEMPTIONS */
	u64 budget_denied;		/* PVLOCK_HS_BUDGET_DENIED */
};

/* What pvlockd keeps per VM between periods. */
struct pvlock_tune_state {
	u32 threshold;			/* hint in force, 0 = none */
	u32 budget;			/* budget in force */
	u32 calm;			/* calm periods in a row */
};

enum pvlock_tune_reason {
	PVLOCK_TUNE_KEEP,
	PVLOCK_TUNE_LHP,		/* preemptions inside critical sections: cut */
	PVLOCK_TUNE_OVERCOMMIT,		/* host overcommitted: capped by the share */
	PVLOCK_TUNE_RELAX,		/* calm: doubled or hint removed */
	PVLOCK_TUNE_PINNED,		/* operator's value: untouched */
};

struct pvlock_tune_decision {
	u32 threshold;
	u32 budget;
	enum pvlock_tune_reason why;
	bool changed;			/* threshold or budget differ from the state */
};

static inline void pvlock_tune_cfg_default(struct pvlock_tune_cfg *cfg)
{
	cfg->min = 256;
	cfg->max = PVLOCK_SPIN_STOCK;
	cfg->budget_base = 1000;
	cfg->budget_max = 8000;
	cfg->lhp_low = PVLOCK_TUNE_LHP_LOW_DEFAULT;
	cfg->lhp_high = PVLOCK_TUNE_LHP_HIGH_DEFAULT;
	cfg->calm_periods = PVLOCK_TUNE_CALM_DEFAULT;
	cfg->over_max = PVLOCK_TUNE_OVER_MAX_DEFAULT;
}

/* LHP events per vCPU-second, saturating. */
static inline u64 pvlock_tune_lhp_rate(const struct pvlock_tune_sample *s)
{
	u64 vcpu_ms = s->dt_ns / 1000000 * (s->nr_vcpus ? s->nr_vcpus : 1);

	if (!vcpu_ms)
		return 0;
	if (s->lhp > ~0ull / 1000)
		return ~0ull;
	return s->lhp * 1000 / vcpu_ms;
}

static inline struct pvlock_tune_decision
pvlock_tune(struct pvlock_tune_state *st, const struct pvlock_tune_cfg *cfg,
	    const struct pvlock_tune_sample *s, u32 pinned)
{
	u32 lo = pvlock_clamp_u32(cfg->min, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX);
	u32 hi = pvlock_clamp_u32(cfg->max, lo, PVLOCK_SPIN_LIMIT_MAX);
	u32 bmax = pvlock_min_u32(cfg->budget_max, PVLOCK_BUDGET_MAX);
	u32 base = pvlock_min_u32(cfg->budget_base, bmax);
	u32 cur = st->threshold ? pvlock_clamp_u32(st->threshold, lo, hi) : hi;
	u64 rate = pvlock_tune_lhp_rate(s);
	bool over = s->overcommit_pct > 100;
	struct pvlock_tune_decision d = { .threshold = st->threshold, .budget = st->budget,
					  .why = PVLOCK_TUNE_KEEP };
	u32 v;

	if (!(pinned & PVLOCK_PIN_THRESHOLD)) {
		u32 cap = over ? (u32)((u64)hi * 100 / s->overcommit_pct) : hi;

		if (over && cfg->over_max)
			cap = pvlock_min_u32(cap, pvlock_max_u32(cfg->over_max, lo));

		v = cur;
		if (rate >= cfg->lhp_high) {
			st->calm = 0;
			v = cur / 2;
			d.why = PVLOCK_TUNE_LHP;
		} else if (rate < cfg->lhp_low) {
			if (++st->calm >= cfg->calm_periods) {
				st->calm = 0;
				v = cur > hi / 2 ? hi : cur * 2;
				d.why = PVLOCK_TUNE_RELAX;
			}
		} else {
			st->calm = 0;
		}
		if (v > cap) {
			v = cap;
			if (d.why != PVLOCK_TUNE_LHP)
				d.why = PVLOCK_TUNE_OVERCOMMIT;
		}
		v = pvlock_clamp_u32(v, lo, hi);
		/* at the top without overcommit there is nothing to cap: no hint */
		d.threshold = !over && v >= hi ? 0 : v;
		if (d.threshold == st->threshold && d.why != PVLOCK_TUNE_LHP)
			d.why = PVLOCK_TUNE_KEEP;
	} else {
		d.why = PVLOCK_TUNE_PINNED;
	}

	if (!(pinned & PVLOCK_PIN_BUDGET)) {
		u32 b = st->budget ? st->budget : base;

		if (over && s->budget_denied)
			b = b > bmax / 2 ? bmax : pvlock_max_u32(b * 2, 1);
		else if (b > base)
			b = pvlock_max_u32(base, b / 2);
		else if (b < base)
			b = base;
		d.budget = b;
	}

	d.changed = d.threshold != st->threshold || d.budget != st->budget;
	st->threshold = d.threshold;
	st->budget = d.budget;
	return d;
}

#endif /* _PVLOCK_TUNE_H */
