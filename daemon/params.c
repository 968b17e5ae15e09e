// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl get / set / reset: parameters and counters of pvlock_guest, or
 * of pvlock_host globally or per VM. Names, types and ranges come from
 * include/pvlock/params.h through pparse.c; a value the spec refuses is a
 * usage error and nothing is sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "ctl.h"
#include "nlc.h"
#include "out.h"
#include "pparse.h"
#include "query.h"

void ctl_print_params(const struct pv_params *p, uint32_t only, enum ctl_params_style style)
{
	static const struct tab_col cols[] = {
		{ "name", "NAME", TAB_STR, 0, NULL }, { "value", "VALUE", TAB_STR, 0, NULL },
	};
	bool lines = style == CTL_PARAMS_LINES;
	char fmt[64], val[64];
	struct tab *t = NULL;
	uint32_t a;

	/* "name value" lines are a table without headings, drawn like every other */
	if (lines && !out_is_json()) {
		t = tab_new(cols, 2, NULL, val, sizeof(val));
		if (t) {
			tab_noheadings(t);
			tab_begin(t, NULL);
		}
	}
	out_open_object("params");
	if (style == CTL_PARAMS_STATUS)
		out_text("  %-14s", "params");
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);
		uint32_t v = p->val[a];

		if (!s || !(p->present & only & (1u << a)))
			continue;
		pp_format(s, v, val, sizeof(val));
		if (t) {
			tab_row(t);
			tab_str(t, 0, s->name);
			tab_str(t, 1, val);
			continue;
		}
		snprintf(fmt, sizeof(fmt), " %s=%%s", s->name);
		if (a == PVLOCK_P_PINNED) {
			/* JSON: the pinned names as an array */
			out_text(fmt, val);
			out_open_array(s->name);
			if (v & PVLOCK_PIN_THRESHOLD)
				out_str(NULL, NULL, "threshold");
			if (v & PVLOCK_PIN_BUDGET)
				out_str(NULL, NULL, "budget");
			out_close_array();
		} else if (a == PVLOCK_P_MODE) {
			out_str(s->name, fmt, val);
		} else if (s->type == PVLOCK_PT_BOOL) {
			out_text(fmt, val);
			out_bool(s->name, NULL, v);
		} else {
			out_text(fmt, val);
			out_u64(s->name, NULL, v);
		}
	}
	if (!lines)
		out_text("\n");
	out_close_object();
	if (t) {
		tab_end(t);
		tab_free(t);
	}
}

/*
 * The targets a params command may end up on, known before connecting:
 * the VM selector and -G/-H decide, else either module.
 */
static size_t params_targets(const char *vm, enum pp_target *t)
{
	if (vm) {
		t[0] = PP_HOST_VM;
		return 1;
	}
	if (ctl_opts.families == CTL_GUEST) {
		t[0] = PP_GUEST;
		return 1;
	}
	if (ctl_opts.families == CTL_HOST) {
		t[0] = PP_HOST_GLOBAL;
		return 1;
	}
	t[0] = PP_HOST_GLOBAL;
	t[1] = PP_GUEST;
	return 2;
}

/* Can every NAME of @argv be set on @t? */
static bool params_all_settable(enum pp_target t, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i += 2) {
		const struct pvlock_param_spec *s = pp_lookup(argv[i]);

		if (!s || !pp_settable(s, t))
			return false;
	}
	return true;
}

/*
 * "set": the pairs, checked for every target they may go to before any
 * netlink traffic. Fine if some target takes them all; else the error of
 * the target that knows every name (a value is wrong), else the first.
 */
static int params_precheck_set(const struct param_opts *o, char *err, size_t errlen)
{
	enum pp_target t[2];
	size_t n = params_targets(o->vm, t), i, pick = 0;
	struct pp_set ps;
	char e[2][512];

	if (o->vm && ctl_opts.families == CTL_GUEST) {
		snprintf(err, errlen, "set: VMs are a host matter: drop -G");
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!pp_parse_set(t[i], o->argc, o->argv, &ps, e[i], sizeof(e[i])))
			break;
		if (params_all_settable(t[i], o->argc, o->argv))
			pick = i;
	}
	if (i == n) {
		snprintf(err, errlen, "%s", e[pick]);
		return -EINVAL;
	}
	if (o->pin && n == 1 && t[0] == PP_GUEST) {
		snprintf(err, errlen, "--pin marks pvlock_host values that pvlockd leaves alone; "
			 "pvlock_guest has none");
		return -EINVAL;
	}
	if (o->pin && !pp_pin_bits(&ps)) {
		snprintf(err, errlen, "--pin applies to threshold and budget");
		return -EINVAL;
	}
	if (o->pin && pp_has(&ps, PVLOCK_P_PINNED)) {
		snprintf(err, errlen, "give --pin or pinned, not both");
		return -EINVAL;
	}
	return 0;
}

/* "get NAME...": every name must be one some target reports. */
static int params_precheck_get(const struct param_opts *o, char *err, size_t errlen)
{
	enum pp_target t[2];
	size_t n = params_targets(o->vm, t), k;
	char names[256];
	int i;

	if (o->vm && ctl_opts.families == CTL_GUEST) {
		snprintf(err, errlen, "get: VMs are a host matter: drop -G");
		return -EINVAL;
	}
	for (i = 0; i < o->argc; i++) {
		const struct pvlock_param_spec *s = pp_lookup(o->argv[i]);

		for (k = 0; s && k < n; k++)
			if (pp_reported(s, t[k]))
				break;
		if (!s || k == n) {
			snprintf(err, errlen, "%s has no parameter '%s' (it has: %s)",
				 n == 1 && t[0] == PP_GUEST ? PVLOCK_GUEST_GENL_NAME :
				 n == 1 ? PVLOCK_HOST_GENL_NAME : "pvlock_host or pvlock_guest",
				 o->argv[i], pp_names(t[0], false, names, sizeof(names)));
			return -EINVAL;
		}
	}
	return 0;
}

/* The family, the VM and the target a params command acts on. */
struct params_ctx {
	struct nlc c;
	struct pv_vm vm;
	int64_t vm_id;
	enum pp_target target;
};

static int params_open(struct params_ctx *x, const char *vm)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->vm_id = PV_NO_VM;
	err = ctl_open(&x->c, vm != NULL);
	if (err)
		return err;
	x->target = !ctl_is_host(&x->c) ? PP_GUEST : vm ? PP_HOST_VM : PP_HOST_GLOBAL;
	if (vm) {
		err = ctl_find_vm(&x->c, vm, &x->vm);
		if (err) {
			nlc_close(&x->c);
			return err;
		}
		x->vm_id = x->vm.id;
	}
	return 0;
}

static void params_header(const struct params_ctx *x)
{
	out_str("family", NULL, x->c.family);
	if (x->vm_id == PV_NO_VM)
		return;
	out_open_object("vm");
	out_u64("id", NULL, x->vm.id);
	out_str("name", NULL, x->vm.name);
	out_close_object();
}

int ctl_get(int argc, char **argv)
{
	char err[512], names[256];
	struct param_opts o;
	struct params_ctx x;
	struct pv_params p;
	uint32_t only = 0;
	int i, rc;

	rc = args_params(argc, argv, "get", &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_get_cmd, NULL, 0) : ctl_usage_error("%s", err);
	if (params_precheck_get(&o, err, sizeof(err)))
		return ctl_usage_error("%s", err);
	if (params_open(&x, o.vm))
		return CTL_EXIT_FAIL;
	for (i = 0; i < o.argc; i++) {
		const struct pvlock_param_spec *s = pp_lookup(o.argv[i]);

		if (!s || !pp_reported(s, x.target)) {
			snprintf(err, sizeof(err), "%s has no parameter '%s' (it has: %s)", x.c.family,
				 o.argv[i], pp_names(x.target, false, names, sizeof(names)));
			nlc_close(&x.c);
			return ctl_usage_error("%s", err);
		}
		only |= 1u << s->attr;
	}
	rc = pv_get_params(&x.c, x.vm_id, &p);
	if (rc) {
		rc = ctl_request_error(&x.c, "get", rc);
		nlc_close(&x.c);
		return rc;
	}
	out_open_object(NULL);
	params_header(&x);
	ctl_print_params(&p, only ? only : ~0u, CTL_PARAMS_LINES);
	out_close_object();
	nlc_close(&x.c);
	return CTL_EXIT_OK;
}

int ctl_set(int argc, char **argv)
{
	struct pv_params set, cur;
	struct param_opts o;
	struct params_ctx x;
	struct pp_set ps;
	char err[512];
	uint32_t bits;
	int rc;

	rc = args_params(argc, argv, "set", &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_set_cmd, NULL, 0) : ctl_usage_error("%s", err);
	if (params_precheck_set(&o, err, sizeof(err)))
		return ctl_usage_error("%s", err);
	if (params_open(&x, o.vm))
		return CTL_EXIT_FAIL;
	rc = pp_parse_set(x.target, o.argc, o.argv, &ps, err, sizeof(err));
	if (!rc && o.pin) {
		bits = pp_pin_bits(&ps);
		if (x.target == PP_GUEST) {
			snprintf(err, sizeof(err), "--pin marks pvlock_host values that pvlockd "
				 "leaves alone; pvlock_guest has none");
			rc = -EINVAL;
		} else if (!bits) {
			snprintf(err, sizeof(err), "--pin applies to threshold and budget");
			rc = -EINVAL;
		} else if (pp_has(&ps, PVLOCK_P_PINNED)) {
			snprintf(err, sizeof(err), "give --pin or pinned, not both");
			rc = -EINVAL;
		}
	}
	if (rc) {
		nlc_close(&x.c);
		return ctl_usage_error("%s", err);
	}
	memcpy(set.val, ps.val, sizeof(set.val));
	set.present = ps.present;
	if (o.pin) {
		/* add to what is pinned already, in the same request as the values */
		rc = pv_get_params(&x.c, x.vm_id, &cur);
		if (rc) {
			rc = ctl_request_error(&x.c, "set", rc);
			nlc_close(&x.c);
			return rc;
		}
		set.val[PVLOCK_P_PINNED] = cur.val[PVLOCK_P_PINNED] | bits;
		set.present |= 1u << PVLOCK_P_PINNED;
	}
	rc = pv_set_params(&x.c, x.vm_id, &set, &cur);
	if (rc) {
		rc = ctl_request_error(&x.c, "set", rc);
		nlc_close(&x.c);
		return rc;
	}
	/* quiet on success, as ip(8); -j shows what the module now holds */
	if (out_is_json()) {
		out_open_object(NULL);
		params_header(&x);
		ctl_print_params(&cur, ~0u, CTL_PARAMS_LINES);
		out_close_object();
	}
	nlc_close(&x.c);
	return CTL_EXIT_OK;
}

int ctl_reset(int argc, char **argv)
{
	struct param_opts o;
	struct params_ctx x;
	char err[256];
	int rc;

	rc = args_params(argc, argv, "reset", &o, err, sizeof(err));
	if (rc)
		return rc > 0 ? ctl_help(&args_reset_cmd, NULL, 0) : ctl_usage_error("%s", err);
	if (o.vm && ctl_opts.families == CTL_GUEST)
		return ctl_usage_error("reset: VMs are a host matter: drop -G");
	if (params_open(&x, o.vm))
		return CTL_EXIT_FAIL;
	rc = pv_reset_stats(&x.c, x.vm_id);
	if (rc)
		rc = ctl_request_error(&x.c, "reset", rc);
	nlc_close(&x.c);
	return rc ? rc : CTL_EXIT_OK;
}
