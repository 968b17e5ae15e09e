// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "opt.h"
#include "util.h"

#define OPT_MAX	32

static size_t opt_count(const struct opt *o)
{
	size_t n = 0;

	while (o && o[n].name)
		n++;
	return n;
}

static void opt_names(const struct opt *o, char *buf, size_t len)
{
	if (o->key)
		snprintf(buf, len, "-%c/--%s", o->key, o->name);
	else
		snprintf(buf, len, "--%s", o->name);
}

static void opt_enum_list(const char *const *names, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; *names; names++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", *names);
}

static void opt_range(const struct opt *o, char *buf, size_t len)
{
	if (o->type == OPT_LONG)
		snprintf(buf, len, "%.0f..%.0f", o->min, o->max);
	else if (o->type == OPT_DOUBLE)
		snprintf(buf, len, "%g..%g", o->min, o->max);
	else if (o->type == OPT_ENUM)
		opt_enum_list(o->names, buf, len);
	else
		buf[0] = '\0';
}

static int opt_value(const struct opt_cmd *c, const struct opt *o, const char *v, void *out,
		     char *err, size_t errlen)
{
	char *field = (char *)out + o->off, names[48], range[128];
	long l;
	double d;
	int i;

	opt_names(o, names, sizeof(names));
	opt_range(o, range, sizeof(range));
	switch (o->type) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_STR:
		*(const char **)field = v;
		return 0;
	case OPT_LONG:
		if (!util_long(v, (long)o->min, (long)o->max, &l)) {
			*(long *)field = l;
			return 0;
		}
		snprintf(err, errlen, "%s: %s '%s' is not a whole number in %s", c->name, names, v,
			 range);
		return -EINVAL;
	case OPT_DOUBLE:
		if (!util_double(v, o->min, o->max, &d)) {
			*(double *)field = d;
			return 0;
		}
		snprintf(err, errlen, "%s: %s '%s' is not a number in %s", c->name, names, v, range);
		return -EINVAL;
	case OPT_ENUM:
		for (i = 0; o->names[i]; i++) {
			if (!strcmp(o->names[i], v)) {
				*(int *)field = i;
				return 0;
			}
		}
		snprintf(err, errlen, "%s: %s takes %s, not '%s'", c->name, names, range, v);
		return -EINVAL;
	}
	return -EINVAL;
}

int opt_parse(const struct opt_cmd *c, int argc, char **argv, void *out, char **words,
	      int *nwords, char *err, size_t errlen)
{
	struct option lo[OPT_MAX + 2];
	char shorts[3 * OPT_MAX + 4], **av = argv - 1;
	size_t i, n = opt_count(c->opts), ns = 0;
	int ch, idx;

	*nwords = 0;
	if (n > OPT_MAX) {
		snprintf(err, errlen, "%s: too many options in the table", c->name);
		return -EINVAL;
	}
	shorts[ns++] = c->stop_at_word ? '+' : '-';
	shorts[ns++] = ':';		/* a missing value is reported as ':' */
	shorts[ns++] = 'h';
	for (i = 0; i < n; i++) {
		const struct opt *o = &c->opts[i];

		lo[i] = (struct option){ o->name, o->type == OPT_FLAG ? no_argument :
					 required_argument, NULL, 0x100 + (int)i };
		if (o->key) {
			shorts[ns++] = o->key;
			if (o->type != OPT_FLAG)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };

	/*
	 * getopt skips argv[0]: give it the word before ours (the command's
	 * own name). optind = 0 makes glibc start over on every call; the
	 * messages are ours, not getopt's.
	 */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc + 1, av, shorts, lo, &idx)) != -1) {
		const struct opt *o = NULL;

		if (ch == 'h')
			return 1;
		if (ch == 1) {		/* a word, in order ('-' mode) */
			if (*nwords >= OPT_MAX_WORDS) {
				snprintf(err, errlen, "%s: too many words", c->name);
				return -EINVAL;
			}
			words[(*nwords)++] = optarg;
			continue;
		}
		if (ch == '?' || ch == ':') {
			const char *w = av[optind - 1];

			if (ch == ':')
				snprintf(err, errlen, "%s: option '%s' needs a value", c->name, w);
			else if (optopt)
				snprintf(err, errlen, "%s: unknown option '-%c'", c->name, optopt);
			else
				snprintf(err, errlen, "%s: unknown option '%s'", c->name, w);
			return -EINVAL;
		}
		if (ch >= 0x100)
			o = &c->opts[ch - 0x100];
		for (i = 0; !o && i < n; i++)
			if (c->opts[i].key == ch)
				o = &c->opts[i];
		if (!o)
			return -EINVAL;
		if (opt_value(c, o, optarg, out, err, errlen))
			return -EINVAL;
	}
	for (; optind < argc + 1; optind++) {
		if (*nwords >= OPT_MAX_WORDS) {
			snprintf(err, errlen, "%s: too many words", c->name);
			return -EINVAL;
		}
		words[(*nwords)++] = av[optind];
	}
	if (*nwords < c->min_words || *nwords > c->max_words) {
		if (*nwords > c->max_words)
			snprintf(err, errlen, "%s: unexpected '%s' (%s %s)", c->name,
				 words[c->max_words], c->name, c->synopsis ? c->synopsis : "");
		else
			snprintf(err, errlen, "%s: missing arguments (%s %s)", c->name, c->name,
				 c->synopsis ? c->synopsis : "");
		return -EINVAL;
	}
	return 0;
}

void opt_help_options(FILE *f, const struct opt_cmd *c)
{
	size_t i, n = opt_count(c->opts);
	char left[64], range[128];

	for (i = 0; i < n; i++) {
		const struct opt *o = &c->opts[i];
		size_t l;

		if (!o->help)
			continue;
		l = (size_t)snprintf(left, sizeof(left), "  %s%c%s--%s", o->key ? "-" : " ",
				     o->key ? o->key : ' ', o->key ? ", " : "  ", o->name);
		/* aliases right after their entry: --per-vcpu, --per-cpu */
		while (i + 1 < n && !c->opts[i + 1].help && l < sizeof(left))
			l += (size_t)snprintf(left + l, sizeof(left) - l, ", --%s", c->opts[++i].name);
		if (o->type != OPT_FLAG && l < sizeof(left))
			snprintf(left + l, sizeof(left) - l, " %s", o->arg ? o->arg : "VALUE");
		opt_range(o, range, sizeof(range));
		fprintf(f, "%-28s %s", left, o->help);
		if (range[0])
			fprintf(f, " (%s)", range);
		fputc('\n', f);
	}
	fprintf(f, "%-28s %s\n", "  -h, --help", "this text");
}

void opt_help(FILE *f, const char *prog, const struct opt_cmd *c)
{
	size_t n = opt_count(c->opts);

	fprintf(f, "Usage: %s%s%s%s%s%s\n", prog, *c->name ? " " : "", c->name,
		n ? " [OPTIONS]" : "", c->synopsis && *c->synopsis ? " " : "",
		c->synopsis ? c->synopsis : "");
	if (c->summary)
		fprintf(f, "%s\n", c->summary);
	fprintf(f, "\nOptions:\n");
	opt_help_options(f, c);
}

int opt_match(const void *names, size_t n, size_t stride, const char *word, char *err,
	      size_t errlen)
{
	size_t i, len = strlen(word), e = 0;
	int found = -1, nfound = 0;

	if (!len)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)names + i * stride);

		if (!name)
			continue;
		if (!strcmp(name, word))
			return (int)i;
		if (strncmp(name, word, len))
			continue;
		found = (int)i;
		nfound++;
		if (err && e < errlen)
			e += (size_t)snprintf(err + e, errlen - e, "%s%s", e ? ", " : "", name);
	}
	if (nfound == 1)
		return found;
	return nfound ? -EEXIST : -ENOENT;
}
