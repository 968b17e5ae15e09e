/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test's view of the yields pvlock_guest makes while waiting for one lock
 * (tests/qemu/kmod/pvlock_lockbench compares whom they reached with the
 * lock's true owner, which only the test knows). pvlock_guest calls @fn
 * just before each yield hypercall issued while waiting for @lock
 * (@after false, @ret 0) and just after it (@after true, @ret the
 * hypercall's result), on the waiting CPU, preemption off, maybe irqs off.
 * One probe at a time; removing it (NULL) waits until no call is running.
 */
#ifndef _PVLOCK_GUEST_PROBE_H
#define _PVLOCK_GUEST_PROBE_H

#include <linux/types.h>

struct pvlock_yield_probe {
	const void *lock;
	void (*fn)(const void *lock, u32 named, bool after, long ret);
};

int pvlock_guest_yield_probe(struct pvlock_yield_probe *p);

#endif /* _PVLOCK_GUEST_PROBE_H */
