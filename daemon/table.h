/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One stats model, three front ends, as in kvm_stat: a snapshot holds the
 * counters of each entity (a VM, a vCPU, a guest CPU, the guest total) from
 * one source; two snapshots give rows with totals and rates; the rows are
 * printed as a table or JSON through out.c, or as CSV for --log. Pure: the
 * snapshots are filled elsewhere (stats.c, obs.c).
 */
#ifndef PVLOCK_TABLE_H
#define PVLOCK_TABLE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/pvlock.h>

#include "obs_shared.h"
#include "tab.h"

enum st_source {
	ST_GUEST,		/* pvlock_guest's counters */
	ST_HOST,		/* pvlock_host's counters */
	ST_BPF,			/* the BPF observer's counts of KVM events */
	__ST_SOURCE_LAST,
};

#define ST_MAX_COUNTERS	48
_Static_assert(__PVLOCK_GS_LAST <= ST_MAX_COUNTERS && __PVLOCK_HS_LAST <= ST_MAX_COUNTERS &&
	       OBS_NR <= ST_MAX_COUNTERS, "a source has more counters than a snapshot holds");

struct st_entity {
	char name[PVLOCK_NAME_MAX + 16];	/* "total", "cpu3", "web1", "web1/vcpu2" */
	int64_t vm_id, pid, cpu;		/* -1 where they do not apply */
	unsigned int ncpus;			/* vCPUs or CPUs it stands for, 0: unknown */
	uint64_t v[ST_MAX_COUNTERS];
	uint64_t avail;				/* bit per counter the source could count */
};

struct st_snap {
	enum st_source src;
	uint64_t time_ns;			/* CLOCK_MONOTONIC when taken */
	struct st_entity *e;
	size_t n, cap;
	char notes[4][256];			/* why a figure is missing, for the reader */
	unsigned int nr_notes;
};

struct st_counters {
	unsigned int n;				/* valid indexes 1..n-1 */
	const char *const *names;
	uint64_t gauges;			/* bit per index: a level, not a count */
	uint64_t ns;				/* bit per index: nanoseconds */
};

const struct st_counters *st_counters(enum st_source src);
const char *st_source_name(enum st_source src);
/* A sentence saying where the figures come from. */
const char *st_source_desc(enum st_source src);

void st_snap_init(struct st_snap *s, enum st_source src, uint64_t time_ns);
void st_snap_free(struct st_snap *s);
void st_snap_move(struct st_snap *dst, struct st_snap *src);
/* A new zeroed entity with every counter available, or NULL. */
struct st_entity *st_add(struct st_snap *s, const char *name, int64_t vm_id, int64_t pid,
			 int64_t cpu);
void st_note(struct st_snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum st_sort { ST_SORT_RATE, ST_SORT_TOTAL, ST_SORT_NAME };

struct st_row {
	const struct st_entity *e;
	unsigned int idx;		/* counter index */
	uint64_t total;
	double rate;			/* per second */
	bool has_rate;			/* false: first sample, gauge, or counter went back */
};

struct st_view {
	const struct st_snap *cur, *prev;	/* prev may be NULL */
	double interval_s;
	struct st_row *rows;
	size_t n;
};

/*
 * Rows of @cur (rates against @prev, matched by entity identity), sorted by
 * @sort; zero totals left out unless @all; only counters whose name
 * matches @filter if not NULL. 0 or -ENOMEM.
 */
int st_view_build(struct st_view *v, const struct st_snap *cur, const struct st_snap *prev,
		  enum st_sort sort, bool all, const regex_t *filter);
void st_view_free(struct st_view *v);

/* The columns of the stats table (pvlockctl -o). */
enum {
	ST_COL_ENTITY, ST_COL_VM_ID, ST_COL_PID, ST_COL_CPU, ST_COL_COUNTER, ST_COL_TOTAL,
	ST_COL_RATE, ST_COL_GAUGE, ST_COL_UNIT, ST_NCOLS
};
extern const struct tab_col st_cols[ST_NCOLS];

/*
 * The table (text) or JSON document of @v through out.c and @t (made from
 * st_cols). Text shows time counters in seconds and their rate as a share
 * of the entity's vCPU time; JSON keeps the raw values. @wall: the sample's
 * wall-clock time, or NULL.
 */
void st_print(const struct st_view *v, struct tab *t, const char *wall);

/* A time counter's rate for people: time per second and the share of @e's vCPU time. */
const char *st_share_text(const struct st_entity *e, double ns_per_s, char *buf, size_t len);

/*
 * CSV: the header line, then one line per row, with the sample time:
 * seconds since the start, or with @wall the wall-clock time (ISO 8601).
 */
void st_csv_header(FILE *f, bool wall);
void st_csv_rows(FILE *f, const struct st_view *v, double t_s, const char *wall);

#endif
