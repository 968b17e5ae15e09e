# SPDX-License-Identifier: GPL-2.0
# The real workloads (scripts/workloads.sh stages the programs under /wl and
# /usr): sourced by the L2 payloads that run them (wl-l2.sh, bench-l2.sh)
# after /lib/pvtest.sh. wl_setup once, then wl_run WL SECS sets OPS, CS
# (centiseconds the ops took) and EXTRA (latency, fairness, units).

now_cs() { read -r _u _i < /proc/uptime; echo "${_u%.*}${_u#*.}"; }

# loop SECS UNIT: run /tmp/unit-UNIT.sh again and again for SECS seconds.
# A unit script notes each piece of work it finishes (mark, /tmp/wl-lib.sh:
# a timestamp per line in /tmp/wl.units); sets UNITS (pieces finished) and
# CS (centiseconds from the start to the last one's end). The units run in
# their own session, so that the window's end stops a piece half-done,
# which is then not counted.
loop() {
	rm -f /tmp/wl.units
	_t0=$(now_cs)
	setsid sh -c 'while sh "/tmp/unit-$1.sh" > /tmp/wl.out 2>&1; do :; done' wl "$2" &
	_pid=$!
	sleep "$1"
	kill -TERM -"$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	UNITS=$(wc -l < /tmp/wl.units 2>/dev/null || echo 0)
	CS=0
	[ "$UNITS" -gt 0 ] && CS=$(($(tail -1 /tmp/wl.units | cut -d' ' -f1) - _t0))
}

# Lua's "make" from clean with tcc (scripts/workloads.sh), make -j twice
# the CPUs, again and again. Each compile or link job notes its end and its
# output through the compiler wrapper; a job counts as its share of a whole
# build's CPU time (measured by wl_setup's sequential build), so that which
# files happen to fall in a window does not matter. ops: thousandths of a
# build.
wl_build() {
	loop "$1" build
	OPS=$(awk 'NR == FNR { w[$1] = $2; next } { s += w[$2] } END { printf "%d", s * 1000 }' \
		/tmp/build.weights /tmp/wl.units)
	EXTRA="jobs=$UNITS"
}

# hackbench: 2 groups of 10 senders x 10 receivers over pipes, processes,
# 10 messages from each sender to each receiver per run; ops: messages
wl_hackbench() {
	loop "$1" hackbench
	OPS=$((UNITS * 2 * 10 * 10 * 10))
	EXTRA="runs=$UNITS"
}

# sysbench threads: 2 threads per CPU, each event takes 4 of 8 mutexes and
# yields 100 times; its own window, latency histogram and thread fairness
wl_sysbench() {
	sysbench threads --threads=$((2 * $(ncpus))) --thread-locks=8 --thread-yields=100 \
		--time="$1" --histogram=on --percentile=99 run > /tmp/wl.out 2>&1
	OPS=$(sed -n 's/.*total number of events: *\([0-9]*\).*/\1/p' /tmp/wl.out)
	CS=$(sed -n 's/.*total time: *\([0-9.]*\)s.*/\1/p' /tmp/wl.out | awk '{ printf "%d", $1 * 100 }')
	# the histogram: "value (ms) ... count" rows; percentiles of the events
	LAT=$(awk '/^ *[0-9.]+ \|/ { v[n] = $1; c[n] = $NF; t += $NF; n++ }
		END { if (!t) { print "p50_us=0 p99_us=0 p999_us=0"; exit }
			split("0.5 0.99 0.999", p, " "); split("p50_us p99_us p999_us", k, " ")
			for (j = 1; j <= 3; j++) { s = 0; for (i = 0; i < n; i++) { s += c[i]; if (s >= p[j] * t) break }
				if (i >= n) i = n - 1
				printf "%s%s=%d", (j > 1 ? " " : ""), k[j], v[i] * 1000 } }' /tmp/wl.out)
	# Jain's index from the per-thread events' mean and standard deviation
	FAIR=$(sed -n 's#.*events (avg/stddev): *\([0-9.]*\)/\([0-9.]*\).*#\1 \2#p' /tmp/wl.out |
		awk '{ cv = $1 > 0 ? $2 / $1 : 0; printf "%.4f", 1 / (1 + cv * cv) }')
	EXTRA="$LAT jain=$FAIR"
	UNITS=$OPS
}

# redis: GETs and SETs from 8 connections over loopback; one unit is 250
# requests of each, with the latencies redis-benchmark reports for it
wl_redis() {
	rm -f /tmp/wl.csv
	loop "$1" redis
	OPS=$((UNITS * 250))
	# per unit and test: p50 and p99 (ms); medians over them
	LAT=$(awk -F'"' '$2 == "SET" || $2 == "GET" { p50[n] = $10; p99[n] = $14; n++ }
		function med(a, k,   i, j, x) { for (i = 0; i < k; i++) for (j = i + 1; j < k; j++)
			if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }; return k ? a[int(k / 2)] : 0 }
		END { printf "p50_us=%d p99_us=%d", med(p50, n) * 1000, med(p99, n) * 1000 }' /tmp/wl.csv 2>/dev/null)
	EXTRA="tests=$UNITS $LAT (medians over tests of 250 requests)"
}

wl_run() {	# wl_run WL SECS
	OPS=0 CS=0 UNITS=0 EXTRA=
	case $1 in
	build|hackbench|sysbench|redis) "wl_$1" "$2" ;;
	*) fail "wl-$1" "unknown workload"; return 1 ;;
	esac
}

# wl_setup: the programs once (a first Lua build, the redis server), the
# units of work as scripts; 1 if something does not work. mark() notes a
# finished piece of work: reading /proc/uptime with the shell's own read
# and printing centiseconds costs no process.
wl_setup() {
	cat > /tmp/wl-lib.sh <<'EOF'
mark() { read -r _u _i < /proc/uptime; echo "${_u%.*}${_u#*.}${1:+ $1}" >> /tmp/wl.units; }
EOF
	cat > /tmp/cc.sh <<'EOF'
tcc "$@" || exit
. /tmp/wl-lib.sh
mark "$(echo "$@" | sed 's/.*-o \([^ ]*\).*/\1/; s/.* \([^ ]*\.c\)$/\1/')"
EOF
	echo "exec sh /wl/build-lua.sh $((2 * $(ncpus))) /tmp/lua/src 'sh /tmp/cc.sh'" > /tmp/unit-build.sh
	cat > /tmp/unit-hackbench.sh <<'EOF'
hackbench -P -p -g 2 -f 10 -l 10 || exit
. /tmp/wl-lib.sh
mark
EOF
	cat > /tmp/unit-redis.sh <<'EOF'
. /tmp/wl-lib.sh
for t in set get; do
	redis-benchmark -p 6379 -t $t -n 250 -c 8 --csv >> /tmp/wl.csv || exit
	mark
done
EOF
	cp -a /wl/lua /tmp/lua
	# one build, a job at a time: each job's share of a build's time
	rm -f /tmp/wl.units
	_t=$(now_cs)
	sh /wl/build-lua.sh 1 /tmp/lua/src 'sh /tmp/cc.sh' > /tmp/wl.out 2>&1 ||
		{ fail wl-build-once "$(tail -3 /tmp/wl.out)"; return 1; }
	awk -v t0="$_t" '{ d[$2] = $1 - t0; t0 = $1; s += d[$2] } END { for (f in d) print f, d[f] / s }' \
		/tmp/wl.units > /tmp/build.weights
	WL_BUILD_JOBS=$(wc -l < /tmp/wl.units)
	redis-server --port 6379 --save '' --appendonly no --daemonize yes --logfile /tmp/redis.log ||
		{ fail wl-redis-start "$(tail -3 /tmp/redis.log)"; return 1; }
}
