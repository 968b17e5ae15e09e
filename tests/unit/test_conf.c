// SPDX-License-Identifier: GPL-2.0
/* pvlockd's configuration: values, defaults, and every error with its line. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "conf.h"

static struct pvd_conf c;
static struct pvd_conf_errors e;

static int parse(const char *text)
{
	return pvd_conf_parse("t.conf", text, &c, &e);
}

/* Is there an error that starts with @prefix ("t.conf:3: ...")? */
static bool has_error(const char *prefix)
{
	unsigned int i;

	for (i = 0; i < e.n; i++)
		if (!strncmp(e.msg[i], prefix, strlen(prefix)))
			return true;
	for (i = 0; i < e.n; i++)
		print_message("  error: %s\n", e.msg[i]);
	return false;
}

static void defaults(void **state)
{
	struct pvlock_tune_cfg d;

	(void)state;
	assert_int_equal(parse(""), 0);
	pvlock_tune_cfg_default(&d);
	assert_true(c.tune);
	assert_int_equal(c.period_ms, 1000);
	assert_memory_equal(&c.cfg, &d, sizeof(d));
	assert_string_equal(c.listen, "127.0.0.1:9583");
	assert_string_equal(c.textfile, "");
	assert_int_equal(c.bpf, PVD_BPF_AUTO);
	assert_int_equal(c.oc_source, PVD_OC_AUTO);
	assert_int_equal(c.log_level, PVD_LOG_INFO);
	/* comments and blank lines only */
	assert_int_equal(parse("# a comment\n; another\n\n[tune]\n"), 0);
}

static void values(void **state)
{
	(void)state;
	assert_int_equal(parse("[tune]\n"
			       "enable = no\n"
			       "period_ms = 250 ; inline comment\n"
			       "min = 512\n"
			       "max = 65536\n"
			       "budget_base = 10\n"
			       "budget_max = 20\n"
			       "lhp_low = 1\n"
			       "lhp_high = 2\n"
			       "calm_periods = 7\n"
			       "overcommit = proc\n"
			       "[metrics]\n"
			       "listen = [::1]:9100\n"
			       "textfile = /var/lib/prometheus/node-exporter/pvlock.prom\n"
			       "[bpf]\nobserver = no\n"
			       "[log]\nlevel = debug\n"), 0);
	assert_false(c.tune);
	assert_int_equal(c.period_ms, 250);
	assert_int_equal(c.cfg.min, 512);
	assert_int_equal(c.cfg.max, 65536);
	assert_int_equal(c.cfg.budget_base, 10);
	assert_int_equal(c.cfg.budget_max, 20);
	assert_int_equal(c.cfg.lhp_low, 1);
	assert_int_equal(c.cfg.lhp_high, 2);
	assert_int_equal(c.cfg.calm_periods, 7);
	assert_int_equal(c.oc_source, PVD_OC_PROC);
	assert_string_equal(c.listen, "[::1]:9100");
	assert_string_equal(c.textfile, "/var/lib/prometheus/node-exporter/pvlock.prom");
	assert_int_equal(c.bpf, PVD_BPF_NO);
	assert_int_equal(c.log_level, PVD_LOG_DEBUG);
	/* an empty listen turns the endpoint off */
	assert_int_equal(parse("[metrics]\nlisten =\n"), 0);
	assert_string_equal(c.listen, "");
}

static void line_numbered_errors(void **state)
{
	(void)state;
	assert_int_equal(parse("[tune]\n"			/* 1 */
			       "min = 5\n"			/* 2: below the range */
			       "period_ms = fast\n"		/* 3: not a number */
			       "colour = blue\n"		/* 4: unknown key */
			       "[network]\n"			/* 5 */
			       "port = 1\n"			/* 6: unknown section */
			       "enable = maybe\n"		/* 7: (in [network]) */
			       "[tune]\n"			/* 8 */
			       "enable = maybe\n"		/* 9: not a boolean */
			       "overcommit = guess\n"		/* 10: not a choice */
			       "min = 300\n"),			/* 11: set twice */
			 -EINVAL);
	assert_true(has_error("t.conf:2: tune.min = '5': out of range: allowed 16..4194304"));
	assert_true(has_error("t.conf:3: tune.period_ms = 'fast': not a whole number: allowed 100..60000"));
	assert_true(has_error("t.conf:4: unknown key 'colour' in [tune]"));
	assert_true(has_error("t.conf:6: unknown section [network]"));
	assert_true(has_error("t.conf:7: unknown section [network]"));
	assert_true(has_error("t.conf:9: tune.enable = 'maybe': allowed yes or no (also on/off"));
	assert_true(has_error("t.conf:10: tune.overcommit = 'guess': allowed auto, module, proc"));
	assert_true(has_error("t.conf:11: tune.min set again (first on line 2)"));
	assert_int_equal(e.n, 8);
}

static void syntax_and_cross_key(void **state)
{
	char line[400];

	(void)state;
	assert_int_equal(parse("[tune]\nmin = 300\nthis is not ini\n"), -EINVAL);
	assert_true(has_error("t.conf:3: syntax error"));
	assert_int_equal(parse("period_ms = 100\n"), -EINVAL);
	assert_true(has_error("t.conf:1: 'period_ms' outside any section"));
	assert_int_equal(parse("[tune\n"), -EINVAL);
	assert_true(has_error("t.conf:1: syntax error"));
	/* rules between keys name the line of the later one */
	assert_int_equal(parse("[tune]\nmax = 1000\n\nmin = 2000\n"), -EINVAL);
	assert_true(has_error("t.conf:4: tune.min (2000) must not exceed tune.max (1000)"));
	assert_int_equal(parse("[tune]\nmin = 40000\n"), -EINVAL);	/* above the default max */
	assert_true(has_error("t.conf:2: tune.min (40000) must not exceed tune.max (32768)"));
	assert_int_equal(parse("[tune]\nbudget_max = 10\nbudget_base = 11\n"), -EINVAL);
	assert_true(has_error("t.conf:3: tune.budget_base (11) must not exceed"));
	assert_int_equal(parse("[tune]\nlhp_high = 5\n"), -EINVAL);
	assert_true(has_error("t.conf:2: tune.lhp_low (5) must be below tune.lhp_high (5)"));
	/* metrics */
	assert_int_equal(parse("[metrics]\nlisten = 127.0.0.1:0\n"), -EINVAL);
	assert_true(has_error("t.conf:2: metrics.listen = '127.0.0.1:0' is not HOST:PORT"));
	assert_int_equal(parse("[metrics]\nlisten = 127.0.0.1\n"), -EINVAL);
	assert_int_equal(parse("[metrics]\nlisten = [::1:80\n"), -EINVAL);
	assert_int_equal(parse("[metrics]\nlisten = ::1:80\n"), -EINVAL);	/* IPv6 needs [] */
	assert_int_equal(parse("[metrics]\nlisten = no-such-host.invalid:9583\n"), -EINVAL);
	assert_true(has_error("t.conf:2: metrics.listen = 'no-such-host.invalid:9583': cannot resolve "
			      "'no-such-host.invalid'"));
	assert_int_equal(parse("[metrics]\ntextfile = pvlock.prom\n"), -EINVAL);
	assert_true(has_error("t.conf:2: metrics.textfile = 'pvlock.prom': expected an absolute path"));
	assert_int_equal(parse("[metrics]\ntextfile = /tmp/pvlock.txt\n"), -EINVAL);
	/* a line longer than inih's buffer is refused, not cut in two */
	memset(line, 'x', sizeof(line));
	memcpy(line, "[log]\nlevel = ", 14);
	strcpy(line + 300, "\n");
	assert_int_equal(parse(line), -EINVAL);
	assert_true(has_error("t.conf:2: line longer than"));
}

/* Host names resolve (getaddrinfo); the first address is the one served on. */
static void listen_names(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char why[256];

	(void)state;
	assert_int_equal(parse("[metrics]\nlisten = localhost:9583\n"), 0);
	assert_string_equal(c.listen, "localhost:9583");
	assert_int_equal(pvd_resolve_listen("localhost:9583", &ss, &len, why, sizeof(why)), 0);
	assert_true(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	assert_int_equal(pvd_resolve_listen("127.0.0.1:80", &ss, &len, why, sizeof(why)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 80);
	assert_int_equal(pvd_resolve_listen("[::1]:9100", &ss, &len, why, sizeof(why)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(pvd_resolve_listen("127.0.0.1:http", &ss, &len, why, sizeof(why)), -EINVAL);
}

/*
 * inih takes an indented line as the continuation of the value above it
 * ("max = 1024" would become part of min's value): refused with its line.
 */
static void indented_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("[tune]\nmin = 512\n  max = 1024\n"), -EINVAL);
	assert_true(has_error("t.conf:3: indented line 'max = 1024': keys and [sections] start at "
			      "the beginning of the line"));
	assert_int_equal(e.n, 1);
	assert_int_equal(c.cfg.min, 512);		/* not "512 max = 1024" */
	assert_int_equal(parse("\t[log]\nlevel = info\n"), -EINVAL);
	assert_true(has_error("t.conf:1: indented line '[log]'"));
	/* indented comments and blank lines are harmless */
	assert_int_equal(parse("[tune]\n  # a comment\n\t; another\n   \nmin = 512\n"), 0);
	assert_int_equal(c.cfg.min, 512);
}

static void files(void **state)
{
	char path[] = "/tmp/pvlock-conf-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "[tune]\nperiod_ms = 500\n\n[log]\nlevel = loud\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(pvd_conf_load(path, &c, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], ":5: log.level = 'loud': allowed error, warning, info, debug"));
	assert_int_equal(strncmp(e.msg[0], path, strlen(path)), 0);
	unlink(path);
	assert_int_equal(pvd_conf_load("/nonexistent/pvlockd.conf", &c, &e), -ENOENT);
	/* the shipped example is valid */
	assert_int_equal(pvd_conf_load(SRCDIR "/../../daemon/pvlockd.conf", &c, &e), 0);
}

static void many_errors_are_capped(void **state)
{
	char text[4096] = "[tune]\n";
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		strcat(text, "bogus = 1\n");
	assert_int_equal(parse(text), -EINVAL);
	assert_int_equal(e.n, PVD_CONF_MAX_ERRORS);
	assert_true(e.dropped > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(values),
		cmocka_unit_test(line_numbered_errors),
		cmocka_unit_test(syntax_and_cross_key),
		cmocka_unit_test(listen_names),
		cmocka_unit_test(indented_lines),
		cmocka_unit_test(files),
		cmocka_unit_test(many_errors_are_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
