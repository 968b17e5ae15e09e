#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pool the rounds of several benchmark runs (the nested benchmark's
# nested.csv, the workload benchmark's workloads.csv) into one table per
# case (a nested case; a program at a level): each round keeps its own arms'
# runs together (a ratio
# is always between runs of one round), rounds are renumbered one after
# the other, and the statistics are those of the single-run reports
# (scripts/stats.awk): the median ratio with its bootstrap interval, the
# same adjusted for the build machine's steal with one slope for all arms,
# and the ratio at no steal with a slope of its own per arm.
#   bench-pool.sh [--list FILE] SPEC...
#     SPEC: a CSV file, or REV:PATH (git show); FILE: more SPECs, one a
#     line (bench/results/pool-*.list: the committed runs)
# Only rows with a recorded steal (host_steal) are pooled; the markdown goes
# to standard output.
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --list ]; then	# --list FILE: SPECs from FILE too, one a line
	[ -f "${2:-}" ] || die "--list ${2:-}: no such file"
	list=$2
	shift 2
	mapfile -t listed < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$list")
	set -- "${listed[@]}" "$@"
fi
[ $# -ge 1 ] || die "usage: bench-pool.sh [--list FILE] SPEC... (a nested.csv or workloads.csv, or REV:PATH)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0 from=()
for s in "$@"; do
	i=$((i + 1))
	if [ -f "$s" ]; then
		cp "$s" "$tmp/$i.csv"
	elif git -C "$PVLOCK_ROOT" cat-file -e "$s" 2>/dev/null; then
		git -C "$PVLOCK_ROOT" show "$s" > "$tmp/$i.csv"
	else
		die "$s: neither a file nor a REV:PATH this repository has"
	fi
	# the commit the run measured, from its report beside it where there is one
	md=${s%.csv}.md rev=
	if [ -f "$md" ]; then
		rev=$(grep -o -m1 -E 'pvlock [0-9a-f]{7,}(-dirty)?' "$md")
	elif [ "$md" != "$s" ] && git -C "$PVLOCK_ROOT" cat-file -e "$md" 2>/dev/null; then
		rev=$(git -C "$PVLOCK_ROOT" show "$md" | grep -o -m1 -E 'pvlock [0-9a-f]{7,}(-dirty)?')
	fi
	from+=("$s${rev:+ (${rev/pvlock /measuring })}")
	head -1 "$tmp/$i.csv" | grep -q -E '^(case,vm,round,variant|level,round,arm,wl),' ||
		die "$s: neither a nested.csv nor a workloads.csv (its header starts with neither case,vm,round,variant nor level,round,arm,wl)"
done

# one line per run: SPEC-INDEX CASE ROUND ARM OPS STEAL (ops summed over
# the VMs, steal their mean)
for ((k = 1; k <= i; k++)); do
	awk -F, -v f="$k" '
	NR == 1 { for (j = 1; j <= NF; j++) col[$j] = j; next }
	{
		s = (("host_steal" in col) ? $col["host_steal"] : "")
		if (s == "" || s >= 0.9) next
		# a workloads.csv: a case per program and level
		c = ("case" in col) ? $col["case"] : $col["wl"] "/" $col["level"]
		key = c SUBSEP $col["round"] SUBSEP (("variant" in col) ? $col["variant"] : $col["arm"])
		if (!(key in ops)) order[++n] = key
		ops[key] += $col["ops_per_s"]; st[key] += s; ns[key]++
	}
	END {
		for (j = 1; j <= n; j++) {
			split(order[j], p, SUBSEP)
			printf "%s %s %s %s %.3f %.6f\n", f, p[1], p[2], p[3], ops[order[j]], st[order[j]] / ns[order[j]]
		}
	}' "$tmp/$k.csv"
done > "$tmp/runs"
[ -s "$tmp/runs" ] || die "no run with a recorded steal in: $*"

specs=$(printf '%s\n' "${from[@]}" | paste -sd ';' -)
awk -v specs="$specs" -v cmd="scripts/bench-pool.sh $*" -f "$PVLOCK_ROOT/scripts/stats.awk" -f <(cat <<'AWK'
{
	c = $2; v = $4
	if (!(($1, c, $3) in rid)) { rid[$1, c, $3] = ++nr[c]; rsrc[c, nr[c]] = $1 }
	r = rid[$1, c, $3]
	if (!(c in cases)) corder[++nc] = c
	cases[c] = 1; arms[v] = 1; t[c, r, v] = $5; sx[c, r, v] = $6
}
END {
	srand(1)
	ns = split(specs, sp, ";")
	print "## Rounds pooled over benchmark runs"
	print ""
	print "From " ns " runs:"
	print ""
	for (i = 1; i <= ns; i++) print "- " sp[i]
	print ""
	print "Made by: `" cmd "`"
	print ""
	print "Each round's ratio is between its own runs; rounds with a recorded steal only."
	print "Ratio: median over the pooled rounds [95% bootstrap interval]. Adjusted: log(ops/s)"
	print "= arm + b x steal, one b for both arms. At no steal: each arm its own slope,"
	print "log(ops/s) = a_arm + b_arm x steal, ratio exp(a_top - a_base) (intervals: 1000"
	print "resamples of the rounds, the fits redone on each). Low steal: the rounds whose"
	print "two runs both had less than 1% steal, their median ratio."
	print ""
	print "| case | ratio | rounds (runs) | median [95%] | adjusted [95%] (b, R^2) | own slopes b_base, b_top | at no steal [95%] | low steal: rounds, median |"
	print "|---|---|---|---|---|---|---|---|"
	# the pairs, top over base: pvlock, stock2 and the others (by name) over
	# stock; pvlock over none
	na = 0; for (a in arms) if (a != "stock" && a != "pvlock" && a != "stock2") rest[++na] = a
	median(rest, na)
	top[1] = "pvlock"; top[2] = "stock2"
	for (i = 1; i <= na; i++) top[i + 2] = rest[i]
	na += 2
	for (i = 1; i <= na; i++) base[i] = "stock"
	top[++na] = "pvlock"; base[na] = "none"
	for (ci0 = 1; ci0 <= nc; ci0++) {
		c = corder[ci0]
		for (vi = 1; vi <= na; vi++) {
			v = top[vi]; b = base[vi]
			if (!(v in arms) || !(b in arms)) continue
			# the rounds with both arms, as rounds 1..k of t2 and s2
			k = 0; kl = 0; nsrc = 0; delete ratio; delete low; delete used; delete t2; delete s2
			for (r = 1; r <= nr[c]; r++) {
				if (!((c, r, b) in t) || !((c, r, v) in t) || t[c, r, b] <= 0 || t[c, r, v] <= 0) continue
				ratio[++k] = t[c, r, v] / t[c, r, b]
				if (!(rsrc[c, r] in used)) { used[rsrc[c, r]] = 1; nsrc++ }
				t2[c, k, b] = t[c, r, b]; t2[c, k, v] = t[c, r, v]
				s2[c, k, b] = sx[c, r, b]; s2[c, k, v] = sx[c, r, v]
				if (sx[c, r, v] < 0.01 && sx[c, r, b] < 0.01) low[++kl] = ratio[k]
			}
			if (k < 3) continue
			delete cp; for (i = 1; i <= k; i++) cp[i] = ratio[i]
			m = median(cp, k); boot_ci(ratio, k, cr)
			delete two; two[b] = 1; two[v] = 1
			ma = steal_adjusted(t2, s2, two, c, k, b, v, ca)
			mf = steal_free(t2, s2, c, k, b, v, cf)
			printf "| %s | %s/%s | %d (%d) | %.3f [%.3f-%.3f] | %s | %s | %s | %s |\n", c, v, b, k, nsrc, m, cr[1], cr[2],
				(ma == "" ? "-" : sprintf("%.3f [%.3f-%.3f] (%.2f, %.2f)", ma, ca[1], ca[2], steal_b, steal_r2)),
				(mf == "" ? "-" : sprintf("%.2f, %.2f", free_bb, free_bt)),
				(mf == "" ? "-" : sprintf("%.3f [%.3f-%.3f]", mf, cf[1], cf[2])),
				(kl ? sprintf("%d, %.3f", kl, median(low, kl)) : "0, -")
			if (v == "stock2" && b == "stock") { aa[c] = m; aalo[c] = cr[1]; aahi[c] = cr[2] }
		}
	}
	# the A/A against the target of the benchmark issue: a median within
	# 1.00 +/- 0.03 and a 95% interval narrower than +/- 0.10
	hdr = 0
	for (ci0 = 1; ci0 <= nc; ci0++) {
		c = corder[ci0]
		if (!(c in aa)) continue
		if (!hdr++) {
			print ""
			print "The A/A (stock2/stock) against the target: a median within 1.00 +/- 0.03 and a 95%"
			print "interval inside 0.90-1.10:"
			print ""
		}
		printf "- %s: %.3f [%.3f-%.3f]: median %s, interval %s\n", c, aa[c], aalo[c], aahi[c],
			(aa[c] >= 0.97 && aa[c] <= 1.03 ? "met" : "missed"),
			(aalo[c] >= 0.90 && aahi[c] <= 1.10 ? "met" : "missed")
	}
}
AWK
) "$tmp/runs"
