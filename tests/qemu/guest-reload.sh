#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: load and unload pvlock_guest PVLOCK_RELOADS times (default 20)
# while locktorture hammers a spinlock on every CPU. No warnings (console
# scan), no leak (what the kmalloc caches and per-CPU memory gain per
# cycle), and afterwards the kernel's own functions are back in place.
. /lib/pvtest.sh
expect $((10 + ${PVLOCK_RELOADS:-20}))

n=${PVLOCK_RELOADS:-20}
# What the kmalloc caches may gain per cycle, from after the first cycle to
# after the last. Before them, one load under the same load in each mode
# warms what the kernel and the module keep for the next load. (A fresh-clone
# CI run on 7.2 at 88d4a50, warmed by one load before locktorture started:
# kmalloc-256 grew 1 kB in cycles 2-3, the first fixed- and stock-mode
# loads, kmalloc-192 640 bytes in cycle 4, then nothing to cycle 10; the
# slope said 146 bytes per cycle.)
# The guest boots with slub_debug on them (tests/qemu/test-guest.sh): no
# per-CPU slabs, so /proc/slabinfo counts the objects in use exactly, and
# kmem leaves out what SLUB allocates there for its own sheaves (7.x).
leak_max=${PVLOCK_RELOAD_LEAK_MAX:-256}
check torture-module insmod /lt/torture.ko
check locktorture-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
	nwriters_stress=$((2 * $(nproc)))
sleep 2
# warm up the slab caches the module and livepatch use, in every mode
for mode in adaptive fixed stock; do
	insmod /pvlock/pvlock_guest.ko force_queue=1 mode=$mode && guest_patched && guest_unload
done
pcpu() { awk '/^Percpu:/ { print $2 }' /proc/meminfo; }
# one line per reading: cycle, Slab kB, kmalloc bytes, Percpu kB
m0=$(kmem)
echo "0 $m0 $(pcpu)" > /tmp/mem.txt
sh0=$(cat /tmp/kmem.sheaves)

i=1 ok=0
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
	m1=$(kmem)
	echo "$i $m1 $(pcpu)" >> /tmp/mem.txt
	cp "/tmp/kmem-${m1#* }.slabinfo" "/tmp/sl-$i"
	i=$((i + 1))
done
info "per cycle (cycle, Slab kB, kmalloc bytes, Percpu kB): $(tr '\n' ';' < /tmp/mem.txt)"
info "grew most from before the first cycle to after the last: $(slab_grew "$m0" "$m1")"
info "SLUB's sheaves, left out of the kmalloc bytes: $sh0 bytes before the first cycle, $(cat /tmp/kmem.sheaves) after the last"
# each kmalloc cache's bytes after each cycle 1..n, where they changed
i=1 sl=
while [ $i -le "$n" ]; do sl="$sl /tmp/sl-$i"; i=$((i + 1)); done
info "kmalloc caches by cycle 1-$n, where they changed (sheaves included): $(awk '$1 ~ /^kmalloc-/ {
		b = $2 * $4; v[$1] = v[$1] " " b; if (!($1 in f)) f[$1] = b; if (b != f[$1]) ch[$1] = 1 }
	END { for (c in ch) printf "%s%s; ", c, v[c] }' $sl)"

# The control: the same cycles, under the same load, with a one-function
# livepatch module (klp_replace). What the kernel's own module and
# livepatch code keep per load is not pvlock's.
klp_cycle() {
	insmod /pvlock/klp_replace.ko && lp_patched klp_replace && sleep 1 && lp_unload klp_replace
}
klp_cycle || fail control-cycle "klp_replace: $(dmesg | tail -2 | tr '\n' ' ')"
# (10 cycles at most: each takes seconds under single-threaded TCG)
nc=${PVLOCK_RELOAD_CONTROL:-10}
[ "$nc" -le "$n" ] || nc=$n
echo "0 $(kmem)" > /tmp/ctl.txt
i=1
while [ $i -le "$nc" ]; do
	klp_cycle || { fail control-cycle "cycle $i: $(dmesg | tail -2 | tr '\n' ' ')"; break; }
	echo "$i $(kmem)" >> /tmp/ctl.txt
	i=$((i + 1))
done
info "control per cycle (cycle, Slab kB, kmalloc bytes): $(tr '\n' ';' < /tmp/ctl.txt)"

# slope FILE COLUMN: that column's least-squares growth per cycle over
# cycles 1..n (the first cycle warms what the kernel keeps for the next load)
slope() {
	awk -v c="$2" 'NR > 1 { x = $1; y = $c; k++; sx += x; sy += y; sxx += x * x; sxy += x * y }
		END { d = k * sxx - sx * sx; printf "%d", d ? (k * sxy - sx * sy) / d : 0 }' "$1"
}
km=$(slope /tmp/mem.txt 3)
kc=$(slope /tmp/ctl.txt 3)
kd=$(awk -v p="$km" -v c="$kc" 'BEGIN { printf "%d", p - (c > 0 ? c : 0) }')
pc=$(awk 'NR == 2 { a = $4 } END { print $4 - a }' /tmp/mem.txt)
what="kmalloc caches: pvlock_guest $km bytes per cycle (least squares over cycles 1-$n), a one-function livepatch $kc (cycles 1-$nc): $kd more"
if [ "$kd" -le "$leak_max" ]; then
	pass no-kmalloc-leak "$what (<= $leak_max)"
else
	fail no-kmalloc-leak "$what (> $leak_max)"
fi
# the per-CPU lock tables (2 kB per CPU per load) are per-CPU memory: what a
# cycle leaks there is whole kilobytes
if [ "$pc" -le 0 ]; then
	pass no-percpu-leak "Percpu: $pc kB over cycles 2-$n ($(sed -n '1p;$p' /tmp/mem.txt | awk '{ printf "%s ", $4 }')kB)"
else
	fail no-percpu-leak "Percpu: $pc kB over cycles 2-$n ($(sed -n '1p;$p' /tmp/mem.txt | awk '{ printf "%s ", $4 }')kB)"
fi

check locktorture-stop rmmod locktorture
if dmesg | grep -q 'spin_lock-torture:--- End of test: SUCCESS'; then
	pass locktorture-success
else
	fail locktorture-success "$(dmesg | grep 'End of test' | tail -1)"
fi
check torture-module-rm rmmod torture
if grep -q pvlock /proc/modules; then fail module-gone "$(grep pvlock /proc/modules)"; else pass module-gone; fi
if [ -e /sys/kernel/livepatch/pvlock_guest ]; then fail livepatch-gone; else pass livepatch-gone; fi
if grep -qE 'queued_spin_lock_slowpath|kvm_wait|kvm_kick_cpu' /sys/kernel/tracing/enabled_functions; then
	fail originals-back "$(cat /sys/kernel/tracing/enabled_functions)"
else
	pass originals-back
fi
