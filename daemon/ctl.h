/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PVLOCK_CTL_H
#define PVLOCK_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "pparse.h"

struct nlc;
struct pv_params;
struct pv_vm;

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

#define CTL_GUEST	(1u << 0)
#define CTL_HOST	(1u << 1)

struct ctl_opts {
	bool json, pretty;
	unsigned int families;		/* CTL_GUEST | CTL_HOST */
};

extern struct ctl_opts ctl_opts;

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the first word after the name */
};

int ctl_usage_error(const char *fmt, const char *arg);
int ctl_family_error(const char *family, int err);
int ctl_request_error(const struct nlc *c, const char *what, int err);

/*
 * Connect to the family a command acts on: the one -G/-H chose, else
 * pvlock_host when it is loaded (@host_only: only that), else
 * pvlock_guest. Prints why not and returns a negative errno on failure.
 */
int ctl_open(struct nlc *c, bool host_only);
bool ctl_is_host(const struct nlc *c);

/* The VM that @sel names, with "no VM" and "ambiguous" said in words. */
int ctl_find_vm(struct nlc *c, const char *sel, struct pv_vm *out);

/*
 * Print @p's values in @only (bit per PVLOCK_P_*; ~0 for all): a "params"
 * line of name=value (status), "name value" lines (get), or name=value
 * pairs ending the current line (monitor); JSON object "params" in all.
 */
enum ctl_params_style { CTL_PARAMS_STATUS, CTL_PARAMS_LINES, CTL_PARAMS_INLINE };
void ctl_print_params(const struct pv_params *p, uint32_t only, enum ctl_params_style style);

/* Seconds of CLOCK_MONOTONIC, and a sleep that a signal cuts short. */
uint64_t ctl_now_ns(void);
extern volatile int ctl_stop;	/* set by SIGINT/SIGTERM in long-running commands */
void ctl_catch_signals(void);

/* one per object, each in its own file */
int ctl_status(int argc, char **argv);
int ctl_vm(int argc, char **argv);
int ctl_stats(int argc, char **argv);
int ctl_locks(int argc, char **argv);
int ctl_get(int argc, char **argv);
int ctl_set(int argc, char **argv);
int ctl_reset(int argc, char **argv);
int ctl_monitor(int argc, char **argv);
int ctl_unload(int argc, char **argv);

#endif
