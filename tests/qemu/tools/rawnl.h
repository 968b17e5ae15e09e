/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink by hand, for the test tools that must not share the
 * daemon's client (daemon/nlc.c, on libnl): a socket, the family's id and
 * multicast groups from the "nlctrl" family, requests with attributes
 * written byte by byte, and answers walked with the <linux/netlink.h>
 * macros. Everything reports a negative errno; nothing is cached.
 */
#ifndef PVLOCK_RAWNL_H
#define PVLOCK_RAWNL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RAWNL_MSG	8192

struct rawnl {
	int fd;
	uint16_t family;
	uint32_t seq;
	uint32_t events_group;		/* multicast id of "events", 0 if none */
};

/* A request being built in @buf. */
struct rawnl_req {
	unsigned char buf[RAWNL_MSG];
	size_t len;
};

static inline void rawnl_begin(struct rawnl *n, struct rawnl_req *r, uint16_t type, uint8_t cmd,
			       uint16_t flags)
{
	struct nlmsghdr *h = (struct nlmsghdr *)r->buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(r->buf + NLMSG_HDRLEN);

	memset(r->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++n->seq;
	g->cmd = cmd;
	g->version = 1;
	r->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

/* Append one attribute; false if it does not fit. */
static inline bool rawnl_put(struct rawnl_req *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(r->buf + r->len);

	if (r->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(r->buf))
		return false;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(r->buf + r->len + NLA_HDRLEN, data, len);
	memset(r->buf + r->len + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	r->len += NLA_HDRLEN + NLA_ALIGN(len);
	return true;
}

static inline bool rawnl_put_u32(struct rawnl_req *r, uint16_t type, uint32_t v)
{
	return rawnl_put(r, type, &v, sizeof(v));
}

static inline bool rawnl_put_u8(struct rawnl_req *r, uint16_t type, uint8_t v)
{
	return rawnl_put(r, type, &v, sizeof(v));
}

static inline size_t rawnl_nest_start(struct rawnl_req *r, uint16_t type)
{
	size_t off = r->len;

	rawnl_put(r, type | NLA_F_NESTED, NULL, 0);
	return off;
}

static inline void rawnl_nest_end(struct rawnl_req *r, size_t off)
{
	((struct nlattr *)(r->buf + off))->nla_len = (uint16_t)(r->len - off);
}

static inline int rawnl_send(struct rawnl *n, struct rawnl_req *r)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };

	((struct nlmsghdr *)r->buf)->nlmsg_len = (uint32_t)r->len;
	if (sendto(n->fd, r->buf, r->len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* Attribute walk over [@p, @p + @len): calls @fn(type, data, len, arg) for each. */
static inline void rawnl_attrs(const void *p, size_t len,
			       void (*fn)(uint16_t type, const void *data, size_t len, void *arg),
			       void *arg)
{
	const struct nlattr *a = p;

	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		fn(a->nla_type & NLA_TYPE_MASK, (const char *)a + NLA_HDRLEN,
		   a->nla_len - NLA_HDRLEN, arg);
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= (size_t)NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

/* The attributes of a generic netlink message. */
static inline const void *rawnl_msg_attrs(const struct nlmsghdr *h, size_t *len)
{
	*len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	return (const char *)NLMSG_DATA(h) + GENL_HDRLEN;
}

static inline uint32_t rawnl_u32(const void *data, size_t len)
{
	uint32_t v = 0;

	if (len >= sizeof(v))
		memcpy(&v, data, sizeof(v));
	return v;
}

static inline uint64_t rawnl_u64(const void *data, size_t len)
{
	uint64_t v = 0;

	if (len >= sizeof(v))
		memcpy(&v, data, sizeof(v));
	else if (len == 4)
		v = rawnl_u32(data, len);
	else if (len == 1)
		v = *(const uint8_t *)data;
	return v;
}

/*
 * Read answers to request @seq until it is done, handing every reply
 * message to @cb (NULL: ignore them). 0 when done without error, else the
 * negative errno of its NLMSG_ERROR (or NLMSG_DONE) answer; -EAGAIN when
 * nothing came within the socket's timeout; -EMSGSIZE when a datagram did
 * not fit in @buflen bytes (the kernel sizes a dump's parts by the largest
 * read the socket has seen: a socket that once read 64 kB gets parts that
 * a 4 kB read truncates). @buflen: how much one read may take (a small
 * value, on a socket that never read more, makes the kernel split a dump
 * into more parts); @parts (if not NULL) counts the reads that brought
 * replies.
 */
static inline int rawnl_answer_parts(struct rawnl *n, uint32_t seq, size_t buflen,
				     int (*cb)(const struct nlmsghdr *h, void *arg), void *arg,
				     unsigned int *parts)
{
	static unsigned char rx[64 * 1024];

	if (buflen > sizeof(rx) || !buflen)
		buflen = sizeof(rx);
	for (;;) {
		ssize_t got = recv(n->fd, rx, buflen, MSG_TRUNC);
		struct nlmsghdr *h;
		bool replies = false;
		size_t left;

		if (got < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if ((size_t)got > buflen)
			return -EMSGSIZE;
		left = (size_t)got;
		for (h = (struct nlmsghdr *)rx; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error;	/* 0: the ack */
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(h), sizeof(err));
				return err < 0 ? err : 0;
			}
			if (parts && !replies)
				(*parts)++;
			replies = true;
			if (cb) {
				int err = cb(h, arg);

				if (err)
					return err;
			}
			/* a doit's reply is followed by its ack: read on */
		}
	}
}

static inline int rawnl_answer(struct rawnl *n, uint32_t seq, size_t buflen,
			       int (*cb)(const struct nlmsghdr *h, void *arg), void *arg)
{
	return rawnl_answer_parts(n, seq, buflen, cb, arg, NULL);
}

/* Family id, and the id of its "events" group, from the nlctrl family. */
struct rawnl_family_arg {
	uint16_t id;
	uint32_t group;
};

struct rawnl_group {
	uint32_t id;
	bool events;
};

static inline void rawnl_group_field(uint16_t type, const void *data, size_t len, void *arg)
{
	struct rawnl_group *g = arg;

	if (type == CTRL_ATTR_MCAST_GRP_NAME)
		g->events = len == sizeof("events") && !memcmp(data, "events", len);
	else if (type == CTRL_ATTR_MCAST_GRP_ID)
		g->id = rawnl_u32(data, len);
}

/* One group of CTRL_ATTR_MCAST_GROUPS: its name and id. */
static inline void rawnl_group_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	struct rawnl_group g = { 0, false };

	(void)type;
	rawnl_attrs(data, len, rawnl_group_field, &g);
	if (g.events)
		*(uint32_t *)arg = g.id;
}

static inline void rawnl_family_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	struct rawnl_family_arg *f = arg;

	if (type == CTRL_ATTR_FAMILY_ID && len >= 2)
		memcpy(&f->id, data, 2);
	else if (type == CTRL_ATTR_MCAST_GROUPS)
		rawnl_attrs(data, len, rawnl_group_attr, &f->group);
}

static inline int rawnl_family_cb(const struct nlmsghdr *h, void *arg)
{
	size_t len;
	const void *a = rawnl_msg_attrs(h, &len);

	rawnl_attrs(a, len, rawnl_family_attr, arg);
	return 0;
}

/*
 * Open a socket for generic netlink family @name: -ENOENT when the family
 * is not registered. @rcvbuf: SO_RCVBUF (0: the default).
 */
static inline int rawnl_open(struct rawnl *n, const char *name, int rcvbuf)
{
	struct sockaddr_nl me = { .nl_family = AF_NETLINK };
	struct timeval tv = { 3, 0 };
	struct rawnl_family_arg fa = { 0, 0 };
	struct rawnl_req *r;
	int err;

	memset(n, 0, sizeof(*n));
	n->seq = (uint32_t)getpid() << 12;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (n->fd < 0)
		return -errno;
	setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* beyond net.core.rmem_max where allowed (CAP_NET_ADMIN) */
	if (rcvbuf && setsockopt(n->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(n->fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		err = -errno;
		goto fail;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	rawnl_begin(n, r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	rawnl_put(r, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	err = rawnl_send(n, r);
	free(r);
	/* a small read: the family's answer fits, and dumps on this socket
	 * stay split into parts that a small read takes whole */
	if (!err)
		err = rawnl_answer(n, n->seq, 4096, rawnl_family_cb, &fa);
	if (!err && !fa.id)
		err = -ENOENT;
	if (err)
		goto fail;
	n->family = fa.id;
	n->events_group = fa.group;
	return 0;
fail:
	close(n->fd);
	n->fd = -1;
	return err;
}

static inline void rawnl_close(struct rawnl *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

/* Join the family's "events" group. */
static inline int rawnl_subscribe(struct rawnl *n)
{
	int g = (int)n->events_group;

	if (!g)
		return -ENOENT;
	if (setsockopt(n->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
		return -errno;
	return 0;
}

#endif
