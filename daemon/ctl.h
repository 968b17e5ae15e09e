/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PVLOCK_CTL_H
#define PVLOCK_CTL_H

#include <stdbool.h>

struct nlc;

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

/* print helpers shared by the objects */
struct nlattr;
void ctl_print_params(const struct nlattr *nest);

/* one per object, each in its own file */
int ctl_status(int argc, char **argv);

#endif
