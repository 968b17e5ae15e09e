// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pvlock/tune.h>

#define SEC 1000000000ull

static struct pvlock_tune_sample sample(u32 oc, u64 lhp_per_vcpu_s, u64 denied)
{
	return (struct pvlock_tune_sample){
		.dt_ns = SEC, .nr_vcpus = 4, .overcommit_pct = oc,
		.lhp = lhp_per_vcpu_s * 4, .budget_denied = denied,
	};
}

static void undercommitted_calm_gives_no_hint(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { 0 };
	struct pvlock_tune_sample s = sample(50, 0, 0);
	struct pvlock_tune_decision d;
	int i;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	for (i = 0; i < 10; i++) {
		d = pvlock_tune(&st, &cfg, &s, 0);
		assert_int_equal(d.threshold, 0);
		assert_int_equal(d.budget, cfg.budget_base);
	}
}

static void overcommit_caps_by_share(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { 0 };
	struct pvlock_tune_sample s = sample(200, 10, 0);
	struct pvlock_tune_decision d;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	cfg.over_max = 0;	/* the share alone */
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, cfg.max / 2);
	assert_int_equal(d.why, PVLOCK_TUNE_OVERCOMMIT);
	assert_true(d.changed);
	/* same load next period: stable, no change */
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, cfg.max / 2);
	assert_false(d.changed);
	assert_int_equal(d.why, PVLOCK_TUNE_KEEP);
	s.overcommit_pct = 400;
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, cfg.max / 4);
}

static void overcommit_cap_at_over_max(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { 0 };
	struct pvlock_tune_sample s = sample(150, 10, 0);
	struct pvlock_tune_decision d;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, cfg.over_max);
	assert_int_equal(d.why, PVLOCK_TUNE_OVERCOMMIT);
	/* never below min, even if over_max is */
	cfg.over_max = 16;
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, cfg.min);
	/* back under 100%: the cap goes, the hint relaxes in steps to none */
	s = sample(90, 0, 0);
	while (st.threshold)
		d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.why, PVLOCK_TUNE_RELAX);
}

static void lhp_halves_down_to_min(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { 0 };
	struct pvlock_tune_sample s = sample(100, 1000, 0);
	struct pvlock_tune_decision d;
	u32 prev = cfg.max;
	int i;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	prev = cfg.max;
	for (i = 0; i < 20; i++) {
		d = pvlock_tune(&st, &cfg, &s, 0);
		assert_int_equal(d.why, PVLOCK_TUNE_LHP);
		assert_true(d.threshold <= prev);
		assert_true(d.threshold >= cfg.min);
		prev = d.threshold;
	}
	assert_int_equal(prev, cfg.min);
}

static void calm_relaxes_slowly_then_drops_hint(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { .threshold = 1024 };
	struct pvlock_tune_sample s = sample(80, 0, 0);
	struct pvlock_tune_decision d;
	int i, changes = 0;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	/* two calm periods: nothing yet */
	for (i = 0; i < 2; i++) {
		d = pvlock_tune(&st, &cfg, &s, 0);
		assert_int_equal(d.threshold, 1024);
	}
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, 2048);
	assert_int_equal(d.why, PVLOCK_TUNE_RELAX);
	for (i = 0; i < 60 && st.threshold; i++)
		changes += pvlock_tune(&st, &cfg, &s, 0).changed;
	assert_int_equal(st.threshold, 0);
	/* 2048 -> 4096 -> 8192 -> 16384 -> 32768 (= max, so: no hint) */
	assert_int_equal(changes, 4);
}

static void moderate_lhp_holds(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { .threshold = 4096, .budget = 1000 };
	struct pvlock_tune_sample s = sample(100, 20, 0);
	int i;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	for (i = 0; i < 10; i++)
		assert_false(pvlock_tune(&st, &cfg, &s, 0).changed);
	assert_int_equal(st.threshold, 4096);
}

static void pinned_values_untouched(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { .threshold = 7777, .budget = 3 };
	struct pvlock_tune_sample s = sample(400, 1000, 50);
	struct pvlock_tune_decision d;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	d = pvlock_tune(&st, &cfg, &s, PVLOCK_PIN_ALL);
	assert_int_equal(d.threshold, 7777);
	assert_int_equal(d.budget, 3);
	assert_int_equal(d.why, PVLOCK_TUNE_PINNED);
	assert_false(d.changed);
	/* threshold pinned only: the budget still moves */
	d = pvlock_tune(&st, &cfg, &s, PVLOCK_PIN_THRESHOLD);
	assert_int_equal(d.threshold, 7777);
	assert_int_equal(d.budget, 6);
}

static void budget_grows_when_denied_and_returns(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { 0 };
	struct pvlock_tune_sample s = sample(300, 10, 100);
	u32 b = 0;
	int i;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	for (i = 0; i < 10; i++) {
		b = pvlock_tune(&st, &cfg, &s, 0).budget;
		assert_true(b <= cfg.budget_max);
	}
	assert_int_equal(b, cfg.budget_max);
	/* denials while undercommitted do not raise it: no overcommit, no need */
	s = sample(50, 0, 100);
	for (i = 0; i < 10; i++)
		b = pvlock_tune(&st, &cfg, &s, 0).budget;
	assert_int_equal(b, cfg.budget_base);
}

static void degenerate_samples_are_safe(void **state)
{
	struct pvlock_tune_cfg cfg;
	struct pvlock_tune_state st = { .threshold = 5, .budget = ~0u };
	struct pvlock_tune_sample s = { .dt_ns = 0, .nr_vcpus = 0, .overcommit_pct = ~0u,
					.lhp = ~0ull, .budget_denied = ~0ull };
	struct pvlock_tune_decision d;

	(void)state;
	pvlock_tune_cfg_default(&cfg);
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_true(d.threshold >= cfg.min && d.threshold <= cfg.max);
	assert_true(d.budget <= cfg.budget_max);
	s.dt_ns = 1;
	s.nr_vcpus = 1;
	assert_true(pvlock_tune_lhp_rate(&s) == 0);
	s.dt_ns = SEC;
	assert_true(pvlock_tune_lhp_rate(&s) == ~0ull);
	/* bounds given upside down still give a threshold inside the limits */
	cfg.min = PVLOCK_SPIN_LIMIT_MAX;
	cfg.max = 1;
	d = pvlock_tune(&st, &cfg, &s, 0);
	assert_int_equal(d.threshold, PVLOCK_SPIN_LIMIT_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(undercommitted_calm_gives_no_hint),
		cmocka_unit_test(overcommit_caps_by_share),
		cmocka_unit_test(overcommit_cap_at_over_max),
		cmocka_unit_test(lhp_halves_down_to_min),
		cmocka_unit_test(calm_relaxes_slowly_then_drops_hint),
		cmocka_unit_test(moderate_lhp_holds),
		cmocka_unit_test(pinned_values_untouched),
		cmocka_unit_test(budget_grows_when_denied_and_returns),
		cmocka_unit_test(degenerate_samples_are_safe),
	};

	return cmocka_run_group_tests_name("tune", tests, NULL, NULL);
}
