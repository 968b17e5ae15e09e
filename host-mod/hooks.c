// SPDX-License-Identifier: GPL-2.0
/*
 * Where pvlock_host meets KVM, all through ftrace on functions of kvm.ko:
 *
 *   kvm_emulate_hypercall   redirect, only for pvlock's numbers (the rest,
 *                           KVM_HC_KICK_CPU included, stays KVM's)
 *   kvm_vcpu_on_spin        redirect (PLE exits), to pvlock's candidate
 *                           choice; KVM's own loop when it has nothing better
 *   vcpu_load / vcpu_put    watch: register/unregister pvlock's preempt
 *                           notifier of a registered vCPU on the thread that
 *                           runs it, exactly while KVM has its own there
 *   kvm_arch_pre_destroy_vm watch: the VM is going; drop what pvlock holds
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

#include "compat.h"
#include "pvlock_host.h"

static atomic_t pvlock_handlers = ATOMIC_INIT(0);

/* Threads inside pvlock's replacement functions, for the unload drain. */
void pvlock_handler_enter(void)
{
	atomic_inc(&pvlock_handlers);
}

void pvlock_handler_exit(void)
{
	atomic_dec(&pvlock_handlers);
}

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

	pvlock_handler_enter();
	r = pvlock_hc_dispatch(vcpu);
	pvlock_handler_exit();
	return r;
}

static void pvlock_on_spin_entry(struct kvm_vcpu *me, bool yield_to_kernel_mode)
{
	pvlock_handler_enter();
	pvlock_on_spin(me, yield_to_kernel_mode);
	pvlock_handler_exit();
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

static void notrace pvlock_on_spin_redirect(unsigned long ip, unsigned long parent_ip,
					    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = pvlock_fregs(fregs);

	if (within_module(parent_ip, THIS_MODULE) || READ_ONCE(pvlock_host_unloading))
		return;
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

static void notrace pvlock_destroy_watch(unsigned long ip, unsigned long parent_ip,
					 struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	pvlock_vm_destroyed((struct kvm *)pvlock_fregs(fregs)->di);
}

#define PVLOCK_REDIRECT_FLAGS	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | \
				 FTRACE_OPS_FL_RECURSION)
#define PVLOCK_WATCH_FLAGS	(FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION)

struct pvlock_hook {
	const char *name;
	unsigned long *addr;
	struct ftrace_ops ops;
	u32 bit;		/* PVLOCK_HOOK_*, 0: not reported separately */
	bool required;
	bool redirect;
	bool on;
};

static struct pvlock_hook pvlock_hooks[] = {
	{ "kvm_emulate_hypercall", &pvlock_kvm.emulate_hypercall,
	  { .func = pvlock_hc_redirect, .flags = PVLOCK_REDIRECT_FLAGS },
	  PVLOCK_HOOK_HYPERCALL, true, true },
	{ "kvm_vcpu_on_spin", (unsigned long *)&pvlock_kvm.vcpu_on_spin,
	  { .func = pvlock_on_spin_redirect, .flags = PVLOCK_REDIRECT_FLAGS },
	  PVLOCK_HOOK_ON_SPIN, false, true },
	{ "vcpu_load", &pvlock_kvm.load,
	  { .func = pvlock_load_watch, .flags = PVLOCK_WATCH_FLAGS },
	  PVLOCK_HOOK_PREEMPT, true, false },
	{ "vcpu_put", &pvlock_kvm.put,
	  { .func = pvlock_put_watch, .flags = PVLOCK_WATCH_FLAGS },
	  0, true, false },
	{ "kvm_arch_pre_destroy_vm", &pvlock_kvm.pre_destroy_vm,
	  { .func = pvlock_destroy_watch, .flags = PVLOCK_WATCH_FLAGS },
	  0, true, false },
};

static void pvlock_hook_off(struct pvlock_hook *h)
{
	if (!h->on)
		return;
	unregister_ftrace_function(&h->ops);
	ftrace_set_filter_ip(&h->ops, *h->addr, 1, 0);
	h->on = false;
	WRITE_ONCE(pvlock_host_hooks, pvlock_host_hooks & ~h->bit);
}

static int pvlock_hook_on(struct pvlock_hook *h)
{
	int err;

	err = ftrace_set_filter_ip(&h->ops, *h->addr, 0, 0);
	if (err) {
		pr_err("%s: cannot trace it (%d)\n", h->name, err);
		return err;
	}
	err = register_ftrace_function(&h->ops);
	if (err) {
		ftrace_set_filter_ip(&h->ops, *h->addr, 1, 0);
		if (err == -EBUSY)
			pr_warn("%s: another module (a livepatch?) already modifies it\n",
				h->name);
		else
			pr_err("%s: cannot hook it (%d)\n", h->name, err);
		return err;
	}
	h->on = true;
	WRITE_ONCE(pvlock_host_hooks, pvlock_host_hooks | h->bit);
	return 0;
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
		pr_warn("running without the %s hook: PLE exits get KVM's own choice\n", h->name);
	}
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
}

void pvlock_hooks_exit_watches(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pvlock_hooks); i++)
		if (!pvlock_hooks[i].redirect)
			pvlock_hook_off(&pvlock_hooks[i]);
	/* a watch callback may still be running on another CPU */
	synchronize_rcu_tasks();
}
