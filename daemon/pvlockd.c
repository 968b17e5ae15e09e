// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockd: pvlock's runtime tuner and metrics exporter, on the KVM host.
 *
 * Every period it reads pvlock_host's VM list (counters and the values in
 * force per VM) and the host's overcommit (pvlock_host's own figure, or
 * /proc), runs pvlock_tune() from include/pvlock/tune.h per VM (tuner.c)
 * and writes the per-VM spin-threshold hints and boost budgets it chose;
 * values the operator pinned are left alone. It exports everything it sees
 * as Prometheus metrics. Without pvlock_host it waits for it (logging that
 * once) and, if asked or by default, exports the BPF observer's counts of
 * KVM events instead. SIGHUP reloads the configuration (a bad file changes
 * nothing), SIGTERM/SIGINT stop it cleanly. It tells systemd when it is
 * ready (sd_notify) and, under WatchdogSec=, that its loop still turns:
 * every netlink read has a timeout (nlc.c), so a stuck module cannot hang it.
 *
 *   pvlockd [-c FILE] [--check-config] [--list-metrics] [-V] [-h]
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <pvlock/version.h>

#include "conf.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "nlc.h"
#include "obs.h"
#include "opt.h"
#include "proc.h"
#include "query.h"
#include "tuner.h"
#include "util.h"

#define PVD_MAX_ACTIONS	1024

enum pvd_host_state { PVD_HOST_INIT, PVD_HOST_MISSING, PVD_HOST_UP, PVD_HOST_LOST };

struct pvd {
	const char *conf_path;
	bool conf_given;
	struct pvd_conf conf;
	struct nlc host;
	bool connected;
	enum pvd_host_state host_state;
	struct tuner tuner;
	struct proc_load load;
	struct obs *obs;
	bool obs_failed;		/* logged once until it works */
	bool oc_missing_logged;
	bool write_failed;		/* logged once until a write works */
	struct httpd *httpd;
	int sfd, tfd;
	struct pv_vms vms;
	struct st_snap bpf;
	struct tuner_action actions[PVD_MAX_ACTIONS];
	uint64_t decisions[PVD_REASONS], writes_ok, writes_failed;
	char textfile_written[PATH_MAX];
	uint64_t watchdog_ns, watchdog_last;	/* WatchdogSec=, 0 without */
};

static void pvd_print_errors(const struct pvd_conf_errors *e)
{
	unsigned int i;

	for (i = 0; i < e->n; i++)
		log_err("%s", e->msg[i]);
	if (e->dropped)
		log_err("... and %u more problems", e->dropped);
}

/* Read the configuration: 0 or -errno (errors logged). A missing default file means defaults. */
static int pvd_read_conf(struct pvd *d, struct pvd_conf *out)
{
	struct pvd_conf_errors errs;
	int rc = pvd_conf_load(d->conf_path, out, &errs);

	if (rc == -ENOENT && !d->conf_given) {
		pvd_conf_default(out);
		log_info("%s does not exist: using the built-in defaults", d->conf_path);
		return 1;
	}
	if (rc == -EINVAL)
		pvd_print_errors(&errs);
	else if (rc)
		log_err("cannot read %s: %s", d->conf_path, strerror(-rc));
	return rc;
}

static int pvd_arm_timer(struct pvd *d, bool now)
{
	uint32_t ms = d->conf.period_ms;
	struct itimerspec it = {
		.it_interval = { ms / 1000, (long)(ms % 1000) * 1000000 },
		.it_value = { ms / 1000, (long)(ms % 1000) * 1000000 },
	};

	if (now)
		it.it_value = (struct timespec){ 0, 1 };
	return timerfd_settime(d->tfd, 0, &it, NULL) ? -errno : 0;
}

static void pvd_connect(struct pvd *d)
{
	struct pv_host_status hs;
	int err = nlc_open(&d->host, PVLOCK_HOST_GENL_NAME);

	if (!err) {
		err = pv_get_host_status(&d->host, &hs);
		if (err)
			nlc_close(&d->host);
	}
	if (err) {
		if (d->host_state == PVD_HOST_INIT) {
			if (err == -ENOENT)
				log_warn("pvlock_host is not loaded: not tuning until it is "
					 "(checking every period)");
			else
				log_warn("cannot talk to pvlock_host: %s (checking every period)",
					 strerror(-err));
			d->host_state = PVD_HOST_MISSING;
		}
		return;
	}
	if (d->host_state == PVD_HOST_LOST)
		log_info("pvlock_host is back (version %s, ABI %u): starting over with its VMs",
			 hs.version, hs.abi);
	else
		log_info("connected to pvlock_host %s (ABI %u), %u pCPUs", hs.version, hs.abi,
			 hs.nr_cpus);
	d->connected = true;
	d->host_state = PVD_HOST_UP;
	tuner_reset(&d->tuner);
}

static void pvd_lost(struct pvd *d, int err)
{
	if (err == -ENOENT && !d->host.ext_msg[0])
		log_warn("lost pvlock_host (its netlink family is gone: unloaded?): "
			 "reconnecting every period");
	else
		log_warn("lost pvlock_host (%s): reconnecting every period",
			 nlc_strerror(&d->host, err));
	nlc_close(&d->host);
	d->connected = false;
	d->host_state = PVD_HOST_LOST;
	tuner_reset(&d->tuner);
}

static bool pvd_want_bpf(const struct pvd *d, bool up)
{
	if (d->conf.bpf == PVD_BPF_NO)
		return false;
	if (d->conf.bpf == PVD_BPF_YES)
		return true;
	return !up && !access("/sys/module/kvm", F_OK);
}

static void pvd_bpf(struct pvd *d, bool up, uint64_t now)
{
	char err[512];
	int rc;

	st_snap_free(&d->bpf);
	if (!pvd_want_bpf(d, up)) {
		if (d->obs) {
			log_info("BPF observer stopped (%s)", up ? "pvlock_host is up" : "configured off");
			obs_close(d->obs);
			d->obs = NULL;
		}
		return;
	}
	if (!d->obs) {
		rc = obs_open(&d->obs, err, sizeof(err));
		if (rc) {
			if (!d->obs_failed)
				log_warn("BPF observer: %s", err);
			d->obs_failed = true;
			return;
		}
		d->obs_failed = false;
		log_info("BPF observer started: exporting KVM event counts per VM%s",
			 up ? "" : " (pvlock_host is not loaded)");
	}
	if (obs_snapshot(d->obs, &d->bpf, false, now))
		st_snap_free(&d->bpf);
}

static void pvd_log_action(const struct pvd *d, const struct tuner_action *a)
{
	char what[160] = "", why[160];
	size_t n = 0;

	if (a->set.present & (1u << PVLOCK_P_SPIN_THRESHOLD))
		n += snprintf(what + n, sizeof(what) - n, "threshold %u -> %u", a->old_threshold,
			      a->set.val[PVLOCK_P_SPIN_THRESHOLD]);
	if (a->set.present & (1u << PVLOCK_P_BUDGET))
		snprintf(what + n, sizeof(what) - n, "%sbudget %u -> %u", n ? ", " : "",
			 a->old_budget, a->set.val[PVLOCK_P_BUDGET]);
	switch (a->d.why) {
	case PVLOCK_TUNE_LHP:
		snprintf(why, sizeof(why), "lock-holder preemptions %" PRIu64 "/vCPU-s >= %u",
			 a->lhp_rate, d->conf.cfg.lhp_high);
		break;
	case PVLOCK_TUNE_OVERCOMMIT:
		snprintf(why, sizeof(why), "host overcommitted %u%%: spin capped by the pCPU share",
			 a->overcommit_pct);
		break;
	case PVLOCK_TUNE_RELAX:
		snprintf(why, sizeof(why), "calm for %u periods (lhp %" PRIu64 "/vCPU-s, overcommit "
			 "%u%%)", d->conf.cfg.calm_periods, a->lhp_rate, a->overcommit_pct);
		break;
	default:
		snprintf(why, sizeof(why), "budget policy (overcommit %u%%)", a->overcommit_pct);
		break;
	}
	log_info("vm %s (id %u): %s: %s", a->name, a->vm_id, what, why);
}

static void pvd_tune(struct pvd *d, uint32_t global_pinned, uint32_t oc, uint64_t now)
{
	int i, n, err;

	n = tuner_period(&d->tuner, &d->conf.cfg, &d->vms, global_pinned, oc, now, d->actions,
			 PVD_MAX_ACTIONS);
	if (n < 0) {
		log_err("tuning: %s", strerror(-n));
		return;
	}
	for (i = 0; i < n && d->connected; i++) {
		const struct tuner_action *a = &d->actions[i];

		err = pv_set_params(&d->host, a->vm_id, &a->set, NULL);
		if (!err) {
			d->writes_ok++;
			d->decisions[a->d.why]++;
			d->write_failed = false;
			pvd_log_action(d, a);
		} else if (err == -ENOENT && d->host.ext_msg[0]) {
			log_debug("vm %s (id %u) exited before its update", a->name, a->vm_id);
		} else {
			d->writes_failed++;
			if (!d->write_failed)
				log_warn("vm %s (id %u): setting its values: %s", a->name, a->vm_id,
					 nlc_strerror(&d->host, err));
			d->write_failed = true;
		}
	}
}

static void pvd_export(struct pvd *d, bool up, bool has_oc, uint32_t oc, const char *oc_src)
{
	struct metrics_in in = {
		.version = PVLOCK_VERSION,
		.host_up = up,
		.vms = up ? &d->vms : NULL,
		.has_overcommit = has_oc,
		.overcommit_pct = oc,
		.overcommit_source = oc_src,
		.bpf_up = d->obs != NULL,
		.bpf = d->obs ? &d->bpf : NULL,
		.writes_ok = d->writes_ok,
		.writes_failed = d->writes_failed,
	};
	static bool textfile_failed;
	size_t len;
	char *text;
	int err;

	memcpy(in.decisions, d->decisions, sizeof(in.decisions));
	text = metrics_render(&in, &len);
	if (!text) {
		log_err("rendering metrics: out of memory");
		return;
	}
	if (d->httpd)
		httpd_set(d->httpd, text, len);
	if (d->conf.textfile[0]) {
		err = metrics_write_textfile(d->conf.textfile, text, len);
		if (err && !textfile_failed)
			log_warn("cannot write %s: %s", d->conf.textfile, strerror(-err));
		textfile_failed = err != 0;
		if (!err)
			snprintf(d->textfile_written, sizeof(d->textfile_written), "%s",
				 d->conf.textfile);
	}
	free(text);
}

static void pvd_tick(struct pvd *d)
{
	uint64_t now = util_now_ns();
	struct pv_host_status hs = { 0 };
	uint32_t oc = 0, pids[1024];
	const char *oc_src = "proc";
	bool up = false, has_oc = false;
	size_t i, npids = 0;
	int err;

	pv_vms_free(&d->vms);
	if (!d->connected)
		pvd_connect(d);
	if (d->connected) {
		err = pv_get_host_status(&d->host, &hs);
		if (!err)
			err = pv_get_vms(&d->host, &d->vms);
		if (err)
			pvd_lost(d, err);
		else
			up = true;
	}

	if (up && hs.has_overcommit && d->conf.oc_source != PVD_OC_PROC) {
		oc = hs.overcommit_pct;
		has_oc = true;
		oc_src = "module";
	} else if (d->conf.oc_source == PVD_OC_MODULE) {
		if (up && !d->oc_missing_logged)
			log_warn("pvlock_host reports no overcommit and overcommit = module: not tuning");
		d->oc_missing_logged = up;
	} else {
		/* the module's VMs, else every process holding a KVM VM */
		for (i = 0; up && i < d->vms.n && npids < 1024; i++)
			pids[npids++] = d->vms.vm[i].pid;
		err = proc_overcommit(&d->load, "/proc", pids, npids, now,
				      (unsigned int)sysconf(_SC_NPROCESSORS_ONLN), &oc);
		has_oc = !err;
	}

	if (up && d->conf.tune && has_oc)
		pvd_tune(d, hs.params.val[PVLOCK_P_PINNED], oc, now);
	pvd_bpf(d, up, now);
	pvd_export(d, up, has_oc, oc, oc_src);
	if (up)
		sd_notifyf(0, "STATUS=%s %zu VMs, overcommit %s%u%% (%s)",
			   d->conf.tune ? "tuning" : "watching (tuning off)", d->vms.n,
			   has_oc ? "" : "unknown, last ", oc, oc_src);
	else
		sd_notifyf(0, "STATUS=waiting for pvlock_host%s", d->obs ? "; BPF observer on" : "");
}

static void pvd_reload(struct pvd *d)
{
	struct pvd_conf nc;
	struct httpd *h = NULL;
	char err[256];

	sd_notify(0, "RELOADING=1");
	if (pvd_read_conf(d, &nc) < 0) {
		log_err("reload refused: %s has problems; the running configuration stays",
			d->conf_path);
		sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(nc.listen, d->conf.listen)) {
		if (nc.listen[0] && httpd_start(&h, nc.listen, err, sizeof(err))) {
			log_err("reload: %s; keeping metrics on %s", err,
				d->conf.listen[0] ? d->conf.listen : "(none)");
			snprintf(nc.listen, sizeof(nc.listen), "%s", d->conf.listen);
		} else {
			httpd_stop(d->httpd);
			d->httpd = h;
			if (nc.listen[0])
				log_info("metrics on http://%s/metrics", nc.listen);
		}
	}
	/* a textfile no longer configured would stay behind, frozen: remove it */
	if (d->textfile_written[0] && strcmp(nc.textfile, d->textfile_written)) {
		if (unlink(d->textfile_written) && errno != ENOENT)
			log_warn("cannot remove the old textfile %s: %s", d->textfile_written,
				 strerror(errno));
		else
			log_info("removed the old textfile %s", d->textfile_written);
		d->textfile_written[0] = '\0';
	}
	d->conf = nc;
	log_setup(d->conf.log_level);
	pvd_arm_timer(d, true);
	log_info("configuration reloaded from %s", d->conf_path);
	sd_notify(0, "READY=1");
}

struct pvd_opts {
	const char *config;
	bool check, list, version;
};

#define O(f)	OPT_FIELD(struct pvd_opts, f)
static const struct opt pvd_opt_table[] = {
	{ "config", 'c', OPT_STR, O(config), .arg = "FILE",
	  .help = "configuration, default " PVD_CONF_DEFAULT },
	{ "check-config", 't', OPT_FLAG, O(check),
	  .help = "check the configuration, print every problem with its line, exit" },
	{ "list-metrics", 0, OPT_FLAG, O(list),
	  .help = "print the metric families exported (Markdown) and exit" },
	{ "version", 'V', OPT_FLAG, O(version), .help = "print the version and exit" },
	OPT_END,
};
#undef O

static const struct opt_cmd pvd_cmd = {
	"", "",
	"pvlock's runtime tuner and metrics exporter. Runs in the foreground (systemd\n"
	"Type=notify); SIGHUP reloads the configuration, SIGTERM or SIGINT stop it.\n"
	"See pvlockd(8).",
	pvd_opt_table, 0, 0, false,
};

/* Ping systemd's watchdog from the loop itself: a stuck loop stops the pings. */
static void pvd_watchdog(struct pvd *d, uint64_t now)
{
	if (d->watchdog_ns && now - d->watchdog_last >= d->watchdog_ns / 2) {
		sd_notify(0, "WATCHDOG=1");
		d->watchdog_last = now;
	}
}

static int pvd_poll_timeout(const struct pvd *d)
{
	uint64_t now = util_now_ns(), due;

	if (!d->watchdog_ns)
		return -1;
	due = d->watchdog_last + d->watchdog_ns / 2;
	return due <= now ? 0 : (int)((due - now) / 1000000) + 1;
}

int main(int argc, char **argv)
{
	static struct pvd d;
	struct pvd_opts o = { .config = NULL };
	char *words[OPT_MAX_WORDS], err[512];
	bool stop = false;
	uint64_t usec = 0;
	sigset_t mask;
	int n, rc = 0;

	rc = opt_parse(&pvd_cmd, argc - 1, argv + 1, &o, words, &n, err, sizeof(err));
	if (rc) {
		if (rc > 0) {
			opt_help(stdout, "pvlockd", &pvd_cmd);
			return 0;
		}
		fprintf(stderr, "pvlockd: %s\nTry 'pvlockd --help'.\n", err + strspn(err, ": "));
		return 2;
	}
	if (o.version) {
		printf("pvlockd %s (ABI %d)\n", PVLOCK_VERSION, PVLOCK_ABI_VERSION);
		return 0;
	}
	if (o.list) {
		metrics_doc(stdout);
		return 0;
	}
	d.conf_path = o.config ? o.config : PVD_CONF_DEFAULT;
	d.conf_given = o.config != NULL;
	log_setup(PVD_LOG_INFO);
	rc = pvd_read_conf(&d, &d.conf);
	if (rc < 0)
		return 1;
	if (o.check) {
		if (rc > 0)
			printf("%s: not found: pvlockd would run with the built-in defaults "
			       "(pvlockd(8), CONFIGURATION)\n", d.conf_path);
		else
			printf("%s: OK\n", d.conf_path);
		return 0;
	}
	rc = 0;
	log_setup(d.conf.log_level);

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	/* signals arrive as reads on a descriptor, between periods, never mid-request */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (d.sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0 ||
	    (d.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0) {
		log_err("setting up: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (d.conf.listen[0]) {
		if (httpd_start(&d.httpd, d.conf.listen, err, sizeof(err))) {
			log_err("%s", err);
			return 1;
		}
		log_info("metrics on http://%s/metrics", d.conf.listen);
	}
	if (sd_watchdog_enabled(0, &usec) > 0) {
		d.watchdog_ns = usec * 1000;
		log_info("systemd watchdog: %.1f s", (double)usec / 1e6);
	}
	tuner_init(&d.tuner);
	log_info("version %s started (period %u ms, tuning %s)", PVLOCK_VERSION, d.conf.period_ms,
		 d.conf.tune ? "on" : "off");
	pvd_tick(&d);
	pvd_arm_timer(&d, false);
	sd_notify(0, "READY=1");
	pvd_watchdog(&d, util_now_ns());

	while (!stop) {
		struct pollfd p[2] = { { .fd = d.sfd, .events = POLLIN },
				       { .fd = d.tfd, .events = POLLIN } };

		n = poll(p, 2, pvd_poll_timeout(&d));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(d.sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					pvd_reload(&d);
				} else {
					log_info("stopping (%s)", strsignal((int)si.ssi_signo));
					stop = true;
				}
			}
		}
		if (!stop && (p[1].revents & POLLIN)) {
			uint64_t ticks;

			if (read(d.tfd, &ticks, sizeof(ticks)) == sizeof(ticks))
				pvd_tick(&d);
		}
		pvd_watchdog(&d, util_now_ns());
	}
	sd_notify(0, "STOPPING=1");
	httpd_stop(d.httpd);
	obs_close(d.obs);
	/* stale figures are worse than none: node_exporter stops reporting them */
	if (d.textfile_written[0])
		unlink(d.textfile_written);
	pv_vms_free(&d.vms);
	st_snap_free(&d.bpf);
	tuner_free(&d.tuner);
	proc_load_free(&d.load);
	if (d.connected)
		nlc_close(&d.host);
	close(d.tfd);
	close(d.sfd);
	return rc;
}
