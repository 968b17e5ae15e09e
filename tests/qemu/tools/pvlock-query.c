// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only netlink probe for the QEMU tests: raw counters and parameter
 * changes as JSON, through the daemon's own netlink client (daemon/nlc.c).
 * Operators use pvlockctl; this exists so that tests can assert on exact
 * counter values independently of pvlockctl's formatting.
 *
 *   pvlock-query guest-stats [CPU]      totals (or one CPU) as a JSON object
 *   pvlock-query guest-locks            most contended locks, JSON array
 *   pvlock-query guest-set NAME=VALUE…  SET_PARAMS (names from params.h)
 *   pvlock-query guest-reset            RESET_STATS
 *   pvlock-query host-status            overcommit, hooks, VMs, registered vCPUs
 *   pvlock-query host-vms               VM list with effective params and counters
 *   pvlock-query host-stats [VM] [vcpu] per-VM (and per-vCPU) counters and histogram
 *   pvlock-query host-set [vm=ID] NAME=VALUE…
 *   pvlock-query host-reset [VM]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvlock/names.h>
#include <pvlock/params.h>

#include "nlc.h"

static int print_stats(struct nlattr **tb, void *arg)
{
	uint64_t c[__PVLOCK_GS_LAST], h[PVLOCK_HIST_BUCKETS + 1];
	unsigned int i;

	(void)arg;
	nlc_parse_counters(tb[PVLOCK_A_STATS], c, __PVLOCK_GS_LAST);
	nlc_parse_counters(tb[PVLOCK_A_HIST], h, PVLOCK_HIST_BUCKETS + 1);
	printf("{");
	if (tb[PVLOCK_A_CPU])
		printf("\"cpu\":%u,", nla_get_u32(tb[PVLOCK_A_CPU]));
	for (i = 1; i < __PVLOCK_GS_LAST; i++)
		printf("\"%s\":%llu,", pvlock_guest_stat_names[i], (unsigned long long)c[i]);
	printf("\"hist\":[");
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)h[i + 1]);
	printf("]}\n");
	return 0;
}

static int print_lock(struct nlattr **tb, void *arg)
{
	struct nlattr *l[PVLOCK_L_MAX + 1];
	int *first = arg;

	if (!tb[PVLOCK_A_LOCK] || nla_parse_nested(l, PVLOCK_L_MAX, tb[PVLOCK_A_LOCK], NULL))
		return -EPROTO;
	printf("%s{\"addr\":\"0x%llx\",\"symbol\":\"%s\",\"contended\":%llu,\"wait_ns\":%llu,"
	       "\"wait_max_ns\":%llu}", *first ? "" : ",",
	       (unsigned long long)(l[PVLOCK_L_ADDR] ? nla_get_u64(l[PVLOCK_L_ADDR]) : 0),
	       l[PVLOCK_L_SYMBOL] ? nla_get_string(l[PVLOCK_L_SYMBOL]) : "",
	       (unsigned long long)(l[PVLOCK_L_CONTENDED] ? nla_get_u64(l[PVLOCK_L_CONTENDED]) : 0),
	       (unsigned long long)(l[PVLOCK_L_WAIT_NS] ? nla_get_u64(l[PVLOCK_L_WAIT_NS]) : 0),
	       (unsigned long long)(l[PVLOCK_L_WAIT_MAX_NS] ? nla_get_u64(l[PVLOCK_L_WAIT_MAX_NS]) : 0));
	*first = 0;
	return 0;
}

static void print_counters(const char *key, const char *const *names, unsigned int n,
			   const struct nlattr *nest)
{
	uint64_t c[64];
	unsigned int i;

	nlc_parse_counters(nest, c, n);
	printf("\"%s\":{", key);
	for (i = 1; i < n; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "", names[i], (unsigned long long)c[i]);
	printf("}");
}

static void print_params(const struct nlattr *nest)
{
	struct nlattr *a;
	int rem, first = 1;

	printf("\"params\":{");
	if (nest)
		nla_for_each_nested(a, (struct nlattr *)nest, rem) {
			const struct pvlock_param_spec *s = pvlock_param_spec(nla_type(a));

			if (!s)
				continue;
			printf("%s\"%s\":%u", first ? "" : ",", s->name,
			       s->type == PVLOCK_PT_BOOL ? nla_get_u8(a) : nla_get_u32(a));
			first = 0;
		}
	printf("}");
}

static uint32_t u32_of(struct nlattr **tb, int a)
{
	return tb[a] ? nla_get_u32(tb[a]) : 0;
}

static int print_host_status(struct nlattr **tb, void *arg)
{
	(void)arg;
	printf("{\"vms\":%u,\"registered\":%u,\"cpus\":%u,\"overcommit\":%u,\"hooks\":%u,",
	       u32_of(tb, PVLOCK_A_NR_VMS), u32_of(tb, PVLOCK_A_NR_REGISTERED),
	       u32_of(tb, PVLOCK_A_NR_CPUS), u32_of(tb, PVLOCK_A_OVERCOMMIT),
	       u32_of(tb, PVLOCK_A_HOOKS));
	print_params(tb[PVLOCK_A_PARAMS]);
	printf("}\n");
	return 0;
}

static int print_vm(struct nlattr **tb, void *arg)
{
	struct nlattr *v[PVLOCK_VM_MAX + 1];
	int *first = arg;

	if (!tb[PVLOCK_A_VM] || nla_parse_nested(v, PVLOCK_VM_MAX, tb[PVLOCK_A_VM], NULL))
		return -EPROTO;
	printf("%s{\"id\":%u,\"pid\":%u,\"name\":\"%s\",\"vcpus\":%u,\"registered\":%u,"
	       "\"abi\":%u,\"features\":%u,", *first ? "" : ",", u32_of(v, PVLOCK_VM_ID),
	       u32_of(v, PVLOCK_VM_PID), v[PVLOCK_VM_NAME] ? nla_get_string(v[PVLOCK_VM_NAME]) : "",
	       u32_of(v, PVLOCK_VM_NR_VCPUS), u32_of(v, PVLOCK_VM_NR_REGISTERED),
	       u32_of(v, PVLOCK_VM_ABI), u32_of(v, PVLOCK_VM_FEATURES));
	print_params(tb[PVLOCK_A_PARAMS]);
	printf(",");
	print_counters("stats", pvlock_host_stat_names, __PVLOCK_HS_LAST, tb[PVLOCK_A_STATS]);
	printf("}");
	*first = 0;
	return 0;
}

static int print_host_row(struct nlattr **tb, void *arg)
{
	uint64_t h[PVLOCK_HIST_BUCKETS + 1];
	int *first = arg;
	unsigned int i;

	printf("%s{\"vm\":%u,", *first ? "" : ",", u32_of(tb, PVLOCK_A_VM_ID));
	if (tb[PVLOCK_A_CPU])
		printf("\"vcpu\":%u,", nla_get_u32(tb[PVLOCK_A_CPU]));
	print_counters("stats", pvlock_host_stat_names, __PVLOCK_HS_LAST, tb[PVLOCK_A_STATS]);
	nlc_parse_counters(tb[PVLOCK_A_HIST], h, PVLOCK_HIST_BUCKETS + 1);
	printf(",\"hist\":[");
	for (i = 0; i < PVLOCK_HIST_BUCKETS; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)h[i + 1]);
	printf("]}");
	*first = 0;
	return 0;
}

static int set_params(struct nlc *c, uint8_t cmd, int argc, char **argv)
{
	struct nl_msg *msg = nlc_msg(c, cmd, false);
	struct nlattr *nest;
	int i;

	if (!msg)
		return -ENOMEM;
	if (argc && !strncmp(argv[0], "vm=", 3)) {
		nla_put_u32(msg, PVLOCK_A_VM_ID, strtoul(argv[0] + 3, NULL, 0));
		argc--;
		argv++;
	}
	nest = nla_nest_start(msg, PVLOCK_A_PARAMS);
	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		uint32_t a, v;

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		for (a = 1; a <= PVLOCK_P_MAX; a++)
			if (pvlock_param_specs[a].name && !strcmp(pvlock_param_specs[a].name, argv[i]))
				break;
		if (a > PVLOCK_P_MAX) {
			fprintf(stderr, "unknown parameter %s\n", argv[i]);
			return -EINVAL;
		}
		if (a == PVLOCK_P_MODE) {
			for (v = 0; v <= PVLOCK_MODE_MAX; v++)
				if (!strcmp(pvlock_mode_names[v], eq + 1))
					break;
		} else {
			v = strtoul(eq + 1, NULL, 0);
		}
		if (pvlock_param_specs[a].type == PVLOCK_PT_BOOL)
			nla_put_u8(msg, a, v);
		else
			nla_put_u32(msg, a, v);
	}
	nla_nest_end(msg, nest);
	return nlc_request(c, msg, NULL, NULL);
}

int main(int argc, char **argv)
{
	struct nlc c;
	struct nl_msg *msg;
	int err, first = 1;
	bool host;

	if (argc < 2) {
		fprintf(stderr, "usage: pvlock-query guest-stats [CPU] | guest-locks | guest-set N=V... | "
			"guest-reset | host-status | host-vms | host-stats [VM] [vcpu] | "
			"host-set [vm=ID] N=V... | host-reset [VM]\n");
		return 2;
	}
	host = !strncmp(argv[1], "host-", 5);
	err = nlc_open(&c, host ? PVLOCK_HOST_GENL_NAME : PVLOCK_GUEST_GENL_NAME);
	if (err) {
		fprintf(stderr, "pvlock-query: %s: %s\n",
			host ? PVLOCK_HOST_GENL_NAME : PVLOCK_GUEST_GENL_NAME, strerror(-err));
		return 1;
	}
	if (!strcmp(argv[1], "guest-stats")) {
		msg = nlc_msg(&c, PVLOCK_GUEST_CMD_GET_STATS, false);
		if (argc > 2)
			nla_put_u32(msg, PVLOCK_A_CPU, atoi(argv[2]));
		err = nlc_request(&c, msg, print_stats, NULL);
	} else if (!strcmp(argv[1], "guest-locks")) {
		printf("[");
		err = nlc_request(&c, nlc_msg(&c, PVLOCK_GUEST_CMD_GET_LOCKS, true), print_lock, &first);
		printf("]\n");
	} else if (!strcmp(argv[1], "guest-set")) {
		err = set_params(&c, PVLOCK_GUEST_CMD_SET_PARAMS, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "guest-reset")) {
		err = nlc_request(&c, nlc_msg(&c, PVLOCK_GUEST_CMD_RESET_STATS, false), NULL, NULL);
	} else if (!strcmp(argv[1], "host-status")) {
		err = nlc_request(&c, nlc_msg(&c, PVLOCK_HOST_CMD_GET_STATUS, false),
				  print_host_status, NULL);
	} else if (!strcmp(argv[1], "host-vms")) {
		printf("[");
		err = nlc_request(&c, nlc_msg(&c, PVLOCK_HOST_CMD_GET_VMS, true), print_vm, &first);
		printf("]\n");
	} else if (!strcmp(argv[1], "host-stats")) {
		msg = nlc_msg(&c, PVLOCK_HOST_CMD_GET_STATS, true);
		if (argc > 2 && strcmp(argv[2], "vcpu"))
			nla_put_u32(msg, PVLOCK_A_VM_ID, strtoul(argv[2], NULL, 0));
		if (!strcmp(argv[argc - 1], "vcpu"))
			nla_put_flag(msg, PVLOCK_A_PER_VCPU);
		printf("[");
		err = nlc_request(&c, msg, print_host_row, &first);
		printf("]\n");
	} else if (!strcmp(argv[1], "host-set")) {
		err = set_params(&c, PVLOCK_HOST_CMD_SET_PARAMS, argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "host-reset")) {
		msg = nlc_msg(&c, PVLOCK_HOST_CMD_RESET_STATS, false);
		if (argc > 2)
			nla_put_u32(msg, PVLOCK_A_VM_ID, strtoul(argv[2], NULL, 0));
		err = nlc_request(&c, msg, NULL, NULL);
	} else {
		fprintf(stderr, "pvlock-query: unknown command %s\n", argv[1]);
		return 2;
	}
	if (err)
		fprintf(stderr, "pvlock-query: %s: %s\n", argv[1], nlc_strerror(&c, err));
	nlc_close(&c);
	return err ? 1 : 0;
}
