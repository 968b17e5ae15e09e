/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and writing struct pvlock_record (see the uapi header for the
 * protocol). Each side writes only its own half, under its own sequence
 * count; readers retry a bounded number of times, so a guest that never
 * finishes a write (or scribbles on the sequence count) cannot make the
 * host spin, and the other way round.
 */
#ifndef _PVLOCK_RECORD_H
#define _PVLOCK_RECORD_H

#include "types.h"

/* Guest half, as the host sees it after validation. */
struct pvlock_guest_view {
	u32 flags;		/* PVLOCK_GF_*, unknown bits dropped */
	u32 wait_target;	/* PVLOCK_CPU_NONE when not waiting */
	u64 wait_lock;
	u64 wait_since_ns;
	u32 last_kicked;
};

/* Host half, as the guest sees it. */
struct pvlock_host_view {
	u32 flags;
	u32 spin_threshold;
	u32 budget_left;
	u32 overcommit_pct;
	u64 gen;
};

static inline void pvlock_record_init(struct pvlock_record *r, u32 cpu, u64 ecs_gpa, u32 ecs_kind)
{
	*r = (struct pvlock_record){
		.magic = PVLOCK_RECORD_MAGIC,
		.version = PVLOCK_RECORD_VERSION,
		.size = PVLOCK_RECORD_SIZE,
		.ecs_gpa = ecs_gpa,
		.ecs_kind = ecs_kind,
		.cpu = cpu,
		.wait_target = PVLOCK_CPU_NONE,
		.last_kicked = PVLOCK_CPU_NONE,
	};
}

/*
 * Header check done by the host at registration, on its private copy. A
 * version 1 record's version 2 fields are reserved bytes: not looked at.
 */
static inline int pvlock_record_check_header(const struct pvlock_record *r, u32 cpu)
{
	if (r->magic != PVLOCK_RECORD_MAGIC || r->version < PVLOCK_RECORD_VERSION_MIN ||
	    r->version > PVLOCK_RECORD_VERSION || r->size != PVLOCK_RECORD_SIZE || r->cpu != cpu)
		return -PVLOCK_EINVAL;
	if (r->ecs_kind > PVLOCK_ECS_X86_PREEMPT_COUNT)
		return -PVLOCK_EINVAL;
	if (r->ecs_kind == PVLOCK_ECS_NONE ? r->ecs_gpa != 0 : (r->ecs_gpa & 3) != 0)
		return -PVLOCK_EINVAL;
	if (r->version >= 2 && r->curr_gpa &&
	    (r->ecs_kind == PVLOCK_ECS_NONE || (r->curr_gpa & 7) != 0 ||
	     (r->curr_gpa >> 12) != (r->ecs_gpa >> 12)))
		return -PVLOCK_EINVAL;
	return 0;
}

/*
 * The running-task pointer the host may compare with the idle task: its GPA
 * from a version 2 header, 0 when the guest published none.
 */
static inline u64 pvlock_record_curr_gpa(const struct pvlock_record *r)
{
	return r->version >= 2 ? r->curr_gpa : 0;
}

/*
 * A waiter that holds nothing else is not inside a critical section worth
 * a boost (uapi: guest_flags).
 */
static inline bool pvlock_guest_pure_waiter(u32 guest_flags)
{
	return (guest_flags & PVLOCK_GF_WAITING) && !(guest_flags & PVLOCK_GF_HOLDER);
}

/* --- guest side: writer of the guest half, reader of the host half --- */

static inline void pvlock_guest_write_begin(struct pvlock_record *r)
{
	pvlock_write_once(r->guest_seq, r->guest_seq + 1);
	pvlock_smp_wmb();
}

static inline void pvlock_guest_write_end(struct pvlock_record *r)
{
	pvlock_smp_wmb();
	pvlock_write_once(r->guest_seq, r->guest_seq + 1);
}

/* Returns false when no consistent snapshot was seen in the retries. */
static inline bool pvlock_guest_read_host(const struct pvlock_record *r,
					  struct pvlock_host_view *v)
{
	unsigned int tries;

	for (tries = 0; tries < PVLOCK_SEQ_RETRIES; tries++) {
		u32 s = pvlock_read_once(r->host_seq);

		if (s & 1)
			continue;
		pvlock_smp_rmb();
		v->flags = pvlock_read_once(r->host_flags) & PVLOCK_HF_ALL;
		v->spin_threshold = pvlock_read_once(r->spin_threshold);
		v->budget_left = pvlock_read_once(r->budget_left);
		v->overcommit_pct = pvlock_read_once(r->overcommit_pct);
		v->gen = pvlock_read_once(r->host_gen);
		pvlock_smp_rmb();
		if (pvlock_read_once(r->host_seq) == s)
			return true;
	}
	return false;
}

/* --- host side: writer of the host half, reader of the guest half --- */

static inline void pvlock_host_write_begin(struct pvlock_record *r)
{
	/* the host never trusts the guest's copy of host_seq to be even */
	pvlock_write_once(r->host_seq, (pvlock_read_once(r->host_seq) | 1));
	pvlock_smp_wmb();
}

static inline void pvlock_host_write_end(struct pvlock_record *r)
{
	pvlock_smp_wmb();
	pvlock_write_once(r->host_gen, r->host_gen + 1);
	pvlock_write_once(r->host_seq, r->host_seq + 1);
}

/*
 * Snapshot of the guest half; values a guest could make dangerous are
 * sanitised here (@nr_cpus bounds CPU numbers). Returns false, with a
 * neutral view, when the guest was mid-write in every retry.
 */
static inline bool pvlock_host_read_guest(const struct pvlock_record *r, u32 nr_cpus,
					  struct pvlock_guest_view *v)
{
	unsigned int tries;

	for (tries = 0; tries < PVLOCK_SEQ_RETRIES; tries++) {
		u32 s = pvlock_read_once(r->guest_seq);

		if (s & 1)
			continue;
		pvlock_smp_rmb();
		v->flags = pvlock_read_once(r->guest_flags) & PVLOCK_GF_ALL;
		v->wait_target = pvlock_read_once(r->wait_target);
		v->wait_lock = pvlock_read_once(r->wait_lock);
		v->wait_since_ns = pvlock_read_once(r->wait_since_ns);
		v->last_kicked = pvlock_read_once(r->last_kicked);
		pvlock_smp_rmb();
		if (pvlock_read_once(r->guest_seq) != s)
			continue;
		if (v->wait_target >= nr_cpus)
			v->wait_target = PVLOCK_CPU_NONE;
		if (v->last_kicked >= nr_cpus)
			v->last_kicked = PVLOCK_CPU_NONE;
		if (!(v->flags & PVLOCK_GF_WAITING))
			v->flags &= ~PVLOCK_GF_QUEUE_HEAD;
		return true;
	}
	*v = (struct pvlock_guest_view){ .wait_target = PVLOCK_CPU_NONE,
					 .last_kicked = PVLOCK_CPU_NONE };
	return false;
}

/* eCS word as published by the guest (PVLOCK_ECS_X86_PREEMPT_COUNT). */
static inline bool pvlock_ecs_active(u32 kind, u32 word)
{
	return kind == PVLOCK_ECS_X86_PREEMPT_COUNT && (word & PVLOCK_ECS_X86_MASK) != 0;
}

#endif /* _PVLOCK_RECORD_H */
