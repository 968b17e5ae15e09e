// SPDX-License-Identifier: GPL-2.0
/*
 * Talking to the host: the HELLO handshake, one shared record per CPU
 * registered from that CPU, the yield hypercall, and noticing the host go
 * and come back.
 *
 * The handshake is done once at load (and again only after the host went
 * away): the slow path never probes, it reads one word. A host without
 * pvlock_host answers -1000 (KVM_ENOSYS): the module then runs standalone,
 * keeping its records locally, and re-probes every few seconds so that a
 * pvlock_host loaded later is picked up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <asm/kvm_para.h>
#include <asm/pgtable_types.h>

#include <pvlock/record.h>

#include "compat.h"
#include "pvlock_guest.h"

#define PVLOCK_REPROBE_TICKS	5	/* worker ticks (1 s) between HELLOs */

static struct pvlock_record *pvlock_records;	/* nr_cpu_ids records, page-backed */
static size_t pvlock_records_size;
static int pvlock_cpuhp_state = -1;
static bool pvlock_kvm;				/* running on KVM: hypercalls allowed */
static u32 pvlock_reprobe;
static bool pvlock_seen_active;			/* the host marked a record active once */

static long pvlock_hc(unsigned int nr, unsigned long a0, unsigned long a1, unsigned long a2)
{
	/* a3 is reserved and must be 0: kvm_hypercall4 sets every argument */
	return kvm_hypercall4(nr, a0, a1, a2, 0);
}

static bool pvlock_agreed(u32 feature)
{
	return READ_ONCE(pvlock_guest_state.handshake) == PVLOCK_HANDSHAKE_AGREED &&
	       (READ_ONCE(pvlock_guest_state.host_features) & feature);
}

bool pvlock_hv_can_yield(void)
{
	return pvlock_agreed(PVLOCK_F_YIELD) && this_cpu_read(pvlock_cpu.registered);
}

/*
 * PVLOCK_HC_YIELD; with @halt the host halts the vCPU when it finds nobody
 * to yield to. With @irqs_were_on the caller disabled interrupts to
 * check its wait condition; "sti" right before the hypercall re-enables them
 * with the one-instruction interrupt shadow covering the VMMCALL, so a halt
 * on the host side wakes on interrupts exactly like "sti; hlt".
 */
long pvlock_hv_yield(u32 target, bool irqs_were_on, bool halt)
{
	unsigned long flags = halt ? PVLOCK_YIELD_F_HALT : 0;
	long ret;

	if (!irqs_were_on)
		return pvlock_hc(PVLOCK_HC_YIELD, target, flags, 0);
	asm volatile("sti\n\t" KVM_HYPERCALL
		     : "=a"(ret)
		     : "a"(PVLOCK_HC_YIELD), "b"((unsigned long)target), "c"(flags), "d"(0UL),
		       "S"(0UL)
		     : "memory");
	return ret;
}

/*
 * A yield failed: the host module is gone (-1000) or no longer knows this
 * vCPU. Go standalone at once (one cmpxchg, any context); the worker
 * re-handshakes and registers again.
 */
void pvlock_hv_lost(long err)
{
	if (err == -PVLOCK_EINVAL)
		return;		/* our own bug, not the host's state: keep going */
	this_cpu_write(pvlock_cpu.registered, false);
	cmpxchg(&pvlock_guest_state.handshake, PVLOCK_HANDSHAKE_AGREED, PVLOCK_HANDSHAKE_LOST);
}

static struct pvlock_record *pvlock_rec(int cpu)
{
	return (void *)pvlock_records + (size_t)cpu * PVLOCK_RECORD_SIZE;
}

static u64 pvlock_gpa(void *va)
{
	/* records come from the page allocator, per-CPU data from the first
	 * chunk: both direct-mapped, so the guest-physical address is exact */
	return (u64)slow_virt_to_phys(va);
}

/*
 * The eCS word a record offers the host: the preemption count in the modes
 * that publish their lock waits in the record, none in stock mode, whose
 * waiters (spinning with a non-zero count) would look like critical
 * sections. The host reads it once, at registration.
 */
static void pvlock_rec_ecs(struct pvlock_record *r, int cpu, u32 mode)
{
	struct task_struct *idle;
	u64 curr;

	r->curr_gpa = 0;
	r->idle_task = 0;
	if (mode == PVLOCK_MODE_STOCK) {
		r->ecs_gpa = 0;
		r->ecs_kind = PVLOCK_ECS_NONE;
		return;
	}
	r->ecs_gpa = pvlock_gpa(pvlock_preempt_count_ptr(cpu));
	r->ecs_kind = PVLOCK_ECS_X86_PREEMPT_COUNT;
	/* version 2: the running-task pointer, where the host can map it too */
	if (r->version < 2 || !pvlock_ksyms.idle_threads)
		return;
	idle = READ_ONCE(*per_cpu_ptr(pvlock_ksyms.idle_threads, cpu));
	curr = pvlock_gpa(pvlock_current_ptr(cpu));
	if (idle && (curr >> PAGE_SHIFT) == (r->ecs_gpa >> PAGE_SHIFT)) {
		r->curr_gpa = curr;
		r->idle_task = (u64)(unsigned long)idle;
	}
}

static int pvlock_hello(void)
{
	long ret = pvlock_hc(PVLOCK_HC_HELLO, PVLOCK_ABI_VERSION, PVLOCK_F_ALL, nr_cpu_ids);
	u32 old = READ_ONCE(pvlock_guest_state.handshake), now;

	if (ret == -PVLOCK_ENOSYS) {
		now = old == PVLOCK_HANDSHAKE_LOST ? PVLOCK_HANDSHAKE_LOST :
						     PVLOCK_HANDSHAKE_STANDALONE;
	} else if (ret < 0) {
		now = PVLOCK_HANDSHAKE_REFUSED;
		if (old != now)
			pr_warn("host refused the handshake: %ld\n", ret);
	} else {
		WRITE_ONCE(pvlock_guest_state.host_abi, PVLOCK_HELLO_VERSION(ret));
		WRITE_ONCE(pvlock_guest_state.host_features,
			   PVLOCK_HELLO_FEATURES(ret) & PVLOCK_F_ALL);
		now = PVLOCK_HANDSHAKE_AGREED;
		if (old != now)
			pr_info("host speaks pvlock ABI %u, features 0x%x\n",
				PVLOCK_HELLO_VERSION(ret), PVLOCK_HELLO_FEATURES(ret));
	}
	WRITE_ONCE(pvlock_guest_state.handshake, now);
	if (old != now)
		pvlock_guest_notify(PVLOCK_EV_HANDSHAKE);
	return now == PVLOCK_HANDSHAKE_AGREED ? 0 : -ENODEV;
}

/* Runs on @cpu itself: the host binds the record to the calling vCPU. */
static void pvlock_register_this_cpu(void *arg)
{
	int cpu = smp_processor_id();
	struct pvlock_cpu *pc = this_cpu_ptr(&pvlock_cpu);
	long ret;

	if (pc->registered || !pvlock_agreed(PVLOCK_F_RECORD))
		return;
	ret = pvlock_hc(PVLOCK_HC_REGISTER, pvlock_gpa(pc->rec), cpu, 0);
	if (ret == -PVLOCK_EINVAL && pc->rec->version > PVLOCK_RECORD_VERSION_MIN) {
		/* a host that knows only version 1 records (uapi: how the record grows) */
		pc->rec->version = PVLOCK_RECORD_VERSION_MIN;
		pvlock_rec_ecs(pc->rec, cpu, READ_ONCE(pvlock_guest_params.mode));
		ret = pvlock_hc(PVLOCK_HC_REGISTER, pvlock_gpa(pc->rec), cpu, 0);
	}
	if (ret == 0 || ret == -PVLOCK_EEXIST) {
		pc->registered = true;
	} else {
		if (arg)
			*(long *)arg = ret;
		if (ret == -PVLOCK_ENOSYS)
			pvlock_hv_lost(ret);
	}
}

static void pvlock_unregister_this_cpu(void *arg);

/* On each CPU: register again with the eCS word of mode *@arg. */
static void pvlock_reregister_this_cpu(void *arg)
{
	struct pvlock_cpu *pc = this_cpu_ptr(&pvlock_cpu);
	bool was = pc->registered;

	if (was)
		pvlock_unregister_this_cpu(NULL);
	if (pc->registered)
		return;		/* the host refused to let go: keep what it has */
	pvlock_rec_ecs(pc->rec, smp_processor_id(), *(u32 *)arg);
	if (was)
		pvlock_register_this_cpu(NULL);
}

/*
 * The mode changed between stock and another: the records' eCS word goes
 * with it. Process context, pvlock_guest_lock held.
 */
void pvlock_hv_mode_changed(u32 old, u32 now)
{
	int cpu;

	if ((old == PVLOCK_MODE_STOCK) == (now == PVLOCK_MODE_STOCK))
		return;
	cpus_read_lock();
	for_each_possible_cpu(cpu) {
		if (cpu_online(cpu) && pvlock_kvm)
			smp_call_function_single(cpu, pvlock_reregister_this_cpu, &now, 1);
		else
			pvlock_rec_ecs(per_cpu_ptr(&pvlock_cpu, cpu)->rec, cpu, now);
	}
	cpus_read_unlock();
}

static void pvlock_unregister_this_cpu(void *arg)
{
	struct pvlock_cpu *pc = this_cpu_ptr(&pvlock_cpu);
	long ret;

	if (!pc->registered)
		return;
	ret = pvlock_hc(PVLOCK_HC_UNREGISTER, 0, 0, 0);
	/* gone (-1000) or unknown (-ENOENT): the host holds no mapping either */
	if (ret && ret != -PVLOCK_ENOSYS && ret != -PVLOCK_ENOENT) {
		if (arg)
			*(long *)arg = ret;
		return;		/* still registered as far as we know: exit leaks the record */
	}
	pc->registered = false;
}

static int pvlock_cpu_online(unsigned int cpu)
{
	long err = 0;

	if (pvlock_kvm)
		pvlock_register_this_cpu(&err);
	if (err)
		pr_warn_ratelimited("cpu %u: registration refused: %ld\n", cpu, err);
	return 0;
}

static int pvlock_cpu_offline(unsigned int cpu)
{
	long err = 0;

	if (pvlock_kvm)
		pvlock_unregister_this_cpu(&err);
	if (err)
		pr_warn("cpu %u: unregistration failed: %ld\n", cpu, err);
	return 0;
}

static void pvlock_register_all(void)
{
	long err = 0;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, pvlock_register_this_cpu, &err, 1);
	cpus_read_unlock();
	if (err)
		pr_warn_ratelimited("registration refused: %ld\n", err);
}

static u32 pvlock_count_registered(void)
{
	u32 n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(&pvlock_cpu, cpu)->registered);
	return n;
}

/* Pull the host's hints into each CPU's cache; notice a detached host. */
static void pvlock_read_hints(void)
{
	u32 first = 0, hint;
	bool any = false, inactive = false;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct pvlock_cpu *pc = per_cpu_ptr(&pvlock_cpu, cpu);
		struct pvlock_host_view v;

		if (!READ_ONCE(pc->registered)) {
			WRITE_ONCE(pc->oc_pct, 0);
			continue;
		}
		if (!pvlock_guest_read_host(pc->rec, &v))
			continue;
		WRITE_ONCE(pc->oc_pct, v.flags & PVLOCK_HF_ACTIVE ? v.overcommit_pct : 0);
		if (!(v.flags & PVLOCK_HF_ACTIVE)) {
			inactive = true;
			hint = 0;
		} else {
			pvlock_seen_active = true;
			hint = pvlock_agreed(PVLOCK_F_HINTS) ? v.spin_threshold : 0;
		}
		if (hint != READ_ONCE(pc->hint)) {
			WRITE_ONCE(pc->hint, hint);
			per_cpu_ptr(&pvlock_guest_stats, cpu)->c[PVLOCK_GS_HOST_HINTS]++;
		}
		if (!any) {
			first = hint;
			any = true;
		}
	}
	WRITE_ONCE(pvlock_guest_state.host_threshold, first);
	/* the host clears PVLOCK_HF_ACTIVE when it detaches (module unload) */
	if (inactive && pvlock_seen_active) {
		pvlock_seen_active = false;
		pvlock_hv_lost(-PVLOCK_ENOSYS);
	}
}

/*
 * A mode that uses the host was chosen: probe at the next tick instead of
 * within PVLOCK_REPROBE_TICKS, and run that tick now.
 */
void pvlock_hv_probe_soon(void)
{
	if (!pvlock_kvm || READ_ONCE(pvlock_guest_state.handshake) == PVLOCK_HANDSHAKE_AGREED)
		return;
	WRITE_ONCE(pvlock_reprobe, PVLOCK_REPROBE_TICKS);
	pvlock_tick_now();
}

/* Once a second from the module's worker. */
void pvlock_hv_tick(void)
{
	u32 hs = READ_ONCE(pvlock_guest_state.handshake);
	int cpu;

	if (!pvlock_kvm)
		return;
	if (hs == PVLOCK_HANDSHAKE_LOST) {
		/* the host forgot every registration when it went away */
		for_each_possible_cpu(cpu)
			WRITE_ONCE(per_cpu_ptr(&pvlock_cpu, cpu)->registered, false);
	}
	if (hs != PVLOCK_HANDSHAKE_AGREED && ++pvlock_reprobe >= PVLOCK_REPROBE_TICKS) {
		pvlock_reprobe = 0;
		if (!pvlock_hello())
			pvlock_register_all();
	} else if (hs == PVLOCK_HANDSHAKE_AGREED) {
		/* a CPU that failed to register (e.g. a storm limit) retries */
		if (pvlock_count_registered() < num_online_cpus())
			pvlock_register_all();
		pvlock_read_hints();
	}
	WRITE_ONCE(pvlock_guest_state.nr_registered, pvlock_count_registered());
}

int pvlock_hv_init(void)
{
	int cpu, err;

	/* records exist in every case: standalone guests keep them locally */
	pvlock_records_size = PAGE_ALIGN((size_t)nr_cpu_ids * PVLOCK_RECORD_SIZE);
	pvlock_records = alloc_pages_exact(pvlock_records_size, GFP_KERNEL | __GFP_ZERO);
	if (!pvlock_records)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct pvlock_record *r = pvlock_rec(cpu);

		pvlock_record_init(r, cpu, 0, PVLOCK_ECS_NONE);
		pvlock_rec_ecs(r, cpu, pvlock_guest_params.mode);
		per_cpu_ptr(&pvlock_cpu, cpu)->rec = r;
	}

	pvlock_kvm = kvm_para_available();
	if (!pvlock_kvm) {
		WRITE_ONCE(pvlock_guest_state.handshake, PVLOCK_HANDSHAKE_NO_KVM);
		pr_info("not a KVM guest: standalone, no hypercalls\n");
		return 0;
	}
	if (pvlock_hello())
		pr_info("host without pvlock_host: standalone (re-probing every %d s)\n",
			PVLOCK_REPROBE_TICKS);

	/* registers every online CPU now, and CPUs that come online later */
	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "pvlock/guest:online",
				pvlock_cpu_online, pvlock_cpu_offline);
	if (err < 0)
		goto err_free;
	pvlock_cpuhp_state = err;
	WRITE_ONCE(pvlock_guest_state.nr_registered, pvlock_count_registered());
	return 0;

err_free:
	for_each_possible_cpu(cpu)
		per_cpu_ptr(&pvlock_cpu, cpu)->rec = NULL;
	free_pages_exact(pvlock_records, pvlock_records_size);
	pvlock_records = NULL;
	return err;
}

void pvlock_hv_exit(void)
{
	long err = 0;
	int cpu;

	if (pvlock_cpuhp_state >= 0) {
		/* unregisters every online CPU on that CPU */
		cpuhp_remove_state(pvlock_cpuhp_state);
		pvlock_cpuhp_state = -1;
	}
	/* a CPU that went offline between registration and here */
	for_each_possible_cpu(cpu) {
		if (per_cpu_ptr(&pvlock_cpu, cpu)->registered) {
			pr_warn("cpu %d still registered at exit\n", cpu);
			err = -EBUSY;
		}
	}
	for_each_possible_cpu(cpu)
		per_cpu_ptr(&pvlock_cpu, cpu)->rec = NULL;
	if (!pvlock_records)
		return;
	if (err) {
		/* the host may still write into these pages: leaking them is safe */
		pr_warn("leaking %zu bytes of records the host may still use\n",
			pvlock_records_size);
		return;
	}
	free_pages_exact(pvlock_records, pvlock_records_size);
	pvlock_records = NULL;
}
