/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvlockd's configuration: /etc/pvlock/pvlockd.conf, an ini file read with
 * libinih. Every key is checked (type, range, cross-key rules); every
 * problem is reported with its file and line; a file with any problem is
 * refused as a whole, so a bad reload leaves the running configuration as
 * it was.
 */
#ifndef PVLOCK_CONF_H
#define PVLOCK_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include <pvlock/tune.h>

#define PVD_CONF_DEFAULT	"/etc/pvlock/pvlockd.conf"
#define PVD_LISTEN_DEFAULT	"127.0.0.1:9583"

enum pvd_oc_source { PVD_OC_AUTO, PVD_OC_MODULE, PVD_OC_PROC };
enum pvd_bpf_mode { PVD_BPF_AUTO, PVD_BPF_YES, PVD_BPF_NO };
enum pvd_log_level { PVD_LOG_ERR, PVD_LOG_WARN, PVD_LOG_INFO, PVD_LOG_DEBUG };

struct pvd_conf {
	/* [tune] */
	bool tune;
	uint32_t period_ms;
	struct pvlock_tune_cfg cfg;
	uint32_t oc_source;		/* enum pvd_oc_source */
	/* [metrics] */
	char listen[264];		/* "HOST:PORT", "[IPv6]:PORT", "" = no HTTP endpoint */
	char textfile[PATH_MAX];	/* node_exporter textfile, "" = none */
	/* [bpf] */
	uint32_t bpf;			/* enum pvd_bpf_mode */
	/* [log] */
	uint32_t log_level;		/* enum pvd_log_level */
};

#define PVD_CONF_MAX_ERRORS	16

struct pvd_conf_errors {
	char msg[PVD_CONF_MAX_ERRORS][256];	/* "FILE:LINE: what is wrong" */
	unsigned int n;
	unsigned int dropped;			/* beyond PVD_CONF_MAX_ERRORS */
};

void pvd_conf_default(struct pvd_conf *c);

/*
 * Read @path into @out (defaults first). 0; -EINVAL with the problems in
 * @errs; -ENOENT or another negative errno when the file cannot be read.
 */
int pvd_conf_load(const char *path, struct pvd_conf *out, struct pvd_conf_errors *errs);

/* Same, from text in memory (@name stands in for the file name in messages). */
int pvd_conf_parse(const char *name, const char *text, struct pvd_conf *out,
		   struct pvd_conf_errors *errs);

/* Split "HOST:PORT" / "[ADDR6]:PORT": 0, or -EINVAL. */
int pvd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/*
 * The address to listen on for @s: a host name (getaddrinfo: its first
 * address), a numeric IPv4 address, or [IPv6]. 0, or -EINVAL and @err.
 */
int pvd_resolve_listen(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err,
		       size_t errlen);

#endif
