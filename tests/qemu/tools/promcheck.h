/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A strict checker of the Prometheus text exposition format (0.0.4), for
 * the tests: promtool is not in Debian bookworm, and a test that only
 * greps cannot fail on a malformed line. Header-only so that the unit
 * tests (test_metrics.c) and the QEMU tool (promcheck.c) share it.
 *
 * Checked: every line is a comment, HELP, TYPE or sample and ends in a
 * newline; metric and label names are valid; label values use only the
 * \\ \" \n escapes; no label name twice in a sample; values parse as
 * floats (+Inf, -Inf, NaN allowed), timestamps as integers; HELP and TYPE
 * at most once per family and TYPE before its samples; a family's samples
 * are contiguous; no series twice; counters are not negative.
 */
#ifndef PVLOCK_PROMCHECK_H
#define PVLOCK_PROMCHECK_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PC_MAX_FAMILIES	512
#define PC_MAX_SERIES	8192

struct pc_family {
	char name[128];
	char type[16];
	bool help, typed, closed;
	unsigned long samples;
};

struct pc_state {
	struct pc_family fam[PC_MAX_FAMILIES];
	unsigned int nfam;
	char *series[PC_MAX_SERIES];
	unsigned int nseries;
	int cur;			/* family of the last sample or TYPE, -1 */
	unsigned long samples;
	char err[512];
};

static inline bool pc_name_char(char c, bool first, bool colon)
{
	return isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
	       (!first && isdigit((unsigned char)c));
}

/* Length of a metric (@colon) or label name at @s, 0 if none. */
static inline size_t pc_name(const char *s, bool colon)
{
	size_t n = 0;

	while (s[n] && pc_name_char(s[n], n == 0, colon))
		n++;
	return n;
}

static inline int pc_fail(struct pc_state *st, unsigned int line, const char *what,
			  const char *text)
{
	snprintf(st->err, sizeof(st->err), "line %u: %s: %.80s", line, what, text);
	return -EINVAL;
}

static inline struct pc_family *pc_family_get(struct pc_state *st, const char *name, size_t len,
					      bool create)
{
	unsigned int i;

	for (i = 0; i < st->nfam; i++)
		if (strlen(st->fam[i].name) == len && !strncmp(st->fam[i].name, name, len))
			return &st->fam[i];
	if (!create || st->nfam >= PC_MAX_FAMILIES || len >= sizeof(st->fam[0].name))
		return NULL;
	memset(&st->fam[st->nfam], 0, sizeof(st->fam[0]));
	memcpy(st->fam[st->nfam].name, name, len);
	return &st->fam[st->nfam++];
}

/* The family a sample belongs to: histogram/summary suffixes map back to it. */
static inline struct pc_family *pc_family_of(struct pc_state *st, const char *name, size_t len)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	struct pc_family *f;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		size_t l = strlen(sfx[i]);

		if (len > l && !strncmp(name + len - l, sfx[i], l)) {
			f = pc_family_get(st, name, len - l, false);
			if (f && (!strcmp(f->type, "histogram") || !strcmp(f->type, "summary")))
				return f;
		}
	}
	return pc_family_get(st, name, len, true);
}

static inline bool pc_float(const char *s, size_t len, double *v)
{
	char buf[64], *end;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf")) {
		*v = INFINITY;
		return true;
	}
	if (!strcmp(buf, "-Inf")) {
		*v = -INFINITY;
		return true;
	}
	if (!strcmp(buf, "NaN")) {
		*v = NAN;
		return true;
	}
	/* strtod would take "inf", "nan", hex floats: the format does not */
	for (end = buf; *end; end++)
		if (!isdigit((unsigned char)*end) && !strchr("+-.eE", *end))
			return false;
	errno = 0;
	*v = strtod(buf, &end);
	return !*end && errno != ERANGE;
}

static inline int pc_cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static inline int pc_sample(struct pc_state *st, unsigned int line, const char *l)
{
	char pairs[32][384], key[sizeof(pairs) + 128];
	size_t n = pc_name(l, true), nl = 0, i, k;
	const char *p = l + n, *v;
	struct pc_family *f;
	double val;

	if (!n)
		return pc_fail(st, line, "not a metric name", l);
	f = pc_family_of(st, l, n);
	if (!f)
		return pc_fail(st, line, "too many families or name too long", l);
	if (f->closed)
		return pc_fail(st, line, "samples of a family are not contiguous", l);
	if (st->cur >= 0 && &st->fam[st->cur] != f)
		st->fam[st->cur].closed = true;
	st->cur = (int)(f - st->fam);
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t ln = pc_name(p, false), pl;

			if (!ln)
				return pc_fail(st, line, "bad label name", p);
			if (ln >= 2 && p[0] == '_' && p[1] == '_')
				return pc_fail(st, line, "label names starting __ are reserved", p);
			if (nl >= 32 || ln >= 128)
				return pc_fail(st, line, "too many or too long labels", p);
			for (i = 0; i < nl; i++)
				if (!strncmp(pairs[i], p, ln) && pairs[i][ln] == '=')
					return pc_fail(st, line, "label given twice", p);
			memcpy(pairs[nl], p, ln);
			pairs[nl][ln] = '=';
			pl = ln + 1;
			p += ln;
			if (p[0] != '=' || p[1] != '"')
				return pc_fail(st, line, "expected =\" after a label name", p);
			for (p += 2; *p != '"'; p++) {
				if (!*p || *p == '\n')
					return pc_fail(st, line, "unterminated label value", l);
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
						return pc_fail(st, line, "bad escape in a label value", p);
					p++;
				}
				if (pl + 1 < sizeof(pairs[0]))
					pairs[nl][pl++] = *p;
			}
			pairs[nl++][pl] = '\0';
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return pc_fail(st, line, "expected , or } after a label value", p);
		}
		p++;
	}
	if (*p != ' ')
		return pc_fail(st, line, "expected a space before the value", l);
	while (*p == ' ')
		p++;
	v = p;
	while (*p && *p != ' ')
		p++;
	if (!pc_float(v, p - v, &val))
		return pc_fail(st, line, "value is not a float", v);
	if (*p == ' ') {
		const char *t = ++p;

		if (*p == '-')
			p++;
		while (isdigit((unsigned char)*p))
			p++;
		if (p == t || *p)
			return pc_fail(st, line, "bad timestamp", t);
	}
	if (!strcmp(f->type, "counter") && val < 0)
		return pc_fail(st, line, "negative counter", l);
	/* labels in any order name the same series */
	qsort(pairs, nl, sizeof(pairs[0]), pc_cmp_str);
	k = snprintf(key, sizeof(key), "%.*s", (int)n, l);
	for (i = 0; i < nl && k < sizeof(key); i++)
		k += snprintf(key + k, sizeof(key) - k, "|%s", pairs[i]);
	for (i = 0; i < st->nseries; i++)
		if (!strcmp(st->series[i], key))
			return pc_fail(st, line, "series given twice", l);
	if (st->nseries < PC_MAX_SERIES)
		st->series[st->nseries++] = strdup(key);
	f->samples++;
	st->samples++;
	return 0;
}

static inline int pc_comment(struct pc_state *st, unsigned int line, const char *l)
{
	static const char *const types[] = { "counter", "gauge", "histogram", "summary",
					     "untyped" };
	bool help = !strncmp(l, "# HELP ", 7), type = !strncmp(l, "# TYPE ", 7);
	const char *p = l + 7;
	struct pc_family *f;
	size_t n;
	unsigned int i;

	if (!help && !type)
		return 0;	/* a plain comment */
	n = pc_name(p, true);
	if (!n || (p[n] != ' ' && p[n] != '\0'))
		return pc_fail(st, line, "bad metric name after HELP/TYPE", l);
	f = pc_family_get(st, p, n, true);
	if (!f)
		return pc_fail(st, line, "too many families", l);
	if (help) {
		if (f->help)
			return pc_fail(st, line, "second HELP for a family", l);
		f->help = true;
		for (p += n; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				return pc_fail(st, line, "bad escape in HELP", p);
		return 0;
	}
	if (f->typed)
		return pc_fail(st, line, "second TYPE for a family", l);
	if (f->samples)
		return pc_fail(st, line, "TYPE after the family's samples", l);
	if (p[n] != ' ')
		return pc_fail(st, line, "TYPE without a type", l);
	for (i = 0; i < 5; i++)
		if (!strcmp(p + n + 1, types[i]))
			break;
	if (i == 5)
		return pc_fail(st, line, "unknown TYPE", l);
	snprintf(f->type, sizeof(f->type), "%s", types[i]);
	f->typed = true;
	if (st->cur >= 0 && &st->fam[st->cur] != f)
		st->fam[st->cur].closed = true;
	st->cur = (int)(f - st->fam);
	return 0;
}

static inline void pc_free(struct pc_state *st)
{
	unsigned int i;

	for (i = 0; i < st->nseries; i++)
		free(st->series[i]);
	st->nseries = 0;
}

/* 0 if @text is valid exposition text; -EINVAL with st->err otherwise. */
static inline int pc_check(struct pc_state *st, const char *text, size_t len)
{
	unsigned int line = 0;
	const char *p = text, *end = text + len;
	char buf[4096];
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->cur = -1;
	if (!len)
		return pc_fail(st, 0, "empty", "");
	if (text[len - 1] != '\n')
		return pc_fail(st, 0, "does not end with a newline", "");
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', end - p);
		size_t l = nl - p;

		line++;
		if (l >= sizeof(buf))
			return pc_fail(st, line, "line too long", "");
		memcpy(buf, p, l);
		buf[l] = '\0';
		if (memchr(p, '\0', l))
			rc = pc_fail(st, line, "NUL byte", "");
		else if (!l)
			;	/* empty lines are allowed */
		else if (buf[0] == '#')
			rc = pc_comment(st, line, buf);
		else
			rc = pc_sample(st, line, buf);
		p = nl + 1;
	}
	return rc;
}

/* Samples of metric @name (exact sample name), after a successful pc_check. */
static inline unsigned long pc_samples(const struct pc_state *st, const char *name)
{
	unsigned int i;

	for (i = 0; i < st->nfam; i++)
		if (!strcmp(st->fam[i].name, name))
			return st->fam[i].samples;
	return 0;
}

#endif
