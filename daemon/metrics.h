/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of what pvlockd sees: every
 * per-VM counter of pvlock_host labelled by VM name and id, the values in
 * force per VM, the host's overcommit, the BPF observer's counts when it
 * runs, and pvlockd's own decisions. Rendering is pure (the tests check it
 * with the strict checker in tests/qemu/tools/promcheck.c); serving is
 * httpd.c's and the textfile is written here atomically.
 */
#ifndef PVLOCK_METRICS_H
#define PVLOCK_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	const struct st_snap *bpf;		/* NULL unless the observer runs */
	uint64_t decisions[PVD_REASONS];	/* changes made, by reason */
	uint64_t writes_ok, writes_failed;	/* SET_PARAMS results */
};

/* The exposition text (malloc'd, NUL-terminated), or NULL on ENOMEM. */
char *metrics_render(const struct metrics_in *in, size_t *len);

/* Write @text to @path through a temporary file and rename(2). */
int metrics_write_textfile(const char *path, const char *text, size_t len);

#endif
