/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_HOST_H
#define _PVLOCK_HOST_H

#include <linux/atomic.h>
#include <linux/kvm_host.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
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

/* A registered vCPU: the guest's record, mapped for the life of the registration. */
struct pvlock_vcpu {
	struct pvlock_vm *vm;
	struct kvm_vcpu *vcpu;		/* dereferenced only on its VM's own threads */
	u32 idx;			/* vcpu->vcpu_idx */
	u32 cpu;			/* guest CPU number it registered as */
	struct task_struct *task;	/* thread that last loaded it, referenced; vm->lock */

	struct page *rec_page, *ecs_page;	/* pinned guest pages */
	struct pvlock_record *rec;		/* in rec_page */
	u32 *ecs;				/* in ecs_page, NULL without eCS */
	u32 ecs_kind;

	/* Scheduler view, written by the notifier on the owning thread. */
	struct preempt_notifier pn;
	bool pn_registered;		/* owning thread only */
	u8 state;			/* enum pvlock_vstate */
	bool in_ecs, waiting;		/* at the last preemption */
	u64 out_ns;			/* when it was last descheduled */
	u64 boosted_ns;			/* when it was last yielded to */

	/* Optional priority boost (PVLOCK_P_PRIO_BOOST), under vm->lock, undone by the worker. */
	bool prio_boosted;
	struct task_struct *prio_task;	/* referenced while boosted */
	long saved_nice;
	u64 prio_until_ns;

	struct callback_head kick;	/* task work that drives it out of KVM_RUN at unload */
	bool kick_pending;
	bool gone;			/* unregistered: the record is no longer written */

	struct pvlock_hstats st;
	struct rcu_work free_work;
};

/* A VM pvlock has met: by a hypercall, or by a PLE exit reaching on_spin. */
struct pvlock_vm {
	struct list_head node;		/* pvlock_vms, RCU */
	struct kvm *kvm;		/* identity; dereferenced only on its own threads */
	u32 id;
	pid_t pid;			/* the VMM process */
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

	spinlock_t lock;		/* budgets, record writes, tasks */
	struct pvlock_budget boost, cross_out, cross_in, reg_rate;
	u32 last_hint;			/* threshold last written to the records */

	struct pvlock_hstats st;
	struct rcu_work free_work;
};

/* hooks.c: KVM entry points */
int pvlock_hooks_init(void);
void pvlock_hooks_exit_redirects(void);
void pvlock_hooks_exit_watches(void);
void pvlock_handler_enter(void);
void pvlock_handler_exit(void);
void pvlock_handlers_drain(void);

/* ksyms.c: what pvlock calls in kvm.ko, resolved at load */
struct pvlock_kvm_syms {
	struct kvm_x86_ops *ops;
	int (*skip_emulated_instruction)(struct kvm_vcpu *vcpu);
	int (*emulate_halt_noskip)(struct kvm_vcpu *vcpu);
	int (*vcpu_yield_to)(struct kvm_vcpu *target);
	void (*vcpu_on_spin)(struct kvm_vcpu *me, bool yield_to_kernel_mode);
	unsigned long (*vcpu_gfn_to_hva)(struct kvm_vcpu *vcpu, gfn_t gfn);
	unsigned long emulate_hypercall, load, put, pre_destroy_vm;	/* hook sites */
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
struct pvlock_vcpu *pvlock_vcpu_of(struct pvlock_vm *vm, struct kvm_vcpu *vcpu);
long pvlock_vcpu_register(struct pvlock_vm *vm, struct kvm_vcpu *vcpu, u64 gpa, u64 cpu);
long pvlock_vcpu_unregister(struct pvlock_vm *vm, struct kvm_vcpu *vcpu);
void pvlock_vcpu_load(struct kvm_vcpu *vcpu);
void pvlock_vcpu_put(struct kvm_vcpu *vcpu);
void pvlock_vm_destroyed(struct kvm *kvm);
void pvlock_vm_write_hints(struct pvlock_vm *vm, u32 overcommit, u64 now);
void pvlock_vms_kick_and_wait(void);
void pvlock_vms_free_all(void);
bool pvlock_vcpu_read_guest(struct pvlock_vcpu *pv, bool *waiting, bool *in_ecs);

/* boost.c */
long pvlock_yield(struct pvlock_vm *vm, struct kvm_vcpu *me, u32 target, u32 flags, bool *halt);
void pvlock_on_spin(struct kvm_vcpu *me, bool yield_to_kernel_mode);
void pvlock_prio_restore(struct pvlock_vcpu *pv, u64 now, bool force);

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
extern struct workqueue_struct *pvlock_wq;

/* netlink.c */
int pvlock_host_netlink_init(void);
void pvlock_host_netlink_exit(void);
void pvlock_host_notify(enum pvlock_event ev, struct pvlock_vm *vm, int cpu);

#endif /* _PVLOCK_HOST_H */
