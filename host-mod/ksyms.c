// SPDX-License-Identifier: GPL-2.0
/*
 * What pvlock_host calls or hooks in kvm.ko, resolved by name at load
 * (include/pvlock/klookup.h). 6.1 and 6.12 export most of these to every
 * GPL module; 7.x exports them to kvm-amd and kvm-intel only. Resolving them
 * the same way on every kernel keeps one code path. Every function called
 * through these pointers has a ksymtab entry (see klookup.h on IBT).
 *
 * kvm.ko must stay loaded while pvlock_host uses it: symbol_get() on one of
 * its GPL exports holds a reference on the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include <pvlock/klookup.h>

#include "compat.h"
#include "pvlock_host.h"

struct pvlock_kvm_syms pvlock_kvm;

static void (*pvlock_kvm_pin)(struct kvm *kvm);

#define PVLOCK_SYM(field, name)						\
	do {								\
		void *p;						\
		int e = pvlock_klookup(name, &p);			\
									\
		if (e)							\
			goto err;					\
		pvlock_kvm.field = (typeof(pvlock_kvm.field))p;	\
	} while (0)

int pvlock_ksyms_init(void)
{
	int err;

	pvlock_kvm_pin = symbol_get(kvm_put_kvm);
	if (!pvlock_kvm_pin) {
		pr_err("kvm.ko is not loaded: load kvm and kvm_amd or kvm_intel first\n");
		return -ENOENT;
	}
	err = pvlock_klookup_init();
	if (err)
		goto err_put;
	err = -ENOENT;
	PVLOCK_SYM(ops, "kvm_x86_ops");
	PVLOCK_SYM(skip_emulated_instruction, "kvm_skip_emulated_instruction");
	PVLOCK_SYM(emulate_halt_noskip, "kvm_emulate_halt_noskip");
	PVLOCK_SYM(vcpu_yield_to, "kvm_vcpu_yield_to");
	PVLOCK_SYM(vcpu_on_spin, "kvm_vcpu_on_spin");
	PVLOCK_SYM(vcpu_gfn_to_hva, "kvm_vcpu_gfn_to_hva");
	PVLOCK_SYM(emulate_hypercall, "kvm_emulate_hypercall");
	PVLOCK_SYM(load, "vcpu_load");
	PVLOCK_SYM(put, "vcpu_put");
	PVLOCK_SYM(pre_destroy_vm, "kvm_arch_pre_destroy_vm");
	PVLOCK_SYM(kvm_lock, "kvm_lock");
	PVLOCK_SYM(vm_list, "vm_list");
	if (!pvlock_kvm.ops->get_cpl || !pvlock_kvm.ops->get_cs_db_l_bits) {
		pr_err("no KVM vendor module (kvm_amd or kvm_intel) is loaded\n");
		goto err;
	}
	return 0;

err:
err_put:
	symbol_put(kvm_put_kvm);
	pvlock_kvm_pin = NULL;
	return err;
}

void pvlock_ksyms_exit(void)
{
	if (pvlock_kvm_pin)
		symbol_put(kvm_put_kvm);
	pvlock_kvm_pin = NULL;
}
