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

static void host_metrics(void **state)
{
	struct pv_vms vms = two_vms();
	struct metrics_in in = {
		.version = "0.1.0", .host_up = true, .vms = &vms, .has_overcommit = true,
		.overcommit_pct = 150, .overcommit_source = "module", .writes_ok = 3,
	};
	unsigned int k;
	char name[96], *t;

	(void)state;
	in.decisions[PVLOCK_TUNE_LHP] = 2;
	t = render(&in);
	if (pc_check(&pc, t, strlen(t)))
		fail_msg("invalid exposition: %s\n%s", pc.err, t);
	/* every per-VM counter, for both VMs */
	for (k = 1; k < __PVLOCK_HS_LAST; k++) {
		const char *n = pvlock_host_stat_names[k];
		size_t len = strlen(n);

		/* times in ns, in seconds */
		if (len > 3 && !strcmp(n + len - 3, "_ns"))
			snprintf(name, sizeof(name), "pvlock_vm_%.*s_seconds_total", (int)(len - 3), n);
		else
			snprintf(name, sizeof(name), "pvlock_vm_%s_total", n);
		assert_int_equal(pc_samples(&pc, name), 2);
	}
	assert_non_null(strstr(t, "pvlock_vm_yields_total{vm=\"web1\",vm_id=\"1\"} 40\n"));
	assert_non_null(strstr(t, "pvlock_vm_preempted_seconds_total{vm=\"web1\",vm_id=\"1\"} 1.500000000\n"));
	assert_non_null(strstr(t, "{vm=\"odd \\\"name\\\"\\\\with\\nnewline\",vm_id=\"2\"}"));
	assert_non_null(strstr(t, "pvlock_vm_spin_threshold{vm=\"web1\",vm_id=\"1\"} 8192\n"));
	assert_non_null(strstr(t, "pvlock_vm_pinned{vm=\"odd"));
	assert_non_null(strstr(t, "pvlock_host_up 1\n"));
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

static void without_the_module(void **state)
{
	struct st_snap s;
	struct st_entity *e;
	struct metrics_in in = { .version = "0.1.0", .overcommit_source = "proc" };
	char *t;

	(void)state;
	st_snap_init(&s, ST_BPF, 1);
	e = st_add(&s, "web1", -1, 100, -1);
	e->v[OBS_EXIT_HLT] = 7;
	e->avail &= ~(1ull << OBS_ON_SPIN);	/* could not attach: absent, not 0 */
	e = st_add(&s, "pid-200", -1, 200, -1);
	e->avail &= ~(1ull << OBS_ON_SPIN);
	in.bpf = &s;
	t = render(&in);
	if (pc_check(&pc, t, strlen(t)))
		fail_msg("invalid exposition: %s\n%s", pc.err, t);
	assert_non_null(strstr(t, "pvlock_host_up 0\n"));
	assert_null(strstr(t, "pvlock_vm_"));
	assert_null(strstr(t, "pvlock_host_overcommit_ratio"));
	assert_non_null(strstr(t, "pvlock_kvm_hlt_exits_total{vm=\"web1\",pid=\"100\"} 7\n"));
	assert_int_equal(pc_samples(&pc, "pvlock_kvm_hlt_exits_total"), 2);
	assert_int_equal(pc_samples(&pc, "pvlock_kvm_on_spin_total"), 0);
	assert_null(strstr(t, "pvlock_kvm_on_spin_total"));
	pc_free(&pc);
	free(t);
	st_snap_free(&s);
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
		cmocka_unit_test(without_the_module),
		cmocka_unit_test(textfile),
		cmocka_unit_test(checker_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
