// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "conf.h"
#include "httpd.h"

struct httpd {
	struct MHD_Daemon *d;
	pthread_mutex_t lock;
	char *text;
	size_t len;
};

static enum MHD_Result httpd_reply(struct MHD_Connection *conn, unsigned int status,
				   const char *type, const char *body, size_t len,
				   enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result httpd_handle(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version,
				    const char *upload_data, size_t *upload_data_size,
				    void **req_cls)
{
	static const char plain[] = "text/plain; charset=utf-8";
	struct httpd *h = cls;
	enum MHD_Result ret;
	char *copy;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return httpd_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, plain, "GET only\n", 9,
				   MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return httpd_reply(conn, MHD_HTTP_OK, plain, "pvlockd: metrics at /metrics\n", 29,
				   MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return httpd_reply(conn, MHD_HTTP_NOT_FOUND, plain, "not found\n", 10,
				   MHD_RESPMEM_PERSISTENT);
	pthread_mutex_lock(&h->lock);
	len = h->len;
	copy = malloc(len ? len : 1);
	if (copy)
		memcpy(copy, h->text, len);
	pthread_mutex_unlock(&h->lock);
	if (!copy)
		return MHD_NO;
	ret = httpd_reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", copy, len,
			  MHD_RESPMEM_MUST_FREE);
	if (ret != MHD_YES)
		free(copy);
	return ret;
}

int httpd_start(struct httpd **out, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sslen;
	struct httpd *h;
	char why[384];
	bool v6;

	*out = NULL;
	if (pvd_resolve_listen(listen, &ss, &sslen, why, sizeof(why))) {
		snprintf(err, errlen, "metrics.listen %s", why);
		return -EINVAL;
	}
	v6 = ss.ss_family == AF_INET6;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	errno = 0;
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				(v6 ? MHD_USE_IPv6 : 0),
				0, NULL, NULL, httpd_handle, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u,
				MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				MHD_OPTION_END);
	if (!h->d) {
		int e = errno ? errno : EADDRINUSE;

		snprintf(err, errlen, "cannot serve metrics on %s: %s", listen, strerror(e));
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -e;
	}
	*out = h;
	return 0;
}

int httpd_set(struct httpd *h, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	pthread_mutex_lock(&h->lock);
	free(h->text);
	h->text = copy;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
