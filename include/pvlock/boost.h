/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Boost-target choice: when a vCPU waits (a PLE exit reaching
 * kvm_vcpu_on_spin, or pvlock's yield hypercall), which other vCPU should get
 * its time?
 *
 * The host collects one struct pvlock_cand per vCPU it could yield to, with
 * what it knows about it, and asks pvlock_boost_pick(). The rules:
 *
 *   1. Only a vCPU that is preempted (runnable but not running) can be
 *      helped by a directed yield; running or blocked (halted) ones are
 *      skipped, as KVM's own on_spin loop does (vcpu->ready,
 *      kvm_vcpu_is_blocking). KVM's eligibility verdict (dy_eligible,
 *      in-kernel) comes in as PVLOCK_CAND_KVM_OK and is required too.
 *   2. A vCPU that is itself waiting for a lock is skipped: running it
 *      only moves the spinning elsewhere.
 *   3. Same VM before other VMs: any same-VM candidate beats any cross-VM
 *      one. Cross-VM candidates are considered only when cross-VM boosting
 *      is on.
 *   4. Within that: the vCPU the waiter named (lock holder, queue
 *      predecessor) first; then vCPUs preempted inside an eCS; a vCPU whose
 *      eCS state is known and is outside any eCS is not worth a yield,
 *      unless it was named. vCPUs without eCS information (VMs without
 *      pvlock_guest) rank after eCS ones.
 *   5. Ties: longer preempted first (capped), then a vCPU not boosted
 *      recently, then round robin from @start, as KVM approximates it.
 */
#ifndef _PVLOCK_BOOST_H
#define _PVLOCK_BOOST_H

#include "types.h"

#define PVLOCK_CAND_PREEMPTED	(1u << 0)	/* runnable, not running */
#define PVLOCK_CAND_BLOCKED	(1u << 1)	/* halted / blocked */
#define PVLOCK_CAND_WAITING	(1u << 2)	/* itself a lock waiter */
#define PVLOCK_CAND_ECS_KNOWN	(1u << 3)	/* eCS state published (registered) */
#define PVLOCK_CAND_IN_ECS	(1u << 4)	/* preempted inside an eCS */
#define PVLOCK_CAND_HINTED	(1u << 5)	/* the waiter named this vCPU */
#define PVLOCK_CAND_SAME_VM	(1u << 6)	/* same VM as the waiter */
#define PVLOCK_CAND_KVM_OK	(1u << 7)	/* KVM's own directed-yield rules allow it */
#define PVLOCK_CAND_SELF	(1u << 8)	/* the waiter itself */

struct pvlock_cand {
	u32 flags;		/* PVLOCK_CAND_* */
	u64 preempted_ns;	/* when it was preempted (if PREEMPTED) */
	u64 boosted_ns;		/* when it was last yielded to, 0 = never */
};

struct pvlock_boost_cfg {
	bool cross_vm;		/* consider other VMs' vCPUs */
	u64 cooldown_ns;	/* "boosted recently" window */
};

#define PVLOCK_SCORE_NONE	(-1)
#define PVLOCK_SCORE_SAME_VM	1000000
#define PVLOCK_SCORE_HINTED	100000
#define PVLOCK_SCORE_ECS	10000
#define PVLOCK_SCORE_NO_INFO	1000
#define PVLOCK_SCORE_FRESH	500		/* not boosted within the cooldown */
#define PVLOCK_SCORE_AGE_MAX	499		/* +1 per 10 us preempted, capped */

/* Score of one candidate at @now_ns; PVLOCK_SCORE_NONE if not eligible. */
static inline s32 pvlock_boost_score(const struct pvlock_cand *c,
				     const struct pvlock_boost_cfg *cfg, u64 now_ns)
{
	u32 f = c->flags;
	s32 score = 0;
	u64 age;

	if (f & PVLOCK_CAND_SELF)
		return PVLOCK_SCORE_NONE;
	if (!(f & PVLOCK_CAND_PREEMPTED) || (f & PVLOCK_CAND_BLOCKED))
		return PVLOCK_SCORE_NONE;
	if (!(f & PVLOCK_CAND_KVM_OK) || (f & PVLOCK_CAND_WAITING))
		return PVLOCK_SCORE_NONE;
	if (!(f & PVLOCK_CAND_SAME_VM) && !cfg->cross_vm)
		return PVLOCK_SCORE_NONE;

	if (f & PVLOCK_CAND_HINTED)
		score += PVLOCK_SCORE_HINTED;
	if (f & PVLOCK_CAND_ECS_KNOWN) {
		if (f & PVLOCK_CAND_IN_ECS)
			score += PVLOCK_SCORE_ECS;
		else if (!(f & PVLOCK_CAND_HINTED))
			return PVLOCK_SCORE_NONE;
	} else {
		score += PVLOCK_SCORE_NO_INFO;
	}
	if (f & PVLOCK_CAND_SAME_VM)
		score += PVLOCK_SCORE_SAME_VM;

	if (!c->boosted_ns || now_ns < c->boosted_ns ||
	    now_ns - c->boosted_ns >= cfg->cooldown_ns)
		score += PVLOCK_SCORE_FRESH;
	if (now_ns > c->preempted_ns) {
		age = (now_ns - c->preempted_ns) / 10000;
		score += (s32)pvlock_min_u64(age, PVLOCK_SCORE_AGE_MAX);
	}
	return score;
}

/*
 * Index of the best of @n candidates, scanning round robin from @start
 * (ties go to the first met), or -1 when none is eligible.
 */
static inline int pvlock_boost_pick(const struct pvlock_cand *c, unsigned int n,
				    unsigned int start, const struct pvlock_boost_cfg *cfg,
				    u64 now_ns)
{
	s32 best_score = PVLOCK_SCORE_NONE;
	int best = -1;
	unsigned int k, i;

	if (!n)
		return -1;
	for (k = 0; k < n; k++) {
		s32 s;

		i = (start % n + k) % n;
		s = pvlock_boost_score(&c[i], cfg, now_ns);
		if (s > best_score) {
			best_score = s;
			best = (int)i;
		}
	}
	return best;
}

/* Is a candidate of the waiter's own VM? Decides the stats bucket. */
static inline bool pvlock_boost_same_vm(const struct pvlock_cand *c)
{
	return c->flags & PVLOCK_CAND_SAME_VM;
}

#endif /* _PVLOCK_BOOST_H */
