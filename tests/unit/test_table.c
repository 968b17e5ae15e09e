// SPDX-License-Identifier: GPL-2.0
/* The stats model and its three front ends: table, JSON (out.c), CSV. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "out.h"
#include "tab.h"
#include "table.h"

#define SEC 1000000000ull

static char *buf;
static size_t len;
static FILE *mem;

static void capture(bool json)
{
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	out_init(mem, json, false);
}

static char *captured(void)
{
	fclose(mem);
	return buf;
}

/* st_print through a table with -o @cols (NULL: the default columns). */
static void print(const struct st_view *v, const char *cols, const char *wall)
{
	char err[256];
	struct tab *t = tab_new(st_cols, ST_NCOLS, cols, err, sizeof(err));

	assert_non_null(t);
	st_print(v, t, wall);
	tab_free(t);
}

/* Two host snapshots one second apart: vm "a" (id 1) and "b" (id 2). */
static void host_snaps(struct st_snap *p, struct st_snap *c)
{
	struct st_entity *e;

	st_snap_init(p, ST_HOST, 10 * SEC);
	e = st_add(p, "a", 1, 100, -1);
	e->v[PVLOCK_HS_YIELDS] = 1000;
	e->v[PVLOCK_HS_PREEMPTIONS] = 50;
	e = st_add(p, "b", 2, 200, -1);
	e->v[PVLOCK_HS_YIELDS] = 10;

	st_snap_init(c, ST_HOST, 12 * SEC);
	e = st_add(c, "b", 2, 200, -1);	/* order differs: matched by identity */
	e->v[PVLOCK_HS_YIELDS] = 5010;
	e = st_add(c, "a", 1, 100, -1);
	e->v[PVLOCK_HS_YIELDS] = 1400;
	e->v[PVLOCK_HS_PREEMPTIONS] = 40;	/* went back: a reset, no rate */
	e = st_add(c, "new", 3, 300, -1);	/* no previous sample: no rate */
	e->v[PVLOCK_HS_HELLO] = 1;
}

static const struct st_row *row(const struct st_view *v, const char *ent, const char *counter)
{
	const struct st_counters *sc = st_counters(v->cur->src);
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->rows[i].e->name, ent) && !strcmp(sc->names[v->rows[i].idx], counter))
			return &v->rows[i];
	return NULL;
}

static void rates_and_order(void **state)
{
	struct st_snap p, c;
	struct st_view v;
	const struct st_row *r;

	(void)state;
	host_snaps(&p, &c);
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_RATE, false, NULL), 0);
	assert_true(fabs(v.interval_s - 2.0) < 1e-9);
	/* zero totals are left out of the table */
	assert_int_equal(v.n, 4);
	r = row(&v, "b", "yields");
	assert_non_null(r);
	assert_true(r->has_rate);
	assert_true(fabs(r->rate - 2500.0) < 1e-9);
	assert_ptr_equal(r, &v.rows[0]);	/* highest rate first */
	r = row(&v, "a", "yields");
	assert_true(r->has_rate && fabs(r->rate - 200.0) < 1e-9);
	assert_false(row(&v, "a", "preemptions")->has_rate);
	assert_false(row(&v, "new", "hello")->has_rate);
	/* rows without a rate come after the ones with one */
	assert_true(v.rows[2].has_rate == false && v.rows[3].has_rate == false);
	st_view_free(&v);

	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_TOTAL, true, NULL), 0);
	assert_int_equal(v.n, 3 * (__PVLOCK_HS_LAST - 1));
	assert_string_equal(v.rows[0].e->name, "b");
	assert_int_equal(v.rows[0].total, 5010);
	st_view_free(&v);

	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_NAME, false, NULL), 0);
	assert_string_equal(v.rows[0].e->name, "a");
	assert_string_equal(v.rows[v.n - 1].e->name, "new");
	st_view_free(&v);

	/* no previous snapshot: totals only */
	assert_int_equal(st_view_build(&v, &c, NULL, ST_SORT_RATE, false, NULL), 0);
	assert_false(v.rows[0].has_rate);
	st_view_free(&v);
	st_snap_free(&p);
	st_snap_free(&c);
}

static void gauges_and_availability(void **state)
{
	struct st_snap p, c;
	struct st_entity *e;
	struct st_view v;

	(void)state;
	st_snap_init(&p, ST_GUEST, SEC);
	e = st_add(&p, "total", -1, -1, -1);
	e->v[PVLOCK_GS_THRESHOLD] = 1024;
	e->v[PVLOCK_GS_SLOWPATH] = 1;
	st_snap_init(&c, ST_GUEST, 2 * SEC);
	e = st_add(&c, "total", -1, -1, -1);
	e->v[PVLOCK_GS_THRESHOLD] = 2048;
	e->v[PVLOCK_GS_SLOWPATH] = 11;
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_RATE, false, NULL), 0);
	/* a gauge has a level, not a rate */
	assert_false(row(&v, "total", "threshold")->has_rate);
	assert_true(row(&v, "total", "slowpath")->rate == 10.0);
	st_view_free(&v);
	st_snap_free(&p);
	st_snap_free(&c);

	/* BPF counters the kernel could not count are absent, not zero */
	st_snap_init(&c, ST_BPF, SEC);
	e = st_add(&c, "vm", -1, 42, -1);
	e->avail &= ~(1ull << OBS_ON_SPIN);
	e->v[OBS_EXIT_HLT] = 3;
	st_note(&c, "on_spin: not counted");
	assert_int_equal(st_view_build(&v, &c, NULL, ST_SORT_NAME, true, NULL), 0);
	assert_null(row(&v, "vm", "on_spin"));
	assert_non_null(row(&v, "vm", "hlt_exits"));
	assert_int_equal(v.n, OBS_NR - 2);
	st_view_free(&v);
	st_snap_free(&c);
}

static void table_text(void **state)
{
	struct st_snap p, c;
	struct st_view v;
	char *t;

	(void)state;
	host_snaps(&p, &c);
	st_note(&c, "a note for the reader");
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_RATE, false, NULL), 0);
	capture(false);
	print(&v, NULL, NULL);
	out_flush();
	t = captured();
	assert_non_null(strstr(t, "source: pvlock_host: pvlock_host module counters"));
	assert_non_null(strstr(t, "interval: 2.00 s\n"));
	assert_non_null(strstr(t, "note: a note for the reader\n"));
	/* libsmartcols: columns as wide as their widest cell, numbers right-aligned */
	assert_non_null(strstr(t, "\nVM  EVENT       TOTAL RATE/s\n"));
	assert_non_null(strstr(t, "\nb   yields       5010 2500.0\n"));
	assert_non_null(strstr(t, "\na   preemptions    40      -\n"));
	assert_null(strstr(t, "time counters"));	/* none here: no legend */
	free(t);

	/* -o: the columns chosen, in their order; +LIST adds to the default ones */
	capture(false);
	print(&v, "counter,entity", NULL);
	t = captured();
	assert_non_null(strstr(t, "\nEVENT       VM\nyields      b\n"));
	free(t);
	capture(false);
	print(&v, "+pid", NULL);
	t = captured();
	assert_non_null(strstr(t, "\nVM  EVENT       TOTAL RATE/s PID\n"));
	assert_non_null(strstr(t, "\nb   yields       5010 2500.0 200\n"));
	free(t);
	st_view_free(&v);
	st_snap_free(&c);

	/* nothing to show says so */
	st_snap_init(&c, ST_HOST, SEC);
	assert_int_equal(st_view_build(&v, &c, NULL, ST_SORT_RATE, false, NULL), 0);
	capture(false);
	print(&v, NULL, NULL);
	out_flush();
	t = captured();
	assert_non_null(strstr(t, "(no events: nothing to show)"));
	/* an empty table keeps its headings */
	assert_non_null(strstr(t, "\nVM EVENT TOTAL RATE/s\n"));
	free(t);
	st_view_free(&v);
	st_snap_free(&c);
	st_snap_free(&p);
}

static void table_json(void **state)
{
	struct st_snap p, c;
	struct st_view v;
	json_object *o, *rows, *r, *x;
	char *t;
	size_t i;
	bool found = false;

	(void)state;
	host_snaps(&p, &c);
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_RATE, true, NULL), 0);
	capture(true);
	print(&v, NULL, NULL);
	t = captured();
	o = json_tokener_parse(t);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "source", &x));
	assert_string_equal(json_object_get_string(x), "pvlock_host");
	assert_true(json_object_object_get_ex(o, "interval_s", &x));
	assert_true(json_object_get_double(x) == 2.0);
	assert_true(json_object_object_get_ex(o, "rows", &rows));
	assert_int_equal(json_object_array_length(rows), v.n);
	for (i = 0; i < json_object_array_length(rows); i++) {
		r = json_object_array_get_idx(rows, i);
		json_object_object_get_ex(r, "entity", &x);
		if (strcmp(json_object_get_string(x), "a"))
			continue;
		json_object_object_get_ex(r, "counter", &x);
		if (!strcmp(json_object_get_string(x), "preemptions")) {
			/* no rate is null, not 0 */
			assert_true(json_object_object_get_ex(r, "rate", &x));
			assert_null(x);
			json_object_object_get_ex(r, "total", &x);
			assert_int_equal(json_object_get_uint64(x), 40);
			json_object_object_get_ex(r, "vm_id", &x);
			assert_int_equal(json_object_get_int(x), 1);
			json_object_object_get_ex(r, "pid", &x);
			assert_int_equal(json_object_get_int(x), 100);
			assert_false(json_object_object_get_ex(r, "cpu", &x));
			found = true;
		}
	}
	assert_true(found);
	json_object_put(o);
	free(t);
	st_view_free(&v);
	st_snap_free(&p);
	st_snap_free(&c);
}

static void csv(void **state)
{
	struct st_snap p, c;
	struct st_entity *e;
	struct st_view v;
	char *t;

	(void)state;
	st_snap_init(&p, ST_HOST, SEC);
	e = st_add(&p, "web,\"prod\"", 4, 9, 1);
	e->v[PVLOCK_HS_YIELDS] = 1;
	st_snap_init(&c, ST_HOST, 3 * SEC);
	e = st_add(&c, "web,\"prod\"", 4, 9, 1);
	e->v[PVLOCK_HS_YIELDS] = 5;
	e = st_add(&c, "x", 5, 10, -1);
	e->v[PVLOCK_HS_HALTS] = 7;
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_NAME, false, NULL), 0);
	mem = open_memstream(&buf, &len);
	st_csv_header(mem, false);
	st_csv_rows(mem, &v, 2.5, NULL);
	t = captured();
	/* RFC 4180 quoting; empty fields where an id does not apply */
	assert_string_equal(t, "time_s,source,entity,vm_id,pid,cpu,counter,total,rate\n"
			       "2.500,pvlock_host,\"web,\"\"prod\"\"\",4,9,1,yields,5,2.000\n"
			       "2.500,pvlock_host,x,5,10,,halts,7,\n");
	free(t);
	/* -T: the wall-clock time in the first column */
	mem = open_memstream(&buf, &len);
	st_csv_header(mem, true);
	st_csv_rows(mem, &v, 2.5, "2026-11-23T10:11:12.000001+01:00");
	t = captured();
	assert_non_null(strstr(t, "time,source,entity,"));
	assert_non_null(strstr(t, "\n2026-11-23T10:11:12.000001+01:00,pvlock_host,x,5,10,,halts,7,\n"));
	free(t);
	st_view_free(&v);
	st_snap_free(&p);
	st_snap_free(&c);
}

/*
 * Time counters for people: seconds, and their rate as the share of the
 * row's vCPU time; the raw nanoseconds stay in JSON. kvm_stat's -f.
 */
static void human_units_and_filter(void **state)
{
	struct st_snap p, c;
	struct st_entity *e;
	struct st_view v;
	regex_t re;
	char *t;

	(void)state;
	st_snap_init(&p, ST_HOST, 10 * SEC);
	e = st_add(&p, "web1", 1, 100, -1);
	e->ncpus = 2;
	e->v[PVLOCK_HS_PREEMPTED_NS] = 1000000000;
	e->v[PVLOCK_HS_YIELDS] = 10;
	st_snap_init(&c, ST_HOST, 12 * SEC);
	e = st_add(&c, "web1", 1, 100, -1);
	e->ncpus = 2;
	/* +3.04 s preempted in 2 s: 1.52 s per second, 76% of the time of its 2 vCPUs */
	e->v[PVLOCK_HS_PREEMPTED_NS] = 4040000000ull;
	e->v[PVLOCK_HS_YIELDS] = 30;
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_NAME, false, NULL), 0);
	capture(false);
	print(&v, NULL, NULL);
	t = captured();
	assert_non_null(strstr(t, "note: *_ns counters are times"));
	assert_non_null(strstr(t, "\nweb1 yields           30         10.0\n"));
	assert_non_null(strstr(t, "\nweb1 preempted_ns 4.04 s 1.52 s (76%)\n"));
	free(t);
	capture(true);
	print(&v, NULL, NULL);
	t = captured();
	assert_non_null(strstr(t, "\"counter\":\"preempted_ns\",\"total\":4040000000,\"rate\":1520000000,"));
	free(t);
	st_view_free(&v);

	assert_int_equal(regcomp(&re, "^yield", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(st_view_build(&v, &c, &p, ST_SORT_NAME, true, &re), 0);
	assert_int_equal(v.n, 4);	/* yields, yield_same_vm, yield_cross_vm, yield_none */
	assert_non_null(row(&v, "web1", "yield_none"));
	assert_null(row(&v, "web1", "preempted_ns"));
	regfree(&re);
	st_view_free(&v);
	st_snap_free(&p);
	st_snap_free(&c);

	/* a small share keeps two digits: 278 us per second of 2 CPUs */
	st_snap_init(&c, ST_GUEST, 0);
	e = st_add(&c, "total", -1, -1, -1);
	e->ncpus = 2;
	assert_string_equal(st_share_text(e, 278000, (char[48]){ 0 }, 48), "278 us (0.014%)");
	assert_string_equal(st_share_text(e, 7e7, (char[48]){ 0 }, 48), "70.0 ms (3.5%)");
	st_snap_free(&c);
	assert_string_equal(tab_dur(850, (char[24]){ 0 }, 24), "850 ns");
	assert_string_equal(tab_dur(3200, (char[24]){ 0 }, 24), "3.20 us");
	assert_string_equal(tab_dur(12.5e6, (char[24]){ 0 }, 24), "12.5 ms");
	assert_string_equal(tab_dur(431e9, (char[24]){ 0 }, 24), "431 s");
}

/* json-c's doubles as people write them: 0.2, not 0.20044029799999999 */
static void json_doubles(void **state)
{
	char b[48];

	(void)state;
	assert_string_equal(out_fmt_double(0.200440298, b, sizeof(b)), "0.20044");
	assert_string_equal(out_fmt_double(1521164389.6, b, sizeof(b)), "1521164389.6");
	assert_string_equal(out_fmt_double(2.0, b, sizeof(b)), "2");
	assert_string_equal(out_fmt_double(0, b, sizeof(b)), "0");
	assert_string_equal(out_fmt_double(-3.5, b, sizeof(b)), "-3.5");
	assert_string_equal(out_fmt_double(1e-7, b, sizeof(b)), "1e-07");
	capture(true);
	out_open_object(NULL);
	out_double("x", NULL, 0.1 + 0.2);
	out_close_object();
	assert_string_equal(captured(), "{\"x\":0.3}\n");
	free(buf);
}

/* Every counter named *_ns is shown as a time, and only those (each source). */
static void every_ns_counter_is_a_time(void **state)
{
	const enum st_source srcs[] = { ST_GUEST, ST_HOST, ST_BPF };
	unsigned int i, k;

	(void)state;
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		const struct st_counters *sc = st_counters(srcs[i]);

		for (k = 1; k < sc->n; k++) {
			const char *n = sc->names[k];
			size_t len = n ? strlen(n) : 0;
			bool named_ns = len > 3 && !strcmp(n + len - 3, "_ns");

			if (named_ns != (bool)((sc->ns >> k) & 1))
				fail_msg("%s: counter %s %s marked as nanoseconds", st_source_name(srcs[i]),
					 n ? n : "(unnamed)", named_ns ? "is not" : "is");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rates_and_order),
		cmocka_unit_test(gauges_and_availability),
		cmocka_unit_test(table_text),
		cmocka_unit_test(table_json),
		cmocka_unit_test(csv),
		cmocka_unit_test(human_units_and_filter),
		cmocka_unit_test(json_doubles),
		cmocka_unit_test(every_ns_counter_is_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
