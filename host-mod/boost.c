// SPDX-License-Identifier: GPL-2.0
/*
 * Who gets a waiting vCPU's time. Both entries, pvlock's yield hypercall
 * and PLE exits (kvm_vcpu_on_spin), describe their candidates as struct
 * pvlock_cand and let include/pvlock/boost.h choose (pvlock_pick_offer(),
 * the same policy the unit tests and the simulator run); they differ only in
 * what they offer:
 *
 *   yield:   every vCPU of the waiter's VM (registered ones with their eCS
 *            state at their last preemption and whether they waited
 *            themselves, the others with what KVM knows) and, when both
 *            VMs opted into cross-VM boosting, vCPUs of other VMs from the
 *            cross-VM board; the waiter may name whom it waits behind.
 *            Nothing worth a yield: halt, as the HLT it replaces would.
 *   on_spin: only for VMs that opted into cross-VM boosting (hooks.c): the
 *            registered vCPUs of this VM preempted inside an eCS, then the
 *            board; when there is none, KVM's own loop runs unchanged.
 *
 * The cross-VM board. Other VMs are never walked: a registered vCPU of a VM
 * that receives cross-VM boosts puts itself on a small host-wide board when
 * it is preempted inside a critical section (its notifier, at sched-out)
 * and takes itself off when it runs again. A waiter looks at the board's
 * PVLOCK_BOARD_SLOTS entries, and only when its own budgets have a cross-VM
 * boost left: the cost of a PLE exit or a yield does not grow with the
 * number of VMs on the host.
 *
 * Every boost is a directed yield of the waiter's own time slice
 * (yield_to()), within the per-VM token buckets of include/pvlock/budget.h,
 * taken all or none (giver's boosts, giver's cross-VM boosts given,
 * receiver's cross-VM boosts received). Only the operator can add a priority
 * boost (PVLOCK_P_PRIO_BOOST, capped, nice only, at most
 * PVLOCK_PRIO_SHARE_PCT of each period per VM); a guest's request never
 * raises one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kvm_host.h>
#include <linux/sched.h>

#include <pvlock/boost.h>

#include "compat.h"
#include "pvlock_host.h"

/* "boosted recently": a vCPU yielded to within this window ranks lower */
#define PVLOCK_BOOST_COOLDOWN_NS	(1 * NSEC_PER_MSEC)

/* shorter priority boosts are not worth two set_user_nice() calls */
#define PVLOCK_PRIO_MIN_NS		(1 * NSEC_PER_MSEC)

/* ---- the cross-VM board ------------------------------------------------- */

#define PVLOCK_BOARD_BITS	4
#define PVLOCK_BOARD_SLOTS	(1 << PVLOCK_BOARD_BITS)

static struct pvlock_vcpu __rcu *pvlock_board[PVLOCK_BOARD_SLOTS];

/*
 * Sched-out of a registered vCPU (owning thread, atomic): on the board if
 * it may receive cross-VM boosts and looks worth one (preempted in kernel
 * mode inside a critical section, not waiting itself). A full neighbourhood
 * leaves it off: the board is a sample, not a list.
 */
void pvlock_board_publish(struct pvlock_vcpu *pv)
{
	unsigned int h, k;

	if (pv->board || !pv->in_ecs || pv->waiting || !pv->in_kernel ||
	    READ_ONCE(pv->gone) || !pvlock_vm_cross(pv->vm))
		return;
	h = hash_ptr(pv, PVLOCK_BOARD_BITS);
	for (k = 0; k < 2; k++) {
		unsigned int slot = (h + k) % PVLOCK_BOARD_SLOTS;

		if (!cmpxchg((struct pvlock_vcpu **)&pvlock_board[slot], NULL, pv)) {
			pv->board = slot + 1;
			return;
		}
	}
}

/* Sched-in, or its notifier leaves: off the board. Owning thread. */
void pvlock_board_retract(struct pvlock_vcpu *pv)
{
	if (!pv->board)
		return;
	cmpxchg((struct pvlock_vcpu **)&pvlock_board[pv->board - 1], pv, NULL);
	pv->board = 0;
}

/* Before @pv is freed (after a grace period): off every slot. Any context. */
void pvlock_board_retract_all(struct pvlock_vcpu *pv)
{
	unsigned int slot;

	for (slot = 0; slot < PVLOCK_BOARD_SLOTS; slot++)
		cmpxchg((struct pvlock_vcpu **)&pvlock_board[slot], pv, NULL);
}

/* ---- candidates --------------------------------------------------------- */

/* What a waiter may yield to, and then how to find it again. */
struct pvlock_target {
	struct pvlock_vm *vm;		/* NULL: none */
	struct pvlock_vcpu *pv;		/* registered (same VM or another) */
	struct kvm_vcpu *vcpu;		/* same VM */
	u32 idx;
};

/* A registered vCPU as it was at its last preemption. */
static void pvlock_cand_pv(struct pvlock_cand *c, const struct pvlock_vcpu *pv)
{
	u8 st = READ_ONCE(pv->state);

	c->flags = 0;
	if (st == PVLOCK_VS_PREEMPTED)
		c->flags |= PVLOCK_CAND_PREEMPTED;
	else if (st == PVLOCK_VS_BLOCKED)
		c->flags |= PVLOCK_CAND_BLOCKED;
	if (pv->ecs_kind != PVLOCK_ECS_NONE) {
		c->flags |= PVLOCK_CAND_ECS_KNOWN;
		if (READ_ONCE(pv->in_ecs))
			c->flags |= PVLOCK_CAND_IN_ECS;
	}
	if (READ_ONCE(pv->waiting))
		c->flags |= PVLOCK_CAND_WAITING;
	c->preempted_ns = READ_ONCE(pv->out_ns);
	c->boosted_ns = READ_ONCE(pv->boosted_ns);
}

/* KVM's view of a vCPU of the caller's own VM (its own threads: it lives). */
static bool pvlock_kvm_ok(struct kvm_vcpu *v, bool yield_to_kernel_mode)
{
	struct pvlock_kvm_view kv = {
		.ready = READ_ONCE(v->ready),
		.preempted = READ_ONCE(v->preempted),
		.blocking = kvm_vcpu_is_blocking(v),
		/* a halted vCPU with a wake-up pending: pvlock never picks halted ones */
		.dy_runnable = false,
		.in_kernel = v->arch.guest_state_protected ||
			     READ_ONCE(v->arch.preempted_in_kernel),
		.in_spin_loop = READ_ONCE(v->spin_loop.in_spin_loop),
		.dy_eligible = READ_ONCE(v->spin_loop.dy_eligible),
	};

	return pvlock_kvm_eligible(&kv, yield_to_kernel_mode);
}

/*
 * The waiter's own VM, round robin from after the vCPU KVM boosted last.
 * @ecs_only: only registered vCPUs preempted inside an eCS (a PLE exit:
 * everything else is what KVM's own loop does).
 */
static void pvlock_offer_same_vm(struct pvlock_pick *pick, struct pvlock_target *t,
				 struct pvlock_vm *vm, struct kvm_vcpu *me, u32 hint,
				 bool ytkm, bool ecs_only, const struct pvlock_boost_cfg *cfg,
				 u64 now)
{
	struct kvm *kvm = me->kvm;
	u32 nr = atomic_read(&kvm->online_vcpus), k, start;

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
			if (pv->cpu == hint)
				c.flags |= PVLOCK_CAND_HINTED;
		} else {
			pv = NULL;
			c = (struct pvlock_cand){ 0 };
			if (READ_ONCE(v->ready) && READ_ONCE(v->preempted))
				c.flags |= PVLOCK_CAND_PREEMPTED;
			if (kvm_vcpu_is_blocking(v))
				c.flags |= PVLOCK_CAND_BLOCKED;
			/* a vCPU in a PLE loop itself is a waiter, not a holder */
			if (READ_ONCE(v->spin_loop.in_spin_loop))
				c.flags |= PVLOCK_CAND_WAITING;
		}
		if (ecs_only && !(c.flags & PVLOCK_CAND_IN_ECS))
			continue;
		if (pvlock_kvm_ok(v, ytkm))
			c.flags |= PVLOCK_CAND_KVM_OK;
		c.flags |= PVLOCK_CAND_SAME_VM;
		if (v == me)
			c.flags |= PVLOCK_CAND_SELF;
		if (pvlock_pick_offer(pick, &c, (int)i, cfg, now))
			*t = (struct pvlock_target){ .vm = vm, .pv = pv, .vcpu = pv ? NULL : v,
						     .idx = i };
	}
}

/* Can @vm afford a cross-VM boost now? A test only: nothing is taken. */
static bool pvlock_cross_affordable(struct pvlock_vm *vm, const struct pvlock_host_params *p,
				    u64 now)
{
	struct pvlock_budget_cfg bc = { .per_period = p->budget, .period_ms = p->period_ms };
	struct pvlock_budget_cfg xc = { .per_period = p->cross_budget, .period_ms = p->period_ms };
	bool ok;

	spin_lock(&vm->lock);
	ok = pvlock_budget_peek(&vm->boost, &bc, now) && pvlock_budget_peek(&vm->cross_out, &xc, now);
	spin_unlock(&vm->lock);
	return ok;
}

/*
 * Other VMs: the board only, PVLOCK_BOARD_SLOTS entries at most. Their
 * struct kvm_vcpu belongs to other VMs' threads and is never touched: what
 * KVM would check (kernel mode) comes from pvlock's own sched-out snapshot.
 * Caller holds rcu_read_lock().
 */
static void pvlock_offer_board(struct pvlock_pick *pick, struct pvlock_target *t,
			       struct pvlock_vm *self, bool ytkm,
			       const struct pvlock_boost_cfg *cfg, u64 now)
{
	unsigned int slot;

	for (slot = 0; slot < PVLOCK_BOARD_SLOTS; slot++) {
		struct pvlock_vcpu *pv = rcu_dereference(pvlock_board[slot]);
		struct pvlock_cand c;

		if (!pv || pv->vm == self || READ_ONCE(pv->gone) || READ_ONCE(pv->vm->dead) ||
		    !pvlock_vm_cross(pv->vm))
			continue;
		pvlock_cand_pv(&c, pv);
		if (!ytkm || READ_ONCE(pv->in_kernel))
			c.flags |= PVLOCK_CAND_KVM_OK;
		if (pvlock_pick_offer(pick, &c, PVLOCK_BOARD_SLOTS + slot, cfg, now))
			*t = (struct pvlock_target){ .vm = pv->vm, .pv = pv, .idx = pv->idx };
	}
}

/* ---- budgets and the boost ---------------------------------------------- */

/*
 * Budgets for a boost from @vm to @to, all or none (budget.h): the giver's
 * boosts, and across VMs its cross-VM boosts given and the receiver's
 * received. Both VMs' locks, in address order. Caller holds rcu_read_lock().
 */
static bool pvlock_budget_ok(struct pvlock_vm *vm, const struct pvlock_host_params *p,
			     struct pvlock_vm *to, u64 now)
{
	struct pvlock_budget_cfg bc = { .per_period = p->budget, .period_ms = p->period_ms };
	struct pvlock_budget_cfg xc = { .per_period = p->cross_budget, .period_ms = p->period_ms };
	struct pvlock_budget_cfg rc;
	struct pvlock_host_params tp;
	struct pvlock_vm *first, *second;
	bool ok;

	if (to == vm) {
		spin_lock(&vm->lock);
		ok = pvlock_budget_take(&vm->boost, &bc, now);
		spin_unlock(&vm->lock);
		return ok;
	}
	pvlock_vm_params(to, &tp);
	rc = (struct pvlock_budget_cfg){ .per_period = tp.cross_budget, .period_ms = p->period_ms };
	{
		struct pvlock_budget *const b[] = { &vm->boost, &vm->cross_out, &to->cross_in };
		const struct pvlock_budget_cfg *const cfg[] = { &bc, &xc, &rc };

		first = vm < to ? vm : to;
		second = vm < to ? to : vm;
		spin_lock(&first->lock);
		spin_lock_nested(&second->lock, SINGLE_DEPTH_NESTING);
		ok = pvlock_budget_take_all(b, cfg, ARRAY_SIZE(b), now);
		spin_unlock(&second->lock);
		spin_unlock(&first->lock);
	}
	return ok;
}

/* Undo an expired (or, with @force, any) priority boost; vm->lock held or exclusive. */
void pvlock_prio_restore(struct pvlock_vcpu *pv, u64 now, bool force)
{
	u64 used;

	if (!pv->prio_boosted || (!force && now < pv->prio_until_ns))
		return;
	set_user_nice(pv->prio_task, pv->saved_nice);
	put_task_struct(pv->prio_task);
	used = now > pv->prio_start_ns ? now - pv->prio_start_ns : 0;
	pvlock_prio_settle(&pv->vm->prio, pv->prio_granted_ns, used);
	pvlock_count(pv->vm, pv, PVLOCK_HS_PRIO_NS, used);
	pv->prio_task = NULL;
	pv->prio_boosted = false;
}

/*
 * Operator-enabled, capped priority boost of @t, the thread of registered
 * vCPU @pv, for as long as its VM's share of the period allows (at most one
 * period); not renewed while it lasts. Caller holds rcu_read_lock().
 */
static void pvlock_prio_boost(struct pvlock_vcpu *pv, struct task_struct *t, u32 boost,
			      u32 period_ms, u64 now)
{
	struct pvlock_vm *vm = pv->vm;
	u64 g = 0;

	spin_lock(&vm->lock);
	if (!pv->prio_boosted && !pv->gone) {
		g = pvlock_prio_grant(&vm->prio, period_ms, now, (u64)period_ms * NSEC_PER_MSEC,
				      PVLOCK_PRIO_MIN_NS);
		if (g) {
			pv->saved_nice = task_nice(t);
			set_user_nice(t, max_t(long, MIN_NICE, pv->saved_nice - boost));
			pv->prio_task = get_task_struct(t);
			pv->prio_boosted = true;
			pv->prio_start_ns = now;
			pv->prio_granted_ns = g;
			pv->prio_until_ns = now + g;
			pvlock_count(vm, pv, PVLOCK_HS_PRIO_BOOSTS, 1);
		} else {
			pvlock_count(vm, pv, PVLOCK_HS_PRIO_DENIED, 1);
		}
	}
	spin_unlock(&vm->lock);
	if (g)
		pvlock_host_prio_timer(now + g);
}

/* Every expired priority boost on the host (the worker). */
void pvlock_prio_expire(u64 now)
{
	struct pvlock_vcpu *pv;
	struct pvlock_vm *vm;
	unsigned long i;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		spin_lock(&vm->lock);
		xa_for_each(&vm->vcpus, i, pv)
			pvlock_prio_restore(pv, now, false);
		spin_unlock(&vm->lock);
	}
	rcu_read_unlock();
}

/* The thread running @t's choice, referenced. Caller holds rcu_read_lock(). */
static struct task_struct *pvlock_target_task(struct pvlock_vm *vm, const struct pvlock_target *t)
{
	struct task_struct *task = NULL;

	if (t->vm == vm)	/* our own VM: its vCPUs live while we run */
		return pvlock_vcpu_task(t->pv ? t->pv->vcpu : t->vcpu);
	/* another VM: only pvlock's own references, never its struct kvm */
	spin_lock(&t->vm->lock);
	if (t->pv->task)
		task = get_task_struct(t->pv->task);
	spin_unlock(&t->vm->lock);
	return task;
}

/*
 * Yield to @t, chosen under rcu_read_lock(), which the caller holds and this
 * releases: budgets are taken and the target's thread referenced under it,
 * the yield itself (which may schedule) runs outside it, and the target is
 * found again by id to count what it received. *@t_end is when the choice
 * was over (the hook's own cost ends there). 1: yielded; 0: the target was
 * not runnable any more; -EDQUOT: a budget refused.
 *
 * A yield the scheduler accepted is a request, not a hand-over: yield_to()
 * marks the target to run next and reschedules, and the scheduler may still
 * pick another task (EEVDF takes the marked one only while it is eligible,
 * that is, not ahead of its fair share). yield_to() returns after the giver
 * has been through schedule(), so a registered target scheduled in since the
 * choice ran before the giver came back: PVLOCK_HS_BOOSTS_RAN.
 */
static int pvlock_boost(struct pvlock_vm *vm, struct pvlock_vcpu *me_pv,
			const struct pvlock_target *t, const struct pvlock_host_params *p, u64 now,
			u64 *t_end)
	__releases(RCU)
{
	u32 to_id = t->vm->id, to_idx = t->idx;
	bool cross = t->vm != vm;
	struct pvlock_vcpu *pv, *t_pv = t->pv;
	struct pvlock_vm *to;
	struct task_struct *task;
	u32 ins = 0;
	int yielded;

	if (!pvlock_budget_ok(vm, p, t->vm, now)) {
		rcu_read_unlock();
		*t_end = pvlock_now();
		pvlock_count(vm, me_pv, PVLOCK_HS_BUDGET_DENIED, 1);
		return -EDQUOT;
	}
	task = pvlock_target_task(vm, t);
	if (t_pv) {
		WRITE_ONCE(t_pv->boosted_ns, now);
		ins = READ_ONCE(t_pv->sched_ins);
	}
	rcu_read_unlock();
	*t_end = pvlock_now();
	if (!task)
		return 0;
	yielded = yield_to(task, true);
	if (yielded <= 0) {
		put_task_struct(task);
		return 0;
	}
	pvlock_count(vm, me_pv, PVLOCK_HS_BOOSTS_GIVEN, 1);
	if (cross)
		pvlock_count(vm, me_pv, PVLOCK_HS_CROSS_GIVEN, 1);
	rcu_read_lock();
	to = cross ? pvlock_vm_by_id(to_id) : vm;
	if (to) {
		pv = xa_load(&to->vcpus, to_idx);
		/* the same registration (compared as a pointer only) scheduled in since */
		if (t_pv && pv == t_pv && READ_ONCE(pv->sched_ins) != ins)
			pvlock_count(vm, me_pv, PVLOCK_HS_BOOSTS_RAN, 1);
		pvlock_count(to, pv, PVLOCK_HS_BOOSTS_RECEIVED, 1);
		if (cross)
			pvlock_count(to, pv, PVLOCK_HS_CROSS_RECEIVED, 1);
		if (pv && p->prio_boost)
			pvlock_prio_boost(pv, task, p->prio_boost, p->period_ms, pvlock_now());
	}
	rcu_read_unlock();
	put_task_struct(task);
	return 1;
}

/*
 * The choice for @me, under rcu_read_lock() (held on return): this VM
 * first, then, if it has nobody worth it and both ends opted in and the
 * budgets have a cross-VM boost left, the board.
 */
static void pvlock_choose(struct pvlock_pick *pick, struct pvlock_target *t, struct pvlock_vm *vm,
			  struct kvm_vcpu *me, u32 hint, bool ytkm, bool ecs_only,
			  const struct pvlock_host_params *p, u64 now)
{
	struct pvlock_boost_cfg cfg = {
		.cross_vm = pvlock_vm_cross(vm),
		.cooldown_ns = PVLOCK_BOOST_COOLDOWN_NS,
	};

	pvlock_pick_init(pick);
	*t = (struct pvlock_target){ 0 };
	rcu_read_lock();
	pvlock_offer_same_vm(pick, t, vm, me, hint, ytkm, ecs_only, &cfg, now);
	if (cfg.cross_vm && pick->score < PVLOCK_SCORE_SAME_VM &&
	    pvlock_cross_affordable(vm, p, now))
		pvlock_offer_board(pick, t, vm, ytkm, &cfg, now);
}

/*
 * PVLOCK_HC_YIELD. @t0: when the hypercall handler started, for the hook's
 * cost (PVLOCK_HS_HC_NS: up to the yield or halt, not including it).
 */
long pvlock_yield(struct pvlock_vm *vm, struct kvm_vcpu *me, u32 target, u32 flags, bool *halt,
		  u64 t0)
{
	struct pvlock_vcpu *me_pv = pvlock_vcpu_of(vm, me);
	struct pvlock_host_params p;
	struct pvlock_target t;
	struct pvlock_pick pick;
	u64 now = pvlock_now(), t_end;
	long ret;
	u32 nr, to_cpu1;
	int r;

	*halt = false;
	if (!me_pv) {
		pvlock_count(vm, NULL, PVLOCK_HS_BAD_STATE, 1);
		return -PVLOCK_ENOENT;
	}
	pvlock_count(vm, me_pv, PVLOCK_HS_YIELDS, 1);
	ret = pvlock_vcpu_revalidate(vm, me_pv);
	if (ret)
		return ret;	/* the record left guest memory: unregistered */
	pvlock_vm_params(vm, &p);
	nr = atomic_read(&me->kvm->online_vcpus);
	if (target != PVLOCK_CPU_NONE && target >= nr) {
		pvlock_count(vm, me_pv, PVLOCK_HS_BAD_CPU, 1);
		target = PVLOCK_CPU_NONE;
	}

	/* the yield hypercall comes from CPL 0 only: KVM's in-kernel rule applies */
	pvlock_choose(&pick, &t, vm, me, target, true, false, &p, now);
	if (pick.best < 0) {
		rcu_read_unlock();
		t_end = pvlock_now();
		r = 0;
		goto none;
	}
	/* read under RCU: the target's record may go once pvlock_boost() drops it */
	to_cpu1 = t.pv ? READ_ONCE(t.pv->cpu) + 1 : 0;
	r = pvlock_boost(vm, me_pv, &t, &p, now, &t_end);
	if (r == -EDQUOT) {
		ret = PVLOCK_YIELD_R_DENIED;
		if (flags & PVLOCK_YIELD_F_HALT) {
			*halt = true;
			pvlock_count(vm, me_pv, PVLOCK_HS_HALTS, 1);
		}
		goto out;
	}
	if (r > 0) {
		if (t.vm == vm) {
			WRITE_ONCE(me->kvm->last_boosted_vcpu, t.idx);
			pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_SAME_VM, 1);
			ret = PVLOCK_YIELD_R_SAME_VM;
			/* the guest CPU yielded to, for a guest that asked (PVLOCK_F_YIELD_TO) */
			if (to_cpu1 && (READ_ONCE(vm->features) & PVLOCK_F_YIELD_TO))
				ret = PVLOCK_YIELD_RET(PVLOCK_YIELD_R_SAME_VM, to_cpu1);
		} else {
			pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_CROSS_VM, 1);
			ret = PVLOCK_YIELD_R_CROSS_VM;
		}
		goto out;
	}
none:
	pvlock_count(vm, me_pv, PVLOCK_HS_YIELD_NONE, 1);
	ret = PVLOCK_YIELD_R_NONE;
	if (flags & PVLOCK_YIELD_F_HALT) {
		*halt = true;
		pvlock_count(vm, me_pv, PVLOCK_HS_HALTS, 1);
		ret = PVLOCK_YIELD_R_HALTED;
	}
out:
	pvlock_count(vm, me_pv, PVLOCK_HS_HC_NS, t_end > t0 ? t_end - t0 : 0);
	return ret;
}

/*
 * A PLE exit of a VM that opted in (hooks.c redirects no other). KVM's
 * rules for the spinner: it is in a spin loop while this runs (others'
 * choices skip it), and after a yield it is not eligible during its next
 * spin; with nothing better, KVM's own loop runs, which does both itself.
 */
void pvlock_on_spin(struct kvm_vcpu *me, bool yield_to_kernel_mode)
{
	struct pvlock_vm *vm = pvlock_vm_find(me->kvm);
	struct pvlock_vcpu *me_pv = NULL;
	struct pvlock_host_params p;
	struct pvlock_target t;
	struct pvlock_pick pick;
	u64 t0 = pvlock_now(), t_end = t0;

	if (!vm)
		goto kvm;
	me_pv = pvlock_vcpu_of(vm, me);
	pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN, 1);
	pvlock_vm_params(vm, &p);
	kvm_vcpu_set_in_spin_loop(me, true);
	pvlock_choose(&pick, &t, vm, me, PVLOCK_CPU_NONE, yield_to_kernel_mode, true, &p, t0);
	if (pick.best < 0) {
		rcu_read_unlock();
		t_end = pvlock_now();
		goto kvm;
	}
	if (pvlock_boost(vm, me_pv, &t, &p, t0, &t_end) <= 0)
		goto kvm;
	pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN_BOOSTS, 1);
	pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN_NS, t_end - t0);
	if (t.vm == vm)
		WRITE_ONCE(me->kvm->last_boosted_vcpu, t.idx);
	kvm_vcpu_set_in_spin_loop(me, false);
	kvm_vcpu_set_dy_eligible(me, false);
	return;
kvm:
	kvm_vcpu_set_in_spin_loop(me, false);
	if (vm) {
		pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN_KVM, 1);
		pvlock_count(vm, me_pv, PVLOCK_HS_ON_SPIN_NS, t_end - t0);
	}
	pvlock_kvm.vcpu_on_spin(me, yield_to_kernel_mode);
}
