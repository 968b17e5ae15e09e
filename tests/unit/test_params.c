// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include <pvlock/params.h>
#include <pvlock/names.h>

static void every_param_has_a_spec(void **state)
{
	(void)state;
	for (uint32_t a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		assert_non_null(s);
		assert_int_equal(s->attr, a);
		assert_true(s->min <= s->max);
		assert_true(s->flags & (PVLOCK_PF_GUEST | PVLOCK_PF_HOST | PVLOCK_PF_RO_GUEST));
	}
	assert_null(pvlock_param_spec(0));
	assert_null(pvlock_param_spec(PVLOCK_P_MAX + 1));
}

static void ranges(void **state)
{
	(void)state;
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_SPIN_THRESHOLD,
					    PVLOCK_SPIN_LIMIT_MIN, false), 0);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_SPIN_THRESHOLD,
					    PVLOCK_SPIN_LIMIT_MIN - 1, false), -2);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_SPIN_THRESHOLD, 0, false), -2);
	/* the host takes 0 as "no hint" */
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, PVLOCK_P_SPIN_THRESHOLD, 0, true), 0);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, PVLOCK_P_SPIN_THRESHOLD,
					    PVLOCK_SPIN_LIMIT_MAX + 1, true), -2);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_MODE, PVLOCK_MODE_MAX, false), 0);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_MODE, PVLOCK_MODE_MAX + 1, false), -2);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_YIELD, 2, false), -2);
}

static void who_may_set_what(void **state)
{
	(void)state;
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, PVLOCK_P_MODE, 0, false), -1);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_BUDGET, 1, false), -1);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_GUEST, PVLOCK_P_HOST_THRESHOLD, 100, false), -1);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, PVLOCK_P_PERIOD_MS, 100, false), 0);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, PVLOCK_P_PERIOD_MS, 100, true), -1);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, 0, 0, false), -1);
	assert_int_equal(pvlock_param_check(PVLOCK_PF_HOST, 999, 0, false), -1);
}

static void names_are_unique_and_complete(void **state)
{
	(void)state;
	for (unsigned int i = 1; i < __PVLOCK_GS_LAST; i++) {
		assert_non_null(pvlock_guest_stat_names[i]);
		for (unsigned int j = 1; j < i; j++)
			assert_string_not_equal(pvlock_guest_stat_names[i], pvlock_guest_stat_names[j]);
	}
	for (unsigned int i = 1; i < __PVLOCK_HS_LAST; i++) {
		assert_non_null(pvlock_host_stat_names[i]);
		for (unsigned int j = 1; j < i; j++)
			assert_string_not_equal(pvlock_host_stat_names[i], pvlock_host_stat_names[j]);
	}
	assert_string_equal(PVLOCK_NAME(pvlock_mode_names, 1), "adaptive");
	assert_string_equal(PVLOCK_NAME(pvlock_mode_names, 9), "?");
}

static void hypercall_numbers_stay_clear_of_kvm(void **state)
{
	(void)state;
	/* KVM_HC_* are 1..12 in 6.x; leave room for many more */
	assert_true(PVLOCK_HC_BASE > 0x10000);
	assert_true(PVLOCK_HC_LAST < 0x80000000u);
	assert_true(PVLOCK_HC_IS_PVLOCK(PVLOCK_HC_YIELD));
	assert_false(PVLOCK_HC_IS_PVLOCK(5));
	assert_false(PVLOCK_HC_IS_PVLOCK(PVLOCK_HC_LAST + 1));
	assert_false(PVLOCK_HC_IS_PVLOCK(PVLOCK_HC_BASE - 1));
	/* 64-bit garbage above a valid number is not a pvlock call */
	assert_false(PVLOCK_HC_IS_PVLOCK(0x100000000ull | PVLOCK_HC_HELLO));
	assert_int_equal(PVLOCK_HELLO_VERSION(PVLOCK_HELLO_RET(1, 0x1f)), 1);
	assert_int_equal(PVLOCK_HELLO_FEATURES(PVLOCK_HELLO_RET(1, 0x1f)), 0x1f);
	assert_true((int64_t)PVLOCK_HELLO_RET(0xffff, 0xffff) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_param_has_a_spec),
		cmocka_unit_test(ranges),
		cmocka_unit_test(who_may_set_what),
		cmocka_unit_test(names_are_unique_and_complete),
		cmocka_unit_test(hypercall_numbers_stay_clear_of_kvm),
	};

	return cmocka_run_group_tests_name("params", tests, NULL, NULL);
}
