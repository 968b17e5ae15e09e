// SPDX-License-Identifier: GPL-2.0
/*
 * The most contended locks. Each CPU keeps a small open-addressed table of
 * lock addresses it waited for, updated only with this_cpu operations
 * (single instructions on x86, safe against interrupts and NMIs on the same
 * CPU, no shared cache line, no lock: this runs inside the lock slow path).
 * Readers merge the tables of all CPUs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pvlock_guest.h"

#define PVLOCK_LOCK_SLOTS	64	/* per CPU, power of two */
#define PVLOCK_LOCK_PROBES	4

struct pvlock_lock_slot {
	unsigned long addr;
	u64 count;
	u64 wait_ns;
	u64 wait_max;
};

struct pvlock_lock_table {
	struct pvlock_lock_slot s[PVLOCK_LOCK_SLOTS];
	u64 dropped;			/* waits on locks that found no free slot */
};

static struct pvlock_lock_table __percpu *pvlock_lock_tables;

int pvlock_locks_init(void)
{
	pvlock_lock_tables = alloc_percpu(struct pvlock_lock_table);
	return pvlock_lock_tables ? 0 : -ENOMEM;
}

void pvlock_locks_exit(void)
{
	free_percpu(pvlock_lock_tables);
	pvlock_lock_tables = NULL;
}

/* A wait of @wait_ns on @lock, standing for @weight calls. */
void pvlock_locks_note(struct qspinlock *lock, u64 wait_ns, u32 weight)
{
	struct pvlock_lock_table __percpu *t = READ_ONCE(pvlock_lock_tables);
	unsigned long a = (unsigned long)lock;
	unsigned int h, i;

	if (!t)
		return;
	h = hash_long(a, ilog2(PVLOCK_LOCK_SLOTS));
	for (i = 0; i < PVLOCK_LOCK_PROBES; i++) {
		unsigned int k = (h + i) & (PVLOCK_LOCK_SLOTS - 1);
		unsigned long cur = this_cpu_read(t->s[k].addr);

		if (!cur)
			cur = this_cpu_cmpxchg(t->s[k].addr, 0UL, a);
		if (cur && cur != a)
			continue;
		this_cpu_add(t->s[k].count, weight);
		this_cpu_add(t->s[k].wait_ns, wait_ns * weight);
		if (wait_ns > this_cpu_read(t->s[k].wait_max))
			this_cpu_write(t->s[k].wait_max, wait_ns);
		return;
	}
	this_cpu_add(t->dropped, weight);
}

void pvlock_locks_reset(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(pvlock_lock_tables, cpu), 0, sizeof(struct pvlock_lock_table));
}

static int pvlock_lock_cmp(const void *a, const void *b)
{
	const struct pvlock_lock_info *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The @max most contended locks over all CPUs, most contended first. */
int pvlock_locks_top(struct pvlock_lock_info *out, int max)
{
	int cap = num_possible_cpus() * PVLOCK_LOCK_SLOTS, n = 0, cpu, i, j;
	struct pvlock_lock_info *all;

	all = kvmalloc_array(cap, sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct pvlock_lock_table *t = per_cpu_ptr(pvlock_lock_tables, cpu);

		for (i = 0; i < PVLOCK_LOCK_SLOTS; i++) {
			unsigned long a = READ_ONCE(t->s[i].addr);

			if (!a)
				continue;
			for (j = 0; j < n && all[j].addr != a; j++)
				;
			if (j == n) {
				if (n == cap)
					break;
				all[n++] = (struct pvlock_lock_info){ .addr = a };
			}
			all[j].count += READ_ONCE(t->s[i].count);
			all[j].wait_ns += READ_ONCE(t->s[i].wait_ns);
			all[j].wait_max = max(all[j].wait_max, READ_ONCE(t->s[i].wait_max));
		}
	}
	sort(all, n, sizeof(*all), pvlock_lock_cmp, NULL);
	n = min(n, max);
	memcpy(out, all, n * sizeof(*all));
	kvfree(all);
	return n;
}
