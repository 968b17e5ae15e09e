// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

#define G(f)	OPT_FIELD(struct global_opts, f)
static const struct opt global_opts[] = {
	{ "json", 'j', OPT_FLAG, G(json), .help = "JSON output" },
	{ "pretty", 'p', OPT_FLAG, G(pretty), .help = "indented JSON (implies -j)" },
	{ "guest", 'G', OPT_FLAG, G(guest), .help = "only the guest module (pvlock_guest)" },
	{ "host", 'H', OPT_FLAG, G(host), .help = "only the host module (pvlock_host)" },
	{ "output", 'o', OPT_STR, G(columns), .arg = "LIST",
	  .help = "table columns (+LIST adds to the default ones; OBJECT help lists them)" },
	{ "version", 'V', OPT_FLAG, G(version), .help = "print the version and exit" },
	OPT_END,
};
#undef G

const struct opt_cmd args_global_cmd = {
	"pvlockctl", "OBJECT { COMMAND | help }", NULL, global_opts, 0, OPT_MAX_WORDS, true,
};

int args_global(int argc, char **argv, struct global_opts *o, char *err, size_t errlen)
{
	char *words[OPT_MAX_WORDS];
	int n, rc;

	memset(o, 0, sizeof(*o));
	/* argv[0] is the program: the driver takes the words after a name */
	rc = opt_parse(&args_global_cmd, argc - 1, argv + 1, o, words, &n, err, errlen);
	if (rc < 0)
		return rc;
	o->help = rc == 1;
	o->json |= o->pretty;
	if (o->guest && o->host) {
		snprintf(err, errlen, "-G and -H exclude each other (neither: both modules)");
		return -EINVAL;
	}
	o->first_word = n ? argc - n : argc;
	return 0;
}

static const char *const sort_names[] = { "rate", "total", "name", NULL };

#define S(f)	OPT_FIELD(struct stats_opts, f)
static const struct opt stats_opts[] = {
	{ "once", '1', OPT_FLAG, S(once), .help = "one table after one interval, then exit" },
	{ "log", 'l', OPT_FLAG, S(log), .help = "CSV lines, one per row per interval" },
	{ "interval", 'd', OPT_DOUBLE, S(interval), STATS_INTERVAL_MIN, STATS_INTERVAL_MAX,
	  .arg = "SECS", .help = "seconds between samples, default 2" },
	{ "count", 'n', OPT_LONG, S(count), 1, 1e9, .arg = "N", .help = "stop after N refreshes" },
	{ "per-vcpu", 'c', OPT_FLAG, S(per_cpu), .help = "per vCPU (host) or per CPU (guest)" },
	{ "per-cpu", 0, OPT_FLAG, S(per_cpu), .help = NULL },
	{ "all", 'a', OPT_FLAG, S(all), .help = "rows with zero totals too (JSON has them always)" },
	{ "bpf", 'b', OPT_FLAG, S(bpf),
	  .help = "the BPF observer of KVM even when pvlock_host is loaded" },
	{ "sort", 's', OPT_ENUM, S(sort), .names = sort_names, .arg = "KEY", .help = "row order" },
	{ "fields", 'f', OPT_STR, S(filter), .arg = "REGEX",
	  .help = "only counters whose name matches REGEX (POSIX extended, as kvm_stat -f)" },
	{ "guest", 'g', OPT_STR, S(guest), .arg = "NAME", .help = "only the VM named NAME" },
	{ "pid", 'p', OPT_LONG, S(pid), 1, 4194304, .arg = "PID",
	  .help = "only the VM whose VMM process is PID" },
	{ "wallclock", 'T', OPT_FLAG, S(wall),
	  .help = "wall-clock time (ISO 8601) in --log's first column and the table" },
	OPT_END,
};
#undef S

const struct opt_cmd args_stats_cmd = {
	"stats", "[[vm] VM]",
	"Counters with totals and rates per second, refreshed in place (kvm_stat's habits).\n"
	"VM is a VM name or id; text shows time counters in seconds and as a share of\n"
	"vCPU time, JSON and CSV the raw nanoseconds.",
	stats_opts, 0, 2, false,
};

int args_stats(int argc, char **argv, struct stats_opts *o, char *err, size_t errlen)
{
	char *w[OPT_MAX_WORDS];
	int n, rc;

	memset(o, 0, sizeof(*o));
	o->interval = STATS_INTERVAL_DEFAULT;
	o->sort = ST_SORT_RATE;
	rc = opt_parse(&args_stats_cmd, argc, argv, o, w, &n, err, errlen);
	if (rc)
		return rc;
	if (n == 2 && strcmp(w[0], "vm")) {
		snprintf(err, errlen, "stats: unexpected '%s' (one VM at most)", w[1]);
		return -EINVAL;
	}
	if (n == 1 && !strcmp(w[0], "vm")) {
		snprintf(err, errlen, "stats: vm needs a VM name or id");
		return -EINVAL;
	}
	if (n == 1 && !strcmp(w[0], "help"))
		return 1;
	if (n)
		o->vm = w[n - 1];
	if (o->once && o->log) {
		snprintf(err, errlen, "stats: --once and --log exclude each other");
		return -EINVAL;
	}
	if (!!o->vm + !!o->guest + !!o->pid > 1) {
		snprintf(err, errlen, "stats: give one VM: a name or id, -g NAME or -p PID");
		return -EINVAL;
	}
	if (o->filter) {
		int e = regcomp(&o->re, o->filter, REG_EXTENDED | REG_NOSUB);

		if (e) {
			char why[128];

			regerror(e, &o->re, why, sizeof(why));
			snprintf(err, errlen, "stats: -f '%s': %s", o->filter, why);
			o->filter = NULL;
			return -EINVAL;
		}
	}
	if (o->once)
		o->count = 1;
	return 0;
}

void args_stats_free(struct stats_opts *o)
{
	if (o->filter)
		regfree(&o->re);
	o->filter = NULL;
}

#define P(f)	OPT_FIELD(struct param_opts, f)
static const struct opt set_opts[] = {
	{ "pin", 0, OPT_FLAG, P(pin),
	  .help = "also pin the threshold and budget given: pvlockd leaves them alone" },
	OPT_END,
};
#undef P

const struct opt_cmd args_get_cmd = {
	"get", "[vm VM] [NAME...]",
	"Parameters as \"name value\" lines: the guest's, the host's global ones, or those\n"
	"in force for one VM. pvlockctl help params lists them.",
	NULL, 0, OPT_MAX_WORDS, true,
};
const struct opt_cmd args_set_cmd = {
	"set", "[vm VM] NAME VALUE...",
	"Change parameters (CAP_NET_ADMIN). Every value is checked against the modules'\n"
	"own table before anything is sent; one bad value changes nothing.",
	set_opts, 0, OPT_MAX_WORDS, true,
};
const struct opt_cmd args_reset_cmd = {
	"reset", "[vm VM]", "Zero the counters (CAP_NET_ADMIN), of one VM or all.",
	NULL, 0, 2, true,
};

int args_params(int argc, char **argv, const char *cmd, struct param_opts *o, char *err,
		size_t errlen)
{
	const struct opt_cmd *c = !strcmp(cmd, "set") ? &args_set_cmd :
				  !strcmp(cmd, "get") ? &args_get_cmd : &args_reset_cmd;
	bool set = c == &args_set_cmd;
	int n, i, j, rc;

	memset(o, 0, sizeof(*o));
	/* options only before the words: values such as "-1" reach the range check */
	rc = opt_parse(c, argc, argv, o, o->words, &n, err, errlen);
	if (rc)
		return rc;
	o->argv = o->words;
	o->argc = n;
	if (n == 1 && !strcmp(o->argv[0], "help"))
		return 1;
	if (n && !strcmp(o->argv[0], "vm")) {
		if (n < 2) {
			snprintf(err, errlen, "%s: vm needs a VM name or id", cmd);
			return -EINVAL;
		}
		o->vm = o->argv[1];
		o->argv += 2;
		o->argc -= 2;
	}
	/* --pin may also follow the selector or the pairs */
	if (set) {
		for (i = j = 0; i < o->argc; i++) {
			if (!strcmp(o->argv[i], "--pin"))
				o->pin = true;
			else
				o->argv[j++] = o->argv[i];
		}
		o->argc = j;
	}
	if (c == &args_reset_cmd && o->argc) {
		snprintf(err, errlen, "reset: unexpected '%s' (reset [vm VM])", o->argv[0]);
		return -EINVAL;
	}
	if (set && !o->argc) {
		snprintf(err, errlen, "set: nothing to set (set [vm VM] NAME VALUE...)");
		return -EINVAL;
	}
	if (set && o->argc % 2) {
		snprintf(err, errlen, "set: '%s' needs a value (set NAME VALUE...)",
			 o->argv[o->argc - 1]);
		return -EINVAL;
	}
	return 0;
}

#define M(f)	OPT_FIELD(struct monitor_opts, f)
static const struct opt monitor_opts[] = {
	{ "count", 'n', OPT_LONG, M(count), 1, 1e9, .arg = "N", .help = "stop after N events" },
	{ "timeout", 't', OPT_DOUBLE, M(timeout), 0.1, 86400, .arg = "SECS",
	  .help = "stop after SECS seconds" },
	{ "wallclock", 'T', OPT_FLAG, M(wall),
	  .help = "wall-clock timestamps (ISO 8601) instead of the module's monotonic ones" },
	OPT_END,
};
#undef M

const struct opt_cmd args_monitor_cmd = {
	"monitor", "",
	"Events, one per line (JSON lines with -j): parameter, handshake, livepatch and\n"
	"threshold changes, VMs and vCPU registrations, modules unloaded and loaded.",
	monitor_opts, 0, 0, false,
};

static int args_one(const struct opt_cmd *c, int argc, char **argv, void *o, char *err,
		    size_t errlen)
{
	char *w[OPT_MAX_WORDS];
	int n, rc = opt_parse(c, argc, argv, o, w, &n, err, errlen);

	/* "help" as the only word, as every command takes it */
	if (rc == -EINVAL && argc == 1 && !strcmp(argv[0], "help"))
		return 1;
	return rc;
}

int args_monitor(int argc, char **argv, struct monitor_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	return args_one(&args_monitor_cmd, argc, argv, o, err, errlen);
}

static const struct opt locks_opts[] = {
	{ "top", 'n', OPT_LONG, OPT_FIELD(struct locks_opts, top), 1, 1e6, .arg = "N",
	  .help = "at most N locks" },
	OPT_END,
};

const struct opt_cmd args_locks_cmd = {
	"locks", "",
	"The guest's most contended spinlocks (pvlock_guest): slow-path entries and\n"
	"waits, exact for the long waits, estimated for the short ones (1 in 16 timed).",
	locks_opts, 0, 0, false,
};

int args_locks(int argc, char **argv, struct locks_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	return args_one(&args_locks_cmd, argc, argv, o, err, errlen);
}

static const struct opt unload_opts[] = {
	{ "timeout", 't', OPT_DOUBLE, OPT_FIELD(struct unload_opts, timeout), 0.1, 3600,
	  .arg = "SECS", .help = "wait at most SECS for the livepatch transition, default 60" },
	OPT_END,
};

const struct opt_cmd args_unload_cmd = {
	"unload", "",
	"In a guest: disable pvlock_guest's livepatch, wait for the transition, remove\n"
	"the module (never forced; needs root). With -H: remove pvlock_host.",
	unload_opts, 0, 0, false,
};

int args_unload(int argc, char **argv, struct unload_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->timeout = 60;
	return args_one(&args_unload_cmd, argc, argv, o, err, errlen);
}

const struct opt_cmd args_status_cmd = {
	"status", "", "Modules, versions, ABI, handshake with the host, livepatch, hooks.",
	NULL, 0, 0, false,
};
const struct opt_cmd args_vm_list_cmd = {
	"vm list", "", "The VMs on this host (pvlock_host) with their values and key counters.",
	NULL, 0, 0, false,
};
const struct opt_cmd args_vm_show_cmd = {
	"vm show", "VM", "One VM: identity, agreed features, parameters, every counter.",
	NULL, 1, 1, false,
};
const struct opt_cmd args_help_cmd = {
	"help", "[OBJECT | params]", "Usage, one object's usage, or the parameter table.",
	NULL, 0, 1, false,
};

int args_none(const struct opt_cmd *c, int argc, char **argv, char **words, int *nwords,
	      char *err, size_t errlen)
{
	char dummy;
	int rc = opt_parse(c, argc, argv, &dummy, words, nwords, err, errlen);

	if (rc == -EINVAL && argc == 1 && !strcmp(argv[0], "help"))
		return 1;
	if (!rc && *nwords == 1 && !strcmp(words[0], "help") && c != &args_help_cmd)
		return 1;
	return rc;
}
