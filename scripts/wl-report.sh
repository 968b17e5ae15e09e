#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The workload benchmark's report: from the console log of a run of
# tests/qemu/wl-l1.sh, one CSV row per VM and run, and a Markdown summary:
# per workload and overcommit level, the throughput ratios pvlock/none,
# pvlock/stock and the A/A ratio stock2/stock per round, their median with a
# bootstrap 95% interval, the latency tails and thread fairness the programs
# report, and the guests' slow-path counters; one plot per workload.
#   wl-report.sh LOG OUTDIR "HEADER LINES"
. "$(dirname "$0")/lib.sh"

log=${1:?usage: wl-report.sh LOG OUTDIR HEADER}
out=${2:?usage: wl-report.sh LOG OUTDIR HEADER}
header=${3:-}
csv=$out/workloads.csv
md=$out/workloads.md
mkdir -p "$out"

# the L1 names each run (level, round, arm) by its sequence number; the
# guests' result lines carry the same number
echo "level,round,arm,wl,vm,seq,ops,secs,ops_per_s,p50_us,p99_us,p999_us,jain,slowpath,queued,waits,halts,yields,yield_same_vm,threshold,host_steal,vcpu_run_ms,vcpu_wait_ms,vcpu_slices" > "$csv"
{
	sed -nE 's/^PVLOCK-WLRUN level=([^ ]+) round=([0-9]+) arm=([^ ]+) wl=([^ ]+) seq=([0-9]+).*/R \5 \1 \2 \3 \4/p' "$log"
	# the host's steal over each run (qemu-run.sh PVLOCK_STEAL_LOG): from the
	# L1's start line to the last VM's end mark
	if [ -s "$log.steal" ]; then
		sed -nE 's/^([0-9]+) ([0-9]+)\|PVLOCK-WLRUN .* seq=([0-9]+).*/S \3 \1 \2/p' "$log.steal"
		sed -nE 's/^([0-9]+) ([0-9]+)\|\[L2:[^]]+\] PVLOCK-MARK done-([0-9]+)$/E \3 \1 \2/p' "$log.steal"
	fi
	sed -nE 's/^\[L2:[^]]+\] PVLOCK-WL (vm=.*)/W \1/p' "$log"
	# what the L1 did with each VM's vCPU threads over the run (wl-l1.sh
	# vcpu_sched): CPU time, time runnable and waiting, times run
	sed -nE 's/^PVLOCK-WLSCHED seq=([0-9]+) (.*)/P \1 \2/p' "$log"
	# rounds in which an L2 died (wl-l1.sh revive): none of their runs count
	sed -nE 's/^PVLOCK-WLDROP level=([^ ]+) round=(-?[0-9]+) .*/D \1 \2/p' "$log"
} | awk '
function kv(line, key,   m) {	# value of " key=value" in line, "" if absent
	if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return ""
}
function js(key,   m) {	# a number from the stats JSON
	if (match(st, "\"" key "\":[0-9]+")) return substr(st, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
	return ""
}
$1 == "R" { if ($4 > 0) { lv[$2] = $3; rd[$2] = $4; arm[$2] = $5; wl[$2] = $6 }; next }
$1 == "S" { s0[$2] = $3; t0[$2] = $4; next }
$1 == "E" { s1[$2] = $3; t1[$2] = $4; next }
$1 == "D" { drop[$2, $3] = 1; next }
$1 == "P" {
	for (i = 3; i <= NF; i++)
		if (split($i, kvp, "=") == 2 && split(kvp[2], x, "/") == 3) sch[$2, kvp[1]] = x[1] "," x[2] "," x[3]
	next
}
$1 == "W" {
	line = " " substr($0, 3)
	seq = kv(line, "seq")
	if (!(seq in lv)) next
	ops = kv(line, "ops") + 0; cs = kv(line, "cs") + 0
	if (cs <= 0 || ops <= 0) next
	st = ""
	if (match(line, " stats=.*")) st = substr(line, RSTART + 7)
	w[++nrow] = sprintf("%s,%s,%s,%s,%s,%s,%d,%.2f,%.2f,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s",
		lv[seq], rd[seq], arm[seq], wl[seq], kv(line, "vm"), seq, ops, cs / 100, ops / (cs / 100),
		kv(line, "p50_us"), kv(line, "p99_us"), kv(line, "p999_us"), kv(line, "jain"),
		js("slowpath"), js("queued"), js("waits"), js("halts"), js("yields"),
		js("yield_same_vm"), js("threshold"))
	wseq[nrow] = seq
	wvm[nrow] = kv(line, "vm")
}
END {
	for (i = 1; i <= nrow; i++) {
		q = wseq[i]
		if ((lv[q], rd[q]) in drop) continue
		f = (q in s0) && (q in s1) && t1[q] > t0[q] ? sprintf("%.4f", (s1[q] - s0[q]) / (t1[q] - t0[q])) : ""
		print w[i] "," f "," ((q, wvm[i]) in sch ? sch[q, wvm[i]] : ",,")
	}
}' >> "$csv"
rows=$(($(wc -l < "$csv") - 1))
[ "$rows" -gt 0 ] || die "no results in $log"
# where the run's time went: arm changes (module loads and unloads, the host
# side, the VMs moved) against the runs themselves, per level
setup=$(sed -nE 's/^PVLOCK-INFO level ([^ ]+) round -?[0-9]+: [^ ]+ set up in ([0-9]+) cs$/\1 \2/p' "$log" |
	awk -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
{ if (!($1 in n)) o[++k] = $1; v[$1, ++n[$1]] = $2 / 100; t[$1] += $2 / 100 }
END {
	for (i = 1; i <= k; i++) {
		l = o[i]; m = n[l]; delete a
		for (j = 1; j <= m; j++) a[j] = v[l, j]
		mid = median(a, m)	# sorts a
		printf("%s%s: %d changes, median %.0f s, longest %.0f s, %.1f min in all", (i > 1 ? "; " : ""),
			l, m, mid, a[m], t[l] / 60)
	}
}
AWK
))
drops=$(sed -nE 's/^PVLOCK-WLDROP level=([^ ]+) round=(-?[0-9]+) vm=([^ ]+) arm=([^ ]+).*/\1 round \2 (VM \3 died while arm \4 was set up or ran)/p' "$log" |
	paste -sd';' | sed 's/;/; /g')

awk -F, -v header="$header" -v drops="$drops" -v setup="$setup" -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
NR == 1 { next }
{
	key = $4 SUBSEP $1
	if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
	wls[$4] = 1; lvls[$1] = 1; armset[$3] = 1
	tp[$4, $1, $2, $3] += $9			# throughput summed over the VMs
	# the share of CPU time this machine's hypervisor took during the run
	if ($21 != "" && $21 < 0.9) { sx[$4, $1, $2, $3] = $21; stl[$1, ++nstl[$1]] = $21; nst = 1 }
	if ($2 > nr[$4, $1]) nr[$4, $1] = $2	# the last round (a dropped one leaves a gap)
	n = ++cnt[$4, $1, $3]
	if ($10 != "") { p50[$4, $1, $3, n] = $10; p99[$4, $1, $3, n] = $11; p999[$4, $1, $3, n] = $12 }
	if ($13 != "") fair[$4, $1, $3, n] = $13
	ev[$4, $1, $3, n] = $7
	if ($14 != "") { sp[$4, $1, $3, n] = $14 / $8; wt[$4, $1, $3, n] = $16 / $8
			 hl[$4, $1, $3, n] = ($17 + $18) / $8; th[$4, $1, $3, n] = $20 }
}
END {
	srand(1)
	print "## Real workloads: pvlock against no module and against stock mode"
	print ""
	print header
	print ""
	if (drops != "") {
		print "Rounds left out, an L2 guest having died during them (its QEMU ended; the"
		print "benchmark booted it again and went on with the next round): " drops "."
		print ""
	}
	if (setup != "") {
		print "Arm changes (pvlock_guest loaded or unloaded, a livepatch transition; pvlock_host and"
		print "pvlockd started or stopped; the VMs moved), the time each took before the first run: " setup "."
		print ""
	}
	print "Ratios are throughput ratios, pvlock over the other arm (the same as the other arm's"
	print "time over pvlock's): above 1, pvlock is faster. Each round runs every arm once, in a"
	print "rotating order; a round's ratio compares that round's runs. \"stock2\" is a second"
	print "run of \"stock\" in the same rounds: its ratio to \"stock\" is the instrument's own noise"
	print "(A/A; the target is a median within 1.00 +/- 0.03 and an interval narrower than"
	print "+/- 0.10). Interval: 95% bootstrap interval of the median (1000 resamples of the"
	print "rounds); min-max: the whole spread."
	print ""
	nl = split("under 2x 4x", L, " ")
	nw = split("build sysbench hackbench redis", W, " ")
	# the three ratios of every table: top[c] / base[c]
	split("none stock stock", base, " "); split("pvlock pvlock stock2", top, " ")
	for (w in wls) { known = 0; for (i = 1; i <= nw; i++) if (W[i] == w) known = 1; if (!known) W[++nw] = w }
	for (wi = 1; wi <= nw; wi++) {
		w = W[wi]
		if (!(w in wls)) continue
		print "### " w
		print ""
		print "| level | rounds | pvlock/none median [95%] (min-max) | pvlock/stock median [95%] (min-max) | A/A stock2/stock median [95%] (min-max) |"
		print "|---|---|---|---|---|"
		for (li = 1; li <= nl; li++) {
			lv = L[li]
			if (!((w, lv) in nr)) continue
			# complete rounds: every arm ran (a dropped or unfinished round
			# leaves a gap)
			nrd[w, lv] = 0
			for (rd = 1; rd <= nr[w, lv]; rd++) {
				full = 1
				for (a in armset) if (!(tp[w, lv, rd, a] > 0)) full = 0
				nrd[w, lv] += full
			}
			line = "| " lv " | " nrd[w, lv]
			for (c = 1; c <= 3; c++) {
				k = 0; delete r
				for (rd = 1; rd <= nr[w, lv]; rd++) {
					a = tp[w, lv, rd, base[c]]; b = tp[w, lv, rd, top[c]]
					if (a > 0 && b > 0) r[++k] = b / a
				}
				if (!k) { line = line " | -"; continue }
				delete cp; for (i = 1; i <= k; i++) cp[i] = r[i]
				m = median(cp, k); boot_ci(r, k, ci)
				line = line sprintf(" | %.3f [%.3f-%.3f] (%.3f-%.3f)", m, ci[1], ci[2], cp[1], cp[k])
				sum[w, lv, c] = sprintf("%.3f %.3f %.3f", m, ci[1], ci[2])
			}
			print line " |"
		}
		print ""
		if (nst) {
			print "The same rounds adjusted for this build machine's own steal (the time its hypervisor"
			print "took from its CPUs during each run, /proc/stat, both CPUs): log(throughput) = arm +"
			print "b x steal fitted over all the level's runs of the workload, and each ratio taken"
			print "between runs moved to the same steal. b and R^2 (the share of the within-arm variance"
			print "that steal explains) are from the rounds themselves; the interval resamples rounds and"
			print "fits b again each time:"
			print ""
			print "| level | rounds | host steal per run median (max) | b | R^2 | pvlock/none, adjusted | pvlock/stock, adjusted | A/A, adjusted |"
			print "|---|---|---|---|---|---|---|---|"
			for (li = 1; li <= nl; li++) {
				lv = L[li]
				if (!((w, lv) in nr)) continue
				delete x; for (i = 1; i <= nstl[lv]; i++) x[i] = stl[lv, i]
				line = sprintf("| %s | %d | %.1f%% (%.1f%%)", lv, nrd[w, lv], 100 * median(x, nstl[lv]), 100 * x[nstl[lv]])
				cells = ""
				for (c = 1; c <= 3; c++) {
					m = steal_adjusted(tp, sx, armset, w SUBSEP lv, nr[w, lv], base[c], top[c], ci)
					cells = cells (m == "" ? " | -" : sprintf(" | %.3f [%.3f-%.3f]", m, ci[1], ci[2]))
				}
				line = line sprintf(" | %.2f | %.2f", steal_b, steal_r2) cells
				print line " |"
			}
			print ""
		}
		# throughput per arm, tails, fairness, slow path
		print "| level | arm | ops/s (median over rounds, VMs summed) | p50 / p99 / p99.9 latency, us (median over runs) | per run (median) | Jain (threads) | slow-path calls/s | blocked waits/s | halts+yields/s | threshold |"
		print "|---|---|---|---|---|---|---|---|---|---|"
		na = split("none stock pvlock stock2", A, " ")
		for (li = 1; li <= nl; li++) {
			lv = L[li]
			if (!((w, lv) in nr)) continue
			for (ai = 1; ai <= na; ai++) {
				ar = A[ai]; n = cnt[w, lv, ar]
				if (!n) continue
				k = 0; delete x
				for (rd = 1; rd <= nr[w, lv]; rd++) if (tp[w, lv, rd, ar] > 0) x[++k] = tp[w, lv, rd, ar]
				thr = median(x, k)
				lat = "-"; den = "-"; jn = "-"; s1 = "-"; s2 = "-"; s3 = "-"; s4 = "-"
				if ((w, lv, ar, 1) in p50) {
					delete a1; delete a2; delete a3; delete e
					for (i = 1; i <= n; i++) { a1[i] = p50[w, lv, ar, i]; a2[i] = p99[w, lv, ar, i]; a3[i] = p999[w, lv, ar, i]; e[i] = ev[w, lv, ar, i] }
					lat = sprintf("%d / %d / %s", median(a1, n), median(a2, n), a3[1] == "" ? "-" : sprintf("%d", median(a3, n)))
					den = sprintf("%d ops", median(e, n))
				}
				if ((w, lv, ar, 1) in fair) {
					delete a1; for (i = 1; i <= n; i++) a1[i] = fair[w, lv, ar, i]
					jn = sprintf("%.3f", median(a1, n))
				}
				if ((w, lv, ar, 1) in sp) {
					delete a1; delete a2; delete a3; delete a4
					for (i = 1; i <= n; i++) { a1[i] = sp[w, lv, ar, i]; a2[i] = wt[w, lv, ar, i]; a3[i] = hl[w, lv, ar, i]; a4[i] = th[w, lv, ar, i] }
					s1 = sprintf("%.0f", median(a1, n)); s2 = sprintf("%.1f", median(a2, n))
					s3 = sprintf("%.1f", median(a3, n)); s4 = sprintf("%d", median(a4, n))
				}
				printf "| %s | %s | %.1f | %s | %s | %s | %s | %s | %s | %s |\n", lv, ar, thr, lat, den, jn, s1, s2, s3, s4
			}
		}
		print ""
	}
	# for the plots: workload level kind median lo hi
	for (key in sum) {
		split(key, p, SUBSEP)
		print p[1], p[2], p[3], sum[key] > "/dev/stderr"
	}
}
AWK
) "$csv" > "$md" 2> "$out/.wl-plot.dat" || die "the report failed: $(grep -m3 awk "$out/.wl-plot.dat")"

# one plot per workload: the three ratios with their intervals, per level
for w in $(cut -d, -f4 "$csv" | tail -n +2 | sort -u); do
	dat=$out/.wl-$w.dat
	for lv in under 2x 4x; do
		line="$lv"
		for c in 1 2 3; do
			v=$(awk -v w="$w" -v l="$lv" -v c="$c" '$1 == w && $2 == l && $3 == c { print $4, $5, $6 }' "$out/.wl-plot.dat")
			line="$line ${v:-NaN NaN NaN}"
		done
		echo "$line"
	done > "$dat"
	gnuplot <<EOF || msg "gnuplot failed for $w"
set terminal pngcairo size 800,480 font 'sans,11'
set output '$out/workloads-$w.png'
set title '$w: throughput ratio per overcommit level (median, 95% interval)'
set style data yerrorbars
set xrange [-0.5:2.5]
set xtics ('under' 0, '2x' 1, '4x' 2)
set grid ytics
set key top left box opaque
set ylabel 'ratio (above 1: pvlock faster)'
plot 1 notitle lc rgb '#888888' dt 2, \
     '$dat' using (\$0 - 0.1):2:3:4 title 'pvlock / none' lc rgb '#d7191c' pt 7 lw 2, \
     '$dat' using (\$0):5:6:7 title 'pvlock / stock' lc rgb '#2c7bb6' pt 5 lw 2, \
     '$dat' using (\$0 + 0.1):8:9:10 title 'A/A: stock2 / stock' lc rgb '#444444' pt 9 lw 2
EOF
	rm -f "$dat"
done
rm -f "$out/.wl-plot.dat"
msg "$rows rows: $csv, $md"
