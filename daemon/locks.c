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

const struct tab_col locks_cols[LOCKS_NCOLS] = {
	[LK_SYMBOL] = { "symbol", "LOCK", TAB_STR, 0, "the lock's symbol, or ? for one without" },
	[LK_ADDR] = { "addr", "ADDRESS", TAB_STR, 0, "the lock's address" },
	[LK_CONTENDED] = { "contended", "CONTENDED", TAB_U64, TAB_RIGHT, "slow-path entries" },
	[LK_WAIT] = { "wait_ns", "WAIT TOTAL", TAB_U64, TAB_RIGHT, "time spent waiting" },
	[LK_WAIT_AVG] = { "wait_avg_ns", "WAIT AVG", TAB_U64, TAB_RIGHT, "per entry" },
	[LK_WAIT_MAX] = { "wait_max_ns", "WAIT MAX", TAB_U64, TAB_RIGHT, "the longest wait" },
};

struct locks_ctx {
	struct tab *t;
	long top, n;
};

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
	char addrs[24], b[24];

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
	tab_row(x->t);
	tab_str(x->t, LK_SYMBOL, l[PVLOCK_L_SYMBOL] ? nla_get_string(l[PVLOCK_L_SYMBOL]) : "?");
	tab_str(x->t, LK_ADDR, addrs);
	tab_u64(x->t, LK_CONTENDED, cont, NULL);
	tab_u64(x->t, LK_WAIT, wait, tab_dur((double)wait, b, sizeof(b)));
	tab_u64(x->t, LK_WAIT_AVG, cont ? wait / cont : 0,
		tab_dur(cont ? (double)wait / (double)cont : 0, b, sizeof(b)));
	tab_u64(x->t, LK_WAIT_MAX, max, tab_dur((double)max, b, sizeof(b)));
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

	rc = args_locks(argc, argv, &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_locks_cmd, locks_cols, LOCKS_NCOLS) :
				ctl_usage_error("%s", err);
	if (ctl_opts.families == CTL_HOST)
		return ctl_usage_error("locks: lock statistics are kept in guests: drop -H");
	x.t = ctl_tab(locks_cols, LOCKS_NCOLS);
	if (!x.t)
		return CTL_EXIT_USAGE;
	rc = nlc_open(&c, PVLOCK_GUEST_GENL_NAME);
	if (rc) {
		tab_free(x.t);
		return ctl_family_error(PVLOCK_GUEST_GENL_NAME, rc);
	}
	x.top = o.top;
	msg = nlc_msg(&c, PVLOCK_GUEST_CMD_GET_LOCKS, true);
	tab_begin(x.t, NULL);
	rc = msg ? nlc_request(&c, msg, locks_cb, &x) : -ENOMEM;
	tab_end(x.t);
	if (!rc && !x.n)
		out_text("(no contended locks recorded)\n");
	if (rc)
		rc = ctl_request_error(&c, "locks", rc);
	nlc_close(&c);
	tab_free(x.t);
	return rc;
}
