/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvlock: paravirtual lock-holder-preemption relief for KVM guests.
 *
 * This is the one ABI shared by pvlock_guest.ko (in each guest), pvlock_host.ko
 * (next to kvm.ko on the host), pvlockd/pvlockctl and the tests. It has three
 * parts:
 *
 *   1. the guest <-> host hypercalls (numbers, arguments, return codes, the
 *      version/feature handshake);
 *   2. the per-vCPU shared record the guest registers with the host;
 *   3. the generic netlink families "pvlock_guest" and "pvlock_host".
 *
 * Version 1. Everything here is append-only: new commands, attributes,
 * counters and feature bits go at the end of their enum; nothing is renumbered.
 */
#ifndef _UAPI_LINUX_PVLOCK_H
#define _UAPI_LINUX_PVLOCK_H

#include <linux/types.h>

#define PVLOCK_ABI_VERSION		1

/* ------------------------------------------------------------------------
 * 1. Hypercalls
 *
 * Issued with the KVM hypercall instruction (VMCALL on Intel, VMMCALL on
 * AMD) from CPL 0: number in RAX, arguments in RBX, RCX, RDX, RSI, result in
 * RAX, exactly like KVM's own KVM_HC_* calls. KVM's numbers are small
 * (1..12 in 6.x); pvlock's sit in a private block far above them, below
 * 2^31 so that they read the same when a 32-bit caller's RAX is truncated.
 * 0x50564c00 is "PVL\0".
 *
 * A host without pvlock_host answers every pvlock number with -KVM_ENOSYS
 * (-1000), which is PVLOCK_ENOSYS below: the guest then runs standalone.
 * The same answer after an agreed handshake means pvlock_host was unloaded:
 * the guest falls back to stock behaviour and re-probes now and then.
 */
#define PVLOCK_HC_BASE			0x50564c00u
#define PVLOCK_HC_HELLO			(PVLOCK_HC_BASE + 0)
#define PVLOCK_HC_REGISTER		(PVLOCK_HC_BASE + 1)
#define PVLOCK_HC_UNREGISTER		(PVLOCK_HC_BASE + 2)
#define PVLOCK_HC_YIELD			(PVLOCK_HC_BASE + 3)
#define PVLOCK_HC_LAST			PVLOCK_HC_YIELD
#define PVLOCK_HC_COUNT			(PVLOCK_HC_LAST - PVLOCK_HC_BASE + 1)
#define PVLOCK_HC_IS_PVLOCK(nr) \
	((__u64)(nr) >= PVLOCK_HC_BASE && (__u64)(nr) <= PVLOCK_HC_LAST)

/*
 * Return codes, negated in RAX. The values are Linux/x86 errno numbers (and
 * KVM's KVM_E* where KVM defines one), so a guest can pass them on as-is.
 */
#define PVLOCK_EPERM			1	/* caller not at CPL 0 */
#define PVLOCK_ENOENT			2	/* vCPU not registered */
#define PVLOCK_EFAULT			14	/* GPA outside guest memory, or unmappable */
#define PVLOCK_EBUSY			16	/* rate limit: registration storm */
#define PVLOCK_EEXIST			17	/* vCPU or guest CPU number already registered */
#define PVLOCK_EINVAL			22	/* bad alignment, page crossing, flags, record header */
#define PVLOCK_ERANGE			34	/* guest CPU number out of range */
#define PVLOCK_EPROTO			71	/* no handshake yet, or ABI version not supported */
#define PVLOCK_ENOSYS			1000	/* KVM_ENOSYS: host has no pvlock_host */

/*
 * Feature bits, exchanged by PVLOCK_HC_HELLO. Both sides use the
 * intersection. Only bits 0..15 exist (they travel in bits 16..31 of a
 * HELLO result).
 */
#define PVLOCK_F_RECORD			(1u << 0) /* per-vCPU shared record (REGISTER) */
#define PVLOCK_F_ECS			(1u << 1) /* host reads eCS state from the record */
#define PVLOCK_F_YIELD			(1u << 2) /* PVLOCK_HC_YIELD: directed yield, else halt */
#define PVLOCK_F_HINTS			(1u << 3) /* host writes threshold/budget hints */
#define PVLOCK_F_CROSS_VM		(1u << 4) /* host may yield to other VMs' vCPUs */
#define PVLOCK_F_YIELD_TO		(1u << 5) /* YIELD results name the vCPU yielded to */
#define PVLOCK_F_ALL			0x3fu

/*
 * PVLOCK_HC_HELLO(a0 = guest ABI version, a1 = guest PVLOCK_F_* bits,
 *                 a2 = number of possible guest CPUs, a3 = 0)
 *   >= 0: PVLOCK_HELLO_VERSION(ret) is the version the host will speak
 *         (min of both), PVLOCK_HELLO_FEATURES(ret) the agreed features.
 *   <  0: -PVLOCK_EPROTO (no common version), -PVLOCK_EPERM, -PVLOCK_EINVAL
 *         (a3 != 0, a2 == 0), -PVLOCK_ENOSYS (no pvlock_host).
 * Per VM; may be repeated (after a host reload the guest says hello again).
 */
#define PVLOCK_HELLO_RET(ver, feat)	((((__u64)(feat) & 0xffffu) << 16) | ((ver) & 0xffffu))
#define PVLOCK_HELLO_VERSION(ret)	((__u32)((ret) & 0xffffu))
#define PVLOCK_HELLO_FEATURES(ret)	((__u32)(((ret) >> 16) & 0xffffu))

/* PVLOCK_HC_REGISTER calls a VM of @nr_vcpus vCPUs may make per second. */
#define PVLOCK_REG_PER_SEC(nr_vcpus)	(4 * (nr_vcpus) + 16)

/*
 * PVLOCK_HC_REGISTER(a0 = GPA of this vCPU's struct pvlock_record,
 *                    a1 = guest CPU number, a2 = 0 (flags), a3 = 0)
 *   0, or -PVLOCK_EPROTO (no HELLO), -PVLOCK_EINVAL (GPA not aligned to
 *   PVLOCK_RECORD_ALIGN, flags, bad record header), -PVLOCK_EFAULT (GPA or
 *   ecs_gpa not in a memslot), -PVLOCK_ERANGE (CPU number >= vCPUs of the
 *   VM), -PVLOCK_EEXIST (this vCPU, or this CPU number, already
 *   registered), -PVLOCK_EBUSY (more than PVLOCK_REG_PER_SEC() calls in a
 *   second: a token bucket holding PVLOCK_REG_PER_SEC(n) calls, n = vCPUs of
 *   the VM, refilled continuously at that many per second; every
 *   PVLOCK_HC_REGISTER call after HELLO takes one, refused ones do not).
 * Issued by each vCPU for itself. The host reads the record header once,
 * here, and maps the record page and the ecs_gpa page for the life of the
 * registration; later changes to the header are ignored.
 *
 * PVLOCK_HC_UNREGISTER(a0..a3 = 0)
 *   0, or -PVLOCK_ENOENT. The host stops reading and writing the record.
 *
 * PVLOCK_HC_YIELD(a0 = guest CPU this vCPU waits behind (lock holder,
 *                      queue predecessor or kicked CPU), or PVLOCK_CPU_NONE,
 *                 a1 = PVLOCK_YIELD_F_* flags, a2 = a3 = 0)
 *   >= 0: PVLOCK_YIELD_R_*; < 0: -PVLOCK_ENOENT (not registered),
 *   -PVLOCK_EINVAL (flags), -PVLOCK_EPERM.
 * The host picks the best vCPU to run instead of this one (the hinted CPU
 * if it is preempted, else a preempted vCPU inside an eCS of this VM, else
 * of another VM, within budgets) and yields to it. With nothing to yield to
 * and PVLOCK_YIELD_F_HALT set, the vCPU halts exactly as HLT would (woken
 * by an interrupt when the guest's IF allows it, by KVM_HC_KICK_CPU, by an
 * NMI). A guest that waits with interrupts enabled issues "sti; vmmcall"
 * so the halt is as race-free as "sti; hlt".
 */
#define PVLOCK_CPU_NONE			0xffffffffu
#define PVLOCK_YIELD_F_HALT		(1u << 0)
#define PVLOCK_YIELD_F_ALL		0x1u

/*
 * With PVLOCK_F_YIELD_TO agreed, a result >= 0 also says whom the host
 * yielded to: bits 0-7 are the PVLOCK_YIELD_R_* code, bits 8-31 the guest
 * CPU number + 1 of the vCPU that got the time slice after R_SAME_VM (0:
 * not known, e.g. a vCPU that never registered). Without it, bits 8-31 are 0.
 */
#define PVLOCK_YIELD_RESULT(ret)	((ret) & 0xff)
#define PVLOCK_YIELD_TO(ret)		((__u32)(((ret) >> 8) & 0xffffff) - 1)	/* CPU_NONE if 0 */
#define PVLOCK_YIELD_RET(r, cpu1)	((r) | ((__u64)((cpu1) & 0xffffff) << 8))

#define PVLOCK_YIELD_R_NONE		0	/* nothing done */
#define PVLOCK_YIELD_R_SAME_VM		1	/* yielded to a vCPU of this VM */
#define PVLOCK_YIELD_R_CROSS_VM		2	/* yielded to a vCPU of another VM */
#define PVLOCK_YIELD_R_HALTED		3	/* nothing to yield to: halted, now woken */
#define PVLOCK_YIELD_R_DENIED		4	/* budget used up: halted, now woken */

/* ------------------------------------------------------------------------
 * 2. The per-vCPU shared record
 *
 * One per guest CPU, in guest memory, 128 bytes, aligned to 128 so that it
 * never crosses a page. The guest owns the first cache line, the host the
 * second, so neither side's writes bounce the other's line.
 *
 * Torn reads are avoided with a sequence count per writer, the way the
 * kernel's seqcount_t works:
 *   writer: seq++ (odd); write barrier; write fields; write barrier; seq++ (even)
 *   reader: s = seq; read barrier; if (s odd) retry; read fields; read
 *           barrier; if (seq != s) retry
 * The host reads guest fields from scheduler context and must not trust the
 * guest to ever finish a write: it retries at most PVLOCK_SEQ_RETRIES times
 * and then treats the record as "not in an eCS, not waiting". Every value
 * read from the guest is range-checked before use. The guest reads host
 * fields the same way, also with bounded retries, so it never blocks.
 *
 * eCS (extended critical section) state: the guest publishes the GPA of
 * its own per-CPU preemption word (ecs_gpa). On x86 Linux the per-CPU
 * preempt count is non-zero inside every spinlock, rwlock, irq, softirq
 * and preempt-disabled section; bit 31 is the inverted NEED_RESCHED flag
 * and is masked off. The host reads that word when it deschedules the
 * vCPU: a vCPU preempted with a non-zero count was preempted inside a
 * critical section, unless the guest says otherwise:
 *   - a pure lock waiter (guest_flags WAITING without HOLDER) is not;
 *   - the idle task runs with a count of 1 too: from record version 2 the
 *     guest publishes, in the header, the GPA of its per-CPU pointer to the
 *     running task (curr_gpa, 8 bytes, in the same page as ecs_gpa) and
 *     that CPU's idle task (idle_task, a guest VA); a vCPU preempted while
 *     that pointer holds idle_task is idle, not in a critical section.
 * A halted vCPU is blocked, not preempted, and is not counted.
 *
 * How the record grows: the header's version says which fields the guest
 * filled; a host takes every version from PVLOCK_RECORD_VERSION_MIN to
 * its own and ignores what it does not know, and a guest whose REGISTER a
 * host refuses with -PVLOCK_EINVAL registers again with version 1. Version
 * 2 put header fields where version 1 had reserved bytes; a later version
 * needing more room makes the record bigger (size) rather than moving
 * anything, so that every offset here stays.
 */
#define PVLOCK_RECORD_MAGIC		0x4b4c5650u	/* "PVLK" little-endian */
#define PVLOCK_RECORD_VERSION		2	/* a host accepts 1 and 2 */
#define PVLOCK_RECORD_VERSION_MIN	1
#define PVLOCK_RECORD_SIZE		128
#define PVLOCK_RECORD_ALIGN		128
#define PVLOCK_SEQ_RETRIES		4

/* ecs_kind: how to read the word at ecs_gpa */
#define PVLOCK_ECS_NONE			0	/* no eCS word published */
#define PVLOCK_ECS_X86_PREEMPT_COUNT	1	/* __u32, in eCS iff (v & PVLOCK_ECS_X86_MASK) != 0 */
#define PVLOCK_ECS_X86_MASK		0x7fffffffu

/*
 * guest_flags. Besides being written under guest_seq with the wait_*
 * fields, the word is also written alone, as one aligned 32-bit store
 * outside guest_seq (the slow path's updates once it is queued or owns the
 * lock): a reader takes it as one value. A vCPU in the slow path is a pure
 * waiter (WAITING without HOLDER), not inside a critical section worth a
 * boost; WAITING with HOLDER waits for one lock while inside another
 * critical section (holding another lock, irqs or bottom halves off).
 */
#define PVLOCK_GF_WAITING		(1u << 0) /* in the lock slow path, wait_* valid */
#define PVLOCK_GF_QUEUE_HEAD		(1u << 1) /* at the head of the queue */
#define PVLOCK_GF_HALTED		(1u << 2) /* in kvm_wait: yield/halt issued */
#define PVLOCK_GF_HOLDER		(1u << 3) /* waiting, and inside another critical section */
#define PVLOCK_GF_ALL			0xfu

/* host_flags */
#define PVLOCK_HF_ACTIVE		(1u << 0) /* pvlock_host owns this record now */
#define PVLOCK_HF_PINNED		(1u << 1) /* spin_threshold set by the operator */
#define PVLOCK_HF_BUDGET_EMPTY		(1u << 2) /* this VM's boost budget is used up */
#define PVLOCK_HF_ALL			0x7u

struct pvlock_record {
	/* Header: written by the guest before REGISTER, read once by the host. */
	__u32	magic;		/* PVLOCK_RECORD_MAGIC */
	__u16	version;	/* PVLOCK_RECORD_VERSION */
	__u16	size;		/* PVLOCK_RECORD_SIZE */
	__u64	ecs_gpa;	/* GPA of the eCS word (4-byte aligned), 0 if none */
	__u32	ecs_kind;	/* PVLOCK_ECS_* */
	__u32	cpu;		/* guest CPU number, as in REGISTER's a1 */

	/* Guest -> host, under guest_seq. */
	__u32	guest_seq;
	__u32	guest_flags;	/* PVLOCK_GF_* */
	__u64	wait_lock;	/* guest VA of the lock being waited for */
	__u64	wait_since_ns;	/* guest clock when the wait began */
	__u32	wait_target;	/* guest CPU waited behind, or PVLOCK_CPU_NONE */
	__u32	last_kicked;	/* guest CPU this vCPU kicked last, or PVLOCK_CPU_NONE */
	__u64	last_kick_ns;	/* guest clock of that kick */
	/* (last_kicked and last_kick_ns are written from any context, e.g. an
	 * unlock in an interrupt, as single aligned stores outside guest_seq.
	 * The guest clock is the vCPU's TSC in nanoseconds, or local_clock()
	 * when the TSC rate is unknown: for the order and spacing of one
	 * vCPU's events, not for comparing vCPUs.) */

	/* Host -> guest, under host_seq; second cache line. */
	__u32	host_seq;
	__u32	host_flags;	/* PVLOCK_HF_* */
	__u32	spin_threshold;	/* suggested spin iterations; 0 = no hint */
	__u32	budget_left;	/* this VM's boosts left in the current period */
	__u32	overcommit_pct;	/* host: runnable vCPU threads per online pCPU, in % */
	__u32	host_abi;	/* ABI version the host speaks */
	__u64	preempted;	/* times the host preempted this vCPU */
	__u64	ecs_preempted;	/* ... of which inside an eCS */
	__u64	host_gen;	/* bumped on every host write */

	/* Header, version 2 (in version 1: reserved, zero). Written by the guest
	 * before REGISTER, read once by the host; never written after. */
	__u64	curr_gpa;	/* GPA of this CPU's running-task pointer, 0: none */
	__u64	idle_task;	/* guest VA of this CPU's idle task */
};

#define PVLOCK_RECORD_GUEST_OFFSET	24	/* offsetof(guest_seq) */
#define PVLOCK_RECORD_HOST_OFFSET	64	/* offsetof(host_seq) */

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L || defined(__KERNEL__)
_Static_assert(sizeof(struct pvlock_record) == PVLOCK_RECORD_SIZE,
	       "pvlock_record must be 128 bytes");
_Static_assert(__builtin_offsetof(struct pvlock_record, guest_seq) ==
	       PVLOCK_RECORD_GUEST_OFFSET, "guest fields start at 24");
_Static_assert(__builtin_offsetof(struct pvlock_record, wait_lock) == 32,
	       "wait_lock is 8-byte aligned");
_Static_assert(__builtin_offsetof(struct pvlock_record, host_seq) ==
	       PVLOCK_RECORD_HOST_OFFSET, "host fields start a cache line");
_Static_assert(__builtin_offsetof(struct pvlock_record, preempted) == 88,
	       "preempted is 8-byte aligned");
_Static_assert(__builtin_offsetof(struct pvlock_record, curr_gpa) == 112,
	       "version 2's header fields where version 1 had 16 reserved bytes");
#endif

/* ------------------------------------------------------------------------
 * Policy values shared by both sides.
 */

/* Spin thresholds are counted in iterations of the slow path's wait loop. */
#define PVLOCK_SPIN_STOCK		(1u << 15)	/* the kernel's SPIN_THRESHOLD */
#define PVLOCK_SPIN_LIMIT_MIN		16u		/* no threshold may go below */
#define PVLOCK_SPIN_LIMIT_MAX		(1u << 22)	/* nor above */

enum pvlock_mode {
	PVLOCK_MODE_STOCK,	/* behave like the kernel's own slow path (A/B baseline) */
	PVLOCK_MODE_ADAPTIVE,	/* threshold set by the adaptive policy */
	PVLOCK_MODE_FIXED,	/* threshold fixed by the operator */
	__PVLOCK_MODE_LAST,
	PVLOCK_MODE_MAX = __PVLOCK_MODE_LAST - 1
};

enum pvlock_handshake {
	PVLOCK_HANDSHAKE_NONE,		/* not tried yet */
	PVLOCK_HANDSHAKE_NO_KVM,	/* not a KVM guest: no hypercalls at all */
	PVLOCK_HANDSHAKE_STANDALONE,	/* host without pvlock_host (-ENOSYS) */
	PVLOCK_HANDSHAKE_REFUSED,	/* host answered with an error */
	PVLOCK_HANDSHAKE_AGREED,	/* version and features agreed */
	PVLOCK_HANDSHAKE_LOST,		/* agreed before, host went away; re-probing */
	__PVLOCK_HANDSHAKE_LAST,
	PVLOCK_HANDSHAKE_MAX = __PVLOCK_HANDSHAKE_LAST - 1
};

enum pvlock_livepatch {
	PVLOCK_LP_OFF,			/* not applied */
	PVLOCK_LP_TRANSITION,		/* being applied or removed */
	PVLOCK_LP_ENABLED,		/* active */
	PVLOCK_LP_REPLACED,		/* a cumulative livepatch replaced it */
	PVLOCK_LP_UNSUPPORTED,		/* this kernel cannot take it (see dmesg) */
	__PVLOCK_LP_LAST,
	PVLOCK_LP_MAX = __PVLOCK_LP_LAST - 1
};

/* Host hook mechanisms in use (PVLOCK_A_HOOKS). */
#define PVLOCK_HOOK_HYPERCALL		(1u << 0) /* ftrace redirect of kvm_emulate_hypercall */
#define PVLOCK_HOOK_ON_SPIN		(1u << 1) /* kvm_vcpu_on_spin (PLE exits) */
#define PVLOCK_HOOK_PREEMPT		(1u << 2) /* preempt notifiers on vCPU threads */
#define PVLOCK_HOOK_MEMORY		(1u << 3) /* memslot and mapping changes followed at once */

/* Parameters pinned by the operator; pvlockd leaves them alone. */
#define PVLOCK_PIN_THRESHOLD		(1u << 0)
#define PVLOCK_PIN_BUDGET		(1u << 1)
#define PVLOCK_PIN_ALL			0x3u

/* Wait-time and preempted-time histograms: bucket i counts values v with
 * 2^i <= v < 2^(i+1) nanoseconds (bucket 0 also takes v < 1). */
#define PVLOCK_HIST_BUCKETS		40

/*
 * Which guest slow-path calls are timed. Whatever a call does after it owns
 * the lock runs inside its caller's critical section and delays the next
 * owner, so not every call reads the clock there. Timed are: every call that
 * blocked (halted or yielded), saw a preempted vCPU or spun
 * PVLOCK_TIME_SPINS times or more, every call in "adaptive" mode (its policy
 * observes each wait), and of the other (short) calls one in
 * PVLOCK_TIME_EVERY, chosen at random, which then counts PVLOCK_TIME_EVERY
 * times. So the wait-time histogram, PVLOCK_GS_WAIT_NS and the lock table's
 * contended counts and waits are exact for the long waits and estimates for
 * the short ones; PVLOCK_GS_WAIT_MAX_NS is the longest timed wait (so exact
 * once any wait was long); every other counter is exact. PVLOCK_TIME_EVERY
 * is a power of two.
 */
#define PVLOCK_TIME_EVERY		16
#define PVLOCK_TIME_SPINS		64

/* ------------------------------------------------------------------------
 * 3. Generic netlink
 *
 * Two families with the same shape, "pvlock_guest" (in a guest) and
 * "pvlock_host" (on a host), each with an "events" multicast group.
 * Commands marked [admin] need CAP_NET_ADMIN in the caller's user namespace
 * (GENL_ADMIN_PERM); all others are open to any user.
 * Attribute trees below: "?" optional, "*" repeated, "+" nested.
 */
#define PVLOCK_GUEST_GENL_NAME		"pvlock_guest"
#define PVLOCK_HOST_GENL_NAME		"pvlock_host"
#define PVLOCK_GENL_VERSION		1
#define PVLOCK_GENL_MCGRP_EVENTS	"events"
#define PVLOCK_NAME_MAX			64	/* VM names, symbols: bytes incl. NUL */

/**
 * enum pvlock_guest_cmd - commands of the "pvlock_guest" family
 *
 * @PVLOCK_GUEST_CMD_GET_STATUS: doit.
 *   request: (none)
 *   reply:   PVLOCK_A_VERSION, PVLOCK_A_ABI, PVLOCK_A_KERNEL, PVLOCK_A_FEATURES,
 *            PVLOCK_A_HANDSHAKE, PVLOCK_A_HOST_ABI?, PVLOCK_A_HOST_FEATURES?,
 *            PVLOCK_A_LIVEPATCH, PVLOCK_A_NR_CPUS, PVLOCK_A_NR_REGISTERED,
 *            PVLOCK_A_PARAMS+ { PVLOCK_P_MODE, PVLOCK_P_SPIN_THRESHOLD, ... }
 *
 * @PVLOCK_GUEST_CMD_GET_PARAMS: doit.
 *   reply:   PVLOCK_A_PARAMS+ { PVLOCK_P_MODE, PVLOCK_P_SPIN_THRESHOLD,
 *                              PVLOCK_P_SPIN_MIN, PVLOCK_P_SPIN_MAX,
 *                              PVLOCK_P_YIELD, PVLOCK_P_FORCE_QUEUE,
 *                              PVLOCK_P_HOST_THRESHOLD? }
 *
 * @PVLOCK_GUEST_CMD_SET_PARAMS: doit [admin].
 *   request: PVLOCK_A_PARAMS+ { any subset of the settable PVLOCK_P_* }
 *   reply:   as GET_PARAMS, after the change.
 *   All values are checked first; one bad value changes nothing.
 *   SPIN_MIN <= SPIN_THRESHOLD <= SPIN_MAX must hold afterwards.
 *
 * @PVLOCK_GUEST_CMD_GET_STATS: doit: totals; dump: one message per CPU.
 *   request: PVLOCK_A_CPU? (doit: one CPU only)
 *   reply:   PVLOCK_A_CPU? (absent for totals), PVLOCK_A_TIME_NS,
 *            PVLOCK_A_STATS+ { enum pvlock_guest_stat: __u64 each },
 *            PVLOCK_A_HIST+  { bucket i at type i + 1: __u64 each }
 *
 * @PVLOCK_GUEST_CMD_RESET_STATS: doit [admin]. Zeroes every counter.
 *
 * @PVLOCK_GUEST_CMD_GET_LOCKS: dump, most contended first.
 *   reply*:  PVLOCK_A_LOCK+ { PVLOCK_L_ADDR, PVLOCK_L_SYMBOL?,
 *                             PVLOCK_L_CONTENDED, PVLOCK_L_WAIT_NS,
 *                             PVLOCK_L_WAIT_MAX_NS }
 *
 * @PVLOCK_GUEST_CMD_EVENT: multicast on "events" only.
 *   PVLOCK_A_EVENT, PVLOCK_A_TIME_NS, PVLOCK_A_CPU?, PVLOCK_A_HANDSHAKE?,
 *   PVLOCK_A_LIVEPATCH?, PVLOCK_A_PARAMS+?
 */
enum pvlock_guest_cmd {
	PVLOCK_GUEST_CMD_UNSPEC,
	PVLOCK_GUEST_CMD_GET_STATUS,
	PVLOCK_GUEST_CMD_GET_PARAMS,
	PVLOCK_GUEST_CMD_SET_PARAMS,
	PVLOCK_GUEST_CMD_GET_STATS,
	PVLOCK_GUEST_CMD_RESET_STATS,
	PVLOCK_GUEST_CMD_GET_LOCKS,
	PVLOCK_GUEST_CMD_EVENT,
	__PVLOCK_GUEST_CMD_LAST,
	PVLOCK_GUEST_CMD_MAX = __PVLOCK_GUEST_CMD_LAST - 1
};

/**
 * enum pvlock_host_cmd - commands of the "pvlock_host" family
 *
 * @PVLOCK_HOST_CMD_GET_STATUS: doit.
 *   reply:   PVLOCK_A_VERSION, PVLOCK_A_ABI, PVLOCK_A_KERNEL, PVLOCK_A_FEATURES,
 *            PVLOCK_A_HOOKS, PVLOCK_A_NR_VMS, PVLOCK_A_NR_REGISTERED,
 *            PVLOCK_A_NR_CPUS, PVLOCK_A_OVERCOMMIT,
 *            PVLOCK_A_PARAMS+ { global values }
 *
 * @PVLOCK_HOST_CMD_GET_PARAMS: doit.
 *   request: PVLOCK_A_VM_ID? (absent: global)
 *   reply:   PVLOCK_A_VM_ID?, PVLOCK_A_PARAMS+ { PVLOCK_P_SPIN_THRESHOLD,
 *            PVLOCK_P_SPIN_MIN, PVLOCK_P_SPIN_MAX, PVLOCK_P_BUDGET,
 *            PVLOCK_P_PERIOD_MS, PVLOCK_P_CROSS_VM, PVLOCK_P_CROSS_BUDGET,
 *            PVLOCK_P_PRIO_BOOST, PVLOCK_P_PINNED }
 *
 * @PVLOCK_HOST_CMD_SET_PARAMS: doit [admin].
 *   request: PVLOCK_A_VM_ID? (absent: global defaults, applied to every VM
 *            that has no value of its own), PVLOCK_A_PARAMS+ { subset }
 *   reply:   as GET_PARAMS. Unknown VM: -ENOENT. One bad value changes nothing.
 *
 * @PVLOCK_HOST_CMD_GET_VMS: dump [admin], one message per VM (names and pids
 *   of other users' processes: not for everyone, as kvm_stat's debugfs and
 *   per-VM stats files are not).
 *   reply*:  PVLOCK_A_VM+ { PVLOCK_VM_ID, PVLOCK_VM_PID, PVLOCK_VM_NAME,
 *                           PVLOCK_VM_NR_VCPUS, PVLOCK_VM_NR_REGISTERED,
 *                           PVLOCK_VM_ABI?, PVLOCK_VM_FEATURES? },
 *            PVLOCK_A_PARAMS+ { effective values for this VM },
 *            PVLOCK_A_STATS+ { enum pvlock_host_stat }
 *
 * @PVLOCK_HOST_CMD_GET_STATS: dump [admin].
 *   request: PVLOCK_A_VM_ID? (only this VM), PVLOCK_A_PER_VCPU? (flag)
 *   reply*:  PVLOCK_A_VM_ID, PVLOCK_A_CPU? (per-vCPU rows: the vCPU index),
 *            PVLOCK_A_TIME_NS, PVLOCK_A_STATS+ { enum pvlock_host_stat },
 *            PVLOCK_A_HIST+ { preempted-time histogram }
 *
 * @PVLOCK_HOST_CMD_RESET_STATS: doit [admin].
 *   request: PVLOCK_A_VM_ID? (absent: every VM)
 *
 * @PVLOCK_HOST_CMD_EVENT: multicast on "events" only; joining the host's
 *   group needs CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN).
 *   PVLOCK_A_EVENT, PVLOCK_A_TIME_NS, PVLOCK_A_VM+?, PVLOCK_A_CPU?,
 *   PVLOCK_A_PARAMS+?
 */
enum pvlock_host_cmd {
	PVLOCK_HOST_CMD_UNSPEC,
	PVLOCK_HOST_CMD_GET_STATUS,
	PVLOCK_HOST_CMD_GET_PARAMS,
	PVLOCK_HOST_CMD_SET_PARAMS,
	PVLOCK_HOST_CMD_GET_VMS,
	PVLOCK_HOST_CMD_GET_STATS,
	PVLOCK_HOST_CMD_RESET_STATS,
	PVLOCK_HOST_CMD_EVENT,
	__PVLOCK_HOST_CMD_LAST,
	PVLOCK_HOST_CMD_MAX = __PVLOCK_HOST_CMD_LAST - 1
};

/* Top-level attributes, shared by both families. */
enum pvlock_attr {
	PVLOCK_A_UNSPEC,
	PVLOCK_A_PAD,
	PVLOCK_A_VERSION,		/* string: module version */
	PVLOCK_A_ABI,			/* u32: PVLOCK_ABI_VERSION of the module */
	PVLOCK_A_KERNEL,		/* string: release of the running kernel */
	PVLOCK_A_FEATURES,		/* u32: PVLOCK_F_* this side offers */
	PVLOCK_A_HANDSHAKE,		/* u32: enum pvlock_handshake */
	PVLOCK_A_HOST_ABI,		/* u32: version agreed with the host */
	PVLOCK_A_HOST_FEATURES,		/* u32: PVLOCK_F_* agreed with the host */
	PVLOCK_A_LIVEPATCH,		/* u32: enum pvlock_livepatch */
	PVLOCK_A_HOOKS,			/* u32: PVLOCK_HOOK_* */
	PVLOCK_A_NR_CPUS,		/* u32: online CPUs (guest) or pCPUs (host) */
	PVLOCK_A_NR_VMS,		/* u32 */
	PVLOCK_A_NR_REGISTERED,		/* u32: registered records (vCPUs) */
	PVLOCK_A_OVERCOMMIT,		/* u32: runnable vCPU threads per pCPU, % */
	PVLOCK_A_PARAMS,		/* nest: enum pvlock_param */
	PVLOCK_A_VM,			/* nest: enum pvlock_vm_attr */
	PVLOCK_A_VM_ID,			/* u32: VM selector (host) */
	PVLOCK_A_CPU,			/* u32: guest CPU / vCPU index */
	PVLOCK_A_PER_VCPU,		/* flag */
	PVLOCK_A_STATS,			/* nest: guest or host counters, __u64 each */
	PVLOCK_A_HIST,			/* nest: PVLOCK_HIST_BUCKETS __u64, type = bucket + 1 */
	PVLOCK_A_LOCK,			/* nest: enum pvlock_lock_attr */
	PVLOCK_A_EVENT,			/* u32: enum pvlock_event */
	PVLOCK_A_TIME_NS,		/* u64: CLOCK_MONOTONIC of the sample */
	__PVLOCK_A_LAST,
	PVLOCK_A_MAX = __PVLOCK_A_LAST - 1
};

/*
 * Parameters (nested in PVLOCK_A_PARAMS). Which family takes which:
 * G = pvlock_guest, H = pvlock_host (global or per VM), ro = read only.
 */
enum pvlock_param {
	PVLOCK_P_UNSPEC,
	PVLOCK_P_MODE,			/* G   u32 enum pvlock_mode */
	PVLOCK_P_SPIN_THRESHOLD,	/* G H u32 [SPIN_LIMIT_MIN, SPIN_LIMIT_MAX]; G: the
					 *     fixed-mode value (the value each CPU uses is the
					 *     PVLOCK_GS_THRESHOLD gauge); H: the hint written
					 *     to the VM's records, 0 = none */
	PVLOCK_P_SPIN_MIN,		/* G H u32 [SPIN_LIMIT_MIN, SPIN_LIMIT_MAX] */
	PVLOCK_P_SPIN_MAX,		/* G H u32 [SPIN_LIMIT_MIN, SPIN_LIMIT_MAX] */
	PVLOCK_P_YIELD,			/* G   u8 bool: yield hypercall instead of HLT */
	PVLOCK_P_FORCE_QUEUE,		/* G   u8 bool: skip the TCG/bare test-and-set
					 *     path (virt_spin_lock) to test the queue */
	PVLOCK_P_HOST_THRESHOLD,	/* G ro u32: the host's current hint, 0 = none */
	PVLOCK_P_BUDGET,		/*   H u32 [0, PVLOCK_BUDGET_MAX] boosts/period/VM */
	PVLOCK_P_PERIOD_MS,		/*   H u32 [PVLOCK_PERIOD_MIN_MS, PVLOCK_PERIOD_MAX_MS], global */
	PVLOCK_P_CROSS_VM,		/*   H u8 bool: allow cross-VM boosting */
	PVLOCK_P_CROSS_BUDGET,		/*   H u32 [0, PVLOCK_BUDGET_MAX] cross-VM boosts given
					 *     and received per period per VM */
	PVLOCK_P_PRIO_BOOST,		/*   H u32 [0, PVLOCK_PRIO_BOOST_MAX]: 0 = directed
					 *     yield only; N = raise a boosted vCPU's nice by
					 *     at most N for one period (operator only) */
	PVLOCK_P_PINNED,		/*   H u32 PVLOCK_PIN_* */
	__PVLOCK_P_LAST,
	PVLOCK_P_MAX = __PVLOCK_P_LAST - 1
};

#define PVLOCK_BUDGET_MAX		1000000u
#define PVLOCK_PERIOD_MIN_MS		10u
#define PVLOCK_PERIOD_MAX_MS		60000u
#define PVLOCK_PRIO_BOOST_MAX		10u
/*
 * A VM's vCPUs together hold a raised priority (PVLOCK_P_PRIO_BOOST) for at
 * most this percentage of each period; a boost is not renewed while it
 * lasts (include/pvlock/budget.h, pvlock_prio_grant()).
 */
#define PVLOCK_PRIO_SHARE_PCT		25

/* VM identity (nested in PVLOCK_A_VM). */
enum pvlock_vm_attr {
	PVLOCK_VM_UNSPEC,
	PVLOCK_VM_ID,			/* u32: pvlock's id for the VM, stable while it lives */
	PVLOCK_VM_PID,			/* u32: pid of the VMM process (QEMU) */
	PVLOCK_VM_NAME,			/* string: QEMU -name / libvirt name, else "pid-N" */
	PVLOCK_VM_NR_VCPUS,		/* u32 */
	PVLOCK_VM_NR_REGISTERED,	/* u32 */
	PVLOCK_VM_ABI,			/* u32: version agreed at HELLO, absent without */
	PVLOCK_VM_FEATURES,		/* u32: features agreed at HELLO */
	__PVLOCK_VM_LAST,
	PVLOCK_VM_MAX = __PVLOCK_VM_LAST - 1
};

/* A contended lock (nested in PVLOCK_A_LOCK). */
enum pvlock_lock_attr {
	PVLOCK_L_UNSPEC,
	PVLOCK_L_PAD,
	PVLOCK_L_ADDR,			/* u64: lock address (guest kernel VA) */
	PVLOCK_L_SYMBOL,		/* string: symbol+offset when known */
	PVLOCK_L_CONTENDED,		/* u64: slow-path entries (PVLOCK_TIME_EVERY) */
	PVLOCK_L_WAIT_NS,		/* u64: total wait (PVLOCK_TIME_EVERY) */
	PVLOCK_L_WAIT_MAX_NS,		/* u64: longest wait */
	__PVLOCK_L_LAST,
	PVLOCK_L_MAX = __PVLOCK_L_LAST - 1
};

enum pvlock_event {
	PVLOCK_EV_UNSPEC,
	PVLOCK_EV_HANDSHAKE,		/* G: handshake state changed */
	PVLOCK_EV_LIVEPATCH,		/* G: livepatch state changed */
	PVLOCK_EV_PARAMS,		/* G H: parameters changed (by whom: see dmesg) */
	PVLOCK_EV_THRESHOLD,		/* G: the adaptive threshold moved */
	PVLOCK_EV_VM_NEW,		/* H: a VM was seen for the first time */
	PVLOCK_EV_VM_GONE,		/* H: a VM exited */
	PVLOCK_EV_VCPU_REGISTERED,	/* H */
	PVLOCK_EV_VCPU_UNREGISTERED,	/* H */
	__PVLOCK_EV_LAST,
	PVLOCK_EV_MAX = __PVLOCK_EV_LAST - 1
};

/*
 * Guest counters (PVLOCK_A_STATS of "pvlock_guest"). All __u64, summed over
 * CPUs on read. Gauges are marked (g).
 */
enum pvlock_guest_stat {
	PVLOCK_GS_UNSPEC,
	PVLOCK_GS_SLOWPATH,		/* entries into the replaced slow path */
	PVLOCK_GS_PENDING,		/* acquired through the pending bit, no queueing */
	PVLOCK_GS_QUEUED,		/* queued on an MCS node */
	PVLOCK_GS_TAS,			/* took the test-and-set path (virt_spin_lock) */
	PVLOCK_GS_SPINS,		/* spin iterations while waiting */
	PVLOCK_GS_SPIN_ACQUIRED,	/* waits that ended within the spin threshold */
	PVLOCK_GS_WAITS,		/* kvm_wait calls: gave up spinning */
	PVLOCK_GS_WAIT_EARLY,		/* of which early: predecessor/holder preempted */
	PVLOCK_GS_HALTS,		/* plain HLT (no host support) */
	PVLOCK_GS_YIELDS,		/* PVLOCK_HC_YIELD issued */
	PVLOCK_GS_YIELD_SAME_VM,	/* ... answered SAME_VM */
	PVLOCK_GS_YIELD_CROSS_VM,	/* ... answered CROSS_VM */
	PVLOCK_GS_YIELD_HALTED,		/* ... answered HALTED or DENIED */
	PVLOCK_GS_YIELD_ERRORS,		/* ... answered an error */
	PVLOCK_GS_KICKS,		/* kvm_kick_cpu calls */
	PVLOCK_GS_HASHED,		/* locks hashed for a halted queue head */
	PVLOCK_GS_THRESH_CHANGES,	/* adaptive threshold moved */
	PVLOCK_GS_THRESHOLD,		/* (g) threshold in use (max over CPUs) */
	PVLOCK_GS_WAIT_NS,		/* total time from slow-path entry to the lock
					 * (PVLOCK_TIME_EVERY) */
	PVLOCK_GS_WAIT_MAX_NS,		/* (g) longest of those */
	PVLOCK_GS_PREEMPTED_SEEN,	/* waits where the holder/predecessor was preempted */
	PVLOCK_GS_HOST_HINTS,		/* host hints read and applied */
	__PVLOCK_GS_LAST,
	PVLOCK_GS_MAX = __PVLOCK_GS_LAST - 1
};

/*
 * Host counters (PVLOCK_A_STATS of "pvlock_host"), per VM and per vCPU.
 */
enum pvlock_host_stat {
	PVLOCK_HS_UNSPEC,
	PVLOCK_HS_HELLO,		/* handshakes */
	PVLOCK_HS_REGISTERED,		/* successful registrations */
	PVLOCK_HS_UNREGISTERED,		/* unregistrations (guest or teardown) */
	PVLOCK_HS_YIELDS,		/* yield hypercalls asked */
	PVLOCK_HS_YIELD_SAME_VM,	/* ... served by a yield within the VM */
	PVLOCK_HS_YIELD_CROSS_VM,	/* ... served by a yield to another VM */
	PVLOCK_HS_YIELD_NONE,		/* ... nothing to yield to */
	PVLOCK_HS_HALTS,		/* ... halted */
	PVLOCK_HS_BOOSTS_GIVEN,		/* this VM's vCPUs gave their time away */
	PVLOCK_HS_BOOSTS_RECEIVED,	/* this VM's vCPUs were yielded to */
	PVLOCK_HS_CROSS_GIVEN,		/* ... to/from other VMs: given */
	PVLOCK_HS_CROSS_RECEIVED,	/* ... received */
	PVLOCK_HS_BUDGET_DENIED,	/* boosts refused by a budget */
	PVLOCK_HS_ON_SPIN,		/* kvm_vcpu_on_spin entries (PLE) */
	PVLOCK_HS_ON_SPIN_BOOSTS,	/* ... that yielded to a pvlock candidate */
	PVLOCK_HS_PREEMPTIONS,		/* vCPU preempted while runnable */
	PVLOCK_HS_ECS_PREEMPTIONS,	/* ... inside an eCS */
	PVLOCK_HS_WAITER_PREEMPTIONS,	/* ... while waiting for a lock */
	PVLOCK_HS_PREEMPTED_NS,		/* total time preempted */
	PVLOCK_HS_HINT_WRITES,		/* host hint updates written */
	PVLOCK_HS_BAD_CPL,		/* hypercall from CPL != 0 */
	PVLOCK_HS_BAD_GPA,		/* GPA outside memory or misaligned */
	PVLOCK_HS_BAD_CPU,		/* guest CPU number out of range */
	PVLOCK_HS_BAD_DOUBLE,		/* double registration */
	PVLOCK_HS_BAD_RECORD,		/* record header wrong */
	PVLOCK_HS_BAD_ARGS,		/* reserved args/flags non-zero */
	PVLOCK_HS_BAD_RATE,		/* refused by the registration rate limit */
	PVLOCK_HS_BAD_STATE,		/* not registered / no handshake */
	PVLOCK_HS_ON_SPIN_KVM,		/* PLE exits served by KVM's own kvm_vcpu_on_spin() */
	PVLOCK_HS_HC_NS,		/* time in the yield hypercall's handler (for
					 * PVLOCK_HS_YIELDS calls), up to the yield or halt */
	PVLOCK_HS_ON_SPIN_NS,		/* time in pvlock's on_spin choice (for the
					 * PLE exits it served), up to the yield or KVM's loop */
	PVLOCK_HS_PRIO_BOOSTS,		/* priority boosts started (PVLOCK_P_PRIO_BOOST) */
	PVLOCK_HS_PRIO_NS,		/* time this VM's vCPUs held a raised priority */
	PVLOCK_HS_PRIO_DENIED,		/* priority boosts refused: PVLOCK_PRIO_SHARE_PCT used */
	PVLOCK_HS_REMAPS,		/* records mapped again after their memory changed */
	PVLOCK_HS_UNMAPPED,		/* registrations dropped: the record left guest memory */
	PVLOCK_HS_BOOSTS_RAN,		/* boosts given after which the vCPU yielded to ran
					 * before the giver did */
	__PVLOCK_HS_LAST,
	PVLOCK_HS_MAX = __PVLOCK_HS_LAST - 1
};

#endif /* _UAPI_LINUX_PVLOCK_H */
