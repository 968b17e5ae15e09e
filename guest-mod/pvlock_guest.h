/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PVLOCK_GUEST_H
#define _PVLOCK_GUEST_H

#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/clock.h>
#include <linux/types.h>
#include <asm/msr.h>
#include <asm/qspinlock.h>
#include <asm/tsc.h>		/* rdtsc() in 7.x */
#include <linux/pvlock.h>

#include <pvlock/threshold.h>

/* Settings; written under pvlock_guest_lock, read locklessly with READ_ONCE. */
struct pvlock_guest_params {
	u32 mode;		/* enum pvlock_mode */
	u32 threshold;		/* fixed-mode threshold */
	u32 min, max;		/* bounds of the adaptive threshold */
	bool yield;		/* yield hypercall instead of HLT when the host has it */
	bool force_queue;	/* test mode: bypass the test-and-set path */
};

/* What the module knows about its surroundings. */
struct pvlock_guest_state {
	u32 handshake;		/* enum pvlock_handshake */
	u32 host_abi;
	u32 host_features;	/* PVLOCK_F_* agreed */
	u32 livepatch;		/* enum pvlock_livepatch */
	u32 nr_registered;
	u32 host_threshold;	/* last hint read from the host, 0 = none */
};

extern struct mutex pvlock_guest_lock;
extern struct pvlock_guest_params pvlock_guest_params;
extern struct pvlock_guest_state pvlock_guest_state;

/* ---- mirrors of the kernel's queued-spinlock structures ----------------
 * kernel/locking/qspinlock.c: struct qnode { struct mcs_spinlock mcs; long
 * reserved[2]; } (with CONFIG_PARAVIRT_SPINLOCKS), 4 per CPU; the PV code
 * overlays struct pv_node { mcs; int cpu; u8 state; } on it and hashes
 * { lock, node } pairs. Same in 6.1, 6.12 and 7.2.
 */
struct pvlock_mcs {
	struct pvlock_mcs *next;
	int locked;
	int count;		/* nesting depth, used in qnodes[0] only */
};

struct pvlock_qnode {
	struct pvlock_mcs mcs;
	long reserved[2];
};

struct pvlock_pv_node {
	struct pvlock_mcs mcs;
	int cpu;
	u8 state;		/* enum pvlock_vcpu_state */
};

enum pvlock_vcpu_state {
	PVLOCK_VCPU_RUNNING,
	PVLOCK_VCPU_HALTED,
	PVLOCK_VCPU_HASHED,
};

struct pvlock_hash_entry {
	struct qspinlock *lock;
	struct pvlock_pv_node *node;
};

#define PVLOCK_MAX_NODES	4
#define PVLOCK_Q_SLOW_VAL	(3U << _Q_LOCKED_OFFSET)

struct pvlock_ksyms {
	struct pvlock_qnode __percpu *qnodes;		/* qnodes[PVLOCK_MAX_NODES] */
	struct pvlock_hash_entry **pv_lock_hash;
	unsigned int *pv_lock_hash_bits;
	struct static_key_false *virt_spin_lock_key;
	struct tracepoint *tp_contention_begin;		/* resolved where not exported */
	struct tracepoint *tp_contention_end;
	struct task_struct * __percpu *idle_threads;	/* each CPU's idle task; NULL: unknown */
};

extern struct pvlock_ksyms pvlock_ksyms;

/* ksyms.c */
int pvlock_ksyms_init(void);
void pvlock_ksyms_name(unsigned long addr, char *buf, size_t len);

/* ---- per-CPU state of the slow path (slowpath.c) ---------------------- */

/*
 * What one slow-path call saw, kept from the moment it owns the lock until
 * the next call at the same nesting level accounts it (histogram, lock
 * table, adaptive threshold): that work then runs while the CPU waits for a
 * lock anyway, not inside the caller's critical section.
 */
struct pvlock_sample {
	struct qspinlock *lock;		/* NULL: nothing pending */
	u64 t0, t1;			/* pvlock_ticks() at entry and with the lock */
	u64 blocked_ns;
	u32 spins;
	u16 mode;
	u16 weight;			/* calls it stands for: 1 or PVLOCK_TIME_EVERY */
	bool waited, preempted;
};

/*
 * The lock a nesting level of a CPU last took through the slow path, in the
 * modes other than stock: a waiter that is about to block looks for the
 * holder of its lock among these (pvlock_find_holder()). Written after the
 * lock is owned, with nothing else: the lock (last), and its entry time.
 */
struct pvlock_claim {
	struct qspinlock *lock;
	u64 t0;
};

struct pvlock_cpu {
	struct pvlock_thresh thresh;	/* adaptive state, touched at nesting depth 0 only */
	u32 hint;			/* host's threshold hint for this vCPU, 0 = none */
	u32 oc_pct;			/* host's overcommit (record), 0 = unknown */
	bool registered;		/* record registered with the host */
	struct pvlock_record *rec;	/* this CPU's record (always allocated) */
	struct pvlock_sample pend[PVLOCK_MAX_NODES];	/* per nesting level */
	struct pvlock_claim claim[PVLOCK_MAX_NODES];	/* per nesting level */
};

DECLARE_PER_CPU(struct pvlock_cpu, pvlock_cpu);

/*
 * Wait timing. Slow-path calls are timed with the TSC: in a KVM guest
 * local_clock() reads kvmclock, which measured 8-10 times the cost of
 * RDTSC in our nested guests, and a slow-path call takes at least two
 * readings. A wait starts and ends on one CPU (preemption is off), where
 * the TSC never goes back. Ticks become nanoseconds with a multiplier set
 * from tsc_khz at load; without a known TSC rate, ticks are local_clock()
 * nanoseconds.
 */
#define PVLOCK_TSC_SHIFT	22
extern u32 pvlock_tsc_mult;

static __always_inline u64 pvlock_ticks(void)
{
	return likely(pvlock_tsc_mult) ? rdtsc() : local_clock();
}

/* Nanoseconds from @t0 to @t1 (ticks of the same CPU; 0 if out of order). */
static __always_inline u64 pvlock_ticks_ns(u64 t0, u64 t1)
{
	u64 d = t1 > t0 ? t1 - t0 : 0;

	return likely(pvlock_tsc_mult) ? mul_u64_u32_shr(d, pvlock_tsc_mult, PVLOCK_TSC_SHIFT) : d;
}

/* This CPU's clock in nanoseconds, for the record's timestamps. */
static __always_inline u64 pvlock_clock_ns(void)
{
	return pvlock_ticks_ns(0, pvlock_ticks());
}

void pvlock_pv_slowpath(struct qspinlock *lock, u32 val);
void pvlock_native_slowpath(struct qspinlock *lock, u32 val);
void pvlock_kvm_wait(u8 *ptr, u8 val);
void pvlock_kvm_kick_cpu(int cpu);
void pvlock_slowpath_init(void);
void pvlock_slowpath_gauges(void);
void pvlock_slowpath_forget(void);

/* ---- hypervisor side (hv.c) -------------------------------------------- */
int pvlock_hv_init(void);
void pvlock_hv_exit(void);
bool pvlock_hv_can_yield(void);
long pvlock_hv_yield(u32 target, bool irqs_were_on, bool halt);
void pvlock_hv_lost(long err);
void pvlock_hv_tick(void);
void pvlock_hv_mode_changed(u32 old, u32 now);
void pvlock_hv_probe_soon(void);

/* ---- main.c -------------------------------------------------------------- */
void pvlock_tick_now(void);

/* ---- livepatch.c -------------------------------------------------------- */
int pvlock_lp_enable(void);
u32 pvlock_lp_state(void);

/* ---- locks.c: most contended locks -------------------------------------- */
int pvlock_locks_init(void);
void pvlock_locks_exit(void);
void pvlock_locks_note(struct qspinlock *lock, u64 wait_ns, u32 weight);
void pvlock_locks_reset(void);

struct pvlock_lock_info {
	unsigned long addr;
	u64 count, wait_ns, wait_max;
};
int pvlock_locks_top(struct pvlock_lock_info *out, int max);

/* ---- stats.c: per-CPU counters, summed on read ------------------------- */
struct pvlock_guest_stats {
	u64 c[__PVLOCK_GS_LAST];
	u64 hist[PVLOCK_HIST_BUCKETS];		/* wait time, log2 ns */
};

DECLARE_PER_CPU(struct pvlock_guest_stats, pvlock_guest_stats);

static inline void pvlock_guest_count(enum pvlock_guest_stat s, u64 n)
{
	this_cpu_add(pvlock_guest_stats.c[s], n);
}

void pvlock_guest_stats_read(int cpu, struct pvlock_guest_stats *out);
void pvlock_guest_stats_reset(void);

/* ---- netlink.c ---------------------------------------------------------- */
int pvlock_guest_netlink_init(void);
void pvlock_guest_netlink_exit(void);
void pvlock_guest_notify(enum pvlock_event ev);

#endif /* _PVLOCK_GUEST_H */
