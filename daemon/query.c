// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nlc.h"
#include "query.h"
#include "util.h"

static bool pv_is_host(const struct nlc *c)
{
	return !strcmp(c->family, PVLOCK_HOST_GENL_NAME);
}

static uint32_t pv_u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static int pv_vm_cb(struct nlattr **tb, void *arg)
{
	static struct nla_policy pol[PVLOCK_VM_MAX + 1] = {
		[PVLOCK_VM_ID] = { .type = NLA_U32 },
		[PVLOCK_VM_PID] = { .type = NLA_U32 },
		[PVLOCK_VM_NAME] = { .type = NLA_STRING },
		[PVLOCK_VM_NR_VCPUS] = { .type = NLA_U32 },
		[PVLOCK_VM_NR_REGISTERED] = { .type = NLA_U32 },
		[PVLOCK_VM_ABI] = { .type = NLA_U32 },
		[PVLOCK_VM_FEATURES] = { .type = NLA_U32 },
	};
	struct pv_vms *vms = arg;
	struct nlattr *v[PVLOCK_VM_MAX + 1];
	struct pv_vm *vm;

	if (!tb[PVLOCK_A_VM] || nla_parse_nested(v, PVLOCK_VM_MAX, tb[PVLOCK_A_VM], pol) < 0 ||
	    !v[PVLOCK_VM_ID])
		return -EPROTO;
	if (UTIL_GROW(vms->vm, vms->cap, vms->n + 1))
		return -ENOMEM;
	vm = &vms->vm[vms->n++];
	memset(vm, 0, sizeof(*vm));
	vm->id = nla_get_u32(v[PVLOCK_VM_ID]);
	vm->pid = pv_u32(v, PVLOCK_VM_PID);
	vm->nr_vcpus = pv_u32(v, PVLOCK_VM_NR_VCPUS);
	vm->nr_registered = pv_u32(v, PVLOCK_VM_NR_REGISTERED);
	vm->has_abi = v[PVLOCK_VM_ABI];
	vm->abi = pv_u32(v, PVLOCK_VM_ABI);
	vm->features = pv_u32(v, PVLOCK_VM_FEATURES);
	if (v[PVLOCK_VM_NAME])
		snprintf(vm->name, sizeof(vm->name), "%s", nla_get_string(v[PVLOCK_VM_NAME]));
	else
		snprintf(vm->name, sizeof(vm->name), "pid-%u", vm->pid);
	nlc_parse_params(tb[PVLOCK_A_PARAMS], vm->params.val, &vm->params.present);
	nlc_parse_counters(tb[PVLOCK_A_STATS], vm->stats, __PVLOCK_HS_LAST);
	return 0;
}

int pv_get_vms(struct nlc *c, struct pv_vms *out)
{
	struct nl_msg *msg = nlc_msg(c, PVLOCK_HOST_CMD_GET_VMS, true);
	int err;

	memset(out, 0, sizeof(*out));
	if (!msg)
		return -ENOMEM;
	err = nlc_request(c, msg, pv_vm_cb, out);
	if (err)
		pv_vms_free(out);
	return err;
}

void pv_vms_free(struct pv_vms *vms)
{
	free(vms->vm);
	memset(vms, 0, sizeof(*vms));
}

int pv_find_vm(const struct pv_vms *vms, const char *sel, const struct pv_vm **out)
{
	const struct pv_vm *found = NULL;
	size_t i;
	long id;

	for (i = 0; i < vms->n; i++) {
		if (strcmp(vms->vm[i].name, sel))
			continue;
		if (found)
			return -EEXIST;
		found = &vms->vm[i];
	}
	if (!found && !util_long(sel, 0, UINT32_MAX, &id)) {
		for (i = 0; i < vms->n; i++)
			if (vms->vm[i].id == id)
				found = &vms->vm[i];
	}
	*out = found;
	return found ? 0 : -ENOENT;
}

static int pv_params_cb(struct nlattr **tb, void *arg)
{
	struct pv_params *p = arg;

	if (p)
		nlc_parse_params(tb[PVLOCK_A_PARAMS], p->val, &p->present);
	return 0;
}

static struct nl_msg *pv_vm_msg(struct nlc *c, uint8_t cmd, int64_t vm_id)
{
	struct nl_msg *msg = nlc_msg(c, cmd, false);

	if (msg && vm_id != PV_NO_VM && nla_put_u32(msg, PVLOCK_A_VM_ID, (uint32_t)vm_id) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int pv_get_params(struct nlc *c, int64_t vm_id, struct pv_params *out)
{
	/* both families number GET_PARAMS alike; asserted so it stays so */
	_Static_assert((int)PVLOCK_GUEST_CMD_GET_PARAMS == (int)PVLOCK_HOST_CMD_GET_PARAMS &&
		       (int)PVLOCK_GUEST_CMD_SET_PARAMS == (int)PVLOCK_HOST_CMD_SET_PARAMS,
		       "params commands differ between families");
	struct nl_msg *msg = pv_vm_msg(c, PVLOCK_HOST_CMD_GET_PARAMS, vm_id);

	memset(out, 0, sizeof(*out));
	if (!msg)
		return -ENOMEM;
	return nlc_request(c, msg, pv_params_cb, out);
}

int pv_set_params(struct nlc *c, int64_t vm_id, const struct pv_params *set,
		  struct pv_params *reply)
{
	struct nl_msg *msg = pv_vm_msg(c, PVLOCK_HOST_CMD_SET_PARAMS, vm_id);

	if (reply)
		memset(reply, 0, sizeof(*reply));
	if (!msg)
		return -ENOMEM;
	if (nlc_put_params(msg, set->val, set->present)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nlc_request(c, msg, pv_params_cb, reply);
}

int pv_reset_stats(struct nlc *c, int64_t vm_id)
{
	struct nl_msg *msg = pv_vm_msg(c, pv_is_host(c) ? PVLOCK_HOST_CMD_RESET_STATS :
					  PVLOCK_GUEST_CMD_RESET_STATS, vm_id);

	if (!msg)
		return -ENOMEM;
	return nlc_request(c, msg, NULL, NULL);
}

static int pv_host_status_cb(struct nlattr **tb, void *arg)
{
	struct pv_host_status *s = arg;

	s->abi = pv_u32(tb, PVLOCK_A_ABI);
	s->nr_cpus = pv_u32(tb, PVLOCK_A_NR_CPUS);
	s->nr_vms = pv_u32(tb, PVLOCK_A_NR_VMS);
	s->nr_registered = pv_u32(tb, PVLOCK_A_NR_REGISTERED);
	s->hooks = pv_u32(tb, PVLOCK_A_HOOKS);
	s->has_overcommit = tb[PVLOCK_A_OVERCOMMIT];
	s->overcommit_pct = pv_u32(tb, PVLOCK_A_OVERCOMMIT);
	if (tb[PVLOCK_A_VERSION])
		snprintf(s->version, sizeof(s->version), "%s", nla_get_string(tb[PVLOCK_A_VERSION]));
	nlc_parse_params(tb[PVLOCK_A_PARAMS], s->params.val, &s->params.present);
	return 0;
}

int pv_get_host_status(struct nlc *c, struct pv_host_status *out)
{
	struct nl_msg *msg = nlc_msg(c, PVLOCK_HOST_CMD_GET_STATUS, false);

	memset(out, 0, sizeof(*out));
	if (!msg)
		return -ENOMEM;
	return nlc_request(c, msg, pv_host_status_cb, out);
}
