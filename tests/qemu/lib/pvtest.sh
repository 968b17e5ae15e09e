# SPDX-License-Identifier: GPL-2.0
# Helpers for test scripts inside QEMU guests (busybox sh). Results are
# console lines "PVLOCK-RESULT PASS|FAIL name[: detail]"; the host-side
# runner collects them. A test that cannot run reports FAIL, never PASS.

pass() { echo "PVLOCK-RESULT PASS $1${2:+: $2}"; }
fail() { echo "PVLOCK-RESULT FAIL $1${2:+: $2}"; PVLOCK_FAILED=1; }
info() { echo "PVLOCK-INFO $*"; }

# check NAME CMD...: PASS if CMD exits 0, else FAIL with its last lines.
check() {
	_n=$1; shift
	if _o=$("$@" 2>&1); then
		pass "$_n"
	else
		fail "$_n" "$(echo "$_o" | tail -3 | tr '\n' ' ')"
	fi
}

# expect_fail NAME CMD...: PASS if CMD fails.
expect_fail() {
	_n=$1; shift
	if _o=$("$@" 2>&1); then
		fail "$_n" "succeeded but should not: $(echo "$_o" | tail -2 | tr '\n' ' ')"
	else
		pass "$_n"
	fi
}

# expect_out NAME PATTERN CMD...: PASS if CMD succeeds and its output matches
# the extended regular expression PATTERN.
expect_out() {
	_n=$1; _p=$2; shift 2
	_o=$("$@" 2>&1)
	_rc=$?
	if [ $_rc -eq 0 ] && echo "$_o" | grep -Eq -- "$_p"; then
		pass "$_n"
	else
		fail "$_n" "rc=$_rc, wanted /$_p/ in: $(echo "$_o" | head -5 | tr '\n' ' ')"
	fi
}

# Load the distro modules listed in /kmod/order (dependencies first).
load_kmods() {
	[ -f /kmod/order ] || return 0
	while read -r m; do
		insmod "/kmod/$m" || { fail "kmod/$m" "insmod failed"; return 1; }
	done < /kmod/order
}

slab_kb() {
	awk '/^Slab:/ { print $2 }' /proc/meminfo
}

# --- L1 side of nested tests -------------------------------------------

# run_l2 NAME SMP MEM_MB TIMEOUT INITRD [extra qemu args]: start an L2 KVM
# guest in the background with the L1's own kernel; its console goes to
# /tmp/l2-NAME.log. Needs /dev/kvm.
# "noxsave": an L1 under TCG gives L2 an XSAVE area size that disagrees with
# the one the L2 kernel computes ("XSAVE consistency problem", a WARNING at
# boot, with -cpu host and named models alike); L2 uses FXSAVE instead. Lock
# behaviour does not depend on it.
run_l2() {
	_name=$1 _smp=$2 _mem=$3 _to=$4 _initrd=$5
	shift 5
	timeout "$_to" qemu-system-x86_64 -enable-kvm -cpu host -smp "$_smp" -m "$_mem" \
		-name "$_name" -nodefaults -display none -no-reboot \
		-serial "file:/tmp/l2-$_name.log" -L /usr/share/qemu \
		-kernel /boot/vmlinuz -initrd "$_initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=5 noxsave PVLOCK_HOSTNAME=$_name $PVLOCK_L2_APPEND" \
		"$@" > "/tmp/l2-$_name.qemu" 2>&1 &
	eval "L2_PID_$_name=$!"
}

# wait_l2 NAME: wait for it, copy its console into ours with a "[L2:NAME] "
# prefix (the host-side runner scans and collects it), and report whether it
# reached its end marker.
wait_l2() {
	_name=$1
	eval "_pid=\$L2_PID_$_name"
	wait "$_pid"
	_rc=$?
	sed "s/^/[L2:$_name] /" "/tmp/l2-$_name.log" | tr -d '\r'
	if [ -s "/tmp/l2-$_name.qemu" ]; then
		sed "s/^/[L2:$_name qemu] /" "/tmp/l2-$_name.qemu"
	fi
	if grep -q '^PVLOCK-DONE' "/tmp/l2-$_name.log"; then
		pass "l2-$_name-ran" "qemu rc=$_rc"
	else
		fail "l2-$_name-ran" "no end marker (qemu rc=$_rc, 124 = timeout)"
	fi
}
