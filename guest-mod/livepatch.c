// SPDX-License-Identifier: GPL-2.0
/*
 * One livepatch, enabled from module_init, never forced, stacking
 * (.replace = false) so that it sits on top of a distro's own livepatches
 * instead of reverting them.
 *
 * Unloading: the patch must be disabled first (its module cannot go while
 * it is enabled):
 *   echo 0 > /sys/kernel/livepatch/pvlock_guest/enabled
 *   (wait until /sys/kernel/livepatch/pvlock_guest is gone)
 *   rmmod pvlock_guest
 * "pvlockctl unload" does exactly that.
 *
 * A later cumulative livepatch (.replace = true) replaces this one without
 * calling any of its callbacks; the module notices that its patch went
 * disabled without its own unpatch callback having run, and reports
 * "replaced".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/livepatch.h>
#include <linux/module.h>

#include "pvlock_guest.h"

static bool pvlock_lp_unpatched;	/* our post_unpatch ran: disabled, not replaced */
static bool pvlock_lp_patched;		/* our post_patch ran: the transition completed */
static bool pvlock_lp_unpatching;

static void pvlock_lp_post_patch(struct klp_object *obj)
{
	WRITE_ONCE(pvlock_lp_patched, true);
	pr_info("livepatch active: slow paths, kvm_wait and kvm_kick_cpu replaced\n");
}

static void pvlock_lp_pre_unpatch(struct klp_object *obj)
{
	WRITE_ONCE(pvlock_lp_unpatching, true);
}

static void pvlock_lp_post_unpatch(struct klp_object *obj)
{
	WRITE_ONCE(pvlock_lp_unpatched, true);
	pr_info("livepatch removed: the kernel's own slow paths are back\n");
}

static struct klp_func pvlock_funcs[] = {
	{ .old_name = "__pv_queued_spin_lock_slowpath", .new_func = pvlock_pv_slowpath, },
	{ .old_name = "native_queued_spin_lock_slowpath", .new_func = pvlock_native_slowpath, },
	{ .old_name = "kvm_wait", .new_func = pvlock_kvm_wait, },
	{ .old_name = "kvm_kick_cpu", .new_func = pvlock_kvm_kick_cpu, },
	{ }
};

static struct klp_object pvlock_objs[] = {
	{
		.name = NULL,	/* vmlinux */
		.funcs = pvlock_funcs,
		.callbacks = {
			.post_patch = pvlock_lp_post_patch,
			.pre_unpatch = pvlock_lp_pre_unpatch,
			.post_unpatch = pvlock_lp_post_unpatch,
		},
	},
	{ }
};

static struct klp_patch pvlock_patch = {
	.mod = THIS_MODULE,
	.objs = pvlock_objs,
	.replace = false,
};

int pvlock_lp_enable(void)
{
	int err = klp_enable_patch(&pvlock_patch);

	if (err)
		pr_err("cannot apply the livepatch: %d (see the livepatch messages above)\n", err);
	return err;
}

u32 pvlock_lp_state(void)
{
	bool enabled = READ_ONCE(pvlock_patch.enabled);

	if (READ_ONCE(pvlock_lp_unpatched))
		return PVLOCK_LP_OFF;
	if (READ_ONCE(pvlock_lp_unpatching))
		return PVLOCK_LP_TRANSITION;
	if (!enabled)
		/* disabled, yet our unpatch callbacks never ran: replaced */
		return READ_ONCE(pvlock_lp_patched) ? PVLOCK_LP_REPLACED : PVLOCK_LP_OFF;
	return READ_ONCE(pvlock_lp_patched) ? PVLOCK_LP_ENABLED : PVLOCK_LP_TRANSITION;
}

MODULE_INFO(livepatch, "Y");
