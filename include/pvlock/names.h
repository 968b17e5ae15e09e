/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of the ABI's enum values, for the CLI, JSON, metrics and tests. The
 * tables are indexed by the uapi enums with designated initialisers, and the
 * static asserts make a new enum value without a name a build error.
 */
#ifndef _PVLOCK_NAMES_H
#define _PVLOCK_NAMES_H

#include "types.h"

#define PVLOCK_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const pvlock_guest_stat_names[] = {
	[PVLOCK_GS_UNSPEC] = NULL,
	[PVLOCK_GS_SLOWPATH] = "slowpath",
	[PVLOCK_GS_PENDING] = "pending",
	[PVLOCK_GS_QUEUED] = "queued",
	[PVLOCK_GS_TAS] = "tas",
	[PVLOCK_GS_SPINS] = "spins",
	[PVLOCK_GS_SPIN_ACQUIRED] = "spin_acquired",
	[PVLOCK_GS_WAITS] = "waits",
	[PVLOCK_GS_WAIT_EARLY] = "wait_early",
	[PVLOCK_GS_HALTS] = "halts",
	[PVLOCK_GS_YIELDS] = "yields",
	[PVLOCK_GS_YIELD_SAME_VM] = "yield_same_vm",
	[PVLOCK_GS_YIELD_CROSS_VM] = "yield_cross_vm",
	[PVLOCK_GS_YIELD_HALTED] = "yield_halted",
	[PVLOCK_GS_YIELD_ERRORS] = "yield_errors",
	[PVLOCK_GS_KICKS] = "kicks",
	[PVLOCK_GS_HASHED] = "hashed",
	[PVLOCK_GS_THRESH_CHANGES] = "threshold_changes",
	[PVLOCK_GS_THRESHOLD] = "threshold",
	[PVLOCK_GS_WAIT_NS] = "wait_ns",
	[PVLOCK_GS_WAIT_MAX_NS] = "wait_max_ns",
	[PVLOCK_GS_PREEMPTED_SEEN] = "preempted_seen",
	[PVLOCK_GS_HOST_HINTS] = "host_hints",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_guest_stat_names) == __PVLOCK_GS_LAST,
	       "every guest counter needs a name");

static const char *const pvlock_host_stat_names[] = {
	[PVLOCK_HS_UNSPEC] = NULL,
	[PVLOCK_HS_HELLO] = "hello",
	[PVLOCK_HS_REGISTERED] = "registered",
	[PVLOCK_HS_UNREGISTERED] = "unregistered",
	[PVLOCK_HS_YIELDS] = "yields",
	[PVLOCK_HS_YIELD_SAME_VM] = "yield_same_vm",
	[PVLOCK_HS_YIELD_CROSS_VM] = "yield_cross_vm",
	[PVLOCK_HS_YIELD_NONE] = "yield_none",
	[PVLOCK_HS_HALTS] = "halts",
	[PVLOCK_HS_BOOSTS_GIVEN] = "boosts_given",
	[PVLOCK_HS_BOOSTS_RECEIVED] = "boosts_received",
	[PVLOCK_HS_CROSS_GIVEN] = "cross_given",
	[PVLOCK_HS_CROSS_RECEIVED] = "cross_received",
	[PVLOCK_HS_BUDGET_DENIED] = "budget_denied",
	[PVLOCK_HS_ON_SPIN] = "on_spin",
	[PVLOCK_HS_ON_SPIN_BOOSTS] = "on_spin_boosts",
	[PVLOCK_HS_PREEMPTIONS] = "preemptions",
	[PVLOCK_HS_ECS_PREEMPTIONS] = "ecs_preemptions",
	[PVLOCK_HS_WAITER_PREEMPTIONS] = "waiter_preemptions",
	[PVLOCK_HS_PREEMPTED_NS] = "preempted_ns",
	[PVLOCK_HS_HINT_WRITES] = "hint_writes",
	[PVLOCK_HS_BAD_CPL] = "bad_cpl",
	[PVLOCK_HS_BAD_GPA] = "bad_gpa",
	[PVLOCK_HS_BAD_CPU] = "bad_cpu",
	[PVLOCK_HS_BAD_DOUBLE] = "bad_double",
	[PVLOCK_HS_BAD_RECORD] = "bad_record",
	[PVLOCK_HS_BAD_ARGS] = "bad_args",
	[PVLOCK_HS_BAD_RATE] = "bad_rate",
	[PVLOCK_HS_BAD_STATE] = "bad_state",
	[PVLOCK_HS_ON_SPIN_KVM] = "on_spin_kvm",
	[PVLOCK_HS_HC_NS] = "hc_ns",
	[PVLOCK_HS_ON_SPIN_NS] = "on_spin_ns",
	[PVLOCK_HS_PRIO_BOOSTS] = "prio_boosts",
	[PVLOCK_HS_PRIO_NS] = "prio_ns",
	[PVLOCK_HS_PRIO_DENIED] = "prio_denied",
	[PVLOCK_HS_REMAPS] = "remaps",
	[PVLOCK_HS_UNMAPPED] = "unmapped",
	[PVLOCK_HS_BOOSTS_RAN] = "boosts_ran",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_host_stat_names) == __PVLOCK_HS_LAST,
	       "every host counter needs a name");

static const char *const pvlock_mode_names[] = {
	[PVLOCK_MODE_STOCK] = "stock",
	[PVLOCK_MODE_ADAPTIVE] = "adaptive",
	[PVLOCK_MODE_FIXED] = "fixed",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_mode_names) == __PVLOCK_MODE_LAST,
	       "every mode needs a name");

static const char *const pvlock_handshake_names[] = {
	[PVLOCK_HANDSHAKE_NONE] = "none",
	[PVLOCK_HANDSHAKE_NO_KVM] = "not a KVM guest",
	[PVLOCK_HANDSHAKE_STANDALONE] = "host without pvlock",
	[PVLOCK_HANDSHAKE_REFUSED] = "refused by host",
	[PVLOCK_HANDSHAKE_AGREED] = "agreed",
	[PVLOCK_HANDSHAKE_LOST] = "host lost, re-probing",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_handshake_names) == __PVLOCK_HANDSHAKE_LAST,
	       "every handshake state needs a name");

static const char *const pvlock_livepatch_names[] = {
	[PVLOCK_LP_OFF] = "off",
	[PVLOCK_LP_TRANSITION] = "transition",
	[PVLOCK_LP_ENABLED] = "enabled",
	[PVLOCK_LP_REPLACED] = "replaced by a cumulative livepatch",
	[PVLOCK_LP_UNSUPPORTED] = "unsupported",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_livepatch_names) == __PVLOCK_LP_LAST,
	       "every livepatch state needs a name");

static const char *const pvlock_event_names[] = {
	[PVLOCK_EV_UNSPEC] = NULL,
	[PVLOCK_EV_HANDSHAKE] = "handshake",
	[PVLOCK_EV_LIVEPATCH] = "livepatch",
	[PVLOCK_EV_PARAMS] = "params",
	[PVLOCK_EV_THRESHOLD] = "threshold",
	[PVLOCK_EV_VM_NEW] = "vm-new",
	[PVLOCK_EV_VM_GONE] = "vm-gone",
	[PVLOCK_EV_VCPU_REGISTERED] = "vcpu-registered",
	[PVLOCK_EV_VCPU_UNREGISTERED] = "vcpu-unregistered",
};
_Static_assert(PVLOCK_ARRAY_SIZE(pvlock_event_names) == __PVLOCK_EV_LAST,
	       "every event needs a name");

static inline const char *pvlock_name(const char *const *tab, unsigned int n, unsigned int v)
{
	return v < n && tab[v] ? tab[v] : "?";
}

#define PVLOCK_NAME(tab, v)	pvlock_name(tab, PVLOCK_ARRAY_SIZE(tab), (v))

#endif /* _PVLOCK_NAMES_H */
