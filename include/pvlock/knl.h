/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink pieces both modules share: the attribute policies built from the
 * parameter spec, and the writers for counters and histograms. Kernel only.
 */
#ifndef _PVLOCK_KNL_H
#define _PVLOCK_KNL_H

#include <net/genetlink.h>
#include <net/netlink.h>

#include "kcompat.h"
#include "params.h"

/*
 * Type and upper bound per parameter; the lower bound and who may set what
 * is pvlock_param_check()'s job (the host takes 0 where the guest does not).
 * Not const: 6.1's nla_policy.range is a plain pointer. BOOL entries use
 * NLA_POLICY_MAX and leave their range unused.
 */
#define PVLOCK_NL_RANGE(a, n, t, lo, hi, fl) \
	static struct netlink_range_validation pvlock_nl_range_##a __maybe_unused = { .max = hi };
PVLOCK_PARAMS(PVLOCK_NL_RANGE)
#undef PVLOCK_NL_RANGE

#define PVLOCK_NL_POLICY_U32(a)		NLA_POLICY_FULL_RANGE(NLA_U32, &pvlock_nl_range_##a)
#define PVLOCK_NL_POLICY_BOOL(a)	NLA_POLICY_MAX(NLA_U8, 1)
#define PVLOCK_NL_POLICY(a, n, t, lo, hi, fl)	[a] = PVLOCK_NL_POLICY_##t(a),

static const struct nla_policy pvlock_nl_params_policy[PVLOCK_P_MAX + 1] = {
	PVLOCK_PARAMS(PVLOCK_NL_POLICY)
};
#undef PVLOCK_NL_POLICY

/* Top-level request attributes; everything else is reply-only and rejected. */
static const struct nla_policy pvlock_nl_policy[PVLOCK_A_MAX + 1] = {
	[PVLOCK_A_PARAMS]	= NLA_POLICY_NESTED(pvlock_nl_params_policy),
	[PVLOCK_A_VM_ID]	= { .type = NLA_U32 },
	[PVLOCK_A_CPU]		= { .type = NLA_U32 },
	[PVLOCK_A_PER_VCPU]	= { .type = NLA_FLAG },
};

/* A parsed SET_PARAMS request: value per attribute and a presence mask. */
struct pvlock_nl_params {
	u32 val[PVLOCK_P_MAX + 1];
	u32 present;			/* bit per PVLOCK_P_* */
};

static_assert(PVLOCK_P_MAX < 32, "pvlock_nl_params.present is a u32 mask");

/*
 * Parse and check every parameter in @nest for @family before anything is
 * applied, so that one bad value changes nothing.
 */
static inline int pvlock_nl_parse_params(const struct nlattr *nest, u32 family, bool per_vm,
					 struct pvlock_nl_params *p,
					 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[PVLOCK_P_MAX + 1];
	int err;
	u32 a;

	memset(p, 0, sizeof(*p));
	if (!nest) {
		NL_SET_ERR_MSG(extack, "PVLOCK_A_PARAMS missing");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, PVLOCK_P_MAX, nest, pvlock_nl_params_policy, extack);
	if (err)
		return err;
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);
		u32 v;

		if (!tb[a])
			continue;
		v = s->type == PVLOCK_PT_BOOL ? nla_get_u8(tb[a]) : nla_get_u32(tb[a]);
		switch (pvlock_param_check(family, a, v, per_vm)) {
		case 0:
			break;
		case -1:
			PVLOCK_NL_ERR_ATTR(extack, tb[a], "parameter cannot be set here",
					   "parameter %s cannot be set here", s->name);
			return -EOPNOTSUPP;
		default:
			PVLOCK_NL_ERR_ATTR(extack, tb[a], "parameter out of range",
					   "%s=%u out of range [%u, %u]", s->name, v, s->min,
					   s->max);
			return -ERANGE;
		}
		p->val[a] = v;
		p->present |= 1u << a;
	}
	if (!p->present) {
		NL_SET_ERR_MSG(extack, "no parameter given");
		return -EINVAL;
	}
	return 0;
}

static inline bool pvlock_nl_has(const struct pvlock_nl_params *p, u32 a)
{
	return p->present & (1u << a);
}

static inline int pvlock_nl_put_param(struct sk_buff *skb, u32 a, u32 v)
{
	const struct pvlock_param_spec *s = pvlock_param_spec(a);

	if (s && s->type == PVLOCK_PT_BOOL)
		return nla_put_u8(skb, a, !!v);
	return nla_put_u32(skb, a, v);
}

/*
 * Counters 1..n-1 of @vals as a nest of u64 attributes typed by index. Type 0
 * is the padding type (unused on x86-64, which needs no padding for u64).
 */
static inline int pvlock_nl_put_counters(struct sk_buff *skb, int attr, const u64 *vals,
					 unsigned int n)
{
	struct nlattr *nest = nla_nest_start(skb, attr);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 1; i < n; i++)
		if (nla_put_u64_64bit(skb, i, vals[i], 0))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Histogram bucket i at attribute type i + 1; type 0 pads, as above. */
static inline int pvlock_nl_put_hist(struct sk_buff *skb, const u64 *hist)
{
	struct nlattr *nest = nla_nest_start(skb, PVLOCK_A_HIST);
	unsigned int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		if (nla_put_u64_64bit(skb, i + 1, hist[i], 0))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Answer @info with one message of @cmd filled by @fill. */
static inline int pvlock_nl_reply(const struct genl_family *family, struct genl_info *info,
				  u8 cmd, int (*fill)(struct sk_buff *skb, void *arg), void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, family, 0, cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	err = fill(msg, arg);
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
err_free:
	nlmsg_free(msg);
	return err;
}

/* Multicast one @cmd message filled by @fill to @group, if anyone listens. */
static inline void pvlock_nl_multicast(const struct genl_family *family, unsigned int group,
				       u8 cmd, int (*fill)(struct sk_buff *skb, void *arg),
				       void *arg, gfp_t gfp)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(family, &init_net, group))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, family, 0, cmd);
	if (!hdr || fill(msg, arg)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(family, msg, 0, group, gfp);
}

#endif /* _PVLOCK_KNL_H */
