/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink client for the pvlock families, on libnl-genl. One connection per
 * family; requests are synchronous; errors are negative errno values with
 * the kernel's extended-ack text kept for the message shown to the user.
 */
#ifndef PVLOCK_NLC_H
#define PVLOCK_NLC_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/pvlock.h>

/* The longest a reply may take to start coming: then -ETIMEDOUT. */
#define NLC_TIMEOUT_MS	5000

struct nlc {
	struct nl_sock *sk;
	int family_id;
	const char *family;		/* PVLOCK_GUEST_GENL_NAME or PVLOCK_HOST_GENL_NAME */
	char ext_msg[256];		/* last extended-ack message, "" if none */
};

/* Called once per reply message with its parsed top-level attributes. */
typedef int (*nlc_msg_cb)(struct nlattr **tb, void *arg);

/*
 * Connect to @family. -ENOENT when the family is not registered (module not
 * loaded), another negative errno on socket trouble.
 */
int nlc_open(struct nlc *c, const char *family);
void nlc_close(struct nlc *c);

/* Start a request message for @cmd; add attributes with libnl's nla_put_*. */
struct nl_msg *nlc_msg(struct nlc *c, uint8_t cmd, bool dump);

/*
 * Send @msg (consumed), call @cb per reply, return 0 or a negative errno
 * (-ETIMEDOUT when the module sends nothing for NLC_TIMEOUT_MS).
 */
int nlc_request(struct nlc *c, struct nl_msg *msg, nlc_msg_cb cb, void *arg);

/* Join the "events" group and call @cb for each event until it returns non-zero. */
int nlc_listen(struct nlc *c, nlc_msg_cb cb, void *arg);

/*
 * The same in pieces, for callers that poll several sockets: join the
 * group once, then call nlc_events() whenever nlc_fd() is readable. It
 * returns 0, the first non-zero value of @cb, or a negative errno.
 */
int nlc_subscribe(struct nlc *c);
int nlc_fd(const struct nlc *c);
int nlc_events(struct nlc *c, nlc_msg_cb cb, void *arg);

/*
 * Family arrivals and departures (the "nlctrl" family's "notify" group),
 * so that a listener learns that a module was unloaded or loaded again.
 * @cb gets the family name and whether it appeared (true) or went away.
 */
typedef int (*nlc_family_cb)(const char *family, bool added, void *arg);
int nlc_ctrl_open(struct nlc *c);
int nlc_ctrl_events(struct nlc *c, nlc_family_cb cb, void *arg);

/*
 * Parameters nest <-> value array indexed by PVLOCK_P_*, typed by the spec
 * in params.h; @present has bit (1 << attr) for each value.
 */
void nlc_parse_params(const struct nlattr *nest, uint32_t *vals, uint32_t *present);
int nlc_put_params(struct nl_msg *msg, const uint32_t *vals, uint32_t present);

/* Parse a nest of u64 counters into vals[0..n-1] (index = attribute type). */
void nlc_parse_counters(const struct nlattr *nest, uint64_t *vals, unsigned int n);

/* The text for a failed request: the kernel's message if it sent one. */
const char *nlc_strerror(const struct nlc *c, int err);

#endif
