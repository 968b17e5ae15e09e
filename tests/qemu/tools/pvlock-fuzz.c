// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink fuzzer for pvlock_guest and pvlock_host, run inside QEMU guests.
 *
 *   pvlock-fuzz guest|host COUNT [SEED]
 *   pvlock-fuzz guest|host race SECONDS [until-no-vm]
 *
 * COUNT mode, in this order:
 *
 *   1. COUNT requests that are each certainly invalid (every generator
 *      puts at least one defect in: unknown command, unknown or reply-only
 *      attribute, wrong length, truncated or trailing bytes, a bad nest, a
 *      value out of range or not settable there, min > max, a missing
 *      attribute, an unknown VM or CPU, a dump flag where there is no dump,
 *      a huge message) and, without CAP_NET_ADMIN, also valid requests
 *      that change state. Each must get the answer its class gets from
 *      genetlink's order of checks (command, permission, kind, policy) and
 *      the family's handler (fz_gate, fz_build): one errno, or a small set
 *      where the first of several defects decides; only a netlink header
 *      longer than the datagram goes unanswered (the kernel drops it). A
 *      message refused at send fails. A per-VM defect names a real VM when
 *      there is one, so that the family's per-VM checks are reached. A
 *      subscriber to the family's "events" group must see no parameter
 *      change meanwhile.
 *   2. As root: every settable parameter, globally and for each VM (a VM's
 *      pinned values excepted), set to another valid value, read back, set
 *      back and read back; the
 *      subscriber sees one event per change; a second subscriber with a
 *      tiny receive buffer, not read meanwhile, overflows and then receives
 *      again.
 *   3. Dumps (host: VMs, per-vCPU stats; guest: per-CPU stats, locks) read
 *      whole and again through a tiny buffer, which makes the kernel
 *      resume them part by part: the same rows, each once; then 100 dumps
 *      abandoned after their first part; the family still answers.
 *   4. The parameters, global and per VM, read back exactly as before
 *      step 1, and no counter went back (no reset got through).
 *
 * race mode: four processes for SECONDS (or, with until-no-vm, until no VM
 * is left) setting one parameter (the budget on a host, the threshold in a
 * guest) to one of two values, globally and per VM, and reading it back,
 * while the test unloads the module or VMs exit: every answer is a success
 * or ENOENT (the VM or the family gone), and every value read is one that
 * was set. Then the values as they were, if the family is still there.
 *
 * Raw messages go over the socket of the daemon's own client (daemon/nlc.c),
 * which also reads and sets the state; subscribers and dumps use their own
 * sockets (rawnl.h). Prints one summary line "PVLOCK-FUZZ ..." (or
 * "PVLOCK-FUZZ-RACE ...") and exits 0 only if all held.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#include <linux/netlink.h>

#include <pvlock/names.h>
#include <pvlock/params.h>

#include "nlc.h"
#include "query.h"
#include "rawnl.h"

#define FZ_BUF		(160 * 1024)
#define FZ_MAX_VMS	64

/* The answers a request may get. */
#define W_EINVAL	(1u << 0)
#define W_ERANGE	(1u << 1)
#define W_EOPNOTSUPP	(1u << 2)
#define W_ENOENT	(1u << 3)
#define W_EPERM		(1u << 4)
#define W_DROP		(1u << 5)	/* no answer: the kernel drops it */

struct fz {
	struct nlc c;
	bool host, priv;
	uint32_t seq;
	unsigned char *msg;		/* message being built */
	size_t len;
	bool bad_policy;		/* the defect fails the policy, not the handler */
	uint32_t vm_ids[FZ_MAX_VMS];	/* the VMs there are */
	unsigned int nr_vms;
	unsigned long sent, errors, ignored, accepted, send_refused, eperm_expected, eperm_got;
	unsigned long wrong_errno, real_vm_sent;
	unsigned long by_errno[256];
	unsigned long by_case[32], wrong_by_case[32];
	unsigned int nr_fail_shown;
	unsigned int max_cmd;
};

static unsigned int fz_errbit(int err)
{
	switch (err) {
	case -EINVAL: return W_EINVAL;
	case -ERANGE: return W_ERANGE;
	case -EOPNOTSUPP: return W_EOPNOTSUPP;
	case -ENOENT: return W_ENOENT;
	case -EPERM: return W_EPERM;
	default: return 0;
	}
}

static const char *fz_want_str(unsigned int w)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s", w & W_EINVAL ? " EINVAL" : "",
		 w & W_ERANGE ? " ERANGE" : "", w & W_EOPNOTSUPP ? " EOPNOTSUPP" : "",
		 w & W_ENOENT ? " ENOENT" : "", w & W_EPERM ? " EPERM" : "",
		 w & W_DROP ? " dropped" : "");
	return buf;
}

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
		f->bad_policy = true;
		return;
	}
	/* above the maximum (the policy's), or below a minimum the family does
	 * not waive (the handler's) */
	if (s->min > 1 && !(f->host && (s->flags & PVLOCK_PF_HOST_ZERO_OK)) && fz_below(2)) {
		v = 1 + fz_below(s->min - 1);
	} else {
		v = s->max + 1 + fz_below(UINT32_MAX - s->max);
		f->bad_policy = true;
	}
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

/*
 * The VM a per-VM defect names: a real one (3 times in 4, when there is
 * one), so that the family's per-VM checks are reached; else one that does
 * not exist, which the family refuses first (ENOENT). *@real says which.
 */
static uint32_t fz_vm(const struct fz *f, bool *real)
{
	*real = f->nr_vms && fz_below(4);
	return *real ? f->vm_ids[fz_below(f->nr_vms)] : fz_no_vm;
}

/*
 * Build one request of class @k; return the answers it may get (W_*) once
 * genetlink let it through (fz_gate decides before that, *@gated false
 * where it does not apply).
 */
static unsigned int fz_build(struct fz *f, enum fz_case k, bool *gated)
{
	static const size_t bad_u32[] = { 0, 1, 2, 3, 5, 8 };
	uint8_t cmd = fz_any_cmd(f);
	size_t off;

	*gated = true;

	switch (k) {
	case FZ_BAD_CMD: {
		uint8_t c = fz_below(3) ? (uint8_t)(f->max_cmd + 1 + fz_below(255 - f->max_cmd)) : 0;

		/* EVENT has no handler either: a multicast-only command */
		if (!c && fz_below(2))
			c = f->host ? PVLOCK_HOST_CMD_EVENT : PVLOCK_GUEST_CMD_EVENT;
		fz_begin(f, c, fz_below(2) ? NLM_F_DUMP : 0);
		if (fz_below(2))
			fz_attr(f, (uint16_t)fz_below(PVLOCK_A_MAX + 1), NULL, fz_below(12));
		return W_EOPNOTSUPP;	/* no such command: the gate answers */
	}
	case FZ_UNKNOWN_ATTR:
		fz_begin_any(f, cmd);
		fz_attr(f, (uint16_t)(PVLOCK_A_MAX + 1 + fz_below(0x3fff - PVLOCK_A_MAX)), NULL,
			fz_below(16));
		return W_EINVAL;	/* "Unknown attribute type" */
	case FZ_REPLY_ATTR: {
		uint16_t t = fz_reply_attrs[fz_below(sizeof(fz_reply_attrs) / sizeof(fz_reply_attrs[0]))];

		fz_begin_any(f, cmd);
		fz_attr(f, t, NULL, 4 * fz_below(4));
		return W_EINVAL;	/* type 0, or no policy entry: "Unsupported attribute" */
	}
	case FZ_BAD_LEN:
		fz_begin_any(f, cmd);
		fz_attr(f, fz_below(2) ? PVLOCK_A_VM_ID : PVLOCK_A_CPU, NULL, bad_u32[fz_below(6)]);
		return W_EINVAL;	/* strict: a u32 is exactly 4 bytes */
	case FZ_FLAG_PAYLOAD:
		fz_begin_any(f, cmd);
		fz_attr(f, PVLOCK_A_PER_VCPU, NULL, 1 + fz_below(8));
		return W_ERANGE;	/* a flag with a payload fails the policy */
	case FZ_TRUNCATED: {
		/* an attribute header claiming more than the message holds */
		struct nlattr *a;

		fz_begin_any(f, cmd);
		off = fz_attr(f, PVLOCK_A_CPU, NULL, 4);
		a = (struct nlattr *)(f->msg + off);
		a->nla_len = (uint16_t)(8 + 4 + fz_below(64));
		return W_EINVAL;	/* bytes left over that hold no attribute */
	}
	case FZ_TRAILING:
		/* 1..3 bytes after the last attribute: too short for a header */
		fz_begin_any(f, cmd);
		if (fz_below(2))
			fz_u32(f, PVLOCK_A_CPU, 0);
		f->len += 1 + fz_below(3);
		return W_EINVAL;	/* bytes left over */
	case FZ_PARAMS_NOT_NEST: {
		/* a params "nest" whose content ends in a torn attribute header */
		unsigned char junk[64];
		size_t n = 1 + fz_below(3), i;

		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)fz_rand();
		bool mode = fz_below(2);

		fz_begin(f, fz_below(2) ? fz_set_cmd(f) : cmd, 0);
		off = fz_nest_start(f, PVLOCK_A_PARAMS);
		if (mode)
			fz_u32(f, PVLOCK_P_MODE, 0);
		memcpy(f->msg + f->len, junk, n);
		f->len += n;
		fz_nest_end(f, off);
		f->len = NLA_ALIGN(f->len);
		/* bytes left over in the nest; alone, a nest too short for a header */
		return mode ? W_EINVAL : W_ERANGE;
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
		bool per_vm = f->host && fz_below(2), real = false;
		uint32_t vm = per_vm ? fz_vm(f, &real) : 0;
		unsigned int want;

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
		if (per_vm)
			fz_u32(f, PVLOCK_A_VM_ID, vm);
		f->bad_policy = false;
		fz_params(f, per_vm, bad);
		/*
		 * The policy (types, lengths, maxima) is checked for every
		 * command before its handler runs; what only SET_PARAMS checks
		 * (minima, who sets what, min <= max) comes after the VM lookup.
		 */
		if (k == FZ_PARAMS_BAD_LEN || k == FZ_PARAMS_UNKNOWN)
			want = W_EINVAL;
		else if (k == FZ_PARAMS_BAD_VALUE && f->bad_policy)
			want = W_ERANGE;
		else if (per_vm && !real)
			want = W_ENOENT;
		else
			want = k == FZ_PARAMS_BAD_VALUE ? W_ERANGE :
			       k == FZ_PARAMS_NOT_HERE ? W_EOPNOTSUPP : W_EINVAL;
		if (real)
			f->real_vm_sent++;
		return want;
	}
	case FZ_MISSING:
		fz_begin(f, fz_set_cmd(f), 0);
		if (fz_below(2))
			fz_u32(f, PVLOCK_A_CPU, 0);
		return W_EINVAL;	/* "PVLOCK_A_PARAMS missing" */
	case FZ_EMPTY_PARAMS:
		fz_begin(f, fz_set_cmd(f), 0);
		fz_nest_end(f, fz_nest_start(f, PVLOCK_A_PARAMS));
		return W_EINVAL;	/* "no parameter given" */
	case FZ_NO_SUCH_VM:
		if (!f->host) {
			/* the guest has no VMs: ask for a CPU it does not have */
			fz_begin(f, PVLOCK_GUEST_CMD_GET_STATS, 0);
			fz_u32(f, PVLOCK_A_CPU, 8192 + fz_below(1u << 30));
			return W_ENOENT;
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
		return W_ENOENT;
	case FZ_NO_SUCH_CPU:
		fz_begin(f, f->host ? PVLOCK_HOST_CMD_GET_PARAMS : PVLOCK_GUEST_CMD_GET_STATS, 0);
		fz_u32(f, f->host ? PVLOCK_A_VM_ID : PVLOCK_A_CPU,
		       f->host ? fz_no_vm : 8192 + fz_below(1u << 30));
		return W_ENOENT;
	case FZ_WRONG_KIND:
		/* a dump of a doit-only command, or a doit of a dump-only one */
		do
			cmd = fz_any_cmd(f);
		while (fz_has_doit(f, cmd) == fz_has_dump(f, cmd) ||
		       (f->host ? cmd == PVLOCK_HOST_CMD_EVENT : cmd == PVLOCK_GUEST_CMD_EVENT));
		fz_begin(f, cmd, fz_has_doit(f, cmd) ? NLM_F_DUMP : 0);
		return W_EOPNOTSUPP;	/* the gate answers */
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
		return W_EINVAL;	/* the unknown attribute at the end */
	}
	case FZ_RANDOM: {
		unsigned int i, n = fz_below(6);

		fz_begin(f, cmd, fz_below(4) ? 0 : NLM_F_DUMP);
		for (i = 0; i < n; i++)
			fz_attr(f, (uint16_t)fz_below(PVLOCK_A_MAX + 1), NULL, fz_below(24));
		/* the defect that makes it certainly invalid, anywhere up to the end */
		fz_attr(f, (uint16_t)(PVLOCK_A_MAX + 1 + fz_below(1000)), NULL, fz_below(8));
		/* the first bad attribute decides: most fail as EINVAL, a flag with
		 * a payload as ERANGE */
		return W_EINVAL | W_ERANGE;
	}
	case FZ_SHORT_HDR:
		/* a netlink message too short for the generic netlink header */
		fz_begin(f, cmd, 0);
		f->len = NLMSG_HDRLEN + fz_below(GENL_HDRLEN);
		*gated = false;		/* refused before the command is looked at */
		return W_EINVAL;
	case FZ_LONG_NLMSG:
		/* nlmsg_len beyond the datagram: the kernel drops it unanswered */
		fz_begin(f, cmd, 0);
		((struct nlmsghdr *)f->msg)->nlmsg_len = (uint32_t)(f->len + 4 + fz_below(1000));
		*gated = false;
		return W_DROP;
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
		return W_EPERM;		/* the gate answers */
	default:
		return 0;
	}
}

/*
 * What genetlink answers before the family sees the attributes, in its
 * order: no such command; no permission (CAP_NET_ADMIN for the commands
 * that change state); no handler of the kind asked (doit or dump). 0 when
 * it lets the request through. 6.1 looks the command up first and checks
 * the kind after the permission, 6.12 looks up command and kind together:
 * an unprivileged dump of SET_PARAMS gets EPERM on one, EOPNOTSUPP on the
 * other.
 */
static unsigned int fz_gate(const struct fz *f, uint8_t cmd, bool dump)
{
	bool exists = cmd >= 1 && cmd <= f->max_cmd &&
		      cmd != (f->host ? PVLOCK_HOST_CMD_EVENT : PVLOCK_GUEST_CMD_EVENT);
	bool kind = dump ? fz_has_dump(f, cmd) : fz_has_doit(f, cmd);
	/* pvlock_host's VM list and statistics name VMs and pids: admin too */
	bool admin = cmd == fz_set_cmd(f) ||
		     cmd == (f->host ? PVLOCK_HOST_CMD_RESET_STATS : PVLOCK_GUEST_CMD_RESET_STATS) ||
		     (f->host && (cmd == PVLOCK_HOST_CMD_GET_VMS || cmd == PVLOCK_HOST_CMD_GET_STATS));

	if (!exists)
		return W_EOPNOTSUPP;
	if (admin && !f->priv)
		return kind ? W_EPERM : W_EPERM | W_EOPNOTSUPP;
	if (!kind)
		return W_EOPNOTSUPP;
	return 0;
}

/* --- sending and reading the answer ---------------------------------------- */

static unsigned char fz_rx[64 * 1024];

/*
 * Read until the message with @seq is answered (NLMSG_ERROR or DONE) or,
 * with @probe, until the probe's ack shows that it was dropped.
 * 1 = error answer (*err set), 0 = accepted, -1 = no answer, -2 = timeout.
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
			if (h->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				/* a dump that failed in its first part ends with the errno */
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&e, NLMSG_DATA(h), sizeof(e));
				if (e < 0) {
					*err = e;
					return 1;
				}
				return 0;
			}
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
	bool gated;
	unsigned int want = fz_build(f, k, &gated), gate;
	struct nlmsghdr *nlh = (struct nlmsghdr *)f->msg;
	struct genlmsghdr *g = (struct genlmsghdr *)(f->msg + NLMSG_HDRLEN);
	uint32_t seq = f->seq, probe = 0;
	char what[160];
	int err = 0, rc;

	if (gated) {
		gate = fz_gate(f, g->cmd, (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
		if (gate)
			want = gate;
	}
	if (k != FZ_LONG_NLMSG)
		nlh->nlmsg_len = (uint32_t)f->len;
	f->sent++;
	f->by_case[k]++;
	if (send(nlc_fd(&f->c), f->msg, f->len, 0) < 0) {
		/* the kernel never judged it: not a success */
		f->send_refused++;
		snprintf(what, sizeof(what), "refused at send (%s)", strerror(errno));
		fz_show(f, what, k);
		return false;
	}
	if (want & W_DROP) {
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
		}
		if (fz_errbit(err) & want)
			return true;
		f->wrong_errno++;
		f->wrong_by_case[k]++;
		snprintf(what, sizeof(what), "answered %s, wanted%s", strerror(-err), fz_want_str(want));
		fz_show(f, what, k);
		return false;
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
	struct pv_params vm_params[FZ_MAX_VMS];
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
	for (i = 0; !err && i < s->vms.n && i < FZ_MAX_VMS; i++) {
		err = pv_get_params(&f->c, s->vms.vm[i].id, &s->vm_params[i]);
		if (err == -ENOENT) {
			/* it exited since the list was read: forget it */
			s->vm_params[i].present = 0;
			err = 0;
		}
	}
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
			if (k == PVLOCK_GS_THRESHOLD || k == PVLOCK_GS_WAIT_MAX_NS)
				continue;	/* levels that move both ways */
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
	for (i = 0; i < a->vms.n && i < FZ_MAX_VMS; i++) {
		for (j = 0; j < b->vms.n && j < FZ_MAX_VMS; j++)
			if (b->vms.vm[j].id == a->vms.vm[i].id)
				break;
		if (j == b->vms.n || j == FZ_MAX_VMS || !a->vm_params[i].present ||
		    !b->vm_params[j].present)
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

/* --- events ------------------------------------------------------------------ */

struct fz_sub {
	struct rawnl n;
	unsigned long params, other;	/* PVLOCK_EV_PARAMS events, others */
	bool overflowed;		/* ENOBUFS: events lost */
};

static void fz_event_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	uint32_t *ev = arg;

	if (type == PVLOCK_A_EVENT)
		*ev = rawnl_u32(data, len);
}

/* Read every event queued on @s now, counting them. */
static void fz_sub_read(struct fz_sub *s)
{
	static unsigned char buf[64 * 1024];

	for (;;) {
		ssize_t got = recv(s->n.fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h;
		size_t left;

		if (got < 0) {
			if (errno == ENOBUFS) {
				s->overflowed = true;
				continue;
			}
			return;
		}
		left = (size_t)got;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			uint32_t ev = 0;
			size_t len;
			const void *a;

			if (h->nlmsg_type != s->n.family)
				continue;
			a = rawnl_msg_attrs(h, &len);
			rawnl_attrs(a, len, fz_event_attr, &ev);
			if (ev == PVLOCK_EV_PARAMS)
				s->params++;
			else
				s->other++;
		}
	}
}

static int fz_sub_open(struct fz *f, struct fz_sub *s, int rcvbuf)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = rawnl_open(&s->n, f->c.family, rcvbuf);
	if (!err)
		err = rawnl_subscribe(&s->n);
	return err;
}

/* --- 2. valid changes, and back ------------------------------------------------ */

/* Do the values satisfy the family's cross-checks (min <= threshold <= max)? */
static bool fz_consistent(const struct fz *f, const uint32_t *v)
{
	uint32_t th = v[PVLOCK_P_SPIN_THRESHOLD], lo = v[PVLOCK_P_SPIN_MIN], hi = v[PVLOCK_P_SPIN_MAX];

	if (lo > hi)
		return false;
	if (f->host && th == 0)
		return true;	/* no hint */
	return th >= lo && th <= hi;
}

/* Another valid value for parameter @a of @cur, 0 (and false) if there is none. */
static bool fz_other_value(const struct fz *f, const struct pv_params *cur, uint32_t a, bool per_vm,
			   uint32_t *out)
{
	const struct pvlock_param_spec *s = pvlock_param_spec(a);
	uint32_t fam = f->host ? PVLOCK_PF_HOST : PVLOCK_PF_GUEST, v = cur->val[a];
	uint32_t cands[] = { v + 1, v - 1, cur->val[PVLOCK_P_SPIN_MIN], cur->val[PVLOCK_P_SPIN_MAX],
			     s->min, s->max, 0 };
	uint32_t vals[PVLOCK_P_MAX + 1];
	unsigned int i;

	if (s->type == PVLOCK_PT_BOOL)
		cands[0] = !v;
	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (cands[i] == v || pvlock_param_check(fam, a, cands[i], per_vm))
			continue;
		memcpy(vals, cur->val, sizeof(vals));
		vals[a] = cands[i];
		if (!fz_consistent(f, vals))
			continue;
		*out = cands[i];
		return true;
	}
	return false;
}

struct fz_valid {
	unsigned int done, tried;	/* changes that read back right / made */
	unsigned long sets;		/* SET_PARAMS answered with success */
};

/* Set one parameter of @vm_id to @v; the reply and a read must show @want. */
static bool fz_set_check(struct fz *f, int64_t vm_id, uint32_t a, uint32_t v,
			 const struct pv_params *want, struct fz_valid *r, const char *who)
{
	struct pv_params set = { 0 }, reply, got;
	int err;

	set.val[a] = v;
	set.present = 1u << a;
	err = pv_set_params(&f->c, vm_id, &set, &reply);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: %s: set %s=%u refused: %s\n", who,
			pvlock_param_spec(a)->name, v, nlc_strerror(&f->c, err));
		return false;
	}
	r->sets++;
	err = pv_get_params(&f->c, vm_id, &got);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: %s: reading back: %s\n", who, strerror(-err));
		return false;
	}
	return fz_same_params(who, want, &reply) && fz_same_params(who, want, &got);
}

/* Every settable parameter of @vm_id (PV_NO_VM: global): changed, back. */
static bool fz_valid_params(struct fz *f, int64_t vm_id, struct fz_valid *r)
{
	uint32_t fam = f->host ? PVLOCK_PF_HOST : PVLOCK_PF_GUEST, a, v;
	struct pv_params orig, want;
	char who[64];
	bool ok = true;
	int err;

	if (vm_id == PV_NO_VM)
		snprintf(who, sizeof(who), "valid global");
	else
		snprintf(who, sizeof(who), "valid vm %lld", (long long)vm_id);
	err = pv_get_params(&f->c, vm_id, &orig);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: %s: reading: %s\n", who, strerror(-err));
		return false;
	}
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);
		uint32_t pin = vm_id == PV_NO_VM ? 0 : orig.val[PVLOCK_P_PINNED];

		if (!s || pvlock_param_check(fam, a, s->min, vm_id != PV_NO_VM) == -1)
			continue;
		/*
		 * A VM's pinned values are the operator's word to its guest
		 * (a test may watch the guest read exactly that value): not
		 * even a change and back.
		 */
		if ((pin & PVLOCK_PIN_THRESHOLD && a == PVLOCK_P_SPIN_THRESHOLD) ||
		    (pin & PVLOCK_PIN_BUDGET && a == PVLOCK_P_BUDGET) || (pin && a == PVLOCK_P_PINNED))
			continue;
		if (!(orig.present & (1u << a)) || !fz_other_value(f, &orig, a, vm_id != PV_NO_VM, &v)) {
			fprintf(stderr, "pvlock-fuzz: %s: no other valid value for %s\n", who, s->name);
			ok = false;
			continue;
		}
		r->tried++;
		want = orig;
		want.val[a] = v;
		if (fz_set_check(f, vm_id, a, v, &want, r, who) &&
		    fz_set_check(f, vm_id, a, orig.val[a], &orig, r, who))
			r->done++;
		else
			ok = false;
	}
	return ok;
}

/* One change of the global maximum and back, each event read at once by @s. */
static bool fz_tiny_alive(struct fz *f, struct fz_sub *s)
{
	struct fz_valid r = { 0, 0, 0 };
	struct pv_params orig, want;
	unsigned long before = s->params;
	uint32_t v;
	bool ok;

	if (pv_get_params(&f->c, PV_NO_VM, &orig) ||
	    !fz_other_value(f, &orig, PVLOCK_P_SPIN_MAX, false, &v))
		return false;
	want = orig;
	want.val[PVLOCK_P_SPIN_MAX] = v;
	ok = fz_set_check(f, PV_NO_VM, PVLOCK_P_SPIN_MAX, v, &want, &r, "tiny subscriber");
	usleep(50000);
	fz_sub_read(s);
	ok &= s->params == before + 1;
	ok &= fz_set_check(f, PV_NO_VM, PVLOCK_P_SPIN_MAX, orig.val[PVLOCK_P_SPIN_MAX], &orig, &r,
			   "tiny subscriber");
	usleep(50000);
	fz_sub_read(s);
	return ok && s->params == before + 2;
}

/* --- 3. dumps ------------------------------------------------------------------- */

#define FZ_MAX_ROWS	1024

struct fz_rows {
	uint64_t key[FZ_MAX_ROWS];	/* what makes a row itself */
	unsigned int n, dup, parts;
	uint32_t last_seq_part;
};

struct fz_row_arg {
	uint32_t vm, cpu;
	uint64_t addr;
	bool has_vm, has_cpu;
};

static void fz_lock_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	if (type == PVLOCK_L_ADDR)
		((struct fz_row_arg *)arg)->addr = rawnl_u64(data, len);
}

static void fz_row_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	struct fz_row_arg *r = arg;

	if (type == PVLOCK_A_VM_ID) {
		r->vm = rawnl_u32(data, len);
		r->has_vm = true;
	} else if (type == PVLOCK_A_CPU) {
		r->cpu = rawnl_u32(data, len);
		r->has_cpu = true;
	} else if (type == PVLOCK_A_VM) {
		const struct nlattr *a = data;

		/* PVLOCK_VM_ID is the first attribute of the nest */
		if (len >= NLA_HDRLEN + 4 && (a->nla_type & NLA_TYPE_MASK) == PVLOCK_VM_ID) {
			r->vm = rawnl_u32((const char *)a + NLA_HDRLEN, 4);
			r->has_vm = true;
		}
	} else if (type == PVLOCK_A_LOCK) {
		rawnl_attrs(data, len, fz_lock_attr, r);
	}
}

static int fz_row_cb(const struct nlmsghdr *h, void *arg)
{
	struct fz_rows *rows = arg;
	struct fz_row_arg r = { 0, 0, 0, false, false };
	size_t len;
	const void *a = rawnl_msg_attrs(h, &len);
	uint64_t key;
	unsigned int i;

	rawnl_attrs(a, len, fz_row_attr, &r);
	key = r.addr ? r.addr : ((uint64_t)(r.has_vm ? r.vm : 0xffffffffu) << 32) |
				(r.has_cpu ? r.cpu : 0xffffffffu);
	for (i = 0; i < rows->n; i++)
		if (rows->key[i] == key)
			rows->dup++;
	if (rows->n < FZ_MAX_ROWS)
		rows->key[rows->n++] = key;
	return 0;
}

/*
 * One dump of @cmd (with the per-vCPU flag if @per_vcpu), read @buflen
 * bytes at a time from a socket with receive buffer @rcvbuf (0: default);
 * @parts counts the reads that brought rows.
 */
static int fz_dump(struct fz *f, uint8_t cmd, bool per_vcpu, int rcvbuf, size_t buflen,
		   struct fz_rows *rows)
{
	static struct rawnl_req r;
	struct rawnl n;
	int err;

	memset(rows, 0, sizeof(*rows));
	err = rawnl_open(&n, f->c.family, rcvbuf);
	if (err)
		return err;
	rawnl_begin(&n, &r, n.family, cmd, NLM_F_DUMP);
	if (per_vcpu)
		rawnl_put(&r, PVLOCK_A_PER_VCPU, NULL, 0);
	err = rawnl_send(&n, &r);
	if (!err)
		err = rawnl_answer_parts(&n, n.seq, buflen, fz_row_cb, rows, &rows->parts);
	rawnl_close(&n);
	return err;
}

static bool fz_same_rows(const struct fz_rows *a, const struct fz_rows *b)
{
	unsigned int i, j;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n && b->key[j] != a->key[i]; j++)
			;
		if (j == b->n)
			return false;
	}
	return true;
}

/*
 * Each dump whole and through a tiny buffer: the same rows, each once.
 * Rows that may come and go between two reads (a guest's contended locks,
 * whose order changes with every wait) are checked for duplicates only.
 */
static bool fz_dumps(struct fz *f, char *out, size_t outlen)
{
	struct { uint8_t cmd; bool per_vcpu, stable; const char *name; } d[2];
	static struct fz_rows whole, parts;
	unsigned int i, k, abandoned = 0;
	size_t o = 0;
	bool ok = true;
	int err;

	if (f->host) {
		d[0] = (typeof(d[0])){ PVLOCK_HOST_CMD_GET_VMS, false, true, "vms" };
		d[1] = (typeof(d[1])){ PVLOCK_HOST_CMD_GET_STATS, true, true, "stats" };
	} else {
		d[0] = (typeof(d[0])){ PVLOCK_GUEST_CMD_GET_STATS, false, true, "stats" };
		d[1] = (typeof(d[1])){ PVLOCK_GUEST_CMD_GET_LOCKS, false, false, "locks" };
	}
	/* pvlock_host's dumps name VMs and pids: CAP_NET_ADMIN, refused whole and in parts */
	bool refused = f->host && !f->priv;

	for (i = 0; i < 2; i++) {
		err = fz_dump(f, d[i].cmd, d[i].per_vcpu, 0, 0, &whole);
		if (refused) {
			int err2 = fz_dump(f, d[i].cmd, d[i].per_vcpu, 1, 4096, &parts);

			if (err != -EPERM || err2 != -EPERM) {
				fprintf(stderr, "pvlock-fuzz: dump %s without CAP_NET_ADMIN: %s, in parts "
					"%s; wanted EPERM\n", d[i].name, err ? strerror(-err) : "served",
					err2 ? strerror(-err2) : "served");
				ok = false;
			}
			o += (size_t)snprintf(out + o, outlen - o, "%s%s:eperm", i ? "," : "", d[i].name);
			continue;
		}
		if (!err)
			err = fz_dump(f, d[i].cmd, d[i].per_vcpu, 1, 4096, &parts);
		if (err) {
			fprintf(stderr, "pvlock-fuzz: dump %s: %s\n", d[i].name, strerror(-err));
			ok = false;
			continue;
		}
		if (whole.dup || parts.dup || (d[i].stable && !fz_same_rows(&whole, &parts))) {
			fprintf(stderr, "pvlock-fuzz: dump %s: %u rows (%u twice) whole, %u rows (%u twice) in %u parts\n",
				d[i].name, whole.n, whole.dup, parts.n, parts.dup, parts.parts);
			ok = false;
		}
		o += (size_t)snprintf(out + o, outlen - o, "%s%s:%u/%u", i ? "," : "", d[i].name,
				      parts.n, parts.parts);
	}
	/* abandoned after the first part: the socket closed with the dump open */
	for (k = 0; k < 100; k++) {
		static struct rawnl_req r;
		struct rawnl n;

		if (rawnl_open(&n, f->c.family, 1))
			break;
		rawnl_begin(&n, &r, n.family, d[k % 2].cmd, NLM_F_DUMP);
		if (d[k % 2].per_vcpu)
			rawnl_put(&r, PVLOCK_A_PER_VCPU, NULL, 0);
		if (!rawnl_send(&n, &r) && recv(n.fd, fz_rx, 4096, 0) > 0)
			abandoned++;
		rawnl_close(&n);
	}
	err = fz_dump(f, d[0].cmd, d[0].per_vcpu, 0, 0, &whole);
	if (refused && err == -EPERM)
		err = 0;
	if (abandoned < 100 || err) {
		fprintf(stderr, "pvlock-fuzz: %u of 100 dumps abandoned; a dump afterwards: %s\n",
			abandoned, err ? strerror(-err) : "ok");
		ok = false;
	}
	snprintf(out + o, outlen - o, ",abandoned:%u", abandoned);
	return ok;
}

/* --- race mode --------------------------------------------------------------------- */

#define FZ_WORKERS	4

struct fz_race_count {
	unsigned long requests, ok, enoent, bad, torn;
	int last_bad;
	bool gone;
};

/* The parameter a race sets, and its two values around @v. */
static uint32_t fz_race_param(const struct fz *f)
{
	return f->host ? PVLOCK_P_BUDGET : PVLOCK_P_SPIN_THRESHOLD;
}

static void fz_race_values(const struct fz *f, const struct pv_params *p, uint32_t v[2])
{
	uint32_t a = fz_race_param(f);

	v[0] = p->val[a];
	v[1] = p->val[a] + 1;
	/* stay within the guest's [min, max] */
	if (!f->host && v[1] > p->val[PVLOCK_P_SPIN_MAX])
		v[1] = p->val[a] - 1;
}

static void fz_race_note(struct fz_race_count *c, int err)
{
	c->requests++;
	if (!err) {
		c->ok++;
	} else if (err == -ENOENT) {
		c->enoent++;
	} else {
		c->bad++;
		c->last_bad = err;
	}
}

static void fz_race_worker(struct fz *f, struct fz_race_count *c, unsigned int id, time_t end,
			   bool until_no_vm, const uint32_t gv[2], const struct pv_vms *vms0,
			   const struct pv_params *vp0)
{
	uint32_t a = fz_race_param(f);
	struct nlc c2;
	unsigned int i = 0;

	fz_rng ^= (uint64_t)(id + 1) * 0x9e3779b97f4a7c15ull;
	if (nlc_open(&c2, f->c.family)) {
		c->gone = true;
		return;
	}
	while (time(NULL) < end) {
		struct pv_params set = { 0 }, got;
		int64_t vm = PV_NO_VM;
		size_t j = 0;
		uint32_t want[3] = { gv[0], gv[1], gv[0] };
		int err;

		if (f->host && vms0->n && fz_below(2)) {
			j = fz_below((uint32_t)vms0->n);
			vm = vms0->vm[j].id;
			want[2] = vp0[j].val[a];	/* its own value, until one is set */
		}
		set.val[a] = gv[fz_below(2)];
		set.present = 1u << a;
		if (fz_below(2)) {
			err = pv_set_params(&c2, vm, &set, NULL);
			fz_race_note(c, err);
		} else {
			err = pv_get_params(&c2, vm, &got);
			fz_race_note(c, err);
			if (!err && got.val[a] != want[0] && got.val[a] != want[1] &&
			    got.val[a] != want[2])
				c->torn++;
		}
		if (err == -ENOENT && vm == PV_NO_VM) {
			/* the family itself is gone */
			c->gone = true;
			break;
		}
		if (until_no_vm && ++i % 16 == 0) {
			struct pv_vms now = { 0 };

			if (!pv_get_vms(&c2, &now) && !now.n)
				break;
			pv_vms_free(&now);
		}
	}
	nlc_close(&c2);
}

static int fz_race(struct fz *f, unsigned int secs, bool until_no_vm)
{
	struct fz_race_count *cnt, sum = { 0 };
	static struct pv_params vp0[FZ_MAX_VMS];
	struct pv_params g0, now;
	struct pv_vms vms0 = { 0 };
	uint32_t gv[2], a = fz_race_param(f);
	time_t end = time(NULL) + secs;
	unsigned int w, restored = 0;
	size_t i;
	pid_t pid[FZ_WORKERS];
	bool ok;
	int err;

	err = pv_get_params(&f->c, PV_NO_VM, &g0);
	if (!err && f->host)
		err = pv_get_vms(&f->c, &vms0);
	for (i = 0; !err && i < vms0.n && i < FZ_MAX_VMS; i++)
		pv_get_params(&f->c, vms0.vm[i].id, &vp0[i]);
	if (vms0.n > FZ_MAX_VMS)
		vms0.n = FZ_MAX_VMS;
	if (err) {
		fprintf(stderr, "pvlock-fuzz: race: reading the state: %s\n", strerror(-err));
		return 1;
	}
	fz_race_values(f, &g0, gv);
	cnt = mmap(NULL, sizeof(*cnt) * FZ_WORKERS, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		return 1;
	memset(cnt, 0, sizeof(*cnt) * FZ_WORKERS);
	for (w = 0; w < FZ_WORKERS; w++) {
		pid[w] = fork();
		if (pid[w] == 0) {
			fz_race_worker(f, &cnt[w], w, end, until_no_vm, gv, &vms0, vp0);
			_exit(0);
		}
	}
	for (w = 0; w < FZ_WORKERS; w++) {
		if (pid[w] > 0)
			waitpid(pid[w], NULL, 0);
		sum.requests += cnt[w].requests;
		sum.ok += cnt[w].ok;
		sum.enoent += cnt[w].enoent;
		sum.bad += cnt[w].bad;
		sum.torn += cnt[w].torn;
		sum.gone |= cnt[w].gone;
		if (cnt[w].bad)
			sum.last_bad = cnt[w].last_bad;
	}
	/* the values as they were, where the family and the VM still are */
	if (!pv_get_params(&f->c, PV_NO_VM, &now)) {
		struct pv_params set = { 0 };

		set.val[a] = g0.val[a];
		set.present = 1u << a;
		restored += !pv_set_params(&f->c, PV_NO_VM, &set, NULL);
		for (i = 0; i < vms0.n; i++) {
			set.val[a] = vp0[i].val[a];
			restored += !pv_set_params(&f->c, vms0.vm[i].id, &set, NULL);
		}
	}
	ok = sum.requests > 0 && !sum.bad && !sum.torn;
	printf("PVLOCK-FUZZ-RACE family=%s workers=%u requests=%lu ok=%lu enoent=%lu bad=%lu "
	       "torn=%lu vms=%zu family_gone=%s restored=%u%s%s result=%s\n",
	       f->c.family, FZ_WORKERS, sum.requests, sum.ok, sum.enoent, sum.bad, sum.torn,
	       vms0.n, sum.gone ? "yes" : "no", restored, sum.bad ? " last_bad=" : "",
	       sum.bad ? strerror(-sum.last_bad) : "", ok ? "ok" : "FAIL");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct fz f;
	static struct fz_state before, after;
	struct fz_sub sub, tiny;
	struct fz_valid valid = { 0, 0, 0 };
	struct timeval tv = { 2, 0 };
	unsigned long count, i, ev_invalid = 0;
	unsigned int checked = 0, k;
	int bufsz = 1 << 20, one = 1, err;
	char dumps[160] = "";
	bool params_ok = true, valid_ok = true, events_ok = true, tiny_ok = true, dumps_ok;
	bool ok = true;

	if (argc < 3 || (strcmp(argv[1], "guest") && strcmp(argv[1], "host"))) {
		fprintf(stderr, "usage: pvlock-fuzz guest|host COUNT [SEED]\n"
			"       pvlock-fuzz guest|host race SECONDS [until-no-vm]\n");
		return 2;
	}
	f.host = !strcmp(argv[1], "host");
	f.priv = fz_privileged();
	f.max_cmd = f.host ? PVLOCK_HOST_CMD_MAX : PVLOCK_GUEST_CMD_MAX;
	fz_rng = 0x50564c4full;
	err = nlc_open(&f.c, f.host ? PVLOCK_HOST_GENL_NAME : PVLOCK_GUEST_GENL_NAME);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	if (!strcmp(argv[2], "race"))
		return fz_race(&f, argc > 3 ? (unsigned int)atoi(argv[3]) : 10,
			       argc > 4 && !strcmp(argv[4], "until-no-vm"));

	count = strtoul(argv[2], NULL, 10);
	fz_rng = argc > 3 ? strtoull(argv[3], NULL, 0) : 0x50564c4full;
	if (!fz_rng)
		fz_rng = 1;
	f.msg = calloc(1, FZ_BUF);
	if (!f.msg)
		return 1;
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
	for (i = 0; i < before.vms.n && i < FZ_MAX_VMS; i++) {
		if (before.vms.vm[i].id >= fz_no_vm)
			fz_no_vm = before.vms.vm[i].id + 1;
		f.vm_ids[f.nr_vms++] = before.vms.vm[i].id;
	}
	err = fz_sub_open(&f, &sub, bufsz);
	if (err == -EPERM && f.host && !f.priv) {
		/*
		 * pvlock_host's events group needs CAP_NET_ADMIN: refused, as it
		 * must be; the sockets stay open unsubscribed and read nothing
		 */
		fprintf(stderr, "pvlock-fuzz: %s's events refused without CAP_NET_ADMIN (expected)\n",
			f.c.family);
		err = 0;
	}
	if (!err && sub.n.fd >= 0)
		err = fz_sub_open(&f, &tiny, 1);
	if (err == -EPERM && f.host && !f.priv)
		err = 0;
	if (err) {
		fprintf(stderr, "pvlock-fuzz: subscribing to %s's events: %s\n", f.c.family,
			strerror(-err));
		return 1;
	}

	/* 1. invalid requests; raw I/O: libnl's sequence numbers are not used on this socket */
	f.seq = 0x40000000u;
	for (i = 0; i < count; i++) {
		enum fz_case k = (enum fz_case)fz_below(FZ_NR - (f.priv ? 1 : 0));

		if (!fz_one(&f, k))
			ok = false;
	}
	fz_drain(&f);
	usleep(100000);
	fz_sub_read(&sub);
	ev_invalid = sub.params;
	if (ev_invalid) {
		fprintf(stderr, "pvlock-fuzz: %lu parameter events while only invalid requests were sent\n",
			ev_invalid);
		ok = events_ok = false;
	}

	/* 2. valid changes and back, as root */
	if (f.priv) {
		valid_ok = fz_valid_params(&f, PV_NO_VM, &valid);
		for (i = 0; i < f.nr_vms; i++)
			valid_ok &= fz_valid_params(&f, f.vm_ids[i], &valid);
		usleep(100000);
		fz_sub_read(&sub);
		if (sub.params - ev_invalid != valid.sets || sub.overflowed) {
			fprintf(stderr, "pvlock-fuzz: %lu parameter events for %lu changes%s\n",
				sub.params - ev_invalid, valid.sets,
				sub.overflowed ? " (the subscriber overflowed)" : "");
			events_ok = false;
		}
		/*
		 * The tiny subscriber, unread so far, holds one event at a time:
		 * it overflowed. It must still get each new event when read in
		 * between: one change, and back.
		 */
		fz_sub_read(&tiny);
		tiny_ok = tiny.overflowed || valid.sets < 2;
		tiny_ok &= fz_tiny_alive(&f, &tiny);
		if (!tiny_ok)
			fprintf(stderr, "pvlock-fuzz: tiny subscriber: overflowed=%d, then %lu events\n",
				tiny.overflowed, tiny.params);
		ok &= valid_ok && events_ok && tiny_ok;
	}

	/* 3. dumps */
	dumps_ok = fz_dumps(&f, dumps, sizeof(dumps));
	ok &= dumps_ok;

	/* 4. the state as before */
	fz_drain(&f);
	err = fz_read_state(&f, &after);
	if (err) {
		fprintf(stderr, "pvlock-fuzz: reading the state afterwards: %s\n", strerror(-err));
		ok = false;
	} else if (!fz_compare(&f, &before, &after, &checked)) {
		params_ok = false;
		ok = false;
	}
	for (k = 0; k < FZ_NR; k++)
		if (f.wrong_by_case[k])
			fprintf(stderr, "pvlock-fuzz: case %s: %lu of %lu answered with another errno\n",
				fz_case_names[k], f.wrong_by_case[k], f.by_case[k]);
	printf("PVLOCK-FUZZ family=%s %s sent=%lu errors=%lu dropped=%lu refused_at_send=%lu "
	       "accepted=%lu eperm=%lu/%lu params=%s counters_checked=%u wrong_errno=%lu "
	       "real_vm=%lu/%u events_invalid=%lu valid=%u/%u events=%lu/%lu tiny_sub=%s dumps=%s errnos=",
	       f.c.family, f.priv ? "privileged" : "unprivileged", f.sent, f.errors, f.ignored,
	       f.send_refused, f.accepted, f.eperm_got, f.eperm_expected,
	       err ? "unread" : params_ok ? "unchanged" : "CHANGED", err ? 0 : checked,
	       f.wrong_errno, f.real_vm_sent, f.nr_vms, ev_invalid, valid.done, valid.tried,
	       sub.params - ev_invalid, valid.sets, !f.priv ? "-" : tiny_ok ? "ok" : "FAIL", dumps);
	for (k = 1, checked = 0; k < 256; k++)
		if (f.by_errno[k])
			printf("%s%u:%lu", checked++ ? "," : "", k, f.by_errno[k]);
	printf(" result=%s\n", ok ? "ok" : "FAIL");
	rawnl_close(&sub.n);
	rawnl_close(&tiny.n);
	nlc_close(&f.c);
	return ok ? 0 : 1;
}
