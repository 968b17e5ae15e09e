// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl: inspect and tune pvlock_guest (in a guest) and pvlock_host (on
 * a host).
 *
 *   pvlockctl [OPTIONS] OBJECT { COMMAND | help }
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvlock/names.h>
#include <pvlock/version.h>

#include "ctl.h"
#include "nlc.h"
#include "out.h"

struct ctl_opts ctl_opts;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pvlockctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"\n"
		"OBJECT := { status }\n"
		"\n"
		"OPTIONS:\n"
		"  -j, --json       JSON output\n"
		"  -p, --pretty     indented JSON (implies -j)\n"
		"  -G, --guest      only the guest module (pvlock_guest)\n"
		"  -H, --host       only the host module (pvlock_host)\n"
		"  -V, --version    print the version and exit\n"
		"  -h, --help       this text\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int ctl_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "pvlockctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'pvlockctl help'.\n");
	return CTL_EXIT_USAGE;
}

/* Print why @family could not be used; the return is the exit status. */
int ctl_family_error(const char *family, int err)
{
	if (err == -ENOENT)
		fprintf(stderr, "pvlockctl: %s netlink family not found (is %s.ko loaded?)\n",
			family, family);
	else
		fprintf(stderr, "pvlockctl: cannot talk to %s: %s\n", family, strerror(-err));
	return CTL_EXIT_FAIL;
}

/* The error of a request, in words; the return is the exit status. */
int ctl_request_error(const struct nlc *c, const char *what, int err)
{
	if (err == -EPERM)
		fprintf(stderr, "pvlockctl: %s: permission denied (changing %s needs CAP_NET_ADMIN)\n",
			what, c->family);
	else
		fprintf(stderr, "pvlockctl: %s: %s\n", what, nlc_strerror(c, err));
	return CTL_EXIT_FAIL;
}

static const struct ctl_cmd ctl_objects[] = {
	{ "status", ctl_status },
};

static int ctl_help(void)
{
	usage(stdout);
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "guest", no_argument, NULL, 'G' },
		{ "host", no_argument, NULL, 'H' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *obj;
	size_t i;
	int c;

	ctl_opts.families = CTL_GUEST | CTL_HOST;
	while ((c = getopt_long(argc, argv, "+jpGHVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl_opts.json = true;
			break;
		case 'p':
			ctl_opts.json = ctl_opts.pretty = true;
			break;
		case 'G':
			ctl_opts.families = CTL_GUEST;
			break;
		case 'H':
			ctl_opts.families = CTL_HOST;
			break;
		case 'V':
			printf("pvlockctl %s (ABI %d)\n", PVLOCK_VERSION, PVLOCK_ABI_VERSION);
			return CTL_EXIT_OK;
		case 'h':
			return ctl_help();
		default:
			fprintf(stderr, "Try 'pvlockctl help'.\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	obj = argv[optind];
	if (!strcmp(obj, "help"))
		return ctl_help();
	out_init(stdout, ctl_opts.json, ctl_opts.pretty);
	for (i = 0; i < PVLOCK_ARRAY_SIZE(ctl_objects); i++)
		if (!strcmp(obj, ctl_objects[i].name))
			return ctl_objects[i].run(argc - optind - 1, argv + optind + 1);
	return ctl_usage_error("unknown object '%s'", obj);
}
