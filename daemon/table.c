// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pvlock/names.h>

#include "out.h"
#include "table.h"
#include "util.h"

static const char *const obs_names[] = {
	[OBS_UNSPEC] = NULL,
	[OBS_EXITS] = "exits",
	[OBS_EXIT_HLT] = "hlt_exits",
	[OBS_EXIT_PAUSE] = "pause_exits",
	[OBS_EXIT_HYPERCALL] = "hypercall_exits",
	[OBS_EXIT_OTHER] = "other_exits",
	[OBS_HC_KICK_CPU] = "hc_kick_cpu",
	[OBS_HC_SCHED_YIELD] = "hc_sched_yield",
	[OBS_HC_PVLOCK] = "hc_pvlock",
	[OBS_HC_OTHER] = "hc_other",
	[OBS_ON_SPIN] = "on_spin",
	[OBS_ON_SPIN_YIELDED] = "on_spin_yielded",
	[OBS_YIELD_TO] = "yield_to",
	[OBS_YIELD_TO_OK] = "yield_to_ok",
	[OBS_YIELD_TO_FAILED] = "yield_to_failed",
};
_Static_assert(PVLOCK_ARRAY_SIZE(obs_names) == OBS_NR, "every observer counter needs a name");

static const struct st_counters st_sources[] = {
	[ST_GUEST] = { __PVLOCK_GS_LAST, pvlock_guest_stat_names,
		       (1ull << PVLOCK_GS_THRESHOLD) | (1ull << PVLOCK_GS_WAIT_MAX_NS),
		       (1ull << PVLOCK_GS_WAIT_NS) | (1ull << PVLOCK_GS_WAIT_MAX_NS) },
	[ST_HOST] = { __PVLOCK_HS_LAST, pvlock_host_stat_names, 0,
		      (1ull << PVLOCK_HS_PREEMPTED_NS) | (1ull << PVLOCK_HS_HC_NS) |
		      (1ull << PVLOCK_HS_ON_SPIN_NS) | (1ull << PVLOCK_HS_PRIO_NS) },
	[ST_BPF] = { OBS_NR, obs_names, 0, 0 },
};

static const char *const st_source_names[] = {
	[ST_GUEST] = "pvlock_guest",
	[ST_HOST] = "pvlock_host",
	[ST_BPF] = "bpf",
};

static const char *const st_source_descs[] = {
	[ST_GUEST] = "pvlock_guest module counters (this guest's lock slow path)",
	[ST_HOST] = "pvlock_host module counters (per VM)",
	[ST_BPF] = "BPF observer of KVM (tracepoints kvm:kvm_exit, kvm:kvm_hypercall; "
		   "fexit kvm_vcpu_on_spin, kvm_vcpu_yield_to), counting since this program started",
};

const struct st_counters *st_counters(enum st_source src)
{
	return &st_sources[src];
}

const char *st_source_name(enum st_source src)
{
	return st_source_names[src];
}

const char *st_source_desc(enum st_source src)
{
	return st_source_descs[src];
}

void st_snap_init(struct st_snap *s, enum st_source src, uint64_t time_ns)
{
	memset(s, 0, sizeof(*s));
	s->src = src;
	s->time_ns = time_ns;
}

void st_snap_free(struct st_snap *s)
{
	free(s->e);
	s->e = NULL;
	s->n = s->cap = 0;
}

void st_snap_move(struct st_snap *dst, struct st_snap *src)
{
	st_snap_free(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

struct st_entity *st_add(struct st_snap *s, const char *name, int64_t vm_id, int64_t pid,
			 int64_t cpu)
{
	struct st_entity *e;

	if (UTIL_GROW(s->e, s->cap, s->n + 1))
		return NULL;
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->vm_id = vm_id;
	e->pid = pid;
	e->cpu = cpu;
	e->avail = ~0ull;
	return e;
}

void st_note(struct st_snap *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nr_notes >= PVLOCK_ARRAY_SIZE(s->notes))
		return;
	va_start(ap, fmt);
	vsnprintf(s->notes[s->nr_notes++], sizeof(s->notes[0]), fmt, ap);
	va_end(ap);
}

static const struct st_entity *st_match(const struct st_snap *s, const struct st_entity *e)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (s->e[i].vm_id == e->vm_id && s->e[i].pid == e->pid && s->e[i].cpu == e->cpu)
			return &s->e[i];
	return NULL;
}

static enum st_sort st_sort_key;

static int st_cmp_name(const struct st_row *a, const struct st_row *b)
{
	int c = strcmp(a->e->name, b->e->name);

	if (c)
		return c;
	if (a->e->cpu != b->e->cpu)
		return a->e->cpu < b->e->cpu ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int st_cmp(const void *pa, const void *pb)
{
	const struct st_row *a = pa, *b = pb;

	if (st_sort_key == ST_SORT_RATE) {
		if (a->has_rate != b->has_rate)
			return a->has_rate ? -1 : 1;
		if (a->has_rate && a->rate != b->rate)
			return a->rate > b->rate ? -1 : 1;
	}
	if (st_sort_key != ST_SORT_NAME && a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return st_cmp_name(a, b);
}

int st_view_build(struct st_view *v, const struct st_snap *cur, const struct st_snap *prev,
		  enum st_sort sort, bool all, const regex_t *filter)
{
	const struct st_counters *sc = st_counters(cur->src);
	size_t i, max = cur->n * sc->n;
	unsigned int k;

	memset(v, 0, sizeof(*v));
	v->cur = cur;
	v->prev = prev && prev->src == cur->src ? prev : NULL;
	if (v->prev && cur->time_ns > v->prev->time_ns)
		v->interval_s = (double)(cur->time_ns - v->prev->time_ns) / 1e9;
	else
		v->prev = NULL;
	v->rows = calloc(max ? max : 1, sizeof(*v->rows));
	if (!v->rows)
		return -ENOMEM;
	for (i = 0; i < cur->n; i++) {
		const struct st_entity *e = &cur->e[i], *p = st_match(v->prev, e);

		for (k = 1; k < sc->n; k++) {
			struct st_row *r = &v->rows[v->n];

			if (!(e->avail & (1ull << k)) || (!all && !e->v[k]))
				continue;
			if (filter && regexec(filter, sc->names[k], 0, NULL, 0))
				continue;
			r->e = e;
			r->idx = k;
			r->total = e->v[k];
			if (p && (p->avail & (1ull << k)) && !(sc->gauges & (1ull << k)) &&
			    e->v[k] >= p->v[k]) {
				r->has_rate = true;
				r->rate = (double)(e->v[k] - p->v[k]) / v->interval_s;
			}
			v->n++;
		}
	}
	st_sort_key = sort;
	qsort(v->rows, v->n, sizeof(*v->rows), st_cmp);
	return 0;
}

void st_view_free(struct st_view *v)
{
	free(v->rows);
	memset(v, 0, sizeof(*v));
}

const struct tab_col st_cols[ST_NCOLS] = {
	[ST_COL_ENTITY] = { "entity", "ENTITY", TAB_STR, 0,
			    "VM, VM/vCPU (host), total or CPU (guest)" },
	[ST_COL_VM_ID] = { "vm_id", "VM_ID", TAB_S64, TAB_RIGHT | TAB_HIDDEN,
			   "pvlock_host's VM id" },
	[ST_COL_PID] = { "pid", "PID", TAB_S64, TAB_RIGHT | TAB_HIDDEN, "the VMM's process id" },
	[ST_COL_CPU] = { "cpu", "CPU", TAB_S64, TAB_RIGHT | TAB_HIDDEN, "vCPU or CPU number" },
	[ST_COL_COUNTER] = { "counter", "EVENT", TAB_STR, 0, "counter name" },
	[ST_COL_TOTAL] = { "total", "TOTAL", TAB_U64, TAB_RIGHT,
			   "since the module loaded (time counters: in seconds)" },
	[ST_COL_RATE] = { "rate", "RATE/s", TAB_DOUBLE, TAB_RIGHT,
			  "per second over the interval (time counters: seconds per second "
			  "and the share of vCPU time)" },
	[ST_COL_GAUGE] = { "gauge", "GAUGE", TAB_BOOL, TAB_HIDDEN,
			   "a level (no rate), not a count" },
	[ST_COL_UNIT] = { "unit", "UNIT", TAB_STR, TAB_HIDDEN, "ns for time counters" },
};

static const char *st_entity_label(enum st_source src, bool per_cpu)
{
	if (src == ST_GUEST)
		return "CPU";
	return per_cpu ? "VM/VCPU" : "VM";
}

const char *st_share_text(const struct st_entity *e, double ns_per_s, char *buf, size_t len)
{
	char d[24];

	double pct = e->ncpus ? ns_per_s / 1e7 / e->ncpus : 0;

	tab_dur(ns_per_s, d, sizeof(d));
	if (!e->ncpus)
		snprintf(buf, len, "%s", d);
	else if (pct >= 10 || pct == 0)
		snprintf(buf, len, "%s (%.0f%%)", d, pct);
	else
		snprintf(buf, len, "%s (%.2g%%)", d, pct);	/* 0.014%, 3.5% */
	return buf;
}

void st_print(const struct st_view *v, struct tab *t, const char *wall)
{
	const struct st_snap *s = v->cur;
	const struct st_counters *sc = st_counters(s->src);
	char total[32], rate[48];
	bool per_cpu = false, any_ns = false;
	struct tab_col cols[ST_NCOLS];
	size_t i;

	for (i = 0; i < s->n; i++)
		per_cpu |= s->e[i].cpu >= 0;
	for (i = 0; i < v->n; i++)
		any_ns |= (sc->ns >> v->rows[i].idx) & 1;
	memcpy(cols, st_cols, sizeof(cols));
	cols[ST_COL_ENTITY].header = st_entity_label(s->src, per_cpu);
	out_open_object(NULL);
	out_str("source", "source: %s", st_source_name(s->src));
	out_str("source_desc", ": %s\n", st_source_desc(s->src));
	if (wall)
		out_str("time", "time: %s\n", wall);
	if (v->prev)
		out_double("interval_s", "interval: %.2f s\n", v->interval_s);
	else
		out_null("interval_s", "interval: none (totals only)\n");
	out_open_array("notes");
	for (i = 0; i < s->nr_notes; i++)
		out_str(NULL, "note: %s\n", s->notes[i]);
	out_close_array();
	if (any_ns)
		out_text("note: *_ns counters are times: TOTAL in seconds, RATE/s as time per second "
			 "(in brackets: the share of the row's vCPU time)\n");
	out_text("\n");
	tab_relabel(t, cols);
	tab_begin(t, "rows");
	for (i = 0; i < v->n; i++) {
		const struct st_row *r = &v->rows[i];
		bool ns = (sc->ns >> r->idx) & 1;

		tab_row(t);
		tab_str(t, ST_COL_ENTITY, r->e->name);
		if (r->e->vm_id >= 0)
			tab_s64(t, ST_COL_VM_ID, r->e->vm_id, NULL);
		else
			tab_absent(t, ST_COL_VM_ID, "-");
		if (r->e->pid >= 0)
			tab_s64(t, ST_COL_PID, r->e->pid, NULL);
		else
			tab_absent(t, ST_COL_PID, "-");
		if (r->e->cpu >= 0)
			tab_s64(t, ST_COL_CPU, r->e->cpu, NULL);
		else
			tab_absent(t, ST_COL_CPU, "-");
		tab_str(t, ST_COL_COUNTER, sc->names[r->idx]);
		tab_u64(t, ST_COL_TOTAL, r->total, ns ? tab_dur((double)r->total, total,
								   sizeof(total)) : NULL);
		if (r->has_rate)
			tab_double(t, ST_COL_RATE, r->rate, ns ? st_share_text(r->e, r->rate, rate,
									  sizeof(rate)) : NULL);
		else
			tab_null(t, ST_COL_RATE, "-");
		tab_bool(t, ST_COL_GAUGE, (sc->gauges >> r->idx) & 1);
		tab_str(t, ST_COL_UNIT, ns ? "ns" : "");
	}
	tab_end(t);
	tab_relabel(t, st_cols);
	if (!v->n)
		out_text("(no events%s)\n", s->n ? "" : ": nothing to show");
	out_close_object();
}

/* RFC 4180: quote fields holding a separator, a quote or a line break. */
static void st_csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void st_csv_id(FILE *f, int64_t v)
{
	if (v >= 0)
		fprintf(f, "%lld", (long long)v);
	fputc(',', f);
}

void st_csv_header(FILE *f, bool wall)
{
	fprintf(f, "%s,source,entity,vm_id,pid,cpu,counter,total,rate\n", wall ? "time" : "time_s");
}

void st_csv_rows(FILE *f, const struct st_view *v, double t_s, const char *wall)
{
	const struct st_counters *sc = st_counters(v->cur->src);
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct st_row *r = &v->rows[i];

		if (wall)
			fprintf(f, "%s,%s,", wall, st_source_name(v->cur->src));
		else
			fprintf(f, "%.3f,%s,", t_s, st_source_name(v->cur->src));
		st_csv_str(f, r->e->name);
		fputc(',', f);
		st_csv_id(f, r->e->vm_id);
		st_csv_id(f, r->e->pid);
		st_csv_id(f, r->e->cpu);
		fprintf(f, "%s,%llu,", sc->names[r->idx], (unsigned long long)r->total);
		if (r->has_rate)
			fprintf(f, "%.3f", r->rate);
		fputc('\n', f);
	}
	fflush(f);
}
