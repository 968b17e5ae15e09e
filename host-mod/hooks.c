// SPDX-License-Identifier: GPL-2.0
/*
 * Where pvlock_host meets KVM, all through ftrace on functions of kvm.ko:
 *
 *   kvm_emulate_hypercall   redirect, only for pvlock's numbers (the rest,
 *                           KVM_HC_KICK_CPU included, stays KVM's)
 *   kvm_vcpu_on_spin        redirect (PLE exits) for VMs that opted into
 *                           cross-VM boosting; every other VM's PLE exit
 *                           runs KVM's own function, not redirected at all
 *   vcpu_load / vcpu_put    watch: register/unregister pvlock's preempt
 *                           notifier of a registered vCPU on the thread that
 *                           runs it, exactly while KVM has its own there
 *   record_steal_time       watch: where KVM writes a vCPU's steal time after
 *                           it was scheduled in, pvlock writes its record
 *   kvm_arch_pre_destroy_vm watch: the VM is going; drop what pvlock holds
 *   kvm_arch_flush_shadow_memslot, gfn_to_pfn_cache_invalidate_start
 *                           watch: a memslot is deleted or moved, a host
 *                           mapping changes: records there stop being used
 *
 * Every hook is FTRACE_OPS_FL_PERMANENT: "sysctl kernel.ftrace_enabled=0"
 * is refused while pvlock_host is loaded (-EBUSY) instead of silently
 * unpairing vcpu_load/vcpu_put or skipping the destroy watch; and the module
 * does not load while ftrace is disabled.
 *
 * A redirect sets the saved IP to pvlock's replacement (same prototype);
 * calls made from pvlock itself are never redirected, so the replacement
 * can run the original. Redirects need FTRACE_OPS_FL_IPMODIFY, which a
 * livepatch of the same function excludes (-EBUSY): the hypercall hook is
 * required, the on_spin hook optional (PVLOCK_A_HOOKS says what is in use).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include <pvlock/boost.h>

#include "compat.h"
#include "pvlock_host.h"

static atomic_t pvlock_handlers = ATOMIC_INIT(0);

void pvlock_handlers_drain(void)
{
	unsigned int ms = 0;

	/*
	 * A thread redirected just before the hooks went may not have
	 * reached the replacement yet; RCU-tasks waits until every task
	 * passed a voluntary switch, after which it is counted.
	 */
	synchronize_rcu_tasks();
	while (atomic_read(&pvlock_handlers)) {
		msleep(1);
		if (++ms % 5000 == 0)
			pr_warn("unload: %d threads still in pvlock handlers\n",
				atomic_read(&pvlock_handlers));
	}
}

static int pvlock_hc_entry(struct kvm_vcpu *vcpu)
{
	int r;

	atomic_inc(&pvlock_handlers);
	r = pvlock_hc_dispatch(vcpu);
	atomic_dec(&pvlock_handlers);
	return r;
}

static void pvlock_on_spin_entry(struct kvm_vcpu *me, bool yield_to_kernel_mode)
{
	atomic_inc(&pvlock_handlers);
	pvlock_on_spin(me, yield_to_kernel_mode);
	atomic_dec(&pvlock_handlers);
}

static void notrace pvlock_hc_redirect(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = pvlock_fregs(fregs);
	struct kvm_vcpu *vcpu = (struct kvm_vcpu *)regs->di;
	u32 nr = (u32)pvlock_reg(vcpu, VCPU_REGS_RAX);

	/* cheap test first: this runs for every hypercall of every VM */
	if (!PVLOCK_HC_IS_PVLOCK(nr) || within_module(parent_ip, THIS_MODULE) ||
	    READ_ONCE(pvlock_host_unloading) || pvlock_foreign_hypercalls(vcpu))
		return;
	regs->ip = (unsigned long)pvlock_hc_entry;
}

/*
 * A PLE exit. On the VM's own vCPU thread, so its struct pvlock_vm lives.
 * A VM that did not opt in keeps KVM's own function: nothing is redirected,
 * the exit is only counted.
 */
static void notrace pvlock_on_spin_redirect(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = pvlock_fregs(fregs);
	struct kvm_vcpu *me = (struct kvm_vcpu *)regs->di;
	struct pvlock_vm *vm;

	if (within_module(parent_ip, THIS_MODULE) || READ_ONCE(pvlock_host_unloading))
		return;
	vm = pvlock_vm_find(me->kvm);
	if (!vm)
		return;		/* not met yet: the scan lists it within a second */
	if (!pvlock_serves_on_spin(atomic_read(&vm->nr_registered), READ_ONCE(vm->features),
				   pvlock_vm_cross(vm))) {
		struct pvlock_vcpu *pv = pvlock_vcpu_of(vm, me);

		pvlock_count(vm, pv, PVLOCK_HS_ON_SPIN, 1);
		pvlock_count(vm, pv, PVLOCK_HS_ON_SPIN_KVM, 1);
		return;
	}
	regs->ip = (unsigned long)pvlock_on_spin_entry;
}

static void notrace pvlock_load_watch(unsigned long ip, unsigned long parent_ip,
				      struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	preempt_disable_notrace();
	pvlock_vcpu_load((struct kvm_vcpu *)pvlock_fregs(fregs)->di);
	preempt_enable_notrace();
}

static void notrace pvlock_put_watch(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	preempt_disable_notrace();
	pvlock_vcpu_put((struct kvm_vcpu *)pvlock_fregs(fregs)->di);
	preempt_enable_notrace();
}

static void notrace pvlock_steal_watch(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	preempt_disable_notrace();
	pvlock_vcpu_steal_update((struct kvm_vcpu *)pvlock_fregs(fregs)->di);
	preempt_enable_notrace();
}

static void notrace pvlock_destroy_watch(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	pvlock_vm_destroyed((struct kvm *)pvlock_fregs(fregs)->di);
}

/* kvm_arch_flush_shadow_memslot(kvm, slot): the slot is deleted or moved */
static void notrace pvlock_memslot_watch(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = pvlock_fregs(fregs);

	pvlock_vm_memslot_gone((struct kvm *)regs->di, (struct kvm_memory_slot *)regs->si);
}

/* gfn_to_pfn_cache_invalidate_start(kvm, start, end[, may_block]): MMU notifier */
static void notrace pvlock_invalidate_watch(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = pvlock_fregs(fregs);

	pvlock_vm_hva_invalidate((struct kvm *)regs->di, regs->si, regs->dx);
}

#define PVLOCK_REDIRECT_FLAGS	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
				 FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT)
#define PVLOCK_WATCH_FLAGS	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION | \
				 FTRACE_OPS_FL_PERMANENT)

struct pvlock_hook {
	const char *name;
	unsigned long *addr;
	struct ftrace_ops ops;
	u32 bit;		/* PVLOCK_HOOK_*, 0: not reported separately */
	bool required;
	bool redirect;
	const char *without;	/* what is lost without an optional one */
	bool on;
};

static struct pvlock_hook pvlock_hooks[] = {
	{ "kvm_emulate_hypercall", &pvlock_kvm.emulate_hypercall,
	  { .func = pvlock_hc_redirect, .flags = PVLOCK_REDIRECT_FLAGS },
	  PVLOCK_HOOK_HYPERCALL, true, true },
	{ "kvm_vcpu_on_spin", (unsigned long *)&pvlock_kvm.vcpu_on_spin,
	  { .func = pvlock_on_spin_redirect, .flags = PVLOCK_REDIRECT_FLAGS },
	  PVLOCK_HOOK_ON_SPIN, false, true, "PLE exits get KVM's own choice" },
	{ "vcpu_load", &pvlock_kvm.load,
	  { .func = pvlock_load_watch, .flags = PVLOCK_WATCH_FLAGS },
	  PVLOCK_HOOK_PREEMPT, true, false },
	{ "vcpu_put", &pvlock_kvm.put,
	  { .func = pvlock_put_watch, .flags = PVLOCK_WATCH_FLAGS },
	  0, true, false },
	{ "record_steal_time", &pvlock_kvm.steal_time,
	  { .func = pvlock_steal_watch, .flags = PVLOCK_WATCH_FLAGS },
	  0, false, false, "hints reach a guest only with its own hypercalls" },
	{ "kvm_arch_pre_destroy_vm", &pvlock_kvm.pre_destroy_vm,
	  { .func = pvlock_destroy_watch, .flags = PVLOCK_WATCH_FLAGS },
	  0, true, false },
	{ "kvm_arch_flush_shadow_memslot", &pvlock_kvm.flush_memslot,
	  { .func = pvlock_memslot_watch, .flags = PVLOCK_WATCH_FLAGS },
	  PVLOCK_HOOK_MEMORY, false, false,
	  "a deleted or moved memslot is noticed at the vCPU's next hypercall" },
	{ "gfn_to_pfn_cache_invalidate_start", &pvlock_kvm.gpc_invalidate,
	  { .func = pvlock_invalidate_watch, .flags = PVLOCK_WATCH_FLAGS },
	  PVLOCK_HOOK_MEMORY, false, false,
	  "a changed host mapping is noticed at the vCPU's next hypercall" },
};

static void pvlock_hook_off(struct pvlock_hook *h)
{
	if (!h->on)
		return;
	unregister_ftrace_function(&h->ops);
	ftrace_set_filter_ip(&h->ops, *h->addr, 1, 0);
	h->on = false;
}

static int pvlock_hook_on(struct pvlock_hook *h)
{
	int err;

	if (!*h->addr)
		return -ENOENT;
	err = ftrace_set_filter_ip(&h->ops, *h->addr, 0, 0);
	if (err) {
		pr_err("%s: cannot trace it (%d)\n", h->name, err);
		return err;
	}
	err = register_ftrace_function(&h->ops);
	if (err) {
		ftrace_set_filter_ip(&h->ops, *h->addr, 1, 0);
		if (err == -EBUSY)
			pr_warn("%s: ftrace is disabled (sysctl kernel.ftrace_enabled=0)%s\n",
				h->name, h->redirect ?
				", or another module (a livepatch?) already modifies it" : "");
		else
			pr_err("%s: cannot hook it (%d)\n", h->name, err);
		return err;
	}
	h->on = true;
	return 0;
}

/* PVLOCK_HOOK_* bits whose every hook is on. */
static u32 pvlock_hooks_in_use(void)
{
	u32 on = 0, off = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(pvlock_hooks); i++) {
		if (pvlock_hooks[i].on)
			on |= pvlock_hooks[i].bit;
		else
			off |= pvlock_hooks[i].bit;
	}
	return on & ~off;
}

/*
 * Watches first, so that a vCPU registered by the first hypercall already
 * has its notifier managed; redirects last.
 */
int pvlock_hooks_init(void)
{
	int i, err;

	for (i = ARRAY_SIZE(pvlock_hooks) - 1; i >= 0; i--) {
		struct pvlock_hook *h = &pvlock_hooks[i];

		err = pvlock_hook_on(h);
		if (!err)
			continue;
		if (h->required)
			goto err;
		pr_warn("running without the %s hook: %s\n", h->name, h->without);
	}
	WRITE_ONCE(pvlock_host_hooks, pvlock_hooks_in_use());
	return 0;

err:
	for (i++; i < ARRAY_SIZE(pvlock_hooks); i++)
		pvlock_hook_off(&pvlock_hooks[i]);
	return err;
}

void pvlock_hooks_exit_redirects(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pvlock_hooks); i++)
		if (pvlock_hooks[i].redirect)
			pvlock_hook_off(&pvlock_hooks[i]);
	WRITE_ONCE(pvlock_host_hooks, pvlock_hooks_in_use());
}

void pvlock_hooks_exit_watches(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pvlock_hooks); i++)
		if (!pvlock_hooks[i].redirect)
			pvlock_hook_off(&pvlock_hooks[i]);
	WRITE_ONCE(pvlock_host_hooks, 0);
	/* a watch callback may still be running on another CPU */
	synchronize_rcu_tasks();
}
