/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small things every part of the daemon needs, once: strict number
 * parsing, the one table of boolean words, the clock, a growable array.
 * Header-only, so that the test tools linking a daemon file get it too.
 */
#ifndef PVLOCK_UTIL_H
#define PVLOCK_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* What strtol/strtod would skip or take that an operator did not mean: "+1", " 1", 0x10. */
static inline bool util_plain(const char *s)
{
	return *s && *s != '+' && *s != ' ' && *s != '\t' && !strpbrk(s, "xXpP");
}

/*
 * Decimal numbers as an operator types them: the whole string, no spaces,
 * no "+", no hex. -EINVAL for text that is not a number, -ERANGE for one
 * outside [@lo, @hi]; *@v is set only on success.
 */
static inline int util_long(const char *s, long lo, long hi, long *v)
{
	char *end;
	long x;

	if (!util_plain(s))
		return -EINVAL;
	errno = 0;
	x = strtol(s, &end, 10);
	if (*end || end == s)
		return -EINVAL;
	if (errno == ERANGE || x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}

static inline int util_double(const char *s, double lo, double hi, double *v)
{
	char *end;
	double x;

	if (!util_plain(s))
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (*end || end == s || !isfinite(x))
		return -EINVAL;
	if (errno == ERANGE || x < lo || x > hi)
		return -ERANGE;
	*v = x;
	return 0;
}

/* The words util_bool() takes, for messages. */
#define UTIL_BOOL_WORDS	"yes or no (also on/off, true/false, 1/0)"

/* yes/no, on/off, true/false, 1/0: 0 and *@v set, or -EINVAL. */
static inline int util_bool(const char *s, bool *v)
{
	static const char *const words[][2] = {
		{ "yes", "no" }, { "on", "off" }, { "true", "false" }, { "1", "0" },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(s, words[i][0]) || !strcmp(s, words[i][1])) {
			*v = !strcmp(s, words[i][0]);
			return 0;
		}
	}
	return -EINVAL;
}

/* CLOCK_MONOTONIC in nanoseconds: every interval and deadline. */
static inline uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Wall-clock time as ISO 8601 with microseconds and the local UTC offset,
 * "2026-11-23T10:11:12.345678+01:00", for timestamps people read.
 */
static inline const char *util_wall_iso(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	char date[32], off[8];

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(off, sizeof(off), "%z", &tm);
	snprintf(buf, len, "%s.%06ld%.3s:%s", date, (long)tv.tv_usec, off, off + 3);
	return buf;
}

/*
 * Make room for @need elements of @size bytes in *@arr (capacity *@cap),
 * doubling; 0 or -ENOMEM (the array is left as it was).
 */
static inline int util_grow(void *arr, size_t *cap, size_t need, size_t size)
{
	void **p = arr;
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

#define UTIL_GROW(arr, cap, need)	util_grow(&(arr), &(cap), (need), sizeof(*(arr)))

#endif
