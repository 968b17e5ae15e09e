// SPDX-License-Identifier: GPL-2.0
/*
 * The "pvlock_guest" generic netlink family (commands and attribute trees:
 * include/uapi/linux/pvlock.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/kallsyms.h>
#include <linux/slab.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include <pvlock/knl.h>
#include <pvlock/version.h>

#include "pvlock_guest.h"

static struct genl_family pvlock_guest_family;

enum { PVLOCK_GUEST_MCGRP_EVENTS };

static const struct genl_multicast_group pvlock_guest_mcgrps[] = {
	[PVLOCK_GUEST_MCGRP_EVENTS] = { .name = PVLOCK_GENL_MCGRP_EVENTS },
};

static int pvlock_guest_put_params(struct sk_buff *skb)
{
	const struct pvlock_guest_params *p = &pvlock_guest_params;
	struct nlattr *nest = nla_nest_start(skb, PVLOCK_A_PARAMS);

	if (!nest)
		return -EMSGSIZE;
	if (pvlock_nl_put_param(skb, PVLOCK_P_MODE, READ_ONCE(p->mode)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_SPIN_THRESHOLD, READ_ONCE(p->threshold)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_SPIN_MIN, READ_ONCE(p->min)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_SPIN_MAX, READ_ONCE(p->max)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_YIELD, READ_ONCE(p->yield)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_FORCE_QUEUE, READ_ONCE(p->force_queue)) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_HOST_THRESHOLD,
				READ_ONCE(pvlock_guest_state.host_threshold))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int pvlock_guest_put_status(struct sk_buff *skb)
{
	const struct pvlock_guest_state *s = &pvlock_guest_state;
	u32 hs = READ_ONCE(s->handshake);

	if (nla_put_string(skb, PVLOCK_A_VERSION, PVLOCK_VERSION) ||
	    nla_put_u32(skb, PVLOCK_A_ABI, PVLOCK_ABI_VERSION) ||
	    nla_put_string(skb, PVLOCK_A_KERNEL, init_utsname()->release) ||
	    nla_put_u32(skb, PVLOCK_A_FEATURES, PVLOCK_F_ALL) ||
	    nla_put_u32(skb, PVLOCK_A_HANDSHAKE, hs) ||
	    nla_put_u32(skb, PVLOCK_A_LIVEPATCH, pvlock_lp_state()) ||
	    nla_put_u32(skb, PVLOCK_A_NR_CPUS, num_online_cpus()) ||
	    nla_put_u32(skb, PVLOCK_A_NR_REGISTERED, READ_ONCE(s->nr_registered)))
		return -EMSGSIZE;
	if (hs == PVLOCK_HANDSHAKE_AGREED &&
	    (nla_put_u32(skb, PVLOCK_A_HOST_ABI, READ_ONCE(s->host_abi)) ||
	     nla_put_u32(skb, PVLOCK_A_HOST_FEATURES, READ_ONCE(s->host_features))))
		return -EMSGSIZE;
	return pvlock_guest_put_params(skb);
}

static int pvlock_guest_reply(struct genl_info *info, u8 cmd,
			      int (*fill)(struct sk_buff *skb, void *arg), void *arg)
{
	return pvlock_nl_reply(&pvlock_guest_family, info, cmd, fill, arg);
}

static int pvlock_guest_fill_status(struct sk_buff *skb, void *arg)
{
	return pvlock_guest_put_status(skb);
}

static int pvlock_guest_fill_params(struct sk_buff *skb, void *arg)
{
	return pvlock_guest_put_params(skb);
}

static int pvlock_guest_get_status(struct sk_buff *skb, struct genl_info *info)
{
	return pvlock_guest_reply(info, PVLOCK_GUEST_CMD_GET_STATUS, pvlock_guest_fill_status,
				  NULL);
}

static int pvlock_guest_get_params(struct sk_buff *skb, struct genl_info *info)
{
	return pvlock_guest_reply(info, PVLOCK_GUEST_CMD_GET_PARAMS, pvlock_guest_fill_params,
				  NULL);
}

static int pvlock_guest_set_params(struct sk_buff *skb, struct genl_info *info)
{
	struct pvlock_guest_params np;
	struct pvlock_nl_params p;
	u32 old_mode;
	int err;

	err = pvlock_nl_parse_params(info->attrs[PVLOCK_A_PARAMS], PVLOCK_PF_GUEST, false, &p,
				     info->extack);
	if (err)
		return err;

	mutex_lock(&pvlock_guest_lock);
	np = pvlock_guest_params;
	if (pvlock_nl_has(&p, PVLOCK_P_MODE))
		np.mode = p.val[PVLOCK_P_MODE];
	if (pvlock_nl_has(&p, PVLOCK_P_SPIN_THRESHOLD))
		np.threshold = p.val[PVLOCK_P_SPIN_THRESHOLD];
	if (pvlock_nl_has(&p, PVLOCK_P_SPIN_MIN))
		np.min = p.val[PVLOCK_P_SPIN_MIN];
	if (pvlock_nl_has(&p, PVLOCK_P_SPIN_MAX))
		np.max = p.val[PVLOCK_P_SPIN_MAX];
	if (pvlock_nl_has(&p, PVLOCK_P_YIELD))
		np.yield = p.val[PVLOCK_P_YIELD];
	if (pvlock_nl_has(&p, PVLOCK_P_FORCE_QUEUE))
		np.force_queue = p.val[PVLOCK_P_FORCE_QUEUE];
	if (np.min > np.max) {
		mutex_unlock(&pvlock_guest_lock);
		NL_SET_ERR_MSG(info->extack, "min must not exceed max");
		return -EINVAL;
	}
	if (np.threshold < np.min || np.threshold > np.max) {
		mutex_unlock(&pvlock_guest_lock);
		NL_SET_ERR_MSG(info->extack, "threshold must lie within [min, max]");
		return -EINVAL;
	}
	old_mode = pvlock_guest_params.mode;
	WRITE_ONCE(pvlock_guest_params.mode, np.mode);
	WRITE_ONCE(pvlock_guest_params.threshold, np.threshold);
	WRITE_ONCE(pvlock_guest_params.min, np.min);
	WRITE_ONCE(pvlock_guest_params.max, np.max);
	WRITE_ONCE(pvlock_guest_params.yield, np.yield);
	WRITE_ONCE(pvlock_guest_params.force_queue, np.force_queue);
	pvlock_hv_mode_changed(old_mode, np.mode);
	mutex_unlock(&pvlock_guest_lock);

	pr_info("parameters changed by pid %d: mode=%u threshold=%u min=%u max=%u yield=%u force_queue=%u\n",
		task_pid_nr(current), np.mode, np.threshold, np.min, np.max, np.yield,
		np.force_queue);
	pvlock_slowpath_gauges();
	if (np.mode != PVLOCK_MODE_STOCK)
		pvlock_hv_probe_soon();
	pvlock_guest_notify(PVLOCK_EV_PARAMS);
	return pvlock_guest_reply(info, PVLOCK_GUEST_CMD_SET_PARAMS, pvlock_guest_fill_params,
				  NULL);
}

static int pvlock_guest_put_stats(struct sk_buff *skb, int cpu)
{
	struct pvlock_guest_stats *st;
	int err = -EMSGSIZE;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	pvlock_guest_stats_read(cpu, st);
	if (cpu >= 0 && nla_put_u32(skb, PVLOCK_A_CPU, cpu))
		goto out;
	if (nla_put_u64_64bit(skb, PVLOCK_A_TIME_NS, ktime_get_ns(), PVLOCK_A_PAD))
		goto out;
	if (pvlock_nl_put_counters(skb, PVLOCK_A_STATS, st->c, __PVLOCK_GS_LAST))
		goto out;
	err = pvlock_nl_put_hist(skb, st->hist);
out:
	kfree(st);
	return err;
}

static int pvlock_guest_fill_stats(struct sk_buff *skb, void *arg)
{
	return pvlock_guest_put_stats(skb, *(int *)arg);
}

static int pvlock_guest_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	int cpu = -1;

	if (info->attrs[PVLOCK_A_CPU]) {
		u32 c = nla_get_u32(info->attrs[PVLOCK_A_CPU]);

		if (c >= nr_cpu_ids || !cpu_possible(c)) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PVLOCK_A_CPU],
					    "no such CPU");
			return -ENOENT;
		}
		cpu = array_index_nospec(c, nr_cpu_ids);
	}
	return pvlock_guest_reply(info, PVLOCK_GUEST_CMD_GET_STATS, pvlock_guest_fill_stats,
				  &cpu);
}

/* Dump: one message per possible CPU; cb->args[0] is the next CPU to send. */
static int pvlock_guest_dump_stats(struct sk_buff *skb, struct netlink_callback *cb)
{
	int cpu = cb->args[0];
	void *hdr;

	for (; cpu < nr_cpu_ids; cpu++) {
		if (!cpu_possible(cpu))
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &pvlock_guest_family, NLM_F_MULTI, PVLOCK_GUEST_CMD_GET_STATS);
		if (!hdr)
			break;
		if (pvlock_guest_put_stats(skb, cpu)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = cpu;
	return skb->len;
}

static int pvlock_guest_reset_stats(struct sk_buff *skb, struct genl_info *info)
{
	pvlock_guest_stats_reset();
	pvlock_locks_reset();
	pr_info("statistics reset by pid %d\n", task_pid_nr(current));
	return 0;
}

#define PVLOCK_TOP_LOCKS	32

/* Most contended locks first; one message per lock, computed on the first call. */
static int pvlock_guest_dump_locks(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pvlock_lock_info *top;
	int n, i = cb->args[0];
	char sym[KSYM_SYMBOL_LEN];

	top = kmalloc_array(PVLOCK_TOP_LOCKS, sizeof(*top), GFP_KERNEL);
	if (!top)
		return -ENOMEM;
	n = pvlock_locks_top(top, PVLOCK_TOP_LOCKS);
	if (n < 0) {
		kfree(top);
		return n;
	}
	for (; i < n; i++) {
		struct nlattr *nest;
		void *hdr;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &pvlock_guest_family, NLM_F_MULTI, PVLOCK_GUEST_CMD_GET_LOCKS);
		if (!hdr)
			break;
		nest = nla_nest_start(skb, PVLOCK_A_LOCK);
		if (!nest)
			goto cancel;
		pvlock_ksyms_name(top[i].addr, sym, sizeof(sym));
		if (nla_put_u64_64bit(skb, PVLOCK_L_ADDR, top[i].addr, PVLOCK_L_PAD) ||
		    (sym[0] && nla_put_string(skb, PVLOCK_L_SYMBOL, sym)) ||
		    nla_put_u64_64bit(skb, PVLOCK_L_CONTENDED, top[i].count, PVLOCK_L_PAD) ||
		    nla_put_u64_64bit(skb, PVLOCK_L_WAIT_NS, top[i].wait_ns, PVLOCK_L_PAD) ||
		    nla_put_u64_64bit(skb, PVLOCK_L_WAIT_MAX_NS, top[i].wait_max, PVLOCK_L_PAD)) {
			nla_nest_cancel(skb, nest);
			goto cancel;
		}
		nla_nest_end(skb, nest);
		genlmsg_end(skb, hdr);
		continue;
cancel:
		genlmsg_cancel(skb, hdr);
		break;
	}
	kfree(top);
	cb->args[0] = i;
	return skb->len;
}

static const struct genl_ops pvlock_guest_ops[] = {
	{
		.cmd = PVLOCK_GUEST_CMD_GET_STATUS,
		.doit = pvlock_guest_get_status,
	},
	{
		.cmd = PVLOCK_GUEST_CMD_GET_PARAMS,
		.doit = pvlock_guest_get_params,
	},
	{
		.cmd = PVLOCK_GUEST_CMD_SET_PARAMS,
		.doit = pvlock_guest_set_params,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = PVLOCK_GUEST_CMD_GET_STATS,
		.doit = pvlock_guest_get_stats,
		.dumpit = pvlock_guest_dump_stats,
	},
	{
		.cmd = PVLOCK_GUEST_CMD_RESET_STATS,
		.doit = pvlock_guest_reset_stats,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = PVLOCK_GUEST_CMD_GET_LOCKS,
		.dumpit = pvlock_guest_dump_locks,
	},
};

static struct genl_family pvlock_guest_family __ro_after_init = {
	.name = PVLOCK_GUEST_GENL_NAME,
	.version = PVLOCK_GENL_VERSION,
	.maxattr = PVLOCK_A_MAX,
	.policy = pvlock_nl_policy,
	.module = THIS_MODULE,
	.ops = pvlock_guest_ops,
	.n_ops = ARRAY_SIZE(pvlock_guest_ops),
	.resv_start_op = PVLOCK_GUEST_CMD_GET_STATUS,	/* strict checks for every command */
	.mcgrps = pvlock_guest_mcgrps,
	.n_mcgrps = ARRAY_SIZE(pvlock_guest_mcgrps),
};

static int pvlock_guest_fill_event(struct sk_buff *skb, void *arg)
{
	if (nla_put_u32(skb, PVLOCK_A_EVENT, *(enum pvlock_event *)arg) ||
	    nla_put_u64_64bit(skb, PVLOCK_A_TIME_NS, ktime_get_ns(), PVLOCK_A_PAD) ||
	    nla_put_u32(skb, PVLOCK_A_HANDSHAKE, READ_ONCE(pvlock_guest_state.handshake)) ||
	    nla_put_u32(skb, PVLOCK_A_LIVEPATCH, READ_ONCE(pvlock_guest_state.livepatch)))
		return -EMSGSIZE;
	return pvlock_guest_put_params(skb);
}

/* Multicast an event; nobody listening costs nothing. Process context. */
void pvlock_guest_notify(enum pvlock_event ev)
{
	pvlock_nl_multicast(&pvlock_guest_family, PVLOCK_GUEST_MCGRP_EVENTS,
			    PVLOCK_GUEST_CMD_EVENT, pvlock_guest_fill_event, &ev, GFP_KERNEL);
}

int pvlock_guest_netlink_init(void)
{
	return genl_register_family(&pvlock_guest_family);
}

void pvlock_guest_netlink_exit(void)
{
	genl_unregister_family(&pvlock_guest_family);
}

MODULE_ALIAS_GENL_FAMILY(PVLOCK_GUEST_GENL_NAME);
