// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuner.h"
#include "util.h"

void tuner_init(struct tuner *t)
{
	memset(t, 0, sizeof(*t));
}

void tuner_free(struct tuner *t)
{
	free(t->vm);
	tuner_init(t);
}

void tuner_reset(struct tuner *t)
{
	t->n = 0;
}

const char *tuner_reason(enum pvlock_tune_reason r)
{
	switch (r) {
	case PVLOCK_TUNE_LHP:
		return "lhp";
	case PVLOCK_TUNE_OVERCOMMIT:
		return "overcommit";
	case PVLOCK_TUNE_RELAX:
		return "relax";
	case PVLOCK_TUNE_PINNED:
		return "pinned";
	default:
		return "keep";
	}
}

static struct tuner_vm *tuner_find(struct tuner *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->vm[i].id == id)
			return &t->vm[i];
	return NULL;
}

static struct tuner_vm *tuner_add(struct tuner *t, uint32_t id)
{
	struct tuner_vm *v;

	if (UTIL_GROW(t->vm, t->cap, t->n + 1))
		return NULL;
	v = &t->vm[t->n++];
	memset(v, 0, sizeof(*v));
	v->id = id;
	return v;
}

static uint32_t tuner_param(const struct pv_vm *vm, uint32_t a, uint32_t dflt)
{
	return vm->params.present & (1u << a) ? vm->params.val[a] : dflt;
}

int tuner_period(struct tuner *t, const struct pvlock_tune_cfg *cfg, const struct pv_vms *vms,
		 uint32_t global_pinned, uint32_t overcommit_pct, uint64_t now_ns,
		 struct tuner_action *out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < t->n; i++)
		t->vm[i].seen = false;
	for (i = 0; i < vms->n; i++) {
		const struct pv_vm *vm = &vms->vm[i];
		uint64_t lhp = vm->stats[PVLOCK_HS_ECS_PREEMPTIONS] +
			       vm->stats[PVLOCK_HS_WAITER_PREEMPTIONS];
		uint64_t denied = vm->stats[PVLOCK_HS_BUDGET_DENIED];
		uint32_t pinned = tuner_param(vm, PVLOCK_P_PINNED, 0) | global_pinned;
		struct tuner_vm *v = tuner_find(t, vm->id);
		struct pvlock_tune_sample s;
		struct pvlock_tune_cfg c = *cfg;
		struct pvlock_tune_decision d;
		struct tuner_action *a;
		uint32_t old_t, old_b;
		bool fresh = !v;

		if (!v && !(v = tuner_add(t, vm->id)))
			return -ENOMEM;
		v->seen = true;
		/* a reset zeroes the counters: start over from here */
		if (fresh || lhp < v->lhp || denied < v->denied || now_ns <= v->t_ns) {
			v->lhp = lhp;
			v->denied = denied;
			v->t_ns = now_ns;
			v->st.calm = 0;
			continue;
		}
		s.dt_ns = now_ns - v->t_ns;
		s.nr_vcpus = vm->nr_vcpus;
		s.overcommit_pct = overcommit_pct;
		s.lhp = lhp - v->lhp;
		s.budget_denied = denied - v->denied;
		v->lhp = lhp;
		v->denied = denied;
		v->t_ns = now_ns;

		/*
		 * The module holds the values in force (an operator may have set
		 * them by hand since); the VM's own [min, max] bounds the result
		 * so that the module accepts it.
		 */
		v->st.threshold = tuner_param(vm, PVLOCK_P_SPIN_THRESHOLD, 0);
		v->st.budget = tuner_param(vm, PVLOCK_P_BUDGET, v->st.budget);
		if (vm->params.present & (1u << PVLOCK_P_SPIN_MIN))
			c.min = pvlock_max_u32(c.min, vm->params.val[PVLOCK_P_SPIN_MIN]);
		if (vm->params.present & (1u << PVLOCK_P_SPIN_MAX))
			c.max = pvlock_min_u32(c.max, vm->params.val[PVLOCK_P_SPIN_MAX]);
		if (c.min > c.max) {
			c.min = tuner_param(vm, PVLOCK_P_SPIN_MIN, cfg->min);
			c.max = tuner_param(vm, PVLOCK_P_SPIN_MAX, cfg->max);
		}
		old_t = v->st.threshold;
		old_b = v->st.budget;
		d = pvlock_tune(&v->st, &c, &s, pinned);
		if (!d.changed || n >= max)
			continue;
		a = &out[n++];
		memset(a, 0, sizeof(*a));
		a->vm_id = vm->id;
		snprintf(a->name, sizeof(a->name), "%s", vm->name);
		a->old_threshold = old_t;
		a->old_budget = old_b;
		a->d = d;
		a->lhp_rate = pvlock_tune_lhp_rate(&s);
		a->overcommit_pct = overcommit_pct;
		if (!(pinned & PVLOCK_PIN_THRESHOLD) && d.threshold != a->old_threshold) {
			a->set.val[PVLOCK_P_SPIN_THRESHOLD] = d.threshold;
			a->set.present |= 1u << PVLOCK_P_SPIN_THRESHOLD;
		}
		if (!(pinned & PVLOCK_PIN_BUDGET) && d.budget != a->old_budget) {
			a->set.val[PVLOCK_P_BUDGET] = d.budget;
			a->set.present |= 1u << PVLOCK_P_BUDGET;
		}
		if (!a->set.present)
			n--;
	}
	/* VMs that exited */
	for (i = j = 0; i < t->n; i++)
		if (t->vm[i].seen)
			t->vm[j++] = t->vm[i];
	t->n = j;
	return (int)n;
}
