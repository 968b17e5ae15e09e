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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pvlock/names.h>
#include <pvlock/version.h>

#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

struct ctl_opts ctl_opts;

/* The settable names per target, from the spec: help text and completion agree with it. */
static void ctl_param_names(FILE *f)
{
	char names[256];

	fprintf(f, "  pvlock_guest:         %s\n", pp_names(PP_GUEST, true, names, sizeof(names)));
	fprintf(f, "  pvlock_host, global:  %s\n", pp_names(PP_HOST_GLOBAL, true, names,
							 sizeof(names)));
	fprintf(f, "  pvlock_host, per VM:  %s\n", pp_names(PP_HOST_VM, true, names, sizeof(names)));
}

/* Every parameter: where it can be set and what it takes. */
static int ctl_help_params(void)
{
	static const enum pp_target targets[] = { PP_GUEST, PP_HOST_GLOBAL, PP_HOST_VM };
	char range[96];
	uint32_t a;
	size_t i;

	printf("%-16s %-6s %-6s %-6s %s\n", "NAME", "GUEST", "HOST", "PER-VM", "VALUES");
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		if (!s)
			continue;
		printf("%-16s", s->name);
		for (i = 0; i < PVLOCK_ARRAY_SIZE(targets); i++)
			printf(" %-6s", pp_settable(s, targets[i]) ? "set" :
			       pp_reported(s, targets[i]) ? "read" : "-");
		printf(" %s%s\n", pp_range(s, PP_GUEST, range, sizeof(range)),
		       s->flags & PVLOCK_PF_HOST_ZERO_OK ? "; on the host also 0 (no hint)" : "");
		if (pvlock_param_note(a))
			printf("%-16s %s\n", "", pvlock_param_note(a));
	}
	return CTL_EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pvlockctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"\n"
		"  status                          modules, versions, ABI, handshake, livepatch\n"
		"  vm list | vm show VM            VMs on this host (pvlock_host)\n"
		"  stats [VM] [--once|--log] [-d SECS] [-n COUNT] [--per-cpu] [--all]\n"
		"        [--sort rate|total|name] [--bpf]\n"
		"                                  counters, totals and rates per second\n"
		"  locks [--top N]                 most contended locks (pvlock_guest)\n"
		"  get [vm VM] [NAME...]           parameters, global or per VM\n"
		"  set [vm VM] [--pin] NAME VALUE...\n"
		"                                  change parameters (CAP_NET_ADMIN)\n"
		"  reset [vm VM]                   zero the counters (CAP_NET_ADMIN)\n"
		"  monitor [-n COUNT] [-t SECS]    events as lines (JSON lines with -j)\n"
		"  unload [-t SECS]                disable pvlock_guest's livepatch, remove it\n"
		"\n"
		"VM is a VM name or id (pvlockctl vm list). Parameters (pvlockctl help params\n"
		"lists their values):\n");
	ctl_param_names(f);
	fprintf(f,
		"\n"
		"OPTIONS:\n"
		"  -j, --json       JSON output\n"
		"  -p, --pretty     indented JSON (implies -j)\n"
		"  -G, --guest      only the guest module (pvlock_guest)\n"
		"  -H, --host       only the host module (pvlock_host)\n"
		"  -V, --version    print the version and exit\n"
		"  -h, --help       this text\n"
		"\n"
		"Exit status: 0 success, 1 failure, 2 usage error (nothing was sent).\n"
		"See pvlockctl(8).\n");
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
	else if (err == -ENOENT && !c->ext_msg[0])
		fprintf(stderr, "pvlockctl: %s: %s is gone (module unloaded?)\n", what, c->family);
	else
		fprintf(stderr, "pvlockctl: %s: %s\n", what, nlc_strerror(c, err));
	return CTL_EXIT_FAIL;
}

bool ctl_is_host(const struct nlc *c)
{
	return !strcmp(c->family, PVLOCK_HOST_GENL_NAME);
}

int ctl_open(struct nlc *c, bool host_only)
{
	unsigned int fam = ctl_opts.families;
	int err;

	if (fam == CTL_GUEST && host_only) {
		fprintf(stderr, "pvlockctl: VMs are a host matter: drop -G\n");
		return -EINVAL;
	}
	if (fam & CTL_HOST) {
		err = nlc_open(c, PVLOCK_HOST_GENL_NAME);
		if (!err || err != -ENOENT || fam == CTL_HOST || host_only) {
			if (err)
				ctl_family_error(PVLOCK_HOST_GENL_NAME, err);
			return err;
		}
	}
	err = nlc_open(c, PVLOCK_GUEST_GENL_NAME);
	if (err == -ENOENT && fam != CTL_GUEST)
		fprintf(stderr, "pvlockctl: neither pvlock_guest nor pvlock_host is loaded "
			"(netlink families not found)\n");
	else if (err)
		ctl_family_error(PVLOCK_GUEST_GENL_NAME, err);
	return err;
}

int ctl_find_vm(struct nlc *c, const char *sel, struct pv_vm *out)
{
	const struct pv_vm *vm;
	struct pv_vms vms;
	size_t i;
	int err;

	err = pv_get_vms(c, &vms);
	if (err) {
		ctl_request_error(c, "listing VMs", err);
		return err;
	}
	err = pv_find_vm(&vms, sel, &vm);
	if (err == -ENOENT) {
		fprintf(stderr, "pvlockctl: no VM '%s' on this host (%zu VMs; pvlockctl vm list "
			"shows them)\n", sel, vms.n);
	} else if (err == -EEXIST) {
		fprintf(stderr, "pvlockctl: VM name '%s' is ambiguous: use one of the ids", sel);
		for (i = 0; i < vms.n; i++)
			if (!strcmp(vms.vm[i].name, sel))
				fprintf(stderr, " %u", vms.vm[i].id);
		fprintf(stderr, "\n");
	} else {
		*out = *vm;
	}
	pv_vms_free(&vms);
	return err;
}

volatile int ctl_stop;

static void ctl_on_signal(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

void ctl_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = ctl_on_signal };

	/* no SA_RESTART: a blocking poll or read returns EINTR and the loop ends */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

uint64_t ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static const struct ctl_cmd ctl_objects[] = {
	{ "status", ctl_status },
	{ "vm", ctl_vm },
	{ "stats", ctl_stats },
	{ "locks", ctl_locks },
	{ "get", ctl_get },
	{ "set", ctl_set },
	{ "reset", ctl_reset },
	{ "monitor", ctl_monitor },
	{ "unload", ctl_unload },
};

static int ctl_help(int argc, char **argv)
{
	if (argc > 0 && !strcmp(argv[0], "params"))
		return ctl_help_params();
	if (argc > 0)
		return ctl_usage_error("help: nothing known about '%s' (help, help params)", argv[0]);
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
			return ctl_help(0, NULL);
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
		return ctl_help(argc - optind - 1, argv + optind + 1);
	out_init(stdout, ctl_opts.json, ctl_opts.pretty);
	for (i = 0; i < PVLOCK_ARRAY_SIZE(ctl_objects); i++)
		if (!strcmp(obj, ctl_objects[i].name))
			return ctl_objects[i].run(argc - optind - 1, argv + optind + 1);
	return ctl_usage_error("unknown object '%s'", obj);
}
