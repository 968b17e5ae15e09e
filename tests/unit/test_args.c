// SPDX-License-Identifier: GPL-2.0
/* pvlockctl's per-command argument parsing (daemon/args.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"

static char err[512];
static char *words[32];

/* Sub-command words as main hands them over: argv[-1] is the command. */
static char **w(const char *cmd, int argc, va_list ap)
{
	int i;

	words[0] = (char *)cmd;
	for (i = 0; i < argc; i++)
		words[i + 1] = va_arg(ap, char *);
	words[argc + 1] = NULL;
	err[0] = '\0';
	return words + 1;
}

static int stats(struct stats_opts *o, int argc, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, argc);
	argv = w("stats", argc, ap);
	va_end(ap);
	return args_stats(argc, argv, o, err, sizeof(err));
}

static int params(const char *cmd, struct param_opts *o, int argc, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, argc);
	argv = w(cmd, argc, ap);
	va_end(ap);
	return args_params(argc, argv, cmd, o, err, sizeof(err));
}

static void stats_defaults_and_options(void **state)
{
	struct stats_opts o;

	(void)state;
	assert_int_equal(stats(&o, 0), 0);
	assert_null(o.vm);
	assert_false(o.once || o.log || o.per_cpu || o.all || o.bpf);
	assert_true(o.interval == STATS_INTERVAL_DEFAULT);
	assert_int_equal(o.count, 0);
	assert_int_equal(o.sort, ST_SORT_RATE);

	assert_int_equal(stats(&o, 7, "web1", "--once", "-d", "0.5", "--per-vcpu", "--sort", "name"), 0);
	assert_string_equal(o.vm, "web1");
	assert_true(o.once && o.per_cpu);
	assert_true(o.interval == 0.5);
	assert_int_equal(o.count, 1);	/* --once is one refresh */
	assert_int_equal(o.sort, ST_SORT_NAME);

	assert_int_equal(stats(&o, 6, "vm", "7", "--log", "-n", "3", "--bpf"), 0);
	assert_string_equal(o.vm, "7");
	assert_true(o.log && o.bpf);
	assert_int_equal(o.count, 3);
	assert_int_equal(stats(&o, 2, "--all", "--per-cpu"), 0);
	assert_true(o.all && o.per_cpu);
}

static void stats_errors(void **state)
{
	struct stats_opts o;

	(void)state;
	assert_int_equal(stats(&o, 1, "--bogus"), -EINVAL);
	assert_string_equal(err, "stats: unknown option '--bogus' or missing value");
	assert_int_equal(stats(&o, 2, "-d", "0"), -EINVAL);
	assert_non_null(strstr(err, "in 0.1..3600"));
	assert_int_equal(stats(&o, 2, "-d", "1s"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-d", "nan"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-d", "3601"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-n", "0"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-n", "-3"), -EINVAL);
	assert_int_equal(stats(&o, 1, "-d"), -EINVAL);
	assert_int_equal(stats(&o, 2, "--sort", "size"), -EINVAL);
	assert_non_null(strstr(err, "rate, total or name"));
	assert_int_equal(stats(&o, 2, "--once", "--log"), -EINVAL);
	assert_int_equal(stats(&o, 2, "a", "b"), -EINVAL);
	assert_non_null(strstr(err, "one VM at most"));
}

static void params_words(void **state)
{
	struct param_opts o;

	(void)state;
	assert_int_equal(params("get", &o, 0), 0);
	assert_null(o.vm);
	assert_int_equal(o.argc, 0);
	assert_int_equal(params("get", &o, 3, "vm", "web1", "threshold"), 0);
	assert_string_equal(o.vm, "web1");
	assert_int_equal(o.argc, 1);
	assert_string_equal(o.argv[0], "threshold");

	/* --pin before, between and after; values that look like options stay values */
	assert_int_equal(params("set", &o, 5, "--pin", "vm", "3", "threshold", "4096"), 0);
	assert_true(o.pin);
	assert_string_equal(o.vm, "3");
	assert_int_equal(o.argc, 2);
	assert_int_equal(params("set", &o, 5, "vm", "3", "threshold", "4096", "--pin"), 0);
	assert_true(o.pin);
	assert_int_equal(o.argc, 2);
	assert_int_equal(params("set", &o, 2, "threshold", "-1"), 0);
	assert_false(o.pin);
	assert_string_equal(o.argv[1], "-1");

	assert_int_equal(params("set", &o, 1, "vm"), -EINVAL);
	assert_non_null(strstr(err, "vm needs a VM name or id"));
	assert_int_equal(params("set", &o, 3, "threshold", "1", "mode"), -EINVAL);
	assert_non_null(strstr(err, "'mode' needs a value"));
	assert_int_equal(params("get", &o, 1, "--pin"), -EINVAL);
	assert_int_equal(params("reset", &o, 2, "vm", "a"), 0);
	assert_string_equal(o.vm, "a");
	assert_int_equal(params("reset", &o, 1, "everything"), -EINVAL);
}

static void monitor_locks_unload(void **state)
{
	struct monitor_opts m;
	struct locks_opts l;
	struct unload_opts u;
	char *a1[] = { "monitor", "-n", "5", "--timeout", "2.5", NULL };
	char *a2[] = { "monitor", "-t", "0", NULL };
	char *a3[] = { "monitor", "extra", NULL };
	char *a4[] = { "locks", "--top", "3", NULL };
	char *a5[] = { "locks", "--top", "x", NULL };
	char *a6[] = { "unload", NULL };
	char *a7[] = { "unload", "-t", "7200", NULL };

	(void)state;
	assert_int_equal(args_monitor(4, a1 + 1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.count, 5);
	assert_true(m.timeout == 2.5);
	assert_int_equal(args_monitor(2, a2 + 1, &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(args_monitor(1, a3 + 1, &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(args_locks(2, a4 + 1, &l, err, sizeof(err)), 0);
	assert_int_equal(l.top, 3);
	assert_int_equal(args_locks(2, a5 + 1, &l, err, sizeof(err)), -EINVAL);
	assert_int_equal(args_unload(0, a6 + 1, &u, err, sizeof(err)), 0);
	assert_true(u.timeout == 60);
	assert_int_equal(args_unload(2, a7 + 1, &u, err, sizeof(err)), -EINVAL);
}

static void numbers(void **state)
{
	double d;
	long l;

	(void)state;
	assert_int_equal(args_double("2", 0, 10, &d), 0);
	assert_int_equal(args_double("", 0, 10, &d), -EINVAL);
	assert_int_equal(args_double("inf", 0, 1e300, &d), -EINVAL);
	assert_int_equal(args_double("11", 0, 10, &d), -ERANGE);
	assert_int_equal(args_long("12", 0, 100, &l), 0);
	assert_int_equal(l, 12);
	assert_int_equal(args_long("12x", 0, 100, &l), -EINVAL);
	assert_int_equal(args_long("99999999999999999999", 0, 100, &l), -EINVAL);
	assert_int_equal(args_long("101", 0, 100, &l), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stats_defaults_and_options),
		cmocka_unit_test(stats_errors),
		cmocka_unit_test(params_words),
		cmocka_unit_test(monitor_locks_unload),
		cmocka_unit_test(numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
