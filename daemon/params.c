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
	bool lines = style == CTL_PARAMS_LINES;
	char fmt[64], val[64];
	uint32_t a;

	out_open_object("params");
	if (style == CTL_PARAMS_STATUS)
		out_text("  %-14s", "params");
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);
		uint32_t v = p->val[a];

		if (!s || !(p->present & only & (1u << a)))
			continue;
		if (lines)
			snprintf(fmt, sizeof(fmt), "%-16s %%s\n", s->name);
		else
			snprintf(fmt, sizeof(fmt), " %s=%%s", s->name);
		pp_format(s, v, val, sizeof(val));
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

	if (args_params(argc, argv, "get", &o, err, sizeof(err)))
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

	if (args_params(argc, argv, "set", &o, err, sizeof(err)))
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

	if (args_params(argc, argv, "reset", &o, err, sizeof(err)))
		return ctl_usage_error("%s", err);
	if (params_open(&x, o.vm))
		return CTL_EXIT_FAIL;
	rc = pv_reset_stats(&x.c, x.vm_id);
	if (rc)
		rc = ctl_request_error(&x.c, "reset", rc);
	nlc_close(&x.c);
	return rc ? rc : CTL_EXIT_OK;
}
