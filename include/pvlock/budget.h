/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-VM boost budget: a token bucket that holds at most @per_period boosts
 * and refills at @per_period per @period_ms, continuously. A VM that boosts
 * nothing for a period has a full bucket; a VM that boosts all the time gets
 * exactly @per_period per period on average and never more than @per_period
 * in a burst.
 *
 * Tokens are kept scaled by the period in nanoseconds so that refill is exact
 * integer arithmetic: no rounding drift either way. (pvlock is x86-64 only,
 * where a 64-bit division is a plain instruction in the kernel too.)
 */
#ifndef _PVLOCK_BUDGET_H
#define _PVLOCK_BUDGET_H

#include "types.h"

struct pvlock_budget_cfg {
	u32 per_period;		/* boosts per period; 0 = never */
	u32 period_ms;		/* [PVLOCK_PERIOD_MIN_MS, PVLOCK_PERIOD_MAX_MS] */
};

struct pvlock_budget {
	u64 scaled;		/* tokens * period_ns */
	u64 last_ns;		/* time of the last refill */
	u32 per_period;		/* cfg the state was built for */
	u32 period_ms;
};

static inline u64 pvlock_budget_period_ns(const struct pvlock_budget_cfg *cfg)
{
	u32 ms = pvlock_clamp_u32(cfg->period_ms, PVLOCK_PERIOD_MIN_MS, PVLOCK_PERIOD_MAX_MS);

	return (u64)ms * PVLOCK_NSEC_PER_MSEC;
}

/* A full bucket for @cfg at @now_ns. */
static inline void pvlock_budget_init(struct pvlock_budget *b,
				      const struct pvlock_budget_cfg *cfg, u64 now_ns)
{
	u32 n = pvlock_min_u32(cfg->per_period, PVLOCK_BUDGET_MAX);

	b->scaled = (u64)n * pvlock_budget_period_ns(cfg);
	b->last_ns = now_ns;
	b->per_period = cfg->per_period;
	b->period_ms = cfg->period_ms;
}

static inline void pvlock_budget_refill(struct pvlock_budget *b,
					const struct pvlock_budget_cfg *cfg, u64 now_ns)
{
	u64 period = pvlock_budget_period_ns(cfg);
	u32 n = pvlock_min_u32(cfg->per_period, PVLOCK_BUDGET_MAX);
	u64 cap = (u64)n * period;	/* <= 1e6 * 6e10 < 2^63 */
	u64 dt;

	/* A new configuration keeps what is left, cut to the new cap. */
	if (b->per_period != cfg->per_period || b->period_ms != cfg->period_ms) {
		u64 old_period = (u64)pvlock_clamp_u32(b->period_ms, PVLOCK_PERIOD_MIN_MS,
						       PVLOCK_PERIOD_MAX_MS) * PVLOCK_NSEC_PER_MSEC;
		/* whole tokens left under the old scale, rescaled */
		u64 left = b->scaled / old_period;

		b->scaled = (left < n ? left : n) * period;
		b->per_period = cfg->per_period;
		b->period_ms = cfg->period_ms;
	}

	if (now_ns <= b->last_ns) {
		/* time went backwards or stood still: nothing to add */
		b->last_ns = now_ns < b->last_ns ? b->last_ns : now_ns;
		return;
	}
	dt = now_ns - b->last_ns;
	b->last_ns = now_ns;
	if (dt >= period) {
		b->scaled = cap;
		return;
	}
	/* dt < period <= 6e10 and n <= 1e6: the product fits in 64 bits */
	b->scaled += dt * n;
	if (b->scaled > cap)
		b->scaled = cap;
}

/* Take one boost if the bucket has one. */
static inline bool pvlock_budget_take(struct pvlock_budget *b,
				      const struct pvlock_budget_cfg *cfg, u64 now_ns)
{
	u64 period = pvlock_budget_period_ns(cfg);

	pvlock_budget_refill(b, cfg, now_ns);
	if (b->scaled < period)
		return false;
	b->scaled -= period;
	return true;
}

/*
 * Take one token from each of @n buckets, or from none. A cross-VM boost
 * costs the giver a boost and a cross-VM boost given, and the receiver a
 * cross-VM boost received: one bucket refusing (the giver's first, then the
 * receiver's) must not cost the others anything, or a guest with empty
 * buckets could drain other VMs' receive budgets. The caller holds every
 * bucket's lock.
 */
static inline bool pvlock_budget_take_all(struct pvlock_budget *const b[],
					  const struct pvlock_budget_cfg *const cfg[],
					  unsigned int n, u64 now_ns)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		pvlock_budget_refill(b[i], cfg[i], now_ns);
		if (b[i]->scaled < pvlock_budget_period_ns(cfg[i]))
			return false;
	}
	for (i = 0; i < n; i++)
		b[i]->scaled -= pvlock_budget_period_ns(cfg[i]);
	return true;
}

/* Is there a token now? Takes nothing (a cheap test before costly work). */
static inline bool pvlock_budget_peek(struct pvlock_budget *b,
				      const struct pvlock_budget_cfg *cfg, u64 now_ns)
{
	pvlock_budget_refill(b, cfg, now_ns);
	return b->scaled >= pvlock_budget_period_ns(cfg);
}

/* Whole boosts left at @now_ns (for the host hint and the stats). */
static inline u32 pvlock_budget_left(struct pvlock_budget *b,
				     const struct pvlock_budget_cfg *cfg, u64 now_ns)
{
	pvlock_budget_refill(b, cfg, now_ns);
	return (u32)(b->scaled / pvlock_budget_period_ns(cfg));
}

/*
 * Time budget of the operator's priority boost (PVLOCK_P_PRIO_BOOST): a VM's
 * vCPUs together hold a raised priority for at most
 * PVLOCK_PRIO_SHARE_PCT percent of each period. A bucket of nanoseconds,
 * holding at most that share of one period and refilled continuously at
 * that rate; a boost reserves its length up front (pvlock_prio_grant) and
 * settles what it really lasted when it ends (pvlock_prio_settle): a boost
 * undone late is paid for by the next ones, one undone early is refunded.
 */
struct pvlock_prio_budget {
	s64 avail_ns;		/* may go below 0 after a late undo */
	u64 last_ns;
	bool init;
};

static inline u64 pvlock_prio_cap_ns(u32 period_ms)
{
	u32 ms = pvlock_clamp_u32(period_ms, PVLOCK_PERIOD_MIN_MS, PVLOCK_PERIOD_MAX_MS);

	return (u64)ms * PVLOCK_NSEC_PER_MSEC * PVLOCK_PRIO_SHARE_PCT / 100;
}

static inline void pvlock_prio_refill(struct pvlock_prio_budget *b, u32 period_ms, u64 now_ns)
{
	u64 cap = pvlock_prio_cap_ns(period_ms), dt;

	if (!b->init || now_ns < b->last_ns) {
		b->avail_ns = b->init ? b->avail_ns : (s64)cap;
		b->last_ns = now_ns;
		b->init = true;
		return;
	}
	dt = now_ns - b->last_ns;
	b->last_ns = now_ns;
	/* refill at cap per period: dt * SHARE / 100, without overflow for any dt */
	if (dt >= (u64)PVLOCK_PERIOD_MAX_MS * PVLOCK_NSEC_PER_MSEC)
		b->avail_ns = (s64)cap;
	else
		b->avail_ns += (s64)(dt * PVLOCK_PRIO_SHARE_PCT / 100);
	if (b->avail_ns > (s64)cap)
		b->avail_ns = (s64)cap;
}

/*
 * A boost of at most @want_ns starting at @now_ns: its granted length,
 * reserved from the budget, or 0 when less than @min_ns is available.
 */
static inline u64 pvlock_prio_grant(struct pvlock_prio_budget *b, u32 period_ms, u64 now_ns,
				    u64 want_ns, u64 min_ns)
{
	u64 g;

	pvlock_prio_refill(b, period_ms, now_ns);
	if (b->avail_ns < (s64)min_ns || b->avail_ns <= 0)
		return 0;
	g = pvlock_min_u64((u64)b->avail_ns, want_ns);
	b->avail_ns -= (s64)g;
	return g;
}

/* A boost granted @granted_ns ended after @used_ns: settle the difference. */
static inline void pvlock_prio_settle(struct pvlock_prio_budget *b, u64 granted_ns, u64 used_ns)
{
	b->avail_ns += (s64)granted_ns - (s64)used_ns;
}

#endif /* _PVLOCK_BUDGET_H */
