// SPDX-License-Identifier: GPL-2.0
/*
 * The sweep: the research seeds' settings (1, 2, 4 and 10 VMs on a
 * 120-pCPU host, up to 120 vCPUs each, short gmake-like critical
 * sections), two VMs from 0.5x to 4x overcommit, one VM undercommitted, and
 * the nested test setup (VMs of 2 vCPUs on 2 pCPUs, locktorture-like).
 *
 * Workloads (per guest thread; exponential draws, means in ns):
 *   gmake:   16 locks per VM, 15% of acquisitions on one hot lock, holds of
 *            0.2 + 0.6 us, think 20 us user + 8 us kernel + 2 us in other
 *            non-preemptible kernel code. At 120 vCPUs the hot lock is busy
 *            about 40% of the time when nothing is preempted.
 *   torture: one lock, holds of 0.2 + 0.8 us, think 2 us kernel + 0.5 us
 *            non-preemptible: locktorture's spinlock writers, lock-bound.
 *   lockbench: tests/qemu/kmod/pvlock_lockbench as the nested benchmark runs
 *            it: one lock, holds of 2 us, think 4 us of preemptible kernel
 *            code (MODEL: one thread per vCPU where the module runs two).
 */
#include <string.h>

#include "sim.h"

const struct sim_scenario sim_scenarios[] = {
	/* name          group          pCPUs VMs vCPUs workload  2-VM series */
	{ "seeds-1vm",   "seeds",       120,  1,  120, "gmake",   false },
	{ "seeds-2vm",   "seeds",       120,  2,  120, "gmake",   true },
	{ "seeds-4vm",   "seeds",       120,  4,  120, "gmake",   false },
	{ "seeds-10vm",  "seeds",       120,  10, 48,  "gmake",   false },
	{ "under-1vm",   "undercommit", 120,  1,  60,  "gmake",   false },
	{ "oc-0.5x",     "overcommit",  120,  2,  30,  "gmake",   true },
	{ "oc-1x",       "overcommit",  120,  2,  60,  "gmake",   true },
	{ "oc-1.5x",     "overcommit",  120,  2,  90,  "gmake",   true },
	{ "oc-3x",       "overcommit",  120,  2,  180, "gmake",   true },
	{ "oc-4x",       "overcommit",  120,  2,  240, "gmake",   true },
	{ "nested-1vm",  "nested",      2,    1,  2,   "torture", false },
	{ "nested-2vm",  "nested",      2,    2,  2,   "torture", false },
	{ "nested-4x",   "nested",      1,    2,  2,   "lockbench", false },
};
const unsigned int sim_nr_scenarios = sizeof(sim_scenarios) / sizeof(sim_scenarios[0]);

void sim_scenario_params(const struct sim_scenario *sc, struct sim_params *p)
{
	sim_params_default(p);
	p->nr_pcpus = sc->pcpus;
	p->nr_vms = sc->vms;
	p->vcpus_per_vm = sc->vcpus;
	if (!strcmp(sc->workload, "torture")) {
		p->nr_locks = 1;
		p->hot_pct = 100;
		p->hold_min_ns = 200;
		p->hold_ns = 800;
		p->user_ns = 0;
		p->kern_ns = 2000;
		p->ecs_ns = 500;
	} else if (!strcmp(sc->workload, "lockbench")) {
		p->nr_locks = 1;
		p->hot_pct = 100;
		p->hold_min_ns = 2000;
		p->hold_ns = 1;
		p->user_ns = 0;
		p->kern_ns = 4000;
		p->ecs_ns = 1;
	}
}
