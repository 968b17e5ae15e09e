/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlockctl's command line: the global options and every command's
 * options as opt.h tables, and the checks between them, without side
 * effects so that the unit tests can run them. Each parser returns 0,
 * 1 for "help was asked" (the caller prints args_help()), or -EINVAL
 * with a message in @err; the caller turns that into exit status 2
 * before anything is sent.
 */
#ifndef PVLOCK_ARGS_H
#define PVLOCK_ARGS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "opt.h"
#include "table.h"

struct global_opts {
	bool json, pretty, guest, host, version, help;
	const char *columns;		/* -o */
	int first_word;			/* index of OBJECT in argv */
};

/* pvlockctl [OPTIONS] OBJECT ...: the options before OBJECT. */
int args_global(int argc, char **argv, struct global_opts *o, char *err, size_t errlen);
extern const struct opt_cmd args_global_cmd;

struct stats_opts {
	const char *vm;			/* "stats [vm] VM": name or id; NULL for all */
	const char *guest;		/* -g NAME: kvm_stat's guest by name */
	long pid;			/* -p PID: the VM whose VMM is PID; 0 for any */
	const char *filter;		/* -f REGEX on counter names */
	regex_t re;			/* @filter compiled */
	bool once;			/* one table after one interval, then exit */
	bool log;			/* CSV lines, one per row per interval */
	bool per_cpu;			/* per vCPU (host, BPF) or per CPU (guest) */
	bool all;			/* rows with zero totals too */
	bool bpf;			/* the BPF observer even if pvlock_host is loaded */
	bool wall;			/* wall-clock timestamps */
	double interval;		/* seconds between samples */
	long count;			/* refreshes before exiting; 0 = until interrupted */
	int sort;			/* enum st_sort */
};

#define STATS_INTERVAL_DEFAULT	2.0
#define STATS_INTERVAL_MIN	0.1
#define STATS_INTERVAL_MAX	3600.0

int args_stats(int argc, char **argv, struct stats_opts *o, char *err, size_t errlen);
void args_stats_free(struct stats_opts *o);

struct param_opts {
	const char *vm;			/* "vm VM" */
	bool pin;			/* set --pin */
	int argc;			/* what is left: NAME [VALUE]... */
	char **argv;
	char *words[OPT_MAX_WORDS];
};

/* get [vm VM] [NAME...] / set [vm VM] [--pin] NAME VALUE... / reset [vm VM] */
int args_params(int argc, char **argv, const char *cmd, struct param_opts *o, char *err,
		size_t errlen);

struct monitor_opts {
	long count;			/* events before exiting; 0 = until interrupted */
	double timeout;			/* seconds; 0 = none */
	bool wall;			/* wall-clock timestamps */
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

/* Commands without options: status, vm list, vm show VM, help [TOPIC]. */
int args_none(const struct opt_cmd *c, int argc, char **argv, char **words, int *nwords,
	      char *err, size_t errlen);

extern const struct opt_cmd args_status_cmd, args_vm_list_cmd, args_vm_show_cmd,
	args_stats_cmd, args_locks_cmd, args_get_cmd, args_set_cmd, args_reset_cmd,
	args_monitor_cmd, args_unload_cmd, args_help_cmd;

#endif
