// SPDX-License-Identifier: GPL-2.0
/*
 * The slow path's static data is not exported, and a replacement slow path
 * must use the kernel's own instances: old and new code run side by side
 * during a livepatch transition, successors decode queue tails into the
 * kernel's qnodes, and the unpatched unlock path looks waiters up in the
 * kernel's PV hash. They are resolved by name (include/pvlock/klookup.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <pvlock/klookup.h>

#include "compat.h"
#include "pvlock_guest.h"

struct pvlock_ksyms pvlock_ksyms;

int pvlock_ksyms_init(void)
{
	void *p;
	int err;

	err = pvlock_klookup_init();
	if (err)
		return err;
	/* per-CPU symbols: an offset (6.1, 6.12) or an address (7.x); per_cpu_ptr() takes both */
	err = pvlock_klookup("qnodes", &p);
	if (err)
		return err;
	/* via an integer: 7.x with gcc >= 14 makes __percpu a named address
	 * space (__seg_gs), which a plain pointer cannot be cast to */
	pvlock_ksyms.qnodes = (struct pvlock_qnode __percpu *)(unsigned long)p;
	err = pvlock_klookup("pv_lock_hash", &p);
	if (err)
		return err;
	pvlock_ksyms.pv_lock_hash = p;
	err = pvlock_klookup("pv_lock_hash_bits", &p);
	if (err)
		return err;
	pvlock_ksyms.pv_lock_hash_bits = p;
	err = pvlock_klookup("virt_spin_lock_key", &p);
	if (err)
		return err;
	pvlock_ksyms.virt_spin_lock_key = p;
#ifdef PVLOCK_TP_BY_HAND
	err = pvlock_klookup("__tracepoint_contention_begin", &p);
	if (err)
		return err;
	pvlock_ksyms.tp_contention_begin = p;
	err = pvlock_klookup("__tracepoint_contention_end", &p);
	if (err)
		return err;
	pvlock_ksyms.tp_contention_end = p;
#endif
	/* each CPU's idle task, for the host to tell idle from a critical
	 * section (record version 2); without it the records say nothing */
	if (!pvlock_klookup("idle_threads", &p))
		pvlock_ksyms.idle_threads = (struct task_struct * __percpu *)(unsigned long)p;
	else
		pr_info("idle_threads not found: the host cannot tell an idle vCPU\n");
	/* allocated only when PV spinlocks were enabled at boot; without them
	 * __pv_queued_spin_lock_slowpath is never called */
	if (!*pvlock_ksyms.pv_lock_hash)
		pr_info("PV spinlocks are off in this kernel: the native slow path is the one in use\n");
	return 0;
}

/*
 * Symbol of a lock address for the stats, "name+0xoff [module]", or "" when
 * the address is in no symbol (a lock inside a dynamically allocated object).
 * The "/size" part of %pS is dropped: for module data it is not meaningful.
 */
void pvlock_ksyms_name(unsigned long addr, char *buf, size_t len)
{
	char *slash, *mod;

	snprintf(buf, len, "%pS", (void *)addr);
	if (buf[0] == '0' && buf[1] == 'x') {
		buf[0] = '\0';
		return;
	}
	slash = strchr(buf, '/');
	if (!slash)
		return;
	mod = strchr(slash, ' ');
	memmove(slash, mod ? mod : slash + strlen(slash), strlen(mod ? mod : "") + 1);
}
