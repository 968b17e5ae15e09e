// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl: inspect and tune pvlock_guest (in a guest) and pvlock_host (on
 * a host).
 *
 *   pvlockctl [OPTIONS] OBJECT { COMMAND | help }
 *
 * OBJECT and COMMAND may be abbreviated to any unique prefix. Exit status:
 * 0 success, 1 failure, 2 usage error (then nothing was sent).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvlock/names.h>
#include <pvlock/version.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

struct ctl_opts ctl_opts;
const char *ctl_prog = "pvlockctl";

static void ctl_verr(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ctl_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_verr(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s help'.\n", ctl_prog);
	return CTL_EXIT_USAGE;
}

int ctl_help(const struct opt_cmd *c, const struct tab_col *cols, size_t ncols)
{
	opt_help(stdout, ctl_prog, c);
	if (cols)
		tab_help(stdout, cols, ncols);
	return CTL_EXIT_OK;
}

struct tab *ctl_tab(const struct tab_col *cols, size_t n)
{
	char err[512];
	struct tab *t = tab_new(cols, n, ctl_opts.columns, err, sizeof(err));

	if (!t)
		ctl_usage_error("-o: %s", err);
	return t;
}

int ctl_match(const char *what, const void *names, size_t n, size_t stride, const char *word)
{
	char cands[256] = "";
	int i = opt_match(names, n, stride, word, cands, sizeof(cands));

	if (i == -EEXIST)
		ctl_usage_error("%s '%s' is ambiguous: %s", what, word, cands);
	else if (i < 0)
		ctl_usage_error("unknown %s '%s'", what, word);
	return i < 0 ? -1 : i;
}

/* Print why @family could not be used; the return is the exit status. */
int ctl_family_error(const char *family, int err)
{
	if (err == -ENOENT)
		ctl_err("%s netlink family not found (is %s.ko loaded?)", family, family);
	else
		ctl_err("cannot talk to %s: %s", family, strerror(-err));
	return CTL_EXIT_FAIL;
}

/* The error of a request, in words; the return is the exit status. */
int ctl_request_error(const struct nlc *c, const char *what, int err)
{
	if (err == -EPERM)
		ctl_err("%s: permission denied (changing %s needs CAP_NET_ADMIN)", what, c->family);
	else if (err == -ENOENT && !c->ext_msg[0])
		ctl_err("%s: %s is gone (module unloaded?)", what, c->family);
	else
		ctl_err("%s: %s", what, nlc_strerror(c, err));
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
		ctl_err("VMs are a host matter: drop -G");
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
		ctl_err("neither pvlock_guest nor pvlock_host is loaded (netlink families not found)");
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
		ctl_err("no VM '%s' on this host (%zu VMs; pvlockctl vm list shows them)", sel, vms.n);
	} else if (err == -EEXIST) {
		fprintf(stderr, "%s: VM name '%s' is ambiguous: use one of the ids",
			ctl_prog, sel);
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

/* ---- help ----------------------------------------------------------- */

enum { HP_NAME, HP_GUEST, HP_HOST, HP_VM, HP_VALUES, HP_NCOLS };

static const struct tab_col help_params_cols[HP_NCOLS] = {
	[HP_NAME] = { "name", "NAME", TAB_STR, 0, "parameter" },
	[HP_GUEST] = { "guest", "GUEST", TAB_STR, 0, "pvlock_guest: set, read or -" },
	[HP_HOST] = { "host", "HOST", TAB_STR, 0, "pvlock_host, global: set, read or -" },
	[HP_VM] = { "per_vm", "PER-VM", TAB_STR, 0, "pvlock_host, per VM: set, read or -" },
	[HP_VALUES] = { "values", "VALUES", TAB_STR, TAB_WRAP, "what it takes" },
};

/* Every parameter: where it can be set and what it takes. */
static int ctl_help_params(void)
{
	static const enum pp_target targets[] = { PP_GUEST, PP_HOST_GLOBAL, PP_HOST_VM };
	struct tab *t = ctl_tab(help_params_cols, HP_NCOLS);
	char range[96], values[160];
	uint32_t a;
	size_t i;

	if (!t)
		return CTL_EXIT_USAGE;
	tab_begin(t, NULL);
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		if (!s)
			continue;
		tab_row(t);
		tab_str(t, HP_NAME, s->name);
		for (i = 0; i < PVLOCK_ARRAY_SIZE(targets); i++)
			tab_str(t, HP_GUEST + i, pp_settable(s, targets[i]) ? "set" :
				pp_reported(s, targets[i]) ? "read" : "-");
		snprintf(values, sizeof(values), "%s%s", pp_range(s, PP_GUEST, range, sizeof(range)),
			 s->flags & PVLOCK_PF_HOST_ZERO_OK ? "; on the host also 0 (no hint)" : "");
		tab_str(t, HP_VALUES, values);
	}
	tab_end(t);
	tab_free(t);
	out_flush();
	/* what a value means beyond its range, under the table (not in JSON) */
	for (a = 1; !ctl_opts.json && a <= PVLOCK_P_MAX; a++)
		if (pvlock_param_note(a))
			printf("\n%s: %s\n", pvlock_param_spec(a)->name, pvlock_param_note(a));
	return CTL_EXIT_OK;
}

/* The settable names per target, from the spec: help text and completion agree with it. */
static void ctl_param_names(FILE *f)
{
	char names[256];

	fprintf(f, "  pvlock_guest:         %s\n", pp_names(PP_GUEST, true, names, sizeof(names)));
	fprintf(f, "  pvlock_host, global:  %s\n", pp_names(PP_HOST_GLOBAL, true, names,
							 sizeof(names)));
	fprintf(f, "  pvlock_host, per VM:  %s\n", pp_names(PP_HOST_VM, true, names, sizeof(names)));
}

static const struct ctl_cmd ctl_objects[] = {
	{ "status", ctl_status, &args_status_cmd, NULL, 0 },
	{ "vm", ctl_vm, NULL, NULL, 0 },
	{ "stats", ctl_stats, &args_stats_cmd, st_cols, ST_NCOLS },
	{ "locks", ctl_locks, &args_locks_cmd, locks_cols, LOCKS_NCOLS },
	{ "get", ctl_get, &args_get_cmd, NULL, 0 },
	{ "set", ctl_set, &args_set_cmd, NULL, 0 },
	{ "reset", ctl_reset, &args_reset_cmd, NULL, 0 },
	{ "monitor", ctl_monitor, &args_monitor_cmd, NULL, 0 },
	{ "unload", ctl_unload, &args_unload_cmd, NULL, 0 },
	{ "help", NULL, &args_help_cmd, NULL, 0 },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s [OPTIONS] OBJECT { COMMAND | help }\n\n",
		ctl_prog);
	for (i = 0; i < PVLOCK_ARRAY_SIZE(ctl_objects); i++) {
		const struct opt_cmd *c = ctl_objects[i].usage;

		if (!c)
			c = &args_vm_list_cmd;
		fprintf(f, "  %s%s%s%s\n", c->name, c->opts ? " [OPTIONS]" : "",
			c->synopsis && *c->synopsis ? " " : "", c->synopsis ? c->synopsis : "");
		if (c == &args_vm_list_cmd)
			fprintf(f, "  %s %s\n", args_vm_show_cmd.name, args_vm_show_cmd.synopsis);
	}
	fprintf(f, "\nOBJECT and COMMAND may be abbreviated to a unique prefix (pvlockctl mon).\n"
		"'pvlockctl OBJECT help' shows an object's options and columns. VM is a VM name\n"
		"or id (pvlockctl vm list). Parameters (pvlockctl help params lists their values):\n");
	ctl_param_names(f);
	fprintf(f, "\nOPTIONS:\n");
	opt_help_options(f, &args_global_cmd);
	fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error (nothing was sent).\n"
		"See pvlockctl(8).\n");
}

static int ctl_help_topic(int argc, char **argv)
{
	static const struct { const char *name; } topics[] = {
		{ "status" }, { "vm" }, { "stats" }, { "locks" }, { "get" }, { "set" },
		{ "reset" }, { "monitor" }, { "unload" }, { "help" }, { "params" },
	};
	char *w[OPT_MAX_WORDS], err[256];
	int n, i, rc;

	rc = args_none(&args_help_cmd, argc, argv, w, &n, err, sizeof(err));
	if (rc < 0)
		return ctl_usage_error("%s", err);
	if (!n) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	i = ctl_match("help topic", topics, PVLOCK_ARRAY_SIZE(topics), sizeof(topics[0]), w[0]);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (!strcmp(topics[i].name, "params"))
		return ctl_help_params();
	if (!strcmp(topics[i].name, "vm"))
		return ctl_vm_help();
	return ctl_help(ctl_objects[i].usage, ctl_objects[i].cols, ctl_objects[i].ncols);
}

int main(int argc, char **argv)
{
	struct global_opts g;
	char err[512];
	int i, rc;

	if (argc > 0 && argv[0][0])
		ctl_prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	rc = args_global(argc, argv, &g, err, sizeof(err));
	if (rc < 0)
		return ctl_usage_error("%s", err);
	if (g.version) {
		printf("pvlockctl %s (ABI %d)\n", PVLOCK_VERSION, PVLOCK_ABI_VERSION);
		return CTL_EXIT_OK;
	}
	if (g.help) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	ctl_opts.json = g.json;
	ctl_opts.pretty = g.pretty;
	ctl_opts.columns = g.columns;
	ctl_opts.families = g.guest ? CTL_GUEST : g.host ? CTL_HOST : CTL_GUEST | CTL_HOST;
	if (g.first_word >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	out_init(stdout, ctl_opts.json, ctl_opts.pretty);
	i = ctl_match("object", ctl_objects, PVLOCK_ARRAY_SIZE(ctl_objects), sizeof(ctl_objects[0]),
		      argv[g.first_word]);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (!ctl_objects[i].run)
		return ctl_help_topic(argc - g.first_word - 1, argv + g.first_word + 1);
	return ctl_objects[i].run(argc - g.first_word - 1, argv + g.first_word + 1);
}
