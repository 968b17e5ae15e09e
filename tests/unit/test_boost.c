// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pvlock/boost.h>

#define US 1000ull
#define P PVLOCK_CAND_PREEMPTED
#define OK PVLOCK_CAND_KVM_OK
#define SAME PVLOCK_CAND_SAME_VM
#define KNOWN PVLOCK_CAND_ECS_KNOWN
#define ECS (PVLOCK_CAND_ECS_KNOWN | PVLOCK_CAND_IN_ECS)

static const struct pvlock_boost_cfg same_only = { .cross_vm = false, .cooldown_ns = 100 * US };
static const struct pvlock_boost_cfg cross = { .cross_vm = true, .cooldown_ns = 100 * US };

static void ineligible_ones_are_never_picked(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = OK | SAME | ECS },				/* running */
		{ .flags = P | OK | SAME | ECS | PVLOCK_CAND_BLOCKED },	/* halted */
		{ .flags = P | SAME | ECS },				/* KVM says no */
		{ .flags = P | OK | SAME | ECS | PVLOCK_CAND_WAITING },	/* a waiter */
		{ .flags = P | OK | SAME | ECS | PVLOCK_CAND_SELF },	/* the caller */
		{ .flags = P | OK | SAME | KNOWN },			/* known outside eCS */
		{ .flags = P | OK | ECS },				/* other VM, cross off */
	};

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 7, 0, &same_only, 0), -1);
	for (unsigned int i = 0; i < 7; i++)
		assert_int_equal(pvlock_boost_score(&c[i], &same_only, 0), PVLOCK_SCORE_NONE);
}

static void same_vm_first_even_without_ecs(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = P | OK | ECS },		/* other VM, in eCS */
		{ .flags = P | OK | SAME },		/* same VM, no info */
	};

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &cross, 0), 1);
	/* without the same-VM one, the other VM's is taken when allowed */
	assert_int_equal(pvlock_boost_pick(c, 1, 0, &cross, 0), 0);
	assert_int_equal(pvlock_boost_pick(c, 1, 0, &same_only, 0), -1);
}

static void hinted_beats_ecs_beats_unknown(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = P | OK | SAME },				/* no info */
		{ .flags = P | OK | SAME | ECS },			/* in eCS */
		{ .flags = P | OK | SAME | KNOWN | PVLOCK_CAND_HINTED },/* named, outside eCS */
	};

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 3, 0, &same_only, 0), 2);
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &same_only, 0), 1);
}

static void ties_round_robin_from_start(void **state)
{
	struct pvlock_cand c[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		c[i] = (struct pvlock_cand){ .flags = P | OK | SAME | ECS };
	assert_int_equal(pvlock_boost_pick(c, 4, 0, &same_only, 0), 0);
	assert_int_equal(pvlock_boost_pick(c, 4, 2, &same_only, 0), 2);
	assert_int_equal(pvlock_boost_pick(c, 4, 7, &same_only, 0), 3);
}

static void recently_boosted_yields_to_fresh(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = P | OK | SAME | ECS, .boosted_ns = 950 * US },
		{ .flags = P | OK | SAME | ECS, .boosted_ns = 0 },
	};

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &same_only, 1000 * US), 1);
	/* after the cooldown both are fresh again; round robin decides */
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &same_only, 2000 * US), 0);
}

static void longer_preempted_first_capped(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = P | OK | SAME | ECS, .preempted_ns = 900 * US },
		{ .flags = P | OK | SAME | ECS, .preempted_ns = 100 * US },
	};
	struct pvlock_cand far = { .flags = P | OK | SAME | ECS, .preempted_ns = 0 };

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &same_only, 1000 * US), 1);
	/* age never outweighs a category */
	assert_true(pvlock_boost_score(&far, &same_only, UINT64_MAX) <
		    PVLOCK_SCORE_SAME_VM + PVLOCK_SCORE_ECS + PVLOCK_SCORE_FRESH + 500);
	/* a clock behind the preemption stamp adds nothing and does not wrap */
	assert_int_equal(pvlock_boost_score(&c[0], &same_only, 0),
			 PVLOCK_SCORE_SAME_VM + PVLOCK_SCORE_ECS + PVLOCK_SCORE_FRESH);
}

static void empty_set(void **state)
{
	(void)state;
	assert_int_equal(pvlock_boost_pick(NULL, 0, 5, &cross, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ineligible_ones_are_never_picked),
		cmocka_unit_test(same_vm_first_even_without_ecs),
		cmocka_unit_test(hinted_beats_ecs_beats_unknown),
		cmocka_unit_test(ties_round_robin_from_start),
		cmocka_unit_test(recently_boosted_yields_to_fresh),
		cmocka_unit_test(longer_preempted_first_capped),
		cmocka_unit_test(empty_set),
	};

	return cmocka_run_group_tests_name("boost", tests, NULL, NULL);
}
