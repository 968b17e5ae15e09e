/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every table pvlockctl prints, in the manner of lsblk/findmnt: one column
 * model (key, header, type) that prints as aligned text through
 * libsmartcols or as JSON rows through out.c, with the columns chosen by
 * -o. Each cell carries the raw value (JSON keeps integers and
 * nanoseconds) and, where it helps a reader, its text in human units.
 */
#ifndef PVLOCK_TAB_H
#define PVLOCK_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum tab_type { TAB_STR, TAB_U64, TAB_S64, TAB_DOUBLE, TAB_BOOL };

#define TAB_RIGHT	(1u << 0)	/* right-aligned: numbers */
#define TAB_HIDDEN	(1u << 1)	/* text only when chosen with -o (JSON always) */
#define TAB_WRAP	(1u << 2)	/* the last, free-text column: may wrap */

struct tab_col {
	const char *key;		/* JSON key; the name -o takes (any case) */
	const char *header;		/* text header */
	enum tab_type type;
	unsigned int flags;
	const char *help;		/* for the command's help */
};

struct tab;

/*
 * A table of @n columns, showing those @select names ("a,b", "+a" adds to
 * the default ones; NULL: the default ones). NULL and a message in @err
 * for an unknown column: a usage error, found before anything is sent.
 */
struct tab *tab_new(const struct tab_col *cols, size_t n, const char *select, char *err,
		    size_t errlen);
/* Columns with other headers, the same keys and order (until set back). */
void tab_relabel(struct tab *t, const struct tab_col *cols);
/* Text without the header line ("name value" lists). */
void tab_noheadings(struct tab *t);
/* Is column @col printed (text) or emitted (JSON)? */
bool tab_shown(const struct tab *t, unsigned int col);

/* Open the rows: a JSON array under @key (NULL inside an array or at top level). */
void tab_begin(struct tab *t, const char *key);
void tab_row(struct tab *t);
/* One cell of the current row; @text NULL: the value in plain decimal / as is. */
void tab_str(struct tab *t, unsigned int col, const char *s);
void tab_u64(struct tab *t, unsigned int col, uint64_t v, const char *text);
void tab_s64(struct tab *t, unsigned int col, int64_t v, const char *text);
void tab_double(struct tab *t, unsigned int col, double v, const char *text);
void tab_bool(struct tab *t, unsigned int col, bool v);
/* JSON null, @text in a text table. */
void tab_null(struct tab *t, unsigned int col, const char *text);
/* Nothing in JSON (the key is absent), @text in a text table: "does not apply". */
void tab_absent(struct tab *t, unsigned int col, const char *text);
/* Close the rows: print the text table, or close the JSON array. The table can be reused. */
void tab_end(struct tab *t);
void tab_free(struct tab *t);

/* "  KEY  what it is" lines for the help text, defaults marked. */
void tab_help(FILE *f, const struct tab_col *cols, size_t n);

/* A duration for people, 3 significant figures: "850 ns", "3.20 us", "12.5 ms", "4.31 s". */
const char *tab_dur(double ns, char *buf, size_t len);

#endif
