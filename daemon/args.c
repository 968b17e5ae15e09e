// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

int args_double(const char *s, double lo, double hi, double *v)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(x))
		return -EINVAL;
	if (x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}

int args_long(const char *s, long lo, long hi, long *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (!*s || *end || errno)
		return -EINVAL;
	if (x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}

/*
 * getopt_long over a sub-command's words. argv[0] of the sub-command is its
 * first argument, so getopt (which skips argv[0]) is given one word back:
 * argv - 1, whose element is the command's own name. optind = 0 makes
 * glibc start over on every call; the messages are ours, not getopt's.
 */
static void args_reset(void)
{
	optind = 0;
	opterr = 0;
}

static int args_unknown(char **argv, char *err, size_t errlen, const char *cmd)
{
	if (optopt)
		snprintf(err, errlen, "%s: unknown option '-%c' or missing value", cmd, optopt);
	else
		snprintf(err, errlen, "%s: unknown option '%s' or missing value", cmd,
			 argv[optind - 1]);
	return -EINVAL;
}

int args_stats(int argc, char **argv, struct stats_opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "once", no_argument, NULL, '1' },
		{ "log", no_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "per-cpu", no_argument, NULL, 'c' },
		{ "per-vcpu", no_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "bpf", no_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	char **av = argv - 1;
	int c;

	memset(o, 0, sizeof(*o));
	o->interval = STATS_INTERVAL_DEFAULT;
	o->sort = ST_SORT_RATE;
	args_reset();
	while ((c = getopt_long(argc + 1, av, "1ld:n:cabs:", lo, NULL)) != -1) {
		switch (c) {
		case '1':
			o->once = true;
			break;
		case 'l':
			o->log = true;
			break;
		case 'd':
			if (args_double(optarg, STATS_INTERVAL_MIN, STATS_INTERVAL_MAX, &o->interval)) {
				snprintf(err, errlen, "stats: interval '%s' is not a number of seconds "
					 "in %.1f..%.0f", optarg, STATS_INTERVAL_MIN, STATS_INTERVAL_MAX);
				return -EINVAL;
			}
			break;
		case 'n':
			if (args_long(optarg, 1, 1000000000, &o->count)) {
				snprintf(err, errlen, "stats: count '%s' is not a number >= 1", optarg);
				return -EINVAL;
			}
			break;
		case 'c':
			o->per_cpu = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'b':
			o->bpf = true;
			break;
		case 's':
			if (!strcmp(optarg, "rate"))
				o->sort = ST_SORT_RATE;
			else if (!strcmp(optarg, "total"))
				o->sort = ST_SORT_TOTAL;
			else if (!strcmp(optarg, "name"))
				o->sort = ST_SORT_NAME;
			else {
				snprintf(err, errlen, "stats: sort by rate, total or name, not '%s'",
					 optarg);
				return -EINVAL;
			}
			break;
		default:
			return args_unknown(av, err, errlen, "stats");
		}
	}
	if (optind < argc + 1 && !strcmp(av[optind], "vm"))
		optind++;
	if (optind < argc + 1)
		o->vm = av[optind++];
	if (optind < argc + 1) {
		snprintf(err, errlen, "stats: unexpected '%s' (one VM at most)", av[optind]);
		return -EINVAL;
	}
	if (o->once && o->log) {
		snprintf(err, errlen, "stats: --once and --log exclude each other");
		return -EINVAL;
	}
	if (o->once)
		o->count = 1;
	return 0;
}

int args_params(int argc, char **argv, const char *cmd, struct param_opts *o, char *err,
		size_t errlen)
{
	static const struct option lo[] = {
		{ "pin", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	bool set = !strcmp(cmd, "set");
	char **av = argv - 1;
	int c;

	memset(o, 0, sizeof(*o));
	args_reset();
	/* "+": values such as "-1" must reach the range check, not getopt */
	while ((c = getopt_long(argc + 1, av, "+", set ? lo : lo + 1, NULL)) != -1) {
		if (c != 'P')
			return args_unknown(av, err, errlen, cmd);
		o->pin = true;
	}
	if (optind < argc + 1 && !strcmp(av[optind], "vm")) {
		if (optind + 1 >= argc + 1) {
			snprintf(err, errlen, "%s: vm needs a VM name or id", cmd);
			return -EINVAL;
		}
		o->vm = av[optind + 1];
		optind += 2;
	}
	/* --pin may also follow the selector or the pairs */
	o->argv = av + optind;
	o->argc = argc + 1 - optind;
	if (set) {
		int i, j;

		for (i = j = 0; i < o->argc; i++) {
			if (!strcmp(o->argv[i], "--pin"))
				o->pin = true;
			else
				o->argv[j++] = o->argv[i];
		}
		o->argc = j;
	}
	if (!strcmp(cmd, "reset") && o->argc) {
		snprintf(err, errlen, "reset: unexpected '%s' (reset [vm VM])", o->argv[0]);
		return -EINVAL;
	}
	if (set && o->argc % 2) {
		snprintf(err, errlen, "set: '%s' needs a value (set NAME VALUE...)",
			 o->argv[o->argc - 1]);
		return -EINVAL;
	}
	return 0;
}

int args_monitor(int argc, char **argv, struct monitor_opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char **av = argv - 1;
	int c;

	memset(o, 0, sizeof(*o));
	args_reset();
	while ((c = getopt_long(argc + 1, av, "n:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (args_long(optarg, 1, 1000000000, &o->count)) {
				snprintf(err, errlen, "monitor: count '%s' is not a number >= 1", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (args_double(optarg, 0.1, 86400, &o->timeout)) {
				snprintf(err, errlen, "monitor: timeout '%s' is not a number of seconds "
					 "in 0.1..86400", optarg);
				return -EINVAL;
			}
			break;
		default:
			return args_unknown(av, err, errlen, "monitor");
		}
	}
	if (optind < argc + 1) {
		snprintf(err, errlen, "monitor: unexpected '%s'", av[optind]);
		return -EINVAL;
	}
	return 0;
}

int args_locks(int argc, char **argv, struct locks_opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "top", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	char **av = argv - 1;
	int c;

	memset(o, 0, sizeof(*o));
	args_reset();
	while ((c = getopt_long(argc + 1, av, "n:", lo, NULL)) != -1) {
		if (c != 'n')
			return args_unknown(av, err, errlen, "locks");
		if (args_long(optarg, 1, 1000000, &o->top)) {
			snprintf(err, errlen, "locks: top '%s' is not a number >= 1", optarg);
			return -EINVAL;
		}
	}
	if (optind < argc + 1) {
		snprintf(err, errlen, "locks: unexpected '%s'", av[optind]);
		return -EINVAL;
	}
	return 0;
}

int args_unload(int argc, char **argv, struct unload_opts *o, char *err, size_t errlen)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char **av = argv - 1;
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout = 60;
	args_reset();
	while ((c = getopt_long(argc + 1, av, "t:", lo, NULL)) != -1) {
		if (c != 't')
			return args_unknown(av, err, errlen, "unload");
		if (args_double(optarg, 0.1, 3600, &o->timeout)) {
			snprintf(err, errlen, "unload: timeout '%s' is not a number of seconds in "
				 "0.1..3600", optarg);
			return -EINVAL;
		}
	}
	if (optind < argc + 1) {
		snprintf(err, errlen, "unload: unexpected '%s'", av[optind]);
		return -EINVAL;
	}
	return 0;
}
