// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock_host: serves pvlock guests from the KVM host.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/utsname.h>

#include <pvlock/kcompat.h>
#include <pvlock/version.h>

#include "pvlock_host.h"

DEFINE_MUTEX(pvlock_host_lock);

struct pvlock_host_params pvlock_host_params = {
	.threshold = 0,
	.min = 256,
	.max = PVLOCK_SPIN_STOCK,
	.budget = 1000,
	.period_ms = 100,
	.cross_vm = true,
	.cross_budget = 200,
	.prio_boost = 0,
	.pinned = 0,
};

u32 pvlock_host_hooks;

static int __init pvlock_host_init(void)
{
	int err;

	err = pvlock_host_netlink_init();
	if (err) {
		pr_err("cannot register the %s netlink family: %d\n", PVLOCK_HOST_GENL_NAME, err);
		goto err_out;
	}
	pr_info("version %s (ABI %d) loaded on %s\n", PVLOCK_VERSION, PVLOCK_ABI_VERSION,
		init_utsname()->release);
	return 0;

err_out:
	return err;
}

static void __exit pvlock_host_exit(void)
{
	pvlock_host_netlink_exit();
	pr_info("unloaded\n");
}

module_init(pvlock_host_init);
module_exit(pvlock_host_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pvlock developers");
MODULE_DESCRIPTION("pvlock host: lock-holder-preemption relief for KVM guests");
MODULE_VERSION(PVLOCK_VERSION);
