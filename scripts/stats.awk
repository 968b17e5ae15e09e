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
