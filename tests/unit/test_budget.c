// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pvlock/budget.h>

#define MS 1000000ull

static void full_at_start_then_empty(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 3, .period_ms = 100 };
	struct pvlock_budget b;
	int i;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	assert_int_equal(pvlock_budget_left(&b, &cfg, 0), 3);
	for (i = 0; i < 3; i++)
		assert_true(pvlock_budget_take(&b, &cfg, 0));
	assert_false(pvlock_budget_take(&b, &cfg, 0));
	assert_int_equal(pvlock_budget_left(&b, &cfg, 0), 0);
}

static void refills_at_rate(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 10, .period_ms = 100 };
	struct pvlock_budget b;
	int i;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	for (i = 0; i < 10; i++)
		assert_true(pvlock_budget_take(&b, &cfg, 0));
	/* one token per 10 ms */
	assert_false(pvlock_budget_take(&b, &cfg, 9 * MS));
	assert_true(pvlock_budget_take(&b, &cfg, 10 * MS));
	assert_false(pvlock_budget_take(&b, &cfg, 10 * MS));
	assert_int_equal(pvlock_budget_left(&b, &cfg, 55 * MS), 4);
}

static void never_more_than_a_period_in_a_burst(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 5, .period_ms = 50 };
	struct pvlock_budget b;
	int granted = 0, i;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	/* idle for an hour, then a storm at one instant */
	for (i = 0; i < 100; i++)
		granted += pvlock_budget_take(&b, &cfg, 3600000 * MS);
	assert_int_equal(granted, 5);
}

static void long_run_average_is_the_rate(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 7, .period_ms = 100 };
	struct pvlock_budget b;
	uint64_t t;
	int granted = 0;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	/* ask every 0.1 ms for 10 s: 100 periods -> 7 * 100 + the initial 7 */
	for (t = 0; t <= 10000 * MS; t += MS / 10)
		granted += pvlock_budget_take(&b, &cfg, t);
	assert_int_equal(granted, 707);
}

static void zero_budget_grants_nothing(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 0, .period_ms = 100 };
	struct pvlock_budget b;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	assert_false(pvlock_budget_take(&b, &cfg, 0));
	assert_false(pvlock_budget_take(&b, &cfg, 1000 * MS));
}

static void time_going_backwards_adds_nothing(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 1, .period_ms = 100 };
	struct pvlock_budget b;

	(void)state;
	pvlock_budget_init(&b, &cfg, 500 * MS);
	assert_true(pvlock_budget_take(&b, &cfg, 500 * MS));
	assert_false(pvlock_budget_take(&b, &cfg, 100 * MS));
	/* and the clock jump back does not make the next refill early */
	assert_false(pvlock_budget_take(&b, &cfg, 599 * MS));
	assert_true(pvlock_budget_take(&b, &cfg, 600 * MS));
}

static void reconfig_keeps_what_is_left_capped(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = 10, .period_ms = 100 };
	struct pvlock_budget_cfg small = { .per_period = 2, .period_ms = 1000 };
	struct pvlock_budget b;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	assert_true(pvlock_budget_take(&b, &cfg, 0));	/* 9 left */
	assert_int_equal(pvlock_budget_left(&b, &small, 0), 2);
	assert_true(pvlock_budget_take(&b, &small, 0));
	assert_true(pvlock_budget_take(&b, &small, 0));
	assert_false(pvlock_budget_take(&b, &small, 0));
	assert_true(pvlock_budget_take(&b, &small, 500 * MS));
}

static void extreme_values_do_not_overflow(void **state)
{
	struct pvlock_budget_cfg cfg = { .per_period = PVLOCK_BUDGET_MAX,
					 .period_ms = PVLOCK_PERIOD_MAX_MS };
	struct pvlock_budget_cfg bad = { .per_period = UINT32_MAX, .period_ms = 0 };
	struct pvlock_budget b;

	(void)state;
	pvlock_budget_init(&b, &cfg, 0);
	assert_int_equal(pvlock_budget_left(&b, &cfg, UINT64_MAX / 2), PVLOCK_BUDGET_MAX);
	/* out-of-range configuration is clamped, not trusted */
	pvlock_budget_init(&b, &bad, 0);
	assert_int_equal(pvlock_budget_left(&b, &bad, UINT64_MAX), PVLOCK_BUDGET_MAX);
}

/*
 * A cross-VM boost takes from three buckets or from none: a giver with empty
 * buckets cannot drain the receiver's, and a full receiver costs the giver
 * nothing.
 */
static void take_all_is_all_or_nothing(void **state)
{
	struct pvlock_budget_cfg gc = { .per_period = 2, .period_ms = 100 };
	struct pvlock_budget_cfg rc = { .per_period = 5, .period_ms = 100 };
	struct pvlock_budget give, give_x, recv_x;
	struct pvlock_budget *const b[] = { &give, &give_x, &recv_x };
	const struct pvlock_budget_cfg *const cfg[] = { &gc, &gc, &rc };
	int i;

	(void)state;
	pvlock_budget_init(&give, &gc, 0);
	pvlock_budget_init(&give_x, &gc, 0);
	pvlock_budget_init(&recv_x, &rc, 0);
	assert_true(pvlock_budget_take_all(b, cfg, 3, 0));
	assert_true(pvlock_budget_take_all(b, cfg, 3, 0));
	/* the giver is empty: the receiver keeps its 3 left, however often asked */
	for (i = 0; i < 100; i++)
		assert_false(pvlock_budget_take_all(b, cfg, 3, 0));
	assert_int_equal(pvlock_budget_left(&recv_x, &rc, 0), 3);
	/* the receiver empty: the giver's refilled tokens stay the giver's */
	pvlock_budget_init(&give, &gc, 0);
	pvlock_budget_init(&give_x, &gc, 0);
	pvlock_budget_init(&recv_x, &rc, 0);
	for (i = 0; i < 5; i++)
		assert_true(pvlock_budget_take(&recv_x, &rc, 0));
	assert_false(pvlock_budget_take_all(b, cfg, 3, 0));
	assert_int_equal(pvlock_budget_left(&give, &gc, 0), 2);
	assert_int_equal(pvlock_budget_left(&give_x, &gc, 0), 2);
	assert_true(pvlock_budget_peek(&give, &gc, 0));
	assert_int_equal(pvlock_budget_left(&give, &gc, 0), 2);	/* a peek takes nothing */
}

/*
 * The priority boost's time budget: a VM holds a raised priority at most
 * PVLOCK_PRIO_SHARE_PCT of the time elapsed, plus one full bucket (that share
 * of one period), however often it asks; a boost undone late is paid back
 * by the next ones.
 */
static void prio_share_is_bounded(void **state)
{
	const u32 period_ms = 100;
	const u64 period = period_ms * MS, cap = period * PVLOCK_PRIO_SHARE_PCT / 100;
	struct pvlock_prio_budget b = { 0 };
	u64 now = 0, held = 0, g;
	int i;

	(void)state;
	/* asks every millisecond for a whole period, for 100 periods */
	for (i = 0; i < 100 * 100; i++, now += MS) {
		g = pvlock_prio_grant(&b, period_ms, now, period, MS);
		if (!g)
			continue;
		assert_true(g <= cap);
		pvlock_prio_settle(&b, g, g);	/* undone exactly on time */
		held += g;
		now += g;
	}
	/* a full bucket at first, then the refill: the share of the time elapsed */
	assert_true(held <= cap + now * PVLOCK_PRIO_SHARE_PCT / 100);
	assert_true(held >= now * PVLOCK_PRIO_SHARE_PCT / 100 * 9 / 10);	/* and it gets it */

	/* undone late: the overrun is paid back before the next grant */
	memset(&b, 0, sizeof(b));
	g = pvlock_prio_grant(&b, period_ms, 0, period, MS);
	assert_int_equal(g, cap);
	pvlock_prio_settle(&b, g, g + 20 * MS);
	assert_int_equal(pvlock_prio_grant(&b, period_ms, g + 20 * MS, period, MS), 0);
	/* ended early: the rest comes back at once */
	memset(&b, 0, sizeof(b));
	g = pvlock_prio_grant(&b, period_ms, 0, period, MS);
	pvlock_prio_settle(&b, g, 2 * MS);
	assert_int_equal(pvlock_prio_grant(&b, period_ms, 2 * MS, period, MS),
			 cap - 2 * MS + 2 * MS * PVLOCK_PRIO_SHARE_PCT / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_at_start_then_empty),
		cmocka_unit_test(refills_at_rate),
		cmocka_unit_test(never_more_than_a_period_in_a_burst),
		cmocka_unit_test(long_run_average_is_the_rate),
		cmocka_unit_test(zero_budget_grants_nothing),
		cmocka_unit_test(time_going_backwards_adds_nothing),
		cmocka_unit_test(reconfig_keeps_what_is_left_capped),
		cmocka_unit_test(extreme_values_do_not_overflow),
		cmocka_unit_test(take_all_is_all_or_nothing),
		cmocka_unit_test(prio_share_is_bounded),
	};

	return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
