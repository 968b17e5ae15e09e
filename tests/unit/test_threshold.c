// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pvlock/threshold.h>

static struct pvlock_thresh_cfg cfg;

static int setup(void **state)
{
	(void)state;
	pvlock_thresh_cfg_default(&cfg);
	cfg.window = 16;
	return 0;
}

static enum pvlock_thresh_reason feed(struct pvlock_thresh *t, unsigned int n,
				      struct pvlock_wait_sample s, uint32_t hint)
{
	enum pvlock_thresh_reason r = PVLOCK_TR_NONE;
	unsigned int i;

	for (i = 0; i < n; i++)
		r = pvlock_thresh_observe(t, &cfg, &s, hint);
	return r;
}

static void init_is_bounded(void **state)
{
	struct pvlock_thresh t;

	(void)state;
	pvlock_thresh_init(&t, &cfg, 1);
	assert_int_equal(t.threshold, cfg.min);
	pvlock_thresh_init(&t, &cfg, UINT32_MAX);
	assert_int_equal(t.threshold, cfg.max);
}

static void no_decision_before_window(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 100 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 4096);
	assert_int_equal(feed(&t, 15, ok, 0), PVLOCK_TR_NONE);
	assert_int_equal(t.threshold, 4096);
	assert_int_equal(feed(&t, 1, ok, 0), PVLOCK_TR_QUIET);
}

static void lhp_cuts_to_what_spins_need(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 300 };
	struct pvlock_wait_sample lhp = { .spins = 32768, .waited = true,
					  .blocked_ns = 5000000, .preempted = true };
	unsigned int i;

	(void)state;
	pvlock_thresh_init(&t, &cfg, PVLOCK_SPIN_STOCK);
	/* settle the EWMA on 300-iteration holds, in whole windows */
	for (i = 0; i < 12 * 16; i++)
		pvlock_thresh_observe(&t, &cfg, &ok, 0);
	assert_int_equal(t.threshold, PVLOCK_SPIN_STOCK);
	/* half the waits behind a preempted holder */
	feed(&t, 8, ok, 0);
	assert_int_equal(feed(&t, 8, lhp, 0), PVLOCK_TR_LHP);
	/* twice the ~300 average, no less than the longest successful spin */
	assert_in_range(t.threshold, 300, 700);
}

static void rare_long_lhp_cuts_by_time(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 300, .wait_ns = 3000 };
	struct pvlock_wait_sample lhp = { .spins = 32768, .waited = true, .blocked_ns = 4000000,
					  .wait_ns = 5000000, .preempted = true };
	unsigned int i;

	(void)state;
	pvlock_thresh_init(&t, &cfg, PVLOCK_SPIN_STOCK);
	for (i = 0; i < 12 * 16; i++)
		pvlock_thresh_observe(&t, &cfg, &ok, 0);
	/* one wait in 16 behind a preempted holder, but most of the wait time */
	feed(&t, 15, ok, 0);
	assert_int_equal(feed(&t, 1, lhp, 0), PVLOCK_TR_LHP);
	assert_in_range(t.threshold, 300, 700);
	/* the same mix with short preempted waits is no reason to cut */
	pvlock_thresh_init(&t, &cfg, PVLOCK_SPIN_STOCK);
	lhp.wait_ns = 1000;
	feed(&t, 15, ok, 0);
	assert_int_not_equal(feed(&t, 1, lhp, 0), PVLOCK_TR_LHP);
}

static void late_wakes_double(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample late = { .spins = 1024, .waited = true, .blocked_ns = 2000 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 1024);
	assert_int_equal(feed(&t, 16, late, 0), PVLOCK_TR_LATE);
	assert_int_equal(t.threshold, 2048);
	feed(&t, 16 * 10, late, 0);
	assert_int_equal(t.threshold, cfg.max);	/* and no further */
}

static void long_waits_halve_but_not_below_need(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 2000 };
	struct pvlock_wait_sample pre = { .spins = 2000, .preempted = true };
	struct pvlock_wait_sample slow = { .spins = 8192, .waited = true, .blocked_ns = 10000000 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 8192);
	feed(&t, 11, ok, 0);
	feed(&t, 1, pre, 0);
	assert_int_equal(feed(&t, 4, slow, 0), PVLOCK_TR_LONG);
	assert_int_equal(t.threshold, 4096);
	feed(&t, 11, ok, 0);
	feed(&t, 1, pre, 0);
	feed(&t, 4, slow, 0);
	/* halving again would go below the 2000-iteration spins that win */
	assert_true(t.threshold >= 2000);
	assert_true(t.threshold < 4096);
}

static void quiet_windows_rise_back_to_max(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 50 };
	unsigned int windows = 0;

	(void)state;
	pvlock_thresh_init(&t, &cfg, 512);
	/* nobody preempted: double each window, up to the kernel's 2^15 */
	assert_int_equal(feed(&t, 16, ok, 0), PVLOCK_TR_QUIET);
	assert_int_equal(t.threshold, 1024);
	while (t.threshold < cfg.max && windows++ < 20)
		feed(&t, 16, ok, 0);
	assert_int_equal(t.threshold, PVLOCK_SPIN_STOCK);
	assert_int_equal(windows, 5);	/* 1024 -> 32768 in five doublings */
	/* and no further */
	feed(&t, 16 * 4, ok, 0);
	assert_int_equal(t.threshold, cfg.max);
}

static void falls_under_lhp_and_rises_when_it_stops(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 300, .wait_ns = 3000 };
	struct pvlock_wait_sample lhp = { .spins = 2000, .waited = true, .blocked_ns = 5000000,
					  .wait_ns = 5000000, .preempted = true };
	uint32_t low;
	unsigned int i;

	(void)state;
	pvlock_thresh_init(&t, &cfg, PVLOCK_SPIN_STOCK);
	/* overcommitted: a third of the waits behind a preempted holder */
	for (i = 0; i < 10; i++) {
		feed(&t, 11, ok, 0);
		feed(&t, 5, lhp, 0);
	}
	low = t.threshold;
	assert_in_range(low, 300, 2100);
	/* the overcommit ends: every window quiet, back up to the kernel's value */
	for (i = 0; i < 10; i++)
		feed(&t, 16, ok, 0);
	assert_int_equal(t.threshold, PVLOCK_SPIN_STOCK);
}

static void weighted_samples_count_as_many(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok16 = { .spins = 10, .weight = 16 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 4096);
	/* one sample standing for 16 calls closes a 16-call window */
	assert_int_equal(feed(&t, 1, ok16, 0), PVLOCK_TR_QUIET);
}

static void some_preemption_and_long_waits_halve(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 100, .wait_ns = 1000 };
	struct pvlock_wait_sample pre = { .spins = 100, .preempted = true, .wait_ns = 1000 };
	struct pvlock_wait_sample slow = { .spins = 8192, .waited = true, .blocked_ns = 100000,
					   .wait_ns = 100000 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 8192);
	/* one preempted wait in 16 (not LHP), two long waits: halve */
	feed(&t, 13, ok, 0);
	feed(&t, 1, pre, 0);
	assert_int_equal(feed(&t, 2, slow, 0), PVLOCK_TR_LONG);
	assert_int_equal(t.threshold, 4096);
}

static void host_hint_caps(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample ok = { .spins = 50 };

	(void)state;
	pvlock_thresh_init(&t, &cfg, 8192);
	assert_int_equal(feed(&t, 16, ok, 1000), PVLOCK_TR_HINT);
	assert_int_equal(t.threshold, 1000);
	/* a hint below min is held at min */
	feed(&t, 16, ok, 1);
	assert_int_equal(t.threshold, cfg.min);
	/* the hint goes away: quiet windows raise it again, one doubling each */
	assert_int_equal(feed(&t, 16, ok, 0), PVLOCK_TR_QUIET);
	assert_int_equal(t.threshold, 2 * cfg.min);
}

static void modes(void **state)
{
	struct pvlock_thresh t;

	(void)state;
	pvlock_thresh_init(&t, &cfg, 2048);
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, PVLOCK_MODE_STOCK, 999, 512),
			 PVLOCK_SPIN_STOCK);
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, PVLOCK_MODE_FIXED, 999, 512), 999);
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, PVLOCK_MODE_FIXED, 1, 0), cfg.min);
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, PVLOCK_MODE_ADAPTIVE, 0, 512), 512);
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, PVLOCK_MODE_ADAPTIVE, 0, 0), 2048);
	/* unknown mode behaves like stock */
	assert_int_equal(pvlock_thresh_for_mode(&t, &cfg, 77, 0, 0), PVLOCK_SPIN_STOCK);
}

static void hostile_samples_stay_in_bounds(void **state)
{
	struct pvlock_thresh t;
	struct pvlock_wait_sample s;
	unsigned int i;
	uint32_t x = 12345;

	(void)state;
	pvlock_thresh_init(&t, &cfg, 4096);
	for (i = 0; i < 100000; i++) {
		x = x * 1103515245u + 12345u;
		s.spins = x;
		s.waited = x & 1;
		s.preempted = x & 2;
		s.blocked_ns = (uint64_t)x * x;
		pvlock_thresh_observe(&t, &cfg, &s, x & 4 ? x >> 8 : 0);
		assert_in_range(t.threshold, cfg.min, cfg.max);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_is_bounded),
		cmocka_unit_test(no_decision_before_window),
		cmocka_unit_test(lhp_cuts_to_what_spins_need),
		cmocka_unit_test(rare_long_lhp_cuts_by_time),
		cmocka_unit_test(late_wakes_double),
		cmocka_unit_test(long_waits_halve_but_not_below_need),
		cmocka_unit_test(quiet_windows_rise_back_to_max),
		cmocka_unit_test(falls_under_lhp_and_rises_when_it_stops),
		cmocka_unit_test(weighted_samples_count_as_many),
		cmocka_unit_test(some_preemption_and_long_waits_halve),
		cmocka_unit_test(host_hint_caps),
		cmocka_unit_test(modes),
		cmocka_unit_test(hostile_samples_stay_in_bounds),
	};

	return cmocka_run_group_tests_name("threshold", tests, setup, NULL);
}
