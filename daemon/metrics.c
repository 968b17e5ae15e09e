// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvlock/names.h>

#include "metrics.h"
#include "tuner.h"

/* Where a family's samples come from, and so which labels they carry. */
enum m_src {
	M_PVLOCKD,		/* pvlockd itself: no identity labels */
	M_HOST,			/* pvlock_host: one sample per host */
	M_VM,			/* pvlock_host, per VM: {vm, pid} */
	M_KVM,			/* the BPF observer, per VM: {vm, pid} */
};

struct m_family {
	const char *name, *type, *label, *help;
	enum m_src src;
};

enum {
	F_BUILD, F_HOST_UP, F_OVERCOMMIT, F_HOST_VMS, F_BPF_UP, F_DECISIONS, F_WRITES,
	F_VM_INFO, F_VM_VCPUS, F_VM_REGISTERED, F_VM_THRESHOLD, F_VM_BUDGET, F_VM_PINNED,
	F_VM_HANDSHAKES, F_VM_REGISTRATIONS, F_VM_YIELD_REQUESTS, F_VM_YIELDS, F_VM_HALTS,
	F_VM_BOOSTS, F_VM_CROSS_BOOSTS, F_VM_DENIALS, F_VM_ON_SPIN, F_VM_ON_SPIN_BOOSTS,
	F_VM_PREEMPTIONS, F_VM_CS_PREEMPTIONS, F_VM_WAITER_PREEMPTIONS, F_VM_PREEMPTED,
	F_VM_HINT_WRITES, F_VM_ON_SPIN_KVM, F_VM_HC_TIME, F_VM_ON_SPIN_TIME, F_VM_PRIO_BOOSTS,
	F_VM_PRIO_TIME, F_VM_PRIO_DENIED, F_VM_REMAPS, F_VM_UNMAPPED, F_VM_BOOSTS_RAN, F_VM_BAD,
	F_KVM_EXITS, F_KVM_HYPERCALLS, F_KVM_ON_SPIN, F_KVM_ON_SPIN_YIELDS, F_KVM_YIELD_TO,
	F_NR
};

static const struct m_family m_fams[F_NR] = {
	[F_BUILD] = { "pvlockd_build_info", "gauge", "version", "pvlockd's version (always 1)",
		      M_PVLOCKD },
	[F_HOST_UP] = { "pvlock_host_up", "gauge", NULL,
			"1 if pvlock_host answered in the last period, else 0", M_PVLOCKD },
	[F_OVERCOMMIT] = { "pvlock_host_overcommit_ratio", "gauge", "source",
			   "runnable vCPU threads per online pCPU (source: module or proc)",
			   M_PVLOCKD },
	[F_HOST_VMS] = { "pvlock_host_vms", "gauge", NULL, "VMs known to pvlock_host", M_HOST },
	[F_BPF_UP] = { "pvlockd_bpf_observer_up", "gauge", NULL,
		       "1 while pvlockd's BPF observer of KVM runs, else 0", M_PVLOCKD },
	[F_DECISIONS] = { "pvlockd_decisions_total", "counter", "reason",
			  "per-VM changes pvlockd made, by the tuning policy's reason "
			  "(lhp, overcommit, relax)", M_PVLOCKD },
	[F_WRITES] = { "pvlockd_param_writes_total", "counter", "result",
		       "per-VM parameter writes pvlockd sent to pvlock_host (ok, error)",
		       M_PVLOCKD },
	[F_VM_INFO] = { "pvlock_vm_info", "gauge", "vm_id,abi",
			"pvlock_host's id of the VM and the ABI its guest agreed (empty: "
			"no pvlock_guest); always 1", M_VM },
	[F_VM_VCPUS] = { "pvlock_vm_vcpus", "gauge", NULL, "vCPUs of the VM", M_VM },
	[F_VM_REGISTERED] = { "pvlock_vm_registered_vcpus", "gauge", NULL,
			      "vCPUs registered with pvlock_host by pvlock_guest", M_VM },
	[F_VM_THRESHOLD] = { "pvlock_vm_spin_threshold", "gauge", NULL,
			     "spin-threshold hint in force for the VM, in spin iterations "
			     "(0: none)", M_VM },
	[F_VM_BUDGET] = { "pvlock_vm_boost_budget", "gauge", NULL,
			  "boosts the VM may give per budget period", M_VM },
	[F_VM_PINNED] = { "pvlock_vm_pinned", "gauge", "param",
			  "1 if the operator pinned the value (pvlockd leaves it alone)", M_VM },
	[F_VM_HANDSHAKES] = { "pvlock_vm_handshakes_total", "counter", NULL,
			      "HELLO hypercalls of the VM's guest", M_VM },
	[F_VM_REGISTRATIONS] = { "pvlock_vm_vcpu_registrations_total", "counter", "event",
				 "vCPU records registered or unregistered", M_VM },
	[F_VM_YIELD_REQUESTS] = { "pvlock_vm_yield_requests_total", "counter", NULL,
				  "yield hypercalls; those not in pvlock_vm_yields_total were "
				  "refused by the boost budget", M_VM },
	[F_VM_YIELDS] = { "pvlock_vm_yields_total", "counter", "result",
			  "yield hypercalls by outcome: a directed yield within the VM "
			  "(same_vm), to another VM (cross_vm), or nobody to yield to (none)",
			  M_VM },
	[F_VM_HALTS] = { "pvlock_vm_yield_halts_total", "counter", NULL,
			 "yield hypercalls that halted the vCPU (as HLT would)", M_VM },
	[F_VM_BOOSTS] = { "pvlock_vm_boosts_total", "counter", "direction",
			  "directed yields the VM's vCPUs gave or received", M_VM },
	[F_VM_CROSS_BOOSTS] = { "pvlock_vm_cross_vm_boosts_total", "counter", "direction",
				"the part of pvlock_vm_boosts_total across VMs", M_VM },
	[F_VM_DENIALS] = { "pvlock_vm_budget_denials_total", "counter", NULL,
			   "boosts refused by the VM's budget", M_VM },
	[F_VM_ON_SPIN] = { "pvlock_vm_on_spin_total", "counter", NULL,
			   "kvm_vcpu_on_spin calls (pause-loop exits) seen by pvlock_host", M_VM },
	[F_VM_ON_SPIN_BOOSTS] = { "pvlock_vm_on_spin_boosts_total", "counter", NULL,
				  "the part of pvlock_vm_on_spin_total that yielded to a pvlock "
				  "candidate", M_VM },
	[F_VM_PREEMPTIONS] = { "pvlock_vm_preemptions_total", "counter", NULL,
			       "registered vCPUs preempted while runnable", M_VM },
	[F_VM_CS_PREEMPTIONS] = { "pvlock_vm_critical_section_preemptions_total", "counter",
				  NULL, "the part of pvlock_vm_preemptions_total inside a guest "
				  "critical section (lock-holder preemption)", M_VM },
	[F_VM_WAITER_PREEMPTIONS] = { "pvlock_vm_lock_waiter_preemptions_total", "counter",
				      NULL, "the part of pvlock_vm_preemptions_total while "
				      "waiting for a lock (lock-waiter preemption)", M_VM },
	[F_VM_PREEMPTED] = { "pvlock_vm_preempted_seconds_total", "counter", NULL,
			     "time registered vCPUs spent preempted while runnable", M_VM },
	[F_VM_HINT_WRITES] = { "pvlock_vm_hint_writes_total", "counter", NULL,
			       "threshold hints written to the VM's shared records", M_VM },
	[F_VM_ON_SPIN_KVM] = { "pvlock_vm_on_spin_kvm_total", "counter", NULL,
			       "the part of pvlock_vm_on_spin_total left to KVM's own choice",
			       M_VM },
	[F_VM_HC_TIME] = { "pvlock_vm_hypercall_seconds_total", "counter", NULL,
			   "time in pvlock_host's yield hypercall handler, up to the yield or halt",
			   M_VM },
	[F_VM_ON_SPIN_TIME] = { "pvlock_vm_on_spin_seconds_total", "counter", NULL,
				"time in pvlock_host's choice on PLE exits, up to the yield or "
				"KVM's own loop", M_VM },
	[F_VM_PRIO_BOOSTS] = { "pvlock_vm_prio_boosts_total", "counter", NULL,
			       "priority boosts started for the VM's vCPUs (prio_boost)", M_VM },
	[F_VM_PRIO_TIME] = { "pvlock_vm_prio_seconds_total", "counter", NULL,
			     "time the VM's vCPUs held a raised priority", M_VM },
	[F_VM_PRIO_DENIED] = { "pvlock_vm_prio_denied_total", "counter", NULL,
			       "priority boosts refused: the VM's share of each period used", M_VM },
	[F_VM_REMAPS] = { "pvlock_vm_record_remaps_total", "counter", NULL,
			  "shared records mapped again after the guest memory changed", M_VM },
	[F_VM_UNMAPPED] = { "pvlock_vm_record_unmapped_total", "counter", NULL,
			    "registrations dropped because the record left guest memory", M_VM },
	[F_VM_BOOSTS_RAN] = { "pvlock_vm_boosts_ran_total", "counter", NULL,
			      "the part of the boosts given after which the vCPU yielded to ran "
			      "before the giver (the host scheduler honoured the directed yield)",
			      M_VM },
	[F_VM_BAD] = { "pvlock_vm_bad_hypercalls_total", "counter", "reason",
		       "hypercalls refused, by reason: cpl (from user mode), gpa, cpu, double "
		       "(registration), record (header), args, rate (registration rate limit), "
		       "state (no handshake or not registered)", M_VM },
	[F_KVM_EXITS] = { "pvlock_kvm_exits_total", "counter", "reason",
			  "VM exits by reason (hlt, pause, hypercall, other), counted by pvlockd's "
			  "BPF observer since it started", M_KVM },
	[F_KVM_HYPERCALLS] = { "pvlock_kvm_hypercalls_total", "counter", "nr",
			       "hypercalls by number: kick_cpu, sched_yield, pvlock (its private "
			       "numbers), other", M_KVM },
	[F_KVM_ON_SPIN] = { "pvlock_kvm_on_spin_total", "counter", NULL,
			    "kvm_vcpu_on_spin calls (pause-loop exits handled by KVM)", M_KVM },
	[F_KVM_ON_SPIN_YIELDS] = { "pvlock_kvm_on_spin_yields_total", "counter", NULL,
				   "the part of pvlock_kvm_on_spin_total that yielded", M_KVM },
	[F_KVM_YIELD_TO] = { "pvlock_kvm_yield_to_total", "counter", "result",
			     "kvm_vcpu_yield_to calls by result (yielded, failed)", M_KVM },
};

/* Each pvlock_host counter: its family and label value; every counter has one. */
struct m_map {
	unsigned int fam;
	const char *value;
	bool ns;		/* a time in ns, exported in seconds */
};

static const struct m_map m_host[__PVLOCK_HS_LAST] = {
	[PVLOCK_HS_HELLO] = { F_VM_HANDSHAKES, NULL },
	[PVLOCK_HS_REGISTERED] = { F_VM_REGISTRATIONS, "registered" },
	[PVLOCK_HS_UNREGISTERED] = { F_VM_REGISTRATIONS, "unregistered" },
	[PVLOCK_HS_YIELDS] = { F_VM_YIELD_REQUESTS, NULL },
	[PVLOCK_HS_YIELD_SAME_VM] = { F_VM_YIELDS, "same_vm" },
	[PVLOCK_HS_YIELD_CROSS_VM] = { F_VM_YIELDS, "cross_vm" },
	[PVLOCK_HS_YIELD_NONE] = { F_VM_YIELDS, "none" },
	[PVLOCK_HS_HALTS] = { F_VM_HALTS, NULL },
	[PVLOCK_HS_BOOSTS_GIVEN] = { F_VM_BOOSTS, "given" },
	[PVLOCK_HS_BOOSTS_RECEIVED] = { F_VM_BOOSTS, "received" },
	[PVLOCK_HS_CROSS_GIVEN] = { F_VM_CROSS_BOOSTS, "given" },
	[PVLOCK_HS_CROSS_RECEIVED] = { F_VM_CROSS_BOOSTS, "received" },
	[PVLOCK_HS_BUDGET_DENIED] = { F_VM_DENIALS, NULL },
	[PVLOCK_HS_ON_SPIN] = { F_VM_ON_SPIN, NULL },
	[PVLOCK_HS_ON_SPIN_BOOSTS] = { F_VM_ON_SPIN_BOOSTS, NULL },
	[PVLOCK_HS_PREEMPTIONS] = { F_VM_PREEMPTIONS, NULL },
	[PVLOCK_HS_ECS_PREEMPTIONS] = { F_VM_CS_PREEMPTIONS, NULL },
	[PVLOCK_HS_WAITER_PREEMPTIONS] = { F_VM_WAITER_PREEMPTIONS, NULL },
	[PVLOCK_HS_PREEMPTED_NS] = { F_VM_PREEMPTED, NULL, true },
	[PVLOCK_HS_HINT_WRITES] = { F_VM_HINT_WRITES, NULL },
	[PVLOCK_HS_ON_SPIN_KVM] = { F_VM_ON_SPIN_KVM, NULL },
	[PVLOCK_HS_HC_NS] = { F_VM_HC_TIME, NULL, true },
	[PVLOCK_HS_ON_SPIN_NS] = { F_VM_ON_SPIN_TIME, NULL, true },
	[PVLOCK_HS_PRIO_BOOSTS] = { F_VM_PRIO_BOOSTS, NULL },
	[PVLOCK_HS_PRIO_NS] = { F_VM_PRIO_TIME, NULL, true },
	[PVLOCK_HS_PRIO_DENIED] = { F_VM_PRIO_DENIED, NULL },
	[PVLOCK_HS_REMAPS] = { F_VM_REMAPS, NULL },
	[PVLOCK_HS_UNMAPPED] = { F_VM_UNMAPPED, NULL },
	[PVLOCK_HS_BOOSTS_RAN] = { F_VM_BOOSTS_RAN, NULL },
	[PVLOCK_HS_BAD_CPL] = { F_VM_BAD, "cpl" },
	[PVLOCK_HS_BAD_GPA] = { F_VM_BAD, "gpa" },
	[PVLOCK_HS_BAD_CPU] = { F_VM_BAD, "cpu" },
	[PVLOCK_HS_BAD_DOUBLE] = { F_VM_BAD, "double" },
	[PVLOCK_HS_BAD_RECORD] = { F_VM_BAD, "record" },
	[PVLOCK_HS_BAD_ARGS] = { F_VM_BAD, "args" },
	[PVLOCK_HS_BAD_RATE] = { F_VM_BAD, "rate" },
	[PVLOCK_HS_BAD_STATE] = { F_VM_BAD, "state" },
};

/* The observer's counters; OBS_EXITS is the sum of the four exit reasons, not exported. */
static const struct m_map m_kvm[OBS_NR] = {
	[OBS_EXIT_HLT] = { F_KVM_EXITS, "hlt" },
	[OBS_EXIT_PAUSE] = { F_KVM_EXITS, "pause" },
	[OBS_EXIT_HYPERCALL] = { F_KVM_EXITS, "hypercall" },
	[OBS_EXIT_OTHER] = { F_KVM_EXITS, "other" },
	[OBS_HC_KICK_CPU] = { F_KVM_HYPERCALLS, "kick_cpu" },
	[OBS_HC_SCHED_YIELD] = { F_KVM_HYPERCALLS, "sched_yield" },
	[OBS_HC_PVLOCK] = { F_KVM_HYPERCALLS, "pvlock" },
	[OBS_HC_OTHER] = { F_KVM_HYPERCALLS, "other" },
	[OBS_ON_SPIN] = { F_KVM_ON_SPIN, NULL },
	[OBS_ON_SPIN_YIELDED] = { F_KVM_ON_SPIN_YIELDS, NULL },
	[OBS_YIELD_TO_OK] = { F_KVM_YIELD_TO, "yielded" },
	[OBS_YIELD_TO_FAILED] = { F_KVM_YIELD_TO, "failed" },
};

/* Label values: backslash, double quote and line feed are escaped. */
static void m_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void m_head(FILE *f, unsigned int fam)
{
	const struct m_family *m = &m_fams[fam];

	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
}

/* "name{vm="..",pid=".." [,label="value"]" without the closing brace. */
static void m_open(FILE *f, unsigned int fam, const char *vm, uint32_t pid)
{
	fprintf(f, "%s{vm=\"", m_fams[fam].name);
	m_label(f, vm);
	fprintf(f, "\",pid=\"%u\"", pid);
}

static void m_vm_sample(FILE *f, unsigned int fam, const struct pv_vm *vm, const char *value,
			const char *fmt, double v)
{
	m_open(f, fam, vm->name, vm->pid);
	if (value)
		fprintf(f, ",%s=\"%s\"", m_fams[fam].label, value);
	fputs("} ", f);
	fprintf(f, fmt, v);
	fputc('\n', f);
}

static void m_vm_u64(FILE *f, unsigned int fam, const struct pv_vm *vm, const char *value,
		     uint64_t v)
{
	m_open(f, fam, vm->name, vm->pid);
	if (value)
		fprintf(f, ",%s=\"%s\"", m_fams[fam].label, value);
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

static uint32_t m_param(const struct pv_vm *vm, uint32_t a)
{
	return vm->params.present & (1u << a) ? vm->params.val[a] : 0;
}

static void m_vms(FILE *f, const struct pv_vms *vms)
{
	unsigned int fam, k;
	size_t i;

	m_head(f, F_HOST_VMS);
	fprintf(f, "%s %zu\n", m_fams[F_HOST_VMS].name, vms->n);
	m_head(f, F_VM_INFO);
	for (i = 0; i < vms->n; i++) {
		const struct pv_vm *vm = &vms->vm[i];

		m_open(f, F_VM_INFO, vm->name, vm->pid);
		fprintf(f, ",vm_id=\"%u\",abi=\"", vm->id);
		if (vm->has_abi)
			fprintf(f, "%u", vm->abi);
		fputs("\"} 1\n", f);
	}
	m_head(f, F_VM_VCPUS);
	for (i = 0; i < vms->n; i++)
		m_vm_u64(f, F_VM_VCPUS, &vms->vm[i], NULL, vms->vm[i].nr_vcpus);
	m_head(f, F_VM_REGISTERED);
	for (i = 0; i < vms->n; i++)
		m_vm_u64(f, F_VM_REGISTERED, &vms->vm[i], NULL, vms->vm[i].nr_registered);
	m_head(f, F_VM_THRESHOLD);
	for (i = 0; i < vms->n; i++)
		m_vm_u64(f, F_VM_THRESHOLD, &vms->vm[i], NULL,
			 m_param(&vms->vm[i], PVLOCK_P_SPIN_THRESHOLD));
	m_head(f, F_VM_BUDGET);
	for (i = 0; i < vms->n; i++)
		m_vm_u64(f, F_VM_BUDGET, &vms->vm[i], NULL, m_param(&vms->vm[i], PVLOCK_P_BUDGET));
	m_head(f, F_VM_PINNED);
	for (i = 0; i < vms->n; i++) {
		uint32_t p = m_param(&vms->vm[i], PVLOCK_P_PINNED);

		m_vm_u64(f, F_VM_PINNED, &vms->vm[i], "threshold", !!(p & PVLOCK_PIN_THRESHOLD));
		m_vm_u64(f, F_VM_PINNED, &vms->vm[i], "budget", !!(p & PVLOCK_PIN_BUDGET));
	}
	/* the counters, family by family: a family's samples stay together */
	for (fam = F_VM_HANDSHAKES; fam <= F_VM_BAD; fam++) {
		m_head(f, fam);
		for (i = 0; i < vms->n; i++) {
			for (k = 1; k < __PVLOCK_HS_LAST; k++) {
				if (m_host[k].fam != fam)
					continue;
				if (m_host[k].ns)
					m_vm_sample(f, fam, &vms->vm[i], NULL, "%.9f",
						    (double)vms->vm[i].stats[k] / 1e9);
				else
					m_vm_u64(f, fam, &vms->vm[i], m_host[k].value,
						 vms->vm[i].stats[k]);
			}
		}
	}
}

static void m_bpf(FILE *f, const struct st_snap *s)
{
	unsigned int fam, k;
	size_t i;

	for (fam = F_KVM_EXITS; fam < F_NR; fam++) {
		bool any = false;

		/* a counter the observer cannot count here is absent, not zero */
		for (i = 0; i < s->n; i++)
			for (k = 1; k < OBS_NR; k++)
				any |= m_kvm[k].fam == fam && ((s->e[i].avail >> k) & 1);
		if (!any)
			continue;
		m_head(f, fam);
		for (i = 0; i < s->n; i++) {
			for (k = 1; k < OBS_NR; k++) {
				if (m_kvm[k].fam != fam || !((s->e[i].avail >> k) & 1))
					continue;
				m_open(f, fam, s->e[i].name, (uint32_t)s->e[i].pid);
				if (m_kvm[k].value)
					fprintf(f, ",%s=\"%s\"", m_fams[fam].label, m_kvm[k].value);
				fprintf(f, "} %llu\n", (unsigned long long)s->e[i].v[k]);
			}
		}
	}
}

char *metrics_render(const struct metrics_in *in, size_t *len)
{
	static const char *const reasons[PVD_REASONS] = {
		[PVLOCK_TUNE_LHP] = "lhp",
		[PVLOCK_TUNE_OVERCOMMIT] = "overcommit",
		[PVLOCK_TUNE_RELAX] = "relax",
	};
	char *buf = NULL;
	unsigned int k;
	FILE *f;

	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	m_head(f, F_BUILD);
	fprintf(f, "%s{version=\"", m_fams[F_BUILD].name);
	m_label(f, in->version);
	fprintf(f, "\"} 1\n");
	m_head(f, F_HOST_UP);
	fprintf(f, "%s %d\n", m_fams[F_HOST_UP].name, in->host_up);
	m_head(f, F_BPF_UP);
	fprintf(f, "%s %d\n", m_fams[F_BPF_UP].name, in->bpf_up);
	if (in->has_overcommit) {
		m_head(f, F_OVERCOMMIT);
		fprintf(f, "%s{source=\"%s\"} %.2f\n", m_fams[F_OVERCOMMIT].name,
			in->overcommit_source, in->overcommit_pct / 100.0);
	}
	m_head(f, F_DECISIONS);
	for (k = 0; k < PVD_REASONS; k++)
		if (reasons[k])
			fprintf(f, "%s{reason=\"%s\"} %llu\n", m_fams[F_DECISIONS].name, reasons[k],
				(unsigned long long)in->decisions[k]);
	m_head(f, F_WRITES);
	fprintf(f, "%s{result=\"ok\"} %llu\n", m_fams[F_WRITES].name,
		(unsigned long long)in->writes_ok);
	fprintf(f, "%s{result=\"error\"} %llu\n", m_fams[F_WRITES].name,
		(unsigned long long)in->writes_failed);
	if (in->vms)
		m_vms(f, in->vms);
	if (in->bpf && in->bpf->n)
		m_bpf(f, in->bpf);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void metrics_doc(FILE *f)
{
	static const char *const srcs[] = {
		[M_PVLOCKD] = "", [M_HOST] = "", [M_VM] = "vm, pid", [M_KVM] = "vm, pid",
	};
	unsigned int i;

	fprintf(f, "| metric | type | labels | meaning |\n|---|---|---|---|\n");
	for (i = 0; i < F_NR; i++) {
		const struct m_family *m = &m_fams[i];
		const char *id = srcs[m->src];

		fprintf(f, "| `%s` | %s | %s%s%s | %s |\n", m->name, m->type, id,
			*id && m->label ? ", " : "", m->label ? m->label : "", m->help);
	}
}

int metrics_write_textfile(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	int fd, err = 0;

	/* node_exporter must never read a half-written file: write aside, rename */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (len && !err) {
		ssize_t n = write(fd, text, len);

		if (n < 0) {
			err = -errno;
		} else {
			text += n;
			len -= (size_t)n;
		}
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
