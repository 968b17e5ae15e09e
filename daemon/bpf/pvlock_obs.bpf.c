// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock's BPF observer: per-vCPU counts of the KVM events that show
 * lock-holder preemption, for hosts where pvlock_host may not be loaded.
 * CO-RE without a generated vmlinux.h: the few kernel types read here are
 * declared below with preserve_access_index, and libbpf relocates their
 * fields against the running kernel's BTF (kvm.ko's BTF for the trace event
 * records), so one object serves every kernel that has the events.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include <linux/pvlock.h>

#include "../obs_shared.h"

char LICENSE[] SEC("license") = "GPL";

/* Only the fields read; offsets come from the kernel's BTF at load. */
struct trace_entry {
	unsigned short type;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_exit {
	struct trace_entry ent;
	unsigned int exit_reason;
	__u32 isa;
	unsigned int vcpu_id;
} __attribute__((preserve_access_index));

struct trace_event_raw_kvm_hypercall {
	struct trace_entry ent;
	unsigned long nr;
} __attribute__((preserve_access_index));

struct kvm_vcpu;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OBS_MAX_ENTRIES);
	__type(key, struct obs_key);
	__type(value, struct obs_val);
} obs_vcpus SEC(".maps");

static struct obs_val *obs_this(void)
{
	struct obs_val zero = {};
	__u64 id = bpf_get_current_pid_tgid();
	struct obs_key k = { .tgid = id >> 32, .tid = (__u32)id };
	struct obs_val *v = bpf_map_lookup_elem(&obs_vcpus, &k);

	if (v)
		return v;
	bpf_map_update_elem(&obs_vcpus, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&obs_vcpus, &k);
}

/* Only the owning vCPU thread writes its entry; the reader sums. */
static void obs_inc(struct obs_val *v, int c)
{
	if (c > 0 && c < OBS_NR)
		__sync_fetch_and_add(&v->c[c], 1);
}

/*
 * The event records are read with BPF_CORE_READ (bpf_probe_read_kernel at
 * the relocated offset): a relocated direct load may come out of clang as
 * ctx + offset and then a load, and the verifier refuses a moved ctx
 * pointer ("dereference of modified ctx ptr").
 */
SEC("tracepoint/kvm/kvm_exit")
int obs_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	struct obs_val *v = obs_this();
	unsigned int reason = BPF_CORE_READ(ctx, exit_reason);
	__u32 isa = BPF_CORE_READ(ctx, isa);

	if (!v)
		return 0;
	v->vcpu_id = BPF_CORE_READ(ctx, vcpu_id);
	v->has_vcpu = 1;
	obs_inc(v, OBS_EXITS);
	if (isa == OBS_ISA_SVM) {
		if (reason == OBS_SVM_EXIT_HLT)
			obs_inc(v, OBS_EXIT_HLT);
		else if (reason == OBS_SVM_EXIT_PAUSE)
			obs_inc(v, OBS_EXIT_PAUSE);
		else if (reason == OBS_SVM_EXIT_VMMCALL)
			obs_inc(v, OBS_EXIT_HYPERCALL);
		else
			obs_inc(v, OBS_EXIT_OTHER);
	} else if (isa == OBS_ISA_VMX) {
		/* the basic exit reason is the low 16 bits */
		reason &= 0xffff;
		if (reason == OBS_VMX_EXIT_HLT)
			obs_inc(v, OBS_EXIT_HLT);
		else if (reason == OBS_VMX_EXIT_PAUSE)
			obs_inc(v, OBS_EXIT_PAUSE);
		else if (reason == OBS_VMX_EXIT_VMCALL)
			obs_inc(v, OBS_EXIT_HYPERCALL);
		else
			obs_inc(v, OBS_EXIT_OTHER);
	} else {
		obs_inc(v, OBS_EXIT_OTHER);
	}
	return 0;
}

SEC("tracepoint/kvm/kvm_hypercall")
int obs_kvm_hypercall(struct trace_event_raw_kvm_hypercall *ctx)
{
	struct obs_val *v = obs_this();
	unsigned long nr = BPF_CORE_READ(ctx, nr);

	if (!v)
		return 0;
	if (nr == OBS_KVM_HC_KICK_CPU)
		obs_inc(v, OBS_HC_KICK_CPU);
	else if (nr == OBS_KVM_HC_SCHED_YIELD)
		obs_inc(v, OBS_HC_SCHED_YIELD);
	else if (PVLOCK_HC_IS_PVLOCK(nr))
		obs_inc(v, OBS_HC_PVLOCK);
	else
		obs_inc(v, OBS_HC_OTHER);
	return 0;
}

SEC("fentry/kvm_vcpu_on_spin")
int BPF_PROG(obs_on_spin_enter, struct kvm_vcpu *me, __u64 yield_to_kernel_mode)
{
	struct obs_val *v = obs_this();

	if (v)
		v->in_on_spin = 1;
	return 0;
}

SEC("fexit/kvm_vcpu_on_spin")
int BPF_PROG(obs_on_spin_exit, struct kvm_vcpu *me, __u64 yield_to_kernel_mode)
{
	struct obs_val *v = obs_this();

	if (!v)
		return 0;
	obs_inc(v, OBS_ON_SPIN);
	if (v->in_on_spin == 2)
		obs_inc(v, OBS_ON_SPIN_YIELDED);
	v->in_on_spin = 0;
	return 0;
}

SEC("fexit/kvm_vcpu_yield_to")
int BPF_PROG(obs_yield_to_exit, struct kvm_vcpu *target, int ret)
{
	struct obs_val *v = obs_this();

	if (!v)
		return 0;
	obs_inc(v, OBS_YIELD_TO);
	if (ret > 0) {
		obs_inc(v, OBS_YIELD_TO_OK);
		if (v->in_on_spin)
			v->in_on_spin = 2;
	} else {
		obs_inc(v, OBS_YIELD_TO_FAILED);
	}
	return 0;
}
