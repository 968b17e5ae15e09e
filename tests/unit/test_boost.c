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

/*
 * A waiter named by its own VM's waiter (the holder waiting for another
 * lock, or the queue predecessor) is eligible; named from another VM, or
 * not named, it is not.
 */
static void a_named_waiter_of_the_same_vm_is_eligible(void **state)
{
	struct pvlock_cand c[] = {
		{ .flags = P | OK | SAME | ECS },				/* in eCS */
		{ .flags = P | OK | SAME | KNOWN | PVLOCK_CAND_WAITING |
			   PVLOCK_CAND_HINTED },				/* named waiter */
		{ .flags = P | OK | ECS | PVLOCK_CAND_WAITING | PVLOCK_CAND_HINTED },
	};

	(void)state;
	assert_int_equal(pvlock_boost_pick(c, 2, 0, &same_only, 0), 1);
	assert_true(pvlock_boost_score(&c[1], &same_only, 0) > pvlock_boost_score(&c[0], &same_only, 0));
	/* another VM's waiter stays out, named or not */
	assert_int_equal(pvlock_boost_score(&c[2], &cross, 0), PVLOCK_SCORE_NONE);
	/* not named: out */
	c[1].flags &= ~PVLOCK_CAND_HINTED;
	assert_int_equal(pvlock_boost_score(&c[1], &same_only, 0), PVLOCK_SCORE_NONE);
	/* named but not preempted, or KVM says no: out */
	c[1].flags |= PVLOCK_CAND_HINTED;
	c[1].flags &= ~P;
	assert_int_equal(pvlock_boost_score(&c[1], &same_only, 0), PVLOCK_SCORE_NONE);
	c[1].flags |= P;
	c[1].flags &= ~OK;
	assert_int_equal(pvlock_boost_score(&c[1], &same_only, 0), PVLOCK_SCORE_NONE);
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

/* KVM's rules (kvm_vcpu_on_spin, 6.1/6.12): each one can refuse alone. */
static void kvm_rules_each_refuse(void **state)
{
	const struct pvlock_kvm_view ok = { .ready = true, .preempted = true, .in_kernel = true };
	struct pvlock_kvm_view v;

	(void)state;
	assert_true(pvlock_kvm_eligible(&ok, true));
	v = ok;
	v.ready = false;				/* running, or not runnable */
	assert_false(pvlock_kvm_eligible(&v, true));
	v = ok;
	v.blocking = true;				/* halted, nothing pending */
	assert_false(pvlock_kvm_eligible(&v, true));
	v.dy_runnable = true;				/* halted with a wake-up pending */
	assert_true(pvlock_kvm_eligible(&v, true));
	v = ok;
	v.in_kernel = false;				/* preempted in user mode ... */
	assert_false(pvlock_kvm_eligible(&v, true));
	assert_true(pvlock_kvm_eligible(&v, false));	/* ... fine for a user-mode spinner */
	v = ok;
	v.in_spin_loop = true;				/* spinning itself */
	assert_false(pvlock_kvm_eligible(&v, true));
	v.dy_eligible = true;				/* KVM's every-other-time pass */
	assert_true(pvlock_kvm_eligible(&v, true));
}

/* Nobody is served by pvlock's on_spin, or boosts across, without opting in. */
static void cross_and_on_spin_are_opt_in(void **state)
{
	(void)state;
	assert_true(pvlock_cross_opted_in(PVLOCK_F_ALL, 1));
	assert_false(pvlock_cross_opted_in(PVLOCK_F_ALL & ~PVLOCK_F_CROSS_VM, 1));
	assert_false(pvlock_cross_opted_in(PVLOCK_F_ALL, 0));
	assert_false(pvlock_cross_opted_in(0, 1));		/* no pvlock_guest at all */
	assert_true(pvlock_serves_on_spin(2, PVLOCK_F_ALL, 1));
	assert_false(pvlock_serves_on_spin(0, PVLOCK_F_ALL, 1));	/* nothing registered */
	assert_false(pvlock_serves_on_spin(2, PVLOCK_F_ALL & ~PVLOCK_F_CROSS_VM, 1));
	assert_false(pvlock_serves_on_spin(2, PVLOCK_F_ALL, 0));
}

/* The host's streaming choice is the array choice, offer by offer. */
static void offers_pick_as_the_array_does(void **state)
{
	struct pvlock_cand c[6] = {
		{ .flags = P | OK | ECS, .preempted_ns = 10 * US },
		{ .flags = P | OK | SAME },
		{ .flags = P | OK | SAME | ECS | PVLOCK_CAND_WAITING },
		{ .flags = P | OK | SAME | ECS, .preempted_ns = 50 * US },
		{ .flags = P | OK | SAME | ECS, .preempted_ns = 20 * US },
		{ .flags = P | SAME | ECS },
	};
	unsigned int start, k;

	(void)state;
	for (start = 0; start < 6; start++) {
		struct pvlock_pick p;

		pvlock_pick_init(&p);
		for (k = 0; k < 6; k++)
			pvlock_pick_offer(&p, &c[(start + k) % 6], (int)((start + k) % 6), &cross,
					  100 * US);
		assert_int_equal(p.best, pvlock_boost_pick(c, 6, start, &cross, 100 * US));
		assert_int_equal(p.best, 4);	/* preempted longest among the same-VM eCS ones */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ineligible_ones_are_never_picked),
		cmocka_unit_test(a_named_waiter_of_the_same_vm_is_eligible),
		cmocka_unit_test(same_vm_first_even_without_ecs),
		cmocka_unit_test(hinted_beats_ecs_beats_unknown),
		cmocka_unit_test(ties_round_robin_from_start),
		cmocka_unit_test(recently_boosted_yields_to_fresh),
		cmocka_unit_test(longer_preempted_first_capped),
		cmocka_unit_test(empty_set),
		cmocka_unit_test(kvm_rules_each_refuse),
		cmocka_unit_test(cross_and_on_spin_are_opt_in),
		cmocka_unit_test(offers_pick_as_the_array_does),
	};

	return cmocka_run_group_tests_name("boost", tests, NULL, NULL);
}
