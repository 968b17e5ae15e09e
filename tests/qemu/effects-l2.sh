#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L2 KVM guest of the effect tests (tests/qemu/effects-l1.sh): 3 vCPUs on
# one L1 CPU, pvlock_guest registered, then one phase after another, each
# on the L1's word (ttyS1) once it has read the host's counters:
#   ecs     CPU 1 with preemption disabled, CPUs 0 and 2 spinning in user mode
#   user    CPUs 0, 1 and 2 spinning in user mode
#   named1  CPU 1 holds a spinlock, CPU 2 preempt-disabled, CPU 0 yields
#           naming CPU 1; named2: the same naming CPU 2
#   none    CPUs 1 and 2 spinning in user mode, CPU 0 yields naming nobody
#           (every other yield with the halt flag)
#   budget  as named1 but a flood of yields for a few seconds
# The test module (pvlock_effects) reports the host's answers on a
# "PVLOCK-EFFECT" line; the L1 judges them with the host's counters.
. /lib/pvtest.sh
expect 9

mark() { echo "PVLOCK-MARK $*"; }
spins=
spin() {	# spin CPU...: a user-mode busy loop on each
	for _c; do
		taskset -c "$_c" sh -c 'while :; do :; done' > /dev/null 2>&1 &
		spins="$spins $!"
	done
}
unspin() {
	# shellcheck disable=SC2086
	[ -n "$spins" ] && kill $spins && wait $spins 2>/dev/null
	spins=
}

# step NAME "SPIN CPUS" MODULE-PARAMETERS...: one phase on the L1's word
step() {
	_s=$1 _cpus=$2
	shift 2
	mark "$_s-ready"
	if ! ctl_wait "$_s-go" 180; then
		fail "$_s-ran" "no word from the L1"
		return
	fi
	_n0=$(dmesg | wc -l)
	# shellcheck disable=SC2086
	spin $_cpus
	if insmod /pvlock/pvlock_effects.ko phase="$_s" "$@"; then
		unspin
		_l=$(dmesg | tail -n +$((_n0 + 1)) | grep -o "PVLOCK-EFFECT phase=$_s .*")
		echo "$_l"
		pass "$_s-ran" "$_l"
		rmmod pvlock_effects
	else
		unspin
		fail "$_s-ran" "$(dmesg | tail -n +$((_n0 + 1)) | tail -3 | tr '\n' ' ')"
	fi
	mark "$_s-done"
}

ctl_open
check insmod insmod /pvlock/pvlock_guest.ko mode=adaptive
if guest_agreed 20; then
	pass handshake-agreed "$(nproc) CPUs registered"
else
	fail handshake-agreed "$(pvlockctl -G status | tr '\n' ' ')"
fi
secs=${PVLOCK_EFFECT_SECS:-15}
calls=${PVLOCK_EFFECT_CALLS:-400}
step ecs "0 2" ecs_cpu=1 secs="$secs"
step user "0 1 2" secs="$secs"
step named1 "" hold_cpu=1 ecs_cpu=2 calls="$calls" target=1 secs=40
step named2 "" hold_cpu=1 ecs_cpu=2 calls="$calls" target=2 secs=40
step none "1 2" calls="$calls" halt_odd=1 secs=40
step budget "" hold_cpu=1 ecs_cpu=2 calls=10000000 target=1 gap_us=0 secs="${PVLOCK_EFFECT_FLOOD_SECS:-5}"
check unload guest_unload
