// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock's hypercalls (numbers, arguments and return codes: the uapi
 * header). Runs in place of kvm_emulate_hypercall() for pvlock's numbers,
 * on the vCPU's own thread, preemptible, with kvm->srcu held, exactly like
 * KVM's own handlers. Everything the guest passes is untrusted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/ratelimit.h>

#include "compat.h"
#include "pvlock_host.h"

/* kvm_emulate_hypercall()'s is_64_bit_hypercall(), from public state. */
static bool pvlock_op_64_bit(struct kvm_vcpu *vcpu)
{
	int cs_db, cs_l;

	if (vcpu->arch.guest_state_protected)
		return true;
	if (!(vcpu->arch.efer & EFER_LMA))
		return false;
	pvlock_kvm.ops->get_cs_db_l_bits(vcpu, &cs_db, &cs_l);
	return cs_l;
}

static long pvlock_hello(struct pvlock_vm *vm, u64 ver, u64 feat, u64 ncpus, u64 a3)
{
	if (a3 || !ncpus || ncpus > KVM_MAX_VCPUS) {
		pvlock_count(vm, NULL, PVLOCK_HS_BAD_ARGS, 1);
		return -PVLOCK_EINVAL;
	}
	if (ver < 1) {
		pvlock_count(vm, NULL, PVLOCK_HS_BAD_ARGS, 1);
		return -PVLOCK_EPROTO;
	}
	ver = min_t(u64, ver, PVLOCK_ABI_VERSION);
	feat &= PVLOCK_F_ALL;
	if (!READ_ONCE(vm->abi)) {
		pr_info("VM %u (%s, pid %d): guest speaks pvlock ABI %llu, features 0x%llx\n",
			vm->id, vm->name, vm->pid, ver, feat);
	}
	WRITE_ONCE(vm->abi, (u32)ver);
	WRITE_ONCE(vm->features, (u32)feat);
	pvlock_count(vm, NULL, PVLOCK_HS_HELLO, 1);
	return PVLOCK_HELLO_RET(ver, feat);
}

int pvlock_hc_dispatch(struct kvm_vcpu *vcpu)
{
	bool op64 = pvlock_op_64_bit(vcpu), halt = false;
	unsigned long nr = pvlock_reg(vcpu, VCPU_REGS_RAX);
	u64 t0 = pvlock_now();
	u64 a0 = pvlock_reg(vcpu, VCPU_REGS_RBX);
	u64 a1 = pvlock_reg(vcpu, VCPU_REGS_RCX);
	u64 a2 = pvlock_reg(vcpu, VCPU_REGS_RDX);
	u64 a3 = pvlock_reg(vcpu, VCPU_REGS_RSI);
	struct pvlock_vm *vm;
	long ret;
	int r;

	if (!op64) {
		nr &= 0xffffffff;
		a0 &= 0xffffffff;
		a1 &= 0xffffffff;
		a2 &= 0xffffffff;
		a3 &= 0xffffffff;
	}
	/* the redirect looked at the low half only: not ours after all */
	if (!PVLOCK_HC_IS_PVLOCK(nr))
		return ((int (*)(struct kvm_vcpu *))pvlock_kvm.emulate_hypercall)(vcpu);

	vm = pvlock_vm_get(vcpu);
	if (!vm) {
		ret = -PVLOCK_EBUSY;	/* no memory for its state: try again later */
		goto out;
	}
	if (pvlock_kvm.ops->get_cpl(vcpu) != 0) {
		/* as KVM does for its own numbers: only the guest kernel */
		pvlock_count(vm, pvlock_vcpu_of(vm, vcpu), PVLOCK_HS_BAD_CPL, 1);
		ret = -PVLOCK_EPERM;
		goto out;
	}

	switch (nr) {
	case PVLOCK_HC_HELLO:
		ret = pvlock_hello(vm, a0, a1, a2, a3);
		break;
	case PVLOCK_HC_REGISTER:
		if (a2 || a3) {
			pvlock_count(vm, NULL, PVLOCK_HS_BAD_ARGS, 1);
			ret = -PVLOCK_EINVAL;
			break;
		}
		ret = pvlock_vcpu_register(vm, vcpu, a0, a1);
		break;
	case PVLOCK_HC_UNREGISTER:
		if (a0 || a1 || a2 || a3) {
			pvlock_count(vm, pvlock_vcpu_of(vm, vcpu), PVLOCK_HS_BAD_ARGS, 1);
			ret = -PVLOCK_EINVAL;
			break;
		}
		ret = pvlock_vcpu_unregister(vm, vcpu);
		break;
	case PVLOCK_HC_YIELD:
		if ((a1 & ~(u64)PVLOCK_YIELD_F_ALL) || a2 || a3) {
			pvlock_count(vm, pvlock_vcpu_of(vm, vcpu), PVLOCK_HS_BAD_ARGS, 1);
			ret = -PVLOCK_EINVAL;
			break;
		}
		ret = pvlock_yield(vm, vcpu, (u32)min_t(u64, a0, PVLOCK_CPU_NONE), (u32)a1,
				   &halt, t0);
		break;
	default:
		ret = -PVLOCK_ENOSYS;
		break;
	}
out:
	if (!op64)
		ret = (u32)ret;
	pvlock_set_rax(vcpu, ret);
	r = pvlock_kvm.skip_emulated_instruction(vcpu);
	/* as kvm_emulate_halt(): skip, then halt; a pending kick or IRQ wins */
	if (halt)
		r = pvlock_kvm.emulate_halt_noskip(vcpu) && r;
	return r;
}
