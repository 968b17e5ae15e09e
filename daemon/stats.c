// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl stats: counters with totals and rates per second, in the manner
 * of kvm_stat: a refreshing table, --once, --log (CSV) or JSON, per VM or
 * per vCPU on a host, totals or per CPU in a guest. The figures come from
 * pvlock_host, pvlock_guest or, on a host without pvlock_host, the BPF
 * observer of KVM's own events; the output says which.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "obs.h"
#include "out.h"
#include "query.h"
#include "table.h"

struct stats_src {
	enum st_source src;
	struct nlc c;
	struct obs *obs;
	const struct stats_opts *o;
	int64_t vm_id;			/* host: the VM asked for, or PV_NO_VM */
	const char *vm;			/* the VM asked for: a name or id, or NULL */
	struct pv_vms vms;		/* host: names and pids, refreshed per sample */
	struct st_snap *snap;		/* being filled */
	int err;
};

static const struct pv_vm *stats_vm(const struct stats_src *x, uint32_t id)
{
	size_t i;

	for (i = 0; i < x->vms.n; i++)
		if (x->vms.vm[i].id == id)
			return &x->vms.vm[i];
	return NULL;
}

static int stats_host_cb(struct nlattr **tb, void *arg)
{
	struct stats_src *x = arg;
	const struct pv_vm *vm;
	struct st_entity *e;
	char name[PVLOCK_NAME_MAX + 16];
	int64_t cpu = tb[PVLOCK_A_CPU] ? (int64_t)nla_get_u32(tb[PVLOCK_A_CPU]) : -1;
	uint32_t id;

	if (!tb[PVLOCK_A_VM_ID])
		return -EPROTO;
	/* a module may send VM rows with the vCPU rows: keep the kind asked for */
	if ((cpu >= 0) != x->o->per_cpu)
		return 0;
	id = nla_get_u32(tb[PVLOCK_A_VM_ID]);
	vm = stats_vm(x, id);
	if (vm)
		snprintf(name, sizeof(name), "%s", vm->name);
	else
		snprintf(name, sizeof(name), "vm%u", id);	/* appeared since the list */
	if (cpu >= 0)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "/vcpu%lld",
			 (long long)cpu);
	e = st_add(x->snap, name, id, vm ? (int64_t)vm->pid : -1, cpu);
	if (!e)
		return -ENOMEM;
	e->ncpus = cpu >= 0 ? 1 : vm ? vm->nr_vcpus : 0;
	nlc_parse_counters(tb[PVLOCK_A_STATS], e->v, __PVLOCK_HS_LAST);
	return 0;
}

static int stats_guest_cb(struct nlattr **tb, void *arg)
{
	struct stats_src *x = arg;
	struct st_entity *e;
	char name[32];
	int64_t cpu = tb[PVLOCK_A_CPU] ? (int64_t)nla_get_u32(tb[PVLOCK_A_CPU]) : -1;

	if (cpu >= 0)
		snprintf(name, sizeof(name), "cpu%lld", (long long)cpu);
	else
		snprintf(name, sizeof(name), "total");
	e = st_add(x->snap, name, -1, -1, cpu);
	if (!e)
		return -ENOMEM;
	/* pvlockctl runs in this guest: its CPU count is the guest's */
	e->ncpus = cpu >= 0 ? 1 : (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	nlc_parse_counters(tb[PVLOCK_A_STATS], e->v, __PVLOCK_GS_LAST);
	return 0;
}

/* BPF rows of the VM the user named: by name, by VMM pid, or -p PID. */
static void stats_bpf_filter(struct st_snap *s, const char *vm, long pid)
{
	size_t i, j, l = vm ? strlen(vm) : 0;
	char p[24];

	for (i = j = 0; i < s->n; i++) {
		const char *n = s->e[i].name;
		bool keep;

		snprintf(p, sizeof(p), "%lld", (long long)s->e[i].pid);
		if (pid)
			keep = s->e[i].pid == pid;
		else
			keep = !strcmp(p, vm) || (!strncmp(n, vm, l) && (n[l] == '\0' || n[l] == '/'));
		if (keep)
			s->e[j++] = s->e[i];
	}
	s->n = j;
}

static int stats_take(struct stats_src *x, struct st_snap *s)
{
	struct nl_msg *msg;
	int err;

	if (x->src == ST_BPF) {
		err = obs_snapshot(x->obs, s, x->o->per_cpu, util_now_ns());
		if (!err && (x->vm || x->o->pid))
			stats_bpf_filter(s, x->vm, x->o->pid);
		return err;
	}
	st_snap_init(s, x->src, util_now_ns());
	x->snap = s;
	if (x->src == ST_GUEST) {
		msg = nlc_msg(&x->c, PVLOCK_GUEST_CMD_GET_STATS, x->o->per_cpu);
		return msg ? nlc_request(&x->c, msg, stats_guest_cb, x) : -ENOMEM;
	}
	pv_vms_free(&x->vms);
	err = pv_get_vms(&x->c, &x->vms);
	if (err)
		return err;
	msg = nlc_msg(&x->c, PVLOCK_HOST_CMD_GET_STATS, true);
	if (!msg)
		return -ENOMEM;
	if ((x->vm_id != PV_NO_VM && nla_put_u32(msg, PVLOCK_A_VM_ID, (uint32_t)x->vm_id) < 0) ||
	    (x->o->per_cpu && nla_put_flag(msg, PVLOCK_A_PER_VCPU) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nlc_request(&x->c, msg, stats_host_cb, x);
}

static int stats_open_bpf(struct stats_src *x, bool fallback)
{
	char err[512];
	int rc;

	rc = obs_open(&x->obs, err, sizeof(err));
	if (rc) {
		if (fallback)
			ctl_err("neither pvlock_guest nor pvlock_host is loaded, "
				"and the BPF observer cannot run: %s", err);
		else
			ctl_err("%s", err);
		return rc;
	}
	if (fallback)
		ctl_err("pvlock_host is not loaded: these are the BPF "
			"observer's counts of KVM events, not pvlock's");
	x->src = ST_BPF;
	return 0;
}

/* Pick the source: -G/-H/--bpf as asked, else host module, guest module, BPF. */
static int stats_open(struct stats_src *x, const struct stats_opts *o)
{
	unsigned int fam = ctl_opts.families;
	int err;

	memset(x, 0, sizeof(*x));
	x->o = o;
	x->vm = o->vm ? o->vm : o->guest;
	x->vm_id = PV_NO_VM;
	if (o->bpf)
		return stats_open_bpf(x, false);
	if (fam & CTL_HOST) {
		err = nlc_open(&x->c, PVLOCK_HOST_GENL_NAME);
		if (!err) {
			x->src = ST_HOST;
			return 0;
		}
		if (err != -ENOENT || fam == CTL_HOST) {
			ctl_family_error(PVLOCK_HOST_GENL_NAME, err);
			if (err == -ENOENT)
				ctl_err("'stats --bpf' shows KVM's own events "
					"without it");
			return err;
		}
	}
	if (!x->vm && !o->pid) {
		err = nlc_open(&x->c, PVLOCK_GUEST_GENL_NAME);
		if (!err) {
			x->src = ST_GUEST;
			return 0;
		}
		if (err != -ENOENT || fam == CTL_GUEST) {
			ctl_family_error(PVLOCK_GUEST_GENL_NAME, err);
			return err;
		}
	}
	return stats_open_bpf(x, true);
}

static void stats_close(struct stats_src *x)
{
	obs_close(x->obs);
	pv_vms_free(&x->vms);
	nlc_close(&x->c);
}

static void stats_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	/* a signal ends the sleep and, through ctl_stop, the loop */
	nanosleep(&ts, NULL);
}

static int stats_fail(struct stats_src *x, int err)
{
	if (x->src == ST_BPF)
		ctl_err("stats: reading the BPF observer: %s", strerror(-err));
	else
		ctl_request_error(&x->c, "stats", err);
	return CTL_EXIT_FAIL;
}

/* The host's VM that -p PID names. */
static int stats_find_pid(struct stats_src *x, long pid)
{
	size_t i;
	int err = pv_get_vms(&x->c, &x->vms);

	if (err) {
		ctl_request_error(&x->c, "listing VMs", err);
		return err;
	}
	for (i = 0; i < x->vms.n; i++) {
		if (x->vms.vm[i].pid == (uint32_t)pid) {
			x->vm_id = x->vms.vm[i].id;
			return 0;
		}
	}
	ctl_err("no VM with VMM pid %ld on this host (pvlockctl vm list shows them)", pid);
	return -ENOENT;
}

int ctl_stats(int argc, char **argv)
{
	struct st_snap prev = { 0 }, cur = { 0 };
	bool live, tty = isatty(STDOUT_FILENO);
	char err[256], wall[48];
	struct stats_opts o;
	struct stats_src x;
	struct tab *t = NULL;
	struct st_view v;
	uint64_t t0;
	long n = 0;
	int rc = CTL_EXIT_OK;

	rc = args_stats(argc, argv, &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_stats_cmd, st_cols, ST_NCOLS) :
				ctl_usage_error("%s", err);
	if ((o.vm || o.guest || o.pid) && ctl_opts.families == CTL_GUEST)
		rc = ctl_usage_error("stats: a VM is a host matter: drop -G or the VM");
	else if (o.log && ctl_opts.json)
		rc = ctl_usage_error("stats: --log writes CSV: drop -j");
	else if (!o.log && !(t = ctl_tab(st_cols, ST_NCOLS)))
		rc = CTL_EXIT_USAGE;
	if (rc) {
		args_stats_free(&o);
		return rc;
	}
	if (stats_open(&x, &o)) {
		args_stats_free(&o);
		tab_free(t);
		return CTL_EXIT_FAIL;
	}
	if (x.src == ST_HOST && (x.vm || o.pid)) {
		struct pv_vm vm;

		if (o.pid ? stats_find_pid(&x, o.pid) : ctl_find_vm(&x.c, x.vm, &vm)) {
			rc = CTL_EXIT_FAIL;
			goto out;
		}
		if (!o.pid)
			x.vm_id = vm.id;
	}
	live = !o.once && !o.log && !ctl_opts.json && tty;
	ctl_catch_signals();
	t0 = util_now_ns();
	rc = stats_take(&x, &prev);
	if (rc) {
		rc = stats_fail(&x, rc);
		goto out;
	}
	if (o.log)
		st_csv_header(stdout, o.wall);
	while (!ctl_stop) {
		stats_sleep(o.interval);
		if (ctl_stop)
			break;
		rc = stats_take(&x, &cur);
		if (rc) {
			rc = stats_fail(&x, rc);
			break;
		}
		if (st_view_build(&v, &cur, &prev, (enum st_sort)o.sort, o.all || ctl_opts.json,
				  o.filter ? &o.re : NULL)) {
			rc = CTL_EXIT_FAIL;
			break;
		}
		if (o.wall)
			util_wall_iso(wall, sizeof(wall));
		if (o.log) {
			st_csv_rows(stdout, &v, (double)(cur.time_ns - t0) / 1e9, o.wall ? wall : NULL);
		} else {
			if (live)
				out_text("\033[H\033[2J");
			st_print(&v, t, o.wall ? wall : NULL);
			if (!ctl_opts.json && !o.once)
				out_text("\n");
			out_flush();
		}
		st_view_free(&v);
		st_snap_move(&prev, &cur);
		if (o.count && ++n >= o.count)
			break;
	}
out:
	st_snap_free(&prev);
	st_snap_free(&cur);
	stats_close(&x);
	tab_free(t);
	args_stats_free(&o);
	return rc;
}
