/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlockctl's per-command arguments, parsed without side effects so that
 * the unit tests can run them. Each parser returns 0 or -EINVAL with a
 * message in @err; the caller turns that into exit status 2.
 */
#ifndef PVLOCK_ARGS_H
#define PVLOCK_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

struct stats_opts {
	const char *vm;			/* "stats [vm] VM": one VM; NULL for all */
	bool once;			/* one table after one interval, then exit */
	bool log;			/* CSV lines, one per row per interval */
	bool per_cpu;			/* per vCPU (host, BPF) or per CPU (guest) */
	bool all;			/* rows with zero totals too */
	bool bpf;			/* the BPF observer even if pvlock_host is loaded */
	double interval;		/* seconds between samples */
	long count;			/* refreshes before exiting; 0 = until interrupted */
	enum st_sort sort;
};

#define STATS_INTERVAL_DEFAULT	2.0
#define STATS_INTERVAL_MIN	0.1
#define STATS_INTERVAL_MAX	3600.0

int args_stats(int argc, char **argv, struct stats_opts *o, char *err, size_t errlen);

struct param_opts {
	const char *vm;			/* "vm VM" */
	bool pin;			/* set --pin */
	int argc;			/* what is left: NAME [VALUE]... */
	char **argv;
};

/* get [vm VM] [NAME...] / set [vm VM] [--pin] NAME VALUE... / reset [vm VM] */
int args_params(int argc, char **argv, const char *cmd, struct param_opts *o, char *err,
		size_t errlen);

struct monitor_opts {
	long count;			/* events before exiting; 0 = until interrupted */
	double timeout;			/* seconds; 0 = none */
};

int args_monitor(int argc, char **argv, struct monitor_opts *o, char *err, size_t errlen);

struct locks_opts {
	long top;			/* at most this many locks; 0 = all the module keeps */
};

int args_locks(int argc, char **argv, struct locks_opts *o, char *err, size_t errlen);

struct unload_opts {
	double timeout;			/* seconds to wait for the livepatch transition */
};

int args_unload(int argc, char **argv, struct unload_opts *o, char *err, size_t errlen);

/* Strict number parsers used by the above (and pvlockd's -options). */
int args_double(const char *s, double lo, double hi, double *v);
int args_long(const char *s, long lo, long hi, long *v);

#endif
