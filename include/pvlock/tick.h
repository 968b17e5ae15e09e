/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host worker's tick: how often pvlock_host samples the overcommit
 * (runnable vCPU threads per online CPU, %) and the running average of it
 * that the hints and the daemon see.
 *
 * Every tick wakes a CPU, and on a busy host the worker takes its CPU time
 * from a vCPU. Where no sample says the host is (nearly) overcommitted
 * nothing needs a fast one, so the tick slows from PVLOCK_TICK_MS to
 * PVLOCK_TICK_SLOW_MS; the first sample at PVLOCK_TICK_FAST_PCT or more,
 * or an average still that high, makes it fast again. (Measured in the
 * nested benchmark's undercommitted case: at 50 Hz the worker used 2% of
 * the L1 CPU that its vCPU threads share the host's cores with.)
 *
 * The average is an EWMA of weight 1/4 per PVLOCK_TICK_MS (about 80 ms of
 * memory) at any tick: a longer interval counts as the fast ticks it spans,
 * each with the same sample, so that the average means the same at either
 * speed and after a late worker.
 */
#ifndef _PVLOCK_TICK_H
#define _PVLOCK_TICK_H

#include "types.h"

#define PVLOCK_TICK_MS		20u
#define PVLOCK_TICK_SLOW_MS	100u
#define PVLOCK_TICK_FAST_PCT	100u
#define PVLOCK_TICK_MAX_STEPS	32u	/* (3/4)^32 < 1e-4: the sample alone */

/* The average (% x 16) after a sample taken @dt_ms after the previous one. */
static inline u32 pvlock_oc_average(u32 avg_x16, u32 sample_pct, u32 dt_ms)
{
	u32 steps = dt_ms / PVLOCK_TICK_MS + (dt_ms % PVLOCK_TICK_MS >= PVLOCK_TICK_MS / 2), i;

	if (steps < 1)
		steps = 1;
	if (steps > PVLOCK_TICK_MAX_STEPS)
		steps = PVLOCK_TICK_MAX_STEPS;
	if (sample_pct > 0xffffffffu / 16)
		sample_pct = 0xffffffffu / 16;
	for (i = 0; i < steps; i++)
		avg_x16 = avg_x16 - avg_x16 / 4 + sample_pct * 4;
	return avg_x16;
}

/* When the next tick is due, in ms, after this sample and average. */
static inline u32 pvlock_tick_next_ms(u32 sample_pct, u32 avg_x16)
{
	if (sample_pct >= PVLOCK_TICK_FAST_PCT || avg_x16 / 16 >= PVLOCK_TICK_FAST_PCT)
		return PVLOCK_TICK_MS;
	return PVLOCK_TICK_SLOW_MS;
}

#endif /* _PVLOCK_TICK_H */
