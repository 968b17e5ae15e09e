/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says about the VMs on this host, for when pvlock_host is not
 * there to say it: which processes are VMMs, their names, and the host's
 * overcommit (runnable vCPU threads per online pCPU). Every function takes
 * the /proc root as an argument so that the tests can hand it a fake tree.
 */
#ifndef PVLOCK_PROC_H
#define PVLOCK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The VM name of process @pid: its -name (include/pvlock/vmname.h, the
 * parser pvlock_host uses), else "pid-N" (as pvlock_host names it).
 */
void proc_vm_name(const char *proc, uint32_t pid, char *out, size_t outlen);

/* Processes holding a KVM VM file descriptor: up to @max pids into @pids; the count. */
size_t proc_find_vmms(const char *proc, uint32_t *pids, size_t max);

struct proc_tid {
	uint32_t tid;
	uint64_t busy_ns;		/* run + runqueue wait, from schedstat */
	bool vcpu;			/* named as a vCPU thread */
};

/* Overcommit over the time between two calls, from the vCPU threads' schedstat. */
struct proc_load {
	struct proc_tid *t;
	size_t n;
	uint64_t t_ns;
	bool valid;
};

/*
 * Sample the vCPU threads of @pids (all VMMs found in @proc when @npids is
 * 0) at @now_ns. From the second call on, *@pct is the average number of
 * runnable (running or waiting to run) vCPU threads per online pCPU over
 * the interval, in percent, and the return is 0; the first call returns
 * -EAGAIN. A thread counts as a vCPU when its name says so (QEMU "CPU n/KVM"
 * with debug-threads, "vcpu*", "fc_vcpu*"); a VMM none of whose threads is
 * named so counts all its threads, its other threads being mostly idle.
 */
int proc_overcommit(struct proc_load *pl, const char *proc, const uint32_t *pids, size_t npids,
		    uint64_t now_ns, unsigned int online_cpus, uint32_t *pct);
void proc_load_free(struct proc_load *pl);

#endif
