/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-module compatibility. The qspinlock algorithm, its lock-word encoding,
 * struct qnode / struct pv_node and the PV hash are identical in 6.1, 6.12
 * and 7.2 (checked against Debian's linux-source packages); what moves is
 * where the per-CPU preemption count lives.
 */
#ifndef _PVLOCK_GUEST_COMPAT_H
#define _PVLOCK_GUEST_COMPAT_H

#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/version.h>
#include <asm/kvm_para.h>

#include <pvlock/kcompat.h>

#ifndef CONFIG_LIVEPATCH
#error "pvlock_guest needs CONFIG_LIVEPATCH (Debian's kernels have it)"
#endif
#ifndef CONFIG_PARAVIRT_SPINLOCKS
#error "pvlock_guest needs CONFIG_PARAVIRT_SPINLOCKS (Debian's kernels have it)"
#endif
#ifndef KVM_HYPERCALL
#error "asm/kvm_para.h no longer defines KVM_HYPERCALL"
#endif

/*
 * The per-CPU preemption count: __preempt_count until 6.1; 6.2 moved it into
 * struct pcpu_hot ("x86/percpu: Move preempt_count next to current_task");
 * 6.15 split pcpu_hot up again and __preempt_count is back. The running
 * task's pointer moved with it (current_task; pcpu_hot.current_task in 6.2
 * "x86/percpu: Move current_task to percpu hot section").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 15, 0)
#define pvlock_preempt_count_ptr(cpu)	((u32 *)per_cpu_ptr(&pcpu_hot.preempt_count, cpu))
#define pvlock_current_ptr(cpu)		((void **)per_cpu_ptr(&pcpu_hot.current_task, cpu))
#else
#define pvlock_preempt_count_ptr(cpu)	((u32 *)per_cpu_ptr(&__preempt_count, cpu))
#define pvlock_current_ptr(cpu)		((void **)per_cpu_ptr(&current_task, cpu))
#endif

/*
 * The contention_begin/contention_end tracepoints (what "perf lock
 * contention" uses) exist in 6.1 but were exported for modules only later
 * (for bcachefs's six locks; exported in 6.12): on 6.1 the module resolves
 * the tracepoints and calls their probes itself, as the generic tracepoint
 * iterator does.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#define PVLOCK_TP_BY_HAND	1
#endif

#endif /* _PVLOCK_GUEST_COMPAT_H */
