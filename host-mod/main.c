// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock_host: serves pvlock guests from the KVM host.
 *
 * Load: insmod pvlock_host.ko (after kvm and kvm_amd/kvm_intel). Unload:
 * rmmod pvlock_host, at any time: running guests see their next pvlock
 * hypercall fail and fall back to the kernel's own behaviour.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>
#include <linux/workqueue.h>

#include <pvlock/kcompat.h>
#include <pvlock/tick.h>
#include <pvlock/version.h>

#include "compat.h"
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
bool pvlock_host_unloading;
struct workqueue_struct *pvlock_wq;

/*
 * The worker: every tick it samples how many vCPU threads are runnable
 * (the overcommit), restores expired priority boosts, and once per period
 * writes the hints into every record. The tick is fast only where the host
 * is (nearly) overcommitted (include/pvlock/tick.h); elsewhere a period
 * shorter than the slow tick refreshes the hints once per slow tick.
 */
#define PVLOCK_SCAN_MS		500	/* look for new VMs and vCPU threads */

static struct delayed_work pvlock_tick_work;
static u32 pvlock_oc_x16;		/* EWMA of the overcommit, %, x16 */
static u64 pvlock_last_hints;
static u64 pvlock_last_scan;
static u64 pvlock_last_tick;

u64 pvlock_now(void)
{
	return ktime_get_mono_fast_ns();
}

u32 pvlock_host_overcommit(void)
{
	return READ_ONCE(pvlock_oc_x16) / 16;
}

static u32 pvlock_sample_overcommit(void)
{
	struct pvlock_vm *vm;
	u32 runnable = 0, i;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		spin_lock(&vm->lock);
		for (i = 0; vm->tasks && i < vm->nr_tasks; i++) {
			struct task_struct *t = vm->tasks[i];

			if (t && !(READ_ONCE(t->flags) & PF_EXITING) && pvlock_task_runnable(t))
				runnable++;
		}
		spin_unlock(&vm->lock);
	}
	rcu_read_unlock();
	return runnable * 100 / max(num_online_cpus(), 1u);
}

static void pvlock_tick(struct work_struct *w)
{
	u32 period = READ_ONCE(pvlock_host_params.period_ms), s, oc, dt_ms;
	u64 now = pvlock_now();

	if (!pvlock_last_scan || now - pvlock_last_scan >= PVLOCK_SCAN_MS * NSEC_PER_MSEC) {
		pvlock_vms_scan();
		now = pvlock_now();
		pvlock_last_scan = now;
	}
	s = pvlock_sample_overcommit();
	dt_ms = pvlock_last_tick ? min_t(u64, (now - pvlock_last_tick) / NSEC_PER_MSEC, U32_MAX) :
		PVLOCK_TICK_MS;
	pvlock_last_tick = now;
	oc = pvlock_oc_average(READ_ONCE(pvlock_oc_x16), s, dt_ms);
	WRITE_ONCE(pvlock_oc_x16, oc);
	pvlock_prio_expire(now);
	if (now - pvlock_last_hints >= (u64)period * NSEC_PER_MSEC) {
		struct pvlock_vm *vm;

		pvlock_last_hints = now;
		rcu_read_lock();
		list_for_each_entry_rcu(vm, &pvlock_vms, node)
			if (atomic_read(&vm->nr_registered))
				pvlock_vm_update_hints(vm, pvlock_host_overcommit(), now);
		rcu_read_unlock();
	}
	if (!READ_ONCE(pvlock_host_unloading))
		queue_delayed_work(pvlock_wq, &pvlock_tick_work,
				   msecs_to_jiffies(pvlock_tick_next_ms(s, oc)));
}

/* After a parameter change: new hints now, not at the next period. */
void pvlock_host_kick_worker(void)
{
	pvlock_last_hints = 0;
	mod_delayed_work(pvlock_wq, &pvlock_tick_work, 0);
}

/*
 * Priority boosts end on time, not at the next tick: this work runs when
 * the earliest one is due (a jiffy late at most) and the tick catches any
 * it missed.
 */
static struct delayed_work pvlock_prio_work;

static void pvlock_prio_work_fn(struct work_struct *w)
{
	pvlock_prio_expire(pvlock_now());
}

void pvlock_host_prio_timer(u64 until_ns)
{
	u64 now = pvlock_now();
	unsigned long delay = until_ns > now ? nsecs_to_jiffies(until_ns - now) + 1 : 0;

	if (READ_ONCE(pvlock_host_unloading))
		return;
	if (!delayed_work_pending(&pvlock_prio_work) ||
	    time_before(jiffies + delay, READ_ONCE(pvlock_prio_work.timer.expires)))
		mod_delayed_work(pvlock_wq, &pvlock_prio_work, delay);
}

/*
 * Stop serving and free everything, at unload and when loading fails late
 * (hooks were on, so guests may have registered). Guests get -ENOSYS from
 * KVM from the first step on; threads inside pvlock's handlers are waited
 * for; every hooked vCPU thread is driven out of KVM_RUN so that its
 * notifier comes off on its own thread (marking its record inactive on the
 * way); then the watches come off and everything is freed.
 */
static void pvlock_host_teardown(void)
{
	WRITE_ONCE(pvlock_host_unloading, true);
	cancel_delayed_work_sync(&pvlock_tick_work);
	cancel_delayed_work_sync(&pvlock_prio_work);
	pvlock_hooks_exit_redirects();
	pvlock_handlers_drain();
	/* a boost made just before the drain may have armed it again */
	cancel_delayed_work_sync(&pvlock_prio_work);
	pvlock_vms_kick_and_wait();
	pvlock_hooks_exit_watches();
	rcu_barrier();			/* queue_rcu_work() callbacks */
	flush_workqueue(pvlock_wq);
	pvlock_vms_free_all();
	destroy_workqueue(pvlock_wq);
	preempt_notifier_dec();
	pvlock_ksyms_exit();
}

/*
 * Everything a netlink command can reach (parameters, the worker, the VM
 * list) is ready before the family is registered, which comes last.
 */
static int __init pvlock_host_init(void)
{
	int err;

	/*
	 * On PREEMPT_RT spinlock_t sleeps, and pvlock takes its locks in
	 * ftrace callbacks and preempt notifiers, which run with preemption
	 * off: refuse rather than be wrong there.
	 */
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		pr_err("PREEMPT_RT kernels are not supported: pvlock_host takes spinlocks with preemption disabled (ftrace hooks, preempt notifiers)\n");
		return -EOPNOTSUPP;
	}
	err = pvlock_ksyms_init();
	if (err)
		return err;
	/* ordered: the tick never runs next to a work that frees a VM */
	pvlock_wq = alloc_ordered_workqueue("pvlock_host", 0);
	if (!pvlock_wq) {
		err = -ENOMEM;
		goto err_ksyms;
	}
	INIT_DELAYED_WORK(&pvlock_tick_work, pvlock_tick);
	INIT_DELAYED_WORK(&pvlock_prio_work, pvlock_prio_work_fn);
	preempt_notifier_inc();
	err = pvlock_hooks_init();
	if (err)
		goto err_notifiers;
	queue_delayed_work(pvlock_wq, &pvlock_tick_work, msecs_to_jiffies(PVLOCK_TICK_MS));
	err = pvlock_host_netlink_init();
	if (err) {
		pr_err("cannot register the %s netlink family: %d\n", PVLOCK_HOST_GENL_NAME, err);
		pvlock_host_teardown();
		return err;
	}
	pr_info("version %s (ABI %d) loaded on %s, hooks 0x%x\n", PVLOCK_VERSION,
		PVLOCK_ABI_VERSION, init_utsname()->release, pvlock_host_hooks);
	return 0;

err_notifiers:
	preempt_notifier_dec();
	destroy_workqueue(pvlock_wq);
err_ksyms:
	pvlock_ksyms_exit();
	return err;
}

/* Unload under load: netlink first (nothing new from userspace), then the rest. */
static void __exit pvlock_host_exit(void)
{
	pvlock_host_netlink_exit();
	pvlock_host_teardown();
	pr_info("unloaded\n");
}

module_init(pvlock_host_init);
module_exit(pvlock_host_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pvlock developers");
MODULE_DESCRIPTION("pvlock host: lock-holder-preemption relief for KVM guests");
MODULE_VERSION(PVLOCK_VERSION);
MODULE_SOFTDEP("pre: kvm");
