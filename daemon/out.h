/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One print path for text and JSON, in the manner of iproute2's json_print:
 * every value is emitted once with a JSON key and a text format; the mode
 * chosen at start decides which appears. JSON is built with json-c and
 * written when the outermost object or array closes.
 */
#ifndef PVLOCK_OUT_H
#define PVLOCK_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void out_init(FILE *f, bool json, bool pretty);
bool out_is_json(void);
/* The stream text and JSON go to. */
FILE *out_stream(void);
/* @v as JSON writes it: at most six decimals, no trailing zeros ("0.2", "1521164389.6"). */
const char *out_fmt_double(double v, char *buf, size_t len);

/* key NULL inside arrays or for the outermost container */
void out_open_object(const char *key);
void out_close_object(void);
void out_open_array(const char *key);
void out_close_array(void);

/* @fmt is the text format (may be NULL: nothing in text mode). */
void out_u64(const char *key, const char *fmt, uint64_t v);
void out_s64(const char *key, const char *fmt, int64_t v);
void out_double(const char *key, const char *fmt, double v);
void out_str(const char *key, const char *fmt, const char *s);
void out_bool(const char *key, const char *fmt, bool v);
void out_null(const char *key, const char *fmt);

/* Text only. */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Flush pending JSON (one document per call). */
void out_flush(void);

#endif
