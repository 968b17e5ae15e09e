// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "log.h"

static enum pvd_log_level log_level = PVD_LOG_INFO;
static bool log_journal;

void log_setup(enum pvd_log_level level)
{
	log_level = level;
	/* systemd sets JOURNAL_STREAM when stderr is connected to the journal */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_msg(enum pvd_log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG };
	static const char *const word[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	if (log_journal)
		fputs(prefix[level], stderr);
	else
		fprintf(stderr, "pvlockd: %s: ", word[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
