/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one command-line driver of pvlockctl and pvlockd: each command is a
 * table of options (long name, short letter, type, range, help) that
 * getopt_long, the value checks, the error messages and the help text
 * are all made from, so that none of them can drift from the others.
 * Pure: no netlink, no output except opt_help(); the unit tests run it.
 */
#ifndef PVLOCK_OPT_H
#define PVLOCK_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum opt_type {
	OPT_FLAG,		/* bool, set to true */
	OPT_LONG,		/* long within [min, max] */
	OPT_DOUBLE,		/* double within [min, max] */
	OPT_STR,		/* const char *, the word itself */
	OPT_ENUM,		/* int: index into @names */
};

struct opt {
	const char *name;		/* long option */
	char key;			/* short option, 0 for none */
	enum opt_type type;
	size_t off;			/* field in the caller's options struct */
	double min, max;		/* OPT_LONG, OPT_DOUBLE */
	const char *const *names;	/* OPT_ENUM: NULL-terminated */
	const char *arg;		/* value placeholder in the help */
	const char *help;		/* NULL: an alias of the entry before, not listed */
};

#define OPT_FIELD(type, field)	offsetof(type, field)
#define OPT_END			{ .name = NULL }

struct opt_cmd {
	const char *name;		/* "stats"; "vm list" */
	const char *synopsis;		/* positional words, "[VM]" */
	const char *summary;		/* one line: what it does */
	const struct opt *opts;		/* NULL-name terminated, or NULL */
	int min_words, max_words;	/* positional words allowed */
	bool stop_at_word;		/* options only before the first word ("-1" is a value) */
};

#define OPT_MAX_WORDS	64

/*
 * Parse the @argc words after the command's name into @out (fields named
 * by the table; untouched where not given) and the positional words into
 * @words/@nwords. 0, or -EINVAL with a message in @err naming the command.
 * "-h"/"--help" anywhere: returns 1 (the caller prints opt_help()).
 */
int opt_parse(const struct opt_cmd *c, int argc, char **argv, void *out, char **words,
	      int *nwords, char *err, size_t errlen);

/* Usage of @c: synopsis, summary, every option with its range, from the table. */
void opt_help(FILE *f, const char *prog, const struct opt_cmd *c);
/* Only the option lines of that. */
void opt_help_options(FILE *f, const struct opt_cmd *c);

/*
 * The entry of @n names (NULL-terminated, each @stride bytes apart, the
 * name a const char * at the start) that @word names exactly or as a
 * unique prefix. -ENOENT, or -EEXIST when several begin with @word (their
 * names then in @err as "a, b").
 */
int opt_match(const void *names, size_t n, size_t stride, const char *word, char *err,
	      size_t errlen);

#endif
