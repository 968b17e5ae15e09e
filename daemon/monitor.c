// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl monitor: the modules' events as lines, or JSON lines with -j,
 * as "ip monitor" does. It also reports a module being unloaded or loaded
 * (from the generic netlink controller) and follows it across a reload.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <pvlock/names.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

struct mon_fam {
	const char *name;
	struct nlc c;
	bool open;
};

struct mon {
	struct mon_fam fam[2];		/* guest, host */
	const char *cur;		/* family of the event being printed */
	long count, seen;
	bool wall;			/* wall-clock timestamps */
};

/* The line's time: the wall clock's with -T (JSON "time"); else none here. */
static void mon_wall(const struct mon *m)
{
	char t[48];

	if (m->wall)
		out_str("time", "[%s] ", util_wall_iso(t, sizeof(t)));
}

static void mon_vm(const struct nlattr *nest)
{
	struct nlattr *v[PVLOCK_VM_MAX + 1];

	if (!nest || nla_parse_nested(v, PVLOCK_VM_MAX, (struct nlattr *)nest, NULL) < 0)
		return;
	out_open_object("vm");
	if (v[PVLOCK_VM_ID] && nla_len(v[PVLOCK_VM_ID]) >= 4)
		out_u64("id", " vm=%llu", nla_get_u32(v[PVLOCK_VM_ID]));
	if (v[PVLOCK_VM_NAME])
		out_str("name", "(%s)", nla_get_string(v[PVLOCK_VM_NAME]));
	if (v[PVLOCK_VM_PID] && nla_len(v[PVLOCK_VM_PID]) >= 4)
		out_u64("pid", " pid=%llu", nla_get_u32(v[PVLOCK_VM_PID]));
	if (v[PVLOCK_VM_NR_VCPUS] && nla_len(v[PVLOCK_VM_NR_VCPUS]) >= 4)
		out_u64("vcpus", " vcpus=%llu", nla_get_u32(v[PVLOCK_VM_NR_VCPUS]));
	out_close_object();
}

static int mon_event(struct nlattr **tb, void *arg)
{
	struct mon *m = arg;
	uint64_t t = tb[PVLOCK_A_TIME_NS] ? nla_get_u64(tb[PVLOCK_A_TIME_NS]) : 0;

	out_open_object(NULL);
	if (m->wall)
		mon_wall(m);
	else
		out_text("[%5llu.%06llu] ", (unsigned long long)(t / 1000000000ull),
			 (unsigned long long)(t % 1000000000ull / 1000));
	out_str("family", "%s ", m->cur);
	out_str("event", "%s", PVLOCK_NAME(pvlock_event_names,
					   tb[PVLOCK_A_EVENT] ? nla_get_u32(tb[PVLOCK_A_EVENT]) : 0));
	out_u64("time_ns", NULL, t);
	if (tb[PVLOCK_A_CPU])
		out_u64("cpu", " cpu=%llu", nla_get_u32(tb[PVLOCK_A_CPU]));
	mon_vm(tb[PVLOCK_A_VM]);
	if (tb[PVLOCK_A_HANDSHAKE])
		out_str("handshake", " handshake=\"%s\"",
			PVLOCK_NAME(pvlock_handshake_names, nla_get_u32(tb[PVLOCK_A_HANDSHAKE])));
	if (tb[PVLOCK_A_LIVEPATCH])
		out_str("livepatch", " livepatch=\"%s\"",
			PVLOCK_NAME(pvlock_livepatch_names, nla_get_u32(tb[PVLOCK_A_LIVEPATCH])));
	if (tb[PVLOCK_A_PARAMS]) {
		struct pv_params p;

		nlc_parse_params(tb[PVLOCK_A_PARAMS], p.val, &p.present);
		ctl_print_params(&p, ~0u, CTL_PARAMS_INLINE);
	} else {
		out_text("\n");
	}
	out_close_object();
	out_flush();
	return m->count && ++m->seen >= m->count;
}

static int mon_subscribe(struct mon_fam *f)
{
	int err = nlc_open(&f->c, f->name);

	if (!err) {
		err = nlc_subscribe(&f->c);
		if (err)
			nlc_close(&f->c);
	}
	f->open = !err;
	return err;
}

static int mon_family(const char *family, bool added, void *arg)
{
	struct mon *m = arg;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct mon_fam *f = &m->fam[i];

		if (!f->name || strcmp(family, f->name))
			continue;
		if (added && !f->open)
			mon_subscribe(f);
		if (!added && f->open) {
			nlc_close(&f->c);
			f->open = false;
		}
		out_open_object(NULL);
		mon_wall(m);
		out_str("family", "%s ", family);
		out_str("event", "%s\n", added ? "module-loaded" : "module-unloaded");
		out_close_object();
		out_flush();
		return m->count && ++m->seen >= m->count;
	}
	return 0;
}

int ctl_monitor(int argc, char **argv)
{
	struct mon m = { 0 };
	struct monitor_opts o;
	struct nlc ctrl;
	char err[256];
	uint64_t deadline;
	unsigned int i;
	int rc = 0, opened = 0;

	rc = args_monitor(argc, argv, &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_monitor_cmd, NULL, 0) : ctl_usage_error("%s", err);
	m.count = o.count;
	m.wall = o.wall;
	if (ctl_opts.families & CTL_GUEST)
		m.fam[0].name = PVLOCK_GUEST_GENL_NAME;
	if (ctl_opts.families & CTL_HOST)
		m.fam[1].name = PVLOCK_HOST_GENL_NAME;
	/* the controller first, so that a module loaded meanwhile is not missed */
	rc = nlc_ctrl_open(&ctrl);
	if (rc) {
		ctl_err("monitor: cannot watch the netlink controller: %s",
			strerror(-rc));
		return CTL_EXIT_FAIL;
	}
	for (i = 0; i < 2; i++) {
		if (!m.fam[i].name)
			continue;
		rc = mon_subscribe(&m.fam[i]);
		if (!rc)
			opened++;
		else if (rc != -ENOENT || ctl_opts.families != (CTL_GUEST | CTL_HOST))
			break;
		rc = 0;
	}
	if (rc || !opened) {
		if (rc)
			ctl_family_error(m.fam[i].name, rc);
		else
			ctl_err("neither pvlock_guest nor pvlock_host is loaded "
				"(netlink families not found)");
		rc = CTL_EXIT_FAIL;
		goto out;
	}
	ctl_catch_signals();
	deadline = o.timeout ? util_now_ns() + (uint64_t)(o.timeout * 1e9) : 0;
	while (!ctl_stop && !rc) {
		struct pollfd pfd[3] = { { .fd = nlc_fd(&ctrl), .events = POLLIN } };
		int nfd = 1, timeout = -1, n;
		struct mon_fam *who[3] = { NULL };

		for (i = 0; i < 2; i++) {
			if (!m.fam[i].open)
				continue;
			who[nfd] = &m.fam[i];
			pfd[nfd].fd = nlc_fd(&m.fam[i].c);
			pfd[nfd++].events = POLLIN;
		}
		if (deadline) {
			uint64_t now = util_now_ns();

			if (now >= deadline)
				break;
			timeout = (int)((deadline - now) / 1000000) + 1;
		}
		n = poll(pfd, nfd, timeout);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (i = 1; n > 0 && i < (unsigned int)nfd && !rc; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			m.cur = who[i]->name;
			rc = nlc_events(&who[i]->c, mon_event, &m);
		}
		if (n > 0 && !rc && (pfd[0].revents & POLLIN))
			rc = nlc_ctrl_events(&ctrl, mon_family, &m);
	}
	if (rc < 0)
		ctl_err("monitor: %s", strerror(-rc));
	rc = rc < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
out:
	for (i = 0; i < 2; i++)
		if (m.fam[i].open)
			nlc_close(&m.fam[i].c);
	nlc_close(&ctrl);
	return rc;
}
