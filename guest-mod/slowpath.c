// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock's queued-spinlock slow paths, livepatched over the kernel's
 * native_queued_spin_lock_slowpath and __pv_queued_spin_lock_slowpath, and
 * the replacements of kvm_wait and kvm_kick_cpu.
 *
 * The lock word, the MCS queue and the PV protocol are the kernel's own, so
 * that old and new code can work on the same lock at the same time during a
 * livepatch transition:
 *
 *   lock->val: bits 0-7 locked (1, or _Q_SLOW_VAL = 3 when the queue head
 *   halted and hashed itself), bits 8-15 pending, bits 16-17 tail index,
 *   bits 18-31 tail CPU + 1. A waiter that finds the lock taken and nobody
 *   pending sets pending and spins on the holder; everybody else queues on
 *   one of the kernel's four per-CPU qnodes (one per context nesting level)
 *   and spins on its own node until its predecessor hands the queue over.
 *   The queue head spins on the lock word.
 *
 *   PV: a node records its CPU and state (running/halted/hashed). A waiter
 *   behind a predecessor that gave up spinning stops early; a queue head
 *   that gives up hashes { lock, node } into the kernel's pv_lock_hash and
 *   marks the lock _Q_SLOW_VAL, so that the holder's unlock (kernel code,
 *   never patched) finds it there and kicks its vCPU. A head that takes over
 *   from a halted predecessor hashes its successor lazily (pv_kick_node).
 *
 * What pvlock changes, in modes other than "stock": the spin threshold
 * (adaptive, from include/pvlock/threshold.h, or fixed), a wait-early check
 * on the predecessor's vCPU being preempted, the wait itself (the yield
 * hypercall naming whom we wait behind, instead of a bare HLT), and the eCS
 * record fields. In "stock" mode the algorithm is the kernel's (spin 2^15,
 * HLT), with counters only: the A/B baseline.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/prefetch.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <asm/kvm_para.h>
#include <linux/kvm_para.h>
#include <asm/paravirt.h>
#include <asm/qspinlock.h>
#include <asm/tsc.h>
#include <trace/events/lock.h>

#include <pvlock/record.h>

#include "compat.h"
#include "probe.h"
#include "pvlock_guest.h"

static_assert(sizeof(struct pvlock_qnode) == 32, "struct qnode is 32 bytes with PV spinlocks");
static_assert(sizeof(struct pvlock_pv_node) <= sizeof(struct pvlock_qnode), "pv_node fits a qnode");
static_assert(offsetof(struct pvlock_pv_node, cpu) == 16, "pv_node.cpu follows the MCS node");
static_assert(sizeof(struct pvlock_hash_entry) == 16, "pv_hash_entry is two pointers");
static_assert(_Q_PENDING_BITS == 8, "Debian's NR_CPUS gives 8 pending bits");
static_assert(!(PVLOCK_TIME_EVERY & (PVLOCK_TIME_EVERY - 1)) && PVLOCK_TIME_EVERY <= U16_MAX,
	      "PVLOCK_TIME_EVERY: a power of two that fits the sample's weight");

DEFINE_PER_CPU(struct pvlock_cpu, pvlock_cpu);
u32 pvlock_tsc_mult __read_mostly;

/* kernel: SPIN_THRESHOLD in the PV code, PV_PREV_CHECK_MASK for wait-early */
#define PVLOCK_PREV_CHECK_STOCK	0xff
#define PVLOCK_PREV_CHECK	0x3f
#define PVLOCK_HE_PER_LINE	(SMP_CACHE_BYTES / sizeof(struct pvlock_hash_entry))

/* One slow-path call: what it saw (kept for accounting) and how it waits. */
struct pvlock_wctx {
	struct pvlock_sample s;
	struct qspinlock *lock;
	u32 threshold;
	bool early;
	bool calm;			/* the host says it is not overcommitted */
	bool outer;			/* nesting depth 0: may touch the record, adapt */
	struct pvlock_record *rec;	/* non-NULL when the record is written */
};

/* ---- contention tracepoints (perf lock contention) ----------------------- */

#ifdef PVLOCK_TP_BY_HAND
#include <linux/tracepoint.h>

/* What the generic tracepoint iterator does; we run with preemption off. */
#define PVLOCK_TP_CALL(tp, type, ...)						\
	do {									\
		struct tracepoint *__tp = (tp);					\
		struct tracepoint_func *__f;					\
										\
		if (__tp && static_key_enabled(&__tp->key)) {			\
			__f = rcu_dereference_raw(__tp->funcs);			\
			for (; __f && __f->func; __f++)				\
				((type)__f->func)(__f->data, __VA_ARGS__);	\
		}								\
	} while (0)

static __always_inline void pvlock_trace_begin(struct qspinlock *lock, unsigned int flags)
{
	PVLOCK_TP_CALL(pvlock_ksyms.tp_contention_begin, void (*)(void *, void *, unsigned int),
		       lock, flags);
}

static __always_inline void pvlock_trace_end(struct qspinlock *lock, int ret)
{
	PVLOCK_TP_CALL(pvlock_ksyms.tp_contention_end, void (*)(void *, void *, int), lock, ret);
}
#else
#define pvlock_trace_begin(lock, flags)	trace_contention_begin(lock, flags)
#define pvlock_trace_end(lock, ret)	trace_contention_end(lock, ret)
#endif

/* ---- the kernel's queue encoding (kernel/locking/qspinlock.c) ---------- */

static __always_inline u32 pvlock_encode_tail(int cpu, int idx)
{
	return ((cpu + 1) << _Q_TAIL_CPU_OFFSET) | (idx << _Q_TAIL_IDX_OFFSET);
}

static __always_inline struct pvlock_mcs *pvlock_decode_tail(u32 tail)
{
	int cpu = (tail >> _Q_TAIL_CPU_OFFSET) - 1;
	int idx = (tail & _Q_TAIL_IDX_MASK) >> _Q_TAIL_IDX_OFFSET;

	return &per_cpu_ptr(pvlock_ksyms.qnodes, cpu)[idx].mcs;
}

static __always_inline u32 pvlock_xchg_tail(struct qspinlock *lock, u32 tail)
{
	return (u32)xchg_relaxed(&lock->tail, tail >> _Q_TAIL_OFFSET) << _Q_TAIL_OFFSET;
}

static __always_inline void pvlock_clear_pending(struct qspinlock *lock)
{
	WRITE_ONCE(lock->pending, 0);
}

static __always_inline void pvlock_clear_pending_set_locked(struct qspinlock *lock)
{
	WRITE_ONCE(lock->locked_pending, _Q_LOCKED_VAL);
}

static __always_inline void pvlock_set_locked(struct qspinlock *lock)
{
	WRITE_ONCE(lock->locked, _Q_LOCKED_VAL);
}

/* ---- the threshold in use ------------------------------------------------ */

static void pvlock_cfg(struct pvlock_thresh_cfg *cfg)
{
	pvlock_thresh_cfg_default(cfg);
	cfg->min = READ_ONCE(pvlock_guest_params.min);
	cfg->max = READ_ONCE(pvlock_guest_params.max);
}

/* The threshold @pc uses in @mode now. */
static u32 pvlock_threshold_of(struct pvlock_cpu *pc, u32 mode)
{
	struct pvlock_thresh_cfg cfg;

	if (mode == PVLOCK_MODE_STOCK)
		return PVLOCK_SPIN_STOCK;
	pvlock_cfg(&cfg);
	return pvlock_thresh_for_mode(&pc->thresh, &cfg, mode,
				      READ_ONCE(pvlock_guest_params.threshold),
				      READ_ONCE(pc->hint));
}

/* ---- accounting of a slow-path call -------------------------------------- */

/* Account @p, a call at nesting level @idx of this CPU; leaves it empty. */
static noinline void pvlock_account(struct pvlock_cpu *pc, struct pvlock_sample *p, int idx)
{
	u64 dt = pvlock_ticks_ns(p->t0, p->t1);

	pvlock_guest_count(PVLOCK_GS_SPINS, p->spins);
	if (p->preempted)
		pvlock_guest_count(PVLOCK_GS_PREEMPTED_SEEN, 1);
	pvlock_guest_count(PVLOCK_GS_WAIT_NS, dt * p->weight);
	this_cpu_add(pvlock_guest_stats.hist[pvlock_hist_bucket(dt)], p->weight);
	if (dt > this_cpu_read(pvlock_guest_stats.c[PVLOCK_GS_WAIT_MAX_NS]))
		this_cpu_write(pvlock_guest_stats.c[PVLOCK_GS_WAIT_MAX_NS], dt);
	pvlock_locks_note(p->lock, dt, p->weight);
	p->lock = NULL;

	if (idx == 0 && p->mode == PVLOCK_MODE_ADAPTIVE) {
		struct pvlock_wait_sample s = {
			.spins = p->spins,
			.blocked_ns = p->blocked_ns,
			.wait_ns = dt,
			.waited = p->waited,
			.preempted = p->preempted,
			.weight = p->weight,
		};
		struct pvlock_thresh_cfg cfg;
		u32 old = pc->thresh.threshold;

		pvlock_cfg(&cfg);
		if (pvlock_thresh_observe(&pc->thresh, &cfg, &s, READ_ONCE(pc->hint)) !=
		    PVLOCK_TR_NONE && pc->thresh.threshold != old) {
			pvlock_guest_count(PVLOCK_GS_THRESH_CHANGES, 1);
			this_cpu_write(pvlock_guest_stats.c[PVLOCK_GS_THRESHOLD],
				       pvlock_threshold_of(pc, p->mode));
		}
	}
}

/* Start a call at nesting level @idx for @lock. */
static __always_inline void pvlock_wctx_init(struct pvlock_wctx *w, struct qspinlock *lock, int idx)
{
	struct pvlock_cpu *pc = this_cpu_ptr(&pvlock_cpu);
	bool outer = idx == 0;

	/* the previous call's accounting, now that we wait anyway */
	if (likely(idx < PVLOCK_MAX_NODES) && pc->pend[idx].lock)
		pvlock_account(pc, &pc->pend[idx], idx);
	/* field by field: a memset is a "rep stos", slow under emulation */
	w->s.lock = NULL;
	w->s.t0 = pvlock_ticks();
	w->s.t1 = 0;
	w->s.blocked_ns = 0;
	w->s.spins = 0;
	w->s.mode = READ_ONCE(pvlock_guest_params.mode);
	w->s.weight = 0;
	w->s.waited = false;
	w->s.preempted = false;
	w->early = false;
	w->calm = false;
	w->outer = outer;
	w->rec = NULL;
	w->lock = lock;
	/* stock mode's constant without the call (the benchmarked code) */
	w->threshold = w->s.mode == PVLOCK_MODE_STOCK ? PVLOCK_SPIN_STOCK :
			pvlock_threshold_of(pc, w->s.mode);
	if (w->s.mode == PVLOCK_MODE_STOCK)
		return;
	/*
	 * A host that runs no more vCPUs than it has CPUs preempts a holder
	 * only for moments: spin as the kernel does, and do not stop early
	 * behind a vCPU seen preempted (each yield costs an exit). Measured:
	 * without this, 0.93 of stock in an undercommitted nested VM.
	 */
	w->calm = pc->oc_pct && pc->oc_pct <= 100;
	if (w->calm)
		w->threshold = READ_ONCE(pvlock_guest_params.max);
	/* waiting for the lock this level claimed: it let go of it since */
	if (likely(idx < PVLOCK_MAX_NODES) && pc->claim[idx].lock == lock)
		WRITE_ONCE(pc->claim[idx].lock, NULL);
	if (!outer)
		return;
	/*
	 * The gauge shows what this CPU spins now (the host's hint moves it);
	 * stock mode's never changes: pvlock_slowpath_gauges() set it.
	 */
	this_cpu_write(pvlock_guest_stats.c[PVLOCK_GS_THRESHOLD], w->threshold);
	w->rec = pc->rec;
}

/* ---- eCS record, guest half (depth 0 only, so writers never nest) ------- */

/*
 * Entering the wait, before the tail exchange publishes us: the lock, since
 * when, and the flags. A waiter whose preemption count says it is inside
 * something more than this lock's own preempt_disable() (another lock, irqs,
 * bottom halves) is also a holder: the host may boost it.
 */
static noinline void __pvlock_rec_wait(struct pvlock_wctx *w, struct qspinlock *lock)
{
	struct pvlock_record *r = w->rec;
	u32 flags = PVLOCK_GF_WAITING;

	if (preempt_count() > PREEMPT_OFFSET)
		flags |= PVLOCK_GF_HOLDER;
	pvlock_guest_write_begin(r);
	WRITE_ONCE(r->guest_flags, flags);
	WRITE_ONCE(r->wait_lock, (u64)(unsigned long)lock);
	WRITE_ONCE(r->wait_since_ns, pvlock_ticks_ns(0, w->s.t0));
	WRITE_ONCE(r->wait_target, PVLOCK_CPU_NONE);
	pvlock_guest_write_end(r);
}

/* stock mode (no record): one test, no call, on the way to the lock */
static __always_inline void pvlock_rec_wait(struct pvlock_wctx *w, struct qspinlock *lock)
{
	if (w->rec)
		__pvlock_rec_wait(w, lock);
}

/* Flags alone: one aligned store, outside guest_seq (see the uapi header). */
static __always_inline void pvlock_rec_flags(struct pvlock_wctx *w, u32 set, u32 clear)
{
	struct pvlock_record *r = w->rec;

	if (r)
		WRITE_ONCE(r->guest_flags, (READ_ONCE(r->guest_flags) | set) & ~clear);
}

/* Blocking: whom we wait behind, and the halted flag. */
static void pvlock_rec_block(struct pvlock_wctx *w, u32 target)
{
	struct pvlock_record *r = w->rec;

	if (!r)
		return;
	pvlock_guest_write_begin(r);
	WRITE_ONCE(r->wait_target, target);
	WRITE_ONCE(r->guest_flags, READ_ONCE(r->guest_flags) | PVLOCK_GF_HALTED);
	pvlock_guest_write_end(r);
}

/* ---- who holds the lock ------------------------------------------------- */

/*
 * The CPU holding @lock, as far as the slow path knows, or -1.
 *
 * First the CPU whose claim on @lock (pvlock_keep()) is the most recent, if
 * it is still inside a critical section (a spinlock holder always is: its
 * preemption count is non-zero). A claim is dropped when its CPU waits for
 * the same lock again.
 *
 * A holder that took the lock on the fast path (most acquisitions, even
 * under contention) left no claim. Then, by elimination: the one preempted
 * CPU that is inside a critical section and is not a queued waiter (its
 * record's WAITING flag). A waiter that has not queued yet (pending, or
 * the steal loop) looks the same as a holder: with two or more such CPUs
 * nobody is named, and the host judges by its eCS rules. A stale claim of
 * a CPU now busy in another critical section is still a wrong guess, but
 * one that names a vCPU inside a critical section.
 *
 * Reads a few words per CPU: only for a waiter about to block, and for
 * the queue head every PVLOCK_HOLDER_CHECK iterations.
 */
static int pvlock_find_holder(struct qspinlock *lock)
{
	int self = smp_processor_id(), cpu, best = -1, only = -1, i;
	unsigned int busy = 0;
	u64 best_t0 = 0;

	for_each_online_cpu(cpu) {
		struct pvlock_cpu *pc = per_cpu_ptr(&pvlock_cpu, cpu);
		struct pvlock_record *r;

		if (cpu == self)
			continue;
		if (!(READ_ONCE(*pvlock_preempt_count_ptr(cpu)) & PVLOCK_ECS_X86_MASK))
			continue;
		for (i = 0; i < PVLOCK_MAX_NODES; i++) {
			u64 t0;

			if (READ_ONCE(pc->claim[i].lock) != lock)
				continue;
			t0 = READ_ONCE(pc->claim[i].t0);
			if (best < 0 || t0 > best_t0) {
				best = cpu;
				best_t0 = t0;
			}
		}
		if (best >= 0 || !vcpu_is_preempted(cpu))
			continue;
		r = READ_ONCE(pc->rec);
		if (r && (READ_ONCE(r->guest_flags) & PVLOCK_GF_WAITING))
			continue;
		busy++;
		only = cpu;
	}
	if (best >= 0)
		return best;
	return busy == 1 ? only : -1;
}

/*
 * Whom a waiter names in its yield: the lock's holder when it is known and
 * preempted (running it ends the wait), else the queue predecessor @pred
 * (-1: none) when that one is preempted (the lock passes through it next),
 * else the holder or the predecessor, or nobody. Sets w->s.preempted when
 * the one named is preempted.
 */
static u32 pvlock_name_target(struct pvlock_wctx *w, struct qspinlock *lock, int pred)
{
	int holder = pvlock_find_holder(lock);

	if (holder >= 0 && vcpu_is_preempted(holder)) {
		w->s.preempted = true;
		return holder;
	}
	if (pred >= 0 && vcpu_is_preempted(pred)) {
		w->s.preempted = true;
		return pred;
	}
	if (holder >= 0)
		return holder;
	return pred >= 0 ? pred : PVLOCK_CPU_NONE;
}

/* ---- waiting: yield to whom we wait behind, or HLT like kvm_wait -------- */

/*
 * A queued call counts as spin-acquired when it starts (before it touches
 * the lock, where the instruction costs nobody anything) and stops counting
 * so when it first blocks.
 */
static __always_inline void pvlock_first_wait(struct pvlock_wctx *w)
{
	if (!w->s.waited)
		this_cpu_dec(pvlock_guest_stats.c[PVLOCK_GS_SPIN_ACQUIRED]);
}

/* Returns true when it halted (false: the value had changed already). */
static bool pvlock_halt(u8 *ptr, u8 val)
{
	bool halted = false;

	/* kvm_wait's behaviour: safe halt when interrupts were enabled */
	if (irqs_disabled()) {
		if (READ_ONCE(*ptr) == val) {
			halt();
			halted = true;
		}
	} else {
		local_irq_disable();
		if (READ_ONCE(*ptr) == val) {
			safe_halt();
			halted = true;
		} else {
			local_irq_enable();
		}
	}
	if (halted)
		pvlock_guest_count(PVLOCK_GS_HALTS, 1);
	return halted;
}

/* ---- the test probe (probe.h) ------------------------------------------- */

static struct pvlock_yield_probe *pvlock_probe;

int pvlock_guest_yield_probe(struct pvlock_yield_probe *p)
{
	mutex_lock(&pvlock_guest_lock);
	if (p && READ_ONCE(pvlock_probe)) {
		mutex_unlock(&pvlock_guest_lock);
		return -EBUSY;
	}
	WRITE_ONCE(pvlock_probe, p);
	mutex_unlock(&pvlock_guest_lock);
	/* the slow path runs with preemption off: a grace period covers it */
	if (!p)
		synchronize_rcu();
	return 0;
}
EXPORT_SYMBOL_GPL(pvlock_guest_yield_probe);

static __always_inline void pvlock_probe_call(struct pvlock_wctx *w, u32 named, bool after,
					      long ret)
{
	struct pvlock_yield_probe *p = READ_ONCE(pvlock_probe);

	if (unlikely(p) && w && p->lock == w->lock)
		p->fn(w->lock, named, after, ret);
}

/*
 * 1: a yield was issued (whatever the host did with it); 0: the value had
 * changed, nothing issued; -1: the host failed us, halt instead.
 */
static int pvlock_yield_wait(u8 *ptr, u8 val, u32 target, struct pvlock_wctx *w)
{
	bool irq_on = !irqs_disabled();
	long ret;

	if (irq_on)
		local_irq_disable();
	if (READ_ONCE(*ptr) != val) {
		if (irq_on)
			local_irq_enable();
		return 0;
	}
	pvlock_probe_call(w, target, false, 0);
	/* with interrupts on, "sti; vmmcall" halts race-free like "sti; hlt" */
	ret = pvlock_hv_yield(target, irq_on, true);
	pvlock_probe_call(w, target, true, ret);
	pvlock_guest_count(PVLOCK_GS_YIELDS, 1);
	switch (ret < 0 ? ret : PVLOCK_YIELD_RESULT(ret)) {
	case PVLOCK_YIELD_R_SAME_VM:
		pvlock_guest_count(PVLOCK_GS_YIELD_SAME_VM, 1);
		return 1;
	case PVLOCK_YIELD_R_CROSS_VM:
		pvlock_guest_count(PVLOCK_GS_YIELD_CROSS_VM, 1);
		return 1;
	case PVLOCK_YIELD_R_HALTED:
	case PVLOCK_YIELD_R_DENIED:
		pvlock_guest_count(PVLOCK_GS_YIELD_HALTED, 1);
		return 1;
	case PVLOCK_YIELD_R_NONE:
		return 1;
	default:
		/* host gone or forgot us: HLT now, re-handshake from the worker */
		pvlock_guest_count(PVLOCK_GS_YIELD_ERRORS, 1);
		pvlock_hv_lost(ret);
		return -1;
	}
}

/*
 * Give up the vCPU until *@ptr changes: yield naming @target, or HLT. Only a
 * call that really blocked counts as having waited (for the threshold
 * policy, the spin_acquired count and the blocked time); one that found the
 * value changed at the last moment spun, in effect.
 */
static void pvlock_wait(u8 *ptr, u8 val, u32 target, struct pvlock_wctx *w)
{
	u32 mode = w ? w->s.mode : READ_ONCE(pvlock_guest_params.mode);
	bool blocked;
	int r = -1;
	u64 t;

	if (in_nmi())
		return;
	t = pvlock_ticks();
	if (w)
		pvlock_rec_block(w, target);
	if (mode != PVLOCK_MODE_STOCK && READ_ONCE(pvlock_guest_params.yield) &&
	    pvlock_hv_can_yield())
		r = pvlock_yield_wait(ptr, val, target, w);
	blocked = r < 0 ? pvlock_halt(ptr, val) : r > 0;
	if (w) {
		pvlock_rec_flags(w, 0, PVLOCK_GF_HALTED);
		if (blocked) {
			pvlock_first_wait(w);
			w->s.waited = true;
			w->s.blocked_ns += pvlock_ticks_ns(t, pvlock_ticks());
		}
	}
}

/* Livepatched over kvm_wait: waits of unpatched code during a transition. */
void pvlock_kvm_wait(u8 *ptr, u8 val)
{
	pvlock_wait(ptr, val, PVLOCK_CPU_NONE, NULL);
}

/* Livepatched over kvm_kick_cpu: the unlock path waking a halted waiter. */
void pvlock_kvm_kick_cpu(int cpu)
{
	struct pvlock_record *r = this_cpu_read(pvlock_cpu.rec);
	u32 apicid = per_cpu(x86_cpu_to_apicid, cpu);

	pvlock_guest_count(PVLOCK_GS_KICKS, 1);
	if (r && READ_ONCE(pvlock_guest_params.mode) != PVLOCK_MODE_STOCK) {
		/* single aligned words, written from any context: outside guest_seq */
		WRITE_ONCE(r->last_kicked, cpu);
		WRITE_ONCE(r->last_kick_ns, pvlock_clock_ns());
	}
	kvm_hypercall2(KVM_HC_KICK_CPU, 0, apicid);
}

/*
 * Native path, pvlock modes: after the threshold, give the time slice to
 * whom we wait behind (no halt: nobody would kick us). Returns true if a
 * yield was issued.
 */
static bool pvlock_native_yield(struct pvlock_wctx *w, u32 target)
{
	u64 t;
	long ret;

	if (w->s.mode == PVLOCK_MODE_STOCK || !READ_ONCE(pvlock_guest_params.yield) ||
	    !pvlock_hv_can_yield() || in_nmi())
		return false;
	t = pvlock_ticks();
	pvlock_probe_call(w, target, false, 0);
	ret = pvlock_hv_yield(target, false, false);
	pvlock_probe_call(w, target, true, ret);
	pvlock_guest_count(PVLOCK_GS_YIELDS, 1);
	if (ret >= 0 && PVLOCK_YIELD_RESULT(ret) == PVLOCK_YIELD_R_SAME_VM)
		pvlock_guest_count(PVLOCK_GS_YIELD_SAME_VM, 1);
	else if (ret >= 0 && PVLOCK_YIELD_RESULT(ret) == PVLOCK_YIELD_R_CROSS_VM)
		pvlock_guest_count(PVLOCK_GS_YIELD_CROSS_VM, 1);
	else if (ret < 0) {
		pvlock_guest_count(PVLOCK_GS_YIELD_ERRORS, 1);
		pvlock_hv_lost(ret);
	}
	pvlock_first_wait(w);
	w->s.waited = true;
	w->s.blocked_ns += pvlock_ticks_ns(t, pvlock_ticks());
	return true;
}

/* ---- PV hash: the kernel's table, its hash, its probe order ------------- */

static struct qspinlock **pvlock_pv_hash(struct qspinlock *lock, struct pvlock_pv_node *node)
{
	unsigned int bits = READ_ONCE(*pvlock_ksyms.pv_lock_hash_bits);
	struct pvlock_hash_entry *table = READ_ONCE(*pvlock_ksyms.pv_lock_hash);
	unsigned long mask = (1UL << bits) - 1;
	unsigned long h = hash_ptr(lock, bits) & ~(PVLOCK_HE_PER_LINE - 1);
	unsigned long off;

	/*
	 * The table holds 4 entries per possible CPU and at most one waiter
	 * per CPU hashes at a time, so a free entry always exists; the kernel
	 * BUG()s if not. Same start, same linear probe: its unhash finds ours.
	 */
	for (off = 0; off <= mask; off++) {
		struct pvlock_hash_entry *he = &table[(h + off) & mask];
		struct qspinlock *old = NULL;

		if (try_cmpxchg(&he->lock, &old, lock)) {
			WRITE_ONCE(he->node, node);
			pvlock_guest_count(PVLOCK_GS_HASHED, 1);
			return &he->lock;
		}
	}
	BUG();
}

/* The kernel's unfair trylock of the PV path (lock stealing). */
static __always_inline bool pvlock_pv_trylock(struct qspinlock *lock)
{
	for (;;) {
		int val = atomic_read(&lock->val);
		u8 old = 0;

		if (!(val & (_Q_LOCKED_MASK | _Q_PENDING_MASK)) &&
		    try_cmpxchg_acquire(&lock->locked, &old, _Q_LOCKED_VAL))
			return true;
		/* give up once the queue is empty or someone is pending */
		if (!(val & _Q_TAIL_MASK) || (val & _Q_PENDING_MASK))
			return false;
		cpu_relax();
	}
}

static bool pvlock_trylock_clear_pending(struct qspinlock *lock)
{
	u16 old = _Q_PENDING_VAL;

	return !READ_ONCE(lock->locked) &&
	       try_cmpxchg_acquire(&lock->locked_pending, &old, _Q_LOCKED_VAL);
}

/* Behind a predecessor: spin on our node, then wait; wake when handed the queue. */
static void pvlock_pv_wait_node(struct pvlock_wctx *w, struct qspinlock *lock,
				struct pvlock_pv_node *pn, struct pvlock_pv_node *pp)
{
	u32 mask = w->s.mode == PVLOCK_MODE_STOCK ? PVLOCK_PREV_CHECK_STOCK : PVLOCK_PREV_CHECK;
	u32 loop, target;

	for (;;) {
		w->early = false;
		for (loop = w->threshold; loop; loop--) {
			if (READ_ONCE(pn->mcs.locked))
				goto out;
			if (!(loop & mask) || (loop == w->threshold && w->s.mode != PVLOCK_MODE_STOCK)) {
				/* the predecessor gave up spinning: so do we */
				if (READ_ONCE(pp->state) != PVLOCK_VCPU_RUNNING) {
					w->early = true;
					break;
				}
				/* pvlock: its vCPU is preempted, spinning is pointless */
				if (w->s.mode != PVLOCK_MODE_STOCK && !w->calm &&
				    vcpu_is_preempted(READ_ONCE(pp->cpu))) {
					w->early = w->s.preempted = true;
					break;
				}
			}
			cpu_relax();
		}
		w->s.spins += w->threshold - loop;
		smp_store_mb(pn->state, PVLOCK_VCPU_HALTED);
		if (!READ_ONCE(pn->mcs.locked)) {
			pvlock_guest_count(PVLOCK_GS_WAITS, 1);
			if (w->early)
				pvlock_guest_count(PVLOCK_GS_WAIT_EARLY, 1);
			target = READ_ONCE(pp->cpu);
			if (w->s.mode != PVLOCK_MODE_STOCK)
				target = pvlock_name_target(w, lock, target);
			pvlock_wait(&pn->state, PVLOCK_VCPU_HALTED, target, w);
		}
		/* a kick may have moved us to hashed already: only undo halted */
		cmpxchg(&pn->state, PVLOCK_VCPU_HALTED, PVLOCK_VCPU_RUNNING);
	}
out:
	w->s.spins += w->threshold - loop;
}

/* Hand the queue to @next; if it halted, hash it for our unlock to kick. */
static void pvlock_pv_kick_node(struct qspinlock *lock, struct pvlock_pv_node *pn)
{
	u8 old = PVLOCK_VCPU_HALTED;

	smp_mb__before_atomic();
	if (!try_cmpxchg_relaxed(&pn->state, &old, PVLOCK_VCPU_HASHED))
		return;
	WRITE_ONCE(lock->locked, PVLOCK_Q_SLOW_VAL);
	(void)pvlock_pv_hash(lock, pn);
}

/* pvlock modes: how often the queue head looks whether the holder is preempted */
#define PVLOCK_HOLDER_CHECK	0xff

/*
 * Queue head: spin for the lock; if that fails, hash ourselves and wait. In
 * the modes other than stock the head also stops spinning, or does not
 * start, once the holder it found is preempted: the lock cannot come
 * before the host runs that vCPU again.
 */
static u32 pvlock_pv_wait_head_or_lock(struct pvlock_wctx *w, struct qspinlock *lock,
				       struct pvlock_pv_node *pn)
{
	struct qspinlock **lp = NULL;
	int holder = -1;
	u32 loop;

	/* hashed by a predecessor that found us halted: already in the table */
	if (READ_ONCE(pn->state) == PVLOCK_VCPU_HASHED)
		lp = (struct qspinlock **)1;

	for (;;) {
		w->early = false;
		WRITE_ONCE(pn->state, PVLOCK_VCPU_RUNNING);
		WRITE_ONCE(lock->pending, 1);
		if (w->s.mode != PVLOCK_MODE_STOCK && !w->calm)
			holder = pvlock_find_holder(lock);
		for (loop = w->threshold; loop; loop--) {
			if (pvlock_trylock_clear_pending(lock)) {
				w->s.spins += w->threshold - loop;
				goto gotlock;
			}
			if (holder >= 0 && !(loop & PVLOCK_HOLDER_CHECK) && vcpu_is_preempted(holder)) {
				w->early = w->s.preempted = true;
				break;
			}
			cpu_relax();
		}
		w->s.spins += w->threshold - loop;
		pvlock_clear_pending(lock);
		/*
		 * Hashed before and kicked since: the unlock will not kick us
		 * again, so a wait would return at once and the loop spin
		 * behind the preempted holder. Give it our time slice instead.
		 */
		if (lp && w->early && READ_ONCE(lock->locked) != PVLOCK_Q_SLOW_VAL) {
			pvlock_guest_count(PVLOCK_GS_WAITS, 1);
			pvlock_guest_count(PVLOCK_GS_WAIT_EARLY, 1);
			pvlock_native_yield(w, holder);
			continue;
		}
		if (!lp) {
			lp = pvlock_pv_hash(lock, pn);
			/* the lock went free meanwhile: take it and unhash */
			if (xchg(&lock->locked, PVLOCK_Q_SLOW_VAL) == 0) {
				WRITE_ONCE(lock->locked, _Q_LOCKED_VAL);
				WRITE_ONCE(*lp, NULL);
				goto gotlock;
			}
		}
		WRITE_ONCE(pn->state, PVLOCK_VCPU_HASHED);
		pvlock_guest_count(PVLOCK_GS_WAITS, 1);
		if (w->early)
			pvlock_guest_count(PVLOCK_GS_WAIT_EARLY, 1);
		pvlock_wait(&lock->locked, PVLOCK_Q_SLOW_VAL,
			    w->s.mode == PVLOCK_MODE_STOCK ? PVLOCK_CPU_NONE :
			    pvlock_name_target(w, lock, -1), w);
	}
gotlock:
	return (u32)(atomic_read(&lock->val) | _Q_LOCKED_VAL);
}

/*
 * With the lock owned, inside the caller's critical section, where every
 * instruction delays the next owner. In the modes other than stock the
 * level claims the lock (two stores: whom waiters name as the holder) and
 * the record stops saying "waiting" (one store); nothing else. Timed
 * (PVLOCK_TIME_EVERY in the uapi header) are the calls that blocked, saw a
 * preempted vCPU or spun PVLOCK_TIME_SPINS times or more and, at random,
 * one in PVLOCK_TIME_EVERY of the others, which then stands for
 * PVLOCK_TIME_EVERY calls (in the adaptive policy too). A timed call reads
 * the clock and keeps its sample for the next call at this level to
 * account, while that one waits anyway; the others only count.
 */
static __always_inline void pvlock_keep(struct pvlock_wctx *w, struct qspinlock *lock, int idx)
{
	struct pvlock_cpu *pc = this_cpu_ptr(&pvlock_cpu);

	if (w->s.mode != PVLOCK_MODE_STOCK) {
		pc->claim[idx].t0 = w->s.t0;
		WRITE_ONCE(pc->claim[idx].lock, lock);
		if (w->rec)
			WRITE_ONCE(w->rec->guest_flags, 0);
	}
	if (w->s.waited || w->s.preempted || w->s.spins >= PVLOCK_TIME_SPINS) {
		w->s.weight = 1;
	} else if (hash_64(w->s.t0, ilog2(PVLOCK_TIME_EVERY))) {
		/*
		 * chosen by a hash of the entry time, not by turn: a loop
		 * taking locks in a fixed order must not have one always chosen
		 */
		if (w->s.spins)
			pvlock_guest_count(PVLOCK_GS_SPINS, w->s.spins);
		return;
	} else {
		w->s.weight = PVLOCK_TIME_EVERY;
	}
	/* only this level of this CPU reads the slot: an interrupt uses another */
	w->s.t1 = pvlock_ticks();
	w->s.lock = lock;
	pc->pend[idx] = w->s;
}

/* ---- __pv_queued_spin_lock_slowpath ------------------------------------- */

void pvlock_pv_slowpath(struct qspinlock *lock, u32 val)
{
	struct pvlock_mcs *base, *node, *next;
	struct pvlock_pv_node *pn, *pp;
	/* pvlock_wctx_init() sets it: no second zeroing by INIT_STACK_ALL_ZERO */
	struct pvlock_wctx w __uninitialized;
	u32 old, tail;
	int idx;

	base = &this_cpu_ptr(pvlock_ksyms.qnodes)[0].mcs;
	idx = base->count++;
	pvlock_wctx_init(&w, lock, idx);
	pvlock_guest_count(PVLOCK_GS_SLOWPATH, 1);
	pvlock_guest_count(PVLOCK_GS_QUEUED, 1);
	pvlock_guest_count(PVLOCK_GS_SPIN_ACQUIRED, 1);
	tail = pvlock_encode_tail(smp_processor_id(), idx);
	pvlock_trace_begin(lock, LCB_F_SPIN);

	if (unlikely(idx >= PVLOCK_MAX_NODES)) {
		/* a fifth nesting level (NMI in NMI...): spin without a node */
		while (!pvlock_pv_trylock(lock))
			cpu_relax();
		goto release;
	}
	node = &((struct pvlock_qnode *)base + idx)->mcs;
	pn = (struct pvlock_pv_node *)node;
	/* the compiler must not reorder the count increment after the node setup */
	barrier();
	node->locked = 0;
	node->next = NULL;
	pn->cpu = smp_processor_id();
	pn->state = PVLOCK_VCPU_RUNNING;

	if (pvlock_pv_trylock(lock))
		goto release;
	/* published as a waiter before the tail exchange, not after it */
	pvlock_rec_wait(&w, lock);
	/* node initialised before it is published by the tail exchange */
	smp_wmb();
	old = pvlock_xchg_tail(lock, tail);
	next = NULL;

	if (old & _Q_TAIL_MASK) {
		struct pvlock_mcs *prev = pvlock_decode_tail(old);

		pp = (struct pvlock_pv_node *)prev;
		WRITE_ONCE(prev->next, node);
		pvlock_pv_wait_node(&w, lock, pn, pp);
		smp_cond_load_acquire(&node->locked, VAL);
		next = READ_ONCE(node->next);
		if (next)
			prefetchw(next);
	}
	pvlock_rec_flags(&w, PVLOCK_GF_QUEUE_HEAD, 0);

	val = pvlock_pv_wait_head_or_lock(&w, lock, pn);

	/* we own the lock; if we are also the last in the queue, empty it */
	if ((val & _Q_TAIL_MASK) == tail) {
		if (atomic_try_cmpxchg_relaxed(&lock->val, &val, _Q_LOCKED_VAL))
			goto release;
	}
	pvlock_set_locked(lock);
	if (!next)
		next = smp_cond_load_relaxed(&node->next, (VAL));
	smp_store_release(&next->locked, 1);
	pvlock_pv_kick_node(lock, (struct pvlock_pv_node *)next);

release:
	pvlock_trace_end(lock, 0);
	if (likely(idx < PVLOCK_MAX_NODES))	/* a fifth level is not timed */
		pvlock_keep(&w, lock, idx);
	__this_cpu_dec(pvlock_ksyms.qnodes->mcs.count);
}

/* ---- native_queued_spin_lock_slowpath ------------------------------------ */

void pvlock_native_slowpath(struct qspinlock *lock, u32 val)
{
	struct pvlock_mcs *base, *node, *next;
	/* pvlock_wctx_init() sets it: no second zeroing by INIT_STACK_ALL_ZERO */
	struct pvlock_wctx w __uninitialized;
	u32 old, tail, loop;
	int idx;

	pvlock_guest_count(PVLOCK_GS_SLOWPATH, 1);

	/* virt_spin_lock(): the test-and-set lock of guests without PV spinlocks */
	/* a jump label needs a link-time key: read the resolved key's count */
	if (static_key_enabled(&pvlock_ksyms.virt_spin_lock_key->key) &&
	    !READ_ONCE(pvlock_guest_params.force_queue)) {
		u32 spins = 0;

		pvlock_guest_count(PVLOCK_GS_TAS, 1);
		for (;;) {
			int v = atomic_read(&lock->val);

			if (!v && atomic_try_cmpxchg(&lock->val, &v, _Q_LOCKED_VAL))
				break;
			cpu_relax();
			spins++;
		}
		pvlock_guest_count(PVLOCK_GS_SPINS, spins);
		return;
	}

	/* pending -> locked hand-over in progress: wait a bounded while for it */
	if (val == _Q_PENDING_VAL) {
		int cnt = _Q_PENDING_LOOPS;

		val = atomic_cond_read_relaxed(&lock->val, (VAL != _Q_PENDING_VAL) || !cnt--);
	}
	if (val & ~_Q_LOCKED_MASK)
		goto queue;

	/* 0,0,* -> 0,1,*: claim pending, spin on the holder */
	val = queued_fetch_set_pending_acquire(lock);
	if (unlikely(val & ~_Q_LOCKED_MASK)) {
		if (!(val & _Q_PENDING_MASK))
			pvlock_clear_pending(lock);
		goto queue;
	}
	if (val & _Q_LOCKED_MASK)
		smp_cond_load_acquire(&lock->locked, !VAL);
	pvlock_clear_pending_set_locked(lock);
	pvlock_guest_count(PVLOCK_GS_PENDING, 1);
	return;

queue:
	pvlock_guest_count(PVLOCK_GS_QUEUED, 1);
	pvlock_guest_count(PVLOCK_GS_SPIN_ACQUIRED, 1);
	base = &this_cpu_ptr(pvlock_ksyms.qnodes)[0].mcs;
	idx = base->count++;
	pvlock_wctx_init(&w, lock, idx);
	tail = pvlock_encode_tail(smp_processor_id(), idx);
	pvlock_trace_begin(lock, LCB_F_SPIN);

	if (unlikely(idx >= PVLOCK_MAX_NODES)) {
		while (!queued_spin_trylock(lock))
			cpu_relax();
		goto release;
	}
	node = &((struct pvlock_qnode *)base + idx)->mcs;
	barrier();
	node->locked = 0;
	node->next = NULL;
	if (queued_spin_trylock(lock))
		goto release;
	pvlock_rec_wait(&w, lock);
	smp_wmb();
	old = pvlock_xchg_tail(lock, tail);
	next = NULL;

	if (old & _Q_TAIL_MASK) {
		struct pvlock_mcs *prev = pvlock_decode_tail(old);
		u32 prev_cpu = (old >> _Q_TAIL_CPU_OFFSET) - 1;

		WRITE_ONCE(prev->next, node);
		if (w.s.mode == PVLOCK_MODE_STOCK) {
			/* the kernel's smp_cond_load_acquire(), counting */
			while (!smp_load_acquire(&node->locked)) {
				cpu_relax();
				w.s.spins++;
			}
		} else {
			for (;;) {
				for (loop = w.threshold; loop; loop--) {
					if (smp_load_acquire(&node->locked))
						break;
					cpu_relax();
				}
				w.s.spins += w.threshold - loop;
				if (loop)
					break;
				if (!pvlock_native_yield(&w, pvlock_name_target(&w, lock, prev_cpu)))
					loop = w.threshold;	/* no host help: keep spinning */
			}
		}
		next = READ_ONCE(node->next);
		if (next)
			prefetchw(next);
	}
	pvlock_rec_flags(&w, PVLOCK_GF_QUEUE_HEAD, 0);

	if (w.s.mode == PVLOCK_MODE_STOCK) {
		/* the kernel's atomic_cond_read_acquire(), counting */
		while ((val = atomic_read_acquire(&lock->val)) & (_Q_LOCKED_MASK | _Q_PENDING_MASK)) {
			cpu_relax();
			w.s.spins++;
		}
	} else {
		for (;;) {
			for (loop = w.threshold; loop; loop--) {
				val = atomic_read_acquire(&lock->val);
				if (!(val & (_Q_LOCKED_MASK | _Q_PENDING_MASK)))
					break;
				cpu_relax();
			}
			w.s.spins += w.threshold - loop;
			if (loop)
				break;
			pvlock_native_yield(&w, pvlock_name_target(&w, lock, -1));
		}
	}

	if ((val & _Q_TAIL_MASK) == tail) {
		if (atomic_try_cmpxchg_relaxed(&lock->val, &val, _Q_LOCKED_VAL))
			goto release;
	}
	pvlock_set_locked(lock);
	if (!next)
		next = smp_cond_load_relaxed(&node->next, (VAL));
	smp_store_release(&next->locked, 1);

release:
	pvlock_trace_end(lock, 0);
	if (likely(idx < PVLOCK_MAX_NODES))	/* a fifth level is not timed */
		pvlock_keep(&w, lock, idx);
	__this_cpu_dec(pvlock_ksyms.qnodes->mcs.count);
}

/* Drop the calls not yet accounted (a statistics reset). */
void pvlock_slowpath_forget(void)
{
	int cpu, i;

	for_each_possible_cpu(cpu)
		for (i = 0; i < PVLOCK_MAX_NODES; i++)
			WRITE_ONCE(per_cpu_ptr(&pvlock_cpu, cpu)->pend[i].lock, NULL);
}

/* The threshold gauge of every CPU, after a statistics reset or a new mode. */
void pvlock_slowpath_gauges(void)
{
	u32 mode = READ_ONCE(pvlock_guest_params.mode);
	int cpu;

	for_each_possible_cpu(cpu)
		WRITE_ONCE(per_cpu_ptr(&pvlock_guest_stats, cpu)->c[PVLOCK_GS_THRESHOLD],
			   pvlock_threshold_of(per_cpu_ptr(&pvlock_cpu, cpu), mode));
}

void pvlock_slowpath_init(void)
{
	struct pvlock_thresh_cfg cfg;
	int cpu;

	/* ns per TSC cycle << PVLOCK_TSC_SHIFT; fits 32 bits above 1 MHz */
	if (boot_cpu_has(X86_FEATURE_TSC) && tsc_khz >= 1000)
		pvlock_tsc_mult = div_u64((u64)NSEC_PER_MSEC << PVLOCK_TSC_SHIFT, tsc_khz);
	else
		pr_info("no TSC rate known: waits timed with local_clock()\n");

	pvlock_cfg(&cfg);
	for_each_possible_cpu(cpu) {
		struct pvlock_cpu *pc = per_cpu_ptr(&pvlock_cpu, cpu);

		pvlock_thresh_init(&pc->thresh, &cfg, cfg.max);
	}
	pvlock_slowpath_gauges();
}
