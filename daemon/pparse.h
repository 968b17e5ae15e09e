/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parameter names and values as an operator types them, checked against the
 * spec in include/pvlock/params.h before anything is sent: the same table
 * the modules build their netlink policies from, so the CLI's ranges cannot
 * drift from the kernel's. Pure: no netlink, no output.
 */
#ifndef PVLOCK_PPARSE_H
#define PVLOCK_PPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvlock/params.h>

/* Where a parameter request goes. */
enum pp_target {
	PP_GUEST,		/* pvlock_guest */
	PP_HOST_GLOBAL,		/* pvlock_host, no VM: the defaults */
	PP_HOST_VM,		/* pvlock_host, one VM */
};

struct pp_set {
	uint32_t val[PVLOCK_P_MAX + 1];
	uint32_t present;	/* bit per PVLOCK_P_* */
};

static inline bool pp_has(const struct pp_set *s, uint32_t attr)
{
	return s->present & (1u << attr);
}

/* The spec of parameter @name, or NULL. */
const struct pvlock_param_spec *pp_lookup(const char *name);

/* Does @t report (get) or accept (settable) @s? */
bool pp_reported(const struct pvlock_param_spec *s, enum pp_target t);
bool pp_settable(const struct pvlock_param_spec *s, enum pp_target t);

/*
 * Parse @text as a value of @s for @t. Modes by name, booleans as
 * yes/no/on/off/true/false/1/0, "pinned" as a comma list of threshold and
 * budget (or none/all), everything else as a decimal u32. 0 on success;
 * -EINVAL for text that is not a value, -ERANGE outside the allowed range
 * (the message names the range). @err gets the message.
 */
int pp_parse_value(const struct pvlock_param_spec *s, enum pp_target t, const char *text,
		   uint32_t *v, char *err, size_t errlen);

/*
 * Parse NAME VALUE pairs for @t into @out. -EINVAL for an unknown name or a
 * missing value, -EOPNOTSUPP for a name that @t does not accept, -ERANGE,
 * as above; nothing in @out is meaningful on error.
 */
int pp_parse_set(enum pp_target t, int argc, char **argv, struct pp_set *out, char *err,
		 size_t errlen);

/* The PVLOCK_PIN_* bits that --pin adds for the values in @s, 0 if none. */
uint32_t pp_pin_bits(const struct pp_set *s);

/* @v of @s as text: mode name, yes/no, pin list, number. Returns @buf. */
const char *pp_format(const struct pvlock_param_spec *s, uint32_t v, char *buf, size_t len);

/* "16..4194304" plus ", or 0 for none" where the host takes 0. Returns @buf. */
const char *pp_range(const struct pvlock_param_spec *s, enum pp_target t, char *buf, size_t len);

/* Space-separated names that @t reports (@settable: accepts). Returns @buf. */
const char *pp_names(enum pp_target t, bool settable, char *buf, size_t len);

#endif
