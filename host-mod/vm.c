// SPDX-License-Identifier: GPL-2.0
/*
 * The VMs and vCPUs pvlock knows, their shared records, and the preempt
 * notifiers that watch registered vCPUs.
 *
 * Lifetimes. A struct pvlock_vm exists from the first pvlock event of a VM
 * (a hypercall, a PLE exit, the scan of KVM's VM list) until KVM destroys
 * the VM (the kvm_arch_pre_destroy_vm watch). Its struct kvm and kvm_vcpus
 * are only ever dereferenced on that VM's own threads, inside a vCPU ioctl,
 * where KVM guarantees they live; everything other VMs' threads, the worker
 * and netlink look at is pvlock's own, freed after an RCU grace period, with
 * task references and pinned pages released only then. A VM is found from
 * its struct kvm in one hash lookup (pvlock_vm_find), a vCPU from its VM by
 * index: no walk over the host's VMs on any guest-driven path.
 *
 * A registered vCPU's preempt notifier is registered on the thread that
 * runs it exactly while KVM's own is (vcpu_load to vcpu_put, watched):
 * notifiers are walked without locks and can only be removed by their own
 * thread, and this way no thread leaves a vCPU ioctl (or exits) with
 * pvlock's notifier still on it.
 *
 * The record. The host writes its half only on the vCPU's own thread, where
 * KVM writes steal time (after a sched-in, the record_steal_time watch), in
 * pvlock's hypercalls, and when the vCPU leaves KVM_RUN during an unload;
 * always inside kvm->srcu with the vCPU running, and marked dirty through
 * KVM (kvm_vcpu_mark_page_dirty), so that dirty logging and dirty rings see
 * every host write as they see the guest's own. struct pvlock_gmap says how
 * the record follows memslot and mapping changes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>

#include <pvlock/boost.h>
#include <pvlock/record.h>
#include <pvlock/vmname.h>

#include "compat.h"
#include "pvlock_host.h"

LIST_HEAD(pvlock_vms);
DEFINE_SPINLOCK(pvlock_vms_lock);
#define PVLOCK_VM_HASH_BITS	8
static DEFINE_HASHTABLE(pvlock_vm_hash, PVLOCK_VM_HASH_BITS);
static atomic_t pvlock_vm_ids = ATOMIC_INIT(0);
static atomic_t pvlock_kicks = ATOMIC_INIT(0);

/* ---- lookups --------------------------------------------------------- */

/* Any context. The result lives on @kvm's own threads, or under RCU. */
struct pvlock_vm *pvlock_vm_find(struct kvm *kvm)
{
	struct pvlock_vm *vm, *found = NULL;

	rcu_read_lock();
	hash_for_each_possible_rcu(pvlock_vm_hash, vm, hnode, (unsigned long)kvm) {
		if (vm->kvm == kvm && !READ_ONCE(vm->dead)) {
			found = vm;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Caller holds rcu_read_lock() or pvlock_host_lock. */
struct pvlock_vm *pvlock_vm_by_id(u32 id)
{
	struct pvlock_vm *vm;

	list_for_each_entry_rcu(vm, &pvlock_vms, node)
		if (vm->id == id && !READ_ONCE(vm->dead))
			return vm;
	return NULL;
}

struct pvlock_vcpu *pvlock_vcpu_of(struct pvlock_vm *vm, struct kvm_vcpu *vcpu)
{
	struct pvlock_vcpu *pv = xa_load(&vm->vcpus, vcpu->vcpu_idx);

	return pv && pv->vcpu == vcpu ? pv : NULL;
}

/* Effective parameters of @vm: its own where set, else the global ones. */
void pvlock_vm_params(const struct pvlock_vm *vm, struct pvlock_host_params *out)
{
	const struct pvlock_host_params *g = &pvlock_host_params, *v = &vm->p;
	u32 set = READ_ONCE(vm->set);

#define PICK(a, f) out->f = (set & (1u << (a))) ? READ_ONCE(v->f) : READ_ONCE(g->f)
	PICK(PVLOCK_P_SPIN_THRESHOLD, threshold);
	PICK(PVLOCK_P_SPIN_MIN, min);
	PICK(PVLOCK_P_SPIN_MAX, max);
	PICK(PVLOCK_P_BUDGET, budget);
	PICK(PVLOCK_P_CROSS_VM, cross_vm);
	PICK(PVLOCK_P_CROSS_BUDGET, cross_budget);
	PICK(PVLOCK_P_PINNED, pinned);
#undef PICK
	out->period_ms = READ_ONCE(g->period_ms);
	out->prio_boost = READ_ONCE(g->prio_boost);
}

/* Did @vm opt into cross-VM boosting (both its guest and the operator)? */
bool pvlock_vm_cross(const struct pvlock_vm *vm)
{
	u32 set = READ_ONCE(vm->set);
	u32 param = (set & (1u << PVLOCK_P_CROSS_VM)) ? READ_ONCE(vm->p.cross_vm) :
							  READ_ONCE(pvlock_host_params.cross_vm);

	return pvlock_cross_opted_in(READ_ONCE(vm->features), param);
}

/* ---- VM identity ------------------------------------------------------- */

/*
 * The VM's name, from the VMM's command line (QEMU's -name grammar,
 * include/pvlock/vmname.h, shared with pvlockd). Else "pid-N".
 */
static void pvlock_vm_name(struct pvlock_vm *vm, struct task_struct *vmm)
{
	struct mm_struct *mm = get_task_mm(vmm);
	char name[PVLOCK_NAME_MAX];
	unsigned long start, end;
	char *buf;
	int len;

	snprintf(name, sizeof(name), "pid-%d", vm->pid);
	if (!mm)
		goto set;
	spin_lock(&mm->arg_lock);
	start = mm->arg_start;
	end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	mmput(mm);
	if (end <= start)
		goto set;
	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		goto set;
	len = access_process_vm(vmm, start, buf, min_t(unsigned long, end - start, PAGE_SIZE - 1), 0);
	if (len > 0)
		pvlock_vmname_parse(buf, len, name, sizeof(name));
	kfree(buf);
set:
	spin_lock(&vm->lock);
	strscpy(vm->name, name, sizeof(vm->name));
	spin_unlock(&vm->lock);
}

static void pvlock_put_tasks(struct task_struct **t, u32 n)
{
	u32 i;

	for (i = 0; t && i < n; i++)
		if (t[i])
			put_task_struct(t[i]);
	kfree(t);
}

/*
 * References to the VM's vCPU threads, for the overcommit count. On its own
 * thread, or under kvm_lock with the VM on vm_list: either way it lives.
 */
static void pvlock_vm_refresh_tasks(struct pvlock_vm *vm, struct kvm *kvm)
{
	u32 nr = atomic_read(&kvm->online_vcpus), old_nr;
	struct task_struct **t, **old;
	struct kvm_vcpu *vcpu;
	unsigned long i;

	if (!nr)
		return;
	t = kcalloc(nr, sizeof(*t), GFP_KERNEL);
	if (!t)
		return;
	kvm_for_each_vcpu(i, vcpu, kvm)
		if (i < nr)
			t[i] = pvlock_vcpu_task(vcpu);
	spin_lock(&vm->lock);
	old = vm->tasks;
	old_nr = vm->nr_tasks;
	vm->tasks = t;
	vm->nr_tasks = nr;
	WRITE_ONCE(vm->nr_vcpus, nr);
	spin_unlock(&vm->lock);
	pvlock_put_tasks(old, old_nr);
}

/*
 * The VMM process of a VM found by the scan, as a struct pid reference, so
 * that naming it later cannot meet another process that reused its number:
 * the process of a vCPU thread when one has run, else the VM's creator.
 */
static struct pid *pvlock_vm_vmm(struct pvlock_vm *vm, struct kvm *kvm)
{
	struct pid *pid = NULL;
	u32 i;

	spin_lock(&vm->lock);
	for (i = 0; vm->tasks && i < vm->nr_tasks && !pid; i++)
		if (vm->tasks[i])
			pid = get_pid(task_tgid(vm->tasks[i]));
	spin_unlock(&vm->lock);
	return pid ?: find_get_pid(kvm->userspace_pid);
}

/*
 * A new struct pvlock_vm for @kvm; NULL without memory; the existing one if
 * another thread was faster. On the VM's own thread (@own) it is named and
 * announced at once; from the scan (under kvm_lock, where reading another
 * process's memory is not wanted) the worker does both a moment later.
 */
static struct pvlock_vm *pvlock_vm_create(struct kvm *kvm, bool own)
{
	struct pvlock_budget_cfg reg;
	struct pvlock_vm *vm, *other;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return NULL;
	vm->kvm = kvm;
	xa_init(&vm->vcpus);
	xa_init(&vm->cpus);
	spin_lock_init(&vm->lock);
	pvlock_vm_refresh_tasks(vm, kvm);
	vm->vmm = own ? get_pid(task_tgid(current)) : pvlock_vm_vmm(vm, kvm);
	vm->pid = vm->vmm ? pid_nr(vm->vmm) : kvm->userspace_pid;
	snprintf(vm->name, sizeof(vm->name), "pid-%d", vm->pid);
	if (own)
		pvlock_vm_name(vm, current);
	vm->name_pending = !own;
	reg.per_period = PVLOCK_REG_PER_SEC(READ_ONCE(vm->nr_vcpus));
	reg.period_ms = 1000;
	pvlock_budget_init(&vm->reg_rate, &reg, pvlock_now());

	spin_lock(&pvlock_vms_lock);
	hash_for_each_possible(pvlock_vm_hash, other, hnode, (unsigned long)kvm) {
		if (other->kvm == kvm && !other->dead) {
			spin_unlock(&pvlock_vms_lock);
			pvlock_put_tasks(vm->tasks, vm->nr_tasks);
			put_pid(vm->vmm);
			kfree(vm);
			return other;
		}
	}
	vm->id = atomic_inc_return(&pvlock_vm_ids);
	list_add_tail_rcu(&vm->node, &pvlock_vms);
	hash_add_rcu(pvlock_vm_hash, &vm->hnode, (unsigned long)kvm);
	spin_unlock(&pvlock_vms_lock);
	if (own) {
		pr_info("VM %u: %s, pid %d, %u vCPUs\n", vm->id, vm->name, vm->pid, vm->nr_vcpus);
		pvlock_host_notify(PVLOCK_EV_VM_NEW, vm, -1);
	}
	return vm;
}

/* The VM of @vcpu, created on its first event. On @vcpu's own thread only. */
struct pvlock_vm *pvlock_vm_get(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);

	return vm ?: pvlock_vm_create(vcpu->kvm, true);
}

/*
 * From the worker, now and then: every VM on the host (so that VMs without
 * pvlock_guest and without PLE exits are listed too), and the threads of
 * their vCPUs. Under kvm_lock a VM on vm_list is alive: kvm_destroy_vm()
 * takes it off the list under that lock before tearing anything down.
 */
void pvlock_vms_scan(void)
{
	struct pvlock_vm *vm;
	struct kvm *kvm;

	mutex_lock(pvlock_kvm.kvm_lock);
	list_for_each_entry(kvm, pvlock_kvm.vm_list, vm_list) {
		vm = pvlock_vm_find(kvm);
		if (vm)
			pvlock_vm_refresh_tasks(vm, kvm);
		else
			pvlock_vm_create(kvm, false);
	}
	mutex_unlock(pvlock_kvm.kvm_lock);
	pvlock_vms_name_pending();
}

/*
 * Name and announce the VMs the scan found, from the VMM process it
 * referenced then (never through struct kvm: the VM may be gone already,
 * and then so is its entry).
 */
void pvlock_vms_name_pending(void)
{
	struct pvlock_vm *vm;
	u32 id;

	for (;;) {
		struct task_struct *vmm = NULL;

		id = 0;
		rcu_read_lock();
		list_for_each_entry_rcu(vm, &pvlock_vms, node) {
			if (READ_ONCE(vm->name_pending) && !READ_ONCE(vm->dead)) {
				id = vm->id;
				WRITE_ONCE(vm->name_pending, false);
				break;
			}
		}
		rcu_read_unlock();
		if (!id)
			return;
		/*
		 * @vm lives: VMs are freed by works of pvlock_wq, an ordered
		 * workqueue, and this runs in one of its works (the tick).
		 */
		if (vm->vmm)
			vmm = get_pid_task(vm->vmm, PIDTYPE_PID);
		if (vmm) {
			pvlock_vm_name(vm, vmm);
			put_task_struct(vmm);
		}
		pr_info("VM %u: %s, pid %d, %u vCPUs (found on the host)\n", vm->id, vm->name,
			vm->pid, vm->nr_vcpus);
		pvlock_host_notify(PVLOCK_EV_VM_NEW, vm, -1);
	}
}

/* ---- the record's memory ------------------------------------------------ */

static void pvlock_gmap_free(struct pvlock_gmap *m)
{
	if (!m)
		return;
	if (m->rec_page)
		unpin_user_pages_dirty_lock(&m->rec_page, 1, true);
	if (m->ecs_page)
		unpin_user_page(m->ecs_page);
	kfree(m);
}

static void pvlock_gmap_free_work(struct work_struct *w)
{
	pvlock_gmap_free(container_of(to_rcu_work(w), struct pvlock_gmap, free_work));
}

/* After a grace period: readers that saw @m valid finish on pinned pages. */
static void pvlock_gmap_retire(struct pvlock_gmap *m)
{
	if (!m)
		return;
	WRITE_ONCE(m->valid, false);
	INIT_RCU_WORK(&m->free_work, pvlock_gmap_free_work);
	queue_rcu_work(pvlock_wq, &m->free_work);
}

/*
 * Pin the guest page holding @gpa (writable) and return its kernel address;
 * the host address it came from in @hva. On the vCPU's thread, kvm->srcu held.
 */
static void *pvlock_pin_gpa(struct kvm_vcpu *vcpu, u64 gpa, struct page **page,
			    unsigned long *hva)
{
	*hva = pvlock_kvm.vcpu_gfn_to_hva(vcpu, gpa >> PAGE_SHIFT);
	if (kvm_is_error_hva(*hva))
		return NULL;
	/* long-term pin: the page must not migrate while the host reads it */
	if (pin_user_pages_fast(*hva & PAGE_MASK, 1, FOLL_WRITE | FOLL_LONGTERM, page) != 1)
		return NULL;
	*hva &= PAGE_MASK;
	return page_address(*page) + offset_in_page(gpa);
}

/*
 * Map the record at @rec_gpa as the memslots are now. On the vCPU's thread,
 * kvm->srcu held (a hypercall). -EFAULT when it is not in guest memory.
 */
static int pvlock_gmap_new(struct kvm_vcpu *vcpu, u64 rec_gpa, struct pvlock_gmap **out)
{
	struct pvlock_gmap *m = kzalloc(sizeof(*m), GFP_KERNEL);

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->rec_gpa = rec_gpa;
	m->slots_gen = kvm_vcpu_memslots(vcpu)->generation;
	m->rec = pvlock_pin_gpa(vcpu, rec_gpa, &m->rec_page, &m->rec_hva);
	if (!m->rec) {
		pvlock_gmap_free(m);
		return -EFAULT;
	}
	m->valid = true;
	*out = m;
	return 0;
}

/*
 * ... and the eCS word at @ecs_gpa with it, and the running-task pointer at
 * @curr_gpa (0: none), which the header check put in the same page.
 */
static int pvlock_gmap_add_ecs(struct kvm_vcpu *vcpu, struct pvlock_gmap *m, u64 ecs_gpa,
			       u64 curr_gpa)
{
	m->ecs_gpa = ecs_gpa;
	m->ecs = pvlock_pin_gpa(vcpu, ecs_gpa, &m->ecs_page, &m->ecs_hva);
	if (!m->ecs)
		return -EFAULT;
	if (curr_gpa) {
		m->curr_gpa = curr_gpa;
		m->curr = (u64 *)((char *)m->ecs - offset_in_page(ecs_gpa) +
				  offset_in_page(curr_gpa));
	}
	return 0;
}

/* Does @gpa still lead to @hva in the current memslots? kvm->srcu held. */
static bool pvlock_gpa_still_at(struct kvm_vcpu *vcpu, u64 gpa, unsigned long hva)
{
	unsigned long now = pvlock_kvm.vcpu_gfn_to_hva(vcpu, gpa >> PAGE_SHIFT);

	return !kvm_is_error_hva(now) && (now & PAGE_MASK) == hva;
}

/*
 * The record's mapping, if it may be used now. Memslots changed since it
 * was made: still good if the record and eCS word sit where they were (any
 * other slot changed), else it is retired from use and the next hypercall
 * maps it again. On the vCPU's own thread inside kvm->srcu; atomic context
 * is fine.
 */
static struct pvlock_gmap *pvlock_gmap_check(struct pvlock_vcpu *pv, struct kvm_vcpu *vcpu)
{
	struct pvlock_gmap *m = rcu_dereference_protected(pv->map, true);
	u64 gen;

	if (!m || !READ_ONCE(m->valid))
		return NULL;
	gen = kvm_vcpu_memslots(vcpu)->generation;
	if (gen == m->slots_gen)
		return m;
	if (!pvlock_gpa_still_at(vcpu, m->rec_gpa, m->rec_hva) ||
	    (m->ecs && !pvlock_gpa_still_at(vcpu, m->ecs_gpa, m->ecs_hva))) {
		WRITE_ONCE(m->valid, false);
		return NULL;
	}
	m->slots_gen = gen;
	return m;
}

/* Guest half of the record, sanitised, and the eCS word. Any context, under RCU. */
static bool pvlock_vcpu_read_guest(struct pvlock_vcpu *pv, bool *waiting, bool *in_ecs)
{
	struct pvlock_gmap *m = rcu_dereference(pv->map);
	struct pvlock_guest_view v;
	bool ok;

	*waiting = *in_ecs = false;
	if (!m || !READ_ONCE(m->valid))
		return false;
	ok = pvlock_host_read_guest(m->rec, READ_ONCE(pv->vm->nr_vcpus), &v);
	/*
	 * A pure waiter is not in a critical section worth a boost, nor is the
	 * idle task (its preemption count is 1 too); a waiter holding
	 * something else is (uapi: the per-vCPU shared record).
	 */
	*waiting = pvlock_guest_pure_waiter(v.flags);
	*in_ecs = m->ecs && pvlock_ecs_active(pv->ecs_kind, READ_ONCE(*m->ecs)) && !*waiting &&
		  !(m->curr && READ_ONCE(*m->curr) == pv->idle_task);
	return ok;
}

/* Host half, then tell KVM the page is dirty. Owning thread, kvm->srcu held. */
static void pvlock_rec_write(struct pvlock_vcpu *pv, struct kvm_vcpu *vcpu,
			     struct pvlock_gmap *m, const struct pvlock_hint *h)
{
	struct pvlock_record *r = m->rec;

	pvlock_host_write_begin(r);
	WRITE_ONCE(r->host_flags, h->flags);
	WRITE_ONCE(r->spin_threshold, h->threshold);
	WRITE_ONCE(r->budget_left, h->budget_left);
	WRITE_ONCE(r->overcommit_pct, h->overcommit);
	WRITE_ONCE(r->host_abi, PVLOCK_ABI_VERSION);
	WRITE_ONCE(r->preempted, atomic64_read(&pv->st.c[PVLOCK_HS_PREEMPTIONS]));
	WRITE_ONCE(r->ecs_preempted, atomic64_read(&pv->st.c[PVLOCK_HS_ECS_PREEMPTIONS]));
	pvlock_host_write_end(r);
	pvlock_kvm.vcpu_mark_page_dirty(vcpu, m->rec_gpa >> PAGE_SHIFT);
	pvlock_count(pv->vm, pv, PVLOCK_HS_HINT_WRITES, 1);
}

/*
 * Write the VM's current hints into @pv's record if they changed since the
 * last write. On the owning thread, inside kvm->srcu, with the vCPU
 * running (a hypercall, the steal-time watch).
 */
void pvlock_vcpu_sync_record(struct pvlock_vcpu *pv, struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pv->vm;
	u32 gen = READ_ONCE(vm->hint_gen);
	struct pvlock_gmap *m;
	struct pvlock_hint h;

	if (pv->hint_gen == gen || READ_ONCE(pv->gone))
		return;
	m = pvlock_gmap_check(pv, vcpu);
	if (!m)
		return;
	spin_lock(&vm->lock);
	h = vm->hint;
	gen = vm->hint_gen;
	spin_unlock(&vm->lock);
	pvlock_rec_write(pv, vcpu, m, &h);
	pv->hint_gen = gen;
}

/*
 * The worker, once per period and after parameter changes: the hints for
 * every record of @vm, written by each vCPU's own thread (above).
 */
void pvlock_vm_update_hints(struct pvlock_vm *vm, u32 overcommit, u64 now)
{
	struct pvlock_budget_cfg bc;
	struct pvlock_host_params p;
	struct pvlock_hint h;

	pvlock_vm_params(vm, &p);
	bc.per_period = p.budget;
	bc.period_ms = p.period_ms;
	spin_lock(&vm->lock);
	h.budget_left = pvlock_budget_left(&vm->boost, &bc, now);
	h.flags = PVLOCK_HF_ACTIVE;
	if (p.pinned & PVLOCK_PIN_THRESHOLD)
		h.flags |= PVLOCK_HF_PINNED;
	if (!h.budget_left)
		h.flags |= PVLOCK_HF_BUDGET_EMPTY;
	h.threshold = p.threshold;
	h.overcommit = overcommit;
	vm->hint = h;
	WRITE_ONCE(vm->hint_gen, vm->hint_gen + 1);
	spin_unlock(&vm->lock);
}

/*
 * A hypercall of a registered vCPU: its record is mapped again if KVM's
 * memory for it changed, or the registration is dropped (-PVLOCK_ENOENT,
 * the guest registers again) when the record left guest memory. Then the
 * hints are brought up to date. kvm->srcu held, sleepable.
 */
long pvlock_vcpu_revalidate(struct pvlock_vm *vm, struct pvlock_vcpu *pv)
{
	struct kvm_vcpu *vcpu = pv->vcpu;
	struct pvlock_gmap *old, *m;
	int err;

	if (pvlock_gmap_check(pv, vcpu))
		goto sync;
	old = rcu_dereference_protected(pv->map, true);
	err = pvlock_gmap_new(vcpu, old->rec_gpa, &m);
	if (!err && old->ecs && pvlock_gmap_add_ecs(vcpu, m, old->ecs_gpa, old->curr_gpa)) {
		pvlock_gmap_free(m);
		err = -EFAULT;
	}
	if (err == -EFAULT) {
		pr_info_ratelimited("VM %u (%s): vCPU %u's record left guest memory (gpa 0x%llx): unregistered\n",
				    vm->id, vm->name, pv->idx, old->rec_gpa);
		pvlock_count(vm, pv, PVLOCK_HS_UNMAPPED, 1);
		pvlock_vcpu_unregister(vm, vcpu);
		return -PVLOCK_ENOENT;
	}
	if (err)
		return 0;	/* no memory: try again at the next hypercall */
	rcu_assign_pointer(pv->map, m);
	pvlock_gmap_retire(old);
	pv->hint_gen = READ_ONCE(vm->hint_gen) - 1;	/* write the new page at once */
	pvlock_count(vm, pv, PVLOCK_HS_REMAPS, 1);
sync:
	pvlock_vcpu_sync_record(pv, vcpu);
	return 0;
}

static bool pvlock_gmap_hits(const struct pvlock_gmap *m, u64 gfn_start, u64 gfn_end,
			     bool by_gfn)
{
	u64 rec = by_gfn ? m->rec_gpa >> PAGE_SHIFT : m->rec_hva;
	u64 ecs = by_gfn ? m->ecs_gpa >> PAGE_SHIFT : m->ecs_hva;

	return (rec >= gfn_start && rec < gfn_end) ||
	       (m->ecs && ecs >= gfn_start && ecs < gfn_end);
}

/* Mark every record of @kvm's VM inside [start, end) unusable. Any context. */
static void pvlock_vm_invalidate(struct kvm *kvm, u64 start, u64 end, bool by_gfn)
{
	struct pvlock_vm *vm;
	struct pvlock_vcpu *pv;
	unsigned long i;

	rcu_read_lock();
	vm = pvlock_vm_find(kvm);
	if (vm && atomic_read(&vm->nr_registered)) {
		xa_for_each(&vm->vcpus, i, pv) {
			struct pvlock_gmap *m = rcu_dereference(pv->map);

			if (m && READ_ONCE(m->valid) && pvlock_gmap_hits(m, start, end, by_gfn))
				WRITE_ONCE(m->valid, false);
		}
	}
	rcu_read_unlock();
}

/* kvm_arch_flush_shadow_memslot watch: @slot is being deleted or moved. */
void pvlock_vm_memslot_gone(struct kvm *kvm, const struct kvm_memory_slot *slot)
{
	pvlock_vm_invalidate(kvm, slot->base_gfn, slot->base_gfn + slot->npages, true);
}

/* MMU-notifier watch: the host mapping of [start, end) changes. */
void pvlock_vm_hva_invalidate(struct kvm *kvm, unsigned long start, unsigned long end)
{
	pvlock_vm_invalidate(kvm, start & PAGE_MASK, end, false);
}

/* ---- the preempt notifier ---------------------------------------------- */

static void pvlock_pn_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct pvlock_vcpu *pv = container_of(pn, struct pvlock_vcpu, pn);

	pvlock_board_retract(pv);
	WRITE_ONCE(pv->sched_ins, pv->sched_ins + 1);
	if (pv->state == PVLOCK_VS_PREEMPTED) {
		u64 now = pvlock_now();
		u64 dt = now > pv->out_ns ? now - pv->out_ns : 0;

		pvlock_count(pv->vm, pv, PVLOCK_HS_PREEMPTED_NS, dt);
		pvlock_hist_add(pv->vm, pv, dt);
	}
	WRITE_ONCE(pv->state, PVLOCK_VS_RUNNING);
}

/* Atomic context, rq lock held: reads pinned memory only. */
static void pvlock_pn_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct pvlock_vcpu *pv = container_of(pn, struct pvlock_vcpu, pn);
	struct kvm_vcpu *vcpu = pv->vcpu;
	bool waiting, in_ecs;

	if (!pvlock_task_runnable(current)) {
		WRITE_ONCE(pv->state, PVLOCK_VS_BLOCKED);
		return;
	}
	rcu_read_lock();
	pvlock_vcpu_read_guest(pv, &waiting, &in_ecs);
	rcu_read_unlock();
	WRITE_ONCE(pv->in_ecs, in_ecs);
	WRITE_ONCE(pv->waiting, waiting);
	/* as kvm_arch_vcpu_put() computes it for KVM's own on_spin loop */
	WRITE_ONCE(pv->in_kernel, vcpu->arch.guest_state_protected ||
				  !pvlock_kvm.ops->get_cpl(vcpu));
	WRITE_ONCE(pv->out_ns, pvlock_now());
	WRITE_ONCE(pv->state, PVLOCK_VS_PREEMPTED);
	pvlock_count(pv->vm, pv, PVLOCK_HS_PREEMPTIONS, 1);
	if (in_ecs)
		pvlock_count(pv->vm, pv, PVLOCK_HS_ECS_PREEMPTIONS, 1);
	if (waiting)
		pvlock_count(pv->vm, pv, PVLOCK_HS_WAITER_PREEMPTIONS, 1);
	pvlock_board_publish(pv);
}

static struct preempt_ops pvlock_pn_ops = {
	.sched_in = pvlock_pn_sched_in,
	.sched_out = pvlock_pn_sched_out,
};

/* On the owning thread, preemption off. */
static void pvlock_pn_on(struct pvlock_vcpu *pv)
{
	if (pv->pn_registered || READ_ONCE(pvlock_host_unloading) || pv->gone)
		return;
	if (pv->task != current) {
		/* the VMM runs the vCPU on another thread now */
		struct task_struct *old;

		spin_lock(&pv->vm->lock);
		old = pv->task;
		pv->task = get_task_struct(current);
		spin_unlock(&pv->vm->lock);
		put_task_struct(old);
	}
	WRITE_ONCE(pv->state, PVLOCK_VS_RUNNING);
	preempt_notifier_register(&pv->pn);
	WRITE_ONCE(pv->pn_registered, true);
}

static void pvlock_pn_off(struct pvlock_vcpu *pv)
{
	if (!pv->pn_registered)
		return;
	preempt_notifier_unregister(&pv->pn);
	WRITE_ONCE(pv->pn_registered, false);
	pvlock_board_retract(pv);
}

/* vcpu_load watch: preemption off, on the thread entering a vCPU ioctl. */
void pvlock_vcpu_load(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);
	struct pvlock_vcpu *pv = vm ? pvlock_vcpu_of(vm, vcpu) : NULL;

	if (pv)
		pvlock_pn_on(pv);
}

/* The host detached: tell the guest in its record. Owning thread, kvm->srcu held. */
static void pvlock_rec_detach(struct pvlock_vcpu *pv, struct kvm_vcpu *vcpu)
{
	static const struct pvlock_hint off;
	struct pvlock_gmap *m = pvlock_gmap_check(pv, vcpu);

	if (m)
		pvlock_rec_write(pv, vcpu, m, &off);
}

/*
 * vcpu_put watch: preemption off, on the thread leaving the vCPU ioctl,
 * still KVM's running vCPU. During an unload (every such thread is driven
 * out of KVM_RUN once) the record is marked inactive here, where KVM
 * itself writes the steal-time "preempted" flag.
 */
void pvlock_vcpu_put(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);
	struct pvlock_vcpu *pv = vm ? pvlock_vcpu_of(vm, vcpu) : NULL;
	int idx;

	if (!pv)
		return;
	if (READ_ONCE(pvlock_host_unloading) && pv->pn_registered && !READ_ONCE(pv->gone)) {
		idx = srcu_read_lock(&vcpu->kvm->srcu);
		pvlock_rec_detach(pv, vcpu);
		srcu_read_unlock(&vcpu->kvm->srcu, idx);
	}
	pvlock_pn_off(pv);
}

/* record_steal_time watch: vCPU thread after a sched-in, kvm->srcu held. */
void pvlock_vcpu_steal_update(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);
	struct pvlock_vcpu *pv;

	if (!vm || !atomic_read(&vm->nr_registered) || READ_ONCE(pvlock_host_unloading))
		return;
	pv = pvlock_vcpu_of(vm, vcpu);
	if (pv)
		pvlock_vcpu_sync_record(pv, vcpu);
}

/* ---- registration ------------------------------------------------------ */

static void pvlock_vcpu_release(struct pvlock_vcpu *pv)
{
	pvlock_gmap_free(rcu_dereference_protected(pv->map, true));
	if (pv->task)
		put_task_struct(pv->task);
	kfree(pv);
}

static void pvlock_vcpu_free_work(struct work_struct *w)
{
	pvlock_vcpu_release(container_of(to_rcu_work(w), struct pvlock_vcpu, free_work));
}

static long pvlock_reg_fail(struct pvlock_vm *vm, enum pvlock_host_stat why, long err,
			    const char *what, u64 val)
{
	pvlock_count(vm, NULL, why, 1);
	pr_warn_ratelimited("VM %u (%s): registration refused: %s 0x%llx\n", vm->id, vm->name,
			    what, val);
	return err;
}

long pvlock_vcpu_register(struct pvlock_vm *vm, struct kvm_vcpu *vcpu, u64 gpa, u64 cpu)
{
	struct pvlock_budget_cfg rate;
	struct pvlock_record hdr;
	struct pvlock_gmap *m;
	struct pvlock_vcpu *pv;
	u32 nr;
	long err;
	bool ok;

	if (!READ_ONCE(vm->abi))
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_STATE, -PVLOCK_EPROTO, "no HELLO", 0);
	nr = atomic_read(&vcpu->kvm->online_vcpus);
	rate.per_period = PVLOCK_REG_PER_SEC(nr);
	rate.period_ms = 1000;
	spin_lock(&vm->lock);
	ok = pvlock_budget_take(&vm->reg_rate, &rate, pvlock_now());
	spin_unlock(&vm->lock);
	if (!ok)
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_RATE, -PVLOCK_EBUSY, "rate", nr);
	if (cpu >= nr)
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_CPU, -PVLOCK_ERANGE, "cpu", cpu);
	cpu = array_index_nospec(cpu, nr);
	if (gpa & (PVLOCK_RECORD_ALIGN - 1))
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_GPA, -PVLOCK_EINVAL, "unaligned gpa", gpa);
	if (xa_load(&vm->vcpus, vcpu->vcpu_idx) || xa_load(&vm->cpus, cpu))
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_DOUBLE, -PVLOCK_EEXIST, "again, cpu", cpu);

	err = pvlock_gmap_new(vcpu, gpa, &m);
	if (err == -ENOMEM)
		return -PVLOCK_EBUSY;
	if (err)
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_GPA, -PVLOCK_EFAULT, "gpa", gpa);
	/* the header is read once, into a private copy, and checked there */
	memcpy(&hdr, m->rec, sizeof(hdr));
	if (pvlock_record_check_header(&hdr, cpu)) {
		pvlock_gmap_free(m);
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_RECORD, -PVLOCK_EINVAL, "record at", gpa);
	}
	if (hdr.ecs_kind != PVLOCK_ECS_NONE &&
	    pvlock_gmap_add_ecs(vcpu, m, hdr.ecs_gpa, pvlock_record_curr_gpa(&hdr))) {
		pvlock_gmap_free(m);
		return pvlock_reg_fail(vm, PVLOCK_HS_BAD_GPA, -PVLOCK_EFAULT, "ecs gpa",
				       hdr.ecs_gpa);
	}

	pv = kzalloc(sizeof(*pv), GFP_KERNEL);
	if (!pv) {
		pvlock_gmap_free(m);
		return -PVLOCK_EBUSY;
	}
	pv->vm = vm;
	pv->vcpu = vcpu;
	pv->idx = vcpu->vcpu_idx;
	pv->cpu = cpu;
	pv->ecs_kind = hdr.ecs_kind;
	pv->idle_task = pvlock_record_curr_gpa(&hdr) ? hdr.idle_task : 0;
	RCU_INIT_POINTER(pv->map, m);
	pv->hint_gen = READ_ONCE(vm->hint_gen) - 1;
	INIT_RCU_WORK(&pv->free_work, pvlock_vcpu_free_work);
	preempt_notifier_init(&pv->pn, &pvlock_pn_ops);
	pv->task = get_task_struct(current);

	err = xa_insert(&vm->cpus, cpu, pv, GFP_KERNEL);
	if (err) {
		err = pvlock_reg_fail(vm, PVLOCK_HS_BAD_DOUBLE, -PVLOCK_EEXIST, "again, cpu", cpu);
		goto err_free;
	}
	err = xa_insert(&vm->vcpus, pv->idx, pv, GFP_KERNEL);
	if (err) {
		xa_erase(&vm->cpus, cpu);
		err = pvlock_reg_fail(vm, PVLOCK_HS_BAD_DOUBLE, -PVLOCK_EEXIST, "again, vcpu",
				      pv->idx);
		goto err_free;
	}
	atomic_inc(&vm->nr_registered);
	if (!READ_ONCE(vm->hint_gen))
		pvlock_vm_update_hints(vm, pvlock_host_overcommit(), pvlock_now());
	pvlock_vcpu_sync_record(pv, vcpu);

	/* we are inside KVM_RUN on the owning thread: start watching now */
	preempt_disable();
	pvlock_pn_on(pv);
	preempt_enable();

	pvlock_count(vm, pv, PVLOCK_HS_REGISTERED, 1);
	pvlock_host_notify(PVLOCK_EV_VCPU_REGISTERED, vm, cpu);
	return 0;

err_free:
	pvlock_vcpu_release(pv);
	return err;
}

long pvlock_vcpu_unregister(struct pvlock_vm *vm, struct kvm_vcpu *vcpu)
{
	struct pvlock_vcpu *pv = pvlock_vcpu_of(vm, vcpu);

	if (!pv) {
		pvlock_count(vm, NULL, PVLOCK_HS_BAD_STATE, 1);
		return -PVLOCK_ENOENT;
	}
	preempt_disable();
	pvlock_pn_off(pv);
	preempt_enable();
	pvlock_rec_detach(pv, vcpu);
	WRITE_ONCE(pv->gone, true);
	pvlock_board_retract_all(pv);
	spin_lock(&vm->lock);
	pvlock_prio_restore(pv, pvlock_now(), true);
	spin_unlock(&vm->lock);
	xa_erase(&vm->vcpus, pv->idx);
	xa_erase(&vm->cpus, pv->cpu);
	atomic_dec(&vm->nr_registered);
	pvlock_count(vm, NULL, PVLOCK_HS_UNREGISTERED, 1);
	pvlock_host_notify(PVLOCK_EV_VCPU_UNREGISTERED, vm, pv->cpu);
	/* other VMs' yields may be looking at it */
	queue_rcu_work(pvlock_wq, &pv->free_work);
	return 0;
}

/* ---- VM teardown ------------------------------------------------------- */

static void pvlock_vm_release(struct pvlock_vm *vm)
{
	struct pvlock_vcpu *pv;
	unsigned long i;

	xa_for_each(&vm->vcpus, i, pv) {
		if (WARN_ON_ONCE(READ_ONCE(pv->pn_registered))) {
			/* cannot happen (no vCPU ioctl runs); leak rather than free it */
			continue;
		}
		spin_lock(&vm->lock);
		pvlock_prio_restore(pv, pvlock_now(), true);
		spin_unlock(&vm->lock);
		pvlock_vcpu_release(pv);
	}
	xa_destroy(&vm->vcpus);
	xa_destroy(&vm->cpus);
	pvlock_put_tasks(vm->tasks, vm->nr_tasks);
	put_pid(vm->vmm);
	kfree(vm);
}

static void pvlock_vm_free_work(struct work_struct *w)
{
	struct pvlock_vm *vm = container_of(to_rcu_work(w), struct pvlock_vm, free_work);

	pr_info("VM %u (%s) exited\n", vm->id, vm->name);
	pvlock_host_notify(PVLOCK_EV_VM_GONE, vm, -1);
	pvlock_vm_release(vm);
}

/* Unlink @vm (pvlock_vms_lock held): no lookup finds it any more. */
static void pvlock_vm_unlink(struct pvlock_vm *vm)
{
	struct pvlock_vcpu *pv;
	unsigned long i;

	WRITE_ONCE(vm->dead, true);
	list_del_rcu(&vm->node);
	hash_del_rcu(&vm->hnode);
	xa_for_each(&vm->vcpus, i, pv) {
		WRITE_ONCE(pv->gone, true);
		pvlock_board_retract_all(pv);
	}
}

/*
 * kvm_arch_pre_destroy_vm watch: no vCPU ioctl runs any more, so no
 * notifier of ours is registered. Unlink now (atomic context), free after
 * a grace period.
 */
void pvlock_vm_destroyed(struct kvm *kvm)
{
	struct pvlock_vm *vm, *found = NULL;

	spin_lock(&pvlock_vms_lock);
	hash_for_each_possible(pvlock_vm_hash, vm, hnode, (unsigned long)kvm) {
		if (vm->kvm == kvm && !vm->dead) {
			found = vm;
			pvlock_vm_unlink(vm);
			break;
		}
	}
	spin_unlock(&pvlock_vms_lock);
	if (found) {
		INIT_RCU_WORK(&found->free_work, pvlock_vm_free_work);
		queue_rcu_work(pvlock_wq, &found->free_work);
	}
}

/* ---- module unload ------------------------------------------------------ */

/*
 * The unload kick: a task work of its own, never inside a record that the
 * VM's teardown may free before the work runs. It owns itself and frees
 * itself; the unload waits until every queued kick has run.
 */
struct pvlock_kick {
	struct callback_head cb;
};

static void pvlock_kick_fn(struct callback_head *cb)
{
	/* nothing else to do: leaving KVM_RUN ran vcpu_put, which unhooked us */
	kfree(container_of(cb, struct pvlock_kick, cb));
	atomic_dec(&pvlock_kicks);
}

static void pvlock_kick(struct task_struct *t)
{
	struct pvlock_kick *k = kzalloc(sizeof(*k), GFP_ATOMIC);

	if (!k)
		return;		/* counted as still hooked: tried again */
	init_task_work(&k->cb, pvlock_kick_fn);
	atomic_inc(&pvlock_kicks);
	if (task_work_add(t, &k->cb, TWA_SIGNAL)) {
		/* exiting: vcpu_put comes anyway */
		atomic_dec(&pvlock_kicks);
		kfree(k);
	}
}

static unsigned int pvlock_count_hooked(bool kick)
{
	struct task_struct *t;
	struct pvlock_vcpu *pv;
	struct pvlock_vm *vm;
	unsigned int n = 0;
	unsigned long i;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
		xa_for_each(&vm->vcpus, i, pv) {
			if (!READ_ONCE(pv->pn_registered))
				continue;
			n++;
			if (!kick)
				continue;
			spin_lock(&vm->lock);
			t = get_task_struct(pv->task);
			spin_unlock(&vm->lock);
			pvlock_kick(t);
			put_task_struct(t);
		}
	}
	rcu_read_unlock();
	return n;
}

/*
 * Drive every thread that runs a registered vCPU out of its vCPU ioctl
 * (a signal-like task work: KVM_RUN returns -EINTR and the VMM re-enters
 * it), which unhooks pvlock's notifier on that thread. Waits until none is
 * left and every kick has run (their function is this module's).
 */
void pvlock_vms_kick_and_wait(void)
{
	unsigned int ms = 0, n;

	pvlock_count_hooked(true);
	while ((n = pvlock_count_hooked(false)) || atomic_read(&pvlock_kicks)) {
		msleep(1);
		if (++ms % 2000 == 0) {
			pr_warn("unload: %u vCPU threads still to leave KVM_RUN, %d kicks pending\n",
				n, atomic_read(&pvlock_kicks));
			pvlock_count_hooked(true);
		}
	}
}

/*
 * Module exit, after every hook, the worker and netlink are gone and every
 * queued free has run: nothing else looks at the VMs any more.
 */
void pvlock_vms_free_all(void)
{
	struct pvlock_vm *vm, *tmp;

	list_for_each_entry_safe(vm, tmp, &pvlock_vms, node) {
		list_del(&vm->node);
		hash_del(&vm->hnode);
		vm->dead = true;
		pvlock_vm_release(vm);
	}
}
