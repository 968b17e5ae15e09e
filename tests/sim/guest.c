// SPDX-License-Identifier: GPL-2.0
/*
 * The guest: one kernel-heavy thread per vCPU (think, take a spinlock,
 * hold it, release it, again) and the paravirt queued spinlock of
 * linux-source-6.12, as a state machine driven by time.
 *
 * Lock word (asm-generic/qspinlock_types.h): locked byte (0, 1 or
 * _Q_SLOW_VAL), pending bit, tail (last queued CPU). struct sim_lock keeps
 * the same facts: holder, slow, pending, MCS queue (qhead..qtail) and which
 * queue node is hashed in pv_lock_hash for the lock.
 *
 * The stock 6.12 algorithm, step by step (kernel/locking/):
 *  1. asm-generic/qspinlock.h:queued_spin_lock(): one cmpxchg of the whole
 *     word 0 -> locked; this is the only way in when the word is 0
 *     (lock_enter()).
 *  2. qspinlock.c:queued_spin_lock_slowpath(): with PV on, pv_enabled()
 *     jumps straight to pv_queue, skipping the pending-bit path. The MCS
 *     node is set up (pv_init_node: state vcpu_running) and
 *     queued_spin_trylock() is tried, which PV redefines as
 *     qspinlock_paravirt.h:pv_hybrid_queued_unfair_trylock(): take the
 *     lock whenever neither locked nor pending is set (lock stealing, even
 *     past queued waiters); give up and queue when the queue is empty or
 *     pending is set; otherwise keep spinning (cpu_relax) with no bound
 *     (trylock_step(), state S_TRYLOCK).
 *  3. qspinlock.c: xchg_tail() appends the node; with a predecessor, the
 *     CPU waits in qspinlock_paravirt.h:pv_wait_node() (S_NODE): spin
 *     SPIN_THRESHOLD (arch/x86/include/asm/spinlock.h: 1 << 15) iterations
 *     for node->locked; every 256 iterations (PV_PREV_CHECK_MASK, first at
 *     the first iteration) pv_wait_early() stops early when the
 *     predecessor's node state is not vcpu_running (it is halted). NOTE:
 *     in 6.12 this is the only test; there is no vcpu_is_preempted() in
 *     pv_wait_early() (the 4.13 tree of eCS still had "|| vcpu_is_preempted
 *     (prev->cpu)", sslab-gatech/eCS linux/kernel/locking/
 *     qspinlock_paravirt.h; it is gone from 6.12's). Then state =
 *     vcpu_halted and, unless node->locked came meanwhile,
 *     pv_wait(&state, vcpu_halted) = arch/x86/kernel/kvm.c:kvm_wait(): HLT
 *     if the byte still holds the value. After the wake-up,
 *     cmpxchg(state, halted, running) (a hashed state stays) and loop.
 *  4. At the head (node->locked seen, or no predecessor):
 *     qspinlock_paravirt.h:pv_wait_head_or_lock() (S_HEAD): lp = state is
 *     vcpu_hashed (pv_kick_node hashed us already). Loop: state = running,
 *     set_pending() (stops stealing), spin SPIN_THRESHOLD iterations on
 *     trylock_clear_pending() (locked byte 0 -> take it, clear pending);
 *     then clear_pending(); once only (lp == NULL): pv_hash() this node
 *     and xchg(locked, _Q_SLOW_VAL) - if that returned 0 the lock is ours;
 *     state = vcpu_hashed; pv_wait(&locked, _Q_SLOW_VAL): HLT only while
 *     the byte is _Q_SLOW_VAL. Consequence kept here: after one kick the
 *     hash entry is gone and lp stays set, so a head that loses the lock
 *     to a stealer never halts again in this acquisition; it spins.
 *  5. qspinlock.c after "locked:": the new owner with no successor clears
 *     the tail; else set_locked(), passes the MCS lock (next->locked = 1,
 *     arch_mcs_spin_unlock_contended) and pv_kick_node(next): a halted
 *     successor becomes vcpu_hashed, the lock byte _Q_SLOW_VAL and the
 *     lock is hashed on its behalf, so that the unlock kicks it.
 *  6. qspinlock_paravirt.h:__pv_queued_spin_unlock(): cmpxchg locked 1->0;
 *     failing that (_Q_SLOW_VAL), __pv_queued_spin_unlock_slowpath():
 *     pv_unhash(), store 0, pv_kick(node->cpu) =
 *     arch/x86/kernel/kvm.c:kvm_kick_cpu() -> KVM_HC_KICK_CPU.
 * MODEL: a released lock goes to a waiter that is running and spinning on
 * it at that moment: the head with pending set if there is one (stealers
 * back off while pending is set), else one of the unfair spinners chosen at
 * random (whose cmpxchg lands first); the winner pays handoff_ns. Nested
 * locks, interrupts in the slow path, and guest timer wake-ups from HLT are
 * not modelled.
 *
 * Variants (struct sim_policy):
 *  - early_preempted: pv_wait_early() also stops when the predecessor's
 *    vCPU is preempted (steal_time.preempted, kvm.c:__kvm_vcpu_is_preempted),
 *    as the 4.13 eCS tree did and pvlock's slow path does.
 *  - adaptive: the threshold is include/pvlock/threshold.h's, per CPU,
 *    capped by the host's hint (pvlockd), fed one sample per wait.
 *  - bound_trylock (pvlock): the unfair loop stops after the threshold and
 *    queues, so a waiter can reach the yield/halt below.
 *  - wait: kvm_wait() issues HLT (stock), KVM_HC_HALT_CPU (qspinlock+), or
 *    PVLOCK_HC_YIELD(target, HALT) (pvlock), target = predecessor in
 *    pv_wait_node, the CPU that passed us the MCS lock at the head.
 *  - name_holder (pvlock): the target is the lock holder when pvlock knows
 *    it (it took the lock through the slow path: its claim, slowpath.c
 *    pvlock_find_holder()) and it is preempted, else the predecessor when
 *    preempted, else the holder or the predecessor; the queue head does not
 *    spin while that holder is preempted (MODEL: checked when its spin
 *    round starts, not every 256 iterations of it).
 */
#include <string.h>

#include "sim.h"

static const struct sim_policy *POL(struct sim *s)
{
	return s->pol;
}

static u64 spin_threshold_ns(struct sim *s, struct sim_vcpu *v)
{
	u32 it = PVLOCK_SPIN_STOCK;

	if (POL(s)->adaptive)
		it = pvlock_thresh_for_mode(&v->thr, &s->tcfg, PVLOCK_MODE_ADAPTIVE, 0,
					    VMOF(s, v)->hint);
	if (s->pol_id == POL_PVLOCK && s->p.pv_fixed)
		it = pvlock_thresh_for_mode(&v->thr, &s->tcfg, PVLOCK_MODE_FIXED, s->p.pv_fixed, 0);
	return (u64)it * s->p.iter_ns;
}

static void draw_iteration(struct sim *s, struct sim_vcpu *v)
{
	const struct sim_params *p = &s->p;
	u64 u = sim_rng_exp(&v->rng, p->user_ns);
	u64 k = sim_rng_exp(&v->rng, p->kern_ns);
	u64 e = sim_rng_exp(&v->rng, p->ecs_ns);
	u32 r = sim_rng_below(&v->rng, 100);
	u32 other = sim_rng_below(&v->rng, p->nr_locks > 1 ? p->nr_locks - 1 : 1);
	double per_iter = (double)(p->user_ns + p->kern_ns + p->ecs_ns + p->hold_min_ns + p->hold_ns);
	double idle_p = p->idle_every_ns ? per_iter / (double)p->idle_every_ns : 0;
	double ui = sim_rng_unit(&v->rng);
	u64 idle = sim_rng_exp(&v->rng, p->idle_ns);

	v->idle_next = ui < idle_p ? idle + 1 : 0;
	v->hold_next = p->hold_min_ns + sim_rng_exp(&v->rng, p->hold_ns);
	v->think_left = u + k + e + 1;
	v->think_kern = k + e + 1;
	v->think_ecs = e + 1;
	v->lock = p->nr_locks <= 1 || r < p->hot_pct ? 0 : (int)other + 1;
	v->gp = G_THINK;
}

void guest_init(struct sim *s, struct sim_vcpu *v)
{
	sim_rng_seed(&v->rng, s->p.seed, (u64)v->vm << 20 | (u64)v->idx);
	v->qprev = v->qnext = v->tprev = v->tnext = NONE;
	v->mcs_from = NONE;
	v->pn = PN_RUNNING;
	pvlock_thresh_init(&v->thr, &s->tcfg, PVLOCK_SPIN_STOCK);
	draw_iteration(s, v);
	/* spread the first lock attempts over one think time */
	v->think_left = 1 + sim_rng_below(&v->rng, (u32)pvlock_min_u64(v->think_left, UINT32_MAX));
	if (v->think_kern > v->think_left)
		v->think_kern = v->think_left;
	if (v->think_ecs > v->think_kern)
		v->think_ecs = v->think_kern;
}

/* Running guest code right now, not in host overhead, not halted? */
static bool running_guest(const struct sim_vcpu *v)
{
	return v->hs == H_RUN && !v->ovh_left && !v->resume && !v->polling;
}

bool guest_spinning(const struct sim_vcpu *v)
{
	return v->gp == G_SLOW && !v->waiting;
}

static bool vcpu_is_preempted(const struct sim_vcpu *v)
{
	return v->hs == H_READY && v->preempted;
}

/* ---- trylock spinner list of a lock ---------------------------------- */

static void try_add(struct sim *s, struct sim_lock *L, struct sim_vcpu *v)
{
	v->in_try = true;
	v->tprev = NONE;
	v->tnext = L->thead;
	if (L->thead != NONE)
		V(s, L->thead)->tprev = v->id;
	L->thead = v->id;
}

static void try_del(struct sim *s, struct sim_lock *L, struct sim_vcpu *v)
{
	if (!v->in_try)
		return;
	if (v->tprev != NONE)
		V(s, v->tprev)->tnext = v->tnext;
	else
		L->thead = v->tnext;
	if (v->tnext != NONE)
		V(s, v->tnext)->tprev = v->tprev;
	v->tprev = v->tnext = NONE;
	v->in_try = false;
}

static void spin_round(struct sim_vcpu *v, u64 limit_ns)
{
	v->spin_ns = 0;
	v->spin_limit_ns = limit_ns;
	v->early_armed = false;
}

static void enqueue(struct sim *s, struct sim_vcpu *v);
static void head_round_start(struct sim *s, struct sim_vcpu *v);
static void trylock_step(struct sim *s, struct sim_vcpu *v);
static void pass_mcs(struct sim *s, struct sim_lock *L, struct sim_vcpu *v);

#define MAX_SPINNERS 512

/*
 * Re-evaluate the running unfair spinners of @L (pending or tail changed).
 * Collected first: each step may queue a spinner, which can set pending
 * and come back here.
 */
static void wake_trylockers(struct sim *s, struct sim_lock *L)
{
	int ids[MAX_SPINNERS], n = 0;

	for (int id = L->thead; id != NONE && n < MAX_SPINNERS; id = V(s, id)->tnext)
		ids[n++] = id;
	for (int i = 0; i < n; i++) {
		struct sim_vcpu *t = V(s, ids[i]);

		vcpu_sync(s, t);
		if (t->in_try && running_guest(t) && t->gp == G_SLOW && t->ss == S_TRYLOCK &&
		    !t->waiting && !t->resume) {
			trylock_step(s, t);
			vcpu_arm(s, t);
		}
	}
}

static void thresh_sample(struct sim *s, struct sim_vcpu *v)
{
	struct pvlock_wait_sample smp = {
		.spins = (u32)pvlock_min_u64(v->wait_spins_ns / s->p.iter_ns, UINT32_MAX),
		.blocked_ns = v->wait_blocked_ns,
		.wait_ns = s->now - v->wait_start,
		.waited = v->wait_gave_up,
		.preempted = v->wait_saw_preempt,
	};
	enum pvlock_thresh_reason why;

	why = pvlock_thresh_observe(&v->thr, &s->tcfg, &smp, VMOF(s, v)->hint);
	if (why != PVLOCK_TR_NONE)
		s->thr_why[why]++;
}

/* The lock is ours. @queued: through the MCS queue (head). */
static void acquire(struct sim *s, struct sim_vcpu *v, bool slow, bool queued)
{
	struct sim_lock *L = LOCKOF(s, v);
	struct sim_vm_stats *st = vst(s, v);

	if (L->holder != NONE) {
		sim_fail(s, "mutual exclusion: vm %d lock %d taken by vcpu %d while vcpu %d holds it",
			 v->vm, v->lock, v->idx, V(s, L->holder)->idx);
		return;
	}
	L->holder = v->id;
	L->claimed = slow;
	L->acquired_at = s->now;
	try_del(s, L, v);
	v->gp = G_CS;
	v->cs_left = v->hold_next + (slow ? s->p.handoff_ns : 0);
	v->waiting = false;
	v->early_armed = false;
	s->trace_hash = (s->trace_hash ^ ((u64)v->id << 32 ^ s->now)) * 0x100000001b3ull;
	if (slow) {
		u64 w = s->now - v->wait_start;

		st->wait_ns += w;
		if (w > st->wait_max_ns)
			st->wait_max_ns = w;
		st->wait_hist[pvlock_hist_bucket(w)]++;
		if (POL(s)->adaptive)
			thresh_sample(s, v);
	}
	if (queued) {
		/* trylock_clear_pending() / the xchg: pending is ours, now clear */
		L->pending = false;
		pass_mcs(s, L, v);
	}
}

/* qspinlock.c after "locked:" + qspinlock_paravirt.h:pv_kick_node() */
static void pass_mcs(struct sim *s, struct sim_lock *L, struct sim_vcpu *v)
{
	struct sim_vcpu *n;

	if (L->qhead != v->id)
		sim_fail(s, "queue: vcpu %d acquired as head but head is %d", v->id, L->qhead);
	if (L->qtail == v->id) {
		L->qhead = L->qtail = NONE;
		v->qprev = v->qnext = NONE;
		/* tail cleared: unfair spinners give up and queue */
		wake_trylockers(s, L);
		return;
	}
	n = V(s, v->qnext);
	vcpu_sync(s, n);
	L->qhead = n->id;
	n->qprev = NONE;
	v->qnext = v->qprev = NONE;
	n->node_locked = true;
	n->mcs_from = v->id;
	if (n->pn == PN_HALTED) {
		n->pn = PN_HASHED;
		L->slow = true;
		L->hashed = n->id;
		if (s->pol_id == POL_PVLOCK && s->p.pv_kick_early && n->waiting) {
			/* pvlock: wake the new head now, not at our unlock */
			L->slow = false;
			L->hashed = NONE;
			kvm_hc_kick(s, v, n);
		}
	}
	if (running_guest(n) && n->gp == G_SLOW && n->ss == S_NODE && !n->waiting) {
		/* it sees node->locked within an iteration */
		n->ss = S_HEAD;
		n->lp = n->pn == PN_HASHED;
		head_round_start(s, n);
	}
	vcpu_arm(s, n);
}

/* pv_hybrid_queued_unfair_trylock(), one pass */
static void trylock_step(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);

	if (L->holder == NONE && !L->pending) {
		vst(s, v)->steals++;
		acquire(s, v, true, false);
		return;
	}
	if (L->qtail == NONE || L->pending) {
		try_del(s, L, v);
		enqueue(s, v);
		return;
	}
	if (v->ss != S_TRYLOCK || !v->in_try) {
		v->ss = S_TRYLOCK;
		try_add(s, L, v);
		spin_round(v, POL(s)->bound_trylock ? spin_threshold_ns(s, v) : 0);
	}
}

static bool prev_not_running(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vcpu *pv;

	if (v->qprev == NONE)
		return false;
	pv = V(s, v->qprev);
	if (pv->pn != PN_RUNNING)
		return true;
	if (POL(s)->early_preempted && vcpu_is_preempted(pv)) {
		v->wait_saw_preempt = true;
		return true;
	}
	return false;
}

/* pvlock's target for a waiter about to block (slowpath.c pvlock_name_target) */
static int pv_name(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);
	struct sim_vcpu *h = L->holder != NONE && L->claimed ? V(s, L->holder) : NULL;
	struct sim_vcpu *p = v->ss == S_NODE && v->qprev != NONE ? V(s, v->qprev) : NULL;

	if (h && vcpu_is_preempted(h)) {
		v->wait_saw_preempt = true;
		return h->idx;
	}
	if (p && vcpu_is_preempted(p)) {
		v->wait_saw_preempt = true;
		return p->idx;
	}
	return h ? h->idx : p ? p->idx : NONE;
}

static void node_round_start(struct sim *s, struct sim_vcpu *v)
{
	v->ss = S_NODE;
	spin_round(v, spin_threshold_ns(s, v));
	/* pv_wait_early() is first asked at the first iteration */
	v->early_armed = prev_not_running(s, v);
}

/* xchg_tail() and what follows */
static void enqueue(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);

	v->node_locked = false;
	v->lp = false;
	v->pn = PN_RUNNING;
	v->mcs_from = NONE;
	v->qnext = NONE;
	if (L->qtail == NONE) {
		L->qhead = L->qtail = v->id;
		v->qprev = NONE;
		v->ss = S_HEAD;
		head_round_start(s, v);
		return;
	}
	v->qprev = L->qtail;
	V(s, L->qtail)->qnext = v->id;
	L->qtail = v->id;
	node_round_start(s, v);
}

static void head_round_start(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);

	v->pn = PN_RUNNING;
	spin_round(v, spin_threshold_ns(s, v));
	if (L->holder == NONE) {
		acquire(s, v, true, true);
		return;
	}
	/* pvlock: no spinning behind a holder it knows to be preempted */
	if (POL(s)->name_holder && L->claimed && vcpu_is_preempted(V(s, L->holder))) {
		v->wait_saw_preempt = true;
		spin_round(v, 1);	/* ends at the next event: 0 would mean "no bound" */
	}
	if (!L->pending) {
		L->pending = true;
		wake_trylockers(s, L);
	}
}

/* Back in the guest after kvm_wait() (halt, poll, yield or no-op). */
static void wait_return(struct sim *s, struct sim_vcpu *v)
{
	v->waiting = false;
	v->wait_blocked_ns += s->now - v->wait_block_start;
	if (v->ss == S_NODE) {
		if (v->pn == PN_HALTED)
			v->pn = PN_RUNNING;
		if (v->node_locked) {
			v->ss = S_HEAD;
			v->lp = v->pn == PN_HASHED;
			head_round_start(s, v);
			return;
		}
		node_round_start(s, v);
		return;
	}
	head_round_start(s, v);
}

/* kvm_wait() and its replacements; @target: guest CPU waited behind */
static void do_wait(struct sim *s, struct sim_vcpu *v, int target)
{
	v->waiting = true;
	v->wait_block_start = s->now;
	v->early_armed = false;
	switch (POL(s)->wait) {
	case WAIT_HLT:
		kvm_halt(s, v);
		break;
	case WAIT_QSPLUS_HC:
	case WAIT_PVLOCK_YIELD:
		kvm_wait_hc(s, v, target);
		break;
	}
}

/* The spin threshold ran out (or pv_wait_early() said stop). */
static void spin_round_end(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);

	switch (v->ss) {
	case S_TRYLOCK:
		/* only with bound_trylock: stop stealing, queue */
		try_del(s, L, v);
		enqueue(s, v);
		return;
	case S_NODE:
		v->wait_gave_up = true;
		v->pn = PN_HALTED;
		guest_notify_prev_changed(s, v);
		if (v->node_locked) {
			wait_return(s, v);	/* no pv_wait(): loop sees locked */
			return;
		}
		do_wait(s, v, POL(s)->name_holder ? pv_name(s, v) :
			v->qprev == NONE ? NONE : V(s, v->qprev)->idx);
		return;
	case S_HEAD:
		v->wait_gave_up = true;
		L->pending = false;
		if (POL(s)->adaptive && v->mcs_from != NONE &&
		    vcpu_is_preempted(V(s, v->mcs_from)))
			v->wait_saw_preempt = true;
		if (!v->lp) {
			v->lp = true;
			if (L->holder == NONE) {
				acquire(s, v, true, true);
				return;
			}
			L->slow = true;
			L->hashed = v->id;
		}
		v->pn = PN_HASHED;
		guest_notify_prev_changed(s, v);
		wake_trylockers(s, L);	/* pending cleared: stealing allowed */
		if (L->slow && L->hashed == v->id) {
			do_wait(s, v, POL(s)->name_holder ? pv_name(s, v) :
				v->mcs_from == NONE ? NONE : V(s, v->mcs_from)->idx);
			return;
		}
		head_round_start(s, v);	/* pv_wait() returns at once */
		return;
	}
}

/* queued_spin_lock() */
static void lock_enter(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);

	v->wait_start = s->now;
	v->ple_ns = 0;	/* PAUSEs more than pause_filter_thresh apart: count restarts */
	v->wait_spins_ns = v->wait_blocked_ns = 0;
	v->wait_gave_up = v->wait_saw_preempt = false;
	v->waiting = false;
	if (L->holder == NONE && !L->pending && L->qtail == NONE) {
		acquire(s, v, false, false);
		return;
	}
	vst(s, v)->slowpaths++;
	v->gp = G_SLOW;
	v->ss = S_TRYLOCK;
	v->in_try = false;
	trylock_step(s, v);
}

/* A released lock goes to whoever is spinning on it right now. */
static void lock_released(struct sim *s, struct sim_lock *L)
{
	struct sim_vcpu *h = L->qhead == NONE ? NULL : V(s, L->qhead);
	struct sim_vcpu *pick[MAX_SPINNERS];
	int n = 0;

	if (h) {
		vcpu_sync(s, h);
		if (h->ss == S_HEAD && guest_spinning(h) && running_guest(h) && L->pending) {
			acquire(s, h, true, true);
			vcpu_arm(s, h);
			return;
		}
	}
	if (L->pending)
		return;
	for (int id = L->thead; id != NONE && n < MAX_SPINNERS; id = V(s, id)->tnext) {
		struct sim_vcpu *t = V(s, id);

		vcpu_sync(s, t);
		if (running_guest(t) && t->ss == S_TRYLOCK && guest_spinning(t))
			pick[n++] = t;
	}
	if (n) {
		struct sim_vcpu *w = pick[sim_rng_below(&s->rng, (u32)n)];

		vst(s, w)->steals++;
		acquire(s, w, true, false);
		vcpu_arm(s, w);
	}
}

static void idle_enter(struct sim *s, struct sim_vcpu *v, u64 idle);

static void unlock(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L = LOCKOF(s, v);
	struct sim_vm_stats *st = vst(s, v);
	int kick = NONE;
	u64 idle;

	if (L->holder != v->id) {
		sim_fail(s, "unlock: vcpu %d releases lock %d held by %d", v->id, v->lock, L->holder);
		return;
	}
	st->ops++;
	if (L->slow) {
		kick = L->hashed;
		L->hashed = NONE;
		L->slow = false;
	}
	L->holder = NONE;
	idle = v->idle_next;
	draw_iteration(s, v);
	lock_released(s, L);
	if (kick != NONE) {
		kvm_hc_kick(s, v, V(s, kick));
	}
	sched_lock_section_left(s, v);
	if (idle && v->hs == H_RUN && !v->ovh_left && !v->resume) {
		idle_enter(s, v, idle);
	} else if (idle) {
		/* the kick's exit is pending: go idle when back in the guest */
		v->gp = G_IDLE;
		v->idle_until = s->now + idle;
		ev_push(s, v->idle_until, EV_TIMER, v->id, ++v->tgen);
	}
}

/*
 * Nothing to run: the guest's idle loop halts (default_idle -> HLT) until
 * its timer (a host hrtimer for the LAPIC timer) wakes the vCPU.
 * MODEL: no guest-side halt polling (cpuidle-haltpoll).
 */
static void idle_enter(struct sim *s, struct sim_vcpu *v, u64 idle)
{
	v->gp = G_IDLE;
	v->idle_until = s->now + idle;
	ev_push(s, v->idle_until, EV_TIMER, v->id, ++v->tgen);
	kvm_halt(s, v);
}

void guest_timer(struct sim *s, struct sim_vcpu *v)
{
	if (v->gp != G_IDLE)
		return;
	v->pv_unhalted = true;		/* a pending timer interrupt wakes HLT */
	kvm_wake(s, v);
}

/* ---- time-driven part ------------------------------------------------ */

u64 guest_next_event(struct sim *s, struct sim_vcpu *v)
{
	u64 t = UINT64_MAX, win;

	switch (v->gp) {
	case G_THINK:
		return s->now + v->think_left;
	case G_CS:
		return s->now + v->cs_left;
	case G_SLOW:
		break;
	case G_IDLE:
		return UINT64_MAX;
	}
	if (v->waiting)
		return UINT64_MAX;
	if (v->spin_limit_ns)
		t = s->now + (v->spin_limit_ns > v->spin_ns ? v->spin_limit_ns - v->spin_ns : 0);
	if (POL(s)->on_spin != SPIN_NONE) {
		win = (u64)v->ple_window * s->p.iter_ns;
		t = pvlock_min_u64(t, s->now + (win > v->ple_ns ? win - v->ple_ns : 0));
	}
	if (v->early_armed) {
		u64 step = 256 * s->p.iter_ns;
		u64 next = (v->spin_ns + step - 1) / step * step;

		t = pvlock_min_u64(t, s->now + (next - v->spin_ns));
	}
	return t;
}

void guest_event(struct sim *s, struct sim_vcpu *v)
{
	switch (v->gp) {
	case G_THINK:
		if (!v->think_left)
			lock_enter(s, v);
		return;
	case G_CS:
		if (!v->cs_left)
			unlock(s, v);
		return;
	case G_SLOW:
		break;
	case G_IDLE:
		return;
	}
	if (v->waiting)
		return;
	if (v->spin_limit_ns && v->spin_ns >= v->spin_limit_ns) {
		spin_round_end(s, v);
		return;
	}
	if (v->early_armed && v->spin_ns % (256 * s->p.iter_ns) == 0) {
		if (v->ss == S_NODE && prev_not_running(s, v)) {
			spin_round_end(s, v);
			return;
		}
		v->early_armed = false;
	}
	if (POL(s)->on_spin != SPIN_NONE && v->ple_ns >= (u64)v->ple_window * s->p.iter_ns)
		kvm_ple_exit(s, v);
}

/* Host work done: the guest runs again from where it stood. */
void guest_resume(struct sim *s, struct sim_vcpu *v)
{
	struct sim_lock *L;

	if (v->gp == G_IDLE) {
		if (s->now >= v->idle_until) {
			v->gp = G_THINK;
			v->pv_unhalted = false;
		} else {
			kvm_halt(s, v);
		}
		return;
	}
	if (v->gp != G_SLOW)
		return;
	if (v->waiting) {
		wait_return(s, v);
		return;
	}
	L = LOCKOF(s, v);
	switch (v->ss) {
	case S_TRYLOCK:
		trylock_step(s, v);
		break;
	case S_NODE:
		if (v->node_locked) {
			v->ss = S_HEAD;
			v->lp = v->pn == PN_HASHED;
			head_round_start(s, v);
			break;
		}
		v->early_armed = prev_not_running(s, v);
		break;
	case S_HEAD:
		/* pending is still ours from this round */
		if (L->holder == NONE)
			acquire(s, v, true, true);
		break;
	}
}

/* The predecessor's node state or vCPU state changed: wait-early check. */
void guest_notify_prev_changed(struct sim *s, struct sim_vcpu *prev)
{
	struct sim_vcpu *n;

	if (prev->gp != G_SLOW || prev->qnext == NONE)
		return;
	n = V(s, prev->qnext);
	if (n->ss != S_NODE || n->waiting || n->early_armed)
		return;
	vcpu_sync(s, n);
	n->early_armed = true;
	vcpu_arm(s, n);
}
