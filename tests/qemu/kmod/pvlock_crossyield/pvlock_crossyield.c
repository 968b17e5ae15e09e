// SPDX-License-Identifier: GPL-2.0
/*
 * Test module: the cross-VM case of PVLOCK_HC_YIELD, made to happen. Loaded
 * in a registered pvlock guest whose other CPUs idle (so that this VM has no
 * vCPU worth a yield) while another VM runs a lock-heavy load: CPU 0 issues
 * PVLOCK_HC_YIELD without a hint every few milliseconds and counts what the
 * host answered. The host may only yield to a preempted vCPU of the other
 * VM here; the test passes when it did at least once and never answered
 * anything the ABI does not define. One "PVLOCK-CROSS" line with the counts
 * goes to the kernel log for the test to compare with the host's counters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <asm/kvm_para.h>
#include <linux/pvlock.h>

static unsigned int calls = 2000;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "at most this many yields");
static unsigned int want = 20;
module_param(want, uint, 0444);
MODULE_PARM_DESC(want, "stop after this many cross-VM yields");

struct counts {
	unsigned int n, r[PVLOCK_YIELD_R_DENIED + 1], bad;
	long last_bad;
};

static long crossyield_run(void *arg)
{
	struct counts *c = arg;
	long r;

	while (c->n < calls && c->r[PVLOCK_YIELD_R_CROSS_VM] < want) {
		r = kvm_hypercall4(PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
		c->n++;
		/* the vCPU yielded to, if the host says it (PVLOCK_F_YIELD_TO), is not counted */
		if (r >= 0)
			r = PVLOCK_YIELD_RESULT(r);
		if (r >= 0 && r <= PVLOCK_YIELD_R_DENIED) {
			c->r[r]++;
		} else {
			c->bad++;
			c->last_bad = r;
		}
		usleep_range(2000, 3000);
	}
	return 0;
}

static int __init pvlock_crossyield_init(void)
{
	struct counts c = { 0 };
	bool ok;

	/* work_on_cpu: a kthread bound to CPU 0, which may sleep */
	work_on_cpu(0, crossyield_run, &c);
	ok = c.r[PVLOCK_YIELD_R_CROSS_VM] > 0 && !c.bad;
	pr_info("PVLOCK-CROSS calls=%u none=%u same=%u cross=%u halted=%u denied=%u bad=%u\n",
		c.n, c.r[PVLOCK_YIELD_R_NONE], c.r[PVLOCK_YIELD_R_SAME_VM],
		c.r[PVLOCK_YIELD_R_CROSS_VM], c.r[PVLOCK_YIELD_R_HALTED],
		c.r[PVLOCK_YIELD_R_DENIED], c.bad);
	pr_info("PVLOCK-RESULT %s crossyield: %u of %u yields went to another VM%s\n",
		ok ? "PASS" : "FAIL", c.r[PVLOCK_YIELD_R_CROSS_VM], c.n,
		c.bad ? " (answers outside the ABI seen)" : "");
	return 0;
}

static void __exit pvlock_crossyield_exit(void)
{
}

module_init(pvlock_crossyield_init);
module_exit(pvlock_crossyield_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pvlock test: cross-VM directed yields, on demand");
