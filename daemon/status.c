// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl status: what is loaded, its version and ABI, and its state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pvlock/names.h>
#include <pvlock/params.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

static void print_params_nest(const struct nlattr *nest)
{
	struct pv_params p;

	nlc_parse_params(nest, p.val, &p.present);
	ctl_print_params(&p, ~0u, CTL_PARAMS_STATUS);
}

static uint32_t get_u32(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static void print_features(const char *key, const char *label, uint32_t f)
{
	static const char *const names[] = { "record", "ecs", "yield", "hints", "cross-vm" };
	unsigned int i;

	out_open_array(key);
	out_text("  %-14s", label);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & (1u << i)))
			continue;
		out_str(NULL, " %s", names[i]);
	}
	if (!f)
		out_text(" none");
	out_text("\n");
	out_close_array();
}

static int print_guest(struct nlattr **tb, void *arg)
{
	uint32_t hs = get_u32(tb, PVLOCK_A_HANDSHAKE);

	(void)arg;
	out_open_object("guest");
	out_text("%s:\n", PVLOCK_GUEST_GENL_NAME);
	out_bool("loaded", NULL, true);
	out_str("version", "  version        %s", tb[PVLOCK_A_VERSION] ?
		nla_get_string(tb[PVLOCK_A_VERSION]) : "?");
	out_u64("abi", " (ABI %llu)\n", get_u32(tb, PVLOCK_A_ABI));
	out_str("kernel", "  kernel         %s\n", tb[PVLOCK_A_KERNEL] ?
		nla_get_string(tb[PVLOCK_A_KERNEL]) : "?");
	out_str("handshake", "  handshake      %s\n", PVLOCK_NAME(pvlock_handshake_names, hs));
	if (tb[PVLOCK_A_HOST_ABI]) {
		out_u64("host_abi", "  host ABI       %llu\n", get_u32(tb, PVLOCK_A_HOST_ABI));
		print_features("host_features", "agreed", get_u32(tb, PVLOCK_A_HOST_FEATURES));
	}
	out_str("livepatch", "  livepatch      %s\n",
		PVLOCK_NAME(pvlock_livepatch_names, get_u32(tb, PVLOCK_A_LIVEPATCH)));
	out_u64("cpus", "  cpus           %llu", get_u32(tb, PVLOCK_A_NR_CPUS));
	out_u64("registered", " (%llu registered with the host)\n",
		get_u32(tb, PVLOCK_A_NR_REGISTERED));
	print_params_nest(tb[PVLOCK_A_PARAMS]);
	out_close_object();
	return 0;
}

static void print_hooks(uint32_t h)
{
	out_open_array("hooks");
	out_text("  %-14s", "hooks");
	if (h & PVLOCK_HOOK_HYPERCALL)
		out_str(NULL, " %s", "hypercall");
	if (h & PVLOCK_HOOK_ON_SPIN)
		out_str(NULL, " %s", "on_spin");
	if (h & PVLOCK_HOOK_PREEMPT)
		out_str(NULL, " %s", "preempt-notifiers");
	if (!h)
		out_text(" none");
	out_text("\n");
	out_close_array();
}

static int print_host(struct nlattr **tb, void *arg)
{
	(void)arg;
	out_open_object("host");
	out_text("%s:\n", PVLOCK_HOST_GENL_NAME);
	out_bool("loaded", NULL, true);
	out_str("version", "  version        %s", tb[PVLOCK_A_VERSION] ?
		nla_get_string(tb[PVLOCK_A_VERSION]) : "?");
	out_u64("abi", " (ABI %llu)\n", get_u32(tb, PVLOCK_A_ABI));
	out_str("kernel", "  kernel         %s\n", tb[PVLOCK_A_KERNEL] ?
		nla_get_string(tb[PVLOCK_A_KERNEL]) : "?");
	print_hooks(get_u32(tb, PVLOCK_A_HOOKS));
	out_u64("vms", "  vms            %llu", get_u32(tb, PVLOCK_A_NR_VMS));
	out_u64("registered", " (%llu vCPUs registered)\n", get_u32(tb, PVLOCK_A_NR_REGISTERED));
	out_u64("pcpus", "  pcpus          %llu\n", get_u32(tb, PVLOCK_A_NR_CPUS));
	if (tb[PVLOCK_A_OVERCOMMIT])
		out_u64("overcommit_pct", "  overcommit     %llu%%\n",
			get_u32(tb, PVLOCK_A_OVERCOMMIT));
	print_params_nest(tb[PVLOCK_A_PARAMS]);
	out_close_object();
	return 0;
}

static int status_one(const char *family, uint8_t cmd, nlc_msg_cb cb, const char *key,
		      bool quiet_missing)
{
	struct nlc c;
	struct nl_msg *msg;
	int err;

	err = nlc_open(&c, family);
	if (err) {
		if (err == -ENOENT && quiet_missing) {
			out_open_object(key);
			out_bool("loaded", NULL, false);
			out_text("%s: not loaded (netlink family not found; is %s.ko loaded?)\n",
				 family, family);
			out_close_object();
		}
		return err;
	}
	msg = nlc_msg(&c, cmd, false);
	err = msg ? nlc_request(&c, msg, cb, NULL) : -ENOMEM;
	if (err)
		ctl_request_error(&c, "status", err);
	nlc_close(&c);
	return err;
}

int ctl_status(int argc, char **argv)
{
	unsigned int fam = ctl_opts.families;
	bool both = fam == (CTL_GUEST | CTL_HOST);
	int eg = -ENOENT, eh = -ENOENT, n, rc;
	char *w[OPT_MAX_WORDS], err[256];

	rc = args_none(&args_status_cmd, argc, argv, w, &n, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_status_cmd, NULL, 0) : ctl_usage_error("%s", err);

	out_open_object(NULL);
	if (fam & CTL_GUEST)
		eg = status_one(PVLOCK_GUEST_GENL_NAME, PVLOCK_GUEST_CMD_GET_STATUS, print_guest,
				"guest", both);
	if (fam & CTL_HOST)
		eh = status_one(PVLOCK_HOST_GENL_NAME, PVLOCK_HOST_CMD_GET_STATUS, print_host,
				"host", both);
	out_close_object();

	if (both) {
		if (eg == -ENOENT && eh == -ENOENT) {
			ctl_err("neither pvlock_guest nor pvlock_host is loaded");
			return CTL_EXIT_FAIL;
		}
		return (eg && eg != -ENOENT) || (eh && eh != -ENOENT) ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	if (fam & CTL_GUEST && eg)
		return eg == -ENOENT ? ctl_family_error(PVLOCK_GUEST_GENL_NAME, eg) : CTL_EXIT_FAIL;
	if (fam & CTL_HOST && eh)
		return eh == -ENOENT ? ctl_family_error(PVLOCK_HOST_GENL_NAME, eh) : CTL_EXIT_FAIL;
	return CTL_EXIT_OK;
}
