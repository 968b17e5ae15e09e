// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <netlink/socket.h>

#include <pvlock/params.h>

#include "nlc.h"
#include "util.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Receive-side request policy: types only; the kernel already validated. */
static struct nla_policy nlc_policy[PVLOCK_A_MAX + 1] = {
	[PVLOCK_A_VERSION] = { .type = NLA_STRING },
	[PVLOCK_A_KERNEL] = { .type = NLA_STRING },
	[PVLOCK_A_ABI] = { .type = NLA_U32 },
	[PVLOCK_A_FEATURES] = { .type = NLA_U32 },
	[PVLOCK_A_HANDSHAKE] = { .type = NLA_U32 },
	[PVLOCK_A_HOST_ABI] = { .type = NLA_U32 },
	[PVLOCK_A_HOST_FEATURES] = { .type = NLA_U32 },
	[PVLOCK_A_LIVEPATCH] = { .type = NLA_U32 },
	[PVLOCK_A_HOOKS] = { .type = NLA_U32 },
	[PVLOCK_A_NR_CPUS] = { .type = NLA_U32 },
	[PVLOCK_A_NR_VMS] = { .type = NLA_U32 },
	[PVLOCK_A_NR_REGISTERED] = { .type = NLA_U32 },
	[PVLOCK_A_OVERCOMMIT] = { .type = NLA_U32 },
	[PVLOCK_A_PARAMS] = { .type = NLA_NESTED },
	[PVLOCK_A_VM] = { .type = NLA_NESTED },
	[PVLOCK_A_VM_ID] = { .type = NLA_U32 },
	[PVLOCK_A_CPU] = { .type = NLA_U32 },
	[PVLOCK_A_PER_VCPU] = { .type = NLA_FLAG },
	[PVLOCK_A_STATS] = { .type = NLA_NESTED },
	[PVLOCK_A_HIST] = { .type = NLA_NESTED },
	[PVLOCK_A_LOCK] = { .type = NLA_NESTED },
	[PVLOCK_A_EVENT] = { .type = NLA_U32 },
	[PVLOCK_A_TIME_NS] = { .type = NLA_U64 },
};

struct nlc_req {
	struct nlc *c;
	nlc_msg_cb cb;
	void *arg;
	int err;		/* from the kernel's NLMSG_ERROR, or the callback */
	bool done;
};

static int nlc_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_PERM: return -EPERM;
	case NLE_NOACCESS: return -EACCES;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_BUSY: return -EBUSY;
	case NLE_EXIST: return -EEXIST;
	default: return -EIO;
	}
}

int nlc_open(struct nlc *c, const char *family)
{
	struct timeval tv = { NLC_TIMEOUT_MS / 1000, NLC_TIMEOUT_MS % 1000 * 1000 };
	int one = 1, err;

	memset(c, 0, sizeof(*c));
	c->family = family;
	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	err = genl_connect(c->sk);
	if (err < 0) {
		err = nlc_errno(err);
		goto err_free;
	}
	/* extended acks carry the kernel's reason for a refusal */
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* no read waits for ever: a stuck module must not hang pvlockd's loop */
	setsockopt(nl_socket_get_fd(c->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	c->family_id = genl_ctrl_resolve(c->sk, family);
	if (c->family_id < 0) {
		err = -ENOENT;
		goto err_free;
	}
	return 0;
err_free:
	nl_socket_free(c->sk);
	c->sk = NULL;
	return err;
}

void nlc_close(struct nlc *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	c->sk = NULL;
}

struct nl_msg *nlc_msg(struct nlc *c, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family_id, 0,
			 dump ? NLM_F_DUMP : 0, cmd, PVLOCK_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int nlc_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlc_req *r = arg;
	struct nlattr *tb[PVLOCK_A_MAX + 1];
	int err;

	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, PVLOCK_A_MAX, nlc_policy);
	if (err < 0) {
		r->err = -EPROTO;
		return NL_STOP;
	}
	if (r->cb) {
		err = r->cb(tb, r->arg);
		if (err) {
			r->err = err;
			return NL_STOP;
		}
	}
	return NL_OK;
}

/* Pull NLMSGERR_ATTR_MSG out of an extended ack. */
static void nlc_ext_msg(struct nlc *c, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = sizeof(*e);
	int len;

	c->ext_msg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off), len, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(c->ext_msg, sizeof(c->ext_msg), "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

static int nlc_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlc_req *r = arg;

	(void)nla;
	nlc_ext_msg(r->c, e);
	r->err = e->error;
	r->done = true;
	return NL_STOP;
}

static int nlc_finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlc_req *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static int nlc_ack_cb(struct nl_msg *msg, void *arg)
{
	struct nlc_req *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

int nlc_request(struct nlc *c, struct nl_msg *msg, nlc_msg_cb cb, void *arg)
{
	struct nlc_req r = { .c = c, .cb = cb, .arg = arg };
	struct nl_cb *nlcb;
	uint64_t t0;
	int err;

	c->ext_msg[0] = '\0';
	nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nlcb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, nlc_valid_cb, &r);
	nl_cb_set(nlcb, NL_CB_FINISH, NL_CB_CUSTOM, nlc_finish_cb, &r);
	nl_cb_set(nlcb, NL_CB_ACK, NL_CB_CUSTOM, nlc_ack_cb, &r);
	nl_cb_err(nlcb, NL_CB_CUSTOM, nlc_err_cb, &r);

	err = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(nlcb);
		return nlc_errno(err);
	}
	t0 = util_now_ns();
	while (!r.done && !r.err) {
		/* the number of messages read; none within the socket's timeout: give up */
		err = nl_recvmsgs_report(c->sk, nlcb);
		if (err < 0 && !r.err) {
			r.err = err == -NLE_AGAIN ? -ETIMEDOUT : nlc_errno(err);
			break;
		}
		if (err > 0)
			t0 = util_now_ns();
		else if (!r.done && !r.err && util_now_ns() - t0 >= NLC_TIMEOUT_MS * 1000000ull)
			r.err = -ETIMEDOUT;
	}
	nl_cb_put(nlcb);
	return r.err;
}

struct nlc_listen {
	nlc_msg_cb cb;
	void *arg;
	int ret;
};

static int nlc_no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int nlc_event_cb(struct nl_msg *msg, void *arg)
{
	struct nlc_listen *l = arg;
	struct nlattr *tb[PVLOCK_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, PVLOCK_A_MAX, nlc_policy) < 0)
		return NL_OK;
	l->ret = l->cb(tb, l->arg);
	return l->ret ? NL_STOP : NL_OK;
}

int nlc_subscribe(struct nlc *c)
{
	int grp, err;

	grp = genl_ctrl_resolve_grp(c->sk, c->family, PVLOCK_GENL_MCGRP_EVENTS);
	if (grp < 0)
		return -ENOENT;
	nl_socket_disable_seq_check(c->sk);
	err = nl_socket_add_membership(c->sk, grp);
	return err < 0 ? nlc_errno(err) : 0;
}

int nlc_fd(const struct nlc *c)
{
	return nl_socket_get_fd(c->sk);
}

/* Read what is queued on @c's socket (blocking until at least one message). */
static int nlc_recv_with(struct nlc *c, nl_recvmsg_msg_cb_t fn, void *arg, int *ret)
{
	struct nl_cb *nlcb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!nlcb)
		return -ENOMEM;
	nl_cb_set(nlcb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	/* multicast messages carry sequence number 0 */
	nl_cb_set(nlcb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, nlc_no_seq_check, NULL);
	err = nl_recvmsgs(c->sk, nlcb);
	nl_cb_put(nlcb);
	if (*ret)
		return *ret;
	/* called when poll() said readable: a timeout here only means nothing came */
	return err < 0 && err != -NLE_INTR && err != -NLE_AGAIN ? nlc_errno(err) : 0;
}

int nlc_events(struct nlc *c, nlc_msg_cb cb, void *arg)
{
	struct nlc_listen l = { .cb = cb, .arg = arg };

	return nlc_recv_with(c, nlc_event_cb, &l, &l.ret);
}

int nlc_listen(struct nlc *c, nlc_msg_cb cb, void *arg)
{
	int err = nlc_subscribe(c);

	while (!err)
		err = nlc_events(c, cb, arg);
	return err > 0 ? 0 : err;
}

struct nlc_ctrl {
	nlc_family_cb cb;
	void *arg;
	int ret;
};

static int nlc_ctrl_cb(struct nl_msg *msg, void *arg)
{
	struct nlc_ctrl *l = arg;
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CTRL_ATTR_MAX, NULL) < 0 ||
	    !tb[CTRL_ATTR_FAMILY_NAME])
		return NL_OK;
	l->ret = l->cb(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), g->cmd == CTRL_CMD_NEWFAMILY,
		       l->arg);
	return l->ret ? NL_STOP : NL_OK;
}

int nlc_ctrl_open(struct nlc *c)
{
	int grp, err;

	err = nlc_open(c, "nlctrl");
	if (err)
		return err;
	grp = genl_ctrl_resolve_grp(c->sk, "nlctrl", "notify");
	if (grp < 0) {
		nlc_close(c);
		return -ENOENT;
	}
	nl_socket_disable_seq_check(c->sk);
	err = nl_socket_add_membership(c->sk, grp);
	if (err < 0) {
		nlc_close(c);
		return nlc_errno(err);
	}
	return 0;
}

int nlc_ctrl_events(struct nlc *c, nlc_family_cb cb, void *arg)
{
	struct nlc_ctrl l = { .cb = cb, .arg = arg };

	return nlc_recv_with(c, nlc_ctrl_cb, &l, &l.ret);
}

void nlc_parse_params(const struct nlattr *nest, uint32_t *vals, uint32_t *present)
{
	struct nlattr *a;
	int rem;

	memset(vals, 0, (PVLOCK_P_MAX + 1) * sizeof(*vals));
	*present = 0;
	if (!nest)
		return;
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		const struct pvlock_param_spec *s = pvlock_param_spec(nla_type(a));

		if (!s)
			continue;
		if (s->type == PVLOCK_PT_BOOL && nla_len(a) >= 1)
			vals[s->attr] = nla_get_u8(a);
		else if (s->type == PVLOCK_PT_U32 && nla_len(a) >= 4)
			vals[s->attr] = nla_get_u32(a);
		else
			continue;
		*present |= 1u << s->attr;
	}
}

int nlc_put_params(struct nl_msg *msg, const uint32_t *vals, uint32_t present)
{
	struct nlattr *nest = nla_nest_start(msg, PVLOCK_A_PARAMS);
	uint32_t a;

	if (!nest)
		return -EMSGSIZE;
	for (a = 1; a <= PVLOCK_P_MAX; a++) {
		const struct pvlock_param_spec *s = pvlock_param_spec(a);
		int err;

		if (!s || !(present & (1u << a)))
			continue;
		err = s->type == PVLOCK_PT_BOOL ? nla_put_u8(msg, a, !!vals[a]) :
						  nla_put_u32(msg, a, vals[a]);
		if (err < 0)
			return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

void nlc_parse_counters(const struct nlattr *nest, uint64_t *vals, unsigned int n)
{
	struct nlattr *a;
	int rem;

	memset(vals, 0, n * sizeof(*vals));
	if (!nest)
		return;
	nla_for_each_nested(a, (struct nlattr *)nest, rem) {
		unsigned int t = nla_type(a);

		if (t > 0 && t < n && nla_len(a) == sizeof(uint64_t))
			vals[t] = nla_get_u64(a);
	}
}

const char *nlc_strerror(const struct nlc *c, int err)
{
	if (c && c->ext_msg[0])
		return c->ext_msg;
	return strerror(-err);
}
