// SPDX-License-Identifier: GPL-2.0
/*
 * The event loop and the bookkeeping around it: time accounting of every
 * pCPU (guest work, spinning, host overhead, halt polling, idle), per-VM
 * counters, and the invariants a run must keep.
 *
 * Time is in nanoseconds. A vCPU's pending work (think time, critical
 * section, spin loop, host overhead) only advances while it runs; every
 * change of its state first brings it up to date (vcpu_sync) and then
 * schedules its next decision (vcpu_arm). Stale heap entries carry an old
 * generation number and are skipped. Ties are broken by insertion order,
 * so a run depends on its parameters and seed only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_params_default(struct sim_params *p)
{
	*p = (struct sim_params){
		.nr_pcpus = 120, .nr_vms = 2, .vcpus_per_vm = 120,
		.nr_locks = 16, .hot_pct = 15,
		.hold_min_ns = 200, .hold_ns = 600,
		.user_ns = 20000, .kern_ns = 8000, .ecs_ns = 2000,
		.idle_every_ns = 2 * NSEC_PER_MSEC, .idle_ns = 100 * NSEC_PER_USEC,
		.duration_ns = 200 * NSEC_PER_MSEC, .warmup_ns = 20 * NSEC_PER_MSEC,
		.seed = 1,
		.iter_ns = 20, .exit_ns = 1000, .ple_ns = 1500, .switch_ns = 2000,
		.wake_idle_ns = 4000, .handoff_ns = 100,
		.tick_ns = 4 * NSEC_PER_MSEC, .base_slice_ns = 0,
		.ple_window = 3000, .ple_window_max = 65535,
		.halt_poll_max_ns = 200000, .rr_slice_ns = 100 * NSEC_PER_MSEC,
		.llc_size = 8, .migration_cost_ns = 500 * NSEC_PER_USEC,
		.budget = 1000, .cross_budget = 200, .budget_period_ms = 100,
		.cross_vm = true, .cooldown_ns = 100 * NSEC_PER_USEC,
		.tune_period_ns = 20 * NSEC_PER_MSEC,
		.pv_adaptive = 1, .pv_early_preempted = 1, .pv_bound_trylock = 1, .pv_holder = 1,
		.pv_halt_after = 0, .pv_ple = 1, .pv_tune = 1, .pv_kick_yield = 1,
	};
}

#define P64(f) { #f, offsetof(struct sim_params, f), 8 }
#define P32(f) { #f, offsetof(struct sim_params, f), 4 }
static const struct { const char *name; size_t off; int size; } settable[] = {
	P32(nr_locks), P32(hot_pct), P64(hold_min_ns), P64(hold_ns), P64(user_ns),
	P64(kern_ns), P64(ecs_ns), P64(idle_every_ns), P64(idle_ns), P64(iter_ns), P64(exit_ns), P64(ple_ns), P64(switch_ns),
	P64(wake_idle_ns), P64(handoff_ns), P64(tick_ns), P64(base_slice_ns),
	P32(ple_window), P32(ple_window_max), P64(halt_poll_max_ns), P32(llc_size),
	P64(migration_cost_ns), P32(budget),
	P32(cross_budget), P32(budget_period_ms), P64(cooldown_ns), P64(tune_period_ns),
	P32(pv_adaptive), P32(pv_fixed), P32(pv_oc_hint), P32(pv_denied_spin), P32(pv_early_preempted), P32(pv_bound_trylock), P32(pv_holder), P32(pv_halt_after),
	P32(pv_ple), P32(pv_tune), P32(pv_kick_yield), P32(pv_kick_early),
	P32(head_not_waiting),
};

int sim_param_set(struct sim_params *p, const char *name, const char *val)
{
	char *end;
	unsigned long long v = strtoull(val, &end, 0);

	if (!*val || *end)
		return -2;
	for (size_t i = 0; i < sizeof(settable) / sizeof(settable[0]); i++) {
		if (strcmp(settable[i].name, name))
			continue;
		if (settable[i].size == 8)
			*(u64 *)((char *)p + settable[i].off) = v;
		else
			*(u32 *)((char *)p + settable[i].off) = (u32)v;
		return 0;
	}
	return -1;
}

void sim_param_list(FILE *f)
{
	struct sim_params d;

	sim_params_default(&d);
	for (size_t i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
		fprintf(f, "  %-20s %llu\n", settable[i].name, settable[i].size == 8 ?
			(unsigned long long)*(u64 *)((char *)&d + settable[i].off) :
			(unsigned long long)*(u32 *)((char *)&d + settable[i].off));
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

bool measuring(const struct sim *s)
{
	return s->now >= s->p.warmup_ns;
}

struct sim_vm_stats *vst(struct sim *s, const struct sim_vcpu *v)
{
	return &s->vm[v->vm].st_all;
}

/* st = st_all - st_base, counter by counter (all u64) */
static void measured_stats(struct sim *s)
{
	for (unsigned int m = 0; m < s->p.nr_vms; m++) {
		struct sim_vm *vm = &s->vm[m];
		const u64 *a = (const u64 *)&vm->st_all, *b = (const u64 *)&vm->st_base;
		u64 *d = (u64 *)&vm->st;

		for (size_t i = 0; i < sizeof(vm->st) / sizeof(u64); i++)
			d[i] = a[i] - b[i];
		vm->st.wait_max_ns = vm->st_all.wait_max_ns;
	}
}

/* add the part of [from, to) inside the measured window */
static void acct(struct sim *s, u64 *field, u64 from, u64 to)
{
	u64 lo = from > s->p.warmup_ns ? from : s->p.warmup_ns;
	u64 hi = to < s->p.duration_ns ? to : s->p.duration_ns;

	if (hi > lo)
		*field += hi - lo;
}

void sim_acct_idle(struct sim *s, struct sim_pcpu *c)
{
	acct(s, &s->st.idle_ns, c->idle_since, s->now);
	c->idle_since = s->now;
}

static u64 take(u64 *left, u64 d)
{
	u64 x = *left < d ? *left : d;

	*left -= x;
	return x;
}

void vcpu_sync(struct sim *s, struct sim_vcpu *v)
{
	u64 from = v->seg_start, d, x;

	v->seg_start = s->now;
	if (v->hs != H_RUN || s->now <= from)
		return;
	d = s->now - from;
	if (v->ovh_left) {
		x = take(&v->ovh_left, d);
		acct(s, &s->st.ovh_ns, from, from + x);
		from += x;
		d -= x;
		if (!d)
			return;
	}
	if (v->polling) {
		acct(s, &s->st.poll_ns, from, s->now);
		return;
	}
	switch (v->gp) {
	case G_THINK:
		x = take(&v->think_left, d);
		break;
	case G_CS:
		x = take(&v->cs_left, d);
		break;
	case G_IDLE:
		acct(s, &s->st.ovh_ns, from, s->now);
		return;
	default:
		if (v->waiting || v->resume) {
			acct(s, &s->st.ovh_ns, from, s->now);
			return;
		}
		v->spin_ns += d;
		v->ple_ns += d;
		v->wait_spins_ns += d;
		acct(s, &s->st.spin_ns, from, s->now);
		return;
	}
	acct(s, &s->st.work_ns, from, from + x);
	if (x < d)
		sim_fail(s, "time: vcpu %d ran %llu ns past its next event (phase %d)",
			 v->id, (unsigned long long)(d - x), v->gp);
}

void vcpu_arm(struct sim *s, struct sim_vcpu *v)
{
	u64 t;

	vcpu_sync(s, v);
	if (v->hs != H_RUN)
		t = UINT64_MAX;
	else if (v->ovh_left || v->resume)
		t = s->now + v->ovh_left;
	else if (v->polling)
		t = v->poll_until;
	else
		t = guest_next_event(s, v);
	if (t == v->ev_at)
		return;		/* the pending event stands */
	v->gen++;
	v->ev_at = t;
	if (t != UINT64_MAX)
		ev_push(s, t, EV_VCPU, v->id, v->gen);
}

/* ---- event heap ----------------------------------------------------------- */

static bool ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

void ev_push(struct sim *s, u64 t, u32 kind, int id, u32 gen)
{
	size_t i;

	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (!s->heap) {
			fprintf(stderr, "pvlock-sim: out of memory\n");
			exit(2);
		}
	}
	i = s->nheap++;
	s->heap[i] = (struct sim_ev){ .t = t, .seq = s->seq++, .kind = kind, .id = id, .gen = gen };
	while (i) {
		size_t up = (i - 1) / 2;
		struct sim_ev tmp;

		if (!ev_less(&s->heap[i], &s->heap[up]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[up];
		s->heap[up] = tmp;
		i = up;
	}
}

static struct sim_ev ev_pop(struct sim *s)
{
	struct sim_ev top = s->heap[0];
	size_t i = 0;

	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct sim_ev tmp;

		if (l < s->nheap && ev_less(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->nheap && ev_less(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = tmp;
		i = m;
	}
	return top;
}

/* ---- setup ---------------------------------------------------------------- */

static void *zalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		fprintf(stderr, "pvlock-sim: out of memory\n");
		exit(2);
	}
	return p;
}

/* fair.c:get_update_sysctl_factor(), SCHED_TUNABLESCALING_LOG */
static u64 base_slice(u32 ncpus)
{
	u32 c = ncpus < 8 ? ncpus : 8, lg = 0;

	while (c >>= 1)
		lg++;
	return 700000ull * (1 + lg);
}

struct sim *sim_new(const struct sim_params *p, enum sim_pol pol)
{
	struct sim *s = zalloc(1, sizeof(*s));

	if (p->vcpus_per_vm > 512 || !p->nr_pcpus || !p->nr_vms || !p->vcpus_per_vm ||
	    !p->nr_locks || !p->iter_ns || p->warmup_ns >= p->duration_ns) {
		fprintf(stderr, "pvlock-sim: parameters out of range (1..512 vCPUs per VM, "
			"a pCPU, a lock, warm-up < duration)\n");
		exit(2);
	}
	s->p = *p;
	if (!s->p.base_slice_ns)
		s->p.base_slice_ns = base_slice(s->p.nr_pcpus);
	s->polv = sim_policies[pol];
	if (pol == POL_PVLOCK) {
		s->polv.adaptive = p->pv_adaptive;
		s->polv.early_preempted = p->pv_early_preempted;
		s->polv.bound_trylock = p->pv_bound_trylock;
		s->polv.name_holder = p->pv_holder;
		s->polv.on_spin = p->pv_ple ? SPIN_PVLOCK : SPIN_STOCK;
		s->polv.tune = p->pv_tune;
	}
	s->pol = &s->polv;
	s->pol_id = pol;
	s->nv = (int)(p->nr_vms * p->vcpus_per_vm);
	s->v = zalloc((size_t)s->nv, sizeof(*s->v));
	s->c = zalloc(p->nr_pcpus, sizeof(*s->c));
	s->vm = zalloc(p->nr_vms, sizeof(*s->vm));
	s->cand = zalloc((size_t)s->nv, sizeof(*s->cand));
	s->cand_id = zalloc((size_t)s->nv, sizeof(*s->cand_id));
	sim_rng_seed(&s->rng, p->seed, 0xffffffffull);
	s->trace_hash = 0xcbf29ce484222325ull;

	pvlock_thresh_cfg_default(&s->tcfg);
	pvlock_tune_cfg_default(&s->tune_cfg);
	s->tune_cfg.budget_base = p->budget;
	s->boost_cfg = (struct pvlock_boost_cfg){ .cross_vm = p->cross_vm,
						  .cooldown_ns = p->cooldown_ns };

	for (unsigned int i = 0; i < p->nr_pcpus; i++)
		s->c[i].rq = zalloc((size_t)s->nv, sizeof(int));
	for (unsigned int m = 0; m < p->nr_vms; m++) {
		struct sim_vm *vm = &s->vm[m];

		vm->first = (int)(m * p->vcpus_per_vm);
		vm->n = (int)p->vcpus_per_vm;
		vm->ready = zalloc((size_t)(vm->n + 63) / 64, sizeof(u64));
		vm->locks = zalloc(p->nr_locks, sizeof(*vm->locks));
		for (unsigned int l = 0; l < p->nr_locks; l++)
			vm->locks[l] = (struct sim_lock){ .holder = NONE, .hashed = NONE,
							  .qhead = NONE, .qtail = NONE,
							  .thead = NONE };
		kvm_init_vm(s, vm);
	}
	for (int i = 0; i < s->nv; i++) {
		struct sim_vcpu *v = &s->v[i];

		v->id = i;
		v->ev_at = UINT64_MAX;
		v->vm = i / (int)p->vcpus_per_vm;
		v->idx = i % (int)p->vcpus_per_vm;
		v->pcpu = i % (int)p->nr_pcpus;
		v->ple_window = p->ple_window;
		v->qs_last_boosted = 0;
		guest_init(s, v);
	}
	s->nr_runnable = s->nv;
	sched_init(s);
	return s;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->p.nr_pcpus; i++)
		free(s->c[i].rq);
	for (unsigned int m = 0; m < s->p.nr_vms; m++) {
		free(s->vm[m].locks);
		free(s->vm[m].ready);
	}
	free(s->v);
	free(s->c);
	free(s->vm);
	free(s->cand);
	free(s->cand_id);
	free(s->heap);
	free(s);
}

/* ---- run ------------------------------------------------------------------ */

static void vcpu_event(struct sim *s, struct sim_vcpu *v)
{
	vcpu_sync(s, v);
	if (v->hs != H_RUN)
		return;
	if (v->ovh_left) {
		vcpu_arm(s, v);
		return;
	}
	if (v->resume) {
		v->resume = false;
		guest_resume(s, v);
	} else if (v->polling) {
		if (s->now >= v->poll_until) {
			kvm_poll_end(s, v);
			return;
		}
	} else {
		guest_event(s, v);
	}
	vcpu_arm(s, v);
}

/* state that must hold whenever the loop is between events */
static void check_end(struct sim *s)
{
	u64 total = s->st.work_ns + s->st.spin_ns + s->st.ovh_ns + s->st.poll_ns + s->st.idle_ns;
	u64 want = (u64)s->p.nr_pcpus * (s->p.duration_ns - s->p.warmup_ns);

	if (total != want)
		sim_fail(s, "accounting: %llu ns of pCPU time, want %llu",
			 (unsigned long long)total, (unsigned long long)want);
	for (unsigned int m = 0; m < s->p.nr_vms; m++) {
		for (unsigned int l = 0; l < s->p.nr_locks; l++) {
			struct sim_lock *L = &s->vm[m].locks[l];

			if (L->holder != NONE && (V(s, L->holder)->gp != G_CS ||
						  V(s, L->holder)->lock != (int)l))
				sim_fail(s, "lock %u/%u: holder %d is not in its critical section",
					 m, l, L->holder);
			for (int id = L->qhead; id != NONE; id = V(s, id)->qnext)
				if (V(s, id)->gp != G_SLOW || V(s, id)->lock != (int)l)
					sim_fail(s, "lock %u/%u: queued vcpu %d is not waiting for it",
						 m, l, id);
		}
		if (!s->vm[m].st_all.ops)
			sim_fail(s, "progress: vm %u completed no critical section", m);
	}
}

int sim_run(struct sim *s)
{
	for (int i = 0; i < s->nv; i++)
		vcpu_arm(s, V(s, i));
	ev_push(s, s->p.tick_ns, EV_TICK, 0, 0);
	if (s->pol->tune)
		ev_push(s, s->p.tune_period_ns, EV_TUNE, 0, 0);
	ev_push(s, s->p.duration_ns, EV_END, 0, 0);
	ev_push(s, s->p.warmup_ns, EV_WARM, 0, 0);

	while (s->nheap && !s->err[0]) {
		struct sim_ev ev = ev_pop(s);

		s->now = ev.t;
		s->events++;
		switch (ev.kind) {
		case EV_END:
			goto done;
		case EV_TICK:
			for (unsigned int i = 0; i < s->p.nr_pcpus; i++)
				sched_tick(s, &s->c[i]);
			ev_push(s, s->now + s->p.tick_ns, EV_TICK, 0, 0);
			break;
		case EV_WARM:
			for (unsigned int m = 0; m < s->p.nr_vms; m++)
				s->vm[m].st_base = s->vm[m].st_all;
			break;
		case EV_TUNE:
			pvlockd_tune(s);
			ev_push(s, s->now + s->p.tune_period_ns, EV_TUNE, 0, 0);
			break;
		case EV_VCPU: {
			struct sim_vcpu *v = V(s, ev.id);

			if (ev.gen == v->gen) {
				v->ev_at = UINT64_MAX;
				vcpu_event(s, v);
			}
			break;
		}
		case EV_TIMER: {
			struct sim_vcpu *v = V(s, ev.id);

			if (ev.gen == v->tgen)
				guest_timer(s, v);
			break;
		}
		}
	}
done:
	if (s->err[0])
		return -1;
	for (int i = 0; i < s->nv; i++)
		vcpu_sync(s, V(s, i));
	for (unsigned int i = 0; i < s->p.nr_pcpus; i++)
		if (s->c[i].curr == NONE)
			sim_acct_idle(s, &s->c[i]);
	measured_stats(s);
	check_end(s);
	return s->err[0] ? -1 : 0;
}

void sim_result(const struct sim *s, struct sim_result *r)
{
	double secs = (double)(s->p.duration_ns - s->p.warmup_ns) / 1e9;
	double cpu = (double)s->p.nr_pcpus * (double)(s->p.duration_ns - s->p.warmup_ns);
	u64 ops = 0, lhp = 0, lwp = 0, wait = 0, slow = 0, y = 0, h = 0, ple = 0, den = 0;

	*r = (struct sim_result){ .ops_min_vm = -1 };
	for (unsigned int m = 0; m < s->p.nr_vms; m++) {
		const struct sim_vm_stats *st = &s->vm[m].st;

		ops += st->ops;
		lhp += st->lhp;
		lwp += st->lwp;
		wait += st->wait_ns;
		slow += st->slowpaths;
		y += st->yields;
		h += st->halts;
		ple += st->ple_exits;
		den += st->budget_denied;
		if (r->ops_min_vm < 0 || st->ops / secs < r->ops_min_vm)
			r->ops_min_vm = st->ops / secs;
	}
	r->ops_per_s = ops / secs;
	r->spin_pct = 100.0 * s->st.spin_ns / cpu;
	r->idle_pct = 100.0 * s->st.idle_ns / cpu;
	r->ovh_pct = 100.0 * (s->st.ovh_ns + s->st.poll_ns) / cpu;
	r->lhp_per_s = lhp / secs;
	r->lwp_per_s = lwp / secs;
	r->wait_mean_us = slow ? wait / 1e3 / slow : 0;
	r->yields_per_s = y / secs;
	r->halts_per_s = h / secs;
	r->ple_per_s = ple / secs;
	r->budget_denied = den;
	r->events = s->events;
}
