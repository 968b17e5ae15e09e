// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "obs.h"
#include "proc.h"
#include "util.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON	38
#endif
#ifndef CAP_BPF
#define CAP_BPF		39
#endif

/* Is @cap in this process's effective set? */
static bool obs_capable(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/*
 * With the effective IDs and capabilities (AT_EACCESS): access() would drop
 * the capabilities of a non-root user, such as the unit's CAP_DAC_READ_SEARCH.
 */
static bool obs_exists(const char *root, const char *path, int mode)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, path);
	return !faccessat(AT_FDCWD, p, mode, AT_EACCESS);
}

/* Where tracefs is mounted: its own mount point, or under debugfs (older). */
static const char *const obs_tracefs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
#define OBS_NR_TRACEFS	(sizeof(obs_tracefs) / sizeof(obs_tracefs[0]))

int obs_preflight(const char *root, bool privileged, char *err, size_t errlen, char *note,
		  size_t notelen)
{
	const char *t = NULL;
	char p[256];
	size_t i;

	note[0] = '\0';
	if (!privileged) {
		snprintf(err, errlen, "loading the BPF observer needs CAP_BPF and CAP_PERFMON: run "
			 "as root, or grant them (setcap cap_bpf,cap_perfmon,cap_dac_read_search+ep "
			 "on the binary; pvlockd's systemd unit does)");
		return -EPERM;
	}
	if (!obs_exists(root, "/sys/module/kvm", F_OK)) {
		snprintf(err, errlen, "kvm is not loaded: there are no KVM events to observe "
			 "(modprobe kvm_amd, or kvm_intel)");
		return -ENOENT;
	}
	/* libbpf attaches tracepoints through the ids tracefs publishes */
	for (i = 0; i < OBS_NR_TRACEFS && !t; i++) {
		snprintf(p, sizeof(p), "%s/events", obs_tracefs[i]);
		if (obs_exists(root, p, F_OK))
			t = obs_tracefs[i];
	}
	if (!t) {
		snprintf(err, errlen, "tracefs is not mounted: the kvm tracepoints are reached "
			 "through it (mount -t tracefs tracefs /sys/kernel/tracing)");
		return -ENOENT;
	}
	snprintf(p, sizeof(p), "%s/events/kvm/kvm_exit/id", t);
	if (!obs_exists(root, p, F_OK)) {
		snprintf(p, sizeof(p), "%s/events", t);
		if (!obs_exists(root, p, R_OK | X_OK))
			snprintf(err, errlen, "cannot read %s: the tracepoint ids need root or "
				 "CAP_DAC_READ_SEARCH", p);
		else
			snprintf(err, errlen, "no kvm tracepoints in %s/events/kvm (a kernel built "
				 "without CONFIG_TRACEPOINTS, or a kvm module without them)", t);
		return -ENOENT;
	}
	if (!obs_exists(root, p, R_OK)) {
		snprintf(err, errlen, "cannot read %s: the tracepoint ids need root or "
			 "CAP_DAC_READ_SEARCH", p);
		return -EACCES;
	}
	/* CO-RE: the observer's field offsets come from the kernel's BTF */
	if (!obs_exists(root, "/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen, "no kernel BTF (/sys/kernel/btf/vmlinux): the observer is "
			 "CO-RE and needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's is)");
		return -ENOENT;
	}
	if (!obs_exists(root, "/sys/kernel/btf/kvm", R_OK))
		snprintf(note, notelen, "no BTF for kvm.ko (/sys/kernel/btf/kvm): on_spin and "
			 "yield_to cannot be counted (fentry/fexit need it)");
	return 0;
}

bool obs_privileged(void)
{
	return geteuid() == 0 || (obs_capable(CAP_BPF) && obs_capable(CAP_PERFMON));
}

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
				 (1ull << OBS_YIELD_TO) | (1ull << OBS_YIELD_TO_OK) | \
				 (1ull << OBS_YIELD_TO_FAILED))
#define OBS_HC_COUNTERS		((1ull << OBS_HC_KICK_CPU) | (1ull << OBS_HC_SCHED_YIELD) | \
				 (1ull << OBS_HC_PVLOCK) | (1ull << OBS_HC_OTHER))

struct obs {
	struct pvlock_obs *skel;
	uint64_t avail;			/* counters this load can count */
	char notes[3][256];
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
/* The number in the file at @path (at least @lo), or -1. */
static long obs_read_long(const char *path, long lo)
{
	char buf[32];
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (util_long(buf, lo, LONG_MAX, &v))
			v = -1;
	}
	fclose(f);
	return v;
}

static long obs_param(const char *mod, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	return obs_read_long(path, 0);
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

/*
 * The offset of @field in the records of kvm:@event, from its tracefs format
 * file (lines "field:unsigned int exit_reason;\toffset:8;\tsize:4;..."), if
 * it is @size bytes wide; else OBS_NO_FIELD.
 */
static uint32_t obs_field_off(const char *event, const char *field, unsigned int size)
{
	char path[128], line[256];
	uint32_t off = OBS_NO_FIELD;
	FILE *f = NULL;
	size_t i;

	for (i = 0; i < OBS_NR_TRACEFS && !f; i++) {
		snprintf(path, sizeof(path), "%s/events/kvm/%s/format", obs_tracefs[i], event);
		f = fopen(path, "re");
	}
	if (!f)
		return OBS_NO_FIELD;
	while (off == OBS_NO_FIELD && fgets(line, sizeof(line), f)) {
		char *decl = strstr(line, "field:"), *semi, *name;
		unsigned int o, sz;
		const char *p;

		if (!decl || !(semi = strchr(decl, ';')))
			continue;
		*semi = '\0';
		name = strrchr(decl, ' ');
		name = name ? name + 1 : decl + 6;
		if (strcmp(name, field))
			continue;
		p = strstr(semi + 1, "offset:");
		if (p && sscanf(p, "offset:%u;", &o) == 1 && (p = strstr(p, "size:")) &&
		    sscanf(p, "size:%u;", &sz) == 1 && sz == size && o < 4096)
			off = o;
	}
	fclose(f);
	return off;
}


static int obs_load(struct obs *o, bool spin, bool hc)
{
	struct pvlock_obs *skel = pvlock_obs__open();
	int err;

	if (!skel)
		return -errno;
	skel->rodata->obs_exit_reason_off = obs_field_off("kvm_exit", "exit_reason", 4);
	skel->rodata->obs_exit_isa_off = obs_field_off("kvm_exit", "isa", 4);
	skel->rodata->obs_exit_vcpu_off = obs_field_off("kvm_exit", "vcpu_id", 4);
	skel->rodata->obs_hc_nr_off = obs_field_off("kvm_hypercall", "nr", sizeof(long));
	if (skel->rodata->obs_exit_reason_off == OBS_NO_FIELD ||
	    skel->rodata->obs_exit_isa_off == OBS_NO_FIELD) {
		/* the exits cannot be told apart: nothing worth counting */
		pvlock_obs__destroy(skel);
		snprintf(obs_log, sizeof(obs_log), "kvm:kvm_exit's format has no 32-bit "
			 "exit_reason and isa fields\n");
		return -ENOENT;
	}
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
	char first_log[sizeof(obs_log)], note[160];
	struct obs *o;
	long paranoid;
	int rc, first;

	*out = NULL;
	/* what loading needs, in order, each named with its fix: not libbpf's errno soup */
	rc = obs_preflight("", obs_privileged(), err, errlen, note, sizeof(note));
	if (rc)
		return rc;
	/*
	 * libbpf attaches the tracepoint programs through perf_event_open().
	 * Debian's kernels add perf_event_paranoid level 3 (their default),
	 * at which only CAP_SYS_ADMIN may open any perf event: CAP_PERFMON
	 * is not enough there.
	 */
	paranoid = obs_read_long("/proc/sys/kernel/perf_event_paranoid", -1);
	if (geteuid() != 0 && !obs_capable(CAP_SYS_ADMIN) && paranoid > 2) {
		snprintf(err, errlen, "kernel.perf_event_paranoid is %ld: at that level this kernel "
			 "lets only CAP_SYS_ADMIN open the perf events the kvm tracepoints are "
			 "attached through (CAP_PERFMON is not enough); run as root, or "
			 "'sysctl kernel.perf_event_paranoid=2'", paranoid);
		return -EACCES;
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
	/* the first attempt asked for everything: its own log line explains its errno */
	snprintf(first_log, sizeof(first_log), "%s", obs_log);
	/*
	 * fentry/fexit on kvm.ko's functions need kvm.ko's BTF object, which
	 * libbpf finds by listing the kernel's BTF objects: CAP_SYS_ADMIN. With
	 * CAP_BPF and CAP_PERFMON alone (pvlockd's unit) the tracepoints still
	 * count: a refusal is final only when they are refused too.
	 */
	if (rc) {
		bool no_admin = geteuid() != 0 && !obs_capable(CAP_SYS_ADMIN);

		o->avail &= ~OBS_SPIN_COUNTERS;
		obs_log[0] = '\0';
		rc = obs_load(o, false, true);
		if (!rc && no_admin)
			obs_note(o, "on_spin, yield_to: not counted: attaching to kvm.ko's "
				 "kvm_vcpu_on_spin and kvm_vcpu_yield_to needs CAP_SYS_ADMIN "
				 "(libbpf lists the kernel's BTF objects to find kvm.ko's): root "
				 "counts them");
		else if (!rc)
			obs_note(o, "on_spin, yield_to: not counted: fentry/fexit on kvm_vcpu_on_spin "
				 "and kvm_vcpu_yield_to cannot attach on this kernel (%s%s%s)",
				 note[0] ? note : strerror(-first), note[0] ? "" : ": ",
				 note[0] ? "" : obs_last_line(first_log));
		if (rc && obs_unprivileged(rc))
			first = rc;
	}
	if (rc && !obs_unprivileged(rc)) {
		o->avail &= ~OBS_HC_COUNTERS;
		obs_log[0] = '\0';
		rc = obs_load(o, false, false);
		if (!rc)
			obs_note(o, "hc_*: not counted: the kvm:kvm_hypercall event cannot attach");
	}
	libbpf_set_print(NULL);
	if (rc) {
		if (obs_unprivileged(first))
			snprintf(err, errlen, "loading the BPF observer was refused (%s): it needs "
				 "CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH, or root%s%s",
				 strerror(-first), first_log[0] ? "; libbpf said: " : "",
				 first_log[0] ? obs_last_line(first_log) : "");
		else
			snprintf(err, errlen, "cannot load the BPF observer: %s%s%s (PVLOCK_BPF_DEBUG=1 "
				 "shows libbpf's whole log)", strerror(-first),
				 first_log[0] ? "; libbpf said: " : "", obs_last_line(first_log));
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
