// SPDX-License-Identifier: GPL-2.0
/*
 * The VMs and vCPUs pvlock knows, their shared records, and the preempt
 * notifiers that watch registered vCPUs.
 *
 * Lifetimes. A struct pvlock_vm exists from the first pvlock event of a VM
 * (a hypercall, a PLE exit) until KVM destroys the VM (the
 * kvm_arch_pre_destroy_vm watch). Its struct kvm and kvm_vcpus are only
 * ever dereferenced on that VM's own threads, inside a vCPU ioctl, where
 * KVM guarantees they live; everything other VMs' threads, the worker and
 * netlink look at is pvlock's own, freed after an RCU grace period, with
 * task references and pinned pages released only then.
 *
 * A registered vCPU's preempt notifier is registered on the thread that
 * runs it exactly while KVM's own is (vcpu_load to vcpu_put, watched):
 * notifiers are walked without locks and can only be removed by their own
 * thread, and this way no thread leaves a vCPU ioctl (or exits) with
 * pvlock's notifier still on it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <pvlock/record.h>
#include <pvlock/vmname.h>

#include "compat.h"
#include "pvlock_host.h"

LIST_HEAD(pvlock_vms);
DEFINE_SPINLOCK(pvlock_vms_lock);
static atomic_t pvlock_vm_ids = ATOMIC_INIT(0);
static atomic_t pvlock_kicks = ATOMIC_INIT(0);

/* ---- lookups --------------------------------------------------------- */

struct pvlock_vm *pvlock_vm_find(struct kvm *kvm)
{
	struct pvlock_vm *vm, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(vm, &pvlock_vms, node) {
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
	vm->pid = own ? task_tgid_nr(current) : kvm->userspace_pid;
	xa_init(&vm->vcpus);
	xa_init(&vm->cpus);
	spin_lock_init(&vm->lock);
	snprintf(vm->name, sizeof(vm->name), "pid-%d", vm->pid);
	if (own)
		pvlock_vm_name(vm, current);
	vm->name_pending = !own;
	pvlock_vm_refresh_tasks(vm, kvm);
	reg.per_period = PVLOCK_REG_PER_SEC(READ_ONCE(vm->nr_vcpus));
	reg.period_ms = 1000;
	pvlock_budget_init(&vm->reg_rate, &reg, pvlock_now());

	spin_lock(&pvlock_vms_lock);
	list_for_each_entry(other, &pvlock_vms, node) {
		if (other->kvm == kvm && !other->dead) {
			spin_unlock(&pvlock_vms_lock);
			pvlock_put_tasks(vm->tasks, vm->nr_tasks);
			kfree(vm);
			return other;
		}
	}
	vm->id = atomic_inc_return(&pvlock_vm_ids);
	list_add_tail_rcu(&vm->node, &pvlock_vms);
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
 * Name and announce the VMs the scan found. The VMM is found by pid, never
 * through struct kvm: the VM may be gone already, and then so is its entry.
 */
void pvlock_vms_name_pending(void)
{
	struct pvlock_vm *vm;
	u32 id;

	for (;;) {
		struct task_struct *vmm = NULL;
		pid_t pid = 0;

		id = 0;
		rcu_read_lock();
		list_for_each_entry_rcu(vm, &pvlock_vms, node) {
			if (READ_ONCE(vm->name_pending) && !READ_ONCE(vm->dead)) {
				id = vm->id;
				pid = vm->pid;
				WRITE_ONCE(vm->name_pending, false);
				break;
			}
		}
		rcu_read_unlock();
		if (!id)
			return;
		if (pid) {
			struct pid *p = find_get_pid(pid);

			vmm = get_pid_task(p, PIDTYPE_PID);
			put_pid(p);
		}
		/*
		 * @vm lives: VMs are freed by works of pvlock_wq, an ordered
		 * workqueue, and this runs in one of its works (the tick).
		 */
		if (vmm) {
			pvlock_vm_name(vm, vmm);
			put_task_struct(vmm);
		}
		pr_info("VM %u: %s, pid %d, %u vCPUs (found on the host)\n", vm->id, vm->name,
			vm->pid, vm->nr_vcpus);
		pvlock_host_notify(PVLOCK_EV_VM_NEW, vm, -1);
	}
}

/* ---- the record -------------------------------------------------------- */

/* Pin the guest page holding @gpa (writable) and return its kernel address. */
static void *pvlock_pin_gpa(struct kvm_vcpu *vcpu, u64 gpa, struct page **page)
{
	unsigned long hva = pvlock_kvm.vcpu_gfn_to_hva(vcpu, gpa >> PAGE_SHIFT);

	if (kvm_is_error_hva(hva))
		return NULL;
	/* long-term pin: the page must not migrate while the host reads it */
	if (pin_user_pages_fast(hva & PAGE_MASK, 1, FOLL_WRITE | FOLL_LONGTERM, page) != 1)
		return NULL;
	return page_address(*page) + offset_in_page(gpa);
}

/* Guest half of the record, sanitised, and the eCS word. Any context. */
bool pvlock_vcpu_read_guest(struct pvlock_vcpu *pv, bool *waiting, bool *in_ecs)
{
	struct pvlock_guest_view v;
	bool ok = pvlock_host_read_guest(pv->rec, READ_ONCE(pv->vm->nr_vcpus), &v);

	*waiting = v.flags & PVLOCK_GF_WAITING;
	*in_ecs = pv->ecs && pvlock_ecs_active(pv->ecs_kind, READ_ONCE(*pv->ecs));
	return ok;
}

/* Host half; caller holds vm->lock, the only writer's lock. */
static void pvlock_rec_write(struct pvlock_vcpu *pv, u32 flags, u32 threshold,
			     u32 budget_left, u32 overcommit)
{
	struct pvlock_record *r = pv->rec;

	pvlock_host_write_begin(r);
	WRITE_ONCE(r->host_flags, flags);
	WRITE_ONCE(r->spin_threshold, threshold);
	WRITE_ONCE(r->budget_left, budget_left);
	WRITE_ONCE(r->overcommit_pct, overcommit);
	WRITE_ONCE(r->host_abi, PVLOCK_ABI_VERSION);
	WRITE_ONCE(r->preempted, atomic64_read(&pv->st.c[PVLOCK_HS_PREEMPTIONS]));
	WRITE_ONCE(r->ecs_preempted, atomic64_read(&pv->st.c[PVLOCK_HS_ECS_PREEMPTIONS]));
	pvlock_host_write_end(r);
}

/* Hints into every record of @vm: once per period from the worker, and on changes. */
void pvlock_vm_write_hints(struct pvlock_vm *vm, u32 overcommit, u64 now)
{
	struct pvlock_budget_cfg bc;
	struct pvlock_host_params p;
	struct pvlock_vcpu *pv;
	unsigned long i;
	u32 flags, left;

	pvlock_vm_params(vm, &p);
	bc.per_period = p.budget;
	bc.period_ms = p.period_ms;
	spin_lock(&vm->lock);
	left = pvlock_budget_left(&vm->boost, &bc, now);
	flags = PVLOCK_HF_ACTIVE;
	if (p.pinned & PVLOCK_PIN_THRESHOLD)
		flags |= PVLOCK_HF_PINNED;
	if (!left)
		flags |= PVLOCK_HF_BUDGET_EMPTY;
	xa_for_each(&vm->vcpus, i, pv) {
		if (pv->gone)
			continue;
		pvlock_rec_write(pv, flags, p.threshold, left, overcommit);
		pvlock_count(vm, pv, PVLOCK_HS_HINT_WRITES, 1);
	}
	vm->last_hint = p.threshold;
	spin_unlock(&vm->lock);
}

/* ---- the preempt notifier ---------------------------------------------- */

static void pvlock_pn_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct pvlock_vcpu *pv = container_of(pn, struct pvlock_vcpu, pn);

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
	bool waiting, in_ecs;

	if (!pvlock_task_runnable(current)) {
		WRITE_ONCE(pv->state, PVLOCK_VS_BLOCKED);
		return;
	}
	pvlock_vcpu_read_guest(pv, &waiting, &in_ecs);
	WRITE_ONCE(pv->in_ecs, in_ecs);
	WRITE_ONCE(pv->waiting, waiting);
	WRITE_ONCE(pv->out_ns, pvlock_now());
	WRITE_ONCE(pv->state, PVLOCK_VS_PREEMPTED);
	pvlock_count(pv->vm, pv, PVLOCK_HS_PREEMPTIONS, 1);
	if (in_ecs)
		pvlock_count(pv->vm, pv, PVLOCK_HS_ECS_PREEMPTIONS, 1);
	if (waiting)
		pvlock_count(pv->vm, pv, PVLOCK_HS_WAITER_PREEMPTIONS, 1);
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
}

/* vcpu_load watch: preemption off, on the thread entering a vCPU ioctl. */
void pvlock_vcpu_load(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);
	struct pvlock_vcpu *pv = vm ? pvlock_vcpu_of(vm, vcpu) : NULL;

	if (pv)
		pvlock_pn_on(pv);
}

/* vcpu_put watch: preemption off, on the thread leaving the vCPU ioctl. */
void pvlock_vcpu_put(struct kvm_vcpu *vcpu)
{
	struct pvlock_vm *vm = pvlock_vm_find(vcpu->kvm);
	struct pvlock_vcpu *pv = vm ? pvlock_vcpu_of(vm, vcpu) : NULL;

	if (pv)
		pvlock_pn_off(pv);
}

/* ---- registration ------------------------------------------------------ */

static void pvlock_vcpu_release(struct pvlock_vcpu *pv)
{
	if (pv->rec_page)
		unpin_user_pages_dirty_lock(&pv->rec_page, 1, true);
	if (pv->ecs_page)
		unpin_user_page(pv->ecs_page);
	pvlock_prio_restore(pv, 0, true);
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

	pv = kzalloc(sizeof(*pv), GFP_KERNEL);
	if (!pv)
		return -PVLOCK_EBUSY;
	pv->vm = vm;
	pv->vcpu = vcpu;
	pv->idx = vcpu->vcpu_idx;
	pv->cpu = cpu;
	INIT_RCU_WORK(&pv->free_work, pvlock_vcpu_free_work);
	preempt_notifier_init(&pv->pn, &pvlock_pn_ops);

	pv->rec = pvlock_pin_gpa(vcpu, gpa, &pv->rec_page);
	if (!pv->rec) {
		err = pvlock_reg_fail(vm, PVLOCK_HS_BAD_GPA, -PVLOCK_EFAULT, "gpa", gpa);
		goto err_free;
	}
	/* the header is read once, into a private copy, and checked there */
	memcpy(&hdr, pv->rec, sizeof(hdr));
	if (pvlock_record_check_header(&hdr, cpu)) {
		err = pvlock_reg_fail(vm, PVLOCK_HS_BAD_RECORD, -PVLOCK_EINVAL, "record at", gpa);
		goto err_free;
	}
	if (hdr.ecs_kind != PVLOCK_ECS_NONE) {
		pv->ecs = pvlock_pin_gpa(vcpu, hdr.ecs_gpa, &pv->ecs_page);
		if (!pv->ecs) {
			err = pvlock_reg_fail(vm, PVLOCK_HS_BAD_GPA, -PVLOCK_EFAULT, "ecs gpa",
					      hdr.ecs_gpa);
			goto err_free;
		}
		pv->ecs_kind = hdr.ecs_kind;
	}
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
	pvlock_vm_write_hints(vm, pvlock_host_overcommit(), pvlock_now());

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

/* Stop writing the record and tell the guest; caller holds vm->lock. */
static void pvlock_vcpu_detach(struct pvlock_vcpu *pv)
{
	struct pvlock_record *r = pv->rec;

	pv->gone = true;
	pvlock_host_write_begin(r);
	WRITE_ONCE(r->host_flags, 0);
	WRITE_ONCE(r->spin_threshold, 0);
	pvlock_host_write_end(r);
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
	spin_lock(&vm->lock);
	pvlock_vcpu_detach(pv);
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
		pvlock_vcpu_release(pv);
	}
	xa_destroy(&vm->vcpus);
	xa_destroy(&vm->cpus);
	pvlock_put_tasks(vm->tasks, vm->nr_tasks);
	kfree(vm);
}

static void pvlock_vm_free_work(struct work_struct *w)
{
	struct pvlock_vm *vm = container_of(to_rcu_work(w), struct pvlock_vm, free_work);

	pr_info("VM %u (%s) exited\n", vm->id, vm->name);
	pvlock_host_notify(PVLOCK_EV_VM_GONE, vm, -1);
	pvlock_vm_release(vm);
}

/*
 * kvm_arch_pre_destroy_vm watch: no vCPU ioctl runs any more, so no
 * notifier of ours is registered. Unlink now (atomic context), free after
 * a grace period.
 */
void pvlock_vm_destroyed(struct kvm *kvm)
{
	struct pvlock_vm *vm;
	bool queue = false;

	spin_lock(&pvlock_vms_lock);
	list_for_each_entry(vm, &pvlock_vms, node) {
		if (vm->kvm == kvm && !vm->dead) {
			WRITE_ONCE(vm->dead, true);
			list_del_rcu(&vm->node);
			queue = true;
			break;
		}
	}
	spin_unlock(&pvlock_vms_lock);
	if (queue) {
		INIT_RCU_WORK(&vm->free_work, pvlock_vm_free_work);
		queue_rcu_work(pvlock_wq, &vm->free_work);
	}
}

/* ---- module unload ------------------------------------------------------ */

static void pvlock_kick_fn(struct callback_head *cb)
{
	/* nothing to do here: leaving KVM_RUN ran vcpu_put, which unhooked us */
	atomic_dec(&pvlock_kicks);
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
			if (!kick || pv->kick_pending)
				continue;
			spin_lock(&vm->lock);
			t = get_task_struct(pv->task);
			spin_unlock(&vm->lock);
			init_task_work(&pv->kick, pvlock_kick_fn);
			atomic_inc(&pvlock_kicks);
			if (task_work_add(t, &pv->kick, TWA_SIGNAL))
				atomic_dec(&pvlock_kicks);	/* exiting: vcpu_put comes anyway */
			else
				pv->kick_pending = true;
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
 * left and every task work has run (they live in memory freed after).
 */
void pvlock_vms_kick_and_wait(void)
{
	unsigned int ms = 0, n;

	pvlock_count_hooked(true);
	while ((n = pvlock_count_hooked(false)) || atomic_read(&pvlock_kicks)) {
		msleep(1);
		if (++ms % 2000 == 0) {
			pr_warn("unload: %u vCPU threads still to leave KVM_RUN\n", n);
			pvlock_count_hooked(true);
		}
	}
}

/* Module exit, after every hook is gone: detach from every guest, free all. */
void pvlock_vms_free_all(void)
{
	struct pvlock_vcpu *pv;
	struct pvlock_vm *vm, *tmp;
	unsigned long i;

	spin_lock(&pvlock_vms_lock);
	list_for_each_entry(vm, &pvlock_vms, node)
		vm->dead = true;
	spin_unlock(&pvlock_vms_lock);
	list_for_each_entry_safe(vm, tmp, &pvlock_vms, node) {
		list_del(&vm->node);
		spin_lock(&vm->lock);
		xa_for_each(&vm->vcpus, i, pv)
			pvlock_vcpu_detach(pv);
		spin_unlock(&vm->lock);
		pvlock_vm_release(vm);
	}
}
