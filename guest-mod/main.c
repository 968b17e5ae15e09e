// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock_guest: lock-holder-preemption relief inside a KVM guest.
 *
 * Load: insmod pvlock_guest.ko. Unload: see livepatch.c (disable the
 * livepatch, then rmmod), or "pvlockctl unload".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/utsname.h>
#include <linux/workqueue.h>

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

/* Initial mode, so that a test or a boot script can load straight into it. */
static char *mode = "stock";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "initial mode: stock, adaptive or fixed (default stock)");
static bool force_queue;
module_param(force_queue, bool, 0444);
MODULE_PARM_DESC(force_queue, "test mode: queue even where the kernel would use its test-and-set lock");

static struct delayed_work pvlock_tick_work;
static u64 pvlock_last_changes;

/* Sum of threshold changes over CPUs: an event when it moved. */
static u64 pvlock_threshold_changes(void)
{
	u64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(&pvlock_guest_stats, cpu)->c[PVLOCK_GS_THRESH_CHANGES]);
	return n;
}

/* Run the worker now rather than within a second (it re-arms itself). */
void pvlock_tick_now(void)
{
	mod_delayed_work(system_wq, &pvlock_tick_work, 0);
}

static void pvlock_tick(struct work_struct *work)
{
	u32 lp = pvlock_lp_state(), changes;

	pvlock_hv_tick();
	if (lp != READ_ONCE(pvlock_guest_state.livepatch)) {
		WRITE_ONCE(pvlock_guest_state.livepatch, lp);
		if (lp == PVLOCK_LP_REPLACED)
			pr_warn("a cumulative livepatch replaced pvlock's: the kernel's slow paths run again\n");
		pvlock_guest_notify(PVLOCK_EV_LIVEPATCH);
	}
	changes = pvlock_threshold_changes();
	if (changes != pvlock_last_changes) {
		pvlock_last_changes = changes;
		pvlock_guest_notify(PVLOCK_EV_THRESHOLD);
	}
	schedule_delayed_work(&pvlock_tick_work, HZ);
}

static int pvlock_parse_mode(void)
{
	int i;

	for (i = 0; i <= PVLOCK_MODE_MAX; i++) {
		static const char *const names[] = { "stock", "adaptive", "fixed" };

		if (!strcmp(mode, names[i])) {
			pvlock_guest_params.mode = i;
			return 0;
		}
	}
	pr_err("mode=%s: use stock, adaptive or fixed\n", mode);
	return -EINVAL;
}

static int __init pvlock_guest_init(void)
{
	int err;

	err = pvlock_parse_mode();
	if (err)
		return err;
	pvlock_guest_params.force_queue = force_queue;
	/* before the netlink family: a SET_PARAMS may kick the worker */
	INIT_DELAYED_WORK(&pvlock_tick_work, pvlock_tick);

	err = pvlock_ksyms_init();
	if (err)
		goto err_out;
	err = pvlock_locks_init();
	if (err)
		goto err_out;
	pvlock_slowpath_init();
	err = pvlock_guest_netlink_init();
	if (err) {
		pr_err("cannot register the %s netlink family: %d\n", PVLOCK_GUEST_GENL_NAME, err);
		goto err_locks;
	}
	err = pvlock_hv_init();
	if (err)
		goto err_netlink;
	WRITE_ONCE(pvlock_guest_state.livepatch, PVLOCK_LP_TRANSITION);
	err = pvlock_lp_enable();
	if (err)
		goto err_hv;
	schedule_delayed_work(&pvlock_tick_work, HZ);
	pr_info("version %s (ABI %d) loaded on %s, mode %s\n", PVLOCK_VERSION,
		PVLOCK_ABI_VERSION, init_utsname()->release, mode);
	return 0;

err_hv:
	pvlock_hv_exit();
err_netlink:
	pvlock_guest_netlink_exit();
err_locks:
	pvlock_locks_exit();
err_out:
	return err;
}

/*
 * Only reached once the livepatch is disabled and its transition is over:
 * no CPU runs pvlock's slow path any more.
 */
static void __exit pvlock_guest_exit(void)
{
	cancel_delayed_work_sync(&pvlock_tick_work);
	pvlock_hv_exit();
	pvlock_guest_netlink_exit();
	pvlock_locks_exit();
	pr_info("unloaded\n");
}

module_init(pvlock_guest_init);
module_exit(pvlock_guest_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pvlock developers");
MODULE_DESCRIPTION("pvlock guest: paravirtual spinlock slow paths and eCS state for KVM guests");
MODULE_VERSION(PVLOCK_VERSION);
