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
	PVLOCK_SYM(vcpu_on_spin, "kvm_vcpu_on_spin");
	PVLOCK_SYM(vcpu_gfn_to_hva, "kvm_vcpu_gfn_to_hva");
	PVLOCK_SYM(vcpu_mark_page_dirty, "kvm_vcpu_mark_page_dirty");
	PVLOCK_SYM(emulate_hypercall, "kvm_emulate_hypercall");
	PVLOCK_SYM(load, "vcpu_load");
	PVLOCK_SYM(put, "vcpu_put");
	PVLOCK_SYM(pre_destroy_vm, "kvm_arch_pre_destroy_vm");
	PVLOCK_SYM(kvm_lock, "kvm_lock");
	PVLOCK_SYM(vm_list, "vm_list");
	/*
	 * Watched only (never called): where KVM updates steal time after a
	 * vCPU was scheduled in, and where memslots and mappings change. A
	 * kernel without one of them loses that watch (hooks.c says which).
	 */
	pvlock_kvm.steal_time = pvlock_kallsyms_lookup_name("record_steal_time");
	pvlock_kvm.flush_memslot = pvlock_kallsyms_lookup_name("kvm_arch_flush_shadow_memslot");
	pvlock_kvm.gpc_invalidate = pvlock_kallsyms_lookup_name("gfn_to_pfn_cache_invalidate_start");
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
