// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock's BPF observer: per-vCPU counts of the KVM events that show
 * lock-holder preemption, for hosts where pvlock_host may not be loaded.
 * The trace event records are read at the offsets tracefs publishes in each
 * event's format file (obs.c fills them in before loading), not by CO-RE
 * against kvm.ko's BTF: finding a module's BTF means listing the kernel's
 * BTF objects, which needs CAP_SYS_ADMIN, and the tracepoints must count
 * with CAP_BPF and CAP_PERFMON alone (pvlockd's unit). The fentry/fexit
 * programs on kvm.ko's functions need that list anyway: without
 * CAP_SYS_ADMIN the loader leaves them out and says so.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <linux/pvlock.h>

#include "../obs_shared.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Where the fields read sit in the records of kvm:kvm_exit and
 * kvm:kvm_hypercall, from tracefs (set before loading; .rodata is frozen,
 * so the verifier sees constants). OBS_NO_FIELD: the event has no such field.
 */
const volatile __u32 obs_exit_reason_off = OBS_NO_FIELD;
const volatile __u32 obs_exit_isa_off = OBS_NO_FIELD;
const volatile __u32 obs_exit_vcpu_off = OBS_NO_FIELD;
const volatile __u32 obs_hc_nr_off = OBS_NO_FIELD;

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

/* A 32-bit field of the event record at @off (0 when the event has none). */
static __u32 obs_field32(void *ctx, __u32 off)
{
	__u32 v = 0;

	if (off != OBS_NO_FIELD)
		bpf_probe_read_kernel(&v, sizeof(v), (char *)ctx + off);
	return v;
}

SEC("tracepoint/kvm/kvm_exit")
int obs_kvm_exit(void *ctx)
{
	struct obs_val *v = obs_this();
	unsigned int reason = obs_field32(ctx, obs_exit_reason_off);
	__u32 isa = obs_field32(ctx, obs_exit_isa_off);

	if (!v)
		return 0;
	if (obs_exit_vcpu_off != OBS_NO_FIELD) {
		v->vcpu_id = obs_field32(ctx, obs_exit_vcpu_off);
		v->has_vcpu = 1;
	}
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
int obs_kvm_hypercall(void *ctx)
{
	struct obs_val *v = obs_this();
	unsigned long nr = 0;

	if (!v)
		return 0;
	if (obs_hc_nr_off != OBS_NO_FIELD)
		bpf_probe_read_kernel(&nr, sizeof(nr), (char *)ctx + obs_hc_nr_off);
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
