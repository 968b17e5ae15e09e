// SPDX-License-Identifier: GPL-2.0
/*
 * The "pvlock_host" generic netlink family (commands and attribute trees:
 * include/uapi/linux/pvlock.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include <pvlock/knl.h>
#include <pvlock/version.h>

#include "pvlock_host.h"

static struct genl_family pvlock_host_family;

enum { PVLOCK_HOST_MCGRP_EVENTS };

static const struct genl_multicast_group pvlock_host_mcgrps[] = {
	[PVLOCK_HOST_MCGRP_EVENTS] = { .name = PVLOCK_GENL_MCGRP_EVENTS },
};

static int pvlock_host_put_params(struct sk_buff *skb, const struct pvlock_host_params *p)
{
	struct nlattr *nest = nla_nest_start(skb, PVLOCK_A_PARAMS);

	if (!nest)
		return -EMSGSIZE;
	if (pvlock_nl_put_param(skb, PVLOCK_P_SPIN_THRESHOLD, p->threshold) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_SPIN_MIN, p->min) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_SPIN_MAX, p->max) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_BUDGET, p->budget) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_PERIOD_MS, p->period_ms) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_CROSS_VM, p->cross_vm) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_CROSS_BUDGET, p->cross_budget) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_PRIO_BOOST, p->prio_boost) ||
	    pvlock_nl_put_param(skb, PVLOCK_P_PINNED, p->pinned)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int pvlock_host_fill_status(struct sk_buff *skb, void *arg)
{
	struct pvlock_host_params p;

	mutex_lock(&pvlock_host_lock);
	p = pvlock_host_params;
	mutex_unlock(&pvlock_host_lock);
	if (nla_put_string(skb, PVLOCK_A_VERSION, PVLOCK_VERSION) ||
	    nla_put_u32(skb, PVLOCK_A_ABI, PVLOCK_ABI_VERSION) ||
	    nla_put_string(skb, PVLOCK_A_KERNEL, init_utsname()->release) ||
	    nla_put_u32(skb, PVLOCK_A_FEATURES, PVLOCK_F_ALL) ||
	    nla_put_u32(skb, PVLOCK_A_HOOKS, READ_ONCE(pvlock_host_hooks)) ||
	    nla_put_u32(skb, PVLOCK_A_NR_VMS, 0) ||
	    nla_put_u32(skb, PVLOCK_A_NR_REGISTERED, 0) ||
	    nla_put_u32(skb, PVLOCK_A_NR_CPUS, num_online_cpus()))
		return -EMSGSIZE;
	return pvlock_host_put_params(skb, &p);
}

static int pvlock_host_fill_params(struct sk_buff *skb, void *arg)
{
	struct pvlock_host_params p;

	mutex_lock(&pvlock_host_lock);
	p = pvlock_host_params;
	mutex_unlock(&pvlock_host_lock);
	return pvlock_host_put_params(skb, &p);
}

static int pvlock_host_get_status(struct sk_buff *skb, struct genl_info *info)
{
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_GET_STATUS,
			       pvlock_host_fill_status, NULL);
}

static int pvlock_host_no_vm(struct genl_info *info)
{
	if (!info->attrs[PVLOCK_A_VM_ID])
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[PVLOCK_A_VM_ID], "no such VM");
	return -ENOENT;
}

static int pvlock_host_get_params(struct sk_buff *skb, struct genl_info *info)
{
	int err = pvlock_host_no_vm(info);

	if (err)
		return err;
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_GET_PARAMS,
			       pvlock_host_fill_params, NULL);
}

static int pvlock_host_set_params(struct sk_buff *skb, struct genl_info *info)
{
	struct pvlock_host_params np;
	struct pvlock_nl_params p;
	int err;

	err = pvlock_host_no_vm(info);
	if (err)
		return err;
	err = pvlock_nl_parse_params(info->attrs[PVLOCK_A_PARAMS], PVLOCK_PF_HOST, false, &p,
				     info->extack);
	if (err)
		return err;

	mutex_lock(&pvlock_host_lock);
	np = pvlock_host_params;
#define SETP(attr, field) if (pvlock_nl_has(&p, attr)) np.field = p.val[attr]
	SETP(PVLOCK_P_SPIN_THRESHOLD, threshold);
	SETP(PVLOCK_P_SPIN_MIN, min);
	SETP(PVLOCK_P_SPIN_MAX, max);
	SETP(PVLOCK_P_BUDGET, budget);
	SETP(PVLOCK_P_PERIOD_MS, period_ms);
	SETP(PVLOCK_P_CROSS_VM, cross_vm);
	SETP(PVLOCK_P_CROSS_BUDGET, cross_budget);
	SETP(PVLOCK_P_PRIO_BOOST, prio_boost);
	SETP(PVLOCK_P_PINNED, pinned);
#undef SETP
	if (np.min > np.max || (np.threshold && (np.threshold < np.min || np.threshold > np.max))) {
		mutex_unlock(&pvlock_host_lock);
		NL_SET_ERR_MSG(info->extack, "need min <= threshold <= max (threshold 0: no hint)");
		return -EINVAL;
	}
	pvlock_host_params = np;
	mutex_unlock(&pvlock_host_lock);
	pr_info("global parameters changed by pid %d\n", task_pid_nr(current));
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_SET_PARAMS,
			       pvlock_host_fill_params, NULL);
}

/* No VM tracking yet: the VM list and per-VM stats dumps are empty. */
static int pvlock_host_dump_none(struct sk_buff *skb, struct netlink_callback *cb)
{
	return 0;
}

static int pvlock_host_reset_stats(struct sk_buff *skb, struct genl_info *info)
{
	return pvlock_host_no_vm(info);
}

static const struct genl_ops pvlock_host_ops[] = {
	{
		.cmd = PVLOCK_HOST_CMD_GET_STATUS,
		.doit = pvlock_host_get_status,
	},
	{
		.cmd = PVLOCK_HOST_CMD_GET_PARAMS,
		.doit = pvlock_host_get_params,
	},
	{
		.cmd = PVLOCK_HOST_CMD_SET_PARAMS,
		.doit = pvlock_host_set_params,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = PVLOCK_HOST_CMD_GET_VMS,
		.dumpit = pvlock_host_dump_none,
	},
	{
		.cmd = PVLOCK_HOST_CMD_GET_STATS,
		.dumpit = pvlock_host_dump_none,
	},
	{
		.cmd = PVLOCK_HOST_CMD_RESET_STATS,
		.doit = pvlock_host_reset_stats,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family pvlock_host_family __ro_after_init = {
	.name = PVLOCK_HOST_GENL_NAME,
	.version = PVLOCK_GENL_VERSION,
	.maxattr = PVLOCK_A_MAX,
	.policy = pvlock_nl_policy,
	.module = THIS_MODULE,
	.ops = pvlock_host_ops,
	.n_ops = ARRAY_SIZE(pvlock_host_ops),
	.resv_start_op = PVLOCK_HOST_CMD_GET_STATUS,	/* strict checks for every command */
	.mcgrps = pvlock_host_mcgrps,
	.n_mcgrps = ARRAY_SIZE(pvlock_host_mcgrps),
};

int pvlock_host_netlink_init(void)
{
	return genl_register_family(&pvlock_host_family);
}

void pvlock_host_netlink_exit(void)
{
	genl_unregister_family(&pvlock_host_family);
}

MODULE_ALIAS_GENL_FAMILY(PVLOCK_HOST_GENL_NAME);
