# SPDX-License-Identifier: GPL-2.0
# Statistics shared by the benchmark reports (awk -f scripts/stats.awk -f ...).

# median(a, n): the median of a[1..n]; leaves a[1..n] sorted
function median(a, n,   i, j, x) {
	for (i = 2; i <= n; i++) {
		x = a[i]
		for (j = i - 1; j >= 1 && a[j] > x; j--)
			a[j + 1] = a[j]
		a[j + 1] = x
	}
	if (!n)
		return 0
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# boot_ci(a, n, ci): 95% bootstrap interval of the median of a[1..n] (1000
# resamples; seed with srand() first for a repeatable interval) into
# ci[1], ci[2]; a is not changed
function boot_ci(a, n, ci,   b, i, m, s) {
	for (b = 1; b <= 1000; b++) {
		for (i = 1; i <= n; i++)
			s[i] = a[int(rand() * n) + 1]
		m[b] = median(s, n)
	}
	median(m, 1000)
	ci[1] = m[25]
	ci[2] = m[976]
}

# jain(x, n): Jain's fairness index of x[1..n]: 1 when all are equal
function jain(x, n,   i, s, q) {
	for (i = 1; i <= n; i++) {
		s += x[i]
		q += x[i] * x[i]
	}
	return q > 0 ? s * s / (n * q) : 0
}

# Adjusting for the build machine's steal (scripts/qemu-run.sh
# PVLOCK_STEAL_LOG): val[p, round, arm] is a run's throughput and sx[p,
# round, arm] the share of CPU time stolen from this machine during it; p
# names the set (a case; a workload and its level); arms has the arm names
# as keys. The model: log(val) = arm + b x steal.

# steal_fit(val, sx, arms, p, rp, n): b fitted within the arms over the
# runs of rounds rp[1..n] (repeats allowed); sets steal_r2, the share of the
# within-arm variance steal explains
function steal_fit(val, sx, arms, p, rp, n,   i, a, k, my, mx, cnt, sxx, sxy, syy, dx, dy) {
	for (i = 1; i <= n; i++) for (a in arms) {
		k = p SUBSEP rp[i] SUBSEP a
		if (!(k in sx) || val[k] <= 0) continue
		my[a] += log(val[k]); mx[a] += sx[k]; cnt[a]++
	}
	for (a in cnt) { my[a] /= cnt[a]; mx[a] /= cnt[a] }
	for (i = 1; i <= n; i++) for (a in cnt) {
		k = p SUBSEP rp[i] SUBSEP a
		if (!(k in sx) || val[k] <= 0) continue
		dx = sx[k] - mx[a]; dy = log(val[k]) - my[a]
		sxx += dx * dx; sxy += dx * dy; syy += dy * dy
	}
	steal_r2 = sxx > 0 && syy > 0 ? sxy * sxy / (sxx * syy) : 0
	return sxx > 0 ? sxy / sxx : 0
}

# steal_ratio(val, sx, p, rp, n, b, base, top): the median over rounds
# rp[1..n] of top/base, the two runs moved to the same steal with slope b;
# "" if no round has both
function steal_ratio(val, sx, p, rp, n, b, base, top,   i, kb, kt, r, k) {
	for (i = 1; i <= n; i++) {
		kb = p SUBSEP rp[i] SUBSEP base; kt = p SUBSEP rp[i] SUBSEP top
		if (!(kb in sx) || !(kt in sx) || val[kb] <= 0 || val[kt] <= 0) continue
		r[++k] = val[kt] / val[kb] * exp(-b * (sx[kt] - sx[kb]))
	}
	return k ? median(r, k) : ""
}

# resample_ci(bm, nb, m, ci): the 95% interval of the resampled estimates
# bm[1..nb] (sorted here) into ci[1], ci[2]; m, the estimate, where none
function resample_ci(bm, nb, m, ci,   hi) {
	median(bm, nb)
	hi = int(nb * 0.975)
	ci[1] = nb ? bm[int(nb * 0.025) + 1] : m
	ci[2] = nb ? bm[hi > 0 ? hi : 1] : m
}

# steal_adjusted(val, sx, arms, p, n, base, top, ci): steal_ratio over
# rounds 1..n with b fitted on them ("" if no round has both), and its 95%
# interval in ci[1], ci[2]: 1000 resamples of the rounds, b fitted again on
# each; sets steal_b and steal_r2 of the fit on all rounds
function steal_adjusted(val, sx, arms, p, n, base, top, ci,   i, j, rp, b, r2, m, v, bm, nb) {
	for (i = 1; i <= n; i++) rp[i] = i
	b = steal_fit(val, sx, arms, p, rp, n); r2 = steal_r2
	steal_b = b
	m = steal_ratio(val, sx, p, rp, n, b, base, top)
	if (m == "") { steal_r2 = r2; return "" }
	for (j = 1; j <= 1000; j++) {
		for (i = 1; i <= n; i++) rp[i] = int(rand() * n) + 1
		v = steal_ratio(val, sx, p, rp, n, steal_fit(val, sx, arms, p, rp, n), base, top)
		if (v != "") bm[++nb] = v
	}
	resample_ci(bm, nb, m, ci)
	steal_r2 = r2
	return m
}

# The same with a slope of its own per arm: log(val) = a_arm + b_arm x steal.
# A common b (above) is right for two runs of one configuration (A/A); two
# configurations may lose to steal at different rates (in the nested
# benchmark at 4x stock lost about twice as much per point of steal as
# pvlock), and then their ratio depends on the steal it is taken at. These
# take it at no steal: the build machine without its hypervisor's share.

# arm_fit(val, sx, p, rp, n, a): arm a's intercept (log(val) at no steal)
# fitted over its runs in rounds rp[1..n]; "" with fewer than 3 runs; sets
# fit_b, its slope (0 when its runs' steal does not vary)
function arm_fit(val, sx, p, rp, n, a,   i, k, c, mx, my, sxx, sxy, dx) {
	for (i = 1; i <= n; i++) {
		k = p SUBSEP rp[i] SUBSEP a
		if (!(k in sx) || val[k] <= 0) continue
		c++; mx += sx[k]; my += log(val[k])
	}
	if (c < 3) return ""
	mx /= c; my /= c
	for (i = 1; i <= n; i++) {
		k = p SUBSEP rp[i] SUBSEP a
		if (!(k in sx) || val[k] <= 0) continue
		dx = sx[k] - mx; sxx += dx * dx; sxy += dx * (log(val[k]) - my)
	}
	fit_b = sxx > 0 ? sxy / sxx : 0
	return my - fit_b * mx
}

# steal_free_at(val, sx, p, rp, n, base, top): top/base at no steal, each
# arm fitted on its own over rounds rp[1..n]; "" if either has < 3 runs
function steal_free_at(val, sx, p, rp, n, base, top,   ab, at) {
	ab = arm_fit(val, sx, p, rp, n, base); free_bb = fit_b
	at = arm_fit(val, sx, p, rp, n, top); free_bt = fit_b
	return ab == "" || at == "" ? "" : exp(at - ab)
}

# steal_free(val, sx, p, n, base, top, ci): steal_free_at over rounds 1..n
# and its 95% interval in ci[1], ci[2] (1000 resamples of the rounds, both
# arms fitted again on each); sets free_bb and free_bt, the two slopes of
# the fit on all rounds
function steal_free(val, sx, p, n, base, top, ci,   i, j, rp, m, v, bm, nb, bb, bt) {
	for (i = 1; i <= n; i++) rp[i] = i
	m = steal_free_at(val, sx, p, rp, n, base, top)
	if (m == "") return ""
	bb = free_bb; bt = free_bt
	for (j = 1; j <= 1000; j++) {
		for (i = 1; i <= n; i++) rp[i] = int(rand() * n) + 1
		v = steal_free_at(val, sx, p, rp, n, base, top)
		if (v != "") bm[++nb] = v
	}
	resample_ci(bm, nb, m, ci)
	free_bb = bb; free_bt = bt
	return m
}
