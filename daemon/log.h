/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlockd's log: stderr, with the syslog priority prefixes journald reads
 * ("<3>...") when stderr is the journal, plain "pvlockd: level: ..." else.
 */
#ifndef PVLOCK_LOG_H
#define PVLOCK_LOG_H

#include "conf.h"

void log_setup(enum pvd_log_level level);
void log_msg(enum pvd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(PVD_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(PVD_LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(PVD_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(PVD_LOG_DEBUG, __VA_ARGS__)

#endif
