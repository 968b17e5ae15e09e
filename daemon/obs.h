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
 * What loading needs, checked in order under @root ("" for the running
 * system; the tests give a fake tree): @privileged (CAP_BPF and
 * CAP_PERFMON, or root), kvm loaded, tracefs mounted, the kvm tracepoints
 * there and readable, the kernel's BTF. 0, or a negative errno and @err
 * naming the first thing missing and the command that fixes it. @note
 * gets what only costs some counters (no BTF for kvm.ko), else "".
 */
int obs_preflight(const char *root, bool privileged, char *err, size_t errlen, char *note,
		  size_t notelen);
/* Root, or CAP_BPF and CAP_PERFMON in the effective set. */
bool obs_privileged(void);

/*
 * Load and attach, after obs_preflight(). 0; -ENOENT when something it
 * needs is missing; -EOPNOTSUPP when built without BPF; -EPERM without the
 * privileges; another negative errno. @err says why in words.
 */
int obs_open(struct obs **o, char *err, size_t errlen);

/* Counts now, one entity per VM, or per vCPU with @per_vcpu. */
int obs_snapshot(struct obs *o, struct st_snap *s, bool per_vcpu, uint64_t now_ns);

void obs_close(struct obs *o);

#endif
