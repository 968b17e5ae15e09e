// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockd's Prometheus exposition, checked with the strict checker the
 * QEMU tests use (tests/qemu/tools/promcheck.h), and the checker itself on
 * broken input, so that a passing check means something.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <pvlock/names.h>

#include "metrics.h"
#include "promcheck.h"

static struct pc_state pc;

static struct pv_vm vmv[2];

static struct pv_vms two_vms(void)
{
	struct pv_vms v = { .vm = vmv, .n = 2, .cap = 2 };
	unsigned int k;

	memset(vmv, 0, sizeof(vmv));
	vmv[0].id = 1;
	vmv[0].pid = 100;
	vmv[0].nr_vcpus = 4;
	vmv[0].nr_registered = 4;
	strcpy(vmv[0].name, "web1");
	/* names are operator-chosen: quotes, backslashes, newlines must be escaped */
	vmv[1].id = 2;
	vmv[1].pid = 200;
	strcpy(vmv[1].name, "odd \"name\"\\with\nnewline");
	for (k = 1; k < __PVLOCK_HS_LAST; k++) {
		vmv[0].stats[k] = k * 10;
		vmv[1].stats[k] = k;
	}
	vmv[0].stats[PVLOCK_HS_PREEMPTED_NS] = 1500000000;
	vmv[0].params.val[PVLOCK_P_SPIN_THRESHOLD] = 8192;
	vmv[0].params.val[PVLOCK_P_BUDGET] = 1000;
	vmv[1].params.val[PVLOCK_P_PINNED] = PVLOCK_PIN_THRESHOLD;
	vmv[0].params.present = vmv[1].params.present = (1u << PVLOCK_P_SPIN_THRESHOLD) |
		(1u << PVLOCK_P_BUDGET) | (1u << PVLOCK_P_PINNED);
	return v;
}

static char *render(const struct metrics_in *in)
{
	size_t len;
	char *t = metrics_render(in, &len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

/* Keep a rendering for promtool (tests/unit/Makefile runs "promtool check metrics" on it). */
static void keep(const char *name, const char *text)
{
	const char *dir = getenv("PVLOCK_PROM_DIR");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.prom", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Every per-VM sample carries the same identity labels first: {vm="...",pid="..."}. */
static void identity_labels(const char *t)
{
	const char *line;

	for (line = t; *line; line = strchr(line, '\n') + 1) {
		if (!strncmp(line, "pvlock_vm_", 10) || !strncmp(line, "pvlock_kvm_", 11))
			if (!strstr(line, "{vm=\"") || strstr(line, "{vm=\"") > strchr(line, '\n') ||
			    !strstr(line, "\",pid=\""))
				fail_msg("no {vm, pid} identity: %.120s", line);
		if (!strchr(line, '\n'))
			break;
	}
}

static void host_metrics(void **state)
{
	struct pv_vms vms = two_vms();
	struct metrics_in in = {
		.version = "0.1.0", .host_up = true, .vms = &vms, .has_overcommit = true,
		.overcommit_pct = 150, .overcommit_source = "module", .writes_ok = 3,
	};
	char *t;

	(void)state;
	in.decisions[PVLOCK_TUNE_LHP] = 2;
	t = render(&in);
	if (pc_check(&pc, t, strlen(t)))
		fail_msg("invalid exposition: %s\n%s", pc.err, t);
	keep("host", t);
	identity_labels(t);
	/* dimensions are labels: one family per quantity */
	assert_non_null(strstr(t, "pvlock_vm_yields_total{vm=\"web1\",pid=\"100\",result=\"same_vm\"} 50\n"));
	assert_non_null(strstr(t, "pvlock_vm_yields_total{vm=\"web1\",pid=\"100\",result=\"cross_vm\"} 60\n"));
	assert_non_null(strstr(t, "pvlock_vm_yields_total{vm=\"web1\",pid=\"100\",result=\"none\"} 70\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_vm_yields_total"), 6);
	assert_non_null(strstr(t, "pvlock_vm_yield_requests_total{vm=\"web1\",pid=\"100\"} 40\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_vm_bad_hypercalls_total"), 2 * 8);
	assert_non_null(strstr(t, "pvlock_vm_bad_hypercalls_total{vm=\"web1\",pid=\"100\",reason=\"cpl\"} 210\n"));
	assert_non_null(strstr(t, "pvlock_vm_bad_hypercalls_total{vm=\"web1\",pid=\"100\",reason=\"state\"} 280\n"));
	assert_null(strstr(t, "pvlock_vm_bad_cpl_total"));
	assert_null(strstr(t, "pvlock_vm_yield_same_vm_total"));
	assert_non_null(strstr(t, "pvlock_vm_boosts_total{vm=\"web1\",pid=\"100\",direction=\"received\"} 100\n"));
	assert_non_null(strstr(t, "pvlock_vm_vcpu_registrations_total{vm=\"web1\",pid=\"100\",event=\"registered\"} 20\n"));
	/* base units */
	assert_non_null(strstr(t, "pvlock_vm_preempted_seconds_total{vm=\"web1\",pid=\"100\"} 1.500000000\n"));
	assert_null(strstr(t, "_ns"));
	/* names are operator-chosen: quotes, backslashes, newlines must be escaped */
	assert_non_null(strstr(t, "{vm=\"odd \\\"name\\\"\\\\with\\nnewline\",pid=\"200\""));
	/* values in force; pinned per parameter, not a bitmask */
	assert_non_null(strstr(t, "pvlock_vm_spin_threshold{vm=\"web1\",pid=\"100\"} 8192\n"));
	assert_non_null(strstr(t, "pvlock_vm_pinned{vm=\"web1\",pid=\"100\",param=\"threshold\"} 0\n"));
	assert_non_null(strstr(t, ",pid=\"200\",param=\"threshold\"} 1\n"));
	assert_non_null(strstr(t, ",pid=\"200\",param=\"budget\"} 0\n"));
	/* pvlock_host's VM id in an info metric, not on every sample */
	assert_non_null(strstr(t, "pvlock_vm_info{vm=\"web1\",pid=\"100\",vm_id=\"1\",abi=\"\"} 1\n"));
	assert_null(strstr(t, "vm_id=\"1\"} "));
	assert_non_null(strstr(t, "pvlock_vm_on_spin_kvm_total{vm=\"web1\",pid=\"100\"} "));
	assert_non_null(strstr(t, "pvlock_vm_prio_seconds_total{vm=\"web1\",pid=\"100\"} 0.000000"));
	assert_non_null(strstr(t, "pvlock_host_up 1\n"));
	assert_non_null(strstr(t, "pvlockd_bpf_observer_up 0\n"));
	assert_non_null(strstr(t, "pvlock_host_overcommit_ratio{source=\"module\"} 1.50\n"));
	assert_non_null(strstr(t, "pvlock_host_vms 2\n"));
	assert_non_null(strstr(t, "pvlockd_decisions_total{reason=\"lhp\"} 2\n"));
	assert_non_null(strstr(t, "pvlockd_param_writes_total{result=\"ok\"} 3\n"));
	assert_non_null(strstr(t, "# TYPE pvlock_vm_yields_total counter\n"));
	assert_non_null(strstr(t, "# TYPE pvlock_vm_vcpus gauge\n"));
	assert_null(strstr(t, "pvlock_kvm_"));
	pc_free(&pc);
	free(t);
}

/* Every pvlock_host counter reaches a family: a new counter cannot be forgotten. */
static void every_counter_exported(void **state)
{
	struct pv_vms vms = two_vms();
	struct metrics_in in = { .version = "0.1.0", .host_up = true, .vms = &vms };
	char want[64], *t;
	unsigned int k;

	(void)state;
	for (k = 1; k < __PVLOCK_HS_LAST; k++)
		vmv[0].stats[k] = 7000000 + k;
	t = render(&in);
	for (k = 1; k < __PVLOCK_HS_LAST; k++) {
		const char *n = pvlock_host_stat_names[k];

		/* times in ns ("..._ns") are exported in seconds */
		if (strlen(n) > 3 && !strcmp(n + strlen(n) - 3, "_ns"))
			snprintf(want, sizeof(want), "} 0.%09u\n", 7000000 + k);
		else
			snprintf(want, sizeof(want), "} %u\n", 7000000 + k);
		if (!strstr(t, want))
			fail_msg("counter %s is not exported", pvlock_host_stat_names[k]);
	}
	free(t);
}

/* With no VMs every family still has HELP and TYPE: a dashboard finds them all. */
static void families_without_vms(void **state)
{
	struct pv_vms vms = { 0 };
	struct metrics_in in = { .version = "0.1.0", .host_up = true, .vms = &vms };
	char *t;

	(void)state;
	t = render(&in);
	if (pc_check(&pc, t, strlen(t)))
		fail_msg("invalid exposition: %s\n%s", pc.err, t);
	assert_non_null(strstr(t, "# HELP pvlock_vm_yields_total "));
	assert_non_null(strstr(t, "# TYPE pvlock_vm_bad_hypercalls_total counter\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_vm_yields_total"), 0);
	pc_free(&pc);
	free(t);
}

static void without_the_module(void **state)
{
	struct st_snap s;
	struct st_entity *e;
	struct metrics_in in = { .version = "0.1.0", .overcommit_source = "proc", .bpf_up = true };
	char *t;

	(void)state;
	st_snap_init(&s, ST_BPF, 1);
	e = st_add(&s, "web1", -1, 100, -1);
	e->v[OBS_EXITS] = 20;
	e->v[OBS_EXIT_HLT] = 7;
	e->v[OBS_EXIT_OTHER] = 13;
	e->v[OBS_HC_PVLOCK] = 4;
	e->v[OBS_YIELD_TO_FAILED] = 2;
	e->avail &= ~(1ull << OBS_ON_SPIN);	/* could not attach: absent, not 0 */
	e = st_add(&s, "pid-200", -1, 200, -1);
	e->avail &= ~(1ull << OBS_ON_SPIN);
	in.bpf = &s;
	t = render(&in);
	if (pc_check(&pc, t, strlen(t)))
		fail_msg("invalid exposition: %s\n%s", pc.err, t);
	keep("bpf", t);
	identity_labels(t);
	assert_non_null(strstr(t, "pvlock_host_up 0\n"));
	assert_non_null(strstr(t, "pvlockd_bpf_observer_up 1\n"));
	assert_null(strstr(t, "pvlock_vm_"));
	assert_null(strstr(t, "pvlock_host_overcommit_ratio"));
	/* the same {vm, pid} identity as the module's families */
	assert_non_null(strstr(t, "pvlock_kvm_exits_total{vm=\"web1\",pid=\"100\",reason=\"hlt\"} 7\n"));
	assert_non_null(strstr(t, "pvlock_kvm_exits_total{vm=\"web1\",pid=\"100\",reason=\"other\"} 13\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_kvm_exits_total"), 2 * 4);
	assert_null(strstr(t, "pvlock_kvm_hlt_exits_total"));
	assert_non_null(strstr(t, "pvlock_kvm_hypercalls_total{vm=\"web1\",pid=\"100\",nr=\"pvlock\"} 4\n"));
	assert_non_null(strstr(t, "pvlock_kvm_yield_to_total{vm=\"web1\",pid=\"100\",result=\"failed\"} 2\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_kvm_on_spin_total"), 0);
	assert_null(strstr(t, "# TYPE pvlock_kvm_on_spin_total"));
	pc_free(&pc);
	free(t);
	st_snap_free(&s);
}

/* README's metric table is pvlockd --list-metrics, word for word. */
static void documented(void **state)
{
	char *doc = NULL, *readme;
	bool found;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);
	long n;

	(void)state;
	metrics_doc(f);
	fclose(f);
	f = fopen(SRCDIR "/../../README.md", "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	readme = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(readme, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	found = strstr(readme, doc) != NULL;
	free(readme);
	if (!found)
		print_message("README.md lacks the current metric table; paste the output of "
			      "'pvlockd --list-metrics':\n%s", doc);
	free(doc);
	assert_true(found);
}

static void textfile(void **state)
{
	char dir[] = "/tmp/pvlock-prom-XXXXXX", path[64], buf[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pvlock.prom", dir);
	assert_int_equal(metrics_write_textfile(path, "a 1\n", 4), 0);
	assert_int_equal(metrics_write_textfile(path, "b 2\n", 4), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "b 2\n");
	unlink(path);
	rmdir(dir);
	/* a directory that does not exist: an error, nothing written */
	assert_int_equal(metrics_write_textfile("/nonexistent/dir/x.prom", "a 1\n", 4), -ENOENT);
}

static void checker_rejects(void **state)
{
	static const char *const bad[] = {
		"a 1",						/* no final newline */
		"a{x=\"1\",x=\"2\"} 1\n",			/* label twice */
		"a{x=\"\\t\"} 1\n",				/* bad escape */
		"a{x=\"1} 1\n",					/* unterminated */
		"a{1x=\"1\"} 1\n",				/* bad label name */
		"a{__x=\"1\"} 1\n",				/* reserved label */
		"1a 1\n",					/* bad metric name */
		"a one\n",					/* value */
		"a 1 12.5\n",					/* timestamp */
		"a inf\n",					/* not the format's spelling */
		"# TYPE a counter\na -1\n",			/* negative counter */
		"# TYPE a gauge\n# TYPE a gauge\n",		/* TYPE twice */
		"# HELP a x\n# HELP a y\n",			/* HELP twice */
		"a 1\n# TYPE a gauge\n",			/* TYPE after samples */
		"# TYPE a meter\n",				/* unknown type */
		"a 1\nb 1\na 2\n",				/* not contiguous */
		"a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n",	/* same series */
		"",						/* empty */
	};
	static const char *const good[] = {
		"a 1\n",
		"# just a comment\n\na{x=\"q\\\"\\\\\\n\",} +Inf 1700000000000\n",
		"# HELP h_seconds a\\nb\n# TYPE h_seconds histogram\nh_seconds_bucket{le=\"1\"} 1\n"
		"h_seconds_sum 2\nh_seconds_count 1\n",
		"a:b_c NaN\nx -1.5e-3\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!pc_check(&pc, bad[i], strlen(bad[i])))
			fail_msg("accepted bad input %zu: %s", i, bad[i]);
		pc_free(&pc);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (pc_check(&pc, good[i], strlen(good[i])))
			fail_msg("refused good input %zu: %s", i, pc.err);
		pc_free(&pc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_metrics),
		cmocka_unit_test(every_counter_exported),
		cmocka_unit_test(families_without_vms),
		cmocka_unit_test(without_the_module),
		cmocka_unit_test(documented),
		cmocka_unit_test(textfile),
		cmocka_unit_test(checker_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
