// SPDX-License-Identifier: GPL-2.0
/*
 * pvlockctl unload: remove pvlock_guest the only way a livepatch module can
 * go: disable its patch, wait until every task has left the patched code
 * (the livepatch transition), then delete the module. Never "force": a
 * task still inside the old code would run freed text. With -H it removes
 * pvlock_host, which has no livepatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "ctl.h"
#include "out.h"

#define LP_DIR	"/sys/kernel/livepatch/pvlock_guest"

static int unload_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v, strlen(v)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static bool unload_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Disable the livepatch and wait for it to go; 0 or a negative errno. */
static int unload_livepatch(double timeout, double *took)
{
	uint64_t t0 = util_now_ns(), limit = (uint64_t)(timeout * 1e9);
	bool signalled = false;
	int err;

	err = unload_write(LP_DIR "/enabled", "0");
	if (err == -EACCES || err == -EPERM) {
		ctl_err("unload: permission denied: disabling the pvlock_guest "
			"livepatch needs root");
		return -EPERM;
	}
	/* EINVAL: already disabled, the transition is under way */
	if (err && err != -EINVAL && err != -ENOENT) {
		ctl_err("unload: disabling the livepatch: %s", strerror(-err));
		return err;
	}
	while (unload_exists(LP_DIR)) {
		uint64_t dt = util_now_ns() - t0;
		struct timespec ts = { 0, 50 * 1000000 };

		if (dt > limit) {
			ctl_err("unload: the livepatch transition did not finish in "
				"%.1f s; some task is still inside the patched code (the kernel log "
				"names it). It goes on in the background: run unload again later.",
				timeout);
			return -ETIMEDOUT;
		}
		/* half-way, nudge sleeping tasks with the kernel's fake signal */
		if (!signalled && dt > limit / 2) {
			unload_write(LP_DIR "/signal", "1");
			signalled = true;
		}
		nanosleep(&ts, NULL);
	}
	*took = (double)(util_now_ns() - t0) / 1e9;
	return 0;
}

int ctl_unload(int argc, char **argv)
{
	bool host = ctl_opts.families == CTL_HOST;
	const char *mod = host ? "pvlock_host" : "pvlock_guest";
	struct unload_opts o;
	double took = 0;
	char err[256], path[64];
	bool patched;
	int rc = args_unload(argc, argv, &o, err, sizeof(err));

	if (rc)
		return rc > 0 ? ctl_help(&args_unload_cmd, NULL, 0) : ctl_usage_error("%s", err);
	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	if (!unload_exists(path)) {
		ctl_err("unload: %s is not loaded", mod);
		return CTL_EXIT_FAIL;
	}
	patched = !host && unload_exists(LP_DIR);
	if (patched && unload_livepatch(o.timeout, &took))
		return CTL_EXIT_FAIL;
	if (syscall(SYS_delete_module, mod, O_NONBLOCK)) {
		int e = errno;

		if (e == EPERM)
			ctl_err("unload: permission denied: removing %s needs "
				"CAP_SYS_MODULE%s", mod,
				patched ? " (its livepatch is disabled now; it stays loaded)" : "");
		else if (e == EBUSY || e == EAGAIN || e == EWOULDBLOCK)
			ctl_err("unload: %s is in use%s", mod,
				!host && unload_exists(LP_DIR) ? " (its livepatch is still enabled)" :
				"");
		else
			ctl_err("unload: removing %s: %s", mod, strerror(e));
		return CTL_EXIT_FAIL;
	}
	out_open_object(NULL);
	out_str("module", "%s: ", mod);
	out_bool("unloaded", NULL, true);
	out_bool("livepatch_disabled", NULL, patched);
	if (patched)
		out_double("transition_s", "livepatch disabled (transition %.2f s), ", took);
	out_text("module removed\n");
	out_close_object();
	return CTL_EXIT_OK;
}
