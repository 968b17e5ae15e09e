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

static void m_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void m_vm_labels(FILE *f, const struct pv_vm *vm)
{
	fputs("{vm=\"", f);
	m_label(f, vm->name);
	fprintf(f, "\",vm_id=\"%u\"}", vm->id);
}

/* Counter names are the ABI's; times in ns ("..._ns") are exported in seconds. */
static void m_host_counter(FILE *f, const struct pv_vms *vms, unsigned int k)
{
	const char *n = pvlock_host_stat_names[k];
	size_t len = strlen(n);
	bool ns = len > 3 && !strcmp(n + len - 3, "_ns");
	char name[96], help[160];
	size_t i;

	if (ns)
		snprintf(name, sizeof(name), "pvlock_vm_%.*s_seconds_total", (int)(len - 3), n);
	else
		snprintf(name, sizeof(name), "pvlock_vm_%s_total", n);
	snprintf(help, sizeof(help), "pvlock_host counter %s per VM%s", n,
		 ns ? " (converted to seconds)" : "");
	m_family(f, name, "counter", help);
	for (i = 0; i < vms->n; i++) {
		fputs(name, f);
		m_vm_labels(f, &vms->vm[i]);
		if (ns)
			fprintf(f, " %.9f\n", (double)vms->vm[i].stats[k] / 1e9);
		else
			fprintf(f, " %llu\n", (unsigned long long)vms->vm[i].stats[k]);
	}
}

static void m_vm_gauge(FILE *f, const struct pv_vms *vms, const char *name, const char *help,
		       unsigned int what)
{
	size_t i;

	m_family(f, name, "gauge", help);
	for (i = 0; i < vms->n; i++) {
		const struct pv_vm *vm = &vms->vm[i];
		uint64_t v;

		switch (what) {
		case 0:
			v = vm->nr_vcpus;
			break;
		case 1:
			v = vm->nr_registered;
			break;
		default:
			v = vm->params.val[what];
			break;
		}
		fputs(name, f);
		m_vm_labels(f, vm);
		fprintf(f, " %llu\n", (unsigned long long)v);
	}
}

static void m_bpf(FILE *f, const struct st_snap *s)
{
	const struct st_counters *sc = st_counters(ST_BPF);
	char name[96], help[160];
	unsigned int k;
	size_t i;

	for (k = 1; k < sc->n; k++) {
		bool any = false;

		for (i = 0; i < s->n; i++)
			any |= (s->e[i].avail >> k) & 1;
		if (!any)
			continue;	/* not countable here: absent, not zero */
		snprintf(name, sizeof(name), "pvlock_kvm_%s_total", sc->names[k]);
		snprintf(help, sizeof(help), "KVM event %s per VM, counted by pvlockd's BPF observer "
			 "since it started", sc->names[k]);
		m_family(f, name, "counter", help);
		for (i = 0; i < s->n; i++) {
			if (!((s->e[i].avail >> k) & 1))
				continue;
			fprintf(f, "%s{vm=\"", name);
			m_label(f, s->e[i].name);
			fprintf(f, "\",pid=\"%lld\"} %llu\n", (long long)s->e[i].pid,
				(unsigned long long)s->e[i].v[k]);
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
	m_family(f, "pvlockd_build_info", "gauge", "pvlockd version");
	fprintf(f, "pvlockd_build_info{version=\"");
	m_label(f, in->version);
	fprintf(f, "\"} 1\n");
	m_family(f, "pvlock_host_up", "gauge", "1 if pvlock_host answered in the last period");
	fprintf(f, "pvlock_host_up %d\n", in->host_up);
	if (in->has_overcommit) {
		m_family(f, "pvlock_host_overcommit_ratio", "gauge",
			 "runnable vCPU threads per online pCPU");
		fprintf(f, "pvlock_host_overcommit_ratio{source=\"%s\"} %.2f\n",
			in->overcommit_source, in->overcommit_pct / 100.0);
	}
	if (in->vms) {
		m_family(f, "pvlock_host_vms", "gauge", "VMs known to pvlock_host");
		fprintf(f, "pvlock_host_vms %zu\n", in->vms->n);
	}
	if (in->vms && in->vms->n) {
		for (k = 1; k < __PVLOCK_HS_LAST; k++)
			m_host_counter(f, in->vms, k);
		m_vm_gauge(f, in->vms, "pvlock_vm_vcpus", "vCPUs of the VM", 0);
		m_vm_gauge(f, in->vms, "pvlock_vm_registered_vcpus",
			   "vCPUs registered with pvlock_host", 1);
		m_vm_gauge(f, in->vms, "pvlock_vm_spin_threshold",
			   "spin-threshold hint in force for the VM (0: none)",
			   PVLOCK_P_SPIN_THRESHOLD);
		m_vm_gauge(f, in->vms, "pvlock_vm_budget", "boost budget per period for the VM",
			   PVLOCK_P_BUDGET);
		m_vm_gauge(f, in->vms, "pvlock_vm_pinned",
			   "PVLOCK_PIN_* bits: values pvlockd leaves alone (1 threshold, 2 budget)",
			   PVLOCK_P_PINNED);
	}
	if (in->bpf && in->bpf->n)
		m_bpf(f, in->bpf);
	m_family(f, "pvlockd_decisions_total", "counter",
		 "per-VM changes pvlockd made, by the tuning policy's reason");
	for (k = 0; k < PVD_REASONS; k++)
		if (reasons[k])
			fprintf(f, "pvlockd_decisions_total{reason=\"%s\"} %llu\n", reasons[k],
				(unsigned long long)in->decisions[k]);
	m_family(f, "pvlockd_param_writes_total", "counter",
		 "per-VM SET_PARAMS requests pvlockd sent, by result");
	fprintf(f, "pvlockd_param_writes_total{result=\"ok\"} %llu\n",
		(unsigned long long)in->writes_ok);
	fprintf(f, "pvlockd_param_writes_total{result=\"error\"} %llu\n",
		(unsigned long long)in->writes_failed);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
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

		if (n < 0)
			err = -errno;
		else {
			text += n;
			len -= n;
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
