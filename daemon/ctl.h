/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PVLOCK_CTL_H
#define PVLOCK_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "opt.h"
#include "pparse.h"
#include "tab.h"
#include "util.h"

struct nlc;
struct pv_params;
struct pv_vm;

enum { CTL_EXIT_OK = 0, CTL_EXIT_FAIL = 1, CTL_EXIT_USAGE = 2 };

#define CTL_GUEST	(1u << 0)
#define CTL_HOST	(1u << 1)

struct ctl_opts {
	bool json, pretty;
	unsigned int families;		/* CTL_GUEST | CTL_HOST */
	const char *columns;		/* -o LIST */
};

extern struct ctl_opts ctl_opts;
/* The program's short name (argv[0] without its directory), for messages. */
extern const char *ctl_prog;

struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the first word after the name */
	const struct opt_cmd *usage;
	const struct tab_col *cols;		/* its table's columns, for the help */
	size_t ncols;
};

/* "pvlockctl: ..." on stderr, with the program's short name. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, plus a pointer to the help; the return is exit status 2. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command's usage (options, columns) on stdout; the return is exit status 0. */
int ctl_help(const struct opt_cmd *c, const struct tab_col *cols, size_t ncols);
/* The table of a command, with -o's columns; NULL after a usage error message. */
struct tab *ctl_tab(const struct tab_col *cols, size_t n);
/*
 * The sub-command of @names (@n entries of @stride bytes, the name first)
 * that @word names or abbreviates uniquely; a usage error message and -1
 * if none or several.
 */
int ctl_match(const char *what, const void *names, size_t n, size_t stride, const char *word);
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

extern volatile int ctl_stop;	/* set by SIGINT/SIGTERM in long-running commands */
void ctl_catch_signals(void);

/* the columns of locks' table, for its help */
enum { LK_SYMBOL, LK_ADDR, LK_CONTENDED, LK_WAIT, LK_WAIT_AVG, LK_WAIT_MAX, LOCKS_NCOLS };
extern const struct tab_col locks_cols[LOCKS_NCOLS];
int ctl_vm_help(void);

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
