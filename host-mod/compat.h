/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-module compatibility: what differs in KVM and the scheduler between
 * the supported kernels (6.1, 6.12, 7.x). Each shim names the change that
 * made it necessary. The headers packages lack arch/x86/kvm/, so
 * the few KVM helpers pvlock needs from there are restated here from the
 * public structures in asm/kvm_host.h.
 */
#ifndef _PVLOCK_HOST_COMPAT_H
#define _PVLOCK_HOST_COMPAT_H

#include <linux/kvm_host.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/version.h>

#include <pvlock/kcompat.h>

#if !IS_ENABLED(CONFIG_KVM)
#error "pvlock_host needs a kernel with KVM (CONFIG_KVM)"
#endif
#ifndef CONFIG_PREEMPT_NOTIFIERS
#error "pvlock_host needs CONFIG_PREEMPT_NOTIFIERS (KVM selects it)"
#endif
#ifndef CONFIG_DYNAMIC_FTRACE_WITH_REGS
#error "pvlock_host needs CONFIG_DYNAMIC_FTRACE_WITH_REGS to hook KVM"
#endif

/*
 * 6.12 ("sched/eevdf: Delayed dequeue"): a task can stay on the runqueue
 * while it sleeps; task_is_runnable() tells, and kvm_sched_out() uses it.
 * Before, on_rq alone meant runnable (kvm_sched_out() tested current->on_rq).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define pvlock_task_runnable(t)	task_is_runnable(t)
#else
#define pvlock_task_runnable(t)	(READ_ONCE((t)->on_rq) != 0)
#endif

/*
 * 6.13 ("KVM: Protect vCPU's "last run PID" with rwlock, not RCU"):
 * vcpu->pid is a plain pointer under vcpu->pid_lock; before, an RCU pointer.
 */
static inline struct task_struct *pvlock_vcpu_task(struct kvm_vcpu *vcpu)
{
	struct task_struct *t = NULL;
	struct pid *pid;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	read_lock(&vcpu->pid_lock);
	pid = vcpu->pid;
	if (pid)
		t = get_pid_task(pid, PIDTYPE_PID);
	read_unlock(&vcpu->pid_lock);
#else
	rcu_read_lock();
	pid = rcu_dereference(vcpu->pid);
	if (pid)
		t = get_pid_task(pid, PIDTYPE_PID);
	rcu_read_unlock();
#endif
	return t;
}

/*
 * Guest registers as kvm_emulate_hypercall() reads them (kvm_rax_read()
 * and friends live in arch/x86/kvm/kvm_cache_regs.h, not in the headers).
 * The general-purpose registers are always available after a VM exit on
 * SVM and VMX; only RSP/RIP are loaded lazily. 7.0 turned regs_avail and
 * regs_dirty from u32 into bitmaps; KVM itself sets the bits through an
 * unsigned long pointer in both layouts.
 */
static inline unsigned long pvlock_reg(struct kvm_vcpu *vcpu, int reg)
{
	return vcpu->arch.regs[reg];
}

static inline void pvlock_set_rax(struct kvm_vcpu *vcpu, unsigned long v)
{
	vcpu->arch.regs[VCPU_REGS_RAX] = v;
	__set_bit(VCPU_REGS_RAX, (unsigned long *)&vcpu->arch.regs_avail);
	__set_bit(VCPU_REGS_RAX, (unsigned long *)&vcpu->arch.regs_dirty);
}

/*
 * Xen's hvm_config moved into struct kvm_xen (6.12 has
 * kvm->arch.xen_hvm_config, 7.2 kvm->arch.xen.hvm_config; the move landed
 * in 6.15, "KVM: x86/xen: Move kvm_xen_hvm_config field into kvm_xen").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 15, 0)
#define pvlock_xen_hvm_config(kvm)	((kvm)->arch.xen.hvm_config)
#else
#define pvlock_xen_hvm_config(kvm)	((kvm)->arch.xen_hvm_config)
#endif

/*
 * Hypercalls that are not KVM's to number: a VM with Xen hypercall
 * interception or Hyper-V enlightenments routes every VMCALL there first
 * (kvm_emulate_hypercall()), and its RAX is not a KVM hypercall number.
 * 6.8 made Hyper-V emulation optional (CONFIG_KVM_HYPERV).
 */
static inline bool pvlock_foreign_hypercalls(struct kvm_vcpu *vcpu)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0) || defined(CONFIG_KVM_HYPERV)
	if (vcpu->arch.hyperv_enabled)
		return true;
#endif
#ifdef CONFIG_KVM_XEN
	if (pvlock_xen_hvm_config(vcpu->kvm).flags & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL)
		return true;
#endif
	return false;
}

/* ftrace_regs: SAVE_REGS ops get full pt_regs on every supported kernel. */
#define pvlock_fregs(fregs)	ftrace_get_regs(fregs)

#endif /* _PVLOCK_HOST_COMPAT_H */
