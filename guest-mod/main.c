// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock_guest: lock-holder-preemption relief inside a KVM guest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/utsname.h>

#include <pvlock/kcompat.h>
#include <pvlock/threshold.h>
#include <pvlock/version.h>

#include "pvlock_guest.h"

DEFINE_MUTEX(pvlock_guest_lock);

struct pvlock_guest_params pvlock_guest_params = {
	.mode = PVLOCK_MODE_STOCK,
	.threshold = PVLOCK_SPIN_STOCK,
	.min = 256,
	.max = PVLOCK_SPIN_STOCK,
	.yield = true,
	.force_queue = false,
};

struct pvlock_guest_state pvlock_guest_state = {
	.handshake = PVLOCK_HANDSHAKE_NONE,
	.livepatch = PVLOCK_LP_OFF,
};

static int __init pvlock_guest_init(void)
{
	int err;

	err = pvlock_guest_netlink_init();
	if (err) {
		pr_err("cannot register the %s netlink family: %d\n", PVLOCK_GUEST_GENL_NAME, err);
		goto err_out;
	}
	pr_info("version %s (ABI %d) loaded on %s\n", PVLOCK_VERSION, PVLOCK_ABI_VERSION,
		init_utsname()->release);
	return 0;

err_out:
	return err;
}

static void __exit pvlock_guest_exit(void)
{
	pvlock_guest_netlink_exit();
	pr_info("unloaded\n");
}

module_init(pvlock_guest_init);
module_exit(pvlock_guest_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pvlock developers");
MODULE_DESCRIPTION("pvlock guest: paravirtual spinlock slow paths and eCS state for KVM guests");
MODULE_VERSION(PVLOCK_VERSION);
