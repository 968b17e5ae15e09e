// SPDX-License-Identifier: GPL-2.0
/*
 * The "pvlock_host" generic netlink family (commands and attribute trees:
 * include/uapi/linux/pvlock.h). State changes, the VM list, the counters and
 * the events need CAP_NET_ADMIN (GENL_ADMIN_PERM, GENL_MCAST_CAP_NET_ADMIN);
 * every value is checked against the parameter spec before anything is
 * applied. Registered last at load, unregistered first at unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/utsname.h>
#include <net/genetlink.h>

#include <pvlock/knl.h>
#include <pvlock/version.h>

#include "pvlock_host.h"

static struct genl_family pvlock_host_family;
static DECLARE_RWSEM(pvlock_nl_sem);	/* events vs. unregistering the family */
static bool pvlock_nl_up;

enum { PVLOCK_HOST_MCGRP_EVENTS };

static const struct genl_multicast_group pvlock_host_mcgrps[] = {
	/* events name VMs and their pids: as GET_VMS, for CAP_NET_ADMIN only */
	[PVLOCK_HOST_MCGRP_EVENTS] = { .name = PVLOCK_GENL_MCGRP_EVENTS,
				       .flags = GENL_MCAST_CAP_NET_ADMIN },
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

static void pvlock_global_params(struct pvlock_host_params *p)
{
	mutex_lock(&pvlock_host_lock);
	*p = pvlock_host_params;
	mutex_unlock(&pvlock_host_lock);
}

/* A VM's identity, copied while the VM is known to live. */
struct pvlock_vm_info {
	u32 id, pid, nr_vcpus, nr_registered, abi, features;
	char name[PVLOCK_NAME_MAX];
};

static void pvlock_vm_info(struct pvlock_vm *vm, struct pvlock_vm_info *i)
{
	i->id = vm->id;
	i->pid = vm->pid;
	i->nr_vcpus = READ_ONCE(vm->nr_vcpus);
	i->nr_registered = atomic_read(&vm->nr_registered);
	i->abi = READ_ONCE(vm->abi);
	i->features = READ_ONCE(vm->features);
	spin_lock(&vm->lock);
	strscpy(i->name, vm->name, sizeof(i->name));
	spin_unlock(&vm->lock);
}

static int pvlock_put_vm(struct sk_buff *skb, const struct pvlock_vm_info *i)
{
	struct nlattr *nest = nla_nest_start(skb, PVLOCK_A_VM);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, PVLOCK_VM_ID, i->id) ||
	    nla_put_u32(skb, PVLOCK_VM_PID, i->pid) ||
	    nla_put_string(skb, PVLOCK_VM_NAME, i->name) ||
	    nla_put_u32(skb, PVLOCK_VM_NR_VCPUS, i->nr_vcpus) ||
	    nla_put_u32(skb, PVLOCK_VM_NR_REGISTERED, i->nr_registered) ||
	    (i->abi && (nla_put_u32(skb, PVLOCK_VM_ABI, i->abi) ||
			nla_put_u32(skb, PVLOCK_VM_FEATURES, i->features)))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* ---- events (sent from process context) --------------------------------- */

struct pvlock_event_arg {
	enum pvlock_event ev;
	bool has_vm, has_params;
	struct pvlock_vm_info vm;
	struct pvlock_host_params p;
	int cpu;
};

static int pvlock_host_fill_event(struct sk_buff *skb, void *arg)
{
	struct pvlock_event_arg *e = arg;

	if (nla_put_u32(skb, PVLOCK_A_EVENT, e->ev) ||
	    nla_put_u64_64bit(skb, PVLOCK_A_TIME_NS, ktime_get_ns(), PVLOCK_A_PAD) ||
	    (e->has_vm && pvlock_put_vm(skb, &e->vm)) ||
	    (e->cpu >= 0 && nla_put_u32(skb, PVLOCK_A_CPU, e->cpu)))
		return -EMSGSIZE;
	return e->has_params ? pvlock_host_put_params(skb, &e->p) : 0;
}

static void pvlock_send_event(struct pvlock_event_arg *e)
{
	down_read(&pvlock_nl_sem);
	if (pvlock_nl_up)
		pvlock_nl_multicast(&pvlock_host_family, PVLOCK_HOST_MCGRP_EVENTS,
				    PVLOCK_HOST_CMD_EVENT, pvlock_host_fill_event, e, GFP_KERNEL);
	up_read(&pvlock_nl_sem);
}

/* ---- status and parameters ---------------------------------------------- */

static int pvlock_host_fill_status(struct sk_buff *skb, void *arg)
{
	struct pvlock_host_params p;
	u32 nr_vms = 0, nr_reg = 0;
	struct pvlock_vm *vm;

	pvlock_global_params(&p);
	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		nr_vms++;
		nr_reg += atomic_read(&vm->nr_registered);
	}
	rcu_read_unlock();
	if (nla_put_string(skb, PVLOCK_A_VERSION, PVLOCK_VERSION) ||
	    nla_put_u32(skb, PVLOCK_A_ABI, PVLOCK_ABI_VERSION) ||
	    nla_put_string(skb, PVLOCK_A_KERNEL, init_utsname()->release) ||
	    nla_put_u32(skb, PVLOCK_A_FEATURES, PVLOCK_F_ALL) ||
	    nla_put_u32(skb, PVLOCK_A_HOOKS, READ_ONCE(pvlock_host_hooks)) ||
	    nla_put_u32(skb, PVLOCK_A_NR_VMS, nr_vms) ||
	    nla_put_u32(skb, PVLOCK_A_NR_REGISTERED, nr_reg) ||
	    nla_put_u32(skb, PVLOCK_A_NR_CPUS, num_online_cpus()) ||
	    nla_put_u32(skb, PVLOCK_A_OVERCOMMIT, pvlock_host_overcommit()))
		return -EMSGSIZE;
	return pvlock_host_put_params(skb, &p);
}

static int pvlock_host_get_status(struct sk_buff *skb, struct genl_info *info)
{
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_GET_STATUS,
			       pvlock_host_fill_status, NULL);
}

/* The VM a request names; -ENOENT with a message if there is none. */
static int pvlock_req_vm(struct genl_info *info, u32 *id)
{
	struct nlattr *a = info->attrs[PVLOCK_A_VM_ID];
	bool found;

	*id = 0;
	if (!a)
		return 0;
	*id = nla_get_u32(a);
	rcu_read_lock();
	found = pvlock_vm_by_id(*id);
	rcu_read_unlock();
	if (found && *id)
		return 0;
	NL_SET_ERR_MSG_ATTR(info->extack, a, "no such VM");
	return -ENOENT;
}

struct pvlock_params_reply {
	u32 vm_id;			/* 0: global */
	struct pvlock_host_params p;
};

static int pvlock_host_fill_params(struct sk_buff *skb, void *arg)
{
	struct pvlock_params_reply *r = arg;

	if (r->vm_id && nla_put_u32(skb, PVLOCK_A_VM_ID, r->vm_id))
		return -EMSGSIZE;
	return pvlock_host_put_params(skb, &r->p);
}

/* Current values for the reply: global, or effective for one VM. */
static int pvlock_params_of(u32 id, struct pvlock_params_reply *r)
{
	struct pvlock_vm *vm;
	int err = 0;

	r->vm_id = id;
	if (!id) {
		pvlock_global_params(&r->p);
		return 0;
	}
	mutex_lock(&pvlock_host_lock);
	rcu_read_lock();
	vm = pvlock_vm_by_id(id);
	if (vm)
		pvlock_vm_params(vm, &r->p);
	else
		err = -ENOENT;
	rcu_read_unlock();
	mutex_unlock(&pvlock_host_lock);
	return err;
}

static int pvlock_host_get_params(struct sk_buff *skb, struct genl_info *info)
{
	struct pvlock_params_reply r;
	u32 id;
	int err;

	err = pvlock_req_vm(info, &id);
	if (err)
		return err;
	err = pvlock_params_of(id, &r);
	if (err)
		return err;
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_GET_PARAMS,
			       pvlock_host_fill_params, &r);
}

static void pvlock_apply(struct pvlock_host_params *np, const struct pvlock_nl_params *p)
{
#define SETP(attr, field) if (pvlock_nl_has(p, attr)) np->field = p->val[attr]
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
}

static int pvlock_check_bounds(const struct pvlock_host_params *np, struct genl_info *info)
{
	if (np->min > np->max ||
	    (np->threshold && (np->threshold < np->min || np->threshold > np->max))) {
		NL_SET_ERR_MSG(info->extack, "need min <= threshold <= max (threshold 0: no hint)");
		return -EINVAL;
	}
	return 0;
}

/* PVLOCK_EV_PARAMS with the values now in force (global or one VM's). */
static void pvlock_params_event(u32 id, const struct pvlock_host_params *p)
{
	struct pvlock_event_arg *e = kzalloc(sizeof(*e), GFP_KERNEL);
	struct pvlock_vm *vm;

	if (!e)
		return;
	e->ev = PVLOCK_EV_PARAMS;
	e->cpu = -1;
	e->has_params = true;
	e->p = *p;
	rcu_read_lock();
	vm = id ? pvlock_vm_by_id(id) : NULL;
	if (vm) {
		e->has_vm = true;
		pvlock_vm_info(vm, &e->vm);
	}
	rcu_read_unlock();
	pvlock_send_event(e);
	kfree(e);
}

static int pvlock_host_set_params(struct sk_buff *skb, struct genl_info *info)
{
	struct pvlock_params_reply r;
	struct pvlock_host_params np;
	struct pvlock_nl_params p;
	struct pvlock_vm *vm;
	u32 id;
	int err;

	err = pvlock_req_vm(info, &id);
	if (err)
		return err;
	err = pvlock_nl_parse_params(info->attrs[PVLOCK_A_PARAMS], PVLOCK_PF_HOST, id != 0, &p,
				     info->extack);
	if (err)
		return err;

	mutex_lock(&pvlock_host_lock);
	if (!id) {
		np = pvlock_host_params;
		pvlock_apply(&np, &p);
		err = pvlock_check_bounds(&np, info);
		if (!err) {
			/* field by field: lockless readers see each value whole */
			WRITE_ONCE(pvlock_host_params.threshold, np.threshold);
			WRITE_ONCE(pvlock_host_params.min, np.min);
			WRITE_ONCE(pvlock_host_params.max, np.max);
			WRITE_ONCE(pvlock_host_params.budget, np.budget);
			WRITE_ONCE(pvlock_host_params.period_ms, np.period_ms);
			WRITE_ONCE(pvlock_host_params.cross_vm, np.cross_vm);
			WRITE_ONCE(pvlock_host_params.cross_budget, np.cross_budget);
			WRITE_ONCE(pvlock_host_params.prio_boost, np.prio_boost);
			WRITE_ONCE(pvlock_host_params.pinned, np.pinned);
		}
	} else {
		rcu_read_lock();
		vm = pvlock_vm_by_id(id);
		if (!vm) {
			err = -ENOENT;
			NL_SET_ERR_MSG(info->extack, "VM exited");
		} else {
			pvlock_vm_params(vm, &np);
			pvlock_apply(&np, &p);
			err = pvlock_check_bounds(&np, info);
			if (!err) {
				pvlock_apply(&vm->p, &p);
				/* values before the bits that make readers use them */
				smp_wmb();
				WRITE_ONCE(vm->set, vm->set | p.present);
			}
		}
		rcu_read_unlock();
	}
	mutex_unlock(&pvlock_host_lock);
	if (err)
		return err;

	pr_info("%s parameters changed by pid %d\n", id ? "per-VM" : "global",
		task_pid_nr(current));
	pvlock_host_kick_worker();
	err = pvlock_params_of(id, &r);
	if (err)
		return err;
	pvlock_params_event(id, &r.p);
	return pvlock_nl_reply(&pvlock_host_family, info, PVLOCK_HOST_CMD_SET_PARAMS,
			       pvlock_host_fill_params, &r);
}

/* ---- VM list and statistics --------------------------------------------- */

struct pvlock_row {
	u64 c[__PVLOCK_HS_LAST];
	u64 hist[PVLOCK_HIST_BUCKETS];
};

static void *pvlock_dump_start_msg(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &pvlock_host_family, NLM_F_MULTI, cmd);
}

static int pvlock_fill_vm_row(struct sk_buff *skb, struct pvlock_vm *vm, struct pvlock_row *row)
{
	struct pvlock_host_params p;
	struct pvlock_vm_info info;

	pvlock_vm_info(vm, &info);
	pvlock_vm_params(vm, &p);
	pvlock_hstats_read(&vm->st, row->c, row->hist);
	if (pvlock_put_vm(skb, &info) || pvlock_host_put_params(skb, &p) ||
	    pvlock_nl_put_counters(skb, PVLOCK_A_STATS, row->c, __PVLOCK_HS_LAST))
		return -EMSGSIZE;
	return 0;
}

/* One message per VM, in id order; cb->args[0] is the last id sent. */
static int pvlock_host_dump_vms(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pvlock_row *row;
	struct pvlock_vm *vm;
	void *hdr;

	row = kmalloc(sizeof(*row), GFP_KERNEL);
	if (!row)
		return -ENOMEM;
	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		if (vm->id <= cb->args[0] || READ_ONCE(vm->dead))
			continue;
		hdr = pvlock_dump_start_msg(skb, cb, PVLOCK_HOST_CMD_GET_VMS);
		if (!hdr)
			break;
		if (pvlock_fill_vm_row(skb, vm, row)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = vm->id;
	}
	rcu_read_unlock();
	kfree(row);
	return skb->len;
}

static int pvlock_fill_stats_row(struct sk_buff *skb, u32 vm_id, int idx,
				 const struct pvlock_hstats *st, struct pvlock_row *row)
{
	pvlock_hstats_read(st, row->c, row->hist);
	if (nla_put_u32(skb, PVLOCK_A_VM_ID, vm_id) ||
	    (idx >= 0 && nla_put_u32(skb, PVLOCK_A_CPU, idx)) ||
	    nla_put_u64_64bit(skb, PVLOCK_A_TIME_NS, ktime_get_ns(), PVLOCK_A_PAD) ||
	    pvlock_nl_put_counters(skb, PVLOCK_A_STATS, row->c, __PVLOCK_HS_LAST) ||
	    pvlock_nl_put_hist(skb, row->hist))
		return -EMSGSIZE;
	return 0;
}

/*
 * Per VM (and with PVLOCK_A_PER_VCPU, then per registered vCPU, by vCPU
 * index). Resume state: args[0] = last VM id finished, args[1] = 1 + the
 * last vCPU index sent of the VM in progress (0: its VM row not sent yet).
 */
static int pvlock_host_dump_stats(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = pvlock_dump_attrs(cb);
	bool per_vcpu = attrs[PVLOCK_A_PER_VCPU];
	u32 only = attrs[PVLOCK_A_VM_ID] ? nla_get_u32(attrs[PVLOCK_A_VM_ID]) : 0;
	struct pvlock_row *row;
	struct pvlock_vm *vm;
	void *hdr;
	int err = 0;

	if (only && !cb->args[2]) {
		bool found;

		rcu_read_lock();
		found = pvlock_vm_by_id(only);
		rcu_read_unlock();
		if (!found) {
			NL_SET_ERR_MSG_ATTR(cb->extack, attrs[PVLOCK_A_VM_ID], "no such VM");
			return -ENOENT;
		}
	}
	cb->args[2] = 1;
	row = kmalloc(sizeof(*row), GFP_KERNEL);
	if (!row)
		return -ENOMEM;
	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		struct pvlock_vcpu *pv;
		unsigned long i;

		if (vm->id <= cb->args[0] || READ_ONCE(vm->dead) || (only && vm->id != only))
			continue;
		if (!cb->args[1]) {
			hdr = pvlock_dump_start_msg(skb, cb, PVLOCK_HOST_CMD_GET_STATS);
			if (!hdr || pvlock_fill_stats_row(skb, vm->id, -1, &vm->st, row)) {
				if (hdr)
					genlmsg_cancel(skb, hdr);
				err = 1;
				break;
			}
			genlmsg_end(skb, hdr);
			cb->args[1] = 1;
		}
		if (per_vcpu) {
			xa_for_each_start(&vm->vcpus, i, pv, cb->args[1] - 1) {
				hdr = pvlock_dump_start_msg(skb, cb, PVLOCK_HOST_CMD_GET_STATS);
				if (!hdr || pvlock_fill_stats_row(skb, vm->id, pv->idx, &pv->st, row)) {
					if (hdr)
						genlmsg_cancel(skb, hdr);
					err = 1;
					break;
				}
				genlmsg_end(skb, hdr);
				cb->args[1] = i + 2;
			}
			if (err)
				break;
		}
		cb->args[0] = vm->id;
		cb->args[1] = 0;
	}
	rcu_read_unlock();
	kfree(row);
	return skb->len;
}

static int pvlock_host_reset_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct pvlock_vcpu *pv;
	struct pvlock_vm *vm;
	unsigned long i;
	u32 id;
	int err;

	err = pvlock_req_vm(info, &id);
	if (err)
		return err;
	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		if (id && vm->id != id)
			continue;
		pvlock_hstats_reset(&vm->st);
		xa_for_each(&vm->vcpus, i, pv)
			pvlock_hstats_reset(&pv->st);
	}
	rcu_read_unlock();
	pr_info("statistics reset by pid %d\n", task_pid_nr(current));
	return 0;
}

/* ---- events -------------------------------------------------------------- */

/*
 * Process context; @vm (or NULL) must live for the call: callers are its
 * own threads, the worker under RCU, or its free work.
 */
void pvlock_host_notify(enum pvlock_event ev, struct pvlock_vm *vm, int cpu)
{
	struct pvlock_event_arg *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (!e)
		return;
	e->ev = ev;
	e->cpu = cpu;
	if (vm) {
		e->has_vm = true;
		pvlock_vm_info(vm, &e->vm);
	}
	pvlock_send_event(e);
	kfree(e);
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
	/*
	 * VM names, VMM pids and per-VM counters describe other users'
	 * processes (past hidepid): like kvm_stat's sources (debugfs, a VM's
	 * stats fd), not for everyone. Status and parameters stay open.
	 */
	{
		.cmd = PVLOCK_HOST_CMD_GET_VMS,
		.dumpit = pvlock_host_dump_vms,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = PVLOCK_HOST_CMD_GET_STATS,
		.dumpit = pvlock_host_dump_stats,
		.flags = GENL_ADMIN_PERM,
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
	int err = genl_register_family(&pvlock_host_family);

	if (!err) {
		down_write(&pvlock_nl_sem);
		pvlock_nl_up = true;
		up_write(&pvlock_nl_sem);
	}
	return err;
}

void pvlock_host_netlink_exit(void)
{
	down_write(&pvlock_nl_sem);
	pvlock_nl_up = false;
	up_write(&pvlock_nl_sem);
	genl_unregister_family(&pvlock_host_family);
}

MODULE_ALIAS_GENL_FAMILY(PVLOCK_HOST_GENL_NAME);
