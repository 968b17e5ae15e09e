// SPDX-License-Identifier: GPL-2.0
/* pvlockctl's parameter parsing against the spec in include/pvlock/params.h. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pparse.h"

static char err[512];

static int parse(enum pp_target t, struct pp_set *s, int argc, ...)
{
	char *argv[16];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	err[0] = '\0';
	return pp_parse_set(t, argc, argv, s, err, sizeof(err));
}

static void names_and_targets(void **state)
{
	const struct pvlock_param_spec *s;

	(void)state;
	s = pp_lookup("threshold");
	assert_non_null(s);
	assert_int_equal(s->attr, PVLOCK_P_SPIN_THRESHOLD);
	assert_null(pp_lookup("thresh"));
	assert_null(pp_lookup(""));
	/* who takes what, straight from the spec */
	assert_true(pp_settable(pp_lookup("mode"), PP_GUEST));
	assert_false(pp_settable(pp_lookup("mode"), PP_HOST_GLOBAL));
	assert_false(pp_settable(pp_lookup("budget"), PP_GUEST));
	assert_true(pp_settable(pp_lookup("budget"), PP_HOST_VM));
	assert_true(pp_settable(pp_lookup("period_ms"), PP_HOST_GLOBAL));
	assert_false(pp_settable(pp_lookup("period_ms"), PP_HOST_VM));
	assert_false(pp_settable(pp_lookup("host_threshold"), PP_GUEST));
	assert_true(pp_reported(pp_lookup("host_threshold"), PP_GUEST));
	assert_false(pp_reported(pp_lookup("host_threshold"), PP_HOST_GLOBAL));
}

static void values_and_ranges(void **state)
{
	struct pp_set s;

	(void)state;
	assert_int_equal(parse(PP_GUEST, &s, 6, "mode", "fixed", "threshold", "4096", "yield", "off"), 0);
	assert_int_equal(s.val[PVLOCK_P_MODE], PVLOCK_MODE_FIXED);
	assert_int_equal(s.val[PVLOCK_P_SPIN_THRESHOLD], 4096);
	assert_int_equal(s.val[PVLOCK_P_YIELD], 0);
	assert_true(pp_has(&s, PVLOCK_P_MODE) && pp_has(&s, PVLOCK_P_YIELD));
	assert_false(pp_has(&s, PVLOCK_P_SPIN_MIN));

	/* the bounds themselves are in, one past them out, with the range named */
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "16"), 0);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "4194304"), 0);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "15"), -ERANGE);
	assert_string_equal(err, "threshold 15 is out of range: allowed 16..4194304");
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "4194305"), -ERANGE);
	/* 0 means "no hint" on the host only */
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "0"), -ERANGE);
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "threshold", "0"), 0);
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "threshold", "3"), -ERANGE);
	assert_non_null(strstr(err, "allowed 16..4194304, or 0 for none"));
	assert_int_equal(parse(PP_HOST_GLOBAL, &s, 2, "budget", "1000001"), -ERANGE);
	assert_int_equal(parse(PP_HOST_GLOBAL, &s, 2, "period_ms", "9"), -ERANGE);
	assert_non_null(strstr(err, "allowed 10..60000"));
	/* a negative number is out of range; not numbers: spaces, hex, "+", empty */
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "-1"), -ERANGE);
	assert_string_equal(err, "threshold -1 is out of range: allowed 16..4194304");
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "+100"), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", " 100"), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "100k"), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "0x100"), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", ""), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "threshold", "99999999999"), -ERANGE);
	/* modes and booleans by name */
	assert_int_equal(parse(PP_GUEST, &s, 2, "mode", "turbo"), -EINVAL);
	assert_string_equal(err, "mode: 'turbo' is not a valid value: allowed stock, adaptive or fixed");
	assert_int_equal(parse(PP_GUEST, &s, 2, "mode", "1"), -EINVAL);
	assert_int_equal(parse(PP_GUEST, &s, 2, "force_queue", "true"), 0);
	assert_int_equal(s.val[PVLOCK_P_FORCE_QUEUE], 1);
	assert_int_equal(parse(PP_GUEST, &s, 2, "yield", "2"), -EINVAL);
	/* the pin list */
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "pinned", "budget,threshold"), 0);
	assert_int_equal(s.val[PVLOCK_P_PINNED], PVLOCK_PIN_ALL);
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "pinned", "none"), 0);
	assert_int_equal(s.val[PVLOCK_P_PINNED], 0);
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "pinned", "threshold,mode"), -EINVAL);
}

static void who_may_set_what(void **state)
{
	struct pp_set s;

	(void)state;
	assert_int_equal(parse(PP_GUEST, &s, 2, "budget", "5"), -EOPNOTSUPP);
	assert_non_null(strstr(err, "budget cannot be set on pvlock_guest"));
	assert_non_null(strstr(err, "mode threshold min max yield force_queue"));
	assert_int_equal(parse(PP_GUEST, &s, 2, "host_threshold", "100"), -EOPNOTSUPP);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "period_ms", "100"), -EOPNOTSUPP);
	assert_int_equal(parse(PP_HOST_GLOBAL, &s, 2, "period_ms", "100"), 0);
	assert_int_equal(parse(PP_HOST_GLOBAL, &s, 2, "mode", "stock"), -EOPNOTSUPP);
	assert_int_equal(parse(PP_GUEST, &s, 2, "bogus", "1"), -EINVAL);
	assert_non_null(strstr(err, "unknown parameter 'bogus'"));
}

static void pairs(void **state)
{
	struct pp_set s;

	(void)state;
	assert_int_equal(parse(PP_GUEST, &s, 0), -EINVAL);
	assert_non_null(strstr(err, "nothing to set"));
	assert_int_equal(parse(PP_GUEST, &s, 1, "threshold"), -EINVAL);
	assert_string_equal(err, "threshold needs a value");
	assert_int_equal(parse(PP_GUEST, &s, 4, "min", "100", "min", "200"), -EINVAL);
	assert_string_equal(err, "min given twice");
	/* one bad value spoils the request: the caller sends nothing */
	assert_int_equal(parse(PP_GUEST, &s, 4, "mode", "stock", "threshold", "1"), -ERANGE);
}

static void pins_and_format(void **state)
{
	struct pp_set s;
	char buf[64], names[256];

	(void)state;
	assert_int_equal(parse(PP_HOST_VM, &s, 4, "threshold", "1024", "cross_vm", "no"), 0);
	assert_int_equal(pp_pin_bits(&s), PVLOCK_PIN_THRESHOLD);
	assert_int_equal(parse(PP_HOST_VM, &s, 4, "threshold", "1024", "budget", "10"), 0);
	assert_int_equal(pp_pin_bits(&s), PVLOCK_PIN_ALL);
	assert_int_equal(parse(PP_HOST_VM, &s, 2, "cross_vm", "no"), 0);
	assert_int_equal(pp_pin_bits(&s), 0);

	assert_string_equal(pp_format(pp_lookup("mode"), PVLOCK_MODE_ADAPTIVE, buf, sizeof(buf)),
			    "adaptive");
	assert_string_equal(pp_format(pp_lookup("mode"), 77, buf, sizeof(buf)), "?");
	assert_string_equal(pp_format(pp_lookup("yield"), 1, buf, sizeof(buf)), "yes");
	assert_string_equal(pp_format(pp_lookup("pinned"), PVLOCK_PIN_BUDGET, buf, sizeof(buf)),
			    "budget");
	assert_string_equal(pp_format(pp_lookup("pinned"), 0, buf, sizeof(buf)), "none");
	assert_string_equal(pp_format(pp_lookup("max"), 32768, buf, sizeof(buf)), "32768");
	assert_string_equal(pp_names(PP_HOST_VM, true, names, sizeof(names)),
			    "threshold min max budget cross_vm cross_budget pinned");
	assert_string_equal(pp_names(PP_GUEST, false, names, sizeof(names)),
			    "mode threshold min max yield force_queue host_threshold");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_targets),
		cmocka_unit_test(values_and_ranges),
		cmocka_unit_test(who_may_set_what),
		cmocka_unit_test(pairs),
		cmocka_unit_test(pins_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
