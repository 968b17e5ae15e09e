/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlock's discrete-event simulator: P pCPUs, VMs of V vCPUs, one guest
 * thread per vCPU taking queued spinlocks, a host scheduler with ticks,
 * time slices, wake-up preemption and directed yields, and the lock-wait
 * policies under test. The policy code itself (include/pvlock/) is compiled
 * in unchanged; everything else here is the model around it.
 *
 * Files:
 *   sched.c  host scheduler (EEVDF subset, ticks, wake-up preemption, yield_to)
 *   kvm.c    KVM's halt/kick/PLE paths, the seeds' host changes, pvlock_host
 *   guest.c  guest thread and the PV qspinlock slow path (6.12) + variants
 *   sim.c    event loop, accounting, invariants
 *   policy.c the five policies; scenario.c the sweep; main.c the CLI
 * Every statement about a kernel cites file:function of linux-source-6.12
 * (Debian 6.12.117); MODEL notes mark simplifications.
 */
#ifndef _PVLOCK_SIM_H
#define _PVLOCK_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pvlock/types.h>
#include <pvlock/threshold.h>
#include <pvlock/boost.h>
#include <pvlock/budget.h>
#include <pvlock/tune.h>

#include "rng.h"

#define NSEC_PER_USEC	1000ull
#define NSEC_PER_MSEC	1000000ull
#define NSEC_PER_SEC	1000000000ull
#define NONE		(-1)

/* ---- policies ---------------------------------------------------------- */

enum sim_pol {
	POL_STOCK,	/* stock 6.12 guest and host */
	POL_QSPLUS,	/* qspinlock+ (4.9 research patch) on the 6.12 model */
	POL_ECS,	/* eCS-like: eCS-first yields, bounded preemption delay */
	POL_PVLOCK,	/* pvlock_guest + pvlock_host + pvlockd */
	POL_ORACLE,	/* no lock-holder/waiter preemption: the limit */
	POL__N
};

enum pol_wait {		/* what kvm_wait() does after the spin threshold */
	WAIT_HLT,		/* HLT: kvm_vcpu_halt() (stock) */
	WAIT_QSPLUS_HC,		/* qspinlock+: KVM_HC_HALT_CPU, up to 3 yield tries */
	WAIT_PVLOCK_YIELD,	/* pvlock: PVLOCK_HC_YIELD(target, HALT) */
};

enum pol_kick {		/* what KVM_HC_KICK_CPU does on the host */
	KICK_STOCK,		/* wake + kvm_sched_yield() to the kicked vCPU */
	KICK_QSPLUS,		/* wake + SCHED_RR boost of the kicked, kicker demoted */
};

enum pol_spin {		/* what a PLE exit (kvm_vcpu_on_spin) does */
	SPIN_STOCK,		/* 6.12 candidate rules */
	SPIN_ECS_FIRST,		/* eCS: preempted in-eCS vCPUs first, then stock */
	SPIN_PVLOCK,		/* pvlock_boost_pick() over same VM then other VMs */
	SPIN_NONE,		/* oracle: nothing is ever worth a yield */
};

enum pol_tick {		/* may the host preempt the vCPU now? */
	TICK_STOCK,		/* always */
	TICK_ECS_TOGGLE,	/* eCS: in an eCS, skip every other tick preemption */
	TICK_ORACLE,		/* never while holding or queued on a lock */
};

struct sim_policy {
	const char *name;	/* short, for CSV and plots */
	const char *label;	/* for tables */
	bool adaptive;		/* guest threshold from threshold.h (+ pvlockd hint) */
	bool early_preempted;	/* pv_wait_early() also on vcpu_is_preempted(prev) */
	bool bound_trylock;	/* the unfair trylock loop obeys the threshold too */
	bool name_holder;	/* name the lock holder (slow-path claim), head waits early */
	enum pol_wait wait;
	enum pol_kick kick;
	enum pol_spin on_spin;
	enum pol_tick tick;
	bool tune;		/* pvlockd: tune.h per VM every tuning period */
};

extern const struct sim_policy sim_policies[POL__N];

/* ---- parameters ---------------------------------------------------------- */

struct sim_params {
	/* machine and VMs */
	u32 nr_pcpus;
	u32 nr_vms;
	u32 vcpus_per_vm;

	/* workload, the same in every VM (means of exponentials, ns) */
	u32 nr_locks;		/* spinlocks per VM */
	u32 hot_pct;		/* % of acquisitions that go to lock 0 */
	u64 hold_min_ns, hold_ns;	/* critical section: min + exp(mean) */
	u64 user_ns;		/* think time in user mode */
	u64 kern_ns;		/* think time in the kernel, preemptible */
	u64 ecs_ns;		/* think time in other non-preemptible kernel code */
	u64 idle_every_ns;	/* mean busy time between guest idle periods, 0 = none */
	u64 idle_ns;		/* mean guest idle period (HLT in the idle loop) */

	/* run */
	u64 duration_ns, warmup_ns;
	u64 seed;

	/* costs of the machine (ns) */
	u64 iter_ns;		/* one iteration of a spin loop (cpu_relax = PAUSE) */
	u64 exit_ns;		/* hypercall / HLT exit and re-entry */
	u64 ple_ns;		/* PLE exit + kvm_vcpu_on_spin() scan */
	u64 switch_ns;		/* host context switch between vCPU threads */
	u64 wake_idle_ns;	/* wake-up of a vCPU onto an idle pCPU */
	u64 handoff_ns;		/* lock cache line moving to the next owner */

	/* host kernel settings */
	u64 tick_ns;		/* CONFIG_HZ_250 */
	u64 base_slice_ns;	/* sysctl_sched_base_slice scaled (see sched.c) */
	u32 ple_window, ple_window_max;	/* svm.c pause_filter_count(_max) */
	u64 halt_poll_max_ns;	/* kvm halt_poll_ns */
	u64 rr_slice_ns;	/* SCHED_RR timeslice (qspinlock+'s boost) */
	u32 llc_size;		/* pCPUs per last-level-cache domain (balancing) */
	u64 migration_cost_ns;	/* sysctl_sched_migration_cost: cache-hot window */

	/* pvlock_host and pvlockd */
	u32 budget, cross_budget, budget_period_ms;
	bool cross_vm;
	u64 cooldown_ns;
	u64 tune_period_ns;

	/*
	 * pvlock design choices the headers leave open (guest slow path and
	 * host glue); the defaults are what the sweep calls "pvlock". Set
	 * with --set for what-if runs.
	 */
	u32 pv_adaptive;	/* threshold.h threshold (else 2^15) */
	u32 pv_fixed;		/* what-if: PVLOCK_MODE_FIXED with this threshold */
	u32 pv_oc_hint;		/* what-if: hint when overcommitted, instead of tune.h's */
	u32 pv_denied_spin;	/* what-if: a budget refusal returns instead of halting */
	u32 pv_early_preempted;	/* wait early behind a preempted predecessor */
	u32 pv_bound_trylock;	/* the unfair trylock loop obeys the threshold */
	u32 pv_holder;		/* name the holder; head waits early behind a preempted one */
	u32 pv_halt_after;	/* fruitless yields before PVLOCK_YIELD_F_HALT */
	u32 pv_ple;		/* PLE exits use pvlock_boost_pick (else stock) */
	u32 pv_tune;		/* pvlockd running */
	u32 pv_kick_yield;	/* the unlocker's kick also yields to the kicked */
	u32 pv_kick_early;	/* kick a halted successor when it becomes head */
	u32 head_not_waiting;	/* host maps a named queue head as not WAITING */
};

int sim_param_set(struct sim_params *p, const char *name, const char *val);
void sim_param_list(FILE *f);

void sim_params_default(struct sim_params *p);

/* ---- state --------------------------------------------------------------- */

enum hstate { H_RUN, H_READY, H_BLOCKED };

enum gphase {
	G_THINK,		/* outside any lock */
	G_CS,			/* holding a lock */
	G_SLOW,			/* in the lock slow path */
	G_IDLE,			/* guest idle (nothing to run): HLT until its timer */
};

enum slow_state {
	S_TRYLOCK,		/* pv_hybrid_queued_unfair_trylock() loop */
	S_NODE,			/* queued, not head: pv_wait_node() */
	S_HEAD,			/* queue head: pv_wait_head_or_lock() */
};

enum pn_state {			/* qspinlock_paravirt.h enum vcpu_state */
	PN_RUNNING, PN_HALTED, PN_HASHED,
};

enum why_desched { DS_PREEMPT, DS_YIELD, DS_BLOCK };

struct sim_vcpu {
	int id;			/* global index */
	int vm;
	int idx;		/* guest CPU number in its VM */
	int pcpu;		/* run queue it is on (moves by load balancing) */

	/* host: scheduler entity */
	enum hstate hs;
	u64 vruntime, deadline;
	s64 lag;		/* at block */
	u64 blocked_at;
	bool protect;		/* RUN_TO_PARITY slice protection */
	bool rt;		/* SCHED_RR (qspinlock+ boost) */
	u64 exec_start;		/* se.exec_start: last update_curr() */
	u64 rr_used;		/* SCHED_RR: time used of the current timeslice */

	/* host: kvm_vcpu fields */
	bool preempted;		/* vcpu->preempted */
	bool ready;		/* vcpu->ready */
	bool pv_unhalted;	/* vcpu->arch.pv.pv_unhalted */
	bool preempted_in_kernel;
	bool in_spin_loop, dy_eligible;	/* vcpu->spin_loop */
	bool scheduled_out;
	bool qs_halted;		/* qspinlock+ vcpu_spinlock_stat.halted_vcpu */
	int qs_last_boosted;	/* qspinlock+ per-vCPU last_boosted_vcpu */
	bool ecs_toggle;	/* eCS preempt_toggle */
	u32 ple_window;		/* control->pause_filter_count */
	u64 halt_poll_ns;	/* vcpu->halt_poll_ns */
	bool polling;		/* inside the halt-polling loop */
	u64 poll_until, halt_start;
	u64 desched_at;		/* when it was last descheduled (preempted_ns) */
	u64 migrations;
	u64 boosted_at;		/* pvlock: last yielded to (boosted_ns) */

	/* time accounting of the running segment */
	u64 seg_start;		/* when it last started running or was synced */
	u64 ovh_left;		/* host work before the guest resumes */
	bool resume;		/* guest_resume() due once ovh_left is done */

	/* guest thread */
	enum gphase gp;
	u64 think_left;
	u64 think_kern;		/* tail of the think time spent in the kernel */
	u64 think_ecs;		/* ... of which non-preemptible (last part) */
	u64 cs_left;
	u64 hold_next;		/* hold time of the coming critical section */
	u64 idle_next;		/* idle period after it, 0 = none */
	u64 idle_until;
	u32 tgen;		/* guest timer generation */
	int lock;		/* lock index in its VM, while SLOW or CS */

	/* guest: slow path */
	enum slow_state ss;
	bool waiting;		/* in kvm_wait: halted, polling or yielded */
	u32 fruitless;		/* pvlock: yields in a row that found nothing */
	u64 spin_ns;		/* spun in this round */
	u64 spin_limit_ns;	/* threshold of this round, 0 = unbounded */
	u64 ple_ns;		/* PAUSEs since VM entry, as time */
	bool early_armed;	/* wait-early check pending */
	enum pn_state pn;
	bool node_locked;	/* mcs node->locked */
	bool lp;		/* pv_wait_head_or_lock's lp != NULL */
	int qprev, qnext;	/* MCS queue (vCPU ids) */
	int tprev, tnext;	/* trylock spinner list of the lock */
	bool in_try;
	int mcs_from;		/* vCPU that handed us the MCS lock (holder hint) */
	u64 wait_start;		/* slow path entry */
	u64 wait_spins_ns;	/* spin time of this wait */
	u64 wait_blocked_ns;	/* halted/yielded time of this wait */
	u64 wait_block_start;
	bool wait_gave_up;
	bool wait_saw_preempt;

	/* pvlock guest */
	struct pvlock_thresh thr;

	struct sim_rng rng;
	u32 gen;		/* event generation (stale events are skipped) */
	u64 ev_at;
};

struct sim_lock {
	int holder;		/* vCPU id or NONE */
	bool claimed;		/* the holder took it through the slow path (pvlock knows it) */
	bool slow;		/* locked byte == _Q_SLOW_VAL */
	int hashed;		/* vCPU whose node is in pv_lock_hash for it */
	bool pending;
	int qhead, qtail;
	int thead;		/* trylock spinners (list) */
	u64 acquired_at;
};

struct sim_vm_stats {
	u64 ops;		/* critical sections completed (measured window) */
	u64 slowpaths, steals;
	u64 lhp;		/* holder preempted (involuntary) */
	u64 lwp;		/* waiter preempted while spinning (involuntary) */
	u64 ecs_preempt;	/* preempted with preempt count != 0, not waiting */
	u64 kicks, halts, ple_exits, yields, yields_cross, boosts_rcvd;
	u64 budget_denied, pv_hc;
	u64 yields_hinted, yields_ple, halts_none, yields_none, idle_halts;
	u64 lhp_ns;		/* time lock holders spent preempted */
	u64 yields_budgeted;	/* boosts that took a budget token */
	u64 wait_ns;		/* slow-path entry to acquisition, summed */
	u64 wait_max_ns;
	u64 wait_hist[PVLOCK_HIST_BUCKETS];
};

struct sim_vm {
	int first;		/* id of vCPU 0 */
	int n;
	u64 *ready;		/* bitmap: vCPUs in H_READY (runnable, not running) */
	struct sim_lock *locks;
	int last_boosted;	/* kvm->last_boosted_vcpu */

	/* pvlock_host */
	struct pvlock_budget bud, xbud;
	struct pvlock_budget_cfg bcfg, xcfg;
	u32 hint;		/* spin threshold hint (records), 0 = none */
	/* pvlockd */
	struct pvlock_tune_state tst;
	u64 t_lhp, t_denied;	/* counters at the last tuning period */
	u64 boost_win[1];	/* start of the current budget-check window */
	u32 boost_win_n;	/* boosts in it */
	u32 budget_peak;	/* largest per_period in force so far */

	struct sim_vm_stats st;		/* measured window (set at the end) */
	struct sim_vm_stats st_all;	/* whole run: every counter goes here */
	struct sim_vm_stats st_base;	/* st_all when the warm-up ended */
};

struct sim_pcpu {
	int curr;		/* vCPU id or NONE (idle) */
	int *rq;		/* runnable vCPUs, curr included */
	int nr;
	int buddy;		/* cfs_rq->next */
	u64 zero_vruntime;	/* where an empty runqueue places a waker */
	u64 idle_since;
	bool defer_resched;	/* oracle: preemption postponed */
	bool rr_rotate;		/* SCHED_RR slice used: pick another RT task */
};

struct sim_stats {		/* whole run, measured window */
	u64 work_ns, spin_ns, ovh_ns, poll_ns, idle_ns;
	u64 tune_periods;
};

/* one heap entry */
struct sim_ev {
	u64 t;
	u64 seq;
	u32 kind;
	u32 gen;
	int id;
};

struct sim {
	struct sim_params p;
	const struct sim_policy *pol;	/* &polv */
	struct sim_policy polv;		/* the policy with pvlock's knobs applied */
	enum sim_pol pol_id;
	u64 now;
	u64 seq;

	struct sim_vcpu *v;
	int nv;
	struct sim_pcpu *c;
	struct sim_vm *vm;

	struct sim_ev *heap;
	size_t nheap, capheap;

	struct sim_rng rng;	/* tie breaks */
	struct pvlock_thresh_cfg tcfg;
	struct pvlock_tune_cfg tune_cfg;
	struct pvlock_boost_cfg boost_cfg;
	struct pvlock_cand *cand;
	int *cand_id;

	struct sim_stats st;
	u64 thr_why[8];		/* threshold.h decisions, by enum pvlock_thresh_reason */
	u64 runnable_acc, runnable_last_t;	/* for the overcommit sample */
	int nr_runnable;
	u64 tune_last;

	/* invariant checks: first violation wins */
	char err[256];
	u64 trace_hash;
	u64 events;
};

/* ---- sim.c ---------------------------------------------------------------- */
struct sim *sim_new(const struct sim_params *p, enum sim_pol pol);
void sim_free(struct sim *s);
int sim_run(struct sim *s);		/* 0, or -1 with s->err set */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ev_push(struct sim *s, u64 t, u32 kind, int id, u32 gen);
void vcpu_sync(struct sim *s, struct sim_vcpu *v);
void vcpu_arm(struct sim *s, struct sim_vcpu *v);
bool measuring(const struct sim *s);
void sim_acct_idle(struct sim *s, struct sim_pcpu *c);
static inline struct sim_vcpu *V(struct sim *s, int id) { return &s->v[id]; }
static inline struct sim_vm *VMOF(struct sim *s, const struct sim_vcpu *v) { return &s->vm[v->vm]; }
static inline struct sim_lock *LOCKOF(struct sim *s, const struct sim_vcpu *v)
{
	return &s->vm[v->vm].locks[v->lock];
}
struct sim_vm_stats *vst(struct sim *s, const struct sim_vcpu *v);

enum { EV_VCPU, EV_TICK, EV_TUNE, EV_END, EV_TIMER, EV_WARM };

/* ---- ready bitmaps: the candidate scans only look at runnable vCPUs ---- */
static inline void vcpu_set_hs(struct sim *s, struct sim_vcpu *v, enum hstate hs)
{
	u64 *w = &s->vm[v->vm].ready[v->idx / 64], bit = 1ull << (v->idx % 64);

	v->hs = hs;
	if (hs == H_READY)
		*w |= bit;
	else
		*w &= ~bit;
}

/* first set bit >= from (below n), or -1 */
static inline int bm_next(const u64 *bm, int n, int from)
{
	for (int i = from < 0 ? 0 : from; i < n; ) {
		u64 w = bm[i / 64] >> (i % 64);

		if (w)
			return i + __builtin_ctzll(w) < n ? i + __builtin_ctzll(w) : -1;
		i = (i / 64 + 1) * 64;
	}
	return -1;
}

/* ---- sched.c -------------------------------------------------------------- */
void sched_init(struct sim *s);
void sched_tick(struct sim *s, struct sim_pcpu *c);
void sched_wake(struct sim *s, struct sim_vcpu *v);
void sched_block(struct sim *s, struct sim_vcpu *v);
int sched_yield_to(struct sim *s, struct sim_vcpu *me, struct sim_vcpu *t);
void sched_resched(struct sim *s, struct sim_pcpu *c);
void sched_set_rt(struct sim *s, struct sim_vcpu *v, bool rt);
void sched_lock_section_left(struct sim *s, struct sim_vcpu *v);
bool sched_single_task(const struct sim *s, const struct sim_vcpu *v);
bool vcpu_may_preempt(struct sim *s, struct sim_vcpu *v, bool tick);

/* ---- kvm.c ---------------------------------------------------------------- */
void kvm_init_vm(struct sim *s, struct sim_vm *vm);
void kvm_halt(struct sim *s, struct sim_vcpu *v);
void kvm_poll_end(struct sim *s, struct sim_vcpu *v);
void kvm_hc_kick(struct sim *s, struct sim_vcpu *me, struct sim_vcpu *t);
void kvm_ple_exit(struct sim *s, struct sim_vcpu *me);
void kvm_wait_hc(struct sim *s, struct sim_vcpu *me, int target);
void kvm_sched_in(struct sim *s, struct sim_vcpu *v);
void kvm_sched_out(struct sim *s, struct sim_vcpu *v, enum why_desched why);
void kvm_wake(struct sim *s, struct sim_vcpu *v);
void pvlockd_tune(struct sim *s);
bool guest_in_kernel(const struct sim_vcpu *v);
bool guest_in_ecs(const struct sim_vcpu *v);

/* ---- guest.c -------------------------------------------------------------- */
void guest_init(struct sim *s, struct sim_vcpu *v);
void guest_event(struct sim *s, struct sim_vcpu *v);
void guest_resume(struct sim *s, struct sim_vcpu *v);
void guest_notify_prev_changed(struct sim *s, struct sim_vcpu *prev);
void guest_timer(struct sim *s, struct sim_vcpu *v);
bool guest_spinning(const struct sim_vcpu *v);
u64 guest_next_event(struct sim *s, struct sim_vcpu *v);

/* ---- scenario.c ----------------------------------------------------------- */
struct sim_scenario {
	const char *name;
	const char *group;	/* "seeds", "overcommit", "nested" */
	u32 pcpus, vms, vcpus;
	const char *workload;	/* "gmake" or "torture" */
	bool oc_series;		/* a point of the 2-VM throughput-vs-overcommit plot */
};
extern const struct sim_scenario sim_scenarios[];
extern const unsigned int sim_nr_scenarios;
void sim_scenario_params(const struct sim_scenario *sc, struct sim_params *p);

/* ---- results -------------------------------------------------------------- */
struct sim_result {
	double ops_per_s;	/* all VMs */
	double ops_min_vm;	/* the worst VM */
	double spin_pct, idle_pct, ovh_pct;
	double lhp_per_s, lwp_per_s;
	double wait_mean_us;
	double yields_per_s, halts_per_s, ple_per_s;
	u64 budget_denied;
	u64 events;
};
void sim_result(const struct sim *s, struct sim_result *r);

#endif /* _PVLOCK_SIM_H */
