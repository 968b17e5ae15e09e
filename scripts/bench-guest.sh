#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest-module overhead benchmark (not a test): locktorture writes/s in an L2
# KVM guest (the PV slow path) with pvlock_guest in "stock" mode vs not
# loaded, alternating in one boot. Writes OUTDIR/guest-overhead.{csv,md}.
#   bench-guest.sh [OUTDIR]   (default bench/results)
#   BENCH_KERNEL=6.12-bookworm PVLOCK_BENCH_ROUNDS=20 PVLOCK_BENCH_SECS=5
#   PVLOCK_BENCH_EXTRA="NAME=FILE ...": other builds of the module, run in
#     stock mode in the same rounds: FILE is a pvlock_guest.ko, or a patch
#     (.patch) to build one from this tree with, such as the two in
#     bench/variants/: untimed (no wait timing at all) and passthrough (the
#     kernel's own slow path behind the livepatch: the redirect alone)
. "$(dirname "$0")/lib.sh"
. "$PVLOCK_ROOT/tests/qemu/common.sh"

out=${1:-$PVLOCK_ROOT/bench/results}
kid=${BENCH_KERNEL:-6.12-bookworm}
rounds=${PVLOCK_BENCH_ROUNDS:-20}
secs=${PVLOCK_BENCH_SECS:-5}
mkdir -p "$out"
prepare_tools
prepare_kernel "$kid"
prepare_locktorture "$kid"
extra=() variants=stock
for x in ${PVLOCK_BENCH_EXTRA:-}; do
	n=${x%%=*} f=${x#*=}
	[[ $n =~ ^[a-z][a-z0-9]*$ ]] && [ "$n" != none ] && [ "$n" != stock ] && [ "$n" != warmup ] ||
		die "PVLOCK_BENCH_EXTRA: bad name '$n' (lower-case letters and digits; not none, stock, warmup)"
	[ -f "$f" ] || die "PVLOCK_BENCH_EXTRA: no file '$f'"
	f=$(realpath "$f")
	if [[ $f == *.patch ]]; then
		t=$PVLOCK_ROOT/build/bench-variants/$n
		rm -rf "$t"
		mkdir -p "$t"
		(cd "$PVLOCK_ROOT" && tar --exclude=./build -cf - .) | tar -xf - -C "$t" || die "copy for variant $n"
		(cd "$t" && git apply "$f") ||
			die "PVLOCK_BENCH_EXTRA: $f does not apply"
		PVLOCK_ROOT=$t "$t/scripts/build-modules.sh" "$kid" > /dev/null || die "building variant $n failed"
		f=$t/build/kbuild/$kid/guest-mod/pvlock_guest.ko
	fi
	extra+=(-f "$f=/pvlock/x-$n.ko")
	variants+=",$n"
done
l2=$INITRD_DIR/bench-l2-$kid.cpio.gz
l1=$INITRD_DIR/bench-l1-$kid.cpio.gz
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l2" -t "$PVLOCK_ROOT/tests/qemu/bench-overhead.sh" \
	-f "$KO_GUEST=/pvlock/pvlock_guest.ko" "${extra[@]}" -f "$KO_TORTURE=/lt/torture.ko" \
	-f "$KO_LOCKTORTURE=/lt/locktorture.ko" || die "L2 initramfs"
"$PVLOCK_ROOT/scripts/mkinitramfs.sh" -o "$l1" -t "$PVLOCK_ROOT/tests/qemu/bench-l1.sh" \
	-k "$kid" -m kvm_amd -q -f "$VMLINUZ=/boot/vmlinuz" -f "$l2=/boot/l2.cpio.gz" || die "L1 initramfs"
nv=$(($(echo "$variants" | tr , '\n' | wc -l) + 1))
budget=$((rounds * nv * (secs + 12) + 180))
RESULTS=$PVLOCK_ROOT/build/results/bench-guest.txt
export RESULTS
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
# L1: 3 CPUs, 1 and 2 isolated for the L2's two vCPUs (bench-l1.sh), each
# of those on its own host CPU (PVLOCK_HOST_PIN)
PVLOCK_HOST_PIN=1 "$PVLOCK_ROOT/scripts/qemu-run.sh" -n "bench-guest-$kid" -k "$kid" -i "$l1" -s 3 -m 4096 -c max \
	-t $((budget + 60)) -a "isolcpus=1,2 PVLOCK_L2_TIMEOUT=$budget PVLOCK_L2_APPEND=PVLOCK_BENCH_ROUNDS=$rounds%PVLOCK_BENCH_SECS=$secs%PVLOCK_BENCH_VARIANTS=$variants" ||
	msg "the benchmark run reported failures (see $RESULTS)"
log=$PVLOCK_ROOT/build/logs/bench-guest-$kid.log
csv=$out/guest-overhead.csv
echo "round,variant,writes,seconds,writes_per_s" > "$csv"
sed -nE 's/.*PVLOCK-BENCH variant=([a-z0-9]+) round=([0-9]+) writes=([0-9]+) fail=0 cs=([0-9]+).*/\2 \1 \3 \4/p' "$log" |
	awk '$1 > 0 { printf "%s,%s,%s,%.2f,%.1f\n", $1, $2, $3, $4 / 100, $3 / ($4 / 100) }' >> "$csv"
awk -F, -v kid="$kid" -v abi="$ABI" -v rounds="$rounds" -v secs="$secs" -v variants="$variants" \
    -v host="$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" '
function q(a, k, p,   x) {	# quantile p of sorted a[1..k]
	x = 1 + p * (k - 1)
	return a[int(x)] + (x - int(x)) * (a[int(x) + 1] - a[int(x)])
}
NR > 1 { r[$1, $2] = $5; if ($1 > n) n = $1 }
END {
	nv = split(variants, v, ",")
	print "## pvlock_guest overhead: stock mode vs not loaded"
	print ""
	print "L2 KVM guest (2 vCPUs, PV spinlocks) in a TCG L1 of 3 CPUs, each L2 vCPU alone on an isolated L1 CPU, each of those alone on a host CPU; kernel " abi " (" kid "); host: " host "."
	print "locktorture spin_lock, 2 writers per vCPU (writer k pinned to vCPU k mod 2), long_hold=0 rt_boost=0, " secs " s per run, " rounds " rounds, ABBA order."
	print ""
	hdr = "| round | not loaded (writes/s)"; sep = "|---|---"
	for (j = 1; j <= nv; j++) { hdr = hdr " | " (v[j] == "stock" ? "stock mode" : v[j]) " | ratio"; sep = sep "|---|---" }
	print hdr " |"; print sep "|"
	for (i = 1; i <= n; i++) {
		line = sprintf("| %d | %.0f", i, r[i, "none"])
		for (j = 1; j <= nv; j++) {
			x = r[i, v[j]]
			line = line sprintf(" | %.0f | %s", x, (r[i, "none"] > 0 && x > 0) ? sprintf("%.3f", x / r[i, "none"]) : "-")
			if (r[i, "none"] > 0 && x > 0) { k[j]++; ratio[j, k[j]] = x / r[i, "none"]; sx[j] += x; sn[j] += r[i, "none"] }
		}
		print line " |"
	}
	print ""
	for (j = 1; j <= nv; j++) {
		name = v[j] == "stock" ? "stock mode" : v[j]
		if (!k[j]) { print name ": no complete round, see the log"; continue }
		delete a
		for (i = 1; i <= k[j]; i++) a[i] = ratio[j, i]
		for (i = 1; i <= k[j]; i++) for (m = i + 1; m <= k[j]; m++) if (a[m] < a[i]) { t = a[i]; a[i] = a[m]; a[m] = t }
		a[k[j] + 1] = a[k[j]]
		med = q(a, k[j], 0.5)
		printf "%s / not loaded, %d rounds: median %.3f, quartiles %.3f-%.3f, range %.3f-%.3f; ratio of the totals %.3f", \
			name, k[j], med, q(a, k[j], 0.25), q(a, k[j], 0.75), a[1], a[k[j]], sx[j] / sn[j]
		if (v[j] == "stock") printf " (target: median >= 0.97: %s)", (med >= 0.97 ? "met" : "missed")
		printf "\n"
	}
}' "$csv" | tee "$out/guest-overhead.md"
