// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink fuzzer for pvlock_guest and pvlock_host, run inside QEMU guests.
 *
 *   pvlock-fuzz guest|host COUNT [SEED]
 *
 * Sends COUNT requests that are each certainly invalid (every generator
 * puts at least one defect in: unknown command, unknown or reply-only
 * attribute, wrong length, truncated or trailing bytes, a bad nest, a
 * value out of range or not settable there, min > max, a missing
 * attribute, an unknown VM or CPU, a dump flag where there is no dump, a
 * huge message) and, when run without CAP_NET_ADMIN, also valid requests
 * that change state (which must be refused with EPERM). Every request must
 * be answered with an error; only malformed netlink headers may go
 * unanswered (the kernel drops those). Afterwards the parameters, global
 * and per VM, must read back exactly as before, and no counter may have
 * gone back (no reset got through). Raw messages go over the socket of the
 * daemon's own client (daemon/nlc.c), which also reads the state.
 *
 * Prints one summary line "PVLOCK-FUZZ ..." and exits 0 only if all held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/genetlink.h>
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#include <linux/netlink.h>

#include <pvlock/names.h>
#include <pvlock/params.h>

#include "nlc.h"
#include "query.h"

#define FZ_BUF		(160 * 1024)

struct fz {
	struct nlc c;
	bool host, priv;
	uint32_t seq;
	unsigned char *msg;		/* message being built */
	size_t len;
	unsigned long sent, errors, ignored, accepted, send_refused, eperm_expected, eperm_got;
	unsigned long by_errno[256];
	unsigned long by_case[32];
	unsigned int nr_fail_shown;
	unsigned int max_cmd;
};

static uint64_t fz_rng;

static uint32_t fz_rand(void)
{
	/* xorshift64*: reproducible from the seed, no libc state */
	fz_rng ^= fz_rng >> 12;
	fz_rng ^= fz_rng << 25;
	fz_rng ^= fz_rng >> 27;
	return (uint32_t)((fz_rng * 2685821657736338717ull) >> 32);
}

static uint32_t fz_below(uint32_t n)
{
	return n ? fz_rand() % n : 0;
}

/* --- message building ------------------------------------------------- */

static void fz_begin(struct fz *f, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)f->msg;
	struct genlmsghdr *g = (struct genlmsghdr *)(f->msg + NLMSG_HDRLEN);

	memset(f->msg, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = f->c.family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++f->seq;
	g->cmd = cmd;
	g->version = PVLOCK_GENL_VERSION;
	f->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

/* Append an attribute with @len payload bytes from @data (random if NULL). */
static size_t fz_attr(struct fz *f, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(f->msg + f->len);
	size_t off = f->len, i;

	if (f->len + NLA_HDRLEN + NLA_ALIGN(len) > FZ_BUF - 64)
		return off;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	for (i = 0; i < len; i++)
		f->msg[f->len + NLA_HDRLEN + i] = data ? ((const unsigned char *)data)[i] :
						 (unsigned char)fz_rand();
	memset(f->msg + f->len + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	f->len += NLA_HDRLEN + NLA_ALIGN(len);
	return off;
}

static void fz_u32(struct fz *f, uint16_t type, uint32_t v)
{
	fz_attr(f, type, &v, 4);
}

static void fz_u8(struct fz *f, uint16_t type, uint8_t v)
{
	fz_attr(f, type, &v, 1);
}

static size_t fz_nest_start(struct fz *f, uint16_t type)
{
	return fz_attr(f, type | NLA_F_NESTED, NULL, 0);
}

static void fz_nest_end(struct fz *f, size_t off)
{
	((struct nlattr *)(f->msg + off))->nla_len = (uint16_t)(f->len - off);
}

/* A value that @s accepts in this family (used around a bad one). */
static void fz_good_param(struct fz *f, const struct pvlock_param_spec *s)
{
	uint32_t lo = s->min, hi = s->max;

	if (s->type == PVLOCK_PT_BOOL)
		fz_u8(f, s->attr, fz_below(2));
	else
		fz_u32(f, s->attr, lo + fz_below(hi - lo + 1));
}

static bool fz_settable(const struct fz *f, const struct pvlock_param_spec *s, bool per_vm)
{
	return pvlock_param_check(f->host ? PVLOCK_PF_HOST : PVLOCK_PF_GUEST, s->attr, s->min,
				  per_vm) != -1;
}

/* --- the generators: each returns true if the kernel may drop the message */

enum fz_case {
	FZ_BAD_CMD, FZ_UNKNOWN_ATTR, FZ_REPLY_ATTR, FZ_BAD_LEN, FZ_FLAG_PAYLOAD, FZ_TRUNCATED,
	FZ_TRAILING, FZ_PARAMS_NOT_NEST, FZ_PARAMS_BAD_VALUE, FZ_PARAMS_NOT_HERE,
	FZ_PARAMS_BAD_LEN, FZ_PARAMS_UNKNOWN, FZ_MIN_GT_MAX, FZ_MISSING, FZ_EMPTY_PARAMS,
	FZ_NO_SUCH_VM, FZ_NO_SUCH_CPU, FZ_WRONG_KIND, FZ_HUGE, FZ_RANDOM, FZ_SHORT_HDR,
	FZ_LONG_NLMSG, FZ_UNPRIV_VALID, FZ_NR
};

static const char *const fz_case_names[FZ_NR] = {
	"bad_cmd", "unknown_attr", "reply_only_attr", "bad_len", "flag_payload", "truncated",
	"trailing", "params_not_nested", "params_bad_value", "params_not_here",
	"params_bad_len", "params_unknown", "min_gt_max", "missing_params", "empty_params",
	"no_such_vm", "no_such_cpu", "wrong_kind", "huge", "random", "short_header",
	"long_nlmsg", "unpriv_valid",
};

static uint8_t fz_any_cmd(const struct fz *f)
{
	return (uint8_t)(1 + fz_below(f->max_cmd));
}

static uint8_t fz_set_cmd(const struct fz *f)
{
	return f->host ? PVLOCK_HOST_CMD_SET_PARAMS : PVLOCK_GUEST_CMD_SET_PARAMS;
}

/* Commands answered by doit (or by dumpit) in this family. */
static bool fz_has_doit(const struct fz *f, uint8_t cmd)
{
	if (f->host)
		return cmd != PVLOCK_HOST_CMD_GET_VMS && cmd != PVLOCK_HOST_CMD_GET_STATS &&
		       cmd != PVLOCK_HOST_CMD_EVENT;
	return cmd != PVLOCK_GUEST_CMD_GET_LOCKS && cmd != PVLOCK_GUEST_CMD_EVENT;
}

static bool fz_has_dump(const struct fz *f, uint8_t cmd)
{
	if (f->host)
		return cmd == PVLOCK_HOST_CMD_GET_VMS || cmd == PVLOCK_HOST_CMD_GET_STATS;
	return cmd == PVLOCK_GUEST_CMD_GET_STATS || cmd == PVLOCK_GUEST_CMD_GET_LOCKS;
}

/* A command with the flags that reach its handler: doit, or dump where only a dump exists. */
static void fz_begin_any(struct fz *f, uint8_t cmd)
{
	fz_begin(f, cmd, !fz_has_doit(f, cmd) && fz_has_dump(f, cmd) ? NLM_F_DUMP : 0);
}

/*
 * Params nest with random good values and then the defect @bad() adds. The
 * defect comes last: netlink's rule is that the last of two same-type
 * attributes wins, so a good value after a bad one of the same parameter
 * would make a valid request.
 */
static void fz_params(struct fz *f, bool per_vm, void (*bad)(struct fz *f, bool per_vm))
{
	size_t nest = fz_nest_start(f, PVLOCK_A_PARAMS);
	uint32_t a;

	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		/* good values would pass the cross checks only by chance: skip min/max/threshold */
		if (s && fz_settable(f, s, per_vm) && fz_below(3) == 0 &&
		    a != PVLOCK_P_SPIN_MIN && a != PVLOCK_P_SPIN_MAX && a != PVLOCK_P_SPIN_THRESHOLD)
			fz_good_param(f, s);
	}
	bad(f, per_vm);
	fz_nest_end(f, nest);
}

static void fz_bad_value(struct fz *f, bool per_vm)
{
	const struct pvlock_param_spec *s;
	uint32_t v;

	/* every parameter's maximum is below UINT32_MAX: there is always a bad value */
	do
		s = pvlock_param_spec(1 + fz_below(PVLOCK_P_MAX));
	while (!s || !fz_settable(f, s, per_vm));
	if (s->type == PVLOCK_PT_BOOL) {
		fz_u8(f, s->attr, (uint8_t)(2 + fz_below(254)));
		return;
	}
	/* above the maximum, or below a minimum the family does not waive */
	if (s->min > 1 && !(f->host && (s->flags & PVLOCK_PF_HOST_ZERO_OK)) && fz_below(2))
		v = 1 + fz_below(s->min - 1);
	else
		v = s->max + 1 + fz_below(UINT32_MAX - s->max);
	fz_u32(f, s->attr, v);
}

static void fz_not_here(struct fz *f, bool per_vm)
{
	const struct pvlock_param_spec *s;

	do
		s = pvlock_param_spec(1 + fz_below(PVLOCK_P_MAX));
	while (!s || fz_settable(f, s, per_vm));
	fz_good_param(f, s);
}

static void fz_param_bad_len(struct fz *f, bool per_vm)
{
	static const size_t lens[] = { 0, 2, 3, 5, 8, 16 };
	const struct pvlock_param_spec *s;
	size_t l;

	(void)per_vm;
	do
		s = pvlock_param_spec(1 + fz_below(PVLOCK_P_MAX));
	while (!s);
	do
		l = lens[fz_below(6)];
	while ((s->type == PVLOCK_PT_BOOL && l == 1) || (s->type == PVLOCK_PT_U32 && l == 4));
	fz_attr(f, s->attr, NULL, l);
}

static void fz_param_unknown(struct fz *f, bool per_vm)
{
	(void)per_vm;
	if (fz_below(2))
		fz_u32(f, PVLOCK_P_UNSPEC, fz_rand());
	else
		fz_u32(f, (uint16_t)(PVLOCK_P_MAX + 1 + fz_below(200)), fz_rand());
}

static void fz_min_gt_max(struct fz *f, bool per_vm)
{
	uint32_t lo = PVLOCK_SPIN_LIMIT_MIN, hi = PVLOCK_SPIN_LIMIT_MAX;
	uint32_t max = lo + fz_below(hi - lo);

	(void)per_vm;
	fz_u32(f, PVLOCK_P_SPIN_MAX, max);
	fz_u32(f, PVLOCK_P_SPIN_MIN, max + 1 + fz_below(hi - max));
}

/* Top-level attributes that a request may not carry. */
static const uint16_t fz_reply_attrs[] = {
	PVLOCK_A_PAD, PVLOCK_A_VERSION, PVLOCK_A_ABI, PVLOCK_A_KERNEL, PVLOCK_A_FEATURES,
	PVLOCK_A_HANDSHAKE, PVLOCK_A_HOST_ABI, PVLOCK_A_HOST_FEATURES, PVLOCK_A_LIVEPATCH,
	PVLOCK_A_HOOKS, PVLOCK_A_NR_CPUS, PVLOCK_A_NR_VMS, PVLOCK_A_NR_REGISTERED,
	PVLOCK_A_OVERCOMMIT, PVLOCK_A_VM, PVLOCK_A_STATS, PVLOCK_A_HIST, PVLOCK_A_LOCK,
	PVLOCK_A_EVENT, PVLOCK_A_TIME_NS, PVLOCK_A_UNSPEC,
};

static uint32_t fz_no_vm;	/* an id no VM has */

static bool fz_build(struct fz *f, enum fz_case k)
{
	static const size_t bad_u32[] = { 0, 1, 2, 3, 5, 8 };
	uint8_t cmd = fz_any_cmd(f);
	size_t off;

	switch (k) {
	case FZ_BAD_CMD: {
		uint8_t c = fz_below(3) ? (uint8_t)(f->max_cmd + 1 + fz_below(255 - f->max_cmd)) : 0;

		/* EVENT has no handler either: a multicast-only command */
		if (!c && fz_below(2))
			c = f->host ? PVLOCK_HOST_CMD_EVENT : PVLOCK_GUEST_CMD_EVENT;
		fz_begin(f, c, fz_below(2) ? NLM_F_DUMP : 0);
		if (fz_below(2))
			fz_attr(f, (uint16_t)fz_below(PVLOCK_A_MAX + 1), NULL, fz_below(12));
		return false;
	}
	case FZ_UNKNOWN_ATTR:
		fz_begin_any(f, cmd);
		fz_attr(f, (uint16_t)(PVLOCK_A_MAX + 1 + fz_below(0x3fff - PVLOCK_A_MAX)), NULL,
			fz_below(16));
		return false;
	case FZ_REPLY_ATTR: {
		uint16_t t = fz_reply_attrs[fz_below(sizeof(fz_reply_attrs) / sizeof(fz_reply_attrs[0]))];

		fz_begin_any(f, cmd);
		fz_attr(f, t, NULL, 4 * fz_below(4));
		return false;
	}
	case FZ_BAD_LEN:
		fz_begin_any(f, cmd);
		fz_attr(f, fz_below(2) ? PVLOCK_A_VM_ID : PVLOCK_A_CPU, NULL, bad_u32[fz_below(6)]);
		return false;
	case FZ_FLAG_PAYLOAD:
		fz_begin_any(f, cmd);
		fz_attr(f, PVLOCK_A_PER_VCPU, NULL, 1 + fz_below(8));
		return false;
	case FZ_TRUNCATED: {
		/* an attribute header claiming more than the message holds */
		struct nlattr *a;

		fz_begin_any(f, cmd);
		off = fz_attr(f, PVLOCK_A_CPU, NULL, 4);
		a = (struct nlattr *)(f->msg + off);
		a->nla_len = (uint16_t)(8 + 4 + fz_below(64));
		return false;
	}
	case FZ_TRAILING:
		/* 1..3 bytes after the last attribute: too short for a header */
		fz_begin_any(f, cmd);
		if (fz_below(2))
			fz_u32(f, PVLOCK_A_CPU, 0);
		f->len += 1 + fz_below(3);
		return false;
	case FZ_PARAMS_NOT_NEST: {
		/* a params "nest" whose content ends in a torn attribute header */
		unsigned char junk[64];
		size_t n = 1 + fz_below(3), i;

		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)fz_rand();
		fz_begin(f, fz_below(2) ? fz_set_cmd(f) : cmd, 0);
		off = fz_nest_start(f, PVLOCK_A_PARAMS);
		if (fz_below(2))
			fz_u32(f, PVLOCK_P_MODE, 0);
		memcpy(f->msg + f->len, junk, n);
		f->len += n;
		fz_nest_end(f, off);
		f->len = NLA_ALIGN(f->len);
		return false;
	}
	case FZ_PARAMS_BAD_VALUE:
	case FZ_PARAMS_NOT_HERE:
	case FZ_PARAMS_BAD_LEN:
	case FZ_PARAMS_UNKNOWN:
	case FZ_MIN_GT_MAX: {
		void (*bad)(struct fz *, bool) = k == FZ_PARAMS_BAD_VALUE ? fz_bad_value :
						 k == FZ_PARAMS_NOT_HERE ? fz_not_here :
						 k == FZ_PARAMS_BAD_LEN ? fz_param_bad_len :
						 k == FZ_PARAMS_UNKNOWN ? fz_param_unknown : fz_min_gt_max;
		bool per_vm = f->host && fz_below(2);

		/*
		 * Any command validates the nest against the policy (types, lengths,
		 * maxima); only SET_PARAMS checks minima, who may set what and
		 * min <= max. So those defects go to SET_PARAMS only.
		 */
		if (k == FZ_PARAMS_BAD_LEN || k == FZ_PARAMS_UNKNOWN)
			cmd = fz_below(4) ? fz_set_cmd(f) : cmd;
		else
			cmd = fz_set_cmd(f);
		fz_begin(f, cmd, 0);
		if (per_vm)	/* no VM has this id: either error will do */
			fz_u32(f, PVLOCK_A_VM_ID, fz_no_vm);
		fz_params(f, per_vm, bad);
		return false;
	}
	case FZ_MISSING:
		fz_begin(f, fz_set_cmd(f), 0);
		if (fz_below(2))
			fz_u32(f, PVLOCK_A_CPU, 0);
		return false;
	case FZ_EMPTY_PARAMS:
		fz_begin(f, fz_set_cmd(f), 0);
		fz_nest_end(f, fz_nest_start(f, PVLOCK_A_PARAMS));
		return false;
	case FZ_NO_SUCH_VM:
		if (!f->host) {
			/* the guest has no VMs: ask for a CPU it does not have */
			fz_begin(f, PVLOCK_GUEST_CMD_GET_STATS, 0);
			fz_u32(f, PVLOCK_A_CPU, 8192 + fz_below(1u << 30));
			return false;
		}
		cmd = (uint8_t[]){ PVLOCK_HOST_CMD_GET_PARAMS, PVLOCK_HOST_CMD_SET_PARAMS,
				   PVLOCK_HOST_CMD_RESET_STATS }[fz_below(3)];
		fz_begin(f, cmd, 0);
		fz_u32(f, PVLOCK_A_VM_ID, fz_no_vm);
		if (cmd == PVLOCK_HOST_CMD_SET_PARAMS) {
			off = fz_nest_start(f, PVLOCK_A_PARAMS);
			fz_u32(f, PVLOCK_P_BUDGET, fz_below(1000));
			fz_nest_end(f, off);
		}
		return false;
	case FZ_NO_SUCH_CPU:
		fz_begin(f, f->host ? PVLOCK_HOST_CMD_GET_PARAMS : PVLOCK_GUEST_CMD_GET_STATS, 0);
		fz_u32(f, f->host ? PVLOCK_A_VM_ID : PVLOCK_A_CPU,
		       f->host ? fz_no_vm : 8192 + fz_below(1u << 30));
		return false;
	case FZ_WRONG_KIND:
		/* a dump of a doit-only command, or a doit of a dump-only one */
		do
			cmd = fz_any_cmd(f);
		while (fz_has_doit(f, cmd) == fz_has_dump(f, cmd) ||
		       (f->host ? cmd == PVLOCK_HOST_CMD_EVENT : cmd == PVLOCK_GUEST_CMD_EVENT));
		fz_begin(f, cmd, fz_has_doit(f, cmd) ? NLM_F_DUMP : 0);
		return false;
	case FZ_HUGE: {
		/* thousands of attributes, or one of ~60 kB, and a defect at the end */
		unsigned int i, n = 1000 + fz_below(6000);	/* a nest holds < 64 kB */

		fz_begin(f, fz_below(2) ? fz_set_cmd(f) : cmd, 0);
		if (fz_below(2)) {
			off = fz_nest_start(f, PVLOCK_A_PARAMS);
			for (i = 0; i < n; i++)
				fz_u32(f, PVLOCK_P_BUDGET, fz_below(1000));
			fz_u32(f, (uint16_t)(PVLOCK_P_MAX + 1), 0);
			fz_nest_end(f, off);
		} else {
			fz_attr(f, (uint16_t)(PVLOCK_A_MAX + 1 + fz_below(100)), NULL,
				60000 + fz_below(5000));
		}
		return false;
	}
	case FZ_RANDOM: {
		unsigned int i, n = fz_below(6);

		fz_begin(f, cmd, fz_below(4) ? 0 : NLM_F_DUMP);
		for (i = 0; i < n; i++)
			fz_attr(f, (uint16_t)fz_below(PVLOCK_A_MAX + 1), NULL, fz_below(24));
		/* the defect that makes it certainly invalid, anywhere up to the end */
		fz_attr(f, (uint16_t)(PVLOCK_A_MAX + 1 + fz_below(1000)), NULL, fz_below(8));
		return false;
	}
	case FZ_SHORT_HDR:
		/* a netlink message too short for the generic netlink header */
		fz_begin(f, cmd, 0);
		f->len = NLMSG_HDRLEN + fz_below(GENL_HDRLEN);
		return false;
	case FZ_LONG_NLMSG:
		/* nlmsg_len beyond the datagram: the kernel drops it unanswered */
		fz_begin(f, cmd, 0);
		((struct nlmsghdr *)f->msg)->nlmsg_len = (uint32_t)(f->len + 4 + fz_below(1000));
		return true;
	case FZ_UNPRIV_VALID:
		/* valid state changes: only for a caller without CAP_NET_ADMIN */
		if (fz_below(2)) {
			fz_begin(f, fz_set_cmd(f), 0);
			off = fz_nest_start(f, PVLOCK_A_PARAMS);
			if (f->host)
				fz_u32(f, PVLOCK_P_BUDGET, fz_below(1000));
			else
				fz_u8(f, PVLOCK_P_YIELD, fz_below(2));
			fz_nest_end(f, off);
		} else {
			fz_begin(f, f->host ? PVLOCK_HOST_CMD_RESET_STATS :
					      PVLOCK_GUEST_CMD_RESET_STATS, 0);
		}
		return false;
	default:
		return false;
	}
}

/* --- sending and reading the answer ---------------------------------------- */

static unsigned char fz_rx[64 * 1024];

/*
 * Read until the message with @seq is answered (NLMSG_ERROR or DONE) or,
 * with @probe, until the probe's ack shows that it was dropped.
 * 1 = error answer (*err set), 0 = accepted, -1 = no answer.
 */
static int fz_answer(struct fz *f, uint32_t seq, uint32_t probe, int *err)
{
	for (;;) {
		ssize_t n = recv(nlc_fd(&f->c), fz_rx, sizeof(fz_rx), 0);
		struct nlmsghdr *h;
		int accepted = 0;

		if (n < 0)
			return errno == EAGAIN ? -2 : -1;
		for (h = (struct nlmsghdr *)fz_rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (probe && h->nlmsg_seq == probe && h->nlmsg_type == NLMSG_ERROR)
				return accepted ? 0 : -1;
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error) {
					*err = e->error;
					return 1;
				}
				return 0;	/* an ack: it was accepted */
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			accepted = 1;		/* a reply: accepted, its ack follows */
		}
	}
}

/* Read what is left (probe replies) so that libnl's sequence checks start clean. */
static void fz_drain(struct fz *f)
{
	while (recv(nlc_fd(&f->c), fz_rx, sizeof(fz_rx), MSG_DONTWAIT) > 0)
		;
}

static void fz_show(struct fz *f, const char *what, enum fz_case k)
{
	size_t i;

	if (f->nr_fail_shown++ >= 8)
		return;
	fprintf(stderr, "pvlock-fuzz: %s: case %s, %zu bytes:", what, fz_case_names[k], f->len);
	for (i = 0; i < f->len && i < 64; i++)
		fprintf(stderr, " %02x", f->msg[i]);
	fprintf(stderr, "%s\n", f->len > 64 ? " ..." : "");
}

static bool fz_one(struct fz *f, enum fz_case k)
{
	bool may_drop = fz_build(f, k);
	uint32_t seq = f->seq, probe = 0;
	int err = 0, rc;

	if (k != FZ_LONG_NLMSG)
		((struct nlmsghdr *)f->msg)->nlmsg_len = (uint32_t)f->len;
	f->sent++;
	f->by_case[k]++;
	if (send(nlc_fd(&f->c), f->msg, f->len, 0) < 0) {
		/* refused before the kernel parsed it (too big for the socket) */
		f->send_refused++;
		return true;
	}
	if (may_drop || f->len < NLMSG_HDRLEN + GENL_HDRLEN) {
		/* a probe after it: its ack proves the kernel moved past ours */
		fz_begin(f, f->host ? PVLOCK_HOST_CMD_GET_STATUS : PVLOCK_GUEST_CMD_GET_STATUS, 0);
		((struct nlmsghdr *)f->msg)->nlmsg_len = (uint32_t)f->len;
		probe = f->seq;
		if (send(nlc_fd(&f->c), f->msg, f->len, 0) < 0)
			return false;
	}
	rc = fz_answer(f, seq, probe, &err);
	if (rc == 1) {
		f->errors++;
		f->by_errno[-err < 256 ? -err : 255]++;
		if (k == FZ_UNPRIV_VALID) {
			f->eperm_expected++;
			if (err == -EPERM)
				f->eperm_got++;
			else
				fz_show(f, "valid change without CAP_NET_ADMIN refused, but not with EPERM", k);
			return err == -EPERM;
		}
		return true;
	}
	if (rc == -1 && probe) {
		f->ignored++;
		return true;
	}
	if (rc == -2) {
		fz_show(f, "no answer within 2 s", k);
		return false;
	}
	if (rc == -1) {
		fprintf(stderr, "pvlock-fuzz: receiving: %s\n", strerror(errno));
		return false;
	}
	f->accepted++;
	fz_show(f, "ACCEPTED an invalid request", k);
	return false;
}

/* --- state before and after --------------------------------------------------- */

struct fz_state {
	struct pv_params global;
	struct pv_vms vms;
	struct pv_params vm_params[256];
	uint64_t guest[__PVLOCK_GS_LAST];
};

static int fz_guest_stats_cb(struct nlattr **tb, void *arg)
{
	nlc_parse_counters(tb[PVLOCK_A_STATS], arg, __PVLOCK_GS_LAST);
	return 0;
}

static int fz_read_state(struct fz *f, struct fz_state *s)
{
	size_t i;
	int err;

	memset(s, 0, sizeof(*s));
	err = pv_get_params(&f->c, PV_NO_VM, &s->global);
	if (err)
		return err;
	if (!f->host)
		return nlc_request(&f->c, nlc_msg(&f->c, PVLOCK_GUEST_CMD_GET_STATS, false),
				   fz_guest_stats_cb, s->guest);
	err = pv_get_vms(&f->c, &s->vms);
	if (err == -EPERM && !f->priv)
		err = 0;	/* the VM list needs CAP_NET_ADMIN: global parameters only */
	for (i = 0; !err && i < s->vms.n && i < 256; i++)
		err = pv_get_params(&f->c, s->vms.vm[i].id, &s->vm_params[i]);
	return err;
}

static bool fz_same_params(const char *who, const struct pv_params *a, const struct pv_params *b)
{
	uint32_t p;
	bool same = a->present == b->present;

	for (p = 1; p <= PVLOCK_P_MAX; p++) {
		if (!(a->present & (1u << p)) || a->val[p] == b->val[p])
			continue;
		fprintf(stderr, "pvlock-fuzz: %s: %s changed: %u -> %u\n", who,
			pvlock_param_spec(p)->name, a->val[p], b->val[p]);
		same = false;
	}
	return same;
}

/* Parameters as before; counters not behind (a reset would zero them). */
static bool fz_compare(struct fz *f, const struct fz_state *a, const struct fz_state *b,
		       unsigned int *checked_counters)
{
	bool ok = fz_same_params("global", &a->global, &b->global);
	size_t i, j;
	unsigned int k;

	*checked_counters = 0;
	if (!f->host) {
		for (k = 1; k < __PVLOCK_GS_LAST; k++) {
			if (k == PVLOCK_GS_THRESHOLD)
				continue;	/* a level that moves both ways */
			*checked_counters += a->guest[k] > 0;
			if (b->guest[k] < a->guest[k]) {
				fprintf(stderr, "pvlock-fuzz: counter %s went back: %llu -> %llu\n",
					pvlock_guest_stat_names[k], (unsigned long long)a->guest[k],
					(unsigned long long)b->guest[k]);
				ok = false;
			}
		}
		return ok;
	}
	for (i = 0; i < a->vms.n && i < 256; i++) {
		for (j = 0; j < b->vms.n; j++)
			if (b->vms.vm[j].id == a->vms.vm[i].id)
				break;
		if (j == b->vms.n)
			continue;	/* the VM exited meanwhile */
		ok &= fz_same_params(a->vms.vm[i].name, &a->vm_params[i], &b->vm_params[j]);
		for (k = 1; k < __PVLOCK_HS_LAST; k++) {
			*checked_counters += a->vms.vm[i].stats[k] > 0;
			if (b->vms.vm[j].stats[k] < a->vms.vm[i].stats[k]) {
				fprintf(stderr, "pvlock-fuzz: vm %s: counter %s went back\n",
					a->vms.vm[i].name, pvlock_host_stat_names[k]);
				ok = false;
			}
		}
	}
	return ok;
}

static bool fz_privileged(void)
{
	char line[256];
	bool priv = false;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7))
			priv = (strtoull(line + 7, NULL, 16) >> 12) & 1;	/* CAP_NET_ADMIN */
	if (f)
		fclose(f);
	return priv;
}

int main(int argc, char **argv)
{
	static struct fz f;
	static struct fz_state before, after;
	struct timeval tv = { 2, 0 };
	unsigned long count, i;
	unsigned int checked, k;
	int bufsz = 1 << 20, one = 1, err;
	bool params_ok = true;
	bool ok = true;

	if (argc < 3 || (strcmp(argv[1], "guest") && strcmp(argv[1], "host"))) {
		fprintf(stderr, "usage: pvlock-fuzz guest|host COUNT [SEED]\n");
		return 2;
	}
	f.host = !strcmp(argv[1], "host");
	count = strtoul(argv[2], NULL, 10);
	fz_rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x50564c4full;
	if (!fz_rng)
		fz_rng = 1;
	f.priv = fz_privileged();
	f.max_cmd = f.host ? PVLOCK_HOST_CMD_MAX : PVLOCK_GUEST_CMD_MAX;
	f.msg = calloc(1, FZ_BUF);
	err = nlc_open(&f.c, f.host ? PVLOCK_HOST_GENL_NAME : PVLOCK_GUEST_GENL_NAME);
	if (err || !f.msg) {
		fprintf(stderr, "pvlock-fuzz: %s: %s\n", argv[1], strerror(err ? -err : ENOMEM));
		return 1;
	}
	setsockopt(nlc_fd(&f.c), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(nlc_fd(&f.c), SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(nlc_fd(&f.c), SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	/* errors must not echo our 64 kB requests back: they would overrun the socket */
	setsockopt(nlc_fd(&f.c), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	err = fz_read_state(&f, &before);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: reading the state: %s\n", strerror(-err));
		return 1;
	}
	fz_no_vm = 0x7fff0000u;
	for (i = 0; i < before.vms.n; i++)
		if (before.vms.vm[i].id >= fz_no_vm)
			fz_no_vm = before.vms.vm[i].id + 1;
	/* raw I/O from here: libnl's sequence numbers are not used on this socket */
	f.seq = 0x40000000u;
	for (i = 0; i < count; i++) {
		enum fz_case k = (enum fz_case)fz_below(FZ_NR - (f.priv ? 1 : 0));

		if (!fz_one(&f, k))
			ok = false;
	}
	fz_drain(&f);
	err = fz_read_state(&f, &after);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: reading the state afterwards: %s\n", strerror(-err));
		ok = false;
	} else if (!fz_compare(&f, &before, &after, &checked)) {
		params_ok = false;
		ok = false;
	}
	printf("PVLOCK-FUZZ family=%s %s sent=%lu errors=%lu dropped=%lu refused_at_send=%lu "
	       "accepted=%lu eperm=%lu/%lu params=%s counters_checked=%u errnos=",
	       f.c.family, f.priv ? "privileged" : "unprivileged", f.sent, f.errors, f.ignored,
	       f.send_refused, f.accepted, f.eperm_got, f.eperm_expected,
	       err ? "unread" : params_ok ? "unchanged" : "CHANGED", err ? 0 : checked);
	for (k = 1, checked = 0; k < 256; k++)
		if (f.by_errno[k])
			printf("%s%u:%lu", checked++ ? "," : "", k, f.by_errno[k]);
	printf(" result=%s\n", ok ? "ok" : "FAIL");
	nlc_close(&f.c);
	return ok ? 0 : 1;
}
