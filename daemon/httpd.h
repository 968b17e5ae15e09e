/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics endpoint: GET /metrics on one address (loopback by default),
 * served by libmicrohttpd's own thread from the last text pvlockd rendered.
 */
#ifndef PVLOCK_HTTPD_H
#define PVLOCK_HTTPD_H

#include <stddef.h>

struct httpd;

/* Listen on "HOST:PORT" or "[ADDR6]:PORT" (conf.h). 0, or a negative errno and @err. */
int httpd_start(struct httpd **h, const char *listen, char *err, size_t errlen);
/* Replace the text served (copied). */
int httpd_set(struct httpd *h, const char *text, size_t len);
void httpd_stop(struct httpd *h);

#endif
