// SPDX-License-Identifier: GPL-2.0
/*
 * Who gets a waiting vCPU's time. Both entries, pvlock's yield hypercall
 * and PLE exits (kvm_vcpu_on_spin), score their candidates with the one
 * policy in include/pvlock/boost.h; they differ only in what they know:
 *
 *   yield:   every vCPU of the waiter's VM (registered ones with their eCS
 *            state and whether they wait themselves, the others with what
 *            KVM knows) and, when cross-VM boosting is on, registered vCPUs
 *            of other VMs; the waiter may name whom it waits behind.
 *            Nothing worth a yield: halt, as the HLT it replaces would.
 *   on_spin: registered vCPUs preempted inside an eCS, in this VM or
 *            others; when there is none, KVM's own loop runs unchanged, so
 *            a PLE exit is never served worse than by KVM.
 *
 * Every boost is a directed yield of the waiter's own time slice
 * (yield_to()), within the per-VM token buckets of include/pvlock/budget.h:
 * boosts given per period, and for cross-VM boosts also given and received.
 * Only the operator can add a priority boost (PVLOCK_P_PRIO_BOOST, capped,
 * nice only, undone after one period); a guest's request never raises one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/sched.h>

#include <pvlock/boost.h>

#include "compat.h"
#include "pvlock_host.h"

/* "boosted recently": a vCPU yielded to within this window ranks lower */
#define PVLOCK_BOOST_COOLDOWN_NS	(1 * NSEC_PER_MSEC)

struct pvlock_best {
	s32 score;
	struct kvm_vcpu *vcpu;		/* same VM, not registered */
	struct pvlock_vcpu *pv;		/* registered (same VM or another) */
	struct pvlock_vm *vm;
	u32 idx;
};

static void pvlock_consider(struct pvlock_best *b, const struct pvlock_cand *c,
			    const struct pvlock_boost_cfg *cfg, u64 now, struct kvm_vcpu *vcpu,
			    struct pvlock_vcpu *pv, struct pvlock_vm *vm, u32 idx)
{
	s32 s = pvlock_boost_score(c, cfg, now);

	if (s <= b->score)
		return;
	*b = (struct pvlock_best){ .score = s, .vcpu = vcpu, .pv = pv, .vm = vm, .idx = idx };
}

/* What pvlock knows of a registered vCPU, as a candidate. */
static void pvlock_cand_pv(struct pvlock_cand *c, struct pvlock_vcpu *pv)
{
	u8 st = READ_ONCE(pv->state);
	bool waiting, in_ecs;

	c->flags = PVLOCK_CAND_KVM_OK;
	if (st == PVLOCK_VS_PREEMPTED)
		c->flags |= PVLOCK_CAND_PREEMPTED;
	else if (st == PVLOCK_VS_BLOCKED)
		c->flags |= PVLOCK_CAND_BLOCKED;
	/* a preempted vCPU cannot change its record: reading it now is exact */
	pvlock_vcpu_read_guest(pv, &waiting, &in_ecs);
	if (pv->ecs) {
		c->flags |= PVLOCK_CAND_ECS_KNOWN;
		if (in_ecs)
			c->flags |= PVLOCK_CAND_IN_ECS;
	}
	if (waiting)
		c->flags |= PVLOCK_CAND_WAITING;
	c->preempted_ns = READ_ONCE(pv->out_ns);
	c->boosted_ns = READ_ONCE(pv->boosted_ns);
}

/* KVM's view of a vCPU of the caller's own VM (kvm_vcpu_on_spin()'s tests). */
static void pvlock_cand_kvm(struct pvlock_cand *c, struct kvm_vcpu *vcpu)
{
	c->flags = 0;
	if (READ_ONCE(vcpu->ready) && READ_ONCE(vcpu->preempted))
		c->flags |= PVLOCK_CAND_PREEMPTED;
	if (kvm_vcpu_is_blocking(vcpu))
		c->flags |= PVLOCK_CAND_BLOCKED;
	/* a vCPU in a PLE loop itself is a waiter, not a holder */
	if (READ_ONCE(vcpu->spin_loop.in_spin_loop))
		c->flags |= PVLOCK_CAND_WAITING;
	c->flags |= PVLOCK_CAND_KVM_OK;
	c->preempted_ns = 0;
	c->boosted_ns = 0;
}

/* Registered vCPUs of VMs other than @self's. Caller holds rcu_read_lock(). */
static void pvlock_consider_others(struct pvlock_best *b, struct pvlock_vm *self,
				   const struct pvlock_boost_cfg *cfg, u64 now, bool ecs_only)
{
	struct pvlock_vcpu *pv;
	struct pvlock_vm *vm;
	unsigned long i;

	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		if (vm == self || READ_ONCE(vm->dead) || !atomic_read(&vm->nr_registered))
			continue;
		xa_for_each(&vm->vcpus, i, pv) {
			struct pvlock_cand c;

			if (READ_ONCE(pv->gone))
				continue;
			pvlock_cand_pv(&c, pv);
			if (ecs_only && !(c.flags & PVLOCK_CAND_IN_ECS))
				continue;
			pvlock_consider(b, &c, cfg, now, NULL, pv, vm, pv->idx);
		}
	}
}

static bool pvlock_take(struct pvlock_vm *vm, struct pvlock_budget *bkt, u32 per_period,
			u32 period_ms, u64 now)
{
	struct pvlock_budget_cfg cfg = { .per_period = per_period, .period_ms = period_ms };
	bool ok;

	spin_lock(&vm->lock);
	ok = pvlock_budget_take(bkt, &cfg, now);
	spin_unlock(&vm->lock);
	return ok;
}

/*
 * Budgets for a boost from @vm to @to. Cross-VM: the receiver's bucket is
 * asked first; a token it gives for a boost the giver then cannot afford
 * is lost, which errs on the side of fewer boosts, never more.
 */
static bool pvlock_budget_ok(struct pvlock_vm *vm, const struct pvlock_host_params *p,
			     struct pvlock_vm *to, u64 now)
{
	struct pvlock_host_params tp;

	if (to != vm) {
		pvlock_vm_params(to, &tp);
		if (!tp.cross_vm || !pvlock_take(to, &to->cross_in, tp.cross_budget,
						 p->period_ms, now))
			return false;
		if (!pvlock_take(vm, &vm->cross_out, p->cross_budget, p->period_ms, now))
			return false;
	}
	return pvlock_take(vm, &vm->boost, p->budget, p->period_ms, now);
}

/*
 * Operator-enabled, capped priority boost of @t, the thread of registered
 * vCPU @pv, for one period. Caller holds rcu_read_lock().
 */
static void pvlock_prio_boost(struct pvlock_vcpu *pv, struct task_struct *t, u32 boost,
			      u32 period_ms, u64 now)
{
	struct pvlock_vm *vm = pv->vm;

	spin_lock(&vm->lock);
	if (!pv->prio_boosted && !pv->gone) {
		pv->saved_nice = task_nice(t);
		set_user_nice(t, max_t(long, MIN_NICE, pv->saved_nice - boost));
		pv->prio_task = get_task_struct(t);
		pv->prio_boosted = true;
	}
	pv->prio_until_ns = now + (u64)period_ms * NSEC_PER_MSEC;
	spin_unlock(&vm->lock);
}

/* Undo an expired (or, with @force, any) priority boost; vm->lock held or exclusive. */
void pvlock_prio_restore(struct pvlock_vcpu *pv, u64 now, bool force)
{
	if (!pv->prio_boosted || (!force && now < pv->prio_until_ns))
		return;
	set_user_nice(pv->prio_task, pv->saved_nice);
	put_task_struct(pv->prio_task);
	pv->prio_task = NULL;
	pv->prio_boosted = false;
}

/* The thread running @b's choice, referenced. Caller holds rcu_read_lock(). */
static struct task_struct *pvlock_target_task(struct pvlock_vm *vm, const struct pvlock_best *b)
{
	struct task_struct *t = NULL;

	if (b->vm == vm)	/* our own VM: its vCPUs live while we run */
		return pvlock_vcpu_task(b->pv ? b->pv->vcpu : b->vcpu);
	/* another VM: only pvlock's own references, never its struct kvm */
	spin_lock(&b->vm->lock);
	if (b->idx < b->vm->nr_tasks && b->vm->tasks[b->idx])
		t = get_task_struct(b->vm->tasks[b->idx]);
	spin_unlock(&b->vm->lock);
	return t;
}

/*
 * Yield to @b, chosen under rcu_read_lock(), which the caller holds and this
 * releases: budgets are taken and the target's thread referenced under it,
 * the yield itself (which may schedule) runs outside it, and the target is
 * found again by id to count what it received. 1: yielded; 0: the target
 * was not runnable any more; -EDQUOT: a budget refused.
 */
static int pvlock_boost(struct pvlock_vm *vm, struct pvlock_vcpu *me_pv,
			const struct pvlock_best *b, const struct pvlock_host_params *p, u64 now)
	__releases(RCU)
{
	u32 to_id = b->vm->id, to_idx = b->idx;
	bool cross = b->vm != vm;
	struct pvlock_vcpu *pv;
	struct pvlock_vm *to;
	struct task_struct *t;
	int yielded;

	if (!pvlock_budget_ok(vm, p, b->vm, now)) {
		rcu_read_unlock();
		pvlock_count(vm, me_pv, PVLOCK_HS_BUDGET_DENIED, 1);
		return -EDQUOT;
	}
	t = pvlock_target_task(vm, b);
	if (b->pv)
		WRITE_ONCE(b->pv->boosted_ns, now);
	rcu_read_unlock();
	if (!t)
		return 0;
	yielded = yield_to(t, true);
	if (yielded <= 0) {
		put_task_struct(t);
		return 0;
	}
	pvlock_count(vm, me_pv, PVLOCK_HS_BOOSTS_GIVEN, 1);
	if (cross)
		pvlock_count(vm, me_pv, PVLOCK_HS_CROSS_GIVEN, 1);
	rcu_read_lock();
	to = cross ? pvlock_vm_by_id(to_id) : vm;
	if (to) {
		pv = xa_load(&to->vcpus, to_idx);
		pvlock_count(to, pv, PVLOCK_HS_BOOSTS_RECEIVED, 1);
		if (cross)
			pvlock_count(to, pv, PVLOCK_HS_CROSS_RECEIVED, 1);
		if (pv && p->prio_boost)
			pvlock_prio_boost(pv, t, p->prio_boost, p->period_ms, now);
	}
	rcu_read_unlock();
	put_task_struct(t);
	return 1;
}

long pvlock_yield(struct pvlock_vm *vm, struct kvm_vcpu *me, u32 target, u32 flags, bool *halt)
{
	struct pvlock_vcpu *me_pv = pvlock_vcpu_of(vm, me);
	struct pvlock_best b = { .score = PVLOCK_SCORE_NONE };
	struct kvm *kvm = me->kvm;
	struct pvlock_boost_cfg cfg;
	struct pvlock_host_params p;
	u32 nr, k, start;
	u64 now = pvlock_now();
	int r;

	*halt = false;
	if (!me_pv) {
		pvlock_count(vm, NULL, PVLOCK_HS_BAD_STATE, 1);
		return -PVLOCK_ENOENT;
	}
	pvlock_count(vm, me_pv, PVLOCK_HS_YIELDS, 1);
	pvlock_vm_params(vm, &p);
	cfg.cross_vm = p.cross_vm && (READ_ONCE(vm->features) & PVLOCK_F_CROSS_VM);
	cfg.cooldown_ns = PVLOCK_BOOST_COOLDOWN_NS;
	nr = atomic_read(&kvm->online_vcpus);
	if (target != PVLOCK_CPU_NONE && target >= nr) {
		pvlock_count(vm, me_pv, PVLOCK_HS_BAD_CPU, 1);
		target = PVLOCK_CPU_NONE;
	}

	rcu_read_lock();
	/* this VM, round robin from after the last vCPU KVM boosted */
	start = (u32)(READ_ONCE(kvm->last_boosted_vcpu) + 1);
	for (k = 0; k < nr; k++) {
		u32 i = (start + k) % nr;
		struct kvm_vcpu *v = kvm_get_vcpu(kvm, i);
		struct pvlock_vcpu *pv;
		struct pvlock_cand c;

		if (!v)
			continue;
		pv = pvlock_vcpu_of(vm, v);
		if (pv && !READ_ONCE(pv->gone)) {
			pvlock_cand_pv(&c, pv);
			if (pv->cpu == target)
				c.flags |= PVLOCK_CAND_HINTED;
		} else {
			pv = NULL;
			pvlock_cand_kvm(&c, v);
		}
		c.flags |= PVLOCK_CAND_SAME_VM;
		if (v == me)
			c.flags |= PVLOCK_CAND_SELF;
		pvlock_consider(&b, &c, &cfg, now, pv ? NULL : v, pv, vm, i);
	}
	/* other VMs only if this one has nobody worth it */
	if (cfg.cross_vm && b.score < PVLOCK_SCORE_SAME_VM)
		pvlock_consider_others(&b, vm, &cfg, now, false);
	if (b.score == PVLOCK_SCORE_NONE) {
		rcu_read_unlock();
		goto none;
	}
	r = pvlock_boost(vm, me_pv, &b, &p, now);
	if (r == -EDQUOT) {
		if (flags & PVLOCK_YIELD_F_HALT) {
			*halt = true;
			pvlock_count(vm, me_pv, PVLOCK_HS_HALTS, 1);
		}
		return PVLOCK_YIELD_R_DENIED;
	}
	if (r > 0) {
		if (b.vm == vm) {
			WRITE_ONCE(kvm->last_boosted_vcpu, b.idx);
			pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_SAME_VM, 1);
			if (b.pv && (READ_ONCE(vm->features) & PVLOCK_F_YIELD_TO))
				return PVLOCK_YIELD_RET(PVLOCK_YIELD_R_SAME_VM, b.pv->cpu + 1);
			return PVLOCK_YIELD_R_SAME_VM;
		}
		pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_CROSS_VM, 1);
		return PVLOCK_YIELD_R_CROSS_VM;
	}
none:
	pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_NONE, 1);
	if (!(flags & PVLOCK_YIELD_F_HALT))
		return PVLOCK_YIELD_R_NONE;
	*halt = true;
	pvlock_count(vm, me_pv, PVLOCK_HS_HALTS, 1);
	return PVLOCK_YIELD_R_HALTED;
}

void pvlock_on_spin(struct kvm_vcpu *me, bool yield_to_kernel_mode)
{
	struct pvlock_vm *vm = pvlock_vm_get(me);
	struct pvlock_best b = { .score = PVLOCK_SCORE_NONE };
	struct pvlock_vcpu *me_pv = NULL;
	struct pvlock_boost_cfg cfg;
	struct pvlock_host_params p;
	u64 now = pvlock_now();

	if (!vm)
		goto kvm;
	me_pv = pvlock_vcpu_of(vm, me);
	pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN, 1);
	pvlock_vm_params(vm, &p);
	cfg.cross_vm = p.cross_vm;
	cfg.cooldown_ns = PVLOCK_BOOST_COOLDOWN_NS;

	rcu_read_lock();
	if (atomic_read(&vm->nr_registered)) {
		struct pvlock_vcpu *pv;
		unsigned long i;

		xa_for_each(&vm->vcpus, i, pv) {
			struct pvlock_cand c;

			if (READ_ONCE(pv->gone))
				continue;
			pvlock_cand_pv(&c, pv);
			if (!(c.flags & PVLOCK_CAND_IN_ECS))
				continue;
			c.flags |= PVLOCK_CAND_SAME_VM;
			if (pv->vcpu == me)
				c.flags |= PVLOCK_CAND_SELF;
			/* KVM's rule: a vCPU in a PLE loop itself is not a holder */
			if (READ_ONCE(pv->vcpu->spin_loop.in_spin_loop))
				c.flags |= PVLOCK_CAND_WAITING;
			pvlock_consider(&b, &c, &cfg, now, NULL, pv, vm, pv->idx);
		}
	}
	if (cfg.cross_vm && b.score < PVLOCK_SCORE_SAME_VM)
		pvlock_consider_others(&b, vm, &cfg, now, true);
	if (b.score == PVLOCK_SCORE_NONE) {
		rcu_read_unlock();
		goto kvm;
	}
	if (pvlock_boost(vm, me_pv, &b, &p, now) <= 0)
		goto kvm;
	pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN_BOOSTS, 1);
	if (b.vm == vm)
		WRITE_ONCE(me->kvm->last_boosted_vcpu, b.idx);
	/* as at the end of KVM's loop: not eligible during its next spin */
	me->spin_loop.dy_eligible = false;
	return;
kvm:
	pvlock_kvm.vcpu_on_spin(me, yield_to_kernel_mode);
}
