/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Boost-target choice: when a vCPU waits (a PLE exit reaching
 * kvm_vcpu_on_spin, or pvlock's yield hypercall), which other vCPU should get
 * its time? The host collects one struct pvlock_cand per vCPU it could yield
 * to, with what it knows about it, and offers them to a struct pvlock_pick
 * (or passes an array to pvlock_boost_pick(), which does the same). This is
 * the host's only policy for the choice; the rules:
 *
 *   0. Who is served at all (pvlock_serves_on_spin(), pvlock_cross_opted_in()):
 *      a PLE exit of a VM that has not opted into cross-VM boosting runs
 *      KVM's own kvm_vcpu_on_spin(), untouched; cross-VM boosts go only from
 *      a VM that opted in to a VM that opted in.
 *   1. Only a vCPU that is preempted (runnable but not running) can be
 *      helped by a directed yield; running or blocked (halted) ones are
 *      skipped. KVM's own rules for a directed yield must allow it too
 *      (pvlock_kvm_eligible(): ready, not halted, in kernel mode when the
 *      waiter spun in kernel mode, not itself in a PLE loop unless KVM's
 *      alternating dy_eligible says so): PVLOCK_CAND_KVM_OK.
 *   2. A vCPU that is itself waiting for a lock (and holds nothing else)
 *      is skipped: running it only moves the spinning elsewhere; unless a
 *      waiter of its own VM named it (the guest knows better: the holder of
 *      its lock, or the queue predecessor the lock passes through next).
 *   3. Same VM before other VMs: any same-VM candidate beats any cross-VM
 *      one. Cross-VM candidates are considered only when cross-VM boosting
 *      is on.
 *   4. Within that: the vCPU the waiter named (lock holder, queue
 *      predecessor) first; then vCPUs preempted inside an eCS; a vCPU whose
 *      eCS state is known and is outside any eCS is not worth a yield,
 *      unless it was named. vCPUs without eCS information (VMs without
 *      pvlock_guest) rank after eCS ones.
 *   5. Ties: longer preempted first (capped), then a vCPU not boosted
 *      recently, then the first offered (the host offers round robin from
 *      after the vCPU KVM boosted last, as KVM does).
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

/*
 * What KVM keeps about a vCPU of the waiter's VM, for its own directed-yield
 * rules (kvm_vcpu_on_spin() in 6.1 and 6.12): vcpu->ready, vcpu->preempted,
 * kvm_vcpu_is_blocking() and its wake-up events, the CPL it was preempted
 * at, and vcpu->spin_loop.
 */
struct pvlock_kvm_view {
	bool ready;		/* runnable and waiting to run */
	bool preempted;		/* descheduled while runnable */
	bool blocking;		/* halted, in kvm_vcpu_block() */
	bool dy_runnable;	/* ... with an event pending that would wake it */
	bool in_kernel;		/* preempted at CPL 0 (or its state is protected) */
	bool in_spin_loop;	/* in a PLE loop itself */
	bool dy_eligible;	/* KVM's every-other-time pass for a spinner */
};

/*
 * Would KVM's own loop yield to this vCPU? @yield_to_kernel_mode as KVM's
 * kvm_vcpu_on_spin() gets it (the waiter spun in kernel mode). KVM also
 * flips a spinner's dy_eligible each time it looks at it; that is KVM's
 * state to change, not pvlock's: this only reads it.
 */
static inline bool pvlock_kvm_eligible(const struct pvlock_kvm_view *v, bool yield_to_kernel_mode)
{
	if (!v->ready)
		return false;
	if (v->blocking && !v->dy_runnable)
		return false;
	if (v->preempted && yield_to_kernel_mode && !v->in_kernel)
		return false;
	if (v->in_spin_loop && !v->dy_eligible)
		return false;
	return true;
}

/*
 * Cross-VM boosting is opt-in on both ends: a VM gives its vCPUs' time to
 * other VMs, and receives theirs, only when its guest agreed
 * PVLOCK_F_CROSS_VM (pvlock_guest) and the operator left cross_vm on for it.
 */
static inline bool pvlock_cross_opted_in(u32 agreed_features, u32 cross_vm_param)
{
	return (agreed_features & PVLOCK_F_CROSS_VM) && cross_vm_param;
}

/*
 * Does pvlock choose for a PLE exit of this VM? Only for a VM with
 * registered vCPUs that opted into cross-VM boosting; every other VM's PLE
 * exits run KVM's kvm_vcpu_on_spin() exactly as without pvlock.
 */
static inline bool pvlock_serves_on_spin(u32 nr_registered, u32 agreed_features,
					 u32 cross_vm_param)
{
	return nr_registered && pvlock_cross_opted_in(agreed_features, cross_vm_param);
}

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
	if (!(f & PVLOCK_CAND_KVM_OK))
		return PVLOCK_SCORE_NONE;
	/*
	 * A waiter is skipped, unless its own VM's waiter named it: the guest
	 * knows it holds the lock (waiting for another one) or is the queue
	 * predecessor the lock passes through next.
	 */
	if ((f & PVLOCK_CAND_WAITING) &&
	    (f & (PVLOCK_CAND_HINTED | PVLOCK_CAND_SAME_VM)) !=
	    (PVLOCK_CAND_HINTED | PVLOCK_CAND_SAME_VM))
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
 * The choice in progress: candidates are offered one by one (the host has
 * no array of them: it walks vCPUs and the cross-VM board) and the best so
 * far is kept; ties go to the first offered.
 */
struct pvlock_pick {
	s32 score;
	int best;		/* the caller's index of the best, -1: none */
};

static inline void pvlock_pick_init(struct pvlock_pick *p)
{
	p->score = PVLOCK_SCORE_NONE;
	p->best = -1;
}

/* Offer candidate @idx; true if it is the best so far. */
static inline bool pvlock_pick_offer(struct pvlock_pick *p, const struct pvlock_cand *c, int idx,
				     const struct pvlock_boost_cfg *cfg, u64 now_ns)
{
	s32 s = pvlock_boost_score(c, cfg, now_ns);

	if (s <= p->score)
		return false;
	p->score = s;
	p->best = idx;
	return true;
}

/*
 * Index of the best of @n candidates, offered round robin from @start, or -1
 * when none is eligible.
 */
static inline int pvlock_boost_pick(const struct pvlock_cand *c, unsigned int n,
				    unsigned int start, const struct pvlock_boost_cfg *cfg,
				    u64 now_ns)
{
	struct pvlock_pick p;
	unsigned int k, i;

	pvlock_pick_init(&p);
	for (k = 0; k < n; k++) {
		i = (start % n + k) % n;
		pvlock_pick_offer(&p, &c[i], (int)i, cfg, now_ns);
	}
	return p.best;
}

/* Is a candidate of the waiter's own VM? Decides the stats bucket. */
static inline bool pvlock_boost_same_vm(const struct pvlock_cand *c)
{
	return c->flags & PVLOCK_CAND_SAME_VM;
}

#endif /* _PVLOCK_BOOST_H */
