// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs.h"
#include "proc.h"

#ifdef PVLOCK_NO_BPF

bool obs_built(void)
{
	return false;
}

int obs_open(struct obs **o, char *err, size_t errlen)
{
	*o = NULL;
	snprintf(err, errlen, "this binary was built without the BPF observer "
		 "(clang or bpftool were missing at build time)");
	return -EOPNOTSUPP;
}

int obs_snapshot(struct obs *o, struct st_snap *s, bool per_vcpu, uint64_t now_ns)
{
	(void)o;
	(void)s;
	(void)per_vcpu;
	(void)now_ns;
	return -EOPNOTSUPP;
}

void obs_close(struct obs *o)
{
	(void)o;
}

#else

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pvlock_obs.skel.h"

#define OBS_SPIN_COUNTERS	((1ull << OBS_ON_SPIN) | (1ull << OBS_ON_SPIN_YIELDED) | \
				 (1ull << OBS_YIELD_TO) | (1ull << OBS_YIELD_TO_OK))
#define OBS_HC_COUNTERS		((1ull << OBS_HC_KICK_CPU) | (1ull << OBS_HC_SCHED_YIELD) | \
				 (1ull << OBS_HC_PVLOCK) | (1ull << OBS_HC_OTHER))

struct obs {
	struct pvlock_obs *skel;
	uint64_t avail;			/* counters this load can count */
	char notes[3][160];
	unsigned int nr_notes;
};

/*
 * libbpf's own messages: kept, and the last one shown when loading fails
 * for good; PVLOCK_BPF_DEBUG=1 in the environment prints them all.
 */
static char obs_log[8192];
static bool obs_debug;

static int obs_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n = strlen(obs_log);

	if (obs_debug) {
		va_list aq;

		va_copy(aq, ap);
		vfprintf(stderr, fmt, aq);
		va_end(aq);
	}
	if (level == LIBBPF_DEBUG || n >= sizeof(obs_log) - 1)
		return 0;
	return vsnprintf(obs_log + n, sizeof(obs_log) - n, fmt, ap);
}

bool obs_built(void)
{
	return true;
}

/*
 * The line of @log that says why: the last "libbpf: prog '...'" line (the
 * verifier's log sits between those), else the last line. Edits @log.
 */
static const char *obs_last_line(char *log)
{
	char *line, *why = NULL, *last = log, *save;

	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "libbpf: prog '", 14))
			why = line;
		last = line;
	}
	return why ? why : last;
}

static void obs_note(struct obs *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void obs_note(struct obs *o, const char *fmt, ...)
{
	va_list ap;

	if (o->nr_notes >= sizeof(o->notes) / sizeof(o->notes[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(o->notes[o->nr_notes++], sizeof(o->notes[0]), fmt, ap);
	va_end(ap);
}

/* A kvm_* module parameter, or -1 when it is not there. */
static long obs_param(const char *mod, const char *name)
{
	char path[128], buf[32];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

/* Pause-loop exiting is a hardware feature KVM may not have: say so. */
static void obs_probe_ple(struct obs *o)
{
	long amd = obs_param("kvm_amd", "pause_filter_count");
	long intel = obs_param("kvm_intel", "ple_gap");

	if (amd == 0)
		obs_note(o, "pause_exits, on_spin: pause-loop exiting is off (kvm_amd "
			 "pause_filter_count=0; no pause filter, e.g. under QEMU TCG): "
			 "no PAUSE exits can happen here");
	else if (intel == 0)
		obs_note(o, "pause_exits, on_spin: pause-loop exiting is off (kvm_intel ple_gap=0): "
			 "no PAUSE exits can happen here");
}

static int obs_load(struct obs *o, bool spin, bool hc)
{
	struct pvlock_obs *skel = pvlock_obs__open();
	int err;

	if (!skel)
		return -errno;
	bpf_program__set_autoload(skel->progs.obs_on_spin_enter, spin);
	bpf_program__set_autoload(skel->progs.obs_on_spin_exit, spin);
	bpf_program__set_autoload(skel->progs.obs_yield_to_exit, spin);
	bpf_program__set_autoload(skel->progs.obs_kvm_hypercall, hc);
	err = pvlock_obs__load(skel);
	if (!err)
		err = pvlock_obs__attach(skel);
	if (err) {
		pvlock_obs__destroy(skel);
		return err < 0 ? err : -EINVAL;
	}
	o->skel = skel;
	return 0;
}

/* Refused for want of privilege (not worth trying less), as opposed to unsupported. */
static bool obs_unprivileged(int rc)
{
	return (rc == -EPERM || rc == -EACCES) && geteuid() != 0;
}

int obs_open(struct obs **out, char *err, size_t errlen)
{
	struct obs *o;
	int rc, first;

	*out = NULL;
	if (access("/sys/module/kvm", F_OK)) {
		snprintf(err, errlen, "kvm is not loaded: there are no KVM events to observe");
		return -ENOENT;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	obs_log[0] = '\0';
	obs_debug = getenv("PVLOCK_BPF_DEBUG") != NULL;
	libbpf_set_print(obs_print);
	/*
	 * Probe by trying, not by kernel version: fentry/fexit on kvm.ko needs
	 * BTF trampolines for modules, the hypercall event exists on x86 only.
	 */
	o->avail = ~0ull;
	first = rc = obs_load(o, true, true);
	if (rc && !obs_unprivileged(rc)) {
		o->avail &= ~OBS_SPIN_COUNTERS;
		rc = obs_load(o, false, true);
		if (!rc)
			obs_note(o, "on_spin, yield_to: not counted: fentry/fexit on kvm_vcpu_on_spin "
				 "and kvm_vcpu_yield_to cannot attach on this kernel (%s)",
				 strerror(-first));
	}
	if (rc && !obs_unprivileged(rc)) {
		o->avail &= ~OBS_HC_COUNTERS;
		rc = obs_load(o, false, false);
		if (!rc)
			obs_note(o, "hc_*: not counted: the kvm:kvm_hypercall event cannot attach");
	}
	libbpf_set_print(NULL);
	if (rc) {
		/* the first attempt's error says most: it asked for everything */
		if (obs_unprivileged(first))
			snprintf(err, errlen, "loading the BPF observer needs CAP_BPF and CAP_PERFMON "
				 "(or root)");
		else
			snprintf(err, errlen, "cannot load the BPF observer: %s%s%s", strerror(-first),
				 obs_log[0] ? "; libbpf said: " : "", obs_last_line(obs_log));
		free(o);
		return obs_unprivileged(first) ? -EPERM : first;
	}
	obs_probe_ple(o);
	*out = o;
	return 0;
}

int obs_snapshot(struct obs *o, struct st_snap *s, bool per_vcpu, uint64_t now_ns)
{
	int fd = bpf_map__fd(o->skel->maps.obs_vcpus);
	struct obs_key key, next, *prev = NULL;
	unsigned int k;
	size_t i;

	st_snap_init(s, ST_BPF, now_ns);
	for (i = 0; i < o->nr_notes; i++)
		st_note(s, "%s", o->notes[i]);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		char name[PVLOCK_NAME_MAX + 16], path[64];
		struct st_entity *e = NULL;
		struct obs_val v;
		int64_t cpu;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		snprintf(path, sizeof(path), "/proc/%u", key.tgid);
		if (access(path, F_OK))
			continue;	/* the VM is gone; the LRU map recycles its entries */
		cpu = per_vcpu && v.has_vcpu ? (int64_t)v.vcpu_id : -1;
		for (i = 0; i < s->n && !e; i++)
			if (s->e[i].pid == key.tgid && s->e[i].cpu == cpu)
				e = &s->e[i];
		if (!e) {
			proc_vm_name("/proc", key.tgid, name, PVLOCK_NAME_MAX);
			if (per_vcpu && cpu >= 0)
				snprintf(name + strlen(name), sizeof(name) - strlen(name), "/vcpu%u",
					 v.vcpu_id);
			e = st_add(s, name, -1, key.tgid, cpu);
			if (!e)
				return -ENOMEM;
		}
		e->avail = o->avail;
		for (k = 1; k < OBS_NR; k++)
			e->v[k] += v.c[k];
	}
	return 0;
}

void obs_close(struct obs *o)
{
	if (!o)
		return;
	pvlock_obs__destroy(o->skel);
	free(o);
}

#endif
