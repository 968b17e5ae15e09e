// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl locks: the guest's most contended spinlocks, as pvlock_guest
 * ranks them (slow-path entries), with their symbols and wait times.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"

struct locks_ctx {
	long top, n;
};

/* A duration for people: 3 significant figures and a unit. */
static const char *locks_dur(uint64_t ns, char *buf, size_t len)
{
	static const struct { double div; const char *unit; } u[] = {
		{ 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" },
	};
	size_t i;

	for (i = 0; i < 3 && (double)ns < u[i].div; i++)
		;
	snprintf(buf, len, "%.*f %s", i == 3 ? 0 : 1, (double)ns / u[i].div, u[i].unit);
	return buf;
}

static int locks_cb(struct nlattr **tb, void *arg)
{
	static struct nla_policy pol[PVLOCK_L_MAX + 1] = {
		[PVLOCK_L_ADDR] = { .type = NLA_U64 },
		[PVLOCK_L_SYMBOL] = { .type = NLA_STRING },
		[PVLOCK_L_CONTENDED] = { .type = NLA_U64 },
		[PVLOCK_L_WAIT_NS] = { .type = NLA_U64 },
		[PVLOCK_L_WAIT_MAX_NS] = { .type = NLA_U64 },
	};
	struct locks_ctx *x = arg;
	struct nlattr *l[PVLOCK_L_MAX + 1];
	uint64_t addr, cont, wait, max;
	char addrs[24], b1[24], b2[24], b3[24];

	if (!tb[PVLOCK_A_LOCK] || nla_parse_nested(l, PVLOCK_L_MAX, tb[PVLOCK_A_LOCK], pol) < 0)
		return -EPROTO;
	if (x->top && x->n >= x->top)
		return 0;
	x->n++;
	addr = l[PVLOCK_L_ADDR] ? nla_get_u64(l[PVLOCK_L_ADDR]) : 0;
	cont = l[PVLOCK_L_CONTENDED] ? nla_get_u64(l[PVLOCK_L_CONTENDED]) : 0;
	wait = l[PVLOCK_L_WAIT_NS] ? nla_get_u64(l[PVLOCK_L_WAIT_NS]) : 0;
	max = l[PVLOCK_L_WAIT_MAX_NS] ? nla_get_u64(l[PVLOCK_L_WAIT_MAX_NS]) : 0;
	snprintf(addrs, sizeof(addrs), "0x%llx", (unsigned long long)addr);
	out_open_object(NULL);
	out_str("symbol", "%-36s ", l[PVLOCK_L_SYMBOL] ? nla_get_string(l[PVLOCK_L_SYMBOL]) : "?");
	out_str("addr", "%-18s ", addrs);
	out_u64("contended", "%11llu ", cont);
	out_u64("wait_ns", NULL, wait);
	out_u64("wait_avg_ns", NULL, cont ? wait / cont : 0);
	out_u64("wait_max_ns", NULL, max);
	out_text("%12s %10s %10s\n", locks_dur(wait, b1, sizeof(b1)),
		 locks_dur(cont ? wait / cont : 0, b2, sizeof(b2)), locks_dur(max, b3, sizeof(b3)));
	out_close_object();
	return 0;
}

int ctl_locks(int argc, char **argv)
{
	struct locks_ctx x = { 0 };
	struct locks_opts o;
	struct nl_msg *msg;
	struct nlc c;
	char err[256];
	int rc;

	if (args_locks(argc, argv, &o, err, sizeof(err)))
		return ctl_usage_error("%s", err);
	if (ctl_opts.families == CTL_HOST)
		return ctl_usage_error("%s", "locks: lock statistics are kept in guests: drop -H");
	rc = nlc_open(&c, PVLOCK_GUEST_GENL_NAME);
	if (rc)
		return ctl_family_error(PVLOCK_GUEST_GENL_NAME, rc);
	x.top = o.top;
	msg = nlc_msg(&c, PVLOCK_GUEST_CMD_GET_LOCKS, true);
	out_open_array(NULL);
	out_text("%-36s %-18s %11s %12s %10s %10s\n", "LOCK", "ADDRESS", "CONTENDED", "WAIT TOTAL",
		 "WAIT AVG", "WAIT MAX");
	rc = msg ? nlc_request(&c, msg, locks_cb, &x) : -ENOMEM;
	if (!rc && !x.n)
		out_text("(no contended locks recorded)\n");
	out_close_array();
	if (rc)
		rc = ctl_request_error(&c, "locks", rc);
	nlc_close(&c);
	return rc;
}
