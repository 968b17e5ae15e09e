// SPDX-License-Identifier: GPL-2.0
/*
 * Test module: a hostile pvlock guest. At load it sends pvlock_host every
 * kind of bad hypercall the ABI documents an answer for, checks each
 * answer, and reports "PVLOCK-RESULT PASS|FAIL hostile-<case>" lines in
 * the kernel log. It then keeps one valid registration (vCPU 0) so that
 * the test can kill the VM while it is registered.
 *
 * With attack=1 it then turns into the "fake critical section" attacker:
 * a busy kernel thread on every CPU (never a lock waiter, never a PAUSE)
 * and, while fake_cs=1 (writable at run time), every CPU registered with an
 * eCS word that says "inside a critical section" forever. A host that
 * trusted that word across VMs would hand this VM other VMs' time; the test
 * compares a plain VM's throughput with fake_cs on and off, the CPU load of
 * this VM being the same both ways.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/smp.h>
#include <asm/kvm_para.h>
#include <linux/pvlock.h>

static struct pvlock_record *recs;	/* one page: records for CPU 0 and 1 */
static int fails;

static bool attack;
module_param(attack, bool, 0444);
MODULE_PARM_DESC(attack, "after the checks: busy threads and fake critical sections");
static int fake_cs = 1;
module_param(fake_cs, int, 0644);
MODULE_PARM_DESC(fake_cs, "attack: 1 = every CPU registered with its eCS word stuck at 1");

#define FAKE_CPUS	(PAGE_SIZE / PVLOCK_RECORD_SIZE)
static struct pvlock_record *fake_recs;	/* one page: a record per CPU */
static u32 *fake_words;			/* one page: the stuck eCS words */
static struct task_struct *busy[FAKE_CPUS], *ctl;
static bool fake_on[FAKE_CPUS];

struct hc {
	unsigned long nr, a0, a1, a2, a3;
	long ret;
};

static void hc_on_cpu(void *arg)
{
	struct hc *h = arg;

	h->ret = kvm_hypercall4(h->nr, h->a0, h->a1, h->a2, h->a3);
}

static long hc(int cpu, unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3)
{
	struct hc h = { nr, a0, a1, a2, a3, 0 };

	smp_call_function_single(cpu, hc_on_cpu, &h, 1);
	return h.ret;
}

static void expect(const char *name, long got, long want)
{
	if (got == want) {
		pr_info("PVLOCK-RESULT PASS hostile-%s: %ld\n", name, got);
	} else {
		pr_info("PVLOCK-RESULT FAIL hostile-%s: got %ld, want %ld\n", name, got, want);
		fails++;
	}
}

static void rec_init(struct pvlock_record *r, u32 cpu)
{
	memset(r, 0, sizeof(*r));
	r->magic = PVLOCK_RECORD_MAGIC;
	r->version = PVLOCK_RECORD_VERSION;
	r->size = PVLOCK_RECORD_SIZE;
	r->ecs_kind = PVLOCK_ECS_NONE;
	r->cpu = cpu;
	r->wait_target = PVLOCK_CPU_NONE;
	r->last_kicked = PVLOCK_CPU_NONE;
}

/* Busy in kernel mode, as a thread inside a long critical section would look. */
static int busy_fn(void *arg)
{
	unsigned long x = 0;
	unsigned int i;

	while (!kthread_should_stop()) {
		for (i = 0; i < 1000000; i++)
			x = x * 6364136223846793005ul + 1442695040888963407ul;
		barrier_data(&x);
		cond_resched();
	}
	return 0;
}

static void fake_set(unsigned int cpu, bool on)
{
	unsigned long gpa = virt_to_phys(&fake_recs[cpu]);
	long r;

	if (fake_on[cpu] == on)
		return;
	if (on) {
		rec_init(&fake_recs[cpu], cpu);
		fake_recs[cpu].ecs_kind = PVLOCK_ECS_X86_PREEMPT_COUNT;
		fake_recs[cpu].ecs_gpa = virt_to_phys(&fake_words[cpu]);
		r = hc(cpu, PVLOCK_HC_REGISTER, gpa, cpu, 0, 0);
	} else {
		r = hc(cpu, PVLOCK_HC_UNREGISTER, 0, 0, 0, 0);
	}
	if (r)
		pr_info("PVLOCK-INFO hostile-fake-cs: cpu %u %s: %ld\n", cpu,
			on ? "register" : "unregister", r);
	fake_on[cpu] = on && !r;
}

/* Follows fake_cs; re-registers after a host reload. */
static int ctl_fn(void *arg)
{
	unsigned int cpu;

	while (!kthread_should_stop()) {
		for_each_online_cpu(cpu)
			if (cpu < FAKE_CPUS)
				fake_set(cpu, READ_ONCE(fake_cs) == 1);
		msleep(100);
	}
	for_each_online_cpu(cpu)
		if (cpu < FAKE_CPUS)
			fake_set(cpu, false);
	return 0;
}

static int attack_start(void)
{
	unsigned int cpu;

	fake_recs = (void *)get_zeroed_page(GFP_KERNEL);
	fake_words = (void *)get_zeroed_page(GFP_KERNEL);
	if (!fake_recs || !fake_words)
		return -ENOMEM;
	for (cpu = 0; cpu < FAKE_CPUS; cpu++)
		fake_words[cpu] = 1;	/* "preempt count 1": inside a critical section */
	/* the checks' registration of vCPU 0 makes way for the fake one */
	hc(0, PVLOCK_HC_UNREGISTER, 0, 0, 0, 0);
	for_each_online_cpu(cpu) {
		if (cpu >= FAKE_CPUS)
			break;
		busy[cpu] = kthread_create_on_cpu(busy_fn, NULL, cpu, "hostile_busy/%u");
		if (!IS_ERR(busy[cpu]))
			wake_up_process(busy[cpu]);
		else
			busy[cpu] = NULL;
	}
	ctl = kthread_run(ctl_fn, NULL, "hostile_ctl");
	if (IS_ERR(ctl))
		ctl = NULL;
	pr_info("PVLOCK-INFO hostile-attack: busy threads on %u CPUs, fake_cs=%d\n",
		num_online_cpus(), fake_cs);
	return 0;
}

static int __init pvlock_hostile_init(void)
{
	unsigned long gpa, reg = PVLOCK_HC_REGISTER;
	u32 n = num_online_cpus();
	long r;
	int i, busy = 0;
	u64 t0, ns, per_sec, allowed;

	if (n < 2) {
		pr_info("PVLOCK-RESULT FAIL hostile-setup: needs 2 CPUs\n");
		return -EINVAL;
	}
	recs = (void *)get_zeroed_page(GFP_KERNEL);
	if (!recs)
		return -ENOMEM;
	gpa = virt_to_phys(recs);
	rec_init(&recs[0], 0);

	/* before the handshake */
	expect("register-before-hello", hc(0, reg, gpa, 0, 0, 0), -PVLOCK_EPROTO);
	expect("hello-reserved-arg", hc(0, PVLOCK_HC_HELLO, 1, PVLOCK_F_ALL, n, 7), -PVLOCK_EINVAL);
	expect("hello-zero-cpus", hc(0, PVLOCK_HC_HELLO, 1, PVLOCK_F_ALL, 0, 0), -PVLOCK_EINVAL);
	r = hc(0, PVLOCK_HC_HELLO, 1, PVLOCK_F_ALL, n, 0);
	expect("hello", r >= 0 ? PVLOCK_HELLO_VERSION(r) : r, 1);

	expect("register-unaligned", hc(0, reg, gpa + 8, 0, 0, 0), -PVLOCK_EINVAL);
	expect("register-outside-memory", hc(0, reg, 1UL << 45, 0, 0, 0), -PVLOCK_EFAULT);
	expect("register-cpu-out-of-range", hc(0, reg, gpa, n, 0, 0), -PVLOCK_ERANGE);
	expect("register-cpu-negative", hc(0, reg, gpa, -1UL, 0, 0), -PVLOCK_ERANGE);
	expect("register-flags", hc(0, reg, gpa, 0, 1, 0), -PVLOCK_EINVAL);
	recs[0].magic = 0xdeadbeef;
	expect("register-bad-magic", hc(0, reg, gpa, 0, 0, 0), -PVLOCK_EINVAL);
	rec_init(&recs[0], 1);
	expect("register-cpu-mismatch", hc(0, reg, gpa, 0, 0, 0), -PVLOCK_EINVAL);
	rec_init(&recs[0], 0);
	recs[0].ecs_kind = 9;
	expect("register-bad-ecs-kind", hc(0, reg, gpa, 0, 0, 0), -PVLOCK_EINVAL);
	rec_init(&recs[0], 0);

	expect("register", hc(0, reg, gpa, 0, 0, 0), 0);
	expect("register-again", hc(0, reg, gpa, 0, 0, 0), -PVLOCK_EEXIST);
	rec_init(&recs[2], 1);
	expect("register-second-number", hc(0, reg, gpa + 256, 1, 0, 0), -PVLOCK_EEXIST);
	rec_init(&recs[1], 0);
	expect("register-taken-number", hc(1, reg, gpa + 128, 0, 0, 0), -PVLOCK_EEXIST);
	expect("unregister-not-registered", hc(1, PVLOCK_HC_UNREGISTER, 0, 0, 0, 0),
	       -PVLOCK_ENOENT);
	expect("yield-not-registered", hc(1, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0),
	       -PVLOCK_ENOENT);
	expect("yield-bad-flags", hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0x80, 0, 0),
	       -PVLOCK_EINVAL);
	/* an out-of-range hint is ignored (and counted), the yield served */
	r = hc(0, PVLOCK_HC_YIELD, 100000, 0, 0, 0);
	expect("yield-hint-out-of-range", r >= 0, 1);

	/*
	 * A registration storm from vCPU 1 with a record that never passes,
	 * until 150 calls have been refused as a storm. How many get through
	 * depends on how fast this machine makes hypercalls; what may not
	 * depend on it is the bound: a full bucket plus what refilled while
	 * the storm lasted (one call of slack for the clocks' rounding).
	 */
	recs[1].magic = 0;
	per_sec = PVLOCK_REG_PER_SEC(n);
	t0 = ktime_get_ns();
	for (i = 0; i < 4000 && busy < 150; i++)
		busy += hc(1, reg, gpa + 128, 1, 0, 0) == -PVLOCK_EBUSY;
	ns = ktime_get_ns() - t0;
	allowed = per_sec + div_u64(per_sec * ns, NSEC_PER_SEC) + 1;
	pr_info("PVLOCK-INFO hostile-storm: %d of %d calls refused in %llu ms; %d served, the bucket allows %llu\n",
		busy, i, div_u64(ns, NSEC_PER_MSEC), i - busy, allowed);
	expect("register-storm-refused", busy, 150);
	expect("register-storm-bounded", (u64)(i - busy) <= allowed, 1);

	pr_info("PVLOCK-RESULT %s hostile-all: %d failed\n", fails ? "FAIL" : "PASS", fails);
	return attack ? attack_start() : 0;
}

static void __exit pvlock_hostile_exit(void)
{
	unsigned int cpu;

	if (ctl)
		kthread_stop(ctl);
	for (cpu = 0; cpu < FAKE_CPUS; cpu++)
		if (busy[cpu])
			kthread_stop(busy[cpu]);
	hc(0, PVLOCK_HC_UNREGISTER, 0, 0, 0, 0);
	free_page((unsigned long)fake_recs);
	free_page((unsigned long)fake_words);
	free_page((unsigned long)recs);
}

module_init(pvlock_hostile_init);
module_exit(pvlock_hostile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pvlock test: a guest that sends bad hypercalls");
