#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: load and unload pvlock_guest PVLOCK_RELOADS times (default 20)
# while locktorture hammers a spinlock on every CPU. No warnings (console
# scan), no leak (slab and per-CPU memory per cycle), and afterwards the
# kernel's own functions are back in place.
. /lib/pvtest.sh
expect $((10 + ${PVLOCK_RELOADS:-20}))

n=${PVLOCK_RELOADS:-20}

# mem: Slab and Percpu kB after dropping what the kernel can drop
mem() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	awk '/^Slab:/ { s = $2 } /^Percpu:/ { p = $2 } END { print s, p }' /proc/meminfo
}

check torture-module insmod /lt/torture.ko
# warm up the slab caches the module and livepatch use, then measure
insmod /pvlock/pvlock_guest.ko force_queue=1 && guest_patched && guest_unload
check locktorture-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 \
	nwriters_stress=$((2 * $(nproc)))
sleep 2
m0=$(mem)

i=1 ok=0
: > /tmp/mem.txt
while [ $i -le "$n" ]; do
	mode=stock
	[ $((i % 3)) -eq 1 ] && mode=adaptive
	[ $((i % 3)) -eq 2 ] && mode=fixed
	if insmod /pvlock/pvlock_guest.ko force_queue=1 mode=$mode && guest_patched; then
		sleep 1
		if guest_unload; then
			ok=$((ok + 1))
			pass "cycle-$i" "$mode"
		else
			fail "cycle-$i" "unload: $(dmesg | tail -3 | tr '\n' ' ')"
		fi
	else
		fail "cycle-$i" "load: $(dmesg | tail -3 | tr '\n' ' ')"
		guest_unload 2>/dev/null
	fi
	echo "$i $(mem)" >> /tmp/mem.txt
	i=$((i + 1))
done
m1=$(mem)
info "memory (Slab kB, Percpu kB) under locktorture: before $m0, after $n cycles $m1"
info "per cycle: $(tr '\n' ';' < /tmp/mem.txt)"
# least-squares slope of Slab over the cycles, in bytes per cycle: what a
# leak adds each time, apart from the noise of locktorture's own activity
info "slab slope $(awk '{ n++; sx += $1; sy += $2 * 1024; sxx += $1 * $1; sxy += $1 * $2 * 1024 }
	END { printf "%d", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' /tmp/mem.txt) bytes per cycle"

check locktorture-stop rmmod locktorture
if dmesg | grep -q 'spin_lock-torture:--- End of test: SUCCESS'; then
	pass locktorture-success
else
	fail locktorture-success "$(dmesg | grep 'End of test' | tail -1)"
fi
check torture-module-rm rmmod torture
slab0=${m0% *} pcpu0=${m0#* } slab1=${m1% *} pcpu1=${m1#* }
d=$((slab1 - slab0))
if [ $d -lt 1024 ]; then pass no-slab-leak "delta ${d} kB over $n cycles"; else fail no-slab-leak "delta ${d} kB"; fi
# the per-CPU lock tables (2 kB per CPU per load) are per-CPU memory, not slab
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
