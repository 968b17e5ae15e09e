// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvlock/vmname.h>

#include "proc.h"
#include "util.h"

static ssize_t proc_read(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

void proc_vm_name(const char *proc, uint32_t pid, char *out, size_t outlen)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cmdline", proc, pid);
	n = proc_read(path, buf, sizeof(buf));
	if (n <= 0 || !pvlock_vmname_parse(buf, (size_t)n, out, outlen))
		snprintf(out, outlen, "pid-%u", pid);
}

static bool proc_is_vmm(const char *proc, const char *pid)
{
	char path[PATH_MAX], link[64];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%s/fd", proc, pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		char fd[PATH_MAX + 512];
		ssize_t n;

		long fdn;

		if (util_long(d->d_name, 0, INT32_MAX, &fdn))
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", path, d->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, "anon_inode:kvm-vm");
	}
	closedir(dir);
	return found;
}

size_t proc_find_vmms(const char *proc, uint32_t *pids, size_t max)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dir = opendir(proc);
	long pid;

	if (!dir)
		return 0;
	while (n < max && (d = readdir(dir)))
		if (!util_long(d->d_name, 1, UINT32_MAX, &pid) && proc_is_vmm(proc, d->d_name))
			pids[n++] = (uint32_t)pid;
	closedir(dir);
	return n;
}

static bool proc_is_vcpu_name(const char *comm)
{
	size_t l = strlen(comm);

	return (!strncmp(comm, "CPU ", 4) && l > 4 && !strcmp(comm + l - 4, "/KVM")) ||
	       !strncmp(comm, "vcpu", 4) || !strncmp(comm, "fc_vcpu", 7);
}

struct proc_acc {
	struct proc_tid *t;
	size_t n, cap;
};

static int proc_acc_add(struct proc_acc *a, uint32_t tid, uint64_t busy)
{
	if (UTIL_GROW(a->t, a->cap, a->n + 1))
		return -ENOMEM;
	a->t[a->n].tid = tid;
	a->t[a->n].busy_ns = busy;
	a->t[a->n].vcpu = false;
	a->n++;
	return 0;
}

/* The threads of one VMM: vCPU-named ones if any, else all of them. */
static int proc_sample_vmm(const char *proc, uint32_t pid, struct proc_acc *a)
{
	char path[PATH_MAX], f[PATH_MAX + 512], buf[128];
	size_t first = a->n, named = 0, i, keep;
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%u/task", proc, pid);
	dir = opendir(path);
	if (!dir)
		return 0;	/* gone since it was listed */
	while (!err && (d = readdir(dir))) {
		unsigned long long run, wait;
		long tid;

		if (util_long(d->d_name, 1, UINT32_MAX, &tid))
			continue;
		snprintf(f, sizeof(f), "%s/%s/schedstat", path, d->d_name);
		if (proc_read(f, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%llu %llu", &run, &wait) != 2)
			continue;
		err = proc_acc_add(a, (uint32_t)tid, run + wait);
		if (err)
			break;
		snprintf(f, sizeof(f), "%s/%s/comm", path, d->d_name);
		if (proc_read(f, buf, sizeof(buf)) > 0) {
			buf[strcspn(buf, "\n")] = '\0';
			a->t[a->n - 1].vcpu = proc_is_vcpu_name(buf);
		}
		named += a->t[a->n - 1].vcpu;
	}
	closedir(dir);
	if (!err && named) {
		for (i = first, keep = first; i < a->n; i++)
			if (a->t[i].vcpu)
				a->t[keep++] = a->t[i];
		a->n = keep;
	}
	return err;
}

static int proc_tid_cmp(const void *pa, const void *pb)
{
	const struct proc_tid *a = pa, *b = pb;

	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

int proc_overcommit(struct proc_load *pl, const char *proc, const uint32_t *pids, size_t npids,
		    uint64_t now_ns, unsigned int online_cpus, uint32_t *pct)
{
	uint32_t found[1024];
	struct proc_acc a = { 0 };
	uint64_t busy = 0;
	size_t i;
	int err = 0;

	if (!npids) {
		npids = proc_find_vmms(proc, found, sizeof(found) / sizeof(found[0]));
		pids = found;
	}
	for (i = 0; i < npids && !err; i++)
		err = proc_sample_vmm(proc, pids[i], &a);
	if (err) {
		free(a.t);
		return err;
	}
	if (a.n)
		qsort(a.t, a.n, sizeof(*a.t), proc_tid_cmp);
	/* only threads seen both times count: new ones have no interval yet */
	for (i = 0; i < a.n && pl->valid; i++) {
		struct proc_tid *p = pl->n ? bsearch(&a.t[i], pl->t, pl->n, sizeof(*pl->t),
						     proc_tid_cmp) : NULL;

		if (p && a.t[i].busy_ns >= p->busy_ns)
			busy += a.t[i].busy_ns - p->busy_ns;
	}
	if (pl->valid && now_ns > pl->t_ns && online_cpus)
		*pct = (uint32_t)((double)busy * 100.0 / ((double)(now_ns - pl->t_ns) * online_cpus) + 0.5);
	else
		err = -EAGAIN;
	free(pl->t);
	pl->t = a.t;
	pl->n = a.n;
	pl->t_ns = now_ns;
	pl->valid = true;
	return err;
}

void proc_load_free(struct proc_load *pl)
{
	free(pl->t);
	pl->t = NULL;
	pl->n = 0;
	pl->valid = false;
}
