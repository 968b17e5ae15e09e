// SPDX-License-Identifier: GPL-2.0
/*
 * Host scheduler: the part of 6.12's fair class (EEVDF) and of yield_to()
 * that decides which vCPU thread a pCPU runs. Each pCPU has its own run
 * queue; every vCPU thread has weight 1024 (nice 0), so virtual time runs
 * at wall-clock speed while a thread runs.
 *
 * What is modelled, with where it comes from (linux-source-6.12):
 *  - time slices: kernel/sched/fair.c:update_deadline() gives each entity a
 *    request of sysctl_sched_base_slice (0.7 ms x (1 + ilog2(min(ncpus, 8))),
 *    fair.c:get_update_sysctl_factor(): 2.8 ms on the 120-pCPU host,
 *    1.4 ms on 2 pCPUs); when vruntime passes the deadline, a new deadline
 *    is set and the CPU reschedules. The check runs from the tick
 *    (fair.c:task_tick_fair -> entity_tick -> update_curr), HZ=250 on
 *    Debian, hrtick off (features.h HRTICK false): slices end on a tick.
 *    All CPUs tick together (skew_tick=0).
 *  - picking: fair.c:pick_next_entity() takes the next buddy if eligible
 *    (PICK_BUDDY), else fair.c:pick_eevdf(): the current entity while it is
 *    eligible and slice-protected (RUN_TO_PARITY, fair.c:protect_slice(),
 *    set when picked: fair.c:set_next_entity()), else the eligible entity
 *    with the earliest virtual deadline. Eligible: vruntime <= the queue's
 *    average vruntime (fair.c:entity_eligible, equal weights).
 *  - wake-up preemption: fair.c:check_preempt_wakeup_fair() preempts when
 *    pick_eevdf() now returns the woken entity (NEXT_BUDDY is false).
 *    A real-time (SCHED_RR) thread always preempts a fair one.
 *  - sleep and wake-up placement: fair.c:place_entity() puts a waking
 *    entity at avg_vruntime - lag (PLACE_LAG). MODEL: DELAY_DEQUEUE +
 *    DELAY_ZERO are approximated by letting negative lag decay while the
 *    entity sleeps (it would have stayed queued until eligible) and
 *    clipping at 0; lag is not rescaled by the queue weight.
 *  - directed yield: kernel/sched/syscalls.c:yield_to(): -ESRCH when both
 *    run queues hold one task; 0 when the target runs or is not runnable,
 *    or the classes differ; else fair.c:yield_to_task_fair(): target
 *    becomes the next buddy of its queue (set_next_buddy), the yielder
 *    forfeits its request (fair.c:yield_task_fair: vruntime = deadline,
 *    new deadline, if eligible), the target's CPU is rescheduled
 *    (resched_curr) and the yielder calls schedule().
 *  - SCHED_RR: only qspinlock+ makes RT vCPUs; round robin among them with
 *    the 100 ms RR timeslice. MODEL: RT throttling (95% per second) is not
 *    modelled; runs are shorter than its 1 s period.
 *  - load balancing, within a last-level-cache domain (llc_size pCPUs): a
 *    waking thread goes to its previous pCPU if idle, else to an idle pCPU
 *    of the domain (fair.c:select_task_rq_fair -> select_idle_sibling); a
 *    pCPU that goes idle, and an idle pCPU at each tick, pulls a waiting
 *    thread from the busiest run queue of its domain unless that thread
 *    ran within sysctl_sched_migration_cost (500 us, fair.c:task_hot)
 *    (fair.c:sched_balance_newidle, nohz idle balance). Its lag is kept.
 *    MODEL: no balancing across domains, no wake-affine, no cost for the
 *    cold cache after a migration.
 * MODEL: threads start spread evenly, global vCPU g on pCPU g mod P.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static struct sim_pcpu *PC(struct sim *s, const struct sim_vcpu *v)
{
	return &s->c[v->pcpu];
}

static struct sim_vcpu *curr_of(struct sim *s, struct sim_pcpu *c)
{
	return c->curr == NONE ? NULL : V(s, c->curr);
}

static bool on_rq(const struct sim_vcpu *v)
{
	return v->hs != H_BLOCKED;
}

/* fair.c:update_curr + update_deadline; true when a new slice began */
static bool update_curr(struct sim *s, struct sim_pcpu *c)
{
	struct sim_vcpu *v = curr_of(s, c);
	u64 d;

	if (!v)
		return false;
	d = s->now - v->exec_start;
	v->exec_start = s->now;
	if (v->rt) {
		v->rr_used += d;
		return false;
	}
	v->vruntime += d;
	if (v->vruntime < v->deadline)
		return false;
	v->deadline = v->vruntime + s->p.base_slice_ns;
	v->protect = false;
	return true;
}

/* fair.c:avg_vruntime over the fair entities of the queue, curr included */
static u64 avg_vruntime(struct sim *s, struct sim_pcpu *c)
{
	u64 sum = 0;
	int n = 0;

	for (int i = 0; i < c->nr; i++) {
		struct sim_vcpu *v = V(s, c->rq[i]);

		if (v->rt)
			continue;
		sum += v->vruntime;
		n++;
	}
	return n ? sum / (u64)n : c->zero_vruntime;
}

static bool eligible(struct sim *s, struct sim_pcpu *c, struct sim_vcpu *v)
{
	return v->vruntime <= avg_vruntime(s, c);
}

static struct sim_vcpu *pick(struct sim *s, struct sim_pcpu *c, bool use_buddy)
{
	struct sim_vcpu *curr = curr_of(s, c), *best = NULL;
	u64 avg;
	int nfair = 0;

	/* rt class first: the running RT task until its RR slice ends */
	if (curr && on_rq(curr) && curr->rt && !c->rr_rotate)
		return curr;
	for (int i = 0; i < c->nr; i++) {
		struct sim_vcpu *v = V(s, c->rq[i]);

		if (v->rt && !(c->rr_rotate && v == curr))
			return v;
		if (!v->rt)
			nfair++;
	}
	if (curr && on_rq(curr) && curr->rt)
		return curr;
	if (!nfair)
		return NULL;
	avg = avg_vruntime(s, c);
	if (use_buddy && c->buddy != NONE) {
		struct sim_vcpu *b = V(s, c->buddy);

		if (on_rq(b) && b->vruntime <= avg)
			return b;
	}
	if (nfair == 1)
		return V(s, c->rq[0]);
	if (curr && (!on_rq(curr) || curr->vruntime > avg))
		curr = NULL;
	if (curr && curr->protect)
		return curr;
	for (int i = 0; i < c->nr; i++) {
		struct sim_vcpu *v = V(s, c->rq[i]);

		if (v->vruntime > avg)
			continue;
		if (!best || v->deadline < best->deadline ||
		    (v->deadline == best->deadline && v->id < best->id))
			best = v;
	}
	return best;
}

static void rq_add(struct sim_pcpu *c, struct sim_vcpu *v)
{
	c->rq[c->nr++] = v->id;
}

static void rq_del(struct sim_pcpu *c, struct sim_vcpu *v)
{
	for (int i = 0; i < c->nr; i++) {
		if (c->rq[i] == v->id) {
			c->rq[i] = c->rq[--c->nr];
			return;
		}
	}
}

/* Is the vCPU inside a lock (holding, spinning or queued and running)? */
static bool in_lock_section(const struct sim_vcpu *v)
{
	return v->gp == G_CS || (v->gp == G_SLOW && !v->waiting);
}

/*
 * May the host take the pCPU away from @v now? Stock: yes. eCS: a tick
 * preemption of a vCPU inside an eCS is skipped every other time
 * (eCS.patch arch/x86/kvm/x86.c:kvm_arch_check_schedule() toggles
 * st->preempt_toggle; kernel/sched/fair.c:check_preempt_tick() skips the
 * resched while it returns true): one extra tick at most. Oracle: never
 * while holding or queued on a lock; the preemption happens when it leaves.
 */
bool vcpu_may_preempt(struct sim *s, struct sim_vcpu *v, bool tick)
{
	switch (s->pol->tick) {
	case TICK_ECS_TOGGLE:
		if (tick && guest_in_ecs(v)) {
			v->ecs_toggle = !v->ecs_toggle;
			if (v->ecs_toggle)
				return false;
		}
		return true;
	case TICK_ORACLE:
		if (in_lock_section(v)) {
			s->c[v->pcpu].defer_resched = true;
			return false;
		}
		return true;
	default:
		return true;
	}
}

static void migrate(struct sim *s, struct sim_vcpu *v, struct sim_pcpu *dst)
{
	struct sim_pcpu *src = PC(s, v);
	s64 rel = (s64)v->vruntime - (s64)avg_vruntime(s, src);

	rq_del(src, v);
	if (src->buddy == v->id)
		src->buddy = NONE;
	v->pcpu = (int)(dst - s->c);
	rel += (s64)avg_vruntime(s, dst);
	v->vruntime = rel > 0 ? (u64)rel : 0;
	v->deadline = v->vruntime + s->p.base_slice_ns;
	rq_add(dst, v);
	v->migrations++;
}

static int llc_first(struct sim *s, int cpu)
{
	u32 n = s->p.llc_size ? s->p.llc_size : 1;

	return (int)((u32)cpu / n * n);
}

static int llc_last(struct sim *s, int cpu)
{
	u32 n = s->p.llc_size ? s->p.llc_size : 1;
	int last = llc_first(s, cpu) + (int)n - 1;

	return last < (int)s->p.nr_pcpus ? last : (int)s->p.nr_pcpus - 1;
}

/* sched_balance_newidle: pull one waiting, cache-cold thread */
static struct sim_vcpu *idle_pull(struct sim *s, struct sim_pcpu *dst)
{
	int me = (int)(dst - s->c), lo = llc_first(s, me), hi = llc_last(s, me);
	struct sim_pcpu *busiest = NULL;
	struct sim_vcpu *best = NULL;

	for (int i = lo; i <= hi; i++) {
		struct sim_pcpu *c = &s->c[i];

		if (c != dst && c->nr >= 2 && (!busiest || c->nr > busiest->nr))
			busiest = c;
	}
	if (!busiest)
		return NULL;
	for (int i = 0; i < busiest->nr; i++) {
		struct sim_vcpu *v = V(s, busiest->rq[i]);

		if (v->hs != H_READY || v->rt || busiest->buddy == v->id)
			continue;
		if (s->now - v->desched_at < s->p.migration_cost_ns)
			continue;
		if (!best || v->desched_at < best->desched_at)
			best = v;
	}
	if (best)
		migrate(s, best, dst);
	return best;
}

/* __schedule(): pick and switch; @why says how the current thread leaves */
static void schedule(struct sim *s, struct sim_pcpu *c, enum why_desched why)
{
	struct sim_vcpu *curr = curr_of(s, c), *next;

	if (curr && on_rq(curr))
		update_curr(s, c);
	next = pick(s, c, true);
	if (next && c->buddy == next->id)
		c->buddy = NONE;		/* set_next_entity -> clear_buddies */
	if (next == curr) {
		if (curr && curr->hs == H_RUN && why == DS_YIELD)
			curr->protect = true;
		return;
	}
	if (curr && curr->hs == H_RUN) {
		vcpu_sync(s, curr);
		vcpu_set_hs(s, curr, H_READY);
		kvm_sched_out(s, curr, why);
		vcpu_arm(s, curr);
	}
	c->defer_resched = false;
	if (!next && idle_pull(s, c))
		next = pick(s, c, false);
	if (!next) {
		c->curr = NONE;
		c->idle_since = s->now;
		return;
	}
	vcpu_set_hs(s, next, H_RUN);
	next->protect = true;			/* set_protect_slice */
	next->exec_start = s->now;
	next->seg_start = s->now;
	next->rr_used = 0;
	if (c->curr == NONE) {
		sim_acct_idle(s, c);
		next->ovh_left += s->p.wake_idle_ns;
	} else {
		next->ovh_left += s->p.switch_ns;
	}
	c->curr = next->id;
	kvm_sched_in(s, next);
	vcpu_arm(s, next);
}

void sched_resched(struct sim *s, struct sim_pcpu *c)
{
	struct sim_vcpu *curr = curr_of(s, c);

	if (curr && curr->hs == H_RUN && !vcpu_may_preempt(s, curr, false))
		return;
	schedule(s, c, DS_PREEMPT);
}

void sched_init(struct sim *s)
{
	for (unsigned int i = 0; i < s->p.nr_pcpus; i++) {
		struct sim_pcpu *c = &s->c[i];

		c->curr = NONE;
		c->buddy = NONE;
		c->idle_since = 0;
	}
	for (int i = 0; i < s->nv; i++) {
		struct sim_vcpu *v = V(s, i);

		/*
		 * VMs and their vCPU threads start at different times: a random
		 * phase within one slice decides which thread a pCPU runs first,
		 * so the vCPUs of a VM are not all running in the same ticks.
		 */
		vcpu_set_hs(s, v, H_READY);
		v->ready = true;
		v->vruntime = sim_rng_below(&s->rng, (u32)s->p.base_slice_ns);
		v->deadline = v->vruntime + s->p.base_slice_ns;
		rq_add(PC(s, v), v);
	}
	for (unsigned int i = 0; i < s->p.nr_pcpus; i++) {
		struct sim_pcpu *c = &s->c[i];

		schedule(s, c, DS_PREEMPT);
		if (c->curr != NONE)
			V(s, c->curr)->ovh_left = 0;	/* already running at t=0 */
	}
}

void sched_tick(struct sim *s, struct sim_pcpu *c)
{
	struct sim_vcpu *curr = curr_of(s, c);

	if (!curr) {
		/* idle balance */
		if (idle_pull(s, c))
			schedule(s, c, DS_PREEMPT);
		return;
	}
	if (curr->hs != H_RUN)
		return;
	if (curr->rt) {
		update_curr(s, c);
		/* SCHED_RR: rotate when the slice is used and another RT waits */
		if (curr->rr_used >= s->p.rr_slice_ns) {
			curr->rr_used = 0;
			c->rr_rotate = true;
			schedule(s, c, DS_PREEMPT);
			c->rr_rotate = false;
		}
		return;
	}
	if (c->defer_resched) {
		/* oracle: a postponed preemption is still pending */
		sched_resched(s, c);
		return;
	}
	if (!update_curr(s, c) || c->nr < 2)
		return;
	if (!vcpu_may_preempt(s, curr, true))
		return;
	schedule(s, c, DS_PREEMPT);
}

bool sched_single_task(const struct sim *s, const struct sim_vcpu *v)
{
	return s->c[v->pcpu].nr == 1;
}

void sched_block(struct sim *s, struct sim_vcpu *v)
{
	struct sim_pcpu *c = PC(s, v);

	update_curr(s, c);
	v->lag = (s64)avg_vruntime(s, c) - (s64)v->vruntime;
	v->blocked_at = s->now;
	vcpu_sync(s, v);
	rq_del(c, v);
	vcpu_set_hs(s, v, H_BLOCKED);
	if (c->buddy == v->id)
		c->buddy = NONE;
	if (!c->nr)
		c->zero_vruntime = v->vruntime;
	kvm_sched_out(s, v, DS_BLOCK);
	vcpu_arm(s, v);
	s->nr_runnable--;
	schedule(s, c, DS_BLOCK);
}

void sched_wake(struct sim *s, struct sim_vcpu *v)
{
	struct sim_pcpu *c = PC(s, v);
	struct sim_vcpu *curr = curr_of(s, c);
	s64 lag = v->lag;
	u64 avg;

	if (v->hs != H_BLOCKED)
		return;
	if (c->curr != NONE) {
		/* select_idle_sibling(): an idle pCPU of the domain, if any */
		int me = v->pcpu, lo = llc_first(s, me), hi = llc_last(s, me);

		for (int k = 1; k <= hi - lo; k++) {
			int i = lo + (me - lo + k) % (hi - lo + 1);

			if (s->c[i].curr == NONE && !s->c[i].nr) {
				c = &s->c[i];
				v->pcpu = i;
				v->migrations++;
				break;
			}
		}
	}
	curr = curr_of(s, c);
	update_curr(s, c);
	if (lag < 0) {
		/* MODEL: DELAY_DEQUEUE/DELAY_ZERO, see the top of the file */
		s64 decay = (s64)((s->now - v->blocked_at) / (u64)(c->nr + 1));

		lag = lag + decay > 0 ? 0 : lag + decay;
	}
	if (lag > (s64)s->p.base_slice_ns)
		lag = (s64)s->p.base_slice_ns;
	avg = avg_vruntime(s, c);
	v->vruntime = (s64)avg - lag < 0 ? 0 : (u64)((s64)avg - lag);
	v->deadline = v->vruntime + s->p.base_slice_ns;
	vcpu_set_hs(s, v, H_READY);
	v->seg_start = s->now;
	rq_add(c, v);
	s->nr_runnable++;
	if (!curr) {
		schedule(s, c, DS_PREEMPT);
		return;
	}
	/* the woken task ends the halt polling of the current one */
	if (curr->polling) {
		kvm_poll_end(s, curr);
		return;	/* curr blocked; its schedule() picked */
	}
	if (curr->rt && !v->rt)
		return;
	if (v->rt && !curr->rt) {
		sched_resched(s, c);
		return;
	}
	if (pick(s, c, false) == v)
		sched_resched(s, c);
}

int sched_yield_to(struct sim *s, struct sim_vcpu *me, struct sim_vcpu *t)
{
	struct sim_pcpu *rq = PC(s, me), *p_rq = PC(s, t);

	if (rq->nr == 1 && p_rq->nr == 1)
		return -3;				/* -ESRCH */
	if (t->hs != H_READY)
		return 0;				/* task_on_cpu || !task_is_running */
	if (me->rt != t->rt)
		return 0;				/* sched_class differs */
	if (me->rt)
		return 0;				/* rt has no yield_to_task */
	/* yield_to_task_fair */
	p_rq->buddy = t->id;
	if (rq->nr > 1) {
		update_curr(s, rq);
		if (eligible(s, rq, me)) {
			me->vruntime = me->deadline;
			me->deadline = me->vruntime + s->p.base_slice_ns;
		}
		me->protect = false;
	}
	if (rq != p_rq)
		sched_resched(s, p_rq);
	schedule(s, rq, DS_YIELD);
	return 1;
}

void sched_set_rt(struct sim *s, struct sim_vcpu *v, bool rt)
{
	struct sim_pcpu *c = PC(s, v);
	struct sim_vcpu *curr = curr_of(s, c);

	if (v->rt == rt)
		return;
	if (v->hs == H_RUN)
		update_curr(s, c);
	v->rt = rt;
	v->rr_used = 0;
	if (!rt) {
		/* back to the fair class: placed like a waking entity, lag 0 */
		v->vruntime = avg_vruntime(s, c);
		v->deadline = v->vruntime + s->p.base_slice_ns;
		if (v->hs == H_RUN && c->nr > 1)
			schedule(s, c, DS_PREEMPT);
		return;
	}
	if (v->hs == H_READY && curr && !curr->rt)
		sched_resched(s, c);
}

/* oracle: the vCPU left its lock section; do the postponed preemption */
void sched_lock_section_left(struct sim *s, struct sim_vcpu *v)
{
	struct sim_pcpu *c = PC(s, v);

	if (!c->defer_resched || c->curr != v->id || in_lock_section(v))
		return;
	c->defer_resched = false;
	schedule(s, c, DS_PREEMPT);
}
