// SPDX-License-Identifier: GPL-2.0
/*
 * Test module: the guest side of the effect tests (tests/qemu/effects-l1.sh).
 * Loaded in a registered pvlock guest whose vCPUs all share one host CPU, so
 * that whenever one of them runs the others are preempted. At load it sets
 * up, for @secs seconds at most:
 *
 *   hold_cpu  a kthread bound to that CPU that holds a spinlock nearly all
 *             the time (chunks of @chunk_ms, a cond_resched() between);
 *   ecs_cpu   a kthread bound to that CPU in preempt-disabled chunks of
 *             @chunk_ms (a critical section, but no lock);
 *   calls     PVLOCK_HC_YIELD(@target) from CPU 0 that many times, @gap_us
 *             apart (0: back to back, a flood); with @halt_odd every other
 *             call carries PVLOCK_YIELD_F_HALT;
 *
 * and reports what the host answered on one "PVLOCK-EFFECT" line in the
 * kernel log, for the L1 to compare with the host's per-vCPU counters. The
 * busy loops never execute PAUSE: a pause-loop exit would hand the vCPU's
 * time away by itself and blur what is measured. Everything has stopped
 * when the load returns; the test unloads it and loads it again, with other
 * parameters, for the next phase.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <asm/kvm_para.h>
#include <linux/pvlock.h>

static char *phase = "effects";
module_param(phase, charp, 0444);
MODULE_PARM_DESC(phase, "name of the phase, for the report");
static int hold_cpu = -1;
module_param(hold_cpu, int, 0444);
MODULE_PARM_DESC(hold_cpu, "CPU whose kthread holds a spinlock (-1: none)");
static int ecs_cpu = -1;
module_param(ecs_cpu, int, 0444);
MODULE_PARM_DESC(ecs_cpu, "CPU whose kthread runs with preemption disabled (-1: none)");
static unsigned int chunk_ms = 20;
module_param(chunk_ms, uint, 0444);
MODULE_PARM_DESC(chunk_ms, "length of one held or preempt-disabled stretch");
static unsigned int secs = 10;
module_param(secs, uint, 0444);
MODULE_PARM_DESC(secs, "length of the phase (at most; the yields may end it sooner)");
static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "yield hypercalls to issue from CPU 0 (0: none)");
static unsigned int target = PVLOCK_CPU_NONE;
module_param(target, uint, 0444);
MODULE_PARM_DESC(target, "guest CPU the yields name (4294967295: nobody)");
static unsigned int gap_us = 2000;
module_param(gap_us, uint, 0444);
MODULE_PARM_DESC(gap_us, "pause between two yields (0: a flood)");
static bool halt_odd;
module_param(halt_odd, bool, 0444);
MODULE_PARM_DESC(halt_odd, "every other yield with PVLOCK_YIELD_F_HALT");

static DEFINE_SPINLOCK(effects_lock);

struct answers {
	unsigned int n, r[PVLOCK_YIELD_R_DENIED + 1], bad;
	long last_bad;
	u64 ns;
	bool done;
};

/* Busy for @ns of guest time, without PAUSE (no pause-loop exits). */
static void busy(u64 ns)
{
	u64 t0 = ktime_get_mono_fast_ns();

	while (ktime_get_mono_fast_ns() - t0 < ns)
		barrier();
}

static int hold_fn(void *arg)
{
	u64 ns = (u64)chunk_ms * NSEC_PER_MSEC;

	while (!kthread_should_stop()) {
		spin_lock(&effects_lock);
		busy(ns);
		spin_unlock(&effects_lock);
		cond_resched();
	}
	return 0;
}

static int ecs_fn(void *arg)
{
	u64 ns = (u64)chunk_ms * NSEC_PER_MSEC;

	while (!kthread_should_stop()) {
		preempt_disable();
		busy(ns);
		preempt_enable();
		cond_resched();
	}
	return 0;
}

static int yield_fn(void *arg)
{
	struct answers *a = arg;
	u64 t0 = ktime_get_ns(), end = t0 + (u64)secs * NSEC_PER_SEC;
	unsigned long flags;
	long r;

	while (a->n < calls && ktime_get_ns() < end) {
		flags = halt_odd && (a->n & 1) ? PVLOCK_YIELD_F_HALT : 0;
		r = kvm_hypercall4(PVLOCK_HC_YIELD, target, flags, 0, 0);
		a->n++;
		/* the VM's pvlock_guest agreed PVLOCK_F_YIELD_TO: whom it ran is in the high bits */
		if (r >= 0)
			r = PVLOCK_YIELD_RESULT(r);
		if (r >= 0 && r <= PVLOCK_YIELD_R_DENIED) {
			a->r[r]++;
		} else {
			a->bad++;
			a->last_bad = r;
		}
		if (gap_us)
			usleep_range(gap_us, gap_us + gap_us / 2);
		else
			cond_resched();
	}
	a->ns = ktime_get_ns() - t0;
	WRITE_ONCE(a->done, true);
	while (!kthread_should_stop())
		msleep_interruptible(20);
	return 0;
}

static struct task_struct *start_on(int (*fn)(void *), void *arg, int cpu, const char *what)
{
	struct task_struct *t;

	if (cpu < 0)
		return NULL;
	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return ERR_PTR(-EINVAL);
	t = kthread_create(fn, arg, "effects-%s/%d", what, cpu);
	if (IS_ERR(t))
		return t;
	kthread_bind(t, cpu);
	wake_up_process(t);
	return t;
}

static int __init pvlock_effects_init(void)
{
	struct task_struct *hold, *ecs, *yield = NULL;
	struct answers a = { 0 };
	u64 t0 = ktime_get_ns();
	int err = 0;

	hold = start_on(hold_fn, NULL, hold_cpu, "hold");
	ecs = start_on(ecs_fn, NULL, ecs_cpu, "ecs");
	if (calls)
		yield = start_on(yield_fn, &a, 0, "yield");
	if (IS_ERR(hold) || IS_ERR(ecs) || IS_ERR(yield)) {
		err = -EINVAL;
		goto out;
	}
	/*
	 * Interruptible sleeps: insmod waits here for the whole phase, which
	 * the hung-task detector must not mistake for a stuck task.
	 */
	while (ktime_get_ns() - t0 < (u64)secs * NSEC_PER_SEC && !(yield && READ_ONCE(a.done)))
		msleep_interruptible(50);
out:
	if (!IS_ERR_OR_NULL(yield))
		kthread_stop(yield);
	if (!IS_ERR_OR_NULL(ecs))
		kthread_stop(ecs);
	if (!IS_ERR_OR_NULL(hold))
		kthread_stop(hold);
	if (err) {
		pr_info("PVLOCK-EFFECT phase=%s error=%d (a CPU named is not online)\n", phase, err);
		return err;
	}
	pr_info("PVLOCK-EFFECT phase=%s target=%d calls=%u none=%u same=%u cross=%u halted=%u denied=%u bad=%u last_bad=%ld ms=%llu\n",
		phase, (int)target, a.n, a.r[PVLOCK_YIELD_R_NONE], a.r[PVLOCK_YIELD_R_SAME_VM],
		a.r[PVLOCK_YIELD_R_CROSS_VM], a.r[PVLOCK_YIELD_R_HALTED], a.r[PVLOCK_YIELD_R_DENIED],
		a.bad, a.last_bad, div_u64(yield ? a.ns : ktime_get_ns() - t0, NSEC_PER_MSEC));
	return 0;
}

static void __exit pvlock_effects_exit(void)
{
}

module_init(pvlock_effects_init);
module_exit(pvlock_effects_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pvlock test: held locks, critical sections and named yields, on demand");
