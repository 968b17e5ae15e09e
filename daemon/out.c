// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "out.h"

#define OUT_DEPTH 16

static FILE *out_f;
static bool out_json, out_pretty;
static json_object *out_stack[OUT_DEPTH];
static int out_top = -1;
static json_object *out_root;

void out_init(FILE *f, bool json, bool pretty)
{
	out_f = f;
	out_json = json;
	out_pretty = pretty;
	out_top = -1;
	out_root = NULL;
}

bool out_is_json(void)
{
	return out_json;
}

FILE *out_stream(void)
{
	return out_f;
}

const char *out_fmt_double(double v, char *buf, size_t len)
{
	char *p;

	/* six decimals at most, trailing zeros off: 0.2 rather than 0.20044029799999999 */
	if (!isfinite(v) || v == 0 || (fabs(v) >= 1e-4 && fabs(v) < 1e15)) {
		snprintf(buf, len, "%.6f", isfinite(v) ? v : 0);
		p = buf + strlen(buf) - 1;
		while (p > buf && *p == '0')
			*p-- = '\0';
		if (*p == '.')
			*p = '\0';
	} else {
		snprintf(buf, len, "%.6g", v);
	}
	return buf;
}

static void out_add(const char *key, json_object *o)
{
	json_object *parent;

	if (out_top < 0) {
		/* a bare value at top level: becomes the document */
		if (out_root)
			json_object_put(out_root);
		out_root = o;
		return;
	}
	parent = out_stack[out_top];
	if (json_object_is_type(parent, json_type_array))
		json_object_array_add(parent, o);
	else
		json_object_object_add(parent, key ? key : "", o);
}

static void out_push(const char *key, json_object *o)
{
	if (out_top + 1 >= OUT_DEPTH) {
		json_object_put(o);
		return;
	}
	if (out_top < 0) {
		if (out_root)
			json_object_put(out_root);
		out_root = o;
	} else {
		out_add(key, o);
	}
	out_stack[++out_top] = o;
}

void out_open_object(const char *key)
{
	if (out_json)
		out_push(key, json_object_new_object());
}

void out_open_array(const char *key)
{
	if (out_json)
		out_push(key, json_object_new_array());
}

static void out_pop(void)
{
	if (!out_json || out_top < 0)
		return;
	out_top--;
	if (out_top < 0)
		out_flush();
}

void out_close_object(void)
{
	out_pop();
}

void out_close_array(void)
{
	out_pop();
}

static void out_vtext(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out_f, fmt, ap);
	va_end(ap);
}

void out_u64(const char *key, const char *fmt, uint64_t v)
{
	if (out_json)
		out_add(key, json_object_new_uint64(v));
	else if (fmt)
		out_vtext(fmt, (unsigned long long)v);
}

void out_s64(const char *key, const char *fmt, int64_t v)
{
	if (out_json)
		out_add(key, json_object_new_int64(v));
	else if (fmt)
		out_vtext(fmt, (long long)v);
}

void out_double(const char *key, const char *fmt, double v)
{
	char buf[48];

	if (out_json)
		out_add(key, json_object_new_double_s(v, out_fmt_double(v, buf, sizeof(buf))));
	else if (fmt)
		out_vtext(fmt, v);
}

void out_str(const char *key, const char *fmt, const char *s)
{
	if (out_json)
		out_add(key, json_object_new_string(s ? s : ""));
	else if (fmt)
		out_vtext(fmt, s ? s : "");
}

void out_bool(const char *key, const char *fmt, bool v)
{
	if (out_json)
		out_add(key, json_object_new_boolean(v));
	else if (fmt)
		out_vtext(fmt, v ? "yes" : "no");
}

void out_null(const char *key, const char *fmt)
{
	if (out_json)
		out_add(key, NULL);
	else if (fmt)
		out_vtext("%s", fmt);
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (out_json)
		return;
	va_start(ap, fmt);
	vfprintf(out_f, fmt, ap);
	va_end(ap);
}

void out_flush(void)
{
	if (out_json && out_root) {
		int flags = out_pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
				       : JSON_C_TO_STRING_PLAIN;

		fprintf(out_f, "%s\n", json_object_to_json_string_ext(out_root, flags));
		json_object_put(out_root);
		out_root = NULL;
		out_top = -1;
	}
	fflush(out_f);
}
