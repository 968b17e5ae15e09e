// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark module: a lock-heavy in-kernel workload with a configurable
 * critical section. @threads kernel threads (default: two per online CPU)
 * loop: take one spinlock, spin @cs_ns inside, release, spin @think_ns
 * outside. Short sections and more threads than CPUs, as a parallel build
 * makes them: when the host preempts the holder, everybody waits.
 *
 * Every acquisition is timed, fast path included: from just before
 * spin_lock() to just after it returns, into a per-thread histogram with
 * four sub-buckets per power of two (so a percentile is known within 19%),
 * and each thread counts its acquisitions. rmmod prints
 *   "pvlock_lockbench: ops=N ns=T threads=K cs_ns=C think_ns=H shared=S"
 *   "pvlock_lockbench: acq n=N p50=A p99=B p999=C max=D jain=J per_thread=X,Y,..."
 * (latencies in ns, each percentile the upper edge of its bucket; Jain's
 * fairness index of the per-thread acquisition counts: 1 = all equal,
 * 1/K = one thread did everything), and
 * /sys/module/pvlock_lockbench/parameters/ops reads the running count.
 *
 * With pvlock_guest loaded, the module also watches pvlock's yields while
 * waiting for its lock (guest-mod/probe.h): the lock's true owner is
 * recorded inside the critical section, so for every yield it knows whom
 * the waiter named and, from the host's answer (PVLOCK_F_YIELD_TO), whom
 * the host ran instead: the share of directed yields that reached the
 * holder. Next to it, what KVM's own choice on a PLE exit would reach at
 * the same moments: it takes the first preempted vCPU round robin from the
 * last one it boosted, so with P vCPUs preempted, the holder among them,
 * it reaches the holder 1/P of the time (an expectation, summed). rmmod
 * then also prints
 *   "pvlock_lockbench: truth yields=N same_vm=S landed=L unknown=U named_owner=K
 *    kvm_expected_milli=E no_owner=O named_none=X named_other=Y same_vm_owned=H"
 * (the yields that did not name the holder: none held the lock at that
 * moment, nobody was named, another vCPU was named; H: the same-VM yields
 * issued while a vCPU held the lock, the ones that could reach a holder)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/pvlock.h>

#include "probe.h"

static unsigned int threads;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "worker threads (default: 2 per online CPU)");
static unsigned int cs_ns = 2000;
module_param(cs_ns, uint, 0444);
MODULE_PARM_DESC(cs_ns, "time spent inside the lock per operation, ns");
static unsigned int think_ns = 4000;
module_param(think_ns, uint, 0444);
MODULE_PARM_DESC(think_ns, "time spent outside the lock per operation, ns");

/* 4 sub-buckets per power of two up to 2^40 ns */
#define LB_SUB_BITS	2
#define LB_BUCKETS	(41 << LB_SUB_BITS)

struct lb_thread {
	struct task_struct *task;
	u64 ops;
	u64 max_ns;
	u64 hist[LB_BUCKETS];
} ____cacheline_aligned;

static DEFINE_SPINLOCK(bench_lock);
static u64 bench_shared;		/* written inside the lock: a real critical section */
static int bench_owner = -1;		/* CPU inside the critical section, -1: none */
static atomic64_t bench_ops = ATOMIC64_INIT(0);
static struct lb_thread *bench_th;
static u64 bench_t0;

static int ops_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&bench_ops));
}

static const struct kernel_param_ops ops_param_ops = { .get = ops_get };
module_param_cb(ops, &ops_param_ops, NULL, 0444);
MODULE_PARM_DESC(ops, "operations done so far (read only)");

static unsigned int lb_bucket(u64 ns)
{
	unsigned int msb, sub;

	if (ns < (1u << LB_SUB_BITS))
		return ns;
	msb = ilog2(ns);
	sub = (ns >> (msb - LB_SUB_BITS)) & ((1u << LB_SUB_BITS) - 1);
	return min_t(unsigned int, ((msb - LB_SUB_BITS + 1) << LB_SUB_BITS) + sub,
		     LB_BUCKETS - 1);
}

/* The largest value bucket @b holds (its upper edge). */
static u64 lb_edge(unsigned int b)
{
	unsigned int msb, sub;

	if (b < (1u << LB_SUB_BITS))
		return b;
	msb = (b >> LB_SUB_BITS) + LB_SUB_BITS - 1;
	sub = b & ((1u << LB_SUB_BITS) - 1);
	return ((u64)((1u << LB_SUB_BITS) + sub + 1) << (msb - LB_SUB_BITS)) - 1;
}

static void spin_for(u64 ns)
{
	u64 t0 = local_clock();

	while (local_clock() - t0 < ns)
		cpu_relax();
}

static int bench_fn(void *arg)
{
	struct lb_thread *th = arg;
	u64 n = 0;

	while (!kthread_should_stop()) {
		u64 t0 = local_clock(), dt;

		spin_lock(&bench_lock);
		dt = local_clock() - t0;
		WRITE_ONCE(bench_owner, raw_smp_processor_id());
		bench_shared++;
		spin_for(cs_ns);
		WRITE_ONCE(bench_owner, -1);
		spin_unlock(&bench_lock);
		th->hist[lb_bucket(dt)]++;
		if (dt > th->max_ns)
			th->max_ns = dt;
		spin_for(think_ns);
		if (++n % 64 == 0) {
			atomic64_add(64, &bench_ops);
			cond_resched();
		}
	}
	atomic64_add(n % 64, &bench_ops);
	th->ops = n;
	return 0;
}

/* ---- whom yields reach (with pvlock_guest) ------------------------------- */

struct lb_pre {
	int owner;		/* the holder when the yield was issued */
	u32 kvm_milli;		/* KVM's chance of reaching it then, in thousandths */
};

static DEFINE_PER_CPU(struct lb_pre, lb_pre);
static atomic64_t tr_yields, tr_same, tr_landed, tr_unknown, tr_named, tr_kvm_milli;
/* why a yield missed: no holder at that moment, nobody named, someone else named */
static atomic64_t tr_no_owner, tr_named_none, tr_named_other;
/* the same-VM yields issued while a vCPU held the lock: those that could reach it */
static atomic64_t tr_same_owned;
static typeof(&pvlock_guest_yield_probe) lb_probe_set;

static void lb_probe(const void *lock, u32 named, bool after, long ret)
{
	struct lb_pre *pre = this_cpu_ptr(&lb_pre);
	int self = smp_processor_id(), c, n = 0;
	bool in = false;
	u32 to;

	if (!after) {
		pre->owner = READ_ONCE(bench_owner);
		for_each_online_cpu(c) {
			if (c == self || !vcpu_is_preempted(c))
				continue;
			n++;
			in |= c == pre->owner;
		}
		pre->kvm_milli = in ? 1000 / n : 0;
		return;
	}
	atomic64_inc(&tr_yields);
	if (pre->owner < 0)
		atomic64_inc(&tr_no_owner);
	else if (named == pre->owner)
		atomic64_inc(&tr_named);
	else if (named == PVLOCK_CPU_NONE)
		atomic64_inc(&tr_named_none);
	else
		atomic64_inc(&tr_named_other);
	if (ret < 0 || PVLOCK_YIELD_RESULT(ret) != PVLOCK_YIELD_R_SAME_VM)
		return;
	atomic64_inc(&tr_same);
	if (pre->owner >= 0)
		atomic64_inc(&tr_same_owned);
	atomic64_add(pre->kvm_milli, &tr_kvm_milli);
	to = PVLOCK_YIELD_TO(ret);
	if (to == PVLOCK_CPU_NONE)
		atomic64_inc(&tr_unknown);
	else if (pre->owner >= 0 && to == pre->owner)
		atomic64_inc(&tr_landed);
}

static struct pvlock_yield_probe lb_probe_desc = { .lock = &bench_lock, .fn = lb_probe };

/* The upper edge of the bucket holding the @num/@den quantile of @h. */
static u64 lb_quantile(const u64 *h, u64 total, u64 num, u64 den)
{
	u64 want = div64_u64(total * num + den - 1, den), seen = 0;
	unsigned int b;

	for (b = 0; b < LB_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want && seen)
			return lb_edge(b);
	}
	return 0;
}

static void lb_report(void)
{
	u64 *h, total = 0, sum = 0, sumsq = 0, max = 0;
	unsigned int i, b, len = 0;
	char *per;

	h = kcalloc(LB_BUCKETS, sizeof(*h), GFP_KERNEL);
	per = kzalloc(threads * 21 + 1, GFP_KERNEL);
	if (!h || !per)
		goto out;
	for (i = 0; i < threads; i++) {
		struct lb_thread *th = &bench_th[i];

		for (b = 0; b < LB_BUCKETS; b++)
			h[b] += th->hist[b];
		total += th->ops;
		sum += th->ops;
		sumsq += th->ops * th->ops;
		max = max(max, th->max_ns);
		len += scnprintf(per + len, threads * 21 + 1 - len, "%s%llu", i ? "," : "", th->ops);
	}
	/* Jain: (sum x)^2 / (n sum x^2), in thousandths; sums of ops fit easily */
	pr_info("acq n=%llu p50=%llu p99=%llu p999=%llu max=%llu jain=%llu per_thread=%s\n",
		total, lb_quantile(h, total, 50, 100), lb_quantile(h, total, 99, 100),
		lb_quantile(h, total, 999, 1000), max,
		sumsq ? div64_u64(sum * sum * 1000, (u64)threads * sumsq) : 0, per);
out:
	kfree(per);
	kfree(h);
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
	bench_th = kvcalloc(threads, sizeof(*bench_th), GFP_KERNEL);
	if (!bench_th)
		return -ENOMEM;
	lb_probe_set = symbol_get(pvlock_guest_yield_probe);
	if (lb_probe_set && lb_probe_set(&lb_probe_desc)) {
		symbol_put(pvlock_guest_yield_probe);
		lb_probe_set = NULL;
	}
	bench_t0 = local_clock();
	for (i = 0; i < threads; i++) {
		struct task_struct *t = kthread_run(bench_fn, &bench_th[i], "lockbench/%u", i);

		if (IS_ERR(t))
			break;
		bench_th[i].task = t;
	}
	return 0;
}

static void __exit bench_exit(void)
{
	unsigned int i;

	for (i = 0; i < threads; i++)
		if (bench_th[i].task)
			kthread_stop(bench_th[i].task);
	pr_info("ops=%lld ns=%llu threads=%u cs_ns=%u think_ns=%u shared=%llu\n",
		atomic64_read(&bench_ops), local_clock() - bench_t0, threads, cs_ns, think_ns,
		bench_shared);
	lb_report();
	if (lb_probe_set) {
		lb_probe_set(NULL);
		symbol_put(pvlock_guest_yield_probe);
		pr_info("truth yields=%lld same_vm=%lld landed=%lld unknown=%lld named_owner=%lld kvm_expected_milli=%lld no_owner=%lld named_none=%lld named_other=%lld same_vm_owned=%lld\n",
			atomic64_read(&tr_yields), atomic64_read(&tr_same), atomic64_read(&tr_landed),
			atomic64_read(&tr_unknown), atomic64_read(&tr_named),
			atomic64_read(&tr_kvm_milli), atomic64_read(&tr_no_owner),
			atomic64_read(&tr_named_none), atomic64_read(&tr_named_other),
			atomic64_read(&tr_same_owned));
	}
	kvfree(bench_th);
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pvlock benchmark: a spinlock-heavy kernel workload");
