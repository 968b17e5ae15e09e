/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parameter spec: the single source of truth for every PVLOCK_P_*
 * attribute, its type, its range and who accepts it. The modules build
 * their netlink policies from it, pvlockctl its parser, its error messages
 * and its help, and the tests their boundary cases.
 *
 * X(attr, name, type, min, max, flags)
 *   type:  U32 or BOOL (an NLA_U8 holding 0 or 1)
 *   flags: PVLOCK_PF_GUEST / PVLOCK_PF_HOST: settable in that family;
 *          PVLOCK_PF_RO_GUEST: reported by the guest, never settable there;
 *          PVLOCK_PF_HOST_ZERO_OK: the host also takes 0 (means "none")
 *          PVLOCK_PF_HOST_GLOBAL: the host takes it globally, not per VM
 */
#ifndef _PVLOCK_PARAMS_H
#define _PVLOCK_PARAMS_H

#include "types.h"

#define PVLOCK_PF_GUEST		(1u << 0)
#define PVLOCK_PF_HOST		(1u << 1)
#define PVLOCK_PF_RO_GUEST	(1u << 2)
#define PVLOCK_PF_HOST_ZERO_OK	(1u << 3)
#define PVLOCK_PF_HOST_GLOBAL	(1u << 4)	/* host: global only, not per VM */

#define PVLOCK_PARAMS(X)								\
	X(PVLOCK_P_MODE, "mode", U32, 0, PVLOCK_MODE_MAX, PVLOCK_PF_GUEST)		\
	X(PVLOCK_P_SPIN_THRESHOLD, "threshold", U32, PVLOCK_SPIN_LIMIT_MIN,		\
	  PVLOCK_SPIN_LIMIT_MAX, PVLOCK_PF_GUEST | PVLOCK_PF_HOST | PVLOCK_PF_HOST_ZERO_OK)	\
	X(PVLOCK_P_SPIN_MIN, "min", U32, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX,	\
	  PVLOCK_PF_GUEST | PVLOCK_PF_HOST)						\
	X(PVLOCK_P_SPIN_MAX, "max", U32, PVLOCK_SPIN_LIMIT_MIN, PVLOCK_SPIN_LIMIT_MAX,	\
	  PVLOCK_PF_GUEST | PVLOCK_PF_HOST)						\
	X(PVLOCK_P_YIELD, "yield", BOOL, 0, 1, PVLOCK_PF_GUEST)				\
	X(PVLOCK_P_FORCE_QUEUE, "force_queue", BOOL, 0, 1, PVLOCK_PF_GUEST)		\
	X(PVLOCK_P_HOST_THRESHOLD, "host_threshold", U32, 0, PVLOCK_SPIN_LIMIT_MAX,	\
	  PVLOCK_PF_RO_GUEST)								\
	X(PVLOCK_P_BUDGET, "budget", U32, 0, PVLOCK_BUDGET_MAX, PVLOCK_PF_HOST)		\
	X(PVLOCK_P_PERIOD_MS, "period_ms", U32, PVLOCK_PERIOD_MIN_MS,			\
	  PVLOCK_PERIOD_MAX_MS, PVLOCK_PF_HOST | PVLOCK_PF_HOST_GLOBAL)			\
	X(PVLOCK_P_CROSS_VM, "cross_vm", BOOL, 0, 1, PVLOCK_PF_HOST)			\
	X(PVLOCK_P_CROSS_BUDGET, "cross_budget", U32, 0, PVLOCK_BUDGET_MAX,		\
	  PVLOCK_PF_HOST)								\
	X(PVLOCK_P_PRIO_BOOST, "prio_boost", U32, 0, PVLOCK_PRIO_BOOST_MAX,		\
	  PVLOCK_PF_HOST | PVLOCK_PF_HOST_GLOBAL)					\
	X(PVLOCK_P_PINNED, "pinned", U32, 0, PVLOCK_PIN_ALL, PVLOCK_PF_HOST)

enum pvlock_param_type { PVLOCK_PT_U32, PVLOCK_PT_BOOL };

struct pvlock_param_spec {
	u32 attr;
	const char *name;
	enum pvlock_param_type type;
	u32 min, max;
	u32 flags;
};

#define PVLOCK_PARAM_SPEC_ENTRY(a, n, t, lo, hi, fl) \
	[a] = { .attr = a, .name = n, .type = PVLOCK_PT_##t, .min = lo, .max = hi, .flags = fl },

static const struct pvlock_param_spec pvlock_param_specs[PVLOCK_P_MAX + 1] = {
	PVLOCK_PARAMS(PVLOCK_PARAM_SPEC_ENTRY)
};

static inline const struct pvlock_param_spec *pvlock_param_spec(u32 attr)
{
	if (attr == PVLOCK_P_UNSPEC || attr > PVLOCK_P_MAX || !pvlock_param_specs[attr].name)
		return NULL;
	return &pvlock_param_specs[attr];
}

/*
 * What a value means beyond its range, where that is not obvious; printed by
 * "pvlockctl help params". The numbers come from the uapi header.
 */
#define PVLOCK_STR_(x)	#x
#define PVLOCK_STR(x)	PVLOCK_STR_(x)
static const char *const pvlock_param_notes[PVLOCK_P_MAX + 1] = {
	[PVLOCK_P_PRIO_BOOST] = "nice levels a yielded-to vCPU is raised by, host-wide; a VM's vCPUs "
				"together stay raised at most " PVLOCK_STR(PVLOCK_PRIO_SHARE_PCT)
				"% of each period_ms, a boost is not renewed while it lasts",
	[PVLOCK_P_CROSS_VM] = "cross-VM boosts go only between VMs that both have it on and run "
			      "pvlock_guest with the cross-VM feature; other VMs' PLE exits are "
			      "KVM's alone",
};

static inline const char *pvlock_param_note(u32 attr)
{
	return attr <= PVLOCK_P_MAX ? pvlock_param_notes[attr] : NULL;
}

/*
 * Can @family (PVLOCK_PF_GUEST or PVLOCK_PF_HOST) set @attr to @v?
 * 0 if so; -1 if the attribute is not settable there (or unknown), -2 if
 * the value is out of range. @per_vm: a host per-VM setting.
 */
static inline int pvlock_param_check(u32 family, u32 attr, u32 v, bool per_vm)
{
	const struct pvlock_param_spec *s = pvlock_param_spec(attr);

	if (!s || !(s->flags & family))
		return -1;
	if (per_vm && (s->flags & PVLOCK_PF_HOST_GLOBAL))
		return -1;
	if (v == 0 && family == PVLOCK_PF_HOST && (s->flags & PVLOCK_PF_HOST_ZERO_OK))
		return 0;
	return v >= s->min && v <= s->max ? 0 : -2;
}

#endif /* _PVLOCK_PARAMS_H */
