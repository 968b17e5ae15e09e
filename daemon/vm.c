// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl vm list | vm show VM: the VMs pvlock_host knows, with their
 * identity, the values in force for them and their counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pvlock/names.h>

#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "query.h"

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
	char fmt[48];

	out_open_object("stats");
	for (i = 1; i < __PVLOCK_HS_LAST; i++) {
		snprintf(fmt, sizeof(fmt), "    %-20s %%llu\n", pvlock_host_stat_names[i]);
		out_u64(pvlock_host_stat_names[i], text ? fmt : NULL, vm->stats[i]);
	}
	out_close_object();
}

static int vm_list(struct nlc *c)
{
	struct pv_vms vms;
	char pins[32];
	size_t i;
	int err;

	err = pv_get_vms(c, &vms);
	if (err)
		return ctl_request_error(c, "vm list", err);
	out_open_array(NULL);
	out_text("%4s %-16s %8s %5s %4s %9s %7s %-16s %10s %10s %8s %8s\n", "ID", "NAME", "PID",
		 "VCPUS", "REG", "THRESHOLD", "BUDGET", "PINNED", "YIELDS", "BOOSTS_RX", "LHP",
		 "DENIED");
	for (i = 0; i < vms.n; i++) {
		const struct pv_vm *vm = &vms.vm[i];
		const uint64_t *s = vm->stats;

		out_open_object(NULL);
		vm_identity(vm);
		pp_format(pvlock_param_spec(PVLOCK_P_PINNED), vm->params.val[PVLOCK_P_PINNED], pins,
			  sizeof(pins));
		out_text("%4u %-16s %8u %5u %4u %9u %7u %-16s %10llu %10llu %8llu %8llu\n",
			 vm->id, vm->name, vm->pid, vm->nr_vcpus, vm->nr_registered,
			 vm->params.val[PVLOCK_P_SPIN_THRESHOLD], vm->params.val[PVLOCK_P_BUDGET], pins,
			 (unsigned long long)s[PVLOCK_HS_YIELDS],
			 (unsigned long long)s[PVLOCK_HS_BOOSTS_RECEIVED],
			 (unsigned long long)(s[PVLOCK_HS_ECS_PREEMPTIONS] +
					      s[PVLOCK_HS_WAITER_PREEMPTIONS]),
			 (unsigned long long)s[PVLOCK_HS_BUDGET_DENIED]);
		/* the table has the key values; JSON carries all of them */
		if (out_is_json()) {
			ctl_print_params(&vm->params, ~0u, CTL_PARAMS_STATUS);
			vm_stats(vm, false);
		}
		out_close_object();
	}
	if (!vms.n)
		out_text("(no VMs: none running, or none seen by pvlock_host yet)\n");
	out_close_array();
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
	struct nlc c;
	int rc;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		fprintf(argc < 1 ? stderr : stdout, "Usage: pvlockctl vm { list | show VM }\n");
		return argc < 1 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (strcmp(argv[0], "list") && strcmp(argv[0], "show"))
		return ctl_usage_error("vm: unknown command '%s' (list, show)", argv[0]);
	if (!strcmp(argv[0], "list") && argc != 1)
		return ctl_usage_error("vm list: unexpected '%s'", argv[1]);
	if (!strcmp(argv[0], "show") && argc != 2)
		return ctl_usage_error("%s", "vm show: give one VM name or id");
	if (ctl_open(&c, true))
		return CTL_EXIT_FAIL;
	rc = !strcmp(argv[0], "list") ? vm_list(&c) : vm_show(&c, argv[1]);
	nlc_close(&c);
	return rc;
}
