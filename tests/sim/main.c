// SPDX-License-Identifier: GPL-2.0
/*
 * pvlock-sim: run one scenario, or the whole sweep with CSV, gnuplot data
 * and a markdown table.
 *
 *   pvlock-sim list
 *   pvlock-sim [options] run SCENARIO [POLICY...]
 *   pvlock-sim [options] sweep DIR
 *
 * Options: -S seed, -D duration (ms), -W warm-up (ms), -n seeds per
 * scenario (sweep: runs seeds S..S+n-1 and reports the median with
 * min/max), --set name=value (model parameters and pvlock's open design
 * choices, see sim.h; "--set x=" lists them).
 * Exit: 0, 1 when a run broke an invariant, 2 on usage errors.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define MAX_SEEDS 9

static struct sim_params over;		/* command-line overrides */
static char *sets[64];			/* --set name=value, applied in order */
static int nsets;
static bool set_seed, set_dur, set_warm;
static unsigned int nseeds = 1;
static bool verbose;

static double wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const struct sim_scenario *find_scenario(const char *name)
{
	for (unsigned int i = 0; i < sim_nr_scenarios; i++)
		if (!strcmp(sim_scenarios[i].name, name))
			return &sim_scenarios[i];
	return NULL;
}

static int find_policy(const char *name)
{
	for (int i = 0; i < POL__N; i++)
		if (!strcmp(sim_policies[i].name, name))
			return i;
	return -1;
}

static void scenario_params(const struct sim_scenario *sc, struct sim_params *p, u64 seed_off)
{
	sim_scenario_params(sc, p);
	if (set_seed)
		p->seed = over.seed;
	p->seed += seed_off;
	if (set_dur)
		p->duration_ns = over.duration_ns;
	if (set_warm)
		p->warmup_ns = over.warmup_ns;
	for (int i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');

		*eq = 0;
		sim_param_set(p, sets[i], eq + 1);
		*eq = '=';
	}
}

static int run_one(const struct sim_scenario *sc, int pol, u64 seed_off, struct sim_result *r,
		   double *ms)
{
	struct sim_params p;
	struct sim *s;
	double t0 = wall_ms();
	int err;

	scenario_params(sc, &p, seed_off);
	s = sim_new(&p, (enum sim_pol)pol);
	err = sim_run(s);
	if (err)
		fprintf(stderr, "pvlock-sim: %s/%s seed %llu: %s\n", sc->name,
			sim_policies[pol].name, (unsigned long long)p.seed, s->err);
	sim_result(s, r);
	if (verbose) {
		struct sim_vm_stats t = { 0 };
		double thr = 0;

		for (int i = 0; i < s->nv; i++)
			thr += s->v[i].thr.threshold;
		fprintf(stderr, "  threshold.h decisions: keep %llu lhp %llu late %llu long %llu hint %llu "
			"quiet %llu\n",
			(unsigned long long)s->thr_why[PVLOCK_TR_KEEP],
			(unsigned long long)s->thr_why[PVLOCK_TR_LHP],
			(unsigned long long)s->thr_why[PVLOCK_TR_LATE],
			(unsigned long long)s->thr_why[PVLOCK_TR_LONG],
			(unsigned long long)s->thr_why[PVLOCK_TR_HINT],
			(unsigned long long)s->thr_why[PVLOCK_TR_QUIET]);
		fprintf(stderr, "  mean guest threshold %.0f, hint vm0 %u; pCPU time: work %.2f%% spin %.2f%% "
			"ovh %.2f%% poll %.2f%% idle %.2f%%\n", thr / s->nv, s->vm[0].hint,
			100.0 * s->st.work_ns / (p.nr_pcpus * (double)(p.duration_ns - p.warmup_ns)),
			100.0 * s->st.spin_ns / (p.nr_pcpus * (double)(p.duration_ns - p.warmup_ns)),
			100.0 * s->st.ovh_ns / (p.nr_pcpus * (double)(p.duration_ns - p.warmup_ns)),
			100.0 * s->st.poll_ns / (p.nr_pcpus * (double)(p.duration_ns - p.warmup_ns)),
			100.0 * s->st.idle_ns / (p.nr_pcpus * (double)(p.duration_ns - p.warmup_ns)));

		for (unsigned int m = 0; m < p.nr_vms; m++) {
			struct sim_vm_stats *v = &s->vm[m].st;

			t.ops += v->ops; t.slowpaths += v->slowpaths; t.steals += v->steals;
			t.kicks += v->kicks; t.halts += v->halts; t.ple_exits += v->ple_exits;
			t.yields += v->yields; t.yields_cross += v->yields_cross;
			t.yields_hinted += v->yields_hinted; t.yields_ple += v->yields_ple;
			t.halts_none += v->halts_none; t.yields_none += v->yields_none;
			t.budget_denied += v->budget_denied; t.pv_hc += v->pv_hc;
			t.lhp += v->lhp; t.lwp += v->lwp; t.ecs_preempt += v->ecs_preempt;
			t.lhp_ns += v->lhp_ns;
		}
		fprintf(stderr, "  %s: ops %llu slow %llu steals %llu kicks %llu halts %llu ple %llu "
			"yields %llu (cross %llu hinted %llu ple %llu) none %llu halt-none %llu "
			"denied %llu hc %llu lhp %llu lwp %llu ecsp %llu hint0 %u budget0 %u lhp-us %.0f\n",
			sim_policies[pol].name, (unsigned long long)t.ops,
			(unsigned long long)t.slowpaths, (unsigned long long)t.steals,
			(unsigned long long)t.kicks, (unsigned long long)t.halts,
			(unsigned long long)t.ple_exits, (unsigned long long)t.yields,
			(unsigned long long)t.yields_cross, (unsigned long long)t.yields_hinted,
			(unsigned long long)t.yields_ple, (unsigned long long)t.yields_none,
			(unsigned long long)t.halts_none, (unsigned long long)t.budget_denied,
			(unsigned long long)t.pv_hc, (unsigned long long)t.lhp,
			(unsigned long long)t.lwp, (unsigned long long)t.ecs_preempt,
			s->vm[0].hint, s->vm[0].bcfg.per_period,
			t.lhp ? t.lhp_ns / 1e3 / t.lhp : 0);
	}
	sim_free(s);
	if (ms)
		*ms = wall_ms() - t0;
	return err;
}

static double overcommit(const struct sim_scenario *sc)
{
	return (double)sc->vms * sc->vcpus / sc->pcpus;
}

static int cmd_list(void)
{
	for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
		const struct sim_scenario *sc = &sim_scenarios[i];

		printf("%-12s %-12s %3u pCPUs, %2u VMs x %3u vCPUs (%.1fx), %s\n", sc->name,
		       sc->group, sc->pcpus, sc->vms, sc->vcpus, overcommit(sc), sc->workload);
	}
	for (int i = 0; i < POL__N; i++)
		printf("policy %-8s %s\n", sim_policies[i].name, sim_policies[i].label);
	return 0;
}

static void print_header(void)
{
	printf("%-8s %12s %8s %10s %7s %7s %7s %9s %9s %9s %9s %9s %9s\n", "policy", "ops/s",
	       "vs-stock", "worst-vm", "spin%", "idle%", "ovh%", "LHP/s", "LWP/s", "wait-us",
	       "yields/s", "halts/s", "ple/s");
}

static void print_row(int pol, const struct sim_result *r, double stock)
{
	printf("%-8s %12.0f %8.3f %10.0f %7.2f %7.2f %7.2f %9.0f %9.0f %9.2f %9.0f %9.0f %9.0f\n",
	       sim_policies[pol].name, r->ops_per_s, stock > 0 ? r->ops_per_s / stock : 0,
	       r->ops_min_vm, r->spin_pct, r->idle_pct, r->ovh_pct, r->lhp_per_s, r->lwp_per_s,
	       r->wait_mean_us, r->yields_per_s, r->halts_per_s, r->ple_per_s);
}

static int cmd_run(int argc, char **argv)
{
	const struct sim_scenario *sc;
	struct sim_result r, st = { 0 };
	int pols[POL__N], np = 0, bad = 0;
	double ms;

	if (argc < 1) {
		fprintf(stderr, "usage: pvlock-sim run SCENARIO [POLICY...]\n");
		return 2;
	}
	sc = find_scenario(argv[0]);
	if (!sc) {
		fprintf(stderr, "pvlock-sim: no scenario '%s' (see: pvlock-sim list)\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		int p = find_policy(argv[i]);

		if (p < 0) {
			fprintf(stderr, "pvlock-sim: no policy '%s' (see: pvlock-sim list)\n", argv[i]);
			return 2;
		}
		pols[np++] = p;
	}
	if (!np)
		for (int i = 0; i < POL__N; i++)
			pols[np++] = i;
	printf("%s: %u pCPUs, %u VMs x %u vCPUs (%.1fx), %s\n", sc->name, sc->pcpus, sc->vms,
	       sc->vcpus, overcommit(sc), sc->workload);
	print_header();
	for (int i = 0; i < np; i++) {
		bad |= run_one(sc, pols[i], 0, &r, &ms);
		if (pols[i] == POL_STOCK)
			st = r;
		print_row(pols[i], &r, st.ops_per_s);
		fprintf(stderr, "  (%s: %.0f ms, %llu events)\n", sim_policies[pols[i]].name, ms,
			(unsigned long long)r.events);
	}
	return bad ? 1 : 0;
}

/* ---- sweep ---------------------------------------------------------------- */

struct cell {
	struct sim_result r[MAX_SEEDS];	/* per seed */
	struct sim_result med;		/* median of each field over seeds */
	double lo, hi;			/* min/max ops/s over seeds */
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(const struct cell *c, size_t off)
{
	double v[MAX_SEEDS];

	for (unsigned int i = 0; i < nseeds; i++)
		v[i] = *(const double *)((const char *)&c->r[i] + off);
	qsort(v, nseeds, sizeof(v[0]), cmp_d);
	return nseeds % 2 ? v[nseeds / 2] : (v[nseeds / 2 - 1] + v[nseeds / 2]) / 2;
}

static void summarize(struct cell *c)
{
#define MED(f) c->med.f = median_of(c, offsetof(struct sim_result, f))
	MED(ops_per_s); MED(ops_min_vm); MED(spin_pct); MED(idle_pct); MED(ovh_pct);
	MED(lhp_per_s); MED(lwp_per_s); MED(wait_mean_us); MED(yields_per_s);
	MED(halts_per_s); MED(ple_per_s);
#undef MED
	c->lo = c->hi = c->r[0].ops_per_s;
	c->med.budget_denied = 0;
	c->med.events = 0;
	for (unsigned int i = 0; i < nseeds; i++) {
		if (c->r[i].ops_per_s < c->lo)
			c->lo = c->r[i].ops_per_s;
		if (c->r[i].ops_per_s > c->hi)
			c->hi = c->r[i].ops_per_s;
		c->med.budget_denied += c->r[i].budget_denied;
		c->med.events += c->r[i].events;
	}
}

static FILE *xfopen(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	return f;
}

/* min and max over seeds of the paired ratio a/b (same seed, same workload) */
static void paired(const struct cell *a, const struct cell *b, double *lo, double *hi)
{
	*lo = *hi = a->r[0].ops_per_s / b->r[0].ops_per_s;
	for (unsigned int k = 1; k < nseeds; k++) {
		double r = a->r[k].ops_per_s / b->r[k].ops_per_s;

		*lo = r < *lo ? r : *lo;
		*hi = r > *hi ? r : *hi;
	}
}

/*
 * The targets, judged per seed: "met" only if every seed meets it,
 * "not in every seed" when the median does but a seed does not.
 */
static void md_targets(FILE *md, struct cell (*cells)[POL__N])
{
	const struct sim_scenario *sc2 = find_scenario("seeds-2vm");
	const char *under[] = { "under-1vm", "oc-0.5x" };
	struct cell *c = cells[sc2 - sim_scenarios];
	double med, lo, hi;

	fprintf(md, "## Targets\n\nRatios of runs on the same seed (same workload draws), median "
		"and [min, max] over %u seed%s.\n\n", nseeds, nseeds > 1 ? "s" : "");
	fprintf(md, "| target | measured | verdict |\n|---|---|---|\n");
	med = c[POL_PVLOCK].med.ops_per_s / c[POL_ORACLE].med.ops_per_s;
	paired(&c[POL_PVLOCK], &c[POL_ORACLE], &lo, &hi);
	fprintf(md, "| 2 VMs x 120 vCPUs on 120 pCPUs: pvlock >= 90%% of the oracle "
		"| %.1f%% [%.1f%%, %.1f%%] | %s |\n", 100 * med, 100 * lo, 100 * hi,
		lo >= 0.9 ? "met" : med >= 0.9 ? "not in every seed" : "missed");
	for (int p = POL_STOCK; p <= POL_ECS; p++) {
		med = c[POL_PVLOCK].med.ops_per_s / c[p].med.ops_per_s;
		paired(&c[POL_PVLOCK], &c[p], &lo, &hi);
		fprintf(md, "| ... and ahead of %s | pvlock/%s = %.3f [%.3f, %.3f] | %s |\n",
			sim_policies[p].label, sim_policies[p].name, med, lo, hi,
			lo > 1 ? "met" : med > 1 ? "not in every seed" : "missed");
	}
	for (unsigned int i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
		const struct sim_scenario *u = find_scenario(under[i]);
		struct cell *cu = cells[u - sim_scenarios];

		med = cu[POL_PVLOCK].med.ops_per_s / cu[POL_STOCK].med.ops_per_s;
		paired(&cu[POL_PVLOCK], &cu[POL_STOCK], &lo, &hi);
		fprintf(md, "| undercommitted (%s, %.1fx): pvlock within 1%% of stock "
			"| pvlock/stock = %.4f [%.4f, %.4f] | %s |\n", u->name, overcommit(u),
			med, lo, hi, lo >= 0.99 && hi <= 1.01 ? "met" : lo >= 0.99 ? "met (ahead)" :
			"missed");
	}
	fprintf(md, "\n");
}

static int cmd_sweep(int argc, char **argv)
{
	const char *dir = argc ? argv[0] : ".";
	struct cell (*cells)[POL__N] = calloc(sim_nr_scenarios, sizeof(*cells));
	unsigned int order[64];
	FILE *csv, *dat, *md;
	double t0 = wall_ms();
	int bad = 0;

	if (!cells)
		return 2;
	for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
		const struct sim_scenario *sc = &sim_scenarios[i];
		double ms = 0, m;

		for (int p = 0; p < POL__N; p++) {
			for (unsigned int k = 0; k < nseeds; k++) {
				bad |= run_one(sc, p, k, &cells[i][p].r[k], &m);
				ms += m;
			}
			summarize(&cells[i][p]);
		}
		fprintf(stderr, "  %-12s %5.0f ms  stock %.3g  pvlock %.3f  oracle %.3f (x stock)\n",
			sc->name, ms, cells[i][POL_STOCK].med.ops_per_s,
			cells[i][POL_PVLOCK].med.ops_per_s / cells[i][POL_STOCK].med.ops_per_s,
			cells[i][POL_ORACLE].med.ops_per_s / cells[i][POL_STOCK].med.ops_per_s);
	}

	csv = xfopen(dir, "sim-runs.csv");
	fprintf(csv, "scenario,group,pcpus,vms,vcpus,overcommit,workload,policy,seeds,ops_per_s,"
		"ops_min,ops_max,ops_worst_vm,vs_stock,vs_oracle,spin_pct,idle_pct,ovh_pct,"
		"lhp_per_s,lwp_per_s,wait_mean_us,yields_per_s,halts_per_s,ple_per_s,"
		"budget_denied,events\n");
	for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
		const struct sim_scenario *sc = &sim_scenarios[i];
		double st = cells[i][POL_STOCK].med.ops_per_s, orc = cells[i][POL_ORACLE].med.ops_per_s;

		for (int p = 0; p < POL__N; p++) {
			struct cell *c = &cells[i][p];
			struct sim_result *r = &c->med;

			fprintf(csv, "%s,%s,%u,%u,%u,%.2f,%s,%s,%u,%.0f,%.0f,%.0f,%.0f,%.4f,%.4f,"
				"%.3f,%.3f,%.3f,%.1f,%.1f,%.3f,%.1f,%.1f,%.1f,%llu,%llu\n",
				sc->name, sc->group, sc->pcpus, sc->vms, sc->vcpus, overcommit(sc),
				sc->workload, sim_policies[p].name, nseeds, r->ops_per_s, c->lo, c->hi,
				r->ops_min_vm, r->ops_per_s / st, r->ops_per_s / orc, r->spin_pct,
				r->idle_pct, r->ovh_pct, r->lhp_per_s, r->lwp_per_s, r->wait_mean_us,
				r->yields_per_s, r->halts_per_s, r->ple_per_s,
				(unsigned long long)r->budget_denied, (unsigned long long)r->events);
		}
	}
	fclose(csv);

	/* the 2-VM overcommit series, one row per point by load, columns per policy */
	for (unsigned int k = 0; k < sim_nr_scenarios; k++)
		order[k] = k;
	for (unsigned int k = 1; k < sim_nr_scenarios; k++)
		for (unsigned int j = k; j && overcommit(&sim_scenarios[order[j]]) <
					       overcommit(&sim_scenarios[order[j - 1]]); j--) {
			unsigned int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	dat = xfopen(dir, "sim-overcommit.csv");
	fprintf(dat, "overcommit");
	for (int p = 0; p < POL__N; p++)
		fprintf(dat, ",mops_%s", sim_policies[p].name);
	for (int p = 0; p < POL__N; p++)
		fprintf(dat, ",spin_pct_%s", sim_policies[p].name);
	for (int p = 0; p < POL__N; p++)
		fprintf(dat, ",lhp_lwp_per_ms_%s", sim_policies[p].name);
	fprintf(dat, "\n");
	for (unsigned int k = 0; k < sim_nr_scenarios; k++) {
		const struct sim_scenario *sc = &sim_scenarios[order[k]];
		unsigned int i = order[k];

		if (!sc->oc_series)
			continue;
		fprintf(dat, "%.2f", overcommit(sc));
		for (int p = 0; p < POL__N; p++)
			fprintf(dat, ",%.4f", cells[i][p].med.ops_per_s / 1e6);
		for (int p = 0; p < POL__N; p++)
			fprintf(dat, ",%.3f", cells[i][p].med.spin_pct);
		for (int p = 0; p < POL__N; p++)
			fprintf(dat, ",%.3f", (cells[i][p].med.lhp_per_s + cells[i][p].med.lwp_per_s) / 1e3);
		fprintf(dat, "\n");
	}
	fclose(dat);

	md = xfopen(dir, "sim-table.md");
	md_targets(md, cells);
	fprintf(md, "## Throughput\n\nCritical sections per second, all VMs, median of %u seed%s "
		"(x stock in parentheses); last column: pvlock as a share of the oracle.\n\n",
		nseeds, nseeds > 1 ? "s" : "");
	fprintf(md, "| scenario | pCPUs | VMs x vCPUs | load |");
	for (int p = 0; p < POL__N; p++)
		fprintf(md, " %s |", sim_policies[p].label);
	fprintf(md, " pvlock/oracle |\n|---|---|---|---|");
	for (int p = 0; p < POL__N; p++)
		fprintf(md, "---|");
	fprintf(md, "---|\n");
	for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
		const struct sim_scenario *sc = &sim_scenarios[i];
		double st = cells[i][POL_STOCK].med.ops_per_s;

		fprintf(md, "| %s | %u | %u x %u | %.1fx |", sc->name, sc->pcpus, sc->vms, sc->vcpus,
			overcommit(sc));
		for (int p = 0; p < POL__N; p++) {
			double v = cells[i][p].med.ops_per_s;

			if (p == POL_STOCK)
				fprintf(md, " %.3gM |", v / 1e6);
			else
				fprintf(md, " %.3gM (%.2f) |", v / 1e6, v / st);
		}
		fprintf(md, " %.1f%% |\n", 100.0 * cells[i][POL_PVLOCK].med.ops_per_s /
			cells[i][POL_ORACLE].med.ops_per_s);
	}
	fprintf(md, "\n## Wasted spinning and preemptions\n\nShare of all pCPU time spent spinning "
		"in the lock slow path / lock-holder preemptions per second "
		"(+ waiter preemptions while spinning).\n\n");
	fprintf(md, "| scenario |");
	for (int p = 0; p < POL__N; p++)
		fprintf(md, " %s |", sim_policies[p].label);
	fprintf(md, "\n|---|");
	for (int p = 0; p < POL__N; p++)
		fprintf(md, "---|");
	fprintf(md, "\n");
	for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
		fprintf(md, "| %s |", sim_scenarios[i].name);
		for (int p = 0; p < POL__N; p++) {
			struct sim_result *r = &cells[i][p].med;

			fprintf(md, " %.1f%% / %.0f (+%.0f) |", r->spin_pct, r->lhp_per_s, r->lwp_per_s);
		}
		fprintf(md, "\n");
	}
	if (nseeds > 1) {
		fprintf(md, "\n## Spread over seeds\n\nmin - max of ops/s over %u seeds, "
			"as a share of the median.\n\n| scenario |", nseeds);
		for (int p = 0; p < POL__N; p++)
			fprintf(md, " %s |", sim_policies[p].label);
		fprintf(md, "\n|---|");
		for (int p = 0; p < POL__N; p++)
			fprintf(md, "---|");
		fprintf(md, "\n");
		for (unsigned int i = 0; i < sim_nr_scenarios; i++) {
			fprintf(md, "| %s |", sim_scenarios[i].name);
			for (int p = 0; p < POL__N; p++) {
				struct cell *c = &cells[i][p];

				fprintf(md, " %.3f - %.3f |", c->lo / c->med.ops_per_s,
					c->hi / c->med.ops_per_s);
			}
			fprintf(md, "\n");
		}
	}
	fclose(md);
	fprintf(stderr, "pvlock-sim: sweep of %u scenarios x %d policies x %u seed%s in %.1f s\n",
		sim_nr_scenarios, POL__N, nseeds, nseeds > 1 ? "s" : "", (wall_ms() - t0) / 1e3);
	free(cells);
	return bad ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pvlock-sim [-S seed] [-D ms] [-W ms] [-n seeds] [--set name=value]...\n"
		"                  { list | run SCENARIO [POLICY...] | sweep DIR }\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 'S' },
		{ "duration", required_argument, NULL, 'D' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "seeds", required_argument, NULL, 'n' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	sim_params_default(&over);
	while ((c = getopt_long(argc, argv, "S:D:W:n:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			over.seed = strtoull(optarg, NULL, 0);
			set_seed = true;
			break;
		case 'D':
			over.duration_ns = strtoull(optarg, NULL, 0) * NSEC_PER_MSEC;
			set_dur = true;
			break;
		case 'W':
			over.warmup_ns = strtoull(optarg, NULL, 0) * NSEC_PER_MSEC;
			set_warm = true;
			break;
		case 'n':
			nseeds = (unsigned int)strtoul(optarg, NULL, 0);
			if (!nseeds || nseeds > MAX_SEEDS) {
				fprintf(stderr, "pvlock-sim: -n takes 1..%d\n", MAX_SEEDS);
				return 2;
			}
			break;
		case 's': {
			char *eq = strchr(optarg, '=');
			struct sim_params tmp;
			int err;

			sim_params_default(&tmp);
			if (!eq) {
				fprintf(stderr, "pvlock-sim: --set takes name=value\n");
				return 2;
			}
			*eq = 0;
			err = sim_param_set(&tmp, optarg, eq + 1);
			*eq = '=';
			if (err) {
				fprintf(stderr, "pvlock-sim: --set %s: %s; settable (default):\n", optarg,
					err == -1 ? "unknown name" : "not a number");
				sim_param_list(stderr);
				return 2;
			}
			if (nsets == 64)
				return 2;
			sets[nsets++] = optarg;
			break;
		}
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (set_dur != set_warm && over.warmup_ns >= over.duration_ns) {
		fprintf(stderr, "pvlock-sim: the warm-up must be shorter than the duration\n");
		return 2;
	}
	if (!strcmp(argv[optind], "list"))
		return cmd_list();
	if (!strcmp(argv[optind], "run"))
		return cmd_run(argc - optind - 1, argv + optind + 1);
	if (!strcmp(argv[optind], "sweep"))
		return cmd_sweep(argc - optind - 1, argv + optind + 1);
	usage(stderr);
	return 2;
}
