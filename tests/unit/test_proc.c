// SPDX-License-Identifier: GPL-2.0
/* /proc readings for pvlockd and the BPF observer, on a fake /proc tree. */
#include <errno.h>
#include <fcntl.h>
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

#include "proc.h"

#define SEC 1000000000ull

static char root[64];

static void put(const char *rel, const char *text, size_t len)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void link_fd(unsigned int pid, unsigned int fd, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/fd", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%u/fd/%u", root, pid, fd);
	assert_int_equal(symlink(target, path), 0);
}

/* A thread with a name and its schedstat (run ns, wait ns). */
static void thread(unsigned int pid, unsigned int tid, const char *comm, uint64_t run,
		   uint64_t wait)
{
	char rel[128], text[96];

	snprintf(rel, sizeof(rel), "%u/task/%u/comm", pid, tid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(rel, text, strlen(text));
	snprintf(rel, sizeof(rel), "%u/task/%u/schedstat", pid, tid);
	snprintf(text, sizeof(text), "%llu %llu 42\n", (unsigned long long)run,
		 (unsigned long long)wait);
	put(rel, text, strlen(text));
}

static int setup(void **state)
{
	(void)state;
	strcpy(root, "/tmp/pvlock-proc-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* The grammar itself is test_vmname's; here: /proc/PID/cmdline read and the pid-N fallback. */
static void names_from_cmdlines(void **state)
{
	static const char a[] = "qemu-system-x86_64\0-enable-kvm\0-name\0web1\0-m\0512";
	static const char b[] = "qemu\0-name\0debug-threads=on,guest=db,,prod\0-m\0" "1G";
	static const char d[] = "firecracker\0--api-sock\0/x";
	char out[64];

	(void)state;
	put("100/cmdline", a, sizeof(a));
	proc_vm_name(root, 100, out, sizeof(out));
	assert_string_equal(out, "web1");
	put("200/cmdline", d, sizeof(d));
	proc_vm_name(root, 200, out, sizeof(out));
	assert_string_equal(out, "pid-200");
	proc_vm_name(root, 999, out, sizeof(out));	/* gone */
	assert_string_equal(out, "pid-999");
	put("300/cmdline", b, sizeof(b));
	proc_vm_name(root, 300, out, sizeof(out));
	assert_string_equal(out, "db,prod");
}

static void vmms_by_their_kvm_fd(void **state)
{
	uint32_t pids[8];
	size_t n;

	(void)state;
	link_fd(100, 3, "anon_inode:kvm-vm");
	link_fd(100, 4, "anon_inode:kvm-vcpu:0");
	link_fd(200, 3, "/dev/null");		/* not a VMM */
	link_fd(300, 7, "anon_inode:kvm-vm");
	put("self/stat", "x", 1);		/* not a pid */
	n = proc_find_vmms(root, pids, 8);
	assert_int_equal(n, 2);
	assert_true((pids[0] == 100 && pids[1] == 300) || (pids[0] == 300 && pids[1] == 100));
}

static void overcommit_from_schedstat(void **state)
{
	struct proc_load pl = { 0 };
	uint32_t pid = 100, pct = 0;

	(void)state;
	link_fd(100, 3, "anon_inode:kvm-vm");
	/* QEMU with debug-threads: only "CPU n/KVM" threads count */
	thread(100, 100, "qemu-system-x86", 0, 0);
	thread(100, 101, "CPU 0/KVM", 1 * SEC, 0);
	thread(100, 102, "CPU 1/KVM", 1 * SEC, 0);
	assert_int_equal(proc_overcommit(&pl, root, &pid, 1, 10 * SEC, 2, &pct), -EAGAIN);
	/* 1 s later: each vCPU ran 0.5 s and waited 0.5 s (runnable all the
	 * time): 2 runnable threads on 2 pCPUs = 100% */
	thread(100, 100, "qemu-system-x86", 5 * SEC, 0);	/* ignored: not a vCPU */
	thread(100, 101, "CPU 0/KVM", 1 * SEC + SEC / 2, SEC / 2);
	thread(100, 102, "CPU 1/KVM", 1 * SEC + SEC / 2, SEC / 2);
	assert_int_equal(proc_overcommit(&pl, root, &pid, 1, 11 * SEC, 2, &pct), 0);
	assert_int_equal(pct, 100);
	/* 1.5 s busy each in 1 s on one pCPU: 300%; a new thread has no interval yet */
	thread(100, 103, "CPU 2/KVM", 50 * SEC, 0);
	thread(100, 101, "CPU 0/KVM", 2 * SEC + SEC / 2, SEC / 2 + SEC / 2);
	thread(100, 102, "CPU 1/KVM", 2 * SEC + SEC / 2, SEC / 2 + SEC / 2);
	assert_int_equal(proc_overcommit(&pl, root, &pid, 1, 12 * SEC, 1, &pct), 0);
	assert_int_equal(pct, 300);
	proc_load_free(&pl);
}

static void unnamed_threads_and_discovery(void **state)
{
	struct proc_load pl = { 0 };
	uint32_t pct = 0;

	(void)state;
	/* no vCPU names (QEMU without debug-threads): all threads count; found by its fd */
	link_fd(300, 9, "anon_inode:kvm-vm");
	thread(300, 300, "qemu-system-x86", 0, 0);
	thread(300, 301, "qemu-system-x86", 0, 0);
	assert_int_equal(proc_overcommit(&pl, root, NULL, 0, 10 * SEC, 4, &pct), -EAGAIN);
	thread(300, 300, "qemu-system-x86", SEC / 10, 0);
	thread(300, 301, "qemu-system-x86", 2 * SEC, SEC);
	assert_int_equal(proc_overcommit(&pl, root, NULL, 0, 12 * SEC, 4, &pct), 0);
	/* (0.1 + 3) s busy over 2 s x 4 pCPUs */
	assert_int_equal(pct, 39);
	/* the VM exited: nothing runnable */
	thread(300, 300, "x", 0, 0);
	unlink(strcat(strcpy((char[128]){ 0 }, root), "/300/fd/9"));
	assert_int_equal(proc_overcommit(&pl, root, NULL, 0, 13 * SEC, 4, &pct), 0);
	assert_int_equal(pct, 0);
	proc_load_free(&pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(names_from_cmdlines, setup, teardown),
		cmocka_unit_test_setup_teardown(vmms_by_their_kvm_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(overcommit_from_schedstat, setup, teardown),
		cmocka_unit_test_setup_teardown(unnamed_threads_and_discovery, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
