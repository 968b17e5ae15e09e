// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests of the simulator, on small machines so that they run under
 * ASan+UBSan in seconds. Each checks an invariant that a modelling bug
 * would break; none checks a performance target (those are bench-sim's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

#define MS NSEC_PER_MSEC

/* 8 pCPUs, @vms VMs of @vcpus: small, overcommitted when vms * vcpus > 8 */
static struct sim_params small(u32 vms, u32 vcpus, bool torture)
{
	struct sim_params p;

	sim_params_default(&p);
	p.nr_pcpus = 8;
	p.nr_vms = vms;
	p.vcpus_per_vm = vcpus;
	p.llc_size = 8;
	p.duration_ns = 60 * MS;
	p.warmup_ns = 10 * MS;
	p.tune_period_ns = 10 * MS;
	p.budget_period_ms = 10;
	if (torture) {
		p.nr_locks = 1;
		p.hot_pct = 100;
		p.hold_ns = 800;
		p.user_ns = 0;
		p.kern_ns = 2000;
		p.ecs_ns = 500;
	} else {
		p.nr_locks = 4;	/* contended on 8 vCPUs as 16 locks are on 120 */
	}
	return p;
}

static struct sim *run_ok(const struct sim_params *p, enum sim_pol pol)
{
	struct sim *s = sim_new(p, pol);
	int err = sim_run(s);

	if (err)
		print_error("%s: %s\n", sim_policies[pol].name, s->err);
	assert_int_equal(err, 0);
	return s;
}

static u64 total_ops(const struct sim *s)
{
	u64 n = 0;

	for (unsigned int m = 0; m < s->p.nr_vms; m++)
		n += s->vm[m].st.ops;
	return n;
}

/*
 * Mutual exclusion (checked at every acquisition), queue consistency,
 * conservation of pCPU time and progress of every VM (checked at the end)
 * for every policy, on a lock-bound and on a gmake-like workload, at 1x,
 * 2x and 4x.
 */
static void invariants(enum sim_pol pol)
{
	const struct { u32 vms, vcpus; bool torture; } cases[] = {
		{ 1, 8, true }, { 2, 8, true }, { 4, 8, false }, { 2, 16, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_params p = small(cases[i].vms, cases[i].vcpus, cases[i].torture);

		sim_free(run_ok(&p, pol));
	}
}

static void invariants_stock(void **state) { (void)state; invariants(POL_STOCK); }
static void invariants_qsplus(void **state) { (void)state; invariants(POL_QSPLUS); }
static void invariants_ecs(void **state) { (void)state; invariants(POL_ECS); }
static void invariants_pvlock(void **state) { (void)state; invariants(POL_PVLOCK); }
static void invariants_oracle(void **state) { (void)state; invariants(POL_ORACLE); }

/* The same seed gives the same run, event for event; another seed does not. */
static void deterministic_for_a_seed(void **state)
{
	struct sim_params p = small(2, 8, false);

	(void)state;
	for (int pol = 0; pol < POL__N; pol++) {
		struct sim *a = run_ok(&p, (enum sim_pol)pol);
		struct sim *b = run_ok(&p, (enum sim_pol)pol);
		struct sim *c;
		struct sim_params q = p;

		assert_int_equal(a->trace_hash, b->trace_hash);
		assert_int_equal(a->events, b->events);
		assert_int_equal(total_ops(a), total_ops(b));
		assert_memory_equal(&a->st, &b->st, sizeof(a->st));
		q.seed = p.seed + 1;
		c = run_ok(&q, (enum sim_pol)pol);
		assert_int_not_equal(a->trace_hash, c->trace_hash);
		sim_free(a);
		sim_free(b);
		sim_free(c);
	}
}

/* The oracle never preempts a vCPU that holds or spins on a lock. */
static void oracle_has_no_lhp(void **state)
{
	struct sim_params p = small(2, 16, false);
	struct sim *s;

	(void)state;
	s = run_ok(&p, POL_ORACLE);
	for (unsigned int m = 0; m < p.nr_vms; m++) {
		assert_int_equal(s->vm[m].st_all.lhp, 0);
		assert_int_equal(s->vm[m].st_all.lwp, 0);
	}
	/* ... while the others, on the same machine, see plenty */
	sim_free(s);
	s = run_ok(&p, POL_STOCK);
	assert_true(s->vm[0].st_all.lhp + s->vm[1].st_all.lhp +
		    s->vm[0].st_all.lwp + s->vm[1].st_all.lwp > 10);
	sim_free(s);
}

/*
 * The oracle is the limit: no policy beats it by more than noise (2%,
 * three seeds summed) on overcommitted machines.
 */
static void oracle_bounds_every_policy(void **state)
{
	const struct { u32 vms, vcpus; bool torture; } cases[] = {
		{ 2, 8, false }, { 4, 8, false }, { 2, 16, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		u64 ops[POL__N] = { 0 };

		for (u64 seed = 1; seed <= 3; seed++) {
			struct sim_params p = small(cases[i].vms, cases[i].vcpus, cases[i].torture);

			p.seed = seed;
			for (int pol = 0; pol < POL__N; pol++) {
				struct sim *s = run_ok(&p, (enum sim_pol)pol);

				ops[pol] += total_ops(s);
				sim_free(s);
			}
		}
		for (int pol = 0; pol < POL__N; pol++) {
			if (ops[pol] * 100 > ops[POL_ORACLE] * 102)
				print_error("case %zu: %s %llu > oracle %llu\n", i, sim_policies[pol].name,
					    (unsigned long long)ops[pol],
					    (unsigned long long)ops[POL_ORACLE]);
			assert_true(ops[pol] * 100 <= ops[POL_ORACLE] * 102);
		}
	}
}

/*
 * pvlock's boosts never exceed the token bucket of budget.h: with a
 * budget fixed (pvlockd off) at 20 per 10 ms, a lock-bound VM at 4x
 * overcommit can boost at most
 * 20 + 20 * t / 10 ms times in t. The budget must also bite (denials).
 */
static void budget_never_exceeded(void **state)
{
	struct sim_params p = small(2, 16, true);
	struct sim *s;
	u64 denied = 0;

	(void)state;
	p.budget = 20;
	p.cross_budget = 5;
	p.pv_tune = 0;
	s = run_ok(&p, POL_PVLOCK);
	for (unsigned int m = 0; m < p.nr_vms; m++) {
		u64 given = s->vm[m].st_all.yields_budgeted;
		u64 cap = p.budget + p.budget * p.duration_ns / (p.budget_period_ms * MS);

		assert_true(given > 0);
		assert_true(given <= cap);
		denied += s->vm[m].st_all.budget_denied;
	}
	assert_true(denied > 0);
	sim_free(s);
}

/*
 * Stock facts the model must reproduce: a waiter behind a preempted holder
 * spins SPIN_THRESHOLD (1 << 15) iterations, then halts; and the pending
 * bit of a queue head blocks stealing. One pCPU, two vCPUs, one lock held
 * for 10 ms (always across a tick); PLE exits pushed out of the way.
 */
static void stock_spins_2_15_then_halts(void **state)
{
	struct sim_params p;
	struct sim *s;
	const struct sim_vm_stats *st;

	(void)state;
	sim_params_default(&p);
	p.nr_pcpus = 1;
	p.nr_vms = 1;
	p.vcpus_per_vm = 2;
	p.nr_locks = 1;
	p.hot_pct = 100;
	p.hold_min_ns = 10 * MS;
	p.hold_ns = 0;
	p.user_ns = 0;
	p.kern_ns = 1000;
	p.ecs_ns = 0;
	p.idle_every_ns = 0;
	p.ple_window = p.ple_window_max = 65535;	/* no PLE exit within 2^15 */
	p.halt_poll_max_ns = 0;
	p.duration_ns = 200 * MS;
	p.warmup_ns = 0;
	s = run_ok(&p, POL_STOCK);
	st = &s->vm[0].st;
	assert_true(st->halts > 3);
	/* every halt came after a full round of 2^15 iterations */
	assert_true(s->st.spin_ns >= st->halts * PVLOCK_SPIN_STOCK * p.iter_ns);
	assert_true(s->st.spin_ns <= (st->halts + 1) * PVLOCK_SPIN_STOCK * p.iter_ns);
	sim_free(s);
}

/*
 * pvlock on the same machine: the waiter gives up after its threshold and
 * yields to the preempted holder (same VM, eCS) instead of halting.
 */
static void pvlock_yields_to_preempted_holder(void **state)
{
	struct sim_params p;
	struct sim *s;
	const struct sim_vm_stats *st;

	(void)state;
	sim_params_default(&p);
	p.nr_pcpus = 1;
	p.nr_vms = 1;
	p.vcpus_per_vm = 2;
	p.nr_locks = 1;
	p.hot_pct = 100;
	p.hold_min_ns = 10 * MS;
	p.hold_ns = 0;
	p.user_ns = 0;
	p.kern_ns = 1000;
	p.ecs_ns = 0;
	p.idle_every_ns = 0;
	p.duration_ns = 200 * MS;
	p.warmup_ns = 0;
	s = run_ok(&p, POL_PVLOCK);
	st = &s->vm[0].st;
	assert_true(st->yields > 3);
	assert_true(st->boosts_rcvd > 3);
	assert_int_equal(st->yields_cross, 0);
	sim_free(s);
}

/*
 * The real policy code is exercised: threshold.h decides windows and
 * stays within its bounds and the host's hint, tune.h runs every period,
 * boost.h picks.
 */
static void pvlock_runs_the_real_policy_code(void **state)
{
	struct sim_params p = small(2, 8, true);
	struct sim *s;
	u64 decisions = 0;

	(void)state;
	s = run_ok(&p, POL_PVLOCK);
	for (int i = 0; i < 8; i++)
		decisions += s->thr_why[i];
	assert_true(decisions > 0);
	assert_true(s->st.tune_periods >= 5);
	assert_true(s->vm[0].st_all.yields + s->vm[1].st_all.yields > 0);
	for (int i = 0; i < s->nv; i++) {
		u32 t = s->v[i].thr.threshold, hint = s->vm[s->v[i].vm].hint;

		assert_true(t >= s->tcfg.min && t <= s->tcfg.max);
		if (hint)
			assert_true(pvlock_thresh_for_mode(&s->v[i].thr, &s->tcfg, PVLOCK_MODE_ADAPTIVE,
							   0, hint) <= hint);
	}
	sim_free(s);
}

/* Undercommitted, nothing is ever preempted: every policy is the same run. */
static void undercommitted_policies_agree(void **state)
{
	struct sim_params p = small(1, 4, false);
	u64 ops[POL__N];

	(void)state;
	for (int pol = 0; pol < POL__N; pol++) {
		struct sim *s = run_ok(&p, (enum sim_pol)pol);

		ops[pol] = total_ops(s);
		assert_int_equal(s->vm[0].st_all.lhp, 0);
		sim_free(s);
	}
	for (int pol = 1; pol < POL__N; pol++)
		assert_true(ops[pol] * 1000 >= ops[POL_STOCK] * 995 &&
			    ops[pol] * 1000 <= ops[POL_STOCK] * 1005);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(invariants_stock),
		cmocka_unit_test(invariants_qsplus),
		cmocka_unit_test(invariants_ecs),
		cmocka_unit_test(invariants_pvlock),
		cmocka_unit_test(invariants_oracle),
		cmocka_unit_test(deterministic_for_a_seed),
		cmocka_unit_test(oracle_has_no_lhp),
		cmocka_unit_test(oracle_bounds_every_policy),
		cmocka_unit_test(budget_never_exceeded),
		cmocka_unit_test(stock_spins_2_15_then_halts),
		cmocka_unit_test(pvlock_yields_to_preempted_holder),
		cmocka_unit_test(pvlock_runs_the_real_policy_code),
		cmocka_unit_test(undercommitted_policies_agree),
	};

	return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
