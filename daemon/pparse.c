// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvlock/names.h>

#include "pparse.h"
#include "util.h"

static const char *const pp_target_names[] = {
	[PP_GUEST] = "pvlock_guest",
	[PP_HOST_GLOBAL] = "pvlock_host (global)",
	[PP_HOST_VM] = "pvlock_host (per VM)",
};

static uint32_t pp_family(enum pp_target t)
{
	return t == PP_GUEST ? PVLOCK_PF_GUEST : PVLOCK_PF_HOST;
}

const struct pvlock_param_spec *pp_lookup(const char *name)
{
	uint32_t a;

	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		if (s && !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

bool pp_reported(const struct pvlock_param_spec *s, enum pp_target t)
{
	if (t == PP_GUEST)
		return s->flags & (PVLOCK_PF_GUEST | PVLOCK_PF_RO_GUEST);
	return s->flags & PVLOCK_PF_HOST;
}

bool pp_settable(const struct pvlock_param_spec *s, enum pp_target t)
{
	/* the spec's own check, with a value it certainly accepts */
	return pvlock_param_check(pp_family(t), s->attr, s->min, t == PP_HOST_VM) != -1;
}

const char *pp_range(const struct pvlock_param_spec *s, enum pp_target t, char *buf, size_t len)
{
	if (s->attr == PVLOCK_P_MODE)
		snprintf(buf, len, "%s, %s or %s", pvlock_mode_names[0], pvlock_mode_names[1],
			 pvlock_mode_names[2]);
	else if (s->attr == PVLOCK_P_PINNED)
		snprintf(buf, len, "none, all, or a comma list of threshold and budget");
	else if (s->type == PVLOCK_PT_BOOL)
		snprintf(buf, len, "yes or no");
	else if (t != PP_GUEST && (s->flags & PVLOCK_PF_HOST_ZERO_OK))
		snprintf(buf, len, "%u..%u, or 0 for none", s->min, s->max);
	else
		snprintf(buf, len, "%u..%u", s->min, s->max);
	return buf;
}

static int pp_pins(const char *text, uint32_t *v)
{
	char buf[64], *tok, *save;
	uint32_t bits = 0;

	if (!strcmp(text, "none")) {
		*v = 0;
		return 0;
	}
	if (!strcmp(text, "all")) {
		*v = PVLOCK_PIN_ALL;
		return 0;
	}
	if (strlen(text) >= sizeof(buf) || !text[0])
		return -EINVAL;
	strcpy(buf, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "threshold"))
			bits |= PVLOCK_PIN_THRESHOLD;
		else if (!strcmp(tok, "budget"))
			bits |= PVLOCK_PIN_BUDGET;
		else
			return -EINVAL;
	}
	*v = bits;
	return 0;
}

int pp_parse_value(const struct pvlock_param_spec *s, enum pp_target t, const char *text,
		   uint32_t *v, char *err, size_t errlen)
{
	char range[96];
	int rc;

	if (s->attr == PVLOCK_P_MODE) {
		for (*v = 0; *v <= PVLOCK_MODE_MAX; (*v)++)
			if (!strcmp(text, pvlock_mode_names[*v]))
				return 0;
		rc = -EINVAL;
	} else if (s->attr == PVLOCK_P_PINNED) {
		rc = pp_pins(text, v);
	} else if (s->type == PVLOCK_PT_BOOL) {
		bool b = false;

		rc = util_bool(text, &b);
		*v = b;
	} else {
		long l = 0;

		rc = util_long(text, 0, UINT32_MAX, &l);
		*v = (uint32_t)l;
		if (!rc && pvlock_param_check(pp_family(t), s->attr, *v, t == PP_HOST_VM) == -2)
			rc = -ERANGE;
	}
	if (rc == -ERANGE)
		snprintf(err, errlen, "%s %s is out of range: allowed %s", s->name, text,
			 pp_range(s, t, range, sizeof(range)));
	else if (rc)
		snprintf(err, errlen, "%s: '%s' is not a valid value: allowed %s", s->name, text,
			 pp_range(s, t, range, sizeof(range)));
	return rc;
}

const char *pp_names(enum pp_target t, bool settable, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t a;

	buf[0] = '\0';
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);

		if (!s || !(settable ? pp_settable(s, t) : pp_reported(s, t)))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? " " : "", s->name);
	}
	return buf;
}

int pp_parse_set(enum pp_target t, int argc, char **argv, struct pp_set *out, char *err,
		 size_t errlen)
{
	char names[256];
	int i, rc;

	memset(out, 0, sizeof(*out));
	if (argc == 0) {
		snprintf(err, errlen, "nothing to set: give NAME VALUE pairs (%s)",
			 pp_names(t, true, names, sizeof(names)));
		return -EINVAL;
	}
	for (i = 0; i < argc; i += 2) {
		const struct pvlock_param_spec *s = pp_lookup(argv[i]);

		if (!s) {
			snprintf(err, errlen, "unknown parameter '%s' (%s takes: %s)", argv[i],
				 pp_target_names[t], pp_names(t, true, names, sizeof(names)));
			return -EINVAL;
		}
		if (!pp_settable(s, t)) {
			snprintf(err, errlen, "%s cannot be set on %s%s (it takes: %s)", s->name,
				 pp_target_names[t],
				 t == PP_GUEST && (s->flags & PVLOCK_PF_RO_GUEST) ? ": read-only" : "",
				 pp_names(t, true, names, sizeof(names)));
			return -EOPNOTSUPP;
		}
		if (i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", s->name);
			return -EINVAL;
		}
		if (pp_has(out, s->attr)) {
			snprintf(err, errlen, "%s given twice", s->name);
			return -EINVAL;
		}
		rc = pp_parse_value(s, t, argv[i + 1], &out->val[s->attr], err, errlen);
		if (rc)
			return rc;
		out->present |= 1u << s->attr;
	}
	return 0;
}

uint32_t pp_pin_bits(const struct pp_set *s)
{
	return (pp_has(s, PVLOCK_P_SPIN_THRESHOLD) ? PVLOCK_PIN_THRESHOLD : 0) |
	       (pp_has(s, PVLOCK_P_BUDGET) ? PVLOCK_PIN_BUDGET : 0);
}

const char *pp_format(const struct pvlock_param_spec *s, uint32_t v, char *buf, size_t len)
{
	if (s->attr == PVLOCK_P_MODE)
		snprintf(buf, len, "%s", PVLOCK_NAME(pvlock_mode_names, v));
	else if (s->attr == PVLOCK_P_PINNED)
		snprintf(buf, len, "%s", !v ? "none" :
			 v == PVLOCK_PIN_ALL ? "threshold,budget" :
			 v == PVLOCK_PIN_THRESHOLD ? "threshold" :
			 v == PVLOCK_PIN_BUDGET ? "budget" : "?");
	else if (s->type == PVLOCK_PT_BOOL)
		snprintf(buf, len, "%s", v ? "yes" : "no");
	else
		snprintf(buf, len, "%u", v);
	return buf;
}
