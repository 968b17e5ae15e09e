// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl's command line (daemon/args.c on the one driver, daemon/opt.c),
 * and the shared number, boolean and prefix helpers (util.h, opt_match).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"
#include "util.h"

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
	assert_string_equal(err, "stats: unknown option '--bogus'");
	assert_int_equal(stats(&o, 1, "-x"), -EINVAL);
	assert_string_equal(err, "stats: unknown option '-x'");
	assert_int_equal(stats(&o, 2, "-d", "0"), -EINVAL);
	assert_non_null(strstr(err, "in 0.1..3600"));
	assert_int_equal(stats(&o, 2, "-d", "1s"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-d", "nan"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-d", "3601"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-n", "0"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-n", "-3"), -EINVAL);
	assert_int_equal(stats(&o, 1, "-d"), -EINVAL);
	assert_string_equal(err, "stats: option '-d' needs a value");
	assert_int_equal(stats(&o, 1, "--interval"), -EINVAL);
	assert_string_equal(err, "stats: option '--interval' needs a value");
	assert_int_equal(stats(&o, 2, "--sort", "size"), -EINVAL);
	assert_string_equal(err, "stats: -s/--sort takes rate, total, name, not 'size'");
	assert_int_equal(stats(&o, 2, "--once", "--log"), -EINVAL);
	assert_int_equal(stats(&o, 2, "a", "b"), -EINVAL);
	assert_non_null(strstr(err, "one VM at most"));
	assert_int_equal(stats(&o, 1, "vm"), -EINVAL);
	assert_int_equal(stats(&o, 3, "a", "-g", "b"), -EINVAL);
	assert_non_null(strstr(err, "give one VM"));
	assert_int_equal(stats(&o, 2, "-p", "0"), -EINVAL);
	assert_int_equal(stats(&o, 2, "-f", "(unclosed"), -EINVAL);
	assert_non_null(strstr(err, "-f '(unclosed'"));
}

/* kvm_stat's habits: -f REGEX on counter names, -g NAME, -p PID; -T wall clock. */
static void stats_filters(void **state)
{
	struct stats_opts o;

	(void)state;
	assert_int_equal(stats(&o, 6, "-f", "^yield", "-g", "web1", "-T", "-1"), 0);
	assert_string_equal(o.guest, "web1");
	assert_null(o.vm);
	assert_true(o.wall && o.once);
	assert_int_equal(regexec(&o.re, "yield_same_vm", 0, NULL, 0), 0);
	assert_int_equal(regexec(&o.re, "yields", 0, NULL, 0), 0);
	assert_int_equal(regexec(&o.re, "halts", 0, NULL, 0), REG_NOMATCH);
	args_stats_free(&o);
	assert_int_equal(stats(&o, 2, "-p", "4242"), 0);
	assert_int_equal(o.pid, 4242);
	args_stats_free(&o);
	/* every command takes "help" and -h */
	assert_int_equal(stats(&o, 1, "help"), 1);
	assert_int_equal(stats(&o, 2, "--once", "-h"), 1);
	/* "vm help": a VM named help */
	assert_int_equal(stats(&o, 2, "vm", "help"), 0);
	assert_string_equal(o.vm, "help");
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
	assert_int_equal(params("set", &o, 0), -EINVAL);
	assert_non_null(strstr(err, "nothing to set"));
	assert_int_equal(params("get", &o, 1, "help"), 1);
	assert_int_equal(params("set", &o, 1, "help"), 1);
	assert_int_equal(params("reset", &o, 1, "--help"), 1);
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
	assert_int_equal(args_unload(1, (char *[]){ "help", NULL }, &u, err, sizeof(err)), 1);
	assert_int_equal(args_monitor(1, (char *[]){ "-T", NULL }, &m, err, sizeof(err)), 0);
	assert_true(m.wall);
}

/* pvlockctl [-j|-p|-G|-H|-o LIST|-V|-h] OBJECT ... */
static void global_options(void **state)
{
	struct global_opts g;
	char *a1[] = { "/usr/sbin/pvlockctl", "-p", "-G", "-o", "name,total", "stats", "-1", NULL };
	char *a2[] = { "pvlockctl", "-G", "-H", "status", NULL };
	char *a3[] = { "pvlockctl", "--bogus", NULL };
	char *a4[] = { "pvlockctl", "-h", NULL };
	char *a5[] = { "pvlockctl", NULL };

	(void)state;
	assert_int_equal(args_global(7, a1, &g, err, sizeof(err)), 0);
	assert_true(g.json && g.pretty && g.guest && !g.host);
	assert_string_equal(g.columns, "name,total");
	assert_int_equal(g.first_word, 5);	/* "stats": its "-1" is its own */
	assert_int_equal(args_global(4, a2, &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "exclude each other"));
	assert_int_equal(args_global(2, a3, &g, err, sizeof(err)), -EINVAL);
	assert_int_equal(args_global(2, a4, &g, err, sizeof(err)), 0);
	assert_true(g.help);
	assert_int_equal(args_global(1, a5, &g, err, sizeof(err)), 0);
	assert_int_equal(g.first_word, 1);
}

/* iproute2-style abbreviations: exact, else a unique prefix. */
static void prefixes(void **state)
{
	static const struct { const char *name; int x; } t[] = {
		{ "status", 0 }, { "stats", 0 }, { "set", 0 }, { "monitor", 0 }, { "vm", 0 },
	};
	char c[64];

	(void)state;
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "stats", c, sizeof(c)), 1);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "mon", c, sizeof(c)), 3);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "v", c, sizeof(c)), 4);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "statu", c, sizeof(c)), 0);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "st", c, sizeof(c)), -EEXIST);
	assert_string_equal(c, "status, stats");
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "x", c, sizeof(c)), -ENOENT);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "", c, sizeof(c)), -ENOENT);
	assert_int_equal(opt_match(t, 5, sizeof(t[0]), "monitors", c, sizeof(c)), -ENOENT);
}

/* The help comes from the option table: every option, its short form and range. */
static void help_from_table(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	opt_help(f, "pvlockctl", &args_stats_cmd);
	fclose(f);
	assert_non_null(strstr(buf, "Usage: pvlockctl stats [OPTIONS] [[vm] VM]\n"));
	assert_non_null(strstr(buf, "  -1, --once "));
	assert_non_null(strstr(buf, "  -l, --log "));
	assert_non_null(strstr(buf, "  -c, --per-vcpu, --per-cpu "));
	assert_non_null(strstr(buf, "  -b, --bpf "));
	assert_non_null(strstr(buf, "  -s, --sort KEY "));
	assert_non_null(strstr(buf, "(rate, total, name)"));
	assert_non_null(strstr(buf, "  -d, --interval SECS "));
	assert_non_null(strstr(buf, "(0.1..3600)"));
	assert_non_null(strstr(buf, "  -f, --fields REGEX "));
	assert_non_null(strstr(buf, "  -g, --guest NAME "));
	assert_non_null(strstr(buf, "  -p, --pid PID "));
	assert_non_null(strstr(buf, "  -T, --wallclock "));
	free(buf);
}

static void numbers(void **state)
{
	double d;
	long l;
	bool b;

	(void)state;
	assert_int_equal(util_double("2", 0, 10, &d), 0);
	assert_int_equal(util_double("", 0, 10, &d), -EINVAL);
	assert_int_equal(util_double("inf", 0, 1e300, &d), -EINVAL);
	assert_int_equal(util_double("0x10", 0, 100, &d), -EINVAL);
	assert_int_equal(util_double(" 2", 0, 10, &d), -EINVAL);
	assert_int_equal(util_double("11", 0, 10, &d), -ERANGE);
	assert_int_equal(util_long("12", 0, 100, &l), 0);
	assert_int_equal(l, 12);
	assert_int_equal(util_long("12x", 0, 100, &l), -EINVAL);
	assert_int_equal(util_long("+12", 0, 100, &l), -EINVAL);
	assert_int_equal(util_long("-1", 0, 100, &l), -ERANGE);
	assert_int_equal(util_long("99999999999999999999", 0, 100, &l), -ERANGE);
	assert_int_equal(util_long("101", 0, 100, &l), -ERANGE);
	assert_int_equal(util_bool("on", &b), 0);
	assert_true(b);
	assert_int_equal(util_bool("false", &b), 0);
	assert_false(b);
	assert_int_equal(util_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(util_bool("Yes", &b), -EINVAL);
	assert_int_equal(util_bool("2", &b), -EINVAL);
}

/* One growable array for every list the daemon keeps. */
static void grow(void **state)
{
	int *a = NULL;
	size_t cap = 0, i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(UTIL_GROW(a, cap, i + 1), 0);
		a[i] = (int)i;
	}
	assert_true(cap >= 1000 && cap < 2048);
	assert_int_equal(a[999], 999);
	free(a);
}

/* The man page as text, whitespace squeezed to single spaces. */
static char *man_text(const char *page)
{
	char cmd[512], *t = NULL, *d;
	size_t len = 0;
	FILE *p, *f = open_memstream(&t, &len);
	int c, sp = 0;

	snprintf(cmd, sizeof(cmd), "groff -man -Tascii -P-cbou %s/../../daemon/man/%s 2>&1",
		 SRCDIR, page);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((c = fgetc(p)) != EOF) {
		if (c == ' ' || c == '\n' || c == '\t') {
			sp = 1;
			continue;
		}
		if (sp)
			fputc(' ', f);
		sp = 0;
		fputc(c, f);
	}
	assert_int_equal(pclose(p), 0);
	fclose(f);
	/* groff writes a hyphen as "-" in ASCII; keep "--" as is */
	for (d = t; *d; d++)
		if ((unsigned char)*d == 0xad)
			*d = '-';
	return t;
}

/* Every command's synopsis and every option of the tables, in the man page as typed. */
static void man_pages_match_the_tables(void **state)
{
	static const struct opt_cmd *const cmds[] = {
		&args_status_cmd, &args_vm_list_cmd, &args_vm_show_cmd, &args_stats_cmd,
		&args_locks_cmd, &args_get_cmd, &args_set_cmd, &args_reset_cmd,
		&args_monitor_cmd, &args_unload_cmd, &args_help_cmd, &args_global_cmd,
	};
	char *man = man_text("pvlockctl.8"), want[160];
	size_t i;
	const struct opt *o;

	(void)state;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const struct opt_cmd *c = cmds[i];

		if (c != &args_global_cmd) {
			snprintf(want, sizeof(want), " %s%s%s%s ", c->name, c->opts ? " [OPTIONS]" : "",
				 *c->synopsis ? " " : "", c->synopsis);
			if (!strstr(man, want))
				fail_msg("pvlockctl.8 lacks the synopsis '%s'", want);
		}
		for (o = c->opts; o && o->name; o++) {
			if (o->key && o->help)
				snprintf(want, sizeof(want), "-%c, --%s", o->key, o->name);
			else
				snprintf(want, sizeof(want), "--%s", o->name);
			if (!strstr(man, want))
				fail_msg("pvlockctl.8 lacks '%s' of %s", want, c->name);
		}
	}
	/* the spacing the old page lost: "get [vmVM][NAME...]" */
	assert_null(strstr(man, "[vmVM]"));
	free(man);
	man = man_text("pvlockd.8");
	assert_non_null(strstr(man, "pvlockd [-c FILE] [--check-config] [--list-metrics] [-V] [-h]"));
	free(man);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stats_defaults_and_options),
		cmocka_unit_test(stats_errors),
		cmocka_unit_test(params_words),
		cmocka_unit_test(stats_filters),
		cmocka_unit_test(monitor_locks_unload),
		cmocka_unit_test(global_options),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(help_from_table),
		cmocka_unit_test(numbers),
		cmocka_unit_test(grow),
		cmocka_unit_test(man_pages_match_the_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
