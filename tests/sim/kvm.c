// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of the lock protocols: KVM's halt, kick, PLE and
 * preempt-notifier paths in linux-source-6.12, the changes qspinlock+ and
 * eCS made to them, and pvlock_host + pvlockd built on include/pvlock/.
 *
 * Stock 6.12:
 *  - sched out/in (virt/kvm/kvm_main.c:kvm_sched_out/kvm_sched_in): a vCPU
 *    descheduled while runnable gets vcpu->preempted = vcpu->ready = true,
 *    and arch/x86/kvm/x86.c:kvm_arch_vcpu_put() records
 *    preempted_in_kernel (CPL 0) and sets steal_time.preempted (what the
 *    guest's vcpu_is_preempted() reads). Scheduling in clears preempted and
 *    ready; svm.c:svm_vcpu_load() resets the pause filter count to its base
 *    after a scheduled-out period (shrink modifier 0).
 *  - HLT: x86.c:__kvm_emulate_halt() does not halt when an event is pending,
 *    e.g. pv_unhalted from an earlier kick (x86.c:kvm_vcpu_has_events);
 *    kvm_main.c:kvm_vcpu_halt() polls up to vcpu->halt_poll_ns while the
 *    vCPU thread is the only runnable task (kvm_vcpu_can_poll:
 *    single_task_running) and then blocks (kvm_vcpu_block); afterwards the
 *    poll time grows (x2, from halt_poll_ns_grow_start 10 us) after a short
 *    halt, shrinks (/2, to 0 under 10 us) after one longer than
 *    halt_poll_ns (200 us on x86), grow_halt_poll_ns/shrink_halt_poll_ns.
 *    When the vCPU runs again x86.c:vcpu_block() clears pv_unhalted.
 *  - KVM_HC_KICK_CPU (x86.c:kvm_emulate_hypercall): kvm_pv_kick_cpu_op()
 *    delivers APIC_DM_REMRD (lapic.c:__apic_accept_irq: pv_unhalted = 1,
 *    KVM_REQ_EVENT, kvm_vcpu_kick -> kvm_vcpu_wake_up: ready = true), then
 *    x86.c:kvm_sched_yield(): no yield if the kicker's pCPU runs a single
 *    task, if the target is not vcpu->ready, or is the kicker; else
 *    kvm_vcpu_yield_to(target) -> yield_to() (sched.c).
 *  - PLE (svm.c:pause_interception): the pause filter count starts at 3000
 *    (KVM_SVM_DEFAULT_PLE_WINDOW), doubles per exit up to 65535
 *    (grow_ple_window, KVM_SVM_DEFAULT_PLE_WINDOW_MAX), is reloaded at every
 *    VMRUN; the exit calls kvm_vcpu_on_spin(me, in_kernel = CPL 0).
 *    kvm_main.c:kvm_vcpu_on_spin(): in_spin_loop = true; two passes over
 *    the VM's vCPUs starting after kvm->last_boosted_vcpu (round robin);
 *    skip !vcpu->ready, me, blocking ones that are not dy_runnable
 *    (x86.c:kvm_arch_dy_runnable: pv_unhalted or a pending event);
 *    skip a preempted vCPU that was not preempted in kernel mode when the
 *    spinner is in kernel mode (unless an interrupt is pending); skip it
 *    unless kvm_vcpu_eligible_for_directed_yield() (!in_spin_loop ||
 *    dy_eligible, toggling dy_eligible of vCPUs inside their own on_spin);
 *    yield_to it; > 0: remember it as last_boosted_vcpu, stop; < 0: up to
 *    3 failures. Then in_spin_loop = false, dy_eligible = false.
 *
 * qspinlock+ (oslab-swrc/Opportunistic-Spinlock qspinlockplus.patch, 4.9.26):
 *  - guest kvm_kick_cpu() passes the kicked CPU number in a0; host
 *    kvm_pv_kick_cpu_op() sets the kicked vCPU's thread to SCHED_RR
 *    priority 50 (MAX_RT_PRIO / 2), delivers the wake-up, clears its
 *    halted_vcpu flag, and sets the kicker back to SCHED_NORMAL; it does
 *    not yield (4.9 had no kvm_sched_yield).
 *  - guest kvm_wait() issues KVM_HC_HALT_CPU instead of HLT; host
 *    kvm_pv_halt_cpu_op(): halted_vcpu = true, then kvm_vcpu_spin_halt():
 *    two round-robin passes from the caller's own last_boosted_vcpu; if
 *    the pCPU runs a single task, return at once without halting; skip
 *    itself, !preempted, halted_vcpu, blocked-not-runnable; yield_to();
 *    success returns to the guest (no halt); up to MAX_YIELD_TRIES = 3
 *    failures; nothing: kvm_vcpu_halt(). Its cross-VM co-yield is #if 0.
 *  MODEL: the RT boost has no throttling and no expiry, as published.
 *
 * eCS (sslab-gatech/eCS eCS.patch, 4.13):
 *  - the guest publishes a count of critical sections (spinlock holders
 *    and waiters, rwlocks, mutexes, rwsems, RCU readers, irq context) in
 *    kvm_steal_time; here: the vCPU is in an eCS when it holds or waits for
 *    a lock or runs the non-preemptible part of its think time.
 *  - kvm_vcpu_on_spin() first scans all vCPUs from 0 for one that is
 *    preempted, not blocked, and in an eCS (kvm_vcpu_vcs_check) and yields
 *    to the first; only then the stock loop.
 *  - the tick preemption is skipped on alternate ticks in an eCS (sched.c).
 *  MODEL: on the 6.12 base, so the kick still yields (kvm_sched_yield).
 *
 * pvlock (this project; the host module follows include/pvlock/):
 *  - PVLOCK_HC_YIELD(target, HALT) and PLE exits ask pvlock_boost_pick()
 *    (boost.h) over every preempted vCPU: flags from the records (waiting,
 *    eCS = preempted with a non-zero preempt count), HINTED = the named CPU
 *    (hypercall argument, or the spinner's record wait_target at a PLE
 *    exit), KVM_OK = KVM's own rules (in-kernel if preempted, dy_eligible),
 *    same VM first, cross-VM when enabled. A boost costs one token of the
 *    asking VM's budget (budget.h), a cross-VM one also a token of both
 *    VMs' cross budgets. No candidate or no token: halt as HLT would.
 *  - pvlockd (tune.h) every tuning period: per VM the LHP count (eCS and
 *    waiter preemptions), budget refusals and the host's overcommit give
 *    the VM's spin-threshold hint (written to its records) and budget.
 */
#include <string.h>

#include "sim.h"

bool guest_in_kernel(const struct sim_vcpu *v)
{
	return v->gp != G_THINK || v->think_left <= v->think_kern;
}

/* preempt_count != 0: holding or waiting for a spinlock, or the
 * non-preemptible tail of the think time */
bool guest_in_ecs(const struct sim_vcpu *v)
{
	if (v->gp == G_IDLE)
		return false;
	return v->gp != G_THINK || v->think_left <= v->think_ecs;
}

static void vcpu_exit(struct sim *s, struct sim_vcpu *v, u64 ns)
{
	v->ovh_left += ns;
	v->resume = true;
	v->ple_ns = 0;		/* VMRUN reloads the pause filter counter */
	vcpu_arm(s, v);
}

void kvm_init_vm(struct sim *s, struct sim_vm *vm)
{
	vm->last_boosted = 0;
	vm->bcfg.per_period = s->p.budget;
	vm->bcfg.period_ms = s->p.budget_period_ms;
	vm->xcfg.per_period = s->p.cross_budget;
	vm->xcfg.period_ms = s->p.budget_period_ms;
	pvlock_budget_init(&vm->bud, &vm->bcfg, 0);
	pvlock_budget_init(&vm->xbud, &vm->xcfg, 0);
	vm->tst.threshold = 0;
	vm->tst.budget = s->p.budget;
	vm->budget_peak = s->p.budget;
	vm->hint = 0;
}

void kvm_sched_out(struct sim *s, struct sim_vcpu *v, enum why_desched why)
{
	struct sim_vm_stats *st = vst(s, v);

	v->scheduled_out = true;
	v->desched_at = s->now;
	if (why == DS_BLOCK)
		return;
	v->preempted = true;
	v->ready = true;
	v->preempted_in_kernel = guest_in_kernel(v);
	if (why == DS_PREEMPT) {
		if (v->gp == G_CS)
			st->lhp++;
		else if (v->gp == G_SLOW && !v->waiting)
			st->lwp++;
		else if (guest_in_ecs(v))
			st->ecs_preempt++;
	}
	if (s->pol->early_preempted)
		guest_notify_prev_changed(s, v);
}

void kvm_sched_in(struct sim *s, struct sim_vcpu *v)
{
	if (v->gp == G_CS && v->preempted)
		vst(s, v)->lhp_ns += s->now - v->desched_at;
	if (v->scheduled_out)
		v->ple_window = s->p.ple_window;
	v->scheduled_out = false;
	v->preempted = false;
	v->ready = false;
	v->in_spin_loop = false;	/* kvm_vcpu_on_spin() returns from its yield */
	v->dy_eligible = false;
	v->resume = true;
	v->ple_ns = 0;
}

static void halt_adapt(struct sim *s, struct sim_vcpu *v)
{
	u64 halt_ns = s->now - v->halt_start;
	u64 max = s->p.halt_poll_max_ns;

	if (!max) {
		v->halt_poll_ns = 0;
		return;
	}
	if (halt_ns <= v->halt_poll_ns)
		return;
	if (v->halt_poll_ns && halt_ns > max) {
		v->halt_poll_ns /= 2;
		if (v->halt_poll_ns < 10000)
			v->halt_poll_ns = 0;
	} else if (v->halt_poll_ns < max && halt_ns < max) {
		v->halt_poll_ns = pvlock_min_u64(v->halt_poll_ns * 2 < 10000 ? 10000 :
						 v->halt_poll_ns * 2, max);
	}
}

/* HLT (or a hypercall that halts "exactly as HLT would") */
void kvm_halt(struct sim *s, struct sim_vcpu *v)
{
	if (v->gp == G_IDLE)
		vst(s, v)->idle_halts++;
	else
		vst(s, v)->halts++;
	if (v->pv_unhalted) {
		v->pv_unhalted = false;
		vcpu_exit(s, v, s->p.exit_ns);
		return;
	}
	v->halt_start = s->now;
	if (v->halt_poll_ns > s->p.halt_poll_max_ns)
		v->halt_poll_ns = s->p.halt_poll_max_ns;
	if (v->halt_poll_ns && sched_single_task(s, v)) {
		v->polling = true;
		v->poll_until = s->now + v->halt_poll_ns;
		vcpu_arm(s, v);
		return;
	}
	v->ovh_left += s->p.exit_ns;
	sched_block(s, v);
}

/* the halt-polling loop gave up (timeout or another task runnable) */
void kvm_poll_end(struct sim *s, struct sim_vcpu *v)
{
	vcpu_sync(s, v);
	v->polling = false;
	v->ovh_left += s->p.exit_ns;
	sched_block(s, v);
}

/* kvm_vcpu_kick() -> kvm_vcpu_wake_up() */
void kvm_wake(struct sim *s, struct sim_vcpu *v)
{
	if (v->polling) {
		vcpu_sync(s, v);
		v->polling = false;
		halt_adapt(s, v);
		v->pv_unhalted = false;
		vcpu_exit(s, v, s->p.exit_ns);
		return;
	}
	if (v->hs != H_BLOCKED)
		return;
	halt_adapt(s, v);
	v->pv_unhalted = false;
	v->ready = true;
	v->preempted = false;
	sched_wake(s, v);
}

/* ---- pvlock_host -------------------------------------------------------- */

static void budget_check(struct sim *s, struct sim_vm *vm)
{
	u64 period = (u64)s->p.budget_period_ms * NSEC_PER_MSEC;

	if (s->now - vm->boost_win[0] >= period) {
		vm->boost_win[0] = s->now;
		vm->boost_win_n = 0;
	}
	if (++vm->boost_win_n > 2 * vm->budget_peak)
		sim_fail(s, "budget: vm %d boosted %u times within one period (budget %u)",
			 (int)(vm - s->vm), vm->boost_win_n, vm->budget_peak);
}

/*
 * Build the candidate set of @me and ask pvlock_boost_pick(). Returns
 * the vCPU yielded to, or NULL; *denied when a budget refused.
 */
static struct sim_vcpu *pvlock_boost(struct sim *s, struct sim_vcpu *me, int hint_idx,
				     bool *denied)
{
	struct sim_vm *myvm = VMOF(s, me);
	struct sim_vcpu *t;
	unsigned int n = 0, start = 0;
	int k, r;

	*denied = false;
	for (unsigned int m = 0; m < s->p.nr_vms; m++) {
	struct sim_vm *cvm = &s->vm[m];

	if ((int)m != me->vm && !s->p.cross_vm)
		continue;
	for (int i = bm_next(cvm->ready, cvm->n, 0); i >= 0; i = bm_next(cvm->ready, cvm->n, i + 1)) {
		int id = cvm->first + i;
		struct sim_vcpu *c = V(s, id);
		u32 f = PVLOCK_CAND_ECS_KNOWN;

		if (c == me)
			continue;
		f |= PVLOCK_CAND_PREEMPTED;
		if (c->vm == me->vm)
			f |= PVLOCK_CAND_SAME_VM;
		if (c->vm == me->vm && c->idx == hint_idx)
			f |= PVLOCK_CAND_HINTED;
		if (c->gp == G_SLOW &&
		    !(s->p.head_not_waiting && (f & PVLOCK_CAND_HINTED) && c->ss == S_HEAD))
			f |= PVLOCK_CAND_WAITING;
		if (c->preempted && guest_in_ecs(c))
			f |= PVLOCK_CAND_IN_ECS;
		if ((!c->preempted || c->preempted_in_kernel) &&
		    (!c->in_spin_loop || c->dy_eligible))
			f |= PVLOCK_CAND_KVM_OK;
		s->cand[n] = (struct pvlock_cand){
			.flags = f, .preempted_ns = c->desched_at, .boosted_ns = c->boosted_at,
		};
		s->cand_id[n] = id;
		if (id <= myvm->last_boosted)
			start = n + 1;
		n++;
	}
	}
	k = pvlock_boost_pick(s->cand, n, start, &s->boost_cfg, s->now);
	if (k < 0)
		return NULL;
	t = V(s, s->cand_id[k]);
	if (t->vm != me->vm) {
		struct sim_vm *tvm = VMOF(s, t);

		if (pvlock_budget_left(&myvm->bud, &myvm->bcfg, s->now) < 1 ||
		    pvlock_budget_left(&myvm->xbud, &myvm->xcfg, s->now) < 1 ||
		    pvlock_budget_left(&tvm->xbud, &tvm->xcfg, s->now) < 1) {
			*denied = true;
			return NULL;
		}
		pvlock_budget_take(&myvm->xbud, &myvm->xcfg, s->now);
		pvlock_budget_take(&tvm->xbud, &tvm->xcfg, s->now);
	} else if (pvlock_budget_left(&myvm->bud, &myvm->bcfg, s->now) < 1) {
		*denied = true;
		return NULL;
	}
	pvlock_budget_take(&myvm->bud, &myvm->bcfg, s->now);
	vst(s, me)->yields_budgeted++;
	budget_check(s, myvm);
	r = sched_yield_to(s, me, t);
	if (r <= 0)
		return NULL;
	t->boosted_at = s->now;
	myvm->last_boosted = s->cand_id[k];
	vst(s, me)->yields++;
	if (s->cand[k].flags & PVLOCK_CAND_HINTED)
		vst(s, me)->yields_hinted++;
	if (t->vm != me->vm)
		vst(s, me)->yields_cross++;
	vst(s, t)->boosts_rcvd++;
	return t;
}

/* ---- the stock on_spin loop and its eCS prefix --------------------------- */

static bool dy_eligible(struct sim_vcpu *t)
{
	bool ok = !t->in_spin_loop || t->dy_eligible;

	if (t->in_spin_loop)
		t->dy_eligible = !t->dy_eligible;
	return ok;
}

/*
 * The vCPUs of @vm in kvm_vcpu_on_spin()'s order: after @last to the end,
 * then from 0 to @last. Only runnable ones (vcpu->ready) are visited; the
 * loops skip the others before any test with a side effect.
 */
#define for_each_ready_rr(vm, last, i, pass)						\
	for (pass = 0; pass < 2; pass++)						\
		for (i = bm_next((vm)->ready, pass ? (last) + 1 : (vm)->n,		\
				 pass ? 0 : (last) + 1);				\
		     i >= 0; i = bm_next((vm)->ready, pass ? (last) + 1 : (vm)->n, i + 1))

static int on_spin_stock(struct sim *s, struct sim_vcpu *me)
{
	struct sim_vm *vm = VMOF(s, me);
	int last = vm->last_boosted, yielded = 0, tries = 3, i, pass;

	for_each_ready_rr(vm, last, i, pass) {
		/* "pass < 2 && !yielded && try": a failed last try ends pass 0 */
		if (pass && yielded)
			return yielded;
		{
			struct sim_vcpu *t = V(s, vm->first + i);

			if (!t->ready || t == me)
				continue;
			if (t->hs == H_BLOCKED && !t->pv_unhalted)
				continue;
			if (t->preempted && !t->preempted_in_kernel)
				continue;	/* me spins in kernel mode */
			if (!dy_eligible(t))
				continue;
			yielded = sched_yield_to(s, me, t);
			if (yielded > 0) {
				vm->last_boosted = i;
				vst(s, me)->yields++;
				vst(s, t)->boosts_rcvd++;
				return yielded;
			} else if (yielded < 0 && !--tries) {
				return yielded;
			}
		}
	}
	return yielded;
}

static int on_spin_ecs_first(struct sim *s, struct sim_vcpu *me)
{
	struct sim_vm *vm = VMOF(s, me);

	for (int i = bm_next(vm->ready, vm->n, 0); i >= 0; i = bm_next(vm->ready, vm->n, i + 1)) {
		struct sim_vcpu *t = V(s, vm->first + i);

		if (t == me || !t->preempted)
			continue;
		if (!guest_in_ecs(t))
			continue;
		if (sched_yield_to(s, me, t) > 0) {
			vm->last_boosted = i;
			vst(s, me)->yields++;
			vst(s, t)->boosts_rcvd++;
			return 1;
		}
	}
	return on_spin_stock(s, me);
}

void kvm_ple_exit(struct sim *s, struct sim_vcpu *me)
{
	bool denied;
	int r = 0;

	vst(s, me)->ple_exits++;
	me->ple_window = (u32)pvlock_min_u64((u64)me->ple_window * 2, s->p.ple_window_max);
	vcpu_exit(s, me, s->p.ple_ns);
	me->in_spin_loop = true;
	switch (s->pol->on_spin) {
	case SPIN_STOCK:
		r = on_spin_stock(s, me);
		break;
	case SPIN_ECS_FIRST:
		r = on_spin_ecs_first(s, me);
		break;
	case SPIN_PVLOCK: {
		/* the spinner's record names whom it waits behind */
		int hint = NONE;

		if (me->ss == S_NODE && me->qprev != NONE)
			hint = V(s, me->qprev)->idx;
		else if (me->ss == S_HEAD && me->mcs_from != NONE)
			hint = V(s, me->mcs_from)->idx;
		r = pvlock_boost(s, me, hint, &denied) ? 1 : 0;
		if (r)
			vst(s, me)->yields_ple++;
		if (denied)
			vst(s, me)->budget_denied++;
		break;
	}
	case SPIN_NONE:
		break;
	}
	if (me->hs == H_RUN) {
		me->in_spin_loop = false;
		me->dy_eligible = false;
	}
	(void)r;
}

/* ---- the waits that replace HLT ----------------------------------------- */

static bool qsplus_spin_halt(struct sim *s, struct sim_vcpu *me)
{
	struct sim_vm *vm = VMOF(s, me);
	int last = me->qs_last_boosted, tries = 3, i, pass, y = 0;

	/*
	 * The patch tests single_task_running() at every iteration and
	 * returns without halting ("goto spin_out"); nothing in the loop can
	 * change it before a yield, which returns too: testing once is the same.
	 */
	if (sched_single_task(s, me))
		return true;
	for_each_ready_rr(vm, last, i, pass) {
		struct sim_vcpu *t = V(s, vm->first + i);

		if (pass && y)
			return false;
		if (t == me || !t->preempted)
			continue;
		if (t->qs_halted)
			continue;
		y = sched_yield_to(s, me, t);
		if (y > 0) {
			me->qs_last_boosted = i;
			vm->last_boosted = i;
			vst(s, me)->yields++;
			vst(s, t)->boosts_rcvd++;
			return true;
		} else if (y < 0 && !--tries) {
			return false;
		}
	}
	return false;
}

void kvm_wait_hc(struct sim *s, struct sim_vcpu *me, int target)
{
	bool denied = false;

	vst(s, me)->pv_hc++;
	if (s->pol->wait == WAIT_QSPLUS_HC) {
		me->qs_halted = true;
		if (qsplus_spin_halt(s, me)) {
			vcpu_exit(s, me, s->p.exit_ns);
			return;
		}
		kvm_halt(s, me);
		return;
	}
	/* PVLOCK_HC_YIELD(target, flags) */
	if (pvlock_boost(s, me, target, &denied)) {
		me->fruitless = 0;
		vcpu_exit(s, me, s->p.exit_ns);
		return;
	}
	if (denied)
		vst(s, me)->budget_denied++;
	if (me->fruitless < s->p.pv_halt_after || (denied && s->p.pv_denied_spin)) {
		/* no PVLOCK_YIELD_F_HALT this time: R_NONE, back to spinning */
		me->fruitless++;
		vst(s, me)->yields_none++;
		vcpu_exit(s, me, s->p.exit_ns);
		return;
	}
	me->fruitless = 0;
	vst(s, me)->halts_none++;
	kvm_halt(s, me);
}

void kvm_hc_kick(struct sim *s, struct sim_vcpu *me, struct sim_vcpu *t)
{
	vst(s, me)->kicks++;
	vcpu_exit(s, me, s->p.exit_ns);
	if (s->pol->kick == KICK_QSPLUS) {
		sched_set_rt(s, t, true);
		t->pv_unhalted = true;
		kvm_wake(s, t);
		t->qs_halted = false;
		sched_set_rt(s, me, false);
		return;
	}
	t->pv_unhalted = true;
	kvm_wake(s, t);
	/* x86.c:kvm_sched_yield() */
	if (s->pol_id == POL_PVLOCK && !s->p.pv_kick_yield)
		return;
	if (me->hs != H_RUN || sched_single_task(s, me))
		return;
	if (!t->ready || t == me)
		return;
	if (sched_yield_to(s, me, t) > 0) {
		vst(s, me)->yields++;
		vst(s, t)->boosts_rcvd++;
	}
}

/* ---- pvlockd ------------------------------------------------------------ */

void pvlockd_tune(struct sim *s)
{
	u64 dt = s->now - s->tune_last;
	u32 oc;

	s->runnable_acc += (u64)s->nr_runnable * (s->now - s->runnable_last_t);
	s->runnable_last_t = s->now;
	oc = dt ? (u32)(s->runnable_acc * 100 / (dt * s->p.nr_pcpus)) : 0;
	s->runnable_acc = 0;
	s->tune_last = s->now;
	for (unsigned int i = 0; i < s->p.nr_vms; i++) {
		struct sim_vm *vm = &s->vm[i];
		u64 lhp = vm->st_all.lhp + vm->st_all.lwp + vm->st_all.ecs_preempt;
		struct pvlock_tune_sample smp = {
			.dt_ns = dt, .nr_vcpus = (u32)vm->n, .overcommit_pct = oc,
			.lhp = lhp - vm->t_lhp,
			.budget_denied = vm->st_all.budget_denied - vm->t_denied,
		};
		struct pvlock_tune_decision d = pvlock_tune(&vm->tst, &s->tune_cfg, &smp, 0);

		vm->t_lhp = lhp;
		vm->t_denied = vm->st_all.budget_denied;
		vm->hint = d.threshold;
		if (s->p.pv_oc_hint && oc > 100)
			vm->hint = s->p.pv_oc_hint;	/* what-if, not tune.h */
		vm->bcfg.per_period = d.budget;
		vm->budget_peak = pvlock_max_u32(vm->budget_peak, d.budget);
	}
	s->st.tune_periods++;
}
