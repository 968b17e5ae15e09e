// SPDX-License-Identifier: GPL-2.0
/*
 * The modules' counters read over raw generic netlink (tests/qemu/tools/
 * rawnl.h, no libnl, none of the daemon's code), so that a test can check
 * what pvlockctl prints against a reader that shares nothing with it but
 * the ABI header and the counters' names.
 *
 *   pvlock-genl guest-stats    {"<counter>": N, ..., "hist": [...]}
 *   pvlock-genl host-stats     [{"vm": ID, "stats": {"<counter>": N, ...}}, ...]
 *
 * Exit 0, or 1 with the errno on stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include <pvlock/names.h>

#include "rawnl.h"

struct counters {
	uint64_t c[64];
	uint64_t hist[PVLOCK_HIST_BUCKETS + 1];
	uint32_t vm;
	bool has_vm, has_cpu;
};

static void counter_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	uint64_t *c = arg;

	if (type < 64)
		c[type] = rawnl_u64(data, len);
}

static void hist_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	uint64_t *h = arg;

	if (type <= PVLOCK_HIST_BUCKETS)
		h[type] = rawnl_u64(data, len);
}

static void top_attr(uint16_t type, const void *data, size_t len, void *arg)
{
	struct counters *k = arg;

	if (type == PVLOCK_A_STATS)
		rawnl_attrs(data, len, counter_attr, k->c);
	else if (type == PVLOCK_A_HIST)
		rawnl_attrs(data, len, hist_attr, k->hist);
	else if (type == PVLOCK_A_VM_ID)
		k->vm = rawnl_u32(data, len), k->has_vm = true;
	else if (type == PVLOCK_A_CPU)
		k->has_cpu = true;
}

static void print_counters(const struct counters *k, const char *const *names, unsigned int n)
{
	unsigned int i;

	for (i = 1; i < n; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "", names[i], (unsigned long long)k->c[i]);
}

static int guest_cb(const struct nlmsghdr *h, void *arg)
{
	struct counters k = { 0 };
	size_t len;
	const void *a = rawnl_msg_attrs(h, &len);
	unsigned int i;

	(void)arg;
	rawnl_attrs(a, len, top_attr, &k);
	printf("{");
	print_counters(&k, pvlock_guest_stat_names, __PVLOCK_GS_LAST);
	printf(",\"hist\":[");
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)k.hist[i + 1]);
	printf("]}\n");
	return 0;
}

static int host_cb(const struct nlmsghdr *h, void *arg)
{
	struct counters k = { 0 };
	int *first = arg;
	size_t len;
	const void *a = rawnl_msg_attrs(h, &len);

	rawnl_attrs(a, len, top_attr, &k);
	if (!k.has_vm || k.has_cpu)
		return -EPROTO;		/* a VM row without its VM, or a per-vCPU row unasked */
	printf("%s{\"vm\":%u,\"stats\":{", *first ? "" : ",", k.vm);
	print_counters(&k, pvlock_host_stat_names, __PVLOCK_HS_LAST);
	printf("}}");
	*first = 0;
	return 0;
}

int main(int argc, char **argv)
{
	static struct rawnl_req r;
	struct rawnl n;
	bool host;
	int err, first = 1;

	if (argc != 2 || (strcmp(argv[1], "guest-stats") && strcmp(argv[1], "host-stats"))) {
		fprintf(stderr, "usage: pvlock-genl guest-stats | host-stats\n");
		return 2;
	}
	host = !strcmp(argv[1], "host-stats");
	err = rawnl_open(&n, host ? PVLOCK_HOST_GENL_NAME : PVLOCK_GUEST_GENL_NAME, 0);
	if (err) {
		fprintf(stderr, "pvlock-genl: %s: %s\n", host ? PVLOCK_HOST_GENL_NAME :
			PVLOCK_GUEST_GENL_NAME, strerror(-err));
		return 1;
	}
	if (host) {
		rawnl_begin(&n, &r, n.family, PVLOCK_HOST_CMD_GET_STATS, NLM_F_DUMP);
		printf("[");
	} else {
		rawnl_begin(&n, &r, n.family, PVLOCK_GUEST_CMD_GET_STATS, 0);
	}
	err = rawnl_send(&n, &r);
	if (!err)
		err = rawnl_answer(&n, n.seq, 0, host ? host_cb : guest_cb, &first);
	if (host)
		printf("]\n");
	rawnl_close(&n);
	if (err) {
		fprintf(stderr, "pvlock-genl: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	return 0;
}
