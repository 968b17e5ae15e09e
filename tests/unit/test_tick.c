// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pvlock/tick.h>

/* a steady sample is the average, at either speed */
static void steady_sample_is_the_average(void **state)
{
	u32 avg = 0;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		avg = pvlock_oc_average(avg, 150, PVLOCK_TICK_MS);
	assert_int_equal(avg / 16, 150);
	for (i = 0; i < 20; i++)
		avg = pvlock_oc_average(avg, 66, PVLOCK_TICK_SLOW_MS);
	assert_int_equal(avg / 16, 66);
}

/* one slow tick weighs as the fast ticks it spans, with the same sample */
static void slow_tick_counts_as_the_fast_ticks_it_spans(void **state)
{
	u32 fast = 200 * 16, slow = 200 * 16;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		fast = pvlock_oc_average(fast, 50, PVLOCK_TICK_MS);
	slow = pvlock_oc_average(slow, 50, 5 * PVLOCK_TICK_MS);
	assert_int_equal(slow, fast);
	/* a tick of 20 ms moves a quarter of the way: 200 -> 162.5 */
	assert_int_equal(pvlock_oc_average(200 * 16, 50, PVLOCK_TICK_MS), 2600);
}

/* a kick (a tick at once) is one step; a long gap is the sample alone */
static void short_and_long_gaps(void **state)
{
	(void)state;
	assert_int_equal(pvlock_oc_average(0, 100, 0), 400);
	assert_int_equal(pvlock_oc_average(0, 100, 1), 400);
	assert_int_equal(pvlock_oc_average(300 * 16, 100, 60000) / 16, 100);
	assert_int_equal(pvlock_oc_average(300 * 16, 100, 0xffffffffu) / 16, 100);
	/* no overflow from an absurd sample */
	assert_true(pvlock_oc_average(0xffffffffu, 0xffffffffu, 20) >= 0xffffffffu / 16 * 15);
}

/* fast while (nearly) overcommitted, slow otherwise, fast again at once */
static void speed_follows_the_overcommit(void **state)
{
	u32 avg = 0, s, t = 0, dt = PVLOCK_TICK_MS, next, fast_at = 0, slow_at = 0;

	(void)state;
	assert_int_equal(pvlock_tick_next_ms(0, 0), PVLOCK_TICK_SLOW_MS);
	assert_int_equal(pvlock_tick_next_ms(99, 99 * 16), PVLOCK_TICK_SLOW_MS);
	assert_int_equal(pvlock_tick_next_ms(100, 0), PVLOCK_TICK_MS);
	assert_int_equal(pvlock_tick_next_ms(0, 100 * 16), PVLOCK_TICK_MS);

	/* 66% for 1 s, overcommitted 200% for 1 s, then 66% again */
	while (t < 3000) {
		s = t >= 1000 && t < 2000 ? 200 : 66;
		avg = pvlock_oc_average(avg, s, dt);
		next = pvlock_tick_next_ms(s, avg);
		if (t < 1000)
			assert_int_equal(next, PVLOCK_TICK_SLOW_MS);
		if (t >= 1000 && t < 2000)
			assert_int_equal(next, PVLOCK_TICK_MS);
		if (!fast_at && next == PVLOCK_TICK_MS)
			fast_at = t;
		if (!slow_at && t >= 2000 && next == PVLOCK_TICK_SLOW_MS)
			slow_at = t;
		dt = next;
		t += next;
	}
	/* seen within one slow tick of the onset, and slow again soon after */
	assert_true(fast_at >= 1000 && fast_at < 1000 + PVLOCK_TICK_SLOW_MS);
	assert_true(slow_at >= 2000 && slow_at < 2000 + 10 * PVLOCK_TICK_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(steady_sample_is_the_average),
		cmocka_unit_test(slow_tick_counts_as_the_fast_ticks_it_spans),
		cmocka_unit_test(short_and_long_gaps),
		cmocka_unit_test(speed_follows_the_overcommit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
