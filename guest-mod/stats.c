// SPDX-License-Identifier: GPL-2.0
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/string.h>

#include "pvlock_guest.h"

DEFINE_PER_CPU(struct pvlock_guest_stats, pvlock_guest_stats);

static bool pvlock_guest_stat_is_gauge(unsigned int s)
{
	return s == PVLOCK_GS_THRESHOLD || s == PVLOCK_GS_WAIT_MAX_NS;
}

static void pvlock_guest_stats_add(struct pvlock_guest_stats *sum,
				   const struct pvlock_guest_stats *one)
{
	unsigned int i;

	for (i = 1; i < __PVLOCK_GS_LAST; i++) {
		u64 v = READ_ONCE(one->c[i]);

		if (pvlock_guest_stat_is_gauge(i))
			sum->c[i] = max(sum->c[i], v);
		else
			sum->c[i] += v;
	}
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		sum->hist[i] += READ_ONCE(one->hist[i]);
}

/* One CPU's counters, or with @cpu < 0 the sum over all possible CPUs. */
void pvlock_guest_stats_read(int cpu, struct pvlock_guest_stats *out)
{
	int c;

	memset(out, 0, sizeof(*out));
	if (cpu >= 0) {
		pvlock_guest_stats_add(out, per_cpu_ptr(&pvlock_guest_stats, cpu));
	} else {
		for_each_possible_cpu(c)
			pvlock_guest_stats_add(out, per_cpu_ptr(&pvlock_guest_stats, c));
	}
	/*
	 * spin_acquired is counted when a call starts and taken back on the
	 * same CPU when it blocks; a reset in between leaves that CPU's count
	 * at -1. The sums wrap, so the total is right once any other call has
	 * counted; until then, show 0 rather than a negative total.
	 */
	if ((s64)out->c[PVLOCK_GS_SPIN_ACQUIRED] < 0)
		out->c[PVLOCK_GS_SPIN_ACQUIRED] = 0;
}

/*
 * Counters are plain per-CPU adds: a reset racing with a CPU's increment may
 * lose that one increment, which is the price of never sharing a line.
 */
void pvlock_guest_stats_reset(void)
{
	int c;

	pvlock_slowpath_forget();
	for_each_possible_cpu(c)
		memset(per_cpu_ptr(&pvlock_guest_stats, c), 0, sizeof(struct pvlock_guest_stats));
	pvlock_slowpath_gauges();
}
