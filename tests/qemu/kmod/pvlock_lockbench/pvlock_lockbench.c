// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark module: a lock-heavy in-kernel workload with a configurable
 * critical section. @threads kernel threads (default: two per online CPU)
 * loop: take one spinlock, spin @cs_ns inside, release, spin @think_ns
 * outside. Short sections and more threads than CPUs, as a parallel build
 * makes them: when the host preempts the holder, everybody waits.
 *
 * Runs from insmod to rmmod; rmmod prints
 *   "pvlock_lockbench: ops=N ns=T threads=K cs_ns=C think_ns=H"
 * and /sys/module/pvlock_lockbench/parameters/ops reads the running count.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static unsigned int threads;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "worker threads (default: 2 per online CPU)");
static unsigned int cs_ns = 2000;
module_param(cs_ns, uint, 0444);
MODULE_PARM_DESC(cs_ns, "time spent inside the lock per operation, ns");
static unsigned int think_ns = 4000;
module_param(think_ns, uint, 0444);
MODULE_PARM_DESC(think_ns, "time spent outside the lock per operation, ns");

static DEFINE_SPINLOCK(bench_lock);
static u64 bench_shared;		/* written inside the lock: a real critical section */
static atomic64_t bench_ops = ATOMIC64_INIT(0);
static struct task_struct **bench_tasks;
static u64 bench_t0;

static int ops_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&bench_ops));
}

static const struct kernel_param_ops ops_param_ops = { .get = ops_get };
module_param_cb(ops, &ops_param_ops, NULL, 0444);
MODULE_PARM_DESC(ops, "operations done so far (read only)");

static void spin_for(u64 ns)
{
	u64 t0 = local_clock();

	while (local_clock() - t0 < ns)
		cpu_relax();
}

static int bench_fn(void *arg)
{
	u64 n = 0;

	while (!kthread_should_stop()) {
		spin_lock(&bench_lock);
		bench_shared++;
		spin_for(cs_ns);
		spin_unlock(&bench_lock);
		spin_for(think_ns);
		if (++n % 64 == 0) {
			atomic64_add(64, &bench_ops);
			cond_resched();
		}
	}
	atomic64_add(n % 64, &bench_ops);
	return 0;
}

static int __init bench_init(void)
{
	unsigned int i;

	if (!threads)
		threads = 2 * num_online_cpus();
	if (threads > 256 || cs_ns > 10000000 || think_ns > 10000000) {
		pr_err("threads <= 256, cs_ns and think_ns <= 10 ms\n");
		return -EINVAL;
	}
	bench_tasks = kcalloc(threads, sizeof(*bench_tasks), GFP_KERNEL);
	if (!bench_tasks)
		return -ENOMEM;
	bench_t0 = local_clock();
	for (i = 0; i < threads; i++) {
		bench_tasks[i] = kthread_run(bench_fn, NULL, "lockbench/%u", i);
		if (IS_ERR(bench_tasks[i])) {
			bench_tasks[i] = NULL;
			break;
		}
	}
	return 0;
}

static void __exit bench_exit(void)
{
	unsigned int i;

	for (i = 0; i < threads; i++)
		if (bench_tasks[i])
			kthread_stop(bench_tasks[i]);
	pr_info("ops=%lld ns=%llu threads=%u cs_ns=%u think_ns=%u shared=%llu\n",
		atomic64_read(&bench_ops), local_clock() - bench_t0, threads, cs_ns, think_ns,
		bench_shared);
	kfree(bench_tasks);
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pvlock benchmark: a spinlock-heavy kernel workload");
