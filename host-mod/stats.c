// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VM and per-vCPU counters. Atomics, because a vCPU of one VM counts
 * the boosts it gives on the receiver of another; none of this is on a
 * guest's fast path (hypercalls, PLE exits and context switches only).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include "pvlock_host.h"

#include <pvlock/types.h>

void pvlock_hist_add(struct pvlock_vm *vm, struct pvlock_vcpu *pv, u64 ns)
{
	unsigned int b = pvlock_hist_bucket(ns);

	if (vm)
		atomic64_inc(&vm->st.hist[b]);
	if (pv)
		atomic64_inc(&pv->st.hist[b]);
}

void pvlock_hstats_read(const struct pvlock_hstats *st, u64 *c, u64 *hist)
{
	unsigned int i;

	for (i = 0; i < __PVLOCK_HS_LAST; i++)
		c[i] = atomic64_read(&st->c[i]);
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		hist[i] = atomic64_read(&st->hist[i]);
}

void pvlock_hstats_reset(struct pvlock_hstats *st)
{
	unsigned int i;

	for (i = 0; i < __PVLOCK_HS_LAST; i++)
		atomic64_set(&st->c[i], 0);
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		atomic64_set(&st->hist[i], 0);
}
