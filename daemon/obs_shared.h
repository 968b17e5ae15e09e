/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the BPF observer (bpf/pvlock_obs.bpf.c) and its loader (obs.c):
 * the map key and value. One entry per vCPU thread, keyed by the VMM's
 * process id (a VM) and the thread id (a vCPU); only that thread writes it.
 */
#ifndef PVLOCK_OBS_SHARED_H
#define PVLOCK_OBS_SHARED_H

enum obs_counter {
	OBS_UNSPEC,
	OBS_EXITS,		/* kvm:kvm_exit, any reason */
	OBS_EXIT_HLT,		/* ... HLT */
	OBS_EXIT_PAUSE,		/* ... PAUSE (pause-loop exiting) */
	OBS_EXIT_HYPERCALL,	/* ... VMCALL / VMMCALL */
	OBS_EXIT_OTHER,		/* ... any other reason */
	OBS_HC_KICK_CPU,	/* kvm:kvm_hypercall, KVM_HC_KICK_CPU */
	OBS_HC_SCHED_YIELD,	/* ... KVM_HC_SCHED_YIELD */
	OBS_HC_PVLOCK,		/* ... pvlock's numbers (-ENOSYS without pvlock_host) */
	OBS_HC_OTHER,		/* ... anything else */
	OBS_ON_SPIN,		/* kvm_vcpu_on_spin calls (fexit) */
	OBS_ON_SPIN_YIELDED,	/* ... that yielded to another vCPU */
	OBS_YIELD_TO,		/* kvm_vcpu_yield_to calls, from on_spin or the yield hypercall */
	OBS_YIELD_TO_OK,	/* ... that did yield */
	OBS_YIELD_TO_FAILED,	/* ... that did not */
	OBS_NR
};

#define OBS_MAX_ENTRIES		8192

/* an event record field that is not there (the loader's offsets) */
#define OBS_NO_FIELD		0xffffffffu

/* kvm_exit's isa field and the exit reasons counted (SVM and VMX). */
#define OBS_ISA_VMX		1
#define OBS_ISA_SVM		2
#define OBS_SVM_EXIT_PAUSE	0x077
#define OBS_SVM_EXIT_HLT	0x078
#define OBS_SVM_EXIT_VMMCALL	0x081
#define OBS_VMX_EXIT_HLT	12
#define OBS_VMX_EXIT_VMCALL	18
#define OBS_VMX_EXIT_PAUSE	40

/* KVM's hypercall numbers (include/uapi/linux/kvm_para.h) */
#define OBS_KVM_HC_KICK_CPU	5
#define OBS_KVM_HC_SCHED_YIELD	11

struct obs_key {
	unsigned int tgid;	/* VMM process: the VM */
	unsigned int tid;	/* vCPU thread */
};

struct obs_val {
	unsigned int vcpu_id;	/* from kvm_exit; valid when has_vcpu */
	unsigned int has_vcpu;
	unsigned int in_on_spin;	/* 1 inside kvm_vcpu_on_spin, 2 once it yielded */
	unsigned int pad;
	unsigned long long c[OBS_NR];
};

#endif
