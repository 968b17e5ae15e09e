/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The requests pvlockctl and pvlockd both make, decoded into plain structs:
 * the VM list, parameters (global or per VM), status. One decoder per
 * attribute tree of the uapi header.
 */
#ifndef PVLOCK_QUERY_H
#define PVLOCK_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pvlock.h>

struct nlc;

#define PV_NO_VM	(-1)	/* global parameters, no PVLOCK_A_VM_ID */

struct pv_params {
	uint32_t val[PVLOCK_P_MAX + 1];
	uint32_t present;	/* bit per PVLOCK_P_* */
};

struct pv_vm {
	uint32_t id, pid, nr_vcpus, nr_registered;
	uint32_t abi, features;
	bool has_abi;
	char name[PVLOCK_NAME_MAX];
	struct pv_params params;	/* effective values for this VM */
	uint64_t stats[__PVLOCK_HS_LAST];
};

struct pv_vms {
	struct pv_vm *vm;
	size_t n, cap;
};

struct pv_host_status {
	uint32_t nr_cpus, nr_vms, nr_registered, hooks, abi;
	uint32_t overcommit_pct;
	bool has_overcommit;		/* PVLOCK_A_OVERCOMMIT present */
	char version[32];
	struct pv_params params;
};

/* GET_VMS dump. */
int pv_get_vms(struct nlc *c, struct pv_vms *out);
void pv_vms_free(struct pv_vms *vms);

/*
 * The VM that @sel names: a VM name, else a VM id. -ENOENT when none,
 * -EEXIST when the name is shared by several VMs (use the id then).
 */
int pv_find_vm(const struct pv_vms *vms, const char *sel, const struct pv_vm **out);

/* GET_PARAMS / SET_PARAMS of @c's family; @vm_id PV_NO_VM for global. */
int pv_get_params(struct nlc *c, int64_t vm_id, struct pv_params *out);
int pv_set_params(struct nlc *c, int64_t vm_id, const struct pv_params *set,
		  struct pv_params *reply);

/* RESET_STATS; @vm_id PV_NO_VM for all. */
int pv_reset_stats(struct nlc *c, int64_t vm_id);

int pv_get_host_status(struct nlc *c, struct pv_host_status *out);

#endif
