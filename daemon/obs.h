/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF observer's loader: counts of KVM events per VM and vCPU for hosts
 * without pvlock_host (bpf/pvlock_obs.bpf.c). Each user (pvlockctl stats,
 * pvlockd) loads its own copy: the counts start when it starts, and
 * nothing stays behind in the kernel when it exits.
 */
#ifndef PVLOCK_OBS_H
#define PVLOCK_OBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"

struct obs;

/* Was this binary built with the observer? */
bool obs_built(void);

/*
 * Load and attach. 0; -ENOENT when kvm is not loaded (no events to
 * watch); -EOPNOTSUPP when built without BPF; -EPERM without the
 * privileges (CAP_BPF and CAP_PERFMON, or root); another negative errno.
 * @err says why in words.
 */
int obs_open(struct obs **o, char *err, size_t errlen);

/* Counts now, one entity per VM, or per vCPU with @per_vcpu. */
int obs_snapshot(struct obs *o, struct st_snap *s, bool per_vcpu, uint64_t now_ns);

void obs_close(struct obs *o);

#endif
