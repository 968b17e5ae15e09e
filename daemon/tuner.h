/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlockd's tuning loop without the I/O: given this period's VM list (with
 * counters and parameters, as pvlock_host reports them) and the host's
 * overcommit, run pvlock_tune() from include/pvlock/tune.h for each VM and
 * say which per-VM values to write. Counter deltas, new and vanished VMs,
 * counters that went back (a reset), the VM's own [min, max] and pinned
 * values are handled here; the policy itself is tune.h's alone.
 */
#ifndef PVLOCK_TUNER_H
#define PVLOCK_TUNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvlock/tune.h>

#include "query.h"

struct tuner_vm {
	uint32_t id;
	uint64_t lhp, denied;		/* counters at the last period */
	uint64_t t_ns;
	struct pvlock_tune_state st;
	bool seen;
};

struct tuner {
	struct tuner_vm *vm;
	size_t n, cap;
};

struct tuner_action {
	uint32_t vm_id;
	char name[PVLOCK_NAME_MAX];
	struct pv_params set;		/* the values to write (threshold and/or budget) */
	uint32_t old_threshold, old_budget;
	struct pvlock_tune_decision d;
	uint64_t lhp_rate;		/* LHP events per vCPU-second this period */
	uint32_t overcommit_pct;
};

void tuner_init(struct tuner *t);
void tuner_free(struct tuner *t);
/* Forget every VM (pvlock_host was reloaded: its ids mean other VMs now). */
void tuner_reset(struct tuner *t);

/*
 * One period at @now_ns. Writes up to @max actions into @out and returns
 * how many (or -ENOMEM). @global_pinned adds the global PVLOCK_P_PINNED to
 * every VM's own. A VM seen for the first time, or whose counters went
 * back, only sets the baseline; VMs no longer listed are forgotten.
 */
int tuner_period(struct tuner *t, const struct pvlock_tune_cfg *cfg, const struct pv_vms *vms,
		 uint32_t global_pinned, uint32_t overcommit_pct, uint64_t now_ns,
		 struct tuner_action *out, size_t max);

const char *tuner_reason(enum pvlock_tune_reason r);

#endif
