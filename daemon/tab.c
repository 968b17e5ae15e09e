// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libsmartcols/libsmartcols.h>

#include "out.h"
#include "tab.h"

#define TAB_MAX_COLS	32

struct tab {
	const struct tab_col *cols;
	size_t n;
	bool show[TAB_MAX_COLS];	/* text: printed; JSON: emitted */
	bool chosen;			/* -o given: JSON emits only those too */
	int order[TAB_MAX_COLS];	/* text: the shown columns in -o order */
	size_t nshown;
	bool noheadings;
	/* text */
	struct libscols_table *sc;
	struct libscols_line *line;
	size_t nrows;
	/* JSON */
	bool in_row;
};

static int tab_find(const struct tab_col *cols, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(cols[i].key) == len && !strncasecmp(cols[i].key, name, len))
			return (int)i;
	return -1;
}

static void tab_show(struct tab *t, int c)
{
	size_t i;

	for (i = 0; i < t->nshown; i++)
		if (t->order[i] == c)
			return;
	t->show[c] = true;
	t->order[t->nshown++] = c;
}

struct tab *tab_new(const struct tab_col *cols, size_t n, const char *select, char *err,
		    size_t errlen)
{
	struct tab *t;
	const char *p;
	size_t i;

	if (n > TAB_MAX_COLS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->cols = cols;
	t->n = n;
	if (!select || *select == '+') {
		for (i = 0; i < n; i++)
			if (!(cols[i].flags & TAB_HIDDEN))
				tab_show(t, (int)i);
		select = select ? select + 1 : NULL;
	} else {
		t->chosen = true;
	}
	for (p = select; p && *p;) {
		size_t len = strcspn(p, ",");
		int c = tab_find(cols, n, p, len);

		if (c < 0) {
			size_t e = (size_t)snprintf(err, errlen, "unknown column '%.*s' (columns:", (int)len, p);

			for (i = 0; i < n && e < errlen; i++)
				e += (size_t)snprintf(err + e, errlen - e, " %s", cols[i].key);
			if (e < errlen)
				snprintf(err + e, errlen - e, ")");
			free(t);
			return NULL;
		}
		tab_show(t, c);
		p += len + (p[len] == ',');
	}
	if (!t->nshown) {
		snprintf(err, errlen, "no columns chosen");
		free(t);
		return NULL;
	}
	return t;
}

void tab_relabel(struct tab *t, const struct tab_col *cols)
{
	t->cols = cols;
}

void tab_noheadings(struct tab *t)
{
	t->noheadings = true;
}

bool tab_shown(const struct tab *t, unsigned int col)
{
	if (out_is_json())
		return !t->chosen || t->show[col];
	return t->show[col];
}

void tab_begin(struct tab *t, const char *key)
{
	size_t i;

	if (out_is_json()) {
		out_open_array(key);
		t->in_row = false;
		return;
	}
	t->sc = scols_new_table();
	if (!t->sc)
		return;
	scols_table_set_stream(t->sc, out_stream());
	scols_table_enable_noheadings(t->sc, t->noheadings);
	for (i = 0; i < t->nshown; i++) {
		const struct tab_col *c = &t->cols[t->order[i]];
		int fl = 0;

		if (c->flags & TAB_RIGHT)
			fl |= SCOLS_FL_RIGHT;
		if (c->flags & TAB_WRAP)
			fl |= SCOLS_FL_WRAP;
		scols_table_new_column(t->sc, c->header, 0, fl);
	}
}

void tab_row(struct tab *t)
{
	t->nrows++;
	if (out_is_json()) {
		if (t->in_row)
			out_close_object();
		out_open_object(NULL);
		t->in_row = true;
		return;
	}
	t->line = t->sc ? scols_table_new_line(t->sc, NULL) : NULL;
}

static void tab_text(struct tab *t, unsigned int col, const char *text)
{
	size_t i;

	if (!t->line || !t->show[col])
		return;
	for (i = 0; i < t->nshown; i++)
		if (t->order[i] == (int)col)
			scols_line_set_data(t->line, i, text);
}

void tab_str(struct tab *t, unsigned int col, const char *s)
{
	if (!tab_shown(t, col))
		return;
	if (out_is_json())
		out_str(t->cols[col].key, NULL, s);
	else
		tab_text(t, col, s);
}

void tab_u64(struct tab *t, unsigned int col, uint64_t v, const char *text)
{
	char buf[24];

	if (!tab_shown(t, col))
		return;
	if (out_is_json()) {
		out_u64(t->cols[col].key, NULL, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	tab_text(t, col, text ? text : buf);
}

void tab_s64(struct tab *t, unsigned int col, int64_t v, const char *text)
{
	char buf[24];

	if (!tab_shown(t, col))
		return;
	if (out_is_json()) {
		out_s64(t->cols[col].key, NULL, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	tab_text(t, col, text ? text : buf);
}

void tab_double(struct tab *t, unsigned int col, double v, const char *text)
{
	char buf[32];

	if (!tab_shown(t, col))
		return;
	if (out_is_json()) {
		out_double(t->cols[col].key, NULL, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.1f", v);
	tab_text(t, col, text ? text : buf);
}

void tab_bool(struct tab *t, unsigned int col, bool v)
{
	if (!tab_shown(t, col))
		return;
	if (out_is_json())
		out_bool(t->cols[col].key, NULL, v);
	else
		tab_text(t, col, v ? "yes" : "no");
}

void tab_null(struct tab *t, unsigned int col, const char *text)
{
	if (!tab_shown(t, col))
		return;
	if (out_is_json())
		out_null(t->cols[col].key, NULL);
	else
		tab_text(t, col, text);
}

void tab_absent(struct tab *t, unsigned int col, const char *text)
{
	if (!out_is_json())
		tab_text(t, col, text);
}

void tab_end(struct tab *t)
{
	if (out_is_json()) {
		if (t->in_row)
			out_close_object();
		t->in_row = false;
		out_close_array();
		return;
	}
	if (t->sc && t->nrows) {
		scols_print_table(t->sc);
	} else if (t->sc && !t->noheadings) {
		size_t i;

		/* libsmartcols prints nothing for no rows: the headings still say what is empty */
		for (i = 0; i < t->nshown; i++)
			fprintf(out_stream(), "%s%s", i ? " " : "", t->cols[t->order[i]].header);
		fputc('\n', out_stream());
	}
	if (t->sc)
		scols_unref_table(t->sc);
	t->sc = NULL;
	t->line = NULL;
	t->nrows = 0;
}

void tab_free(struct tab *t)
{
	if (!t)
		return;
	if (t->sc)
		scols_unref_table(t->sc);
	free(t);
}

void tab_help(FILE *f, const struct tab_col *cols, size_t n)
{
	size_t i;

	fprintf(f, "\nColumns (-o LIST chooses them, -o +LIST adds to the default ones, marked *):\n");
	for (i = 0; i < n; i++)
		fprintf(f, "  %c %-16s %s\n", cols[i].flags & TAB_HIDDEN ? ' ' : '*', cols[i].key,
			cols[i].help ? cols[i].help : "");
}

const char *tab_dur(double ns, char *buf, size_t len)
{
	static const struct { double div; const char *unit; } u[] = {
		{ 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" },
	};
	double v;
	size_t i;

	for (i = 0; i < 3 && ns < u[i].div; i++)
		;
	v = ns / u[i].div;
	if (i == 3)
		snprintf(buf, len, "%.0f ns", ns);
	else
		snprintf(buf, len, "%.*f %s", v >= 100 ? 0 : v >= 10 ? 1 : 2, v, u[i].unit);
	return buf;
}
