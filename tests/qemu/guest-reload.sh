#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: load and unload pvlock_guest PVLOCK_RELOADS times (default 20)
# while locktorture hammers a spinlock on every CPU. No warnings (console
# scan), no leak (slab before/after), and afterwards the kernel's own
# functions are back in place.
. /lib/pvtest.sh

n=${PVLOCK_RELOADS:-20}

check torture-module insmod /lt/torture.ko
# warm up the slab caches the module and livepatch use, then measure
insmod /pvlock/pvlock_guest.ko force_queue=1 && guest_patched && guest_unload
sync; echo 3 > /proc/sys/vm/drop_caches
slab0=$(slab_kb)
pcpu0=$(awk '/^Percpu:/ { print $2 }' /proc/meminfo)
check locktorture-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 \
	nwriters_stress=$((2 * $(nproc)))

i=1 ok=0
while [ $i -le "$n" ]; do
	mode=stock
	[ $((i % 3)) -eq 1 ] && mode=adaptive
	[ $((i % 3)) -eq 2 ] && mode=fixed
	if insmod /pvlock/pvlock_guest.ko force_queue=1 mode=$mode && guest_patched; then
		sleep 1
		if guest_unload; then
			ok=$((ok + 1))
		else
			fail "cycle-$i-unload" "$(dmesg | tail -3 | tr '\n' ' ')"
		fi
	else
		fail "cycle-$i-load" "$(dmesg | tail -3 | tr '\n' ' ')"
		guest_unload 2>/dev/null
	fi
	i=$((i + 1))
done
if [ $ok -eq "$n" ]; then pass "load-unload-$n-times" "$ok cycles under locktorture"; fi

check locktorture-stop rmmod locktorture
if dmesg | grep -q 'spin_lock-torture:--- End of test: SUCCESS'; then
	pass locktorture-success
else
	fail locktorture-success "$(dmesg | grep 'End of test' | tail -1)"
fi
check torture-module-rm rmmod torture
sync; echo 3 > /proc/sys/vm/drop_caches
slab1=$(slab_kb)
d=$((slab1 - slab0))
info "slab before ${slab0} kB, after ${slab1} kB, delta ${d} kB"
# the warm-up cycle above settles the caches; what is left grows by
# locktorture's own activity (tens of kB), not by cycles
if [ $d -lt 1024 ]; then pass no-slab-leak "delta ${d} kB over $n cycles"; else fail no-slab-leak "delta ${d} kB"; fi
# the per-CPU lock tables (2 kB per CPU per load) are per-CPU memory, not slab
pcpu1=$(awk '/^Percpu:/ { print $2 }' /proc/meminfo)
if [ $((pcpu1 - pcpu0)) -lt 16 ]; then
	pass no-percpu-leak "Percpu ${pcpu0} -> ${pcpu1} kB"
else
	fail no-percpu-leak "Percpu ${pcpu0} -> ${pcpu1} kB"
fi
if grep -q pvlock /proc/modules; then fail module-gone "$(grep pvlock /proc/modules)"; else pass module-gone; fi
if [ -e /sys/kernel/livepatch/pvlock_guest ]; then fail livepatch-gone; else pass livepatch-gone; fi
if grep -qE 'queued_spin_lock_slowpath|kvm_wait|kvm_kick_cpu' /sys/kernel/tracing/enabled_functions; then
	fail originals-back "$(cat /sys/kernel/tracing/enabled_functions)"
else
	pass originals-back
fi
