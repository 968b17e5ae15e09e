// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock-mvm: tiny KVM guests for the host module's tests, run in an L1
 * that has /dev/kvm and pvlock_host. No guest kernel: each vCPU runs a few
 * dozen instructions of 32-bit protected-mode code (flat segments, no
 * paging, CPL 0, interrupts off) that execute commands the tool writes into
 * a per-vCPU mailbox in guest memory: issue a hypercall (once or N times),
 * run N PAUSEs, spin until told to stop (optionally with its eCS word set:
 * a vCPU that claims a critical section forever), halt. Each command ends
 * with an OUT to port 0x10, which returns to the tool. Booting takes
 * microseconds, so tests can make, register and kill many VMs quickly.
 *
 *   pvlock-mvm [-name NAME] [-v VCPUS] COMMAND [ARGS]
 *     idle               HELLO, REGISTER every vCPU, then halt until killed
 *     spin SECS          no pvlock at all: every vCPU runs PAUSE loops (PLE exits)
 *     ple SECS           registered, then the same PAUSE loops
 *     bench PHASES YIELDS PAUSES
 *                        the hook-cost benchmark: this VM and 7 others (child
 *                        processes, halted); in alternate phases the others
 *                        are registered or not; each phase this VM issues
 *                        YIELDS yields and PAUSES pauses, and pvlock_host's
 *                        own counters (hc_ns, on_spin_ns; read with
 *                        pvlock-query and jq) give its cost per yield and per
 *                        PLE exit; prints one line per phase and a summary
 *     race               registered; vCPUs alternate yields and PAUSE loops
 *                        until killed (the unload race)
 *     prio SECS          2 vCPUs on one CPU: vCPU 1 spins claiming a critical
 *                        section, vCPU 0 yields naming it; prints "tids A B"
 *     memslot            the record follows KVM's memory: dirty logging,
 *                        a replaced, discarded, moved and removed memslot
 *                        (PVLOCK-RESULT lines)
 *
 * The "-name NAME" is for pvlock_host, which names VMs from their VMM's
 * command line as it does QEMU's. SIGTERM ends the tool at once, whatever
 * its vCPUs do (a halted one never comes back by itself).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pvlock.h>

#define MEM_SIZE	0x100000ul	/* slot 0: code, mailboxes, records, stacks */
#define CODE_GPA	0x1000ul
#define MBOX_GPA	0x8000ul	/* one 64-byte mailbox per vCPU */
#define REC_GPA		0x10000ul	/* one record per vCPU */
#define ECS_GPA		0x18000ul	/* one eCS word per vCPU */
#define STACK_TOP	0x80000ul
#define MAX_VCPUS	8
#define EXIT_PORT	0x10

/* mailbox, as the guest code below reads it (offsets in the asm) */
struct mbox {
	uint32_t cmd, nr, a0, a1, a2, a3, count, ret;
	uint32_t stop, ecs_addr, iter, pad[5];
};

enum { CMD_HC = 1, CMD_HC_LOOP, CMD_PAUSE_LOOP, CMD_PAUSE_UNTIL_STOP, CMD_HALT,
       CMD_BUSY_ECS, CMD_HC_UNTIL_STOP };

/*
 * The guest's code, assembled here as 32-bit code and copied to CODE_GPA:
 * position independent, mailbox address in EBP.
 */
extern const uint8_t mvm_code[], mvm_code_end[];
__asm__(".pushsection .rodata\n"
	".code32\n"
	".globl mvm_code, mvm_code_end\n"
	"mvm_code:\n"
	"1:	movl 0(%ebp), %eax\n"
	"	cmpl $1, %eax; je 10f\n"
	"	cmpl $2, %eax; je 20f\n"
	"	cmpl $3, %eax; je 30f\n"
	"	cmpl $4, %eax; je 40f\n"
	"	cmpl $5, %eax; je 50f\n"
	"	cmpl $6, %eax; je 60f\n"
	"	cmpl $7, %eax; je 70f\n"
	"	jmp 90f\n"
	/* CMD_HC */
	"10:	movl 4(%ebp), %eax; movl 8(%ebp), %ebx; movl 12(%ebp), %ecx\n"
	"	movl 16(%ebp), %edx; movl 20(%ebp), %esi\n"
	"	vmmcall\n"
	"	movl %eax, 28(%ebp)\n"
	"	jmp 90f\n"
	/* CMD_HC_LOOP: count times */
	"20:	movl 24(%ebp), %edi\n"
	"21:	movl 4(%ebp), %eax; movl 8(%ebp), %ebx; movl 12(%ebp), %ecx\n"
	"	movl 16(%ebp), %edx; movl 20(%ebp), %esi\n"
	"	vmmcall\n"
	"	movl %eax, 28(%ebp)\n"
	"	decl %edi; jnz 21b\n"
	"	jmp 90f\n"
	/* CMD_PAUSE_LOOP: count times */
	"30:	movl 24(%ebp), %edi\n"
	"31:	pause\n"
	"	decl %edi; jnz 31b\n"
	"	jmp 90f\n"
	/* CMD_PAUSE_UNTIL_STOP */
	"40:	pause\n"
	"	incl 40(%ebp)\n"
	"	cmpl $0, 32(%ebp); je 40b\n"
	"	jmp 90f\n"
	/* CMD_HALT: for good (interrupts are off) */
	"50:	hlt\n"
	"	jmp 50b\n"
	/* CMD_BUSY_ECS: eCS word set, busy (no PAUSE: not a waiter), until stop */
	"60:	movl 36(%ebp), %ebx\n"
	"	movl $1, (%ebx)\n"
	"61:	incl 40(%ebp)\n"
	"	cmpl $0, 32(%ebp); je 61b\n"
	"	movl $0, (%ebx)\n"
	"	jmp 90f\n"
	/* CMD_HC_UNTIL_STOP */
	"70:	movl 4(%ebp), %eax; movl 8(%ebp), %ebx; movl 12(%ebp), %ecx\n"
	"	movl 16(%ebp), %edx; movl 20(%ebp), %esi\n"
	"	vmmcall\n"
	"	movl %eax, 28(%ebp)\n"
	"	incl 40(%ebp)\n"
	"	cmpl $0, 32(%ebp); je 70b\n"
	"	jmp 90f\n"
	"90:	outb %al, $0x10\n"
	"	jmp 1b\n"
	"mvm_code_end:\n"
	".code64\n"
	".popsection\n");

struct vm {
	int kvm, fd, nvcpus, run_size;
	uint8_t *mem;
	struct vcpu {
		int fd;
		struct kvm_run *run;
		pthread_t thread;
		pid_t tid;
		int index;
	} v[MAX_VCPUS];
};

static struct vm vm;
static volatile sig_atomic_t stop_all;
static int fails;

#define die(...) do { fprintf(stderr, "pvlock-mvm: " __VA_ARGS__); fputc('\n', stderr); \
			  exit(2); } while (0)

static void result(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("PVLOCK-RESULT %s mvm-%s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	fails += !ok;
}

static struct mbox *mbox(int i)
{
	return (struct mbox *)(vm.mem + MBOX_GPA + i * 64);
}

static void set_slot(uint32_t slot, uint64_t gpa, uint64_t size, void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %m", slot,
		    (unsigned long long)gpa, (unsigned long long)size);
}

static void vcpu_setup(int i)
{
	struct kvm_sregs s;
	struct kvm_regs r = { 0 };
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11, .present = 1,
		.dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	}, data = code;
	struct vcpu *v = &vm.v[i];

	v->index = i;
	v->fd = ioctl(vm.fd, KVM_CREATE_VCPU, i);
	if (v->fd < 0)
		die("KVM_CREATE_VCPU %d: %m", i);
	/* with KVM's local APIC every vCPU but the first would wait for a SIPI */
	if (ioctl(v->fd, KVM_SET_MP_STATE, &(struct kvm_mp_state){ KVM_MP_STATE_RUNNABLE }))
		die("KVM_SET_MP_STATE: %m");
	v->run = mmap(NULL, vm.run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run: %m");
	if (ioctl(v->fd, KVM_GET_SREGS, &s))
		die("KVM_GET_SREGS: %m");
	data.type = 3;
	data.selector = 16;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x11;	/* PE, ET: protected mode, no paging */
	s.cr4 = 0;
	s.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &s))
		die("KVM_SET_SREGS: %m");
	r.rip = CODE_GPA;
	r.rflags = 2;	/* interrupts off */
	r.rbp = MBOX_GPA + i * 64;
	r.rsp = STACK_TOP - i * 0x1000;
	if (ioctl(v->fd, KVM_SET_REGS, &r))
		die("KVM_SET_REGS: %m");
	mbox(i)->ecs_addr = ECS_GPA + i * 4;
}

static void vm_create(int nvcpus)
{
	int i;

	vm.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm < 0)
		die("/dev/kvm: %m");
	vm.fd = ioctl(vm.kvm, KVM_CREATE_VM, 0);
	if (vm.fd < 0)
		die("KVM_CREATE_VM: %m");
	if (ioctl(vm.fd, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP: %m");
	vm.run_size = ioctl(vm.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm.mem == MAP_FAILED)
		die("mmap guest memory: %m");
	memcpy(vm.mem + CODE_GPA, mvm_code, mvm_code_end - mvm_code);
	set_slot(0, 0, MEM_SIZE, vm.mem, 0);
	vm.nvcpus = nvcpus;
	for (i = 0; i < nvcpus; i++)
		vcpu_setup(i);
}

/*
 * Run vCPU @i until its command ends (its OUT to EXIT_PORT). KVM_RUN
 * interrupted by a signal (pvlock_host's unload kick is one) is entered
 * again, as a VMM does. Returns false when the tool is told to stop.
 */
static bool vcpu_run(int i)
{
	struct vcpu *v = &vm.v[i];

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN) {
				if (stop_all)
					return false;
				continue;
			}
			die("KVM_RUN vCPU %d: %m", i);
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (v->run->io.port == EXIT_PORT)
				return true;
			die("vCPU %d: I/O to port 0x%x", i, v->run->io.port);
		case KVM_EXIT_INTR:
			if (stop_all)
				return false;
			continue;
		case KVM_EXIT_HLT:
			continue;
		default:
			die("vCPU %d: exit reason %u (rip 0x%llx)", i, v->run->exit_reason,
			    (unsigned long long)v->run->hw.hardware_exit_reason);
		}
	}
}

static int64_t sext(uint32_t v)
{
	return (int64_t)(int32_t)v;
}

/* One hypercall from vCPU @i; its result, sign-extended from 32 bits. */
static int64_t hc(int i, uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
{
	struct mbox *m = mbox(i);

	*m = (struct mbox){ .cmd = CMD_HC, .nr = nr, .a0 = a0, .a1 = a1, .a2 = a2, .a3 = a3,
			    .ecs_addr = ECS_GPA + i * 4 };
	if (!vcpu_run(i))
		return -1000000;
	return sext(m->ret);
}

static void cmd(int i, uint32_t c, uint32_t nr, uint32_t a0, uint32_t a1, uint32_t count)
{
	struct mbox *m = mbox(i);

	*m = (struct mbox){ .cmd = c, .nr = nr, .a0 = a0, .a1 = a1, .count = count,
			    .ecs_addr = ECS_GPA + i * 4 };
	vcpu_run(i);
}

static void rec_init(struct pvlock_record *r, uint32_t cpu, uint64_t ecs_gpa)
{
	memset(r, 0, sizeof(*r));
	r->magic = PVLOCK_RECORD_MAGIC;
	r->version = PVLOCK_RECORD_VERSION;
	r->size = PVLOCK_RECORD_SIZE;
	r->ecs_kind = ecs_gpa ? PVLOCK_ECS_X86_PREEMPT_COUNT : PVLOCK_ECS_NONE;
	r->ecs_gpa = ecs_gpa;
	r->cpu = cpu;
	r->wait_target = PVLOCK_CPU_NONE;
	r->last_kicked = PVLOCK_CPU_NONE;
}

static struct pvlock_record *rec_at(uint8_t *base, uint64_t off)
{
	return (struct pvlock_record *)(base + off);
}

/* HELLO from vCPU 0, then each vCPU registers its record (on its own thread). */
static void hello(void)
{
	int64_t r = hc(0, PVLOCK_HC_HELLO, PVLOCK_ABI_VERSION, PVLOCK_F_ALL, vm.nvcpus, 0);

	if (r < 0)
		die("HELLO: %lld (is pvlock_host loaded?)", (long long)r);
}

static void register_self(int i)
{
	int64_t r;

	rec_init(rec_at(vm.mem, REC_GPA + i * PVLOCK_RECORD_SIZE), i, ECS_GPA + i * 4);
	r = hc(i, PVLOCK_HC_REGISTER, REC_GPA + i * PVLOCK_RECORD_SIZE, i, 0, 0);
	if (r)
		die("REGISTER vCPU %d: %lld", i, (long long)r);
}

/* ---- per-vCPU programs -------------------------------------------------- */

struct prog {
	const char *cmd;
	long arg1, arg2;
};

static struct prog prog;
static pthread_barrier_t registered;

/*
 * The CPU that micro-VMs share when one is asked for: the host's last. Nested
 * SVM under TCG corrupts the stacks of vCPU threads on L1's CPU 0 now and
 * then, with or without pvlock (README, "Known quirks"); the L2 guests of
 * the nested tests keep off it for the same reason.
 */
static int last_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 1 ? (int)n - 1 : 0;
}

static void pin_to(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		die("sched_setaffinity: %m");
}

static void *vcpu_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	struct vcpu *v = &vm.v[i];

	v->tid = (pid_t)syscall(SYS_gettid);
	if (!strcmp(prog.cmd, "spin")) {
		pthread_barrier_wait(&registered);
		cmd(i, CMD_PAUSE_UNTIL_STOP, 0, 0, 0, 0);
		return NULL;
	}
	if (!strcmp(prog.cmd, "prio"))
		pin_to(last_cpu());
	if (i == 0)
		hello();
	pthread_barrier_wait(&registered);
	register_self(i);
	pthread_barrier_wait(&registered);
	if (!strcmp(prog.cmd, "idle")) {
		cmd(i, CMD_HALT, 0, 0, 0, 0);
	} else if (!strcmp(prog.cmd, "ple")) {
		cmd(i, CMD_PAUSE_UNTIL_STOP, 0, 0, 0, 0);
	} else if (!strcmp(prog.cmd, "race")) {
		while (!stop_all) {
			int64_t r;

			cmd(i, CMD_HC_LOOP, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 50);
			r = sext(mbox(i)->ret);
			/* pvlock_host went and came back: register again, as pvlock_guest does */
			if (r == -PVLOCK_ENOENT || r == -PVLOCK_ENOSYS) {
				if (i == 0)
					hc(0, PVLOCK_HC_HELLO, PVLOCK_ABI_VERSION, PVLOCK_F_ALL,
					   vm.nvcpus, 0);
				rec_init(rec_at(vm.mem, REC_GPA + i * PVLOCK_RECORD_SIZE), i,
					 ECS_GPA + i * 4);
				hc(i, PVLOCK_HC_REGISTER, REC_GPA + i * PVLOCK_RECORD_SIZE, i, 0, 0);
			}
			cmd(i, CMD_PAUSE_LOOP, 0, 0, 0, 20000);
		}
	} else if (!strcmp(prog.cmd, "prio") && i == 1) {
		cmd(1, CMD_BUSY_ECS, 0, 0, 0, 0);
	} else if (!strcmp(prog.cmd, "prio")) {
		/* name vCPU 1 as the one it waits behind */
		cmd(0, CMD_HC_UNTIL_STOP, PVLOCK_HC_YIELD, 1, 0, 0);
	}
	return NULL;
}

/* Run @nv vCPUs with the program, for @secs (0: until killed or done). */
static int run_threads(int nv, long secs)
{
	int i;

	pthread_barrier_init(&registered, NULL, nv);
	for (i = 0; i < nv; i++)
		if (pthread_create(&vm.v[i].thread, NULL, vcpu_thread, (void *)(intptr_t)i))
			die("pthread_create");
	if (!strcmp(prog.cmd, "prio")) {
		while (!vm.v[0].tid || !vm.v[1].tid)
			usleep(1000);
		printf("tids %d %d\n", vm.v[0].tid, vm.v[1].tid);
		fflush(stdout);
	}
	if (secs > 0) {
		sleep((unsigned int)secs);
		stop_all = 1;
		for (i = 0; i < nv; i++)
			__atomic_store_n(&mbox(i)->stop, 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < nv; i++)
		pthread_join(vm.v[i].thread, NULL);
	return 0;
}

/* ---- the memslot scenario ------------------------------------------------ */

#define SLOT_GPA	0x200000ul	/* slot 1: the record (page 0) and its eCS word (page 1) */
#define SLOT_MOVED_GPA	0x300000ul
#define SLOT_SIZE	0x2000ul

static uint8_t *slot_mem(void)
{
	uint8_t *p = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %m");
	return p;
}

static uint64_t host_gen(const struct pvlock_record *r)
{
	return __atomic_load_n(&r->host_gen, __ATOMIC_ACQUIRE);
}

/* The dirty bitmap of slot 1 (two pages): bit 0 is the record's page. */
static uint64_t dirty_bits(void)
{
	uint64_t bits[1] = { 0 };
	struct kvm_dirty_log d = { .slot = 1, .dirty_bitmap = bits };

	if (ioctl(vm.fd, KVM_GET_DIRTY_LOG, &d))
		die("KVM_GET_DIRTY_LOG: %m");
	return bits[0];
}

/* Let the host's period pass, so that its next chance to write has new hints. */
static void next_period(void)
{
	usleep(250 * 1000);
}

/* Preempted while running "in a critical section": a hog shares its CPU. */
static volatile int hog_stop;

static void *hog(void *arg)
{
	(void)arg;
	pin_to(last_cpu());
	while (!hog_stop)
		;
	return NULL;
}

static void *stop_after(void *arg)
{
	usleep((useconds_t)(uintptr_t)arg * 1000);
	__atomic_store_n(&mbox(0)->stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* vCPU 0 spins for @ms with its eCS word set, sharing its CPU with a hog. */
static void ecs_preemptions(uint32_t ms)
{
	pthread_t h, s;

	hog_stop = 0;
	if (pthread_create(&h, NULL, hog, NULL))
		die("pthread_create");
	*mbox(0) = (struct mbox){ .cmd = CMD_BUSY_ECS, .ecs_addr = SLOT_GPA + 0x1000 };
	if (pthread_create(&s, NULL, stop_after, (void *)(uintptr_t)ms))
		die("pthread_create");
	vcpu_run(0);
	pthread_join(s, NULL);
	hog_stop = 1;
	pthread_join(h, NULL);
}

static int memslot_scenario(void)
{
	uint8_t *a = slot_mem(), *b = slot_mem();
	struct pvlock_record *ra = rec_at(a, 0), *rb = rec_at(b, 0);
	uint64_t g0, g1, bits;
	int64_t r;

	vm_create(1);
	pin_to(last_cpu());
	rec_init(ra, 0, SLOT_GPA + 0x1000);
	set_slot(1, SLOT_GPA, SLOT_SIZE, a, KVM_MEM_LOG_DIRTY_PAGES);
	hello();
	r = hc(0, PVLOCK_HC_REGISTER, SLOT_GPA, 0, 0, 0);
	result(r == 0, "register", "%lld", (long long)r);

	/* 1. host writes are dirty-logged, whichever way they come */
	dirty_bits();
	g0 = host_gen(ra);
	next_period();
	cmd(0, CMD_PAUSE_LOOP, 0, 0, 0, 100);	/* a KVM_RUN: sched-in, steal-time update */
	next_period();
	r = hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	g1 = host_gen(ra);
	bits = dirty_bits();
	result(g1 > g0 && (bits & 1), "dirty-logged",
	       "host_gen %llu -> %llu, dirty bitmap 0x%llx (bit 0: the record's page), yield %lld",
	       (unsigned long long)g0, (unsigned long long)g1, (unsigned long long)bits,
	       (long long)r);

	/* 2. the slot's memory replaced at the same address: the host follows */
	memcpy(b, a, SLOT_SIZE);
	set_slot(1, SLOT_GPA, 0, a, 0);
	set_slot(1, SLOT_GPA, SLOT_SIZE, b, KVM_MEM_LOG_DIRTY_PAGES);
	g0 = host_gen(ra);
	next_period();
	r = hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	next_period();
	hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	result(r >= 0 && host_gen(rb) > host_gen(ra) && host_gen(ra) == g0 &&
	       (rb->host_flags & PVLOCK_HF_ACTIVE), "slot-replaced",
	       "yield %lld; old memory host_gen %llu -> %llu, new memory %llu, flags 0x%x",
	       (long long)r, (unsigned long long)g0, (unsigned long long)host_gen(ra),
	       (unsigned long long)host_gen(rb), rb->host_flags);

	/* ... and reads the eCS word from there */
	g0 = rb->ecs_preempted;
	ecs_preemptions(300);
	next_period();
	hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	result(rb->ecs_preempted > g0, "slot-replaced-ecs",
	       "preempted in a critical section per the new memory: %llu -> %llu",
	       (unsigned long long)g0, (unsigned long long)rb->ecs_preempted);

	/* 3. the record's page discarded (a balloon, virtio-mem): a new page */
	if (madvise(b, 0x1000, MADV_DONTNEED))
		die("madvise: %m");
	rec_init(rb, 0, SLOT_GPA + 0x1000);	/* the guest's own rewrite */
	next_period();
	r = hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	result(r >= 0 && host_gen(rb) > 0 && (rb->host_flags & PVLOCK_HF_ACTIVE),
	       "page-discarded", "yield %lld; the new page's host_gen %llu, flags 0x%x",
	       (long long)r, (unsigned long long)host_gen(rb), rb->host_flags);

	/* 4. the slot moved elsewhere: the record left guest memory */
	set_slot(1, SLOT_GPA, 0, b, 0);
	set_slot(1, SLOT_MOVED_GPA, SLOT_SIZE, b, 0);
	r = hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	result(r == -PVLOCK_ENOENT, "slot-moved", "yield %lld (want %d: unregistered)",
	       (long long)r, -PVLOCK_ENOENT);
	rec_init(rb, 0, SLOT_MOVED_GPA + 0x1000);
	r = hc(0, PVLOCK_HC_REGISTER, SLOT_MOVED_GPA, 0, 0, 0);
	result(r == 0, "register-at-new-address", "%lld", (long long)r);

	/* 5. the slot deleted */
	set_slot(1, SLOT_MOVED_GPA, 0, b, 0);
	r = hc(0, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, 0, 0);
	result(r == -PVLOCK_ENOENT, "slot-removed", "yield %lld (want %d)", (long long)r,
	       -PVLOCK_ENOENT);
	r = hc(0, PVLOCK_HC_REGISTER, SLOT_MOVED_GPA, 0, 0, 0);
	result(r == -PVLOCK_EFAULT, "register-outside", "%lld (want %d)", (long long)r,
	       -PVLOCK_EFAULT);
	return fails ? 1 : 0;
}

/* ---- the hook-cost benchmark ------------------------------------------------ */

#define BENCH_OTHERS	7

struct bench_shared {
	volatile uint32_t want;		/* the others: 1 = registered */
	volatile uint32_t gen;		/* bumped with each change of @want */
	volatile uint32_t acked[BENCH_OTHERS];
	volatile uint32_t ready[BENCH_OTHERS];
};

/* One of the others: a VM of one vCPU that (un)registers when told, halted in between. */
static void bench_other(struct bench_shared *sh, int k)
{
	uint32_t seen = 0;

	vm_create(1);
	hello();
	sh->ready[k] = 1;
	for (;;) {
		while (sh->gen == seen) {
			if (getppid() == 1)
				_exit(0);
			usleep(5000);
		}
		seen = sh->gen;
		if (sh->want) {
			rec_init(rec_at(vm.mem, REC_GPA), 0, ECS_GPA);
			hc(0, PVLOCK_HC_REGISTER, REC_GPA, 0, 0, 0);
		} else {
			hc(0, PVLOCK_HC_UNREGISTER, 0, 0, 0, 0);
		}
		sh->acked[k] = seen;
	}
}

/* pvlock_host's counters of this VM (the newest of the name): yields hc_ns exits on_spin_ns */
static void bench_counters(const char *name, uint64_t c[4])
{
	char cmd[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "pvlock-query host-vms | jq -r '[.[] | select(.name == \"%s\")] "
		 "| max_by(.id) | .stats | \"\\(.yields) \\(.hc_ns) \\(.on_spin) \\(.on_spin_ns)\"'",
		 name);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &c[0], &c[1], &c[2],
			 &c[3]) != 4)
		die("reading pvlock_host's counters (%s)", cmd);
	pclose(f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define BENCH_CHUNKS	8

static int bench(const char *name, int phases, long yields, long pauses)
{
	struct bench_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double y[2][64], p[2][64], ry[32], rp[32], cp[BENCH_CHUNKS];
	int j, k, ph, n[2] = { 0 }, np = 0;
	uint64_t c0[4], c1[4], exits;
	pid_t kids[BENCH_OTHERS];

	if (sh == MAP_FAILED)
		die("mmap: %m");
	if (phases > 64)
		phases = 64;
	for (k = 0; k < BENCH_OTHERS; k++) {
		kids[k] = fork();
		if (kids[k] < 0)
			die("fork: %m");
		if (!kids[k]) {
			bench_other(sh, k);
			_exit(0);
		}
	}
	for (k = 0; k < BENCH_OTHERS; k++)
		while (!sh->ready[k])
			usleep(10000);
	/* created after the others: the newest VM of this name */
	vm_create(1);
	pin_to(last_cpu());
	hello();
	register_self(0);
	for (ph = 0; ph < phases; ph++) {
		int s = ph % 2, all;

		sh->want = s;
		__atomic_add_fetch(&sh->gen, 1, __ATOMIC_SEQ_CST);
		do {
			usleep(1000);
			for (all = 1, k = 0; k < BENCH_OTHERS; k++)
				all &= sh->acked[k] == sh->gen;
		} while (!all);
		bench_counters(name, c0);
		cmd(0, CMD_HC_LOOP, PVLOCK_HC_YIELD, PVLOCK_CPU_NONE, 0, (uint32_t)yields);
		bench_counters(name, c1);
		if (c1[0] == c0[0])
			die("phase %d: no yields counted", ph);
		y[s][n[s]] = (double)(c1[1] - c0[1]) / (c1[0] - c0[0]);
		/*
		 * PLE exits are fewer (~20 per chunk): one timer interrupt or
		 * host preemption inside a single exit's choice (milliseconds
		 * under TCG) would swamp a whole phase's mean, so the phase's
		 * figure is the median of BENCH_CHUNKS chunks' means
		 */
		exits = 0;
		for (j = 0; j < BENCH_CHUNKS; j++) {
			c0[2] = c1[2];
			c0[3] = c1[3];
			cmd(0, CMD_PAUSE_LOOP, 0, 0, 0, (uint32_t)(pauses / BENCH_CHUNKS));
			bench_counters(name, c1);
			if (c1[2] == c0[2])
				die("phase %d: no PLE exits counted", ph);
			cp[j] = (double)(c1[3] - c0[3]) / (c1[2] - c0[2]);
			exits += c1[2] - c0[2];
		}
		p[s][n[s]] = median(cp, BENCH_CHUNKS);
		printf("phase %d, %d VM%s registered: %.0f ns/yield (%" PRIu64 "), %.0f ns/PLE exit (%" PRIu64 ", median of %d chunks)\n",
		       ph, s ? 1 + BENCH_OTHERS : 1, s ? "s" : "", y[s][n[s]], c1[0] - c0[0],
		       p[s][n[s]], exits, BENCH_CHUNKS);
		if (s) {
			ry[np] = y[1][n[1]] / y[0][n[0] - 1];
			rp[np] = p[1][n[1]] / p[0][n[0] - 1];
			np++;
		}
		n[s]++;
	}
	for (k = 0; k < BENCH_OTHERS; k++)
		kill(kids[k], SIGKILL);
	for (k = 0; k < BENCH_OTHERS; k++)
		waitpid(kids[k], NULL, 0);
	/* medians per arm, and of the ratios of each pair of adjacent phases */
	printf("bench-summary %.0f %.0f %.0f %.0f %.2f %.2f %d\n", median(y[0], n[0]),
	       median(y[1], n[1]), median(p[0], n[0]), median(p[1], n[1]), median(ry, np),
	       median(rp, np), np);
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = "pvlock-mvm";
	int nv = 1, i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-name") && i + 1 < argc)
			name = argv[i + 1], i += 2;
		else if (!strcmp(argv[i], "-v") && i + 1 < argc)
			nv = atoi(argv[i + 1]), i += 2;
		else
			die("unknown option %s", argv[i]);
	}
	if (i >= argc)
		die("usage: pvlock-mvm [-name NAME] [-v VCPUS] idle|spin SECS|ple SECS|bench PHASES YIELDS PAUSES|race|prio SECS|memslot");
	if (nv < 1 || nv > MAX_VCPUS)
		die("-v: 1 to %d vCPUs", MAX_VCPUS);
	prog.cmd = argv[i];
	prog.arg1 = i + 1 < argc ? atol(argv[i + 1]) : 0;
	prog.arg2 = i + 2 < argc ? atol(argv[i + 2]) : 0;
	if (!strcmp(prog.cmd, "memslot"))
		return memslot_scenario();
	if (!strcmp(prog.cmd, "bench"))
		return bench(name, (int)prog.arg1, prog.arg2, i + 3 < argc ? atol(argv[i + 3]) : 0);
	if (!strcmp(prog.cmd, "prio"))
		nv = 2;
	if (strcmp(prog.cmd, "idle") && strcmp(prog.cmd, "spin") && strcmp(prog.cmd, "ple") &&
	    strcmp(prog.cmd, "race") && strcmp(prog.cmd, "prio"))
		die("unknown command %s", prog.cmd);
	vm_create(nv);
	return run_threads(nv, prog.arg1);
}
