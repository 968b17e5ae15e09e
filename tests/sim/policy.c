// SPDX-License-Identifier: GPL-2.0
/*
 * The five policies. Each row says which guest slow path and which host
 * paths a run uses; sim.h documents the fields, guest.c and kvm.c the
 * kernel code each one stands for.
 */
#include "sim.h"

const struct sim_policy sim_policies[POL__N] = {
	[POL_STOCK] = {
		.name = "stock", .label = "stock 6.12",
		.wait = WAIT_HLT, .kick = KICK_STOCK,
		.on_spin = SPIN_STOCK, .tick = TICK_STOCK,
	},
	[POL_QSPLUS] = {
		.name = "qsplus", .label = "qspinlock+",
		.wait = WAIT_QSPLUS_HC, .kick = KICK_QSPLUS,
		.on_spin = SPIN_STOCK, .tick = TICK_STOCK,
	},
	[POL_ECS] = {
		.name = "ecs", .label = "eCS-like",
		.early_preempted = true,
		.wait = WAIT_HLT, .kick = KICK_STOCK,
		.on_spin = SPIN_ECS_FIRST, .tick = TICK_ECS_TOGGLE,
	},
	[POL_PVLOCK] = {
		.name = "pvlock", .label = "pvlock",
		.adaptive = true, .early_preempted = true, .bound_trylock = true,
		.wait = WAIT_PVLOCK_YIELD, .kick = KICK_STOCK,
		.on_spin = SPIN_PVLOCK, .tick = TICK_STOCK, .tune = true,
	},
	[POL_ORACLE] = {
		.name = "oracle", .label = "oracle (no LHP)",
		.wait = WAIT_HLT, .kick = KICK_STOCK,
		.on_spin = SPIN_NONE, .tick = TICK_ORACLE,
	},
};
