// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockd's tuning loop (daemon/tuner.c) on recorded per-period VM lists:
 * what it writes, when, and what it leaves alone. The policy is tune.h's
 * (tested in test_tune.c); here: deltas, baselines, resets, pins, bounds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tuner.h"

#define SEC 1000000000ull

struct rec {			/* one VM in one period, as GET_VMS reports it */
	uint32_t id, vcpus;
	uint64_t ecs, waiter, denied;
	uint32_t threshold, budget, min, max, pinned;
};

static struct pv_vm vmv[8];

static struct pv_vms vms_of(const struct rec *r, size_t n)
{
	struct pv_vms v = { .vm = vmv, .n = n, .cap = 8 };
	size_t i;

	memset(vmv, 0, sizeof(vmv));
	for (i = 0; i < n; i++) {
		struct pv_vm *m = &vmv[i];

		m->id = r[i].id;
		m->nr_vcpus = r[i].vcpus;
		snprintf(m->name, sizeof(m->name), "vm%u", r[i].id);
		m->stats[PVLOCK_HS_ECS_PREEMPTIONS] = r[i].ecs;
		m->stats[PVLOCK_HS_WAITER_PREEMPTIONS] = r[i].waiter;
		m->stats[PVLOCK_HS_BUDGET_DENIED] = r[i].denied;
		m->params.val[PVLOCK_P_SPIN_THRESHOLD] = r[i].threshold;
		m->params.val[PVLOCK_P_BUDGET] = r[i].budget;
		m->params.val[PVLOCK_P_SPIN_MIN] = r[i].min ? r[i].min : 256;
		m->params.val[PVLOCK_P_SPIN_MAX] = r[i].max ? r[i].max : PVLOCK_SPIN_STOCK;
		m->params.val[PVLOCK_P_PINNED] = r[i].pinned;
		m->params.present = (1u << PVLOCK_P_SPIN_THRESHOLD) | (1u << PVLOCK_P_BUDGET) |
				    (1u << PVLOCK_P_SPIN_MIN) | (1u << PVLOCK_P_SPIN_MAX) |
				    (1u << PVLOCK_P_PINNED);
	}
	return v;
}

static struct tuner t;
static struct pvlock_tune_cfg cfg;
static struct tuner_action act[8];

static int period(const struct rec *r, size_t n, uint32_t oc, uint64_t now, uint32_t gpin)
{
	struct pv_vms v = vms_of(r, n);

	return tuner_period(&t, &cfg, &v, gpin, oc, now, act, 8);
}

static int setup(void **state)
{
	(void)state;
	tuner_init(&t);
	pvlock_tune_cfg_default(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tuner_free(&t);
	return 0;
}

static bool sets(const struct tuner_action *a, uint32_t attr)
{
	return a->set.present & (1u << attr);
}

static void first_period_is_a_baseline(void **state)
{
	struct rec r = { .id = 1, .vcpus = 2, .budget = 1000 };

	(void)state;
	assert_int_equal(period(&r, 1, 400, 10 * SEC, 0), 0);
	/* next period under the same 400% overcommit: the overcommit cap (the
	 * simulator's, below the share stock/4) sets the hint */
	assert_int_equal(period(&r, 1, 400, 11 * SEC, 0), 1);
	assert_int_equal(act[0].vm_id, 1);
	assert_string_equal(act[0].name, "vm1");
	assert_true(sets(&act[0], PVLOCK_P_SPIN_THRESHOLD));
	assert_false(sets(&act[0], PVLOCK_P_BUDGET));	/* budget unchanged: not written */
	assert_int_equal(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD], PVLOCK_TUNE_OVER_MAX_DEFAULT);
	assert_int_equal(act[0].old_threshold, 0);
	assert_int_equal(act[0].d.why, PVLOCK_TUNE_OVERCOMMIT);
	assert_int_equal(act[0].overcommit_pct, 400);
}

static void the_module_holds_the_state(void **state)
{
	/* the module now reports what was written: nothing more to do */
	struct rec r = { .id = 1, .vcpus = 2, .budget = 1000, .threshold = PVLOCK_TUNE_OVER_MAX_DEFAULT };

	(void)state;
	assert_int_equal(period(&r, 1, 400, 10 * SEC, 0), 0);
	assert_int_equal(period(&r, 1, 400, 11 * SEC, 0), 0);
	/* an operator set a value by hand without pinning it: below the cap it stays */
	r.threshold = 900;
	assert_int_equal(period(&r, 1, 400, 12 * SEC, 0), 0);
	/* above the cap the policy brings it down, starting from the module's value */
	r.threshold = 20000;
	assert_int_equal(period(&r, 1, 400, 13 * SEC, 0), 1);
	assert_int_equal(act[0].old_threshold, 20000);
	assert_int_equal(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD], PVLOCK_TUNE_OVER_MAX_DEFAULT);
}

static void lhp_from_counter_deltas(void **state)
{
	/* 2 vCPUs, 1 s periods; 100 eCS + 100 waiter preemptions = 100 per vCPU-s */
	struct rec r = { .id = 7, .vcpus = 2, .budget = 1000, .threshold = 8192 };
	int n;

	(void)state;
	assert_int_equal(period(&r, 1, 100, 10 * SEC, 0), 0);
	r.ecs += 100;
	r.waiter += 100;
	n = period(&r, 1, 100, 11 * SEC, 0);
	assert_int_equal(n, 1);
	assert_int_equal(act[0].d.why, PVLOCK_TUNE_LHP);
	assert_int_equal(act[0].lhp_rate, 100);
	assert_int_equal(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD], 4096);
	/* the same totals (no new preemptions): calm, nothing yet */
	r.threshold = 4096;
	assert_int_equal(period(&r, 1, 100, 12 * SEC, 0), 0);
	/* 9 events in 3 s on 2 vCPUs: 1.5/vCPU-s, still calm */
	r.ecs += 9;
	assert_int_equal(period(&r, 1, 100, 15 * SEC, 0), 0);
	/* third calm period: relax (double) */
	n = period(&r, 1, 100, 16 * SEC, 0);
	assert_int_equal(n, 1);
	assert_int_equal(act[0].d.why, PVLOCK_TUNE_RELAX);
	assert_int_equal(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD], 8192);
}

static void counter_reset_starts_over(void **state)
{
	struct rec r = { .id = 3, .vcpus = 1, .budget = 1000, .threshold = 8192, .ecs = 5000 };

	(void)state;
	assert_int_equal(period(&r, 1, 100, 10 * SEC, 0), 0);
	/* "pvlockctl reset": counters back near zero. Not a negative delta, not a storm */
	r.ecs = 3;
	assert_int_equal(period(&r, 1, 100, 11 * SEC, 0), 0);
	r.ecs = 1003;	/* 1000 in the next second: real LHP */
	assert_int_equal(period(&r, 1, 100, 12 * SEC, 0), 1);
	assert_int_equal(act[0].d.why, PVLOCK_TUNE_LHP);
}

static void pinned_values_are_left_alone(void **state)
{
	struct rec r[2] = {
		{ .id = 1, .vcpus = 2, .budget = 1000 },
		{ .id = 2, .vcpus = 2, .budget = 1000, .threshold = 8192, .pinned = PVLOCK_PIN_THRESHOLD },
	};
	int i, n;

	(void)state;
	assert_int_equal(period(r, 2, 300, 10 * SEC, 0), 0);
	/* 500 LHP per vCPU-s: halved each period, from the 300% cap down to the floor */
	for (i = 0; i < 8; i++) {
		r[0].ecs += 1000;
		r[1].ecs += 1000;
		r[0].denied += 10;
		r[1].denied += 10;
		n = period(r, 2, 300, (uint64_t)(11 + i) * SEC, 0);
		while (n-- > 0) {
			if (act[n].vm_id == 2) {
				/* its budget is not pinned and may move; its threshold never */
				assert_false(sets(&act[n], PVLOCK_P_SPIN_THRESHOLD));
				assert_true(sets(&act[n], PVLOCK_P_BUDGET));
				r[1].budget = act[n].set.val[PVLOCK_P_BUDGET];
			} else {
				r[0].threshold = act[n].set.val[PVLOCK_P_SPIN_THRESHOLD];
				if (sets(&act[n], PVLOCK_P_BUDGET))
					r[0].budget = act[n].set.val[PVLOCK_P_BUDGET];
			}
		}
	}
	/* the unpinned VM was cut down to the floor, its budget raised */
	assert_int_equal(r[0].threshold, 256);
	assert_true(r[0].budget > 1000);
	assert_int_equal(r[1].threshold, 8192);

	/* everything pinned, here globally: no action at all */
	r[0].ecs += 1000;
	r[0].denied += 10;
	assert_int_equal(period(r, 2, 300, 20 * SEC, PVLOCK_PIN_ALL), 0);
}

static void the_vms_own_bounds(void **state)
{
	/* the VM's own [min, max] in pvlock_host is narrower: the write must fit it */
	struct rec r = { .id = 4, .vcpus = 2, .budget = 1000, .min = 2048, .max = 4096 };

	(void)state;
	assert_int_equal(period(&r, 1, 1000, 10 * SEC, 0), 0);
	assert_int_equal(period(&r, 1, 1000, 11 * SEC, 0), 1);
	/* 10x overcommit would give 3276; the VM's floor is 2048... and its max 4096 */
	assert_true(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD] >= 2048);
	assert_true(act[0].set.val[PVLOCK_P_SPIN_THRESHOLD] <= 4096);
}

static void vms_come_and_go(void **state)
{
	struct rec a = { .id = 1, .vcpus = 1, .budget = 1000 }, b = { .id = 2, .vcpus = 1, .budget = 1000 };
	struct rec both[2];

	(void)state;
	assert_int_equal(period(&a, 1, 200, 10 * SEC, 0), 0);
	both[0] = a;
	both[1] = b;
	/* a is tuned; b is new: baseline only */
	assert_int_equal(period(both, 2, 200, 11 * SEC, 0), 1);
	assert_int_equal(act[0].vm_id, 1);
	assert_int_equal(t.n, 2);
	/* a exits: forgotten; if its id comes back it is a new VM (baseline again) */
	assert_int_equal(period(&b, 1, 200, 12 * SEC, 0), 1);
	assert_int_equal(act[0].vm_id, 2);
	assert_int_equal(t.n, 1);
	b.threshold = act[0].set.val[PVLOCK_P_SPIN_THRESHOLD];
	both[1] = b;
	assert_int_equal(period(both, 2, 200, 13 * SEC, 0), 0);
	/* a module reload: every VM starts over */
	tuner_reset(&t);
	assert_int_equal(period(both, 2, 200, 14 * SEC, 0), 0);
	assert_int_equal(strcmp(tuner_reason(PVLOCK_TUNE_OVERCOMMIT), "overcommit"), 0);
}

static void budget_follows_denials(void **state)
{
	struct rec r = { .id = 9, .vcpus = 2, .budget = 1000, .threshold = 16384 };
	int n;

	(void)state;
	assert_int_equal(period(&r, 1, 200, 10 * SEC, 0), 0);
	r.denied = 50;
	n = period(&r, 1, 200, 11 * SEC, 0);
	assert_int_equal(n, 1);
	assert_true(sets(&act[0], PVLOCK_P_BUDGET));
	assert_int_equal(act[0].set.val[PVLOCK_P_BUDGET], 2000);
	assert_int_equal(act[0].old_budget, 1000);
	r.budget = 2000;
	/* no more denials: back by halves to the base */
	n = period(&r, 1, 200, 12 * SEC, 0);
	assert_int_equal(n, 1);
	assert_int_equal(act[0].set.val[PVLOCK_P_BUDGET], 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(first_period_is_a_baseline, setup, teardown),
		cmocka_unit_test_setup_teardown(the_module_holds_the_state, setup, teardown),
		cmocka_unit_test_setup_teardown(lhp_from_counter_deltas, setup, teardown),
		cmocka_unit_test_setup_teardown(counter_reset_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(pinned_values_are_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(the_vms_own_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(vms_come_and_go, setup, teardown),
		cmocka_unit_test_setup_teardown(budget_follows_denials, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
