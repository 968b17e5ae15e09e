// SPDX-License-Identifier: GPL-2.0
/*
 * The BPF observer's preconditions (daemon/obs.c, obs_preflight): each one
 * missing in a fake /sys is named, in order, with the command that fixes it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "obs.h"

static char root[64], err[512], note[160];

static void mk(const char *path, int mode)
{
	char p[256], cmd[1200];

	snprintf(p, sizeof(p), "%s%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && touch '%s' && chmod %o '%s'", p, p,
		 mode, p);
	assert_int_equal(system(cmd), 0);
}

static int check(bool privileged)
{
	err[0] = '\0';
	return obs_preflight(root, privileged, err, sizeof(err), note, sizeof(note));
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/pvlock-obs-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", root, root);
	return system(cmd);
}

static void each_missing_piece_named(void **state)
{
	(void)state;
	assert_int_equal(check(false), -EPERM);
	assert_non_null(strstr(err, "needs CAP_BPF and CAP_PERFMON"));
	assert_int_equal(check(true), -ENOENT);
	assert_non_null(strstr(err, "kvm is not loaded"));
	assert_non_null(strstr(err, "modprobe kvm_amd"));
	mk("/sys/module/kvm/parameters/halt_poll_ns", 0644);
	/* /sys/kernel/tracing exists as an empty mount point: not mounted */
	mk("/sys/kernel/tracing/.keep", 0644);
	assert_int_equal(check(true), -ENOENT);
	assert_non_null(strstr(err, "tracefs is not mounted"));
	assert_non_null(strstr(err, "mount -t tracefs tracefs /sys/kernel/tracing"));
	mk("/sys/kernel/tracing/events/sched/sched_switch/id", 0444);
	assert_int_equal(check(true), -ENOENT);
	assert_non_null(strstr(err, "no kvm tracepoints"));
	mk("/sys/kernel/tracing/events/kvm/kvm_exit/id", 0444);
	assert_int_equal(check(true), -ENOENT);
	assert_non_null(strstr(err, "no kernel BTF"));
	assert_non_null(strstr(err, "CONFIG_DEBUG_INFO_BTF"));
	mk("/sys/kernel/btf/vmlinux", 0444);
	assert_int_equal(check(true), 0);
	/* no BTF for kvm.ko costs the fentry/fexit counters only */
	assert_non_null(strstr(note, "no BTF for kvm.ko"));
	mk("/sys/kernel/btf/kvm", 0444);
	assert_int_equal(check(true), 0);
	assert_string_equal(note, "");
}

/* The older place of tracefs, under debugfs, is found too. */
static void debugfs_tracing(void **state)
{
	(void)state;
	mk("/sys/module/kvm/x", 0644);
	mk("/sys/kernel/debug/tracing/events/kvm/kvm_exit/id", 0444);
	mk("/sys/kernel/btf/vmlinux", 0444);
	assert_int_equal(check(true), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(each_missing_piece_named, setup, teardown),
		cmocka_unit_test_setup_teardown(debugfs_tracing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
