/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of what pvlockd sees, in the
 * conventions of node_exporter and kube-state-metrics: one family per
 * quantity with its dimensions as labels (pvlock_vm_yields_total{result}),
 * base units (seconds), the same identity labels {vm, pid} on every
 * per-VM family whether pvlock_host or the BPF observer counted it, and
 * HELP and TYPE for every family. The families are one table (metrics.c)
 * that also prints their documentation (README, pvlockd --list-metrics).
 * Rendering is pure; serving is httpd.c's; the textfile is written here
 * atomically.
 */
#ifndef PVLOCK_METRICS_H
#define PVLOCK_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pvlock/tune.h>

#include "query.h"
#include "table.h"

#define PVD_REASONS	(PVLOCK_TUNE_PINNED + 1)

struct metrics_in {
	const char *version;
	bool host_up;				/* pvlock_host answered this period */
	const struct pv_vms *vms;		/* NULL without pvlock_host */
	bool has_overcommit;
	uint32_t overcommit_pct;
	const char *overcommit_source;		/* "module" or "proc" */
	bool bpf_up;				/* the BPF observer runs */
	const struct st_snap *bpf;		/* its counts, or NULL */
	uint64_t decisions[PVD_REASONS];	/* changes made, by reason */
	uint64_t writes_ok, writes_failed;	/* SET_PARAMS results */
};

/* The exposition text (malloc'd, NUL-terminated), or NULL on ENOMEM. */
char *metrics_render(const struct metrics_in *in, size_t *len);

/* Every family as a Markdown table: name, type, labels, meaning. */
void metrics_doc(FILE *f);

/* Write @text to @path through a temporary file and rename(2). */
int metrics_write_textfile(const char *path, const char *text, size_t len);

#endif
