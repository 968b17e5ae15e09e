/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_HOST_H
#define _PVLOCK_HOST_H

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/pvlock.h>

#include <pvlock/budget.h>

/*
 * Settings. The global set lives in pvlock_host_params; a VM may override
 * any per-VM value (mask @set, one bit per PVLOCK_P_*). Written under
 * pvlock_host_lock, read locklessly with READ_ONCE.
 */
struct pvlock_host_params {
	u32 threshold;		/* hint for guests, 0 = none */
	u32 min, max;
	u32 budget;		/* boosts per period per VM */
	u32 period_ms;		/* global */
	u32 cross_vm;		/* bool */
	u32 cross_budget;	/* cross-VM boosts given, and received, per period per VM */
	u32 prio_boost;		/* global; 0 = directed yield only */
	u32 pinned;		/* PVLOCK_PIN_* */
};

extern struct mutex pvlock_host_lock;
extern struct pvlock_host_params pvlock_host_params;
extern u32 pvlock_host_hooks;		/* PVLOCK_HOOK_* in use */
extern bool pvlock_host_unloading;

/* Counters of one VM or one vCPU; atomics because givers count on receivers. */
struct pvlock_hstats {
	atomic64_t c[__PVLOCK_HS_LAST];
	atomic64_t hist[PVLOCK_HIST_BUCKETS];	/* preempted time, log2 ns */
};

enum pvlock_vstate {
	PVLOCK_VS_RUNNING,
	PVLOCK_VS_PREEMPTED,	/* descheduled while runnable */
	PVLOCK_VS_BLOCKED,	/* descheduled while waiting (halted) */
};

struct pvlock_vm;

/*
 * Where one registration's record (and eCS word) live in host memory: the
 * guest pages, pinned, with the memslot generation they were found in. KVM's
 * gfn_to_pfn_cache is the model: a memslot change or an MMU-notifier
 * invalidation of the range clears @valid (the watches in hooks.c), after
 * which nobody reads or writes through it; the vCPU's own thread maps the
 * record again in its next hypercall, or drops the registration when the
 * record left guest memory. Replaced whole; freed (unpinned) after an RCU
 * grace period, so that a reader that saw it valid finishes on pinned pages.
 */
struct pvlock_gmap {
	u64 rec_gpa, ecs_gpa;
	unsigned long rec_hva, ecs_hva;
	struct page *rec_page, *ecs_page;	/* pinned; ecs_page NULL without eCS */
	struct pvlock_record *rec;
	u32 *ecs;
	u64 curr_gpa;				/* record v2: running-task pointer, 0: none */
	u64 *curr;				/* ... in ecs_page */
	u64 slots_gen;				/* memslot generation when found */
	bool valid;
	struct rcu_work free_work;
};

/* A registered vCPU. */
struct pvlock_vcpu {
	struct pvlock_vm *vm;
	struct kvm_vcpu *vcpu;		/* dereferenced only on its VM's own threads */
	u32 idx;			/* vcpu->vcpu_idx */
	u32 cpu;			/* guest CPU number it registered as */
	struct task_struct *task;	/* thread that last loaded it, referenced; vm->lock */

	struct pvlock_gmap __rcu *map;	/* replaced on the owning thread only */
	u32 ecs_kind;
	u64 idle_task;			/* record v2: the guest CPU's idle task */
	u32 hint_gen;			/* vm->hint_gen last written to the record */

	/* Scheduler view, written by the notifier on the owning thread. */
	struct preempt_notifier pn;
	bool pn_registered;		/* owning thread only */
	u8 state;			/* enum pvlock_vstate */
	bool in_ecs, waiting;		/* at the last preemption */
	bool in_kernel;			/* ... at CPL 0 */
	u8 board;			/* 1 + its slot on the cross-VM board, 0: none */
	u64 out_ns;			/* when it was last descheduled */
	u64 boosted_ns;			/* when it was last yielded to */
	u32 sched_ins;			/* times scheduled in (wraps) */

	/* Optional priority boost (PVLOCK_P_PRIO_BOOST), under vm->lock. */
	bool prio_boosted;
	struct task_struct *prio_task;	/* referenced while boosted */
	long saved_nice;
	u64 prio_start_ns, prio_until_ns, prio_granted_ns;

	bool gone;			/* unregistered: the record is no longer used */

	struct pvlock_hstats st;
	struct rcu_work free_work;
};

/* The host half of the records of one VM, as the worker last computed it. */
struct pvlock_hint {
	u32 flags, threshold, budget_left, overcommit;
};

/* A VM pvlock has met: by a hypercall, a PLE exit, or KVM's VM list. */
struct pvlock_vm {
	struct list_head node;		/* pvlock_vms, RCU */
	struct hlist_node hnode;	/* pvlock_vm_hash by @kvm, RCU */
	struct kvm *kvm;		/* identity; dereferenced only on its own threads */
	u32 id;
	pid_t pid;			/* the VMM process, as a number for the user */
	struct pid *vmm;		/* ... and as a reference: what it is named from */
	char name[PVLOCK_NAME_MAX];	/* vm->lock */
	bool name_pending;		/* found by the scan: named, announced by the worker */
	u32 nr_vcpus;			/* online vCPUs when last seen */
	u32 abi, features;		/* agreed at HELLO; 0 without */
	bool dead;

	struct xarray vcpus;		/* vcpu_idx -> struct pvlock_vcpu, RCU */
	struct xarray cpus;		/* guest CPU number -> struct pvlock_vcpu, RCU */
	atomic_t nr_registered;

	/* vCPU threads, for the overcommit count (referenced; NULL when unknown) */
	struct task_struct **tasks;
	u32 nr_tasks;

	struct pvlock_host_params p;	/* per-VM overrides */
	u32 set;			/* PVLOCK_P_* bits overridden */

	spinlock_t lock;		/* budgets, tasks, name, priority boosts */
	struct pvlock_budget boost, cross_out, cross_in, reg_rate;
	struct pvlock_prio_budget prio;
	struct pvlock_hint hint;	/* vm->lock */
	u32 hint_gen;			/* bumped when @hint changes */

	struct pvlock_hstats st;
	struct rcu_work free_work;
};

/* hooks.c: KVM entry points */
int pvlock_hooks_init(void);
void pvlock_hooks_exit_redirects(void);
void pvlock_hooks_exit_watches(void);
void pvlock_handlers_drain(void);

/* ksyms.c: what pvlock calls in kvm.ko, resolved at load */
struct pvlock_kvm_syms {
	struct kvm_x86_ops *ops;
	int (*skip_emulated_instruction)(struct kvm_vcpu *vcpu);
	int (*emulate_halt_noskip)(struct kvm_vcpu *vcpu);
	void (*vcpu_on_spin)(struct kvm_vcpu *me, bool yield_to_kernel_mode);
	unsigned long (*vcpu_gfn_to_hva)(struct kvm_vcpu *vcpu, gfn_t gfn);
	void (*vcpu_mark_page_dirty)(struct kvm_vcpu *vcpu, gfn_t gfn);
	/* hook sites */
	unsigned long emulate_hypercall, load, put, pre_destroy_vm;
	unsigned long steal_time, flush_memslot, gpc_invalidate;	/* 0: not found */
	struct mutex *kvm_lock;		/* KVM's lock of ... */
	struct list_head *vm_list;	/* ... every VM on the host */
};
extern struct pvlock_kvm_syms pvlock_kvm;
int pvlock_ksyms_init(void);
void pvlock_ksyms_exit(void);

/* hypercall.c */
int pvlock_hc_dispatch(struct kvm_vcpu *vcpu);

/* vm.c: VMs, registrations, records, notifiers */
extern struct list_head pvlock_vms;
extern spinlock_t pvlock_vms_lock;
struct pvlock_vm *pvlock_vm_find(struct kvm *kvm);
struct pvlock_vm *pvlock_vm_get(struct kvm_vcpu *vcpu);
void pvlock_vms_scan(void);
void pvlock_vms_name_pending(void);
struct pvlock_vm *pvlock_vm_by_id(u32 id);
void pvlock_vm_params(const struct pvlock_vm *vm, struct pvlock_host_params *out);
bool pvlock_vm_cross(const struct pvlock_vm *vm);
struct pvlock_vcpu *pvlock_vcpu_of(struct pvlock_vm *vm, struct kvm_vcpu *vcpu);
long pvlock_vcpu_register(struct pvlock_vm *vm, struct kvm_vcpu *vcpu, u64 gpa, u64 cpu);
long pvlock_vcpu_unregister(struct pvlock_vm *vm, struct kvm_vcpu *vcpu);
long pvlock_vcpu_revalidate(struct pvlock_vm *vm, struct pvlock_vcpu *pv);
void pvlock_vcpu_sync_record(struct pvlock_vcpu *pv, struct kvm_vcpu *vcpu);
void pvlock_vcpu_load(struct kvm_vcpu *vcpu);
void pvlock_vcpu_put(struct kvm_vcpu *vcpu);
void pvlock_vcpu_steal_update(struct kvm_vcpu *vcpu);
void pvlock_vm_destroyed(struct kvm *kvm);
void pvlock_vm_memslot_gone(struct kvm *kvm, const struct kvm_memory_slot *slot);
void pvlock_vm_hva_invalidate(struct kvm *kvm, unsigned long start, unsigned long end);
void pvlock_vm_update_hints(struct pvlock_vm *vm, u32 overcommit, u64 now);
void pvlock_vms_kick_and_wait(void);
void pvlock_vms_free_all(void);

/* boost.c */
long pvlock_yield(struct pvlock_vm *vm, struct kvm_vcpu *me, u32 target, u32 flags, bool *halt,
		  u64 t0);
void pvlock_on_spin(struct kvm_vcpu *me, bool yield_to_kernel_mode);
void pvlock_board_publish(struct pvlock_vcpu *pv);
void pvlock_board_retract(struct pvlock_vcpu *pv);
void pvlock_board_retract_all(struct pvlock_vcpu *pv);
void pvlock_prio_restore(struct pvlock_vcpu *pv, u64 now, bool force);
void pvlock_prio_expire(u64 now);

/* stats.c */
static inline void pvlock_count(struct pvlock_vm *vm, struct pvlock_vcpu *pv,
				enum pvlock_host_stat s, u64 n)
{
	if (vm)
		atomic64_add(n, &vm->st.c[s]);
	if (pv)
		atomic64_add(n, &pv->st.c[s]);
}

void pvlock_hist_add(struct pvlock_vm *vm, struct pvlock_vcpu *pv, u64 ns);
void pvlock_hstats_read(const struct pvlock_hstats *st, u64 *c, u64 *hist);
void pvlock_hstats_reset(struct pvlock_hstats *st);

/* main.c: the periodic worker and host-wide state */
u32 pvlock_host_overcommit(void);
u64 pvlock_now(void);
void pvlock_host_kick_worker(void);
void pvlock_host_prio_timer(u64 until_ns);
extern struct workqueue_struct *pvlock_wq;

/* netlink.c */
int pvlock_host_netlink_init(void);
void pvlock_host_netlink_exit(void);
void pvlock_host_notify(enum pvlock_event ev, struct pvlock_vm *vm, int cpu);

#endif /* _PVLOCK_HOST_H */
