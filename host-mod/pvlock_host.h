/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_HOST_H
#define _PVLOCK_HOST_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/pvlock.h>

/* Global settings (per-VM values override them where set). */
struct pvlock_host_params {
	u32 threshold;		/* hint for guests, 0 = none */
	u32 min, max;
	u32 budget;		/* boosts per period per VM */
	u32 period_ms;
	bool cross_vm;
	u32 cross_budget;
	u32 prio_boost;		/* 0 = directed yield only */
	u32 pinned;		/* PVLOCK_PIN_* */
};

extern struct mutex pvlock_host_lock;
extern struct pvlock_host_params pvlock_host_params;
extern u32 pvlock_host_hooks;	/* PVLOCK_HOOK_* in use */

int pvlock_host_netlink_init(void);
void pvlock_host_netlink_exit(void);

#endif /* _PVLOCK_HOST_H */
