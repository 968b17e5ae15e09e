/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbol lookup for both modules. Both need kernel (and kvm.ko) internals
 * that are not exported to them: the qspinlock slow path's static data in a
 * guest, KVM's helpers on a host (7.x exports most of them to kvm-amd and
 * kvm-intel only). kallsyms_lookup_name() is not exported either since 5.7;
 * a kprobe on it tells its address and is removed at once.
 *
 * Only functions that have a ksymtab entry (exported to someone) or whose
 * address the kernel takes itself may be called through these pointers:
 * with IBT, objtool seals the ENDBR of functions that are only ever called
 * directly, and an indirect call to one of those faults.
 *
 * Kernel only. Include from one .c file per module.
 */
#ifndef _PVLOCK_KLOOKUP_H
#define _PVLOCK_KLOOKUP_H

#include <linux/kprobes.h>
#include <linux/printk.h>

static unsigned long (*pvlock_kallsyms_lookup_name)(const char *name);

static inline int pvlock_klookup_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_err("cannot locate kallsyms_lookup_name (kprobe: %d)\n", err);
		return err;
	}
	pvlock_kallsyms_lookup_name = (void *)kp.addr;
	unregister_kprobe(&kp);
	return pvlock_kallsyms_lookup_name ? 0 : -ENOENT;
}

/* Address of @name, or -ENOENT with a message saying what is missing. */
static inline int pvlock_klookup(const char *name, void **where)
{
	unsigned long a = pvlock_kallsyms_lookup_name(name);

	if (!a) {
		pr_err("symbol %s not found: this kernel is not one pvlock supports\n", name);
		return -ENOENT;
	}
	*where = (void *)a;
	return 0;
}

#endif /* _PVLOCK_KLOOKUP_H */
