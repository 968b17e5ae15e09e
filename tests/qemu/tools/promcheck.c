// SPDX-License-Identifier: GPL-2.0
/*
 * promcheck: check Prometheus exposition text strictly (promcheck.h).
 *   promcheck [-r METRIC]... [FILE]     (stdin without FILE)
 * Exit 0 and "promcheck: OK: N families, M samples" when valid and every
 * -r METRIC has at least one sample; exit 1 with the first problem else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "promcheck.h"

int main(int argc, char **argv)
{
	static struct pc_state st;
	const char *req[64];
	size_t len = 0, cap = 0, nreq = 0, i;
	char *buf = NULL;
	FILE *f = stdin;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r' || nreq >= 64) {
			fprintf(stderr, "usage: promcheck [-r METRIC]... [FILE]\n");
			return 2;
		}
		req[nreq++] = optarg;
	}
	if (optind < argc && !(f = fopen(argv[optind], "r"))) {
		perror(argv[optind]);
		return 2;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				return 2;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (!n)
			break;
		len += n;
	}
	if (pc_check(&st, buf, len)) {
		printf("promcheck: INVALID: %s\n", st.err);
		rc = 1;
	}
	for (i = 0; !rc && i < nreq; i++) {
		if (!pc_samples(&st, req[i])) {
			printf("promcheck: MISSING: no sample of %s\n", req[i]);
			rc = 1;
		}
	}
	if (!rc)
		printf("promcheck: OK: %u families, %lu samples\n", st.nfam, st.samples);
	pc_free(&st);
	free(buf);
	return rc;
}
