#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# TCG guest: pvlockctl against the real pvlock_guest. Missing-module
# messages; stats (table, JSON checked against pvlock-query's counters,
# per CPU, CSV); locks; get/set with range errors that change nothing;
# reset; monitor (lines, JSON lines, a module going away); an unprivileged
# user refused with EPERM and changing nothing; the netlink fuzzer as root
# and as nobody; unload through the livepatch. And the command line itself:
# usage errors exit 2 before anything is sent (no module is loaded then, so
# an exit 1 "not found" would mean it tried), help everywhere, unique-prefix
# abbreviations, -o columns, human units, -j help params.
. /lib/pvtest.sh
expect 98

q=pvlock-query
FUZZ=${PVLOCK_FUZZ_MSGS:-10000}
FUZZ_UNPRIV=${PVLOCK_FUZZ_UNPRIV:-2000}

param() {	# param NAME: the module's current value, as get prints it
	pvlockctl -G get "$1" | awk '{ print $2 }'
}

# --- without the module ----------------------------------------------------
missing='pvlock_guest netlink family not found \(is pvlock_guest.ko loaded\?\)'
expect_rc missing-stats 1 "$missing" pvlockctl -G stats --once -d 0.1
expect_rc missing-get 1 "$missing" pvlockctl -G get
expect_rc missing-set 1 "$missing" pvlockctl -G set threshold 1024
expect_rc missing-locks 1 "$missing" pvlockctl locks
expect_rc missing-monitor 1 "$missing" pvlockctl -G monitor -t 1
expect_rc missing-host 1 'pvlock_host netlink family not found \(is pvlock_host.ko loaded\?\)' \
	pvlockctl -H vm list
expect_rc missing-unload 1 'pvlock_guest is not loaded' pvlockctl unload
expect_rc usage-exit-2 2 'unknown option' pvlockctl -G stats --bogus

# --- the command line, still without the module: checked before any netlink ---
expect_rc usage-bad-value-nothing-sent 2 "mode: 'turbo' is not a valid value" pvlockctl -G set mode turbo
expect_rc usage-bad-value-any-family 2 'threshold 8 is out of range' pvlockctl set threshold 8
expect_rc usage-bad-name 2 "has no parameter 'bogus'" pvlockctl get bogus
expect_rc usage-bad-column 2 "unknown column 'bogus'" pvlockctl -o bogus stats --once
expect_rc usage-bad-regex 2 "stats: -f" pvlockctl stats -f '('
expect_rc usage-ambiguous 2 "'st' is ambiguous: status, stats" pvlockctl st
expect_rc usage-unknown-object 2 "unknown object 'frobnicate'" pvlockctl frobnicate
expect_rc usage-short-name 2 '^pvlockctl: unknown object' /usr/bin/pvlockctl frobnicate
expect_rc abbrev-reaches-module 1 'pvlock_guest netlink family not found' pvlockctl -G mon -t 1
for obj in status vm stats locks get set reset monitor unload; do
	expect_rc "help-$obj" 0 '^Usage: pvlockctl' pvlockctl $obj help
done
expect_rc help-topic 0 '^Usage: pvlockctl stats' pvlockctl help stats
expect_out help-short-options '-1, --once.*' pvlockctl stats -h
expect_out help-columns 'rate +per second' pvlockctl stats help
expect_out help-params-json '^set$' sh -c 'pvlockctl -j help params | jq -r ".[] | select(.name == \"mode\") | .guest"'

# --- load, and make some contention -----------------------------------------
if ! insmod /pvlock/pvlock_guest.ko; then
	fail insmod "$(dmesg | grep pvlock | tail -3)"
	exit 1
fi
pass insmod
check livepatch-applied guest_patched
# under TCG the kernel takes its test-and-set lock: queue, so the slow path counts
check set-force-queue pvlockctl -G set force_queue yes
check torture-module insmod /lt/torture.ko
check lt-start insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
	nwriters_stress=$((2 * $(nproc)))
sleep 3

# rates while the load runs
js=$(pvlockctl -j -G stats --once -d 1)
if echo "$js" | jq -e '.source == "pvlock_guest" and .interval_s > 0.5 and
	([.rows[] | select(.entity == "total" and .counter == "slowpath" and .rate > 0)] | length == 1)' \
	>/dev/null; then
	pass stats-rate-under-load "$(echo "$js" | jq -c '.rows[] | select(.counter == "slowpath") | {total, rate}')"
else
	fail stats-rate-under-load "$(echo "$js" | head -c 300)"
fi
out=$(pvlockctl -G stats --once -d 0.5 --all 2>&1)
if echo "$out" | grep -q '^source: pvlock_guest: ' && echo "$out" | grep -Eq '^CPU +EVENT +TOTAL +RATE/s' &&
	echo "$out" | grep -Eq '^total +slowpath +[0-9]+ +[0-9.]+$'; then
	pass stats-table
else
	fail stats-table "$(echo "$out" | head -8 | tr '\n' '|')"
fi
# times for people: wait_ns in seconds (or ms, us), its rate as a share of CPU time
if echo "$out" | grep -Eq '^total +wait_ns +[0-9.]+ (ns|us|ms|s) +([0-9.]+ (ns|us|ms|s) \([0-9.e-]+%\)|-)$'; then
	pass stats-human-units "$(echo "$out" | grep -E '^total +wait_ns' | tr -s ' ')"
else
	fail stats-human-units "$(echo "$out" | grep -E 'wait_ns' | tr '\n' '|')"
fi
# kvm_stat's -f; -o picks columns; -T stamps the wall clock
fo=$(pvlockctl -G -o counter,total stats -1 -d 0.2 -a -f '^(slowpath|halts)$' 2>&1)
if [ "$(echo "$fo" | grep -cE '^(slowpath|halts) +[0-9]+$')" -eq 2 ] &&
	! echo "$fo" | grep -Eq '^(total|yields|wait_ns)'; then
	pass stats-filter-columns "$(echo "$fo" | tail -2 | tr -s ' ' | tr '\n' '|')"
else
	fail stats-filter-columns "$(echo "$fo" | tail -4 | tr '\n' '|')"
fi
expect_out stats-wallclock-csv '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2},pvlock_guest,total,' \
	pvlockctl -G stats --log -T -d 0.2 -n 1 -f slowpath
echo "$out" | sed 's/^/PVLOCK-SHOW [guest stats --once] /' | head -20
locks_during=$($q guest-locks)
check lt-stop rmmod locktorture
sleep 1

# --- stats JSON against the module: q1 <= pvlockctl <= q2 for every counter, ---
# read around it by pvlock-genl (raw netlink: no code shared with pvlockctl)
q1=$(pvlock-genl guest-stats)
js=$(pvlockctl -j -G stats --once -d 0.2)
q2=$(pvlock-genl guest-stats)
bad=
n=0
for c in $(echo "$q1" | jq -r 'del(.hist) | keys[]'); do
	[ "$c" = threshold ] && continue	# a level, not a count
	a=$(echo "$q1" | jq -r ".$c")
	b=$(echo "$q2" | jq -r ".$c")
	v=$(echo "$js" | jq -r --arg c "$c" '.rows[] | select(.entity == "total" and .counter == $c) | .total')
	n=$((n + 1))
	if [ -z "$v" ] || [ "$v" -lt "$a" ] || [ "$v" -gt "$b" ]; then
		bad="$bad $c:$a<=$v<=$b"
	fi
done
if [ -z "$bad" ] && [ $n -ge 20 ]; then
	pass stats-json-matches-module "$n counters"
else
	fail stats-json-matches-module "n=$n:$bad"
fi
# per CPU: one entity per CPU, and they add up to the totals
js=$(pvlockctl -j -G stats --once --per-cpu -d 0.2)
q2=$($q guest-stats)
ncpu=$(echo "$js" | jq '[.rows[].entity] | unique | length')
sum=$(echo "$js" | jq '[.rows[] | select(.counter == "slowpath") | .total] | add')
a=$(echo "$q1" | jq .slowpath)
b=$(echo "$q2" | jq .slowpath)
if [ "$ncpu" -eq "$(nproc)" ] && [ "$sum" -ge "$a" ] && [ "$sum" -le "$b" ]; then
	pass stats-per-cpu "cpus=$ncpu slowpath sum=$sum"
else
	fail stats-per-cpu "cpus=$ncpu (want $(nproc)) sum=$sum not in [$a, $b]"
fi
# CSV: the header, then rows of 9 fields
csv=$(pvlockctl -G stats --log -d 0.2 -n 2 --all)
if [ "$(echo "$csv" | head -1)" = "time_s,source,entity,vm_id,pid,cpu,counter,total,rate" ] &&
	[ "$(echo "$csv" | tail -n +2 | awk -F, 'NF != 9' | wc -l)" -eq 0 ] &&
	[ "$(echo "$csv" | grep -c ',pvlock_guest,total,,,,slowpath,')" -eq 2 ]; then
	pass stats-csv "$(echo "$csv" | wc -l) lines"
else
	fail stats-csv "$(echo "$csv" | head -3 | tr '\n' '|')"
fi
expect_rc stats-vm-in-guest 2 'host matter' pvlockctl -G stats web1

# --- locks -----------------------------------------------------------------
out=$(pvlockctl locks)
if echo "$out" | head -1 | grep -Eq '^LOCK +ADDRESS +CONTENDED' && [ "$(echo "$out" | wc -l)" -ge 2 ] &&
	echo "$out" | sed -n 2p | grep -Eq ' [0-9.]+ (ns|us|ms|s) +[0-9.]+ (ns|us|ms|s) +[0-9.]+ (ns|us|ms|s)$'; then
	pass locks-table "$(echo "$out" | sed -n 2p | tr -s ' ')"
else
	fail locks-table "$(echo "$out" | head -3 | tr '\n' '|')"
fi
js=$(pvlockctl -j locks)
ql=$($q guest-locks)
if [ "$(echo "$js" | jq length)" -ge 1 ] && [ "$(echo "$js" | jq -r '.[0].addr')" = "$(echo "$ql" | jq -r '.[0].addr')" ] &&
	[ "$(echo "$js" | jq -r '.[0].contended')" = "$(echo "$ql" | jq -r '.[0].contended')" ]; then
	pass locks-json-matches-module "$(echo "$js" | jq -c '.[0] | {symbol, contended}')"
else
	fail locks-json-matches-module "ctl=$(echo "$js" | head -c 200) query=$(echo "$ql" | head -c 200)"
fi
expect_out locks-top-1 '^1$' sh -c 'pvlockctl -j locks --top 1 | jq length'

# --- get / set ----------------------------------------------------------------
js=$(pvlockctl -j -G get)
st=$(pvlockctl -j -G status)
if echo "$js" | jq -e '.family == "pvlock_guest" and (.params.mode | type) == "string" and
	(.params.threshold | type) == "number" and (.params.yield | type) == "boolean"' >/dev/null &&
	[ "$(echo "$js" | jq -c .params)" = "$(echo "$st" | jq -c .guest.params)" ]; then
	pass get-json "$(echo "$js" | jq -c .params)"
else
	fail get-json "get=$js status=$(echo "$st" | jq -c .guest.params)"
fi
expect_out get-one-line '^threshold +[0-9]+$' pvlockctl -G get threshold
check set-mode-threshold pvlockctl -G set mode fixed threshold 4096
if [ "$(param mode)" = fixed ] && [ "$(param threshold)" = 4096 ]; then
	pass set-reads-back
else
	fail set-reads-back "mode=$(param mode) threshold=$(param threshold)"
fi
before=$(pvlockctl -j -G get | jq -c .params)
expect_rc set-range-low 2 'threshold 8 is out of range: allowed 16\.\.4194304' pvlockctl -G set threshold 8
expect_rc set-range-high 2 'allowed 16\.\.4194304' pvlockctl -G set max 99999999999
expect_rc set-not-settable 2 'budget cannot be set on pvlock_guest' pvlockctl -G set budget 5
expect_rc set-read-only 2 'host_threshold cannot be set on pvlock_guest: read-only' \
	pvlockctl -G set host_threshold 100
expect_rc set-bad-mode 2 "allowed stock, adaptive or fixed" pvlockctl -G set mode turbo
expect_rc set-bad-bool 2 "allowed yes or no" pvlockctl -G set yield maybe
expect_rc set-unknown 2 "unknown parameter 'bogus'" pvlockctl -G set bogus 1
expect_rc set-no-value 2 'needs a value' pvlockctl -G set threshold
expect_rc set-one-bad-of-two 2 'out of range' pvlockctl -G set mode stock threshold 1
expect_rc set-pin-guest 2 'pvlock_guest has none' pvlockctl -G set --pin threshold 1024
# the module's own rule (min <= threshold): refused by the kernel, in its words
expect_rc set-kernel-refuses 1 'threshold must lie within \[min, max\]' pvlockctl -G set min 5000
expect_rc get-unknown 2 "has no parameter 'bogus'" pvlockctl -G get bogus
after=$(pvlockctl -j -G get | jq -c .params)
if [ "$before" = "$after" ]; then
	pass bad-sets-change-nothing
else
	fail bad-sets-change-nothing "before=$before after=$after"
fi
js=$(pvlockctl -j -G set threshold 2048)
if echo "$js" | jq -e '.params.threshold == 2048' >/dev/null; then
	pass set-json-reply
else
	fail set-json-reply "$js"
fi

# --- monitor ------------------------------------------------------------------
pvlockctl -j -G monitor -n 2 -t 20 > /tmp/mon.json 2>&1 &
mpid=$!
usleep 500000
pvlockctl -G set yield no
pvlockctl -G set yield yes
wait $mpid
mrc=$?
if [ $mrc -eq 0 ] && [ "$(wc -l < /tmp/mon.json)" -eq 2 ] &&
	[ "$(jq -s '[.[] | select(.family == "pvlock_guest" and .event == "params")] | length' /tmp/mon.json)" -eq 2 ] &&
	[ "$(jq -s '.[0].params.yield == false and .[1].params.yield == true' /tmp/mon.json)" = true ]; then
	pass monitor-json-lines
else
	fail monitor-json-lines "rc=$mrc $(head -c 300 /tmp/mon.json)"
fi
# mon_line NAME THRESHOLD STAMP [OPTION]: one monitor line, its stamp matching STAMP
mon_line() {
	pvlockctl -G monitor $4 -n 1 -t 20 > /tmp/mon.txt 2>&1 &
	mpid=$!
	usleep 500000
	pvlockctl -G set threshold "$2"
	wait $mpid
	if grep -Eq "^\\[$3\\] pvlock_guest params .*threshold=$2" /tmp/mon.txt; then
		pass "$1" "$(head -1 /tmp/mon.txt)"
	else
		fail "$1" "$(head -c 300 /tmp/mon.txt)"
	fi
}
mon_line monitor-text 3000 ' *[0-9]+\.[0-9]{6}'
mon_line monitor-wallclock 3001 '20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}:[0-9]{2}' -T
expect_rc monitor-timeout 0 '' pvlockctl -G monitor -t 1
check restore-params pvlockctl -G set mode adaptive threshold 32768

# --- reset --------------------------------------------------------------------
a=$($q guest-stats | jq .slowpath)
check reset pvlockctl -G reset
b=$($q guest-stats | jq .slowpath)
if [ "$a" -gt 100 ] && [ "$b" -lt "$a" ]; then
	pass reset-zeroes "slowpath $a -> $b"
else
	fail reset-zeroes "slowpath $a -> $b"
fi
# some activity again so that a reset would be visible below
check lt-again insmod /lt/locktorture.ko torture_type=spin_lock stat_interval=0 verbose=0 \
	nwriters_stress=$((2 * $(nproc)))
sleep 2
check lt-again-stop rmmod locktorture

# --- an unprivileged user: reads yes, changes no ------------------------------
expect_out nobody-is-nobody '^65534$' nobody id -u
expect_out nobody-stats 'slowpath' nobody pvlockctl -G stats --once -d 0.1
expect_out nobody-get '^threshold' nobody pvlockctl -G get threshold
expect_out nobody-status 'livepatch +enabled' nobody pvlockctl -G status
expect_out nobody-locks 'LOCK' nobody pvlockctl locks
before=$(pvlockctl -j -G get | jq -c .params)
a=$($q guest-stats | jq .slowpath)
expect_rc nobody-set-eperm 1 'permission denied \(changing pvlock_guest needs CAP_NET_ADMIN\)' \
	nobody pvlockctl -G set threshold 2048
expect_rc nobody-reset-eperm 1 'permission denied' nobody pvlockctl -G reset
expect_rc nobody-unload-eperm 1 'permission denied' nobody pvlockctl unload
after=$(pvlockctl -j -G get | jq -c .params)
b=$($q guest-stats | jq .slowpath)
if [ "$before" = "$after" ] && [ "$b" -ge "$a" ] && [ "$a" -gt 0 ] &&
	[ "$(cat /sys/kernel/livepatch/pvlock_guest/enabled)" = 1 ]; then
	pass nobody-changed-nothing "slowpath $a -> $b, livepatch still enabled"
else
	fail nobody-changed-nothing "params $before -> $after, slowpath $a -> $b"
fi

# --- the fuzzer -----------------------------------------------------------------
before=$(pvlockctl -j -G get | jq -c .params)
m0=$(kmem)
out=$(pvlock-fuzz guest "$FUZZ" 2>&1)
rc=$?
echo "$out" | grep -v '^pvlock-fuzz: ' | sed 's/^/PVLOCK-INFO /'
echo "$out" | grep '^pvlock-fuzz: ' | head -8 | sed 's/^/PVLOCK-INFO /'
if [ $rc -eq 0 ] && echo "$out" | grep -q 'result=ok' && echo "$out" | grep -q 'accepted=0 '; then
	pass fuzz-guest-root "$(echo "$out" | grep PVLOCK-FUZZ | grep -o 'sent=[0-9]* errors=[0-9]* dropped=[0-9]*')"
else
	fail fuzz-guest-root "$(echo "$out" | tail -3 | tr '\n' ' ')"
fi
out=$(nobody pvlock-fuzz guest "$FUZZ_UNPRIV" 7 2>&1)
rc=$?
echo "$out" | sed 's/^/PVLOCK-INFO /'
if [ $rc -eq 0 ] && echo "$out" | grep -q 'unprivileged.*result=ok'; then
	pass fuzz-guest-nobody "$(echo "$out" | grep -o 'eperm=[0-9/]*')"
else
	fail fuzz-guest-nobody "$(echo "$out" | tail -3 | tr '\n' ' ')"
fi
after=$(pvlockctl -j -G get | jq -c .params)
[ "$before" = "$after" ] && pass fuzz-params-unchanged || fail fuzz-params-unchanged "$before -> $after"
leak_check fuzz-no-leak "$m0" "${PVLOCK_FUZZ_LEAK_MAX:-131072}" "$((FUZZ + FUZZ_UNPRIV)) messages"
expect_out alive-after-fuzz 'livepatch +enabled' pvlockctl -G status

# --- unload -------------------------------------------------------------------
pvlockctl -j monitor -t 8 > /tmp/mon-unload.json 2>&1 &
mpid=$!
usleep 500000
expect_rc unload 0 'livepatch disabled \(transition [0-9.]+ s\), module removed' pvlockctl unload
if [ ! -d /sys/module/pvlock_guest ] && [ ! -d /sys/kernel/livepatch/pvlock_guest ]; then
	pass unload-gone
else
	fail unload-gone "$(ls /sys/module | grep pvlock) $(ls /sys/kernel/livepatch)"
fi
expect_rc unload-again 1 'pvlock_guest is not loaded' pvlockctl unload
wait $mpid
if grep -q '"event":"module-unloaded"' /tmp/mon-unload.json; then
	pass monitor-sees-unload "$(tr '\n' ' ' < /tmp/mon-unload.json | head -c 300)"
else
	fail monitor-sees-unload "$(head -c 300 /tmp/mon-unload.json)"
fi
check reload-for-json insmod /pvlock/pvlock_guest.ko
check reload-patched guest_patched
# sets and gets from four processes while the module goes (pvlock-fuzz race):
# each answered, or ENOENT once the family is gone
pvlock-fuzz guest race 60 > /tmp/race.out 2>&1 &
rpid=$!
sleep 2
js=$(pvlockctl -j unload)
if echo "$js" | jq -e '.module == "pvlock_guest" and .unloaded and .livepatch_disabled' >/dev/null &&
	[ ! -d /sys/module/pvlock_guest ]; then
	pass unload-json "$js"
else
	fail unload-json "$js"
fi
wait $rpid
rrc=$?
out=$(cat /tmp/race.out)
if [ $rrc -eq 0 ] && echo "$out" | grep -q 'family_gone=yes .*result=ok'; then
	pass set-during-unload "$(echo "$out" | grep -o 'requests=.*family_gone=[a-z]*')"
else
	fail set-during-unload "rc=$rrc $(echo "$out" | tail -3 | tr '\n' ' ')"
fi
check rmmod-torture rmmod torture
