#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# L1 under TCG with kvm_amd and, first, no pvlock_host. One L2 KVM guest
# (2 vCPUs) runs pvlock_guest and locktorture (one L2 is enough for the
# observer, and every extra L2 adds a chance of the nested flake).
#  - The BPF observer: pvlockctl stats falls back to it and says so; its
#    per-VM and per-vCPU counts move while the L2 runs; JSON, CSV.
#  - pvlockd without pvlock_host: says so once, exports the observer's
#    counts; the endpoint's text passes the strict checker; sd_notify.
#  - Then pvlock_host (whatever the tree has) under the running pvlockd:
#    connect, unload (lost, logged once), reload (back, logged once);
#    pvlockctl's host commands; EPERM for nobody; the fuzzer as root and
#    nobody; SIGHUP with a bad then a good file; SIGTERM.
#  - The systemd unit's privileges (a non-root user with the unit's ambient
#    capabilities, through setpriv) suffice for the observer and for
#    netlink changes; without tracefs the observer says so and how to mount it.
. /lib/pvtest.sh
expect 61

logcount() { grep -c -- "$1" /tmp/pvlockd.log; }

check load-kvm load_kmods
[ -c /dev/kvm ] && pass dev-kvm || fail dev-kvm "no /dev/kvm"
info "kvm module BTF: $(ls /sys/kernel/btf | grep -E '^kvm' | tr '\n' ' ')"
info "kvm_amd pause_filter_count=$(cat /sys/module/kvm_amd/parameters/pause_filter_count 2>&1)"

mkdir -p /run/pvlock /etc/pvlock
cat > /etc/pvlock/pvlockd.conf <<EOC
[tune]
period_ms = 1000
[metrics]
listen = 127.0.0.1:9583
textfile = /run/pvlock/pvlock.prom
[bpf]
observer = auto
EOC
expect_out example-config-valid ': OK$' pvlockd --check-config -c /etc/pvlock/pvlockd.conf.example
notify-listen /run/notify.sock 600 > /tmp/notify.log 2>&1 &
npid=$!
usleep 200000
# as systemd starts it under WatchdogSec=2s: WATCHDOG=1 at least every second
NOTIFY_SOCKET=/run/notify.sock WATCHDOG_USEC=2000000 pvlockd > /tmp/pvlockd.log 2>&1 &
dpid=$!
if wait_for 10 grep -q '^READY=1' /tmp/notify.log; then
	pass pvlockd-ready "$(tr '\n' ' ' < /tmp/notify.log | head -c 200)"
else
	fail pvlockd-ready "$(cat /tmp/notify.log /tmp/pvlockd.log | tr '\n' ' ' | head -c 300)"
fi

PVLOCK_L2_APPEND=PVLOCK_L2_SECS=40
run_l2 a 2 256 240 /boot/l2.cpio.gz
# until the guest runs its load (it prints a sample then)
if wait_for 150 grep -q "sample t=" /tmp/l2-a.log; then
	pass l2-load-running
else
	fail l2-load-running "$(tail -3 /tmp/l2-a.log | tr '\n' '|')"
fi

# --- pvlockctl stats: falls back to the BPF observer and says so ------------
out=$(pvlockctl stats --once -d 2 2>/tmp/stats.err)
rc=$?
if [ $rc -eq 0 ] && grep -q "pvlock_host is not loaded: these are the BPF observer's counts" /tmp/stats.err &&
	echo "$out" | grep -q '^source: bpf: BPF observer of KVM' &&
	echo "$out" | grep -Eq '^a +exits +[0-9]+ +[0-9.]+$'; then
	pass bpf-stats-table
else
	fail bpf-stats-table "rc=$rc $(cat /tmp/stats.err) $(echo "$out" | head -12 | tr '\n' '|')"
fi
echo "$out" | sed 's/^/PVLOCK-SHOW [L1 stats --once, BPF] /'
# 6 s: longer than pvlock_guest's 5 s re-probe, so its HELLO hypercalls show
js=$(pvlockctl -j stats --once -d 6 2>/dev/null)
echo "$js" | sed 's/^/PVLOCK-SHOW [L1 stats -j, BPF] /' | head -c 3000; echo
v() {	# v VM COUNTER FIELD
	echo "$js" | jq -r --arg e "$1" --arg c "$2" \
		"[.rows[] | select(.entity == \$e and .counter == \$c) | .$3] | first // \"absent\""
}
for vm in a; do
	ex=$(v $vm exits rate) hlt=$(v $vm hlt_exits total) hc=$(v $vm hypercall_exits total)
	if echo "$js" | jq -e '.source == "bpf"' >/dev/null && [ "$ex" != absent ] && [ "$ex" != null ] &&
		awk -v r="$ex" 'BEGIN { exit !(r > 0) }' && [ "$hlt" != absent ] && [ "$hlt" -gt 0 ]; then
		pass "bpf-counts-move-$vm" "exits/s=$ex hlt_exits=$hlt hypercall_exits=$hc"
	else
		fail "bpf-counts-move-$vm" "exits rate=$ex hlt=$hlt"
	fi
	kick=$(v $vm hc_kick_cpu total) pv=$(v $vm hc_pvlock total)
	info "bpf $vm: hc_kick_cpu=$kick hc_pvlock=$pv hc_sched_yield=$(v $vm hc_sched_yield total) yield_to=$(v $vm yield_to total) on_spin=$(v $vm on_spin total) pause_exits=$(v $vm pause_exits total)"
	# pvlock_guest says hello at load and re-probes every 5 s; without pvlock_host KVM
	# answers -ENOSYS, and the observer sees pvlock's numbers
	if [ "$pv" != absent ] && [ "$pv" -gt 0 ]; then
		pass "bpf-pvlock-hypercalls-$vm" "hc_pvlock=$pv"
	else
		fail "bpf-pvlock-hypercalls-$vm" "hc_pvlock=$pv (notes: $(echo "$js" | jq -c .notes))"
	fi
done
# PAUSE exits cannot happen under TCG (no pause filter): the output must say so
pfc=$(cat /sys/module/kvm_amd/parameters/pause_filter_count 2>/dev/null)
pa=$(v a pause_exits total)
if [ "$pfc" = 0 ]; then
	if echo "$js" | jq -e '[.notes[] | select(test("pause-loop exiting is off"))] | length == 1' >/dev/null &&
		{ [ "$pa" = absent ] || [ "$pa" = 0 ]; }; then
		pass bpf-pause-explained "$(echo "$js" | jq -r '.notes[0]')"
	else
		fail bpf-pause-explained "pause_exits=$pa notes=$(echo "$js" | jq -c .notes)"
	fi
else
	info "pause filter present (pause_filter_count=$pfc): pause_exits=$pa"
fi
# on_spin: counted (fentry/fexit attached) or its absence explained
if echo "$js" | jq -e '[.notes[] | select(test("on_spin, yield_to: not counted"))] | length == 1' >/dev/null; then
	info "on_spin/yield_to not counted here: $(echo "$js" | jq -r '.notes[] | select(test("on_spin, yield_to"))')"
	pass bpf-on-spin-accounted "explained in a note"
else
	js2=$(pvlockctl -j stats --bpf --once --all -d 0.5 2>/dev/null)
	if echo "$js2" | jq -e '[.rows[] | select(.counter == "on_spin")] | length >= 1' >/dev/null; then
		pass bpf-on-spin-accounted "fexit kvm_vcpu_on_spin attached"
	else
		fail bpf-on-spin-accounted "no on_spin rows and no note"
	fi
fi
js=$(pvlockctl -j stats --bpf --once --per-vcpu --all -d 1 2>/dev/null)
ents=$(echo "$js" | jq -r '[.rows[].entity] | unique | join(" ")')
if [ "$ents" = "a/vcpu0 a/vcpu1" ]; then
	pass bpf-per-vcpu "$ents"
else
	fail bpf-per-vcpu "entities: $ents"
fi
ents=$(pvlockctl -j stats a --bpf --once -d 0.5 2>/dev/null | jq -r '[.rows[].entity] | unique | join(" ")')
[ "$ents" = a ] && pass bpf-one-vm || fail bpf-one-vm "entities: $ents"
csv=$(pvlockctl stats --bpf --log -d 0.5 -n 2 2>/dev/null)
if [ "$(echo "$csv" | head -1)" = "time_s,source,entity,vm_id,pid,cpu,counter,total,rate" ] &&
	echo "$csv" | grep -Eq '^[0-9.]+,bpf,a,,[0-9]+,,exits,[0-9]+,[0-9.]+$'; then
	pass bpf-csv
else
	fail bpf-csv "$(echo "$csv" | head -3 | tr '\n' '|')"
fi
expect_rc bpf-nobody 1 'needs CAP_BPF and CAP_PERFMON' nobody pvlockctl stats --bpf --once -d 0.2
# what daemon/dist/pvlockd.service grants (DynamicUser + AmbientCapabilities) is enough
CAPS=+net_admin,+bpf,+perfmon,+sys_ptrace,+dac_read_search
unitlike() {	# as a non-root user with the unit's ambient capabilities (util-linux's setpriv, not busybox's)
	/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=$CAPS --ambient-caps=$CAPS "$@"
}
# Debian's perf_event_paranoid level 3 (its default) lets only CAP_SYS_ADMIN
# open perf events, which the tracepoints are attached through: named, with
# the fix; at level 2 the unit's capabilities count the exits, and the
# fentry/fexit counters (kvm.ko's BTF needs CAP_SYS_ADMIN) are explained
par=$(cat /proc/sys/kernel/perf_event_paranoid)
echo 3 > /proc/sys/kernel/perf_event_paranoid
expect_rc bpf-unit-paranoid 1 'perf_event_paranoid is 3.*sysctl kernel.perf_event_paranoid=2' \
	unitlike pvlockctl stats --bpf --once -d 0.2
echo 2 > /proc/sys/kernel/perf_event_paranoid
if expect_out bpf-unit-privileges '^a +exits +[0-9]+' unitlike pvlockctl stats --bpf --once -d 0.5; then
	expect_out bpf-unit-spin-explained 'on_spin, yield_to: not counted: .*needs CAP_SYS_ADMIN' \
		unitlike pvlockctl stats --bpf --once -d 0.2
else
	fail bpf-unit-spin-explained "not loaded"
	# libbpf's whole story, for the log
	PVLOCK_BPF_DEBUG=1 unitlike pvlockctl stats --bpf --once -d 0.2 2>&1 | grep -v '^libbpf: *$' |
		tail -25 | sed 's/^/    bpf-debug: /'
fi
echo "$par" > /proc/sys/kernel/perf_event_paranoid
# the preconditions, named: tracefs unmounted (and debugfs, where it appears too)
umount /sys/kernel/tracing 2>/dev/null
umount /sys/kernel/debug 2>/dev/null
expect_rc bpf-no-tracefs 1 'tracefs is not mounted.*mount -t tracefs tracefs /sys/kernel/tracing' \
	pvlockctl stats --bpf --once -d 0.2
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing

# --- pvlockd's metrics without pvlock_host: the observer's counts -----------
wget -q -O /tmp/metrics.txt http://127.0.0.1:9583/metrics
out=$(promcheck -r pvlock_kvm_exits_total -r pvlock_kvm_hypercalls_total -r pvlock_host_up \
	-r pvlockd_bpf_observer_up /tmp/metrics.txt)
if [ $? -eq 0 ] && grep -q '^pvlock_host_up 0$' /tmp/metrics.txt &&
	grep -q '^pvlockd_bpf_observer_up 1$' /tmp/metrics.txt &&
	grep -Eq '^pvlock_kvm_exits_total\{vm="a",pid="[0-9]+",reason="hlt"\} [1-9][0-9]*$' /tmp/metrics.txt &&
	grep -Eq '^pvlock_kvm_hypercalls_total\{vm="a",pid="[0-9]+",nr="pvlock"\} [1-9][0-9]*$' /tmp/metrics.txt; then
	pass metrics-endpoint-bpf "$out"
else
	fail metrics-endpoint-bpf "$out $(grep -E 'kvm_(exits|hypercalls)|_up ' /tmp/metrics.txt | tr '\n' '|')"
fi
grep -E '^pvlock_kvm_(exits|hypercalls)_total' /tmp/metrics.txt | sed 's/^/PVLOCK-SHOW [L1 metrics] /'
# the module's families and the observer's carry the same identity labels
if grep -E '^pvlock_(vm|kvm)_' /tmp/metrics.txt | grep -vqE '^[a-z_]+\{vm="[^"]*",pid="[0-9]+"'; then
	fail metrics-identity-labels "$(grep -E '^pvlock_(vm|kvm)_' /tmp/metrics.txt | grep -vE '\{vm="[^"]*",pid=' | head -2)"
else
	pass metrics-identity-labels "{vm, pid} on every per-VM sample"
fi
expect_out metrics-textfile 'promcheck: OK' promcheck -r pvlock_kvm_exits_total /run/pvlock/pvlock.prom
expect_rc metrics-404 1 '' wget -q -O /dev/null http://127.0.0.1:9583/nothing
[ "$(logcount 'not tuning until it is')" -eq 1 ] && pass pvlockd-missing-logged-once ||
	fail pvlockd-missing-logged-once "$(logcount 'not tuning until it is') times"
expect_out pvlockd-bpf-started 'BPF observer started' cat /tmp/pvlockd.log

wait_l2 a
for vm in a; do
	n=$(grep -c "^PVLOCK-INFO sample" "/tmp/l2-$vm.log")
	hs=$(grep "^PVLOCK-INFO sample" "/tmp/l2-$vm.log" | tail -1 | sed 's/.*handshake=\([A-Za-z_-]*\).*/\1/' | tr -d '\r')
	info "L2 $vm: $n samples, handshake $hs"
done

# --- pvlock_host under the running pvlockd ----------------------------------
check insmod-host insmod /pvlock/pvlock_host.ko
if wait_for 5 grep -q 'connected to pvlock_host' /tmp/pvlockd.log; then
	pass pvlockd-connects "$(grep 'connected to pvlock_host' /tmp/pvlockd.log)"
else
	fail pvlockd-connects "$(tail -3 /tmp/pvlockd.log | tr '\n' ' ')"
fi
wait_for 5 grep -q 'BPF observer stopped' /tmp/pvlockd.log && pass pvlockd-bpf-stops ||
	fail pvlockd-bpf-stops "$(tail -3 /tmp/pvlockd.log | tr '\n' ' ')"
sleep 2
wget -q -O /tmp/metrics.txt http://127.0.0.1:9583/metrics
out=$(promcheck -r pvlock_host_up -r pvlock_host_vms /tmp/metrics.txt)
if [ $? -eq 0 ] && grep -q '^pvlock_host_up 1$' /tmp/metrics.txt; then
	pass metrics-host-up "$out"
else
	fail metrics-host-up "$out"
fi
expect_out host-vm-list '^ *ID +NAME +PID' pvlockctl vm list
expect_out host-vm-list-json '^\[' pvlockctl -j vm list
expect_rc host-unknown-vm 1 "no VM 'nosuch' on this host" pvlockctl vm show nosuch
expect_rc host-set-unknown-vm 1 "no VM 'nosuch'" pvlockctl set vm nosuch threshold 1024
expect_out host-get '^budget +[0-9]+$' pvlockctl -H get budget
check host-set-budget unitlike pvlockctl -H set budget 2000
expect_out host-set-reads-back '^budget +2000$' pvlockctl -H get budget
expect_rc host-set-range 2 'period_ms 5 is out of range: allowed 10\.\.60000' pvlockctl -H set period_ms 5
expect_rc host-set-zero-hint 0 '' pvlockctl -H set threshold 0
expect_rc host-not-settable 2 'mode cannot be set on pvlock_host' pvlockctl -H set mode stock
check host-set-pin pvlockctl -H set --pin threshold 4096
js=$(pvlockctl -j -H get)
if echo "$js" | jq -e '.params.threshold == 4096 and .params.pinned == ["threshold"]' >/dev/null; then
	pass host-pin-reads-back "$(echo "$js" | jq -c .params)"
else
	fail host-pin-reads-back "$js"
fi
check host-unpin pvlockctl -H set pinned none threshold 0
before=$(pvlockctl -j -H get | jq -c .params)
expect_rc host-nobody-set 1 'permission denied \(changing pvlock_host needs CAP_NET_ADMIN\)' \
	nobody pvlockctl -H set budget 5
expect_rc host-nobody-reset 1 'permission denied' nobody pvlockctl -H reset
expect_out host-nobody-reads '^budget' nobody pvlockctl -H get budget
after=$(pvlockctl -j -H get | jq -c .params)
[ "$before" = "$after" ] && pass host-nobody-changed-nothing || fail host-nobody-changed-nothing "$before -> $after"
check host-reset pvlockctl -H reset

# the fuzzer: pvlockd writes per-VM values only, and no VM runs now, so
# every parameter must read back as it was
out=$(pvlock-fuzz host "${PVLOCK_FUZZ_MSGS:-10000}" 2>&1)
rc=$?
echo "$out" | grep -v '^pvlock-fuzz: ' | sed 's/^/PVLOCK-INFO /'
echo "$out" | grep '^pvlock-fuzz: ' | head -5 | sed 's/^/PVLOCK-INFO /'
if [ $rc -eq 0 ] && echo "$out" | grep -q 'result=ok'; then
	pass fuzz-host-root "$(echo "$out" | grep -o 'sent=[0-9]* errors=[0-9]* dropped=[0-9]*')"
else
	fail fuzz-host-root "$(echo "$out" | tail -3 | tr '\n' ' ')"
fi
out=$(nobody pvlock-fuzz host "${PVLOCK_FUZZ_UNPRIV:-2000}" 7 2>&1)
rc=$?
echo "$out" | sed 's/^/PVLOCK-INFO /' | tail -2
if [ $rc -eq 0 ] && echo "$out" | grep -q 'unprivileged.*result=ok'; then
	pass fuzz-host-nobody "$(echo "$out" | grep -o 'eperm=[0-9/]*')"
else
	fail fuzz-host-nobody "$(echo "$out" | tail -3 | tr '\n' ' ')"
fi
after=$(pvlockctl -j -H get | jq -c .params)
[ "$before" = "$after" ] && pass fuzz-host-params-unchanged || fail fuzz-host-params-unchanged "$before -> $after"

# unload and reload under pvlockd and a monitor
pvlockctl -j -H monitor -t 12 > /tmp/hmon.json 2>&1 &
mpid=$!
usleep 500000
check rmmod-host rmmod pvlock_host
wait_for 5 grep -q 'lost pvlock_host' /tmp/pvlockd.log
sleep 3
check reinsmod-host insmod /pvlock/pvlock_host.ko
wait_for 5 grep -q 'pvlock_host is back' /tmp/pvlockd.log
sleep 2
if [ "$(logcount 'lost pvlock_host')" -eq 1 ] && [ "$(logcount 'pvlock_host is back')" -eq 1 ] &&
	kill -0 $dpid 2>/dev/null; then
	pass pvlockd-survives-reload "$(grep -E 'lost pvlock_host|is back' /tmp/pvlockd.log | tr '\n' '|')"
else
	fail pvlockd-survives-reload "lost=$(logcount 'lost pvlock_host') back=$(logcount 'pvlock_host is back') $(tail -5 /tmp/pvlockd.log | tr '\n' '|')"
fi
wait $mpid
if grep -q '"event":"module-unloaded"' /tmp/hmon.json && grep -q '"event":"module-loaded"' /tmp/hmon.json; then
	pass host-monitor-follows-reload
else
	fail host-monitor-follows-reload "$(head -c 300 /tmp/hmon.json)"
fi

# SIGHUP: a bad file is refused whole, a good one taken
cp /etc/pvlock/pvlockd.conf /tmp/good.conf
printf '[tune]\nperiod_ms = 1000\nmin = 3\n[metrics]\nlisten = 127.0.0.1:9584\n' > /etc/pvlock/pvlockd.conf
kill -HUP $dpid
sleep 2
if grep -q 'pvlockd.conf:3: tune.min = .3.: out of range' /tmp/pvlockd.log && grep -q 'reload refused' /tmp/pvlockd.log &&
	wget -q -O /dev/null http://127.0.0.1:9583/metrics && ! wget -q -O /dev/null http://127.0.0.1:9584/metrics; then
	pass pvlockd-bad-reload-refused
else
	fail pvlockd-bad-reload-refused "$(tail -4 /tmp/pvlockd.log | tr '\n' '|')"
fi
# a good file with another port and another textfile: the old file must go
sed 's/9583/9584/; s|/run/pvlock/pvlock.prom|/run/pvlock/other.prom|' /tmp/good.conf > /etc/pvlock/pvlockd.conf
kill -HUP $dpid
sleep 2
if grep -q 'configuration reloaded' /tmp/pvlockd.log && wget -q -O /tmp/m2.txt http://127.0.0.1:9584/metrics &&
	promcheck /tmp/m2.txt >/dev/null && grep -c '^RELOADING=1' /tmp/notify.log | grep -q '^2$'; then
	pass pvlockd-reload
else
	fail pvlockd-reload "$(tail -4 /tmp/pvlockd.log | tr '\n' '|') notify: $(tr '\n' ' ' < /tmp/notify.log | tail -c 200)"
fi
if [ ! -e /run/pvlock/pvlock.prom ] && [ -s /run/pvlock/other.prom ]; then
	pass pvlockd-reload-textfile "old textfile removed, new one written"
else
	fail pvlockd-reload-textfile "$(ls -l /run/pvlock | tr '\n' '|')"
fi
n=$(grep -c '^WATCHDOG=1' /tmp/notify.log)
if [ "$n" -ge 10 ] && grep -q 'systemd watchdog: 2.0 s' /tmp/pvlockd.log; then
	pass pvlockd-watchdog "$n WATCHDOG=1 pings"
else
	fail pvlockd-watchdog "$n pings; $(grep -m1 watchdog /tmp/pvlockd.log)"
fi
kill -TERM $dpid
wait $dpid
rc=$?
if [ $rc -eq 0 ] && grep -q 'stopping' /tmp/pvlockd.log && [ ! -e /run/pvlock/other.prom ]; then
	pass pvlockd-sigterm "rc=0, textfile removed"
else
	fail pvlockd-sigterm "rc=$rc $(tail -2 /tmp/pvlockd.log | tr '\n' '|') $(ls /run/pvlock)"
fi
wait $npid
grep -q '^STOPPING=1' /tmp/notify.log && pass pvlockd-notify-stopping || fail pvlockd-notify-stopping "$(cat /tmp/notify.log | tr '\n' ' ')"
sed 's/^/PVLOCK-INFO pvlockd: /' /tmp/pvlockd.log | head -40
check rmmod-host-end rmmod pvlock_host
