// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl vm list | vm show VM: the VMs pvlock_host knows, with their
 * identity, the values in force for them and their counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pvlock/names.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

enum {
	VL_ID, VL_NAME, VL_PID, VL_VCPUS, VL_REG, VL_THRESHOLD, VL_BUDGET, VL_PINNED, VL_YIELDS,
	VL_BOOSTS_RX, VL_LHP, VL_DENIED, VL_PREEMPTED, VL_NCOLS
};

static const struct tab_col vm_cols[VL_NCOLS] = {
	[VL_ID] = { "id", "ID", TAB_U64, TAB_RIGHT, "pvlock_host's VM id" },
	[VL_NAME] = { "name", "NAME", TAB_STR, 0, "QEMU's -name, else pid-N" },
	[VL_PID] = { "pid", "PID", TAB_U64, TAB_RIGHT, "the VMM's process id" },
	[VL_VCPUS] = { "vcpus", "VCPUS", TAB_U64, TAB_RIGHT, "vCPUs" },
	[VL_REG] = { "registered", "REG", TAB_U64, TAB_RIGHT,
		     "vCPUs registered by pvlock_guest (0: a guest without it)" },
	[VL_THRESHOLD] = { "threshold", "THRESHOLD", TAB_U64, TAB_RIGHT,
			   "spin-threshold hint in force (0: none), set by pvlockd or by hand" },
	[VL_BUDGET] = { "budget", "BUDGET", TAB_U64, TAB_RIGHT, "boosts per period" },
	[VL_PINNED] = { "pinned", "PINNED", TAB_STR, 0, "values pvlockd leaves alone" },
	[VL_YIELDS] = { "yields", "YIELDS", TAB_U64, TAB_RIGHT, "yield hypercalls" },
	[VL_BOOSTS_RX] = { "boosts_received", "BOOSTS_RX", TAB_U64, TAB_RIGHT,
			   "times its vCPUs were yielded to" },
	[VL_LHP] = { "lhp", "LHP", TAB_U64, TAB_RIGHT,
		     "lock-holder/waiter preemptions: vCPUs preempted inside a critical "
		     "section or while waiting for a lock" },
	[VL_DENIED] = { "budget_denied", "DENIED", TAB_U64, TAB_RIGHT,
			"boosts refused by the budget" },
	[VL_PREEMPTED] = { "preempted_ns", "PREEMPTED", TAB_U64, TAB_RIGHT | TAB_HIDDEN,
			   "time its vCPUs spent preempted (text: seconds)" },
};

int ctl_vm_help(void)
{
	printf("Usage: %s vm { list | show VM | help }\n", ctl_prog);
	printf("  list       %s\n  show VM    %s\n", args_vm_list_cmd.summary,
	       args_vm_show_cmd.summary);
	tab_help(stdout, vm_cols, VL_NCOLS);
	return CTL_EXIT_OK;
}

static void vm_identity(const struct pv_vm *vm)
{
	out_u64("id", NULL, vm->id);
	out_str("name", NULL, vm->name);
	out_u64("pid", NULL, vm->pid);
	out_u64("vcpus", NULL, vm->nr_vcpus);
	out_u64("registered", NULL, vm->nr_registered);
	if (vm->has_abi) {
		out_u64("abi", NULL, vm->abi);
		out_u64("features", NULL, vm->features);
	}
}

static void vm_stats(const struct pv_vm *vm, bool text)
{
	unsigned int i;
	char fmt[48], d[24];

	out_open_object("stats");
	for (i = 1; i < __PVLOCK_HS_LAST; i++) {
		if (text && i == PVLOCK_HS_PREEMPTED_NS) {
			/* a time: seconds for people, nanoseconds in JSON */
			out_text("    %-20s %s\n", pvlock_host_stat_names[i],
				 tab_dur((double)vm->stats[i], d, sizeof(d)));
			out_u64(pvlock_host_stat_names[i], NULL, vm->stats[i]);
			continue;
		}
		snprintf(fmt, sizeof(fmt), "    %-20s %%llu\n", pvlock_host_stat_names[i]);
		out_u64(pvlock_host_stat_names[i], text ? fmt : NULL, vm->stats[i]);
	}
	out_close_object();
}

static int vm_list(struct nlc *c, struct tab *t)
{
	struct pv_vms vms;
	char pins[32], d[24];
	size_t i;
	int err;

	err = pv_get_vms(c, &vms);
	if (err)
		return ctl_request_error(c, "vm list", err);
	tab_begin(t, NULL);
	for (i = 0; i < vms.n; i++) {
		const struct pv_vm *vm = &vms.vm[i];
		const uint64_t *s = vm->stats;

		pp_format(pvlock_param_spec(PVLOCK_P_PINNED), vm->params.val[PVLOCK_P_PINNED], pins,
			  sizeof(pins));
		tab_row(t);
		tab_u64(t, VL_ID, vm->id, NULL);
		tab_str(t, VL_NAME, vm->name);
		tab_u64(t, VL_PID, vm->pid, NULL);
		tab_u64(t, VL_VCPUS, vm->nr_vcpus, NULL);
		tab_u64(t, VL_REG, vm->nr_registered, NULL);
		tab_u64(t, VL_THRESHOLD, vm->params.val[PVLOCK_P_SPIN_THRESHOLD], NULL);
		tab_u64(t, VL_BUDGET, vm->params.val[PVLOCK_P_BUDGET], NULL);
		tab_str(t, VL_PINNED, pins);
		tab_u64(t, VL_YIELDS, s[PVLOCK_HS_YIELDS], NULL);
		tab_u64(t, VL_BOOSTS_RX, s[PVLOCK_HS_BOOSTS_RECEIVED], NULL);
		tab_u64(t, VL_LHP, s[PVLOCK_HS_ECS_PREEMPTIONS] + s[PVLOCK_HS_WAITER_PREEMPTIONS],
			NULL);
		tab_u64(t, VL_DENIED, s[PVLOCK_HS_BUDGET_DENIED], NULL);
		tab_u64(t, VL_PREEMPTED, s[PVLOCK_HS_PREEMPTED_NS],
			tab_dur((double)s[PVLOCK_HS_PREEMPTED_NS], d, sizeof(d)));
		/* the table has the key values; JSON without -o carries all of them */
		if (out_is_json() && !ctl_opts.columns) {
			if (vm->has_abi) {
				out_u64("abi", NULL, vm->abi);
				out_u64("features", NULL, vm->features);
			}
			ctl_print_params(&vm->params, ~0u, CTL_PARAMS_STATUS);
			vm_stats(vm, false);
		}
	}
	tab_end(t);
	if (!vms.n)
		out_text("(no VMs: none running, or none seen by pvlock_host yet)\n");
	pv_vms_free(&vms);
	return CTL_EXIT_OK;
}

static const char *const vm_feature_names[] = { "record", "ecs", "yield", "hints", "cross-vm" };

static int vm_show(struct nlc *c, const char *sel)
{
	struct pv_vm vm;
	unsigned int i;

	if (ctl_find_vm(c, sel, &vm))
		return CTL_EXIT_FAIL;
	out_open_object(NULL);
	vm_identity(&vm);
	out_text("vm %s (id %u)\n  pid            %u\n  vcpus          %u (%u registered)\n",
		 vm.name, vm.id, vm.pid, vm.nr_vcpus, vm.nr_registered);
	if (vm.has_abi) {
		out_text("  abi            %u, features", vm.abi);
		for (i = 0; i < PVLOCK_ARRAY_SIZE(vm_feature_names); i++)
			if (vm.features & (1u << i))
				out_text(" %s", vm_feature_names[i]);
		out_text("\n");
	} else {
		out_text("  abi            no handshake yet (guest without pvlock_guest?)\n");
	}
	ctl_print_params(&vm.params, ~0u, CTL_PARAMS_STATUS);
	out_text("  counters\n");
	vm_stats(&vm, true);
	out_close_object();
	return CTL_EXIT_OK;
}

int ctl_vm(int argc, char **argv)
{
	static const struct { const char *name; const struct opt_cmd *c; } cmds[] = {
		{ "list", &args_vm_list_cmd }, { "show", &args_vm_show_cmd }, { "help", NULL },
	};
	char *w[OPT_MAX_WORDS], err[256];
	struct tab *t = NULL;
	struct nlc c;
	int i, n, rc;

	if (argc < 1) {
		ctl_vm_help();
		return CTL_EXIT_USAGE;
	}
	i = ctl_match("vm command", cmds, PVLOCK_ARRAY_SIZE(cmds), sizeof(cmds[0]), argv[0]);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (!cmds[i].c)
		return ctl_vm_help();
	rc = args_none(cmds[i].c, argc - 1, argv + 1, w, &n, err, sizeof(err));
	if (rc)
		return rc > 0 ? (cmds[i].c == &args_vm_list_cmd ?
				 ctl_help(cmds[i].c, vm_cols, VL_NCOLS) : ctl_help(cmds[i].c, NULL, 0)) :
				ctl_usage_error("%s", err);
	if (cmds[i].c == &args_vm_list_cmd && !(t = ctl_tab(vm_cols, VL_NCOLS)))
		return CTL_EXIT_USAGE;
	if (ctl_open(&c, true)) {
		tab_free(t);
		return CTL_EXIT_FAIL;
	}
	rc = t ? vm_list(&c, t) : vm_show(&c, w[0]);
	nlc_close(&c);
	tab_free(t);
	return rc;
}
