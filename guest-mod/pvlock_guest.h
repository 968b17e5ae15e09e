/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_GUEST_H
#define _PVLOCK_GUEST_H

#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <linux/pvlock.h>

/* Settings; written under pvlock_guest_lock, read locklessly with READ_ONCE. */
struct pvlock_guest_params {
	u32 mode;		/* enum pvlock_mode */
	u32 threshold;		/* fixed-mode threshold */
	u32 min, max;		/* bounds of the adaptive threshold */
	bool yield;		/* yield hypercall instead of HLT when the host has it */
	bool force_queue;	/* test mode: bypass the test-and-set path */
};

/* What the module knows about its surroundings. */
struct pvlock_guest_state {
	u32 handshake;		/* enum pvlock_handshake */
	u32 host_abi;
	u32 host_features;
	u32 livepatch;		/* enum pvlock_livepatch */
	u32 nr_registered;
	u32 host_threshold;	/* last hint read from the host, 0 = none */
};

extern struct mutex pvlock_guest_lock;
extern struct pvlock_guest_params pvlock_guest_params;
extern struct pvlock_guest_state pvlock_guest_state;

/* stats.c: per-CPU counters, summed on read; no shared line on any path. */
struct pvlock_guest_stats {
	u64 c[__PVLOCK_GS_LAST];
	u64 hist[PVLOCK_HIST_BUCKETS];		/* wait time, log2 ns */
};

DECLARE_PER_CPU(struct pvlock_guest_stats, pvlock_guest_stats);

static inline void pvlock_guest_count(enum pvlock_guest_stat s, u64 n)
{
	this_cpu_add(pvlock_guest_stats.c[s], n);
}

void pvlock_guest_stats_read(int cpu, struct pvlock_guest_stats *out);
void pvlock_guest_stats_reset(void);

/* netlink.c */
int pvlock_guest_netlink_init(void);
void pvlock_guest_netlink_exit(void);
void pvlock_guest_notify(enum pvlock_event ev);

#endif /* _PVLOCK_GUEST_H */
