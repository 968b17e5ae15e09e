// SPDX-License-Identifier: GPL-2.0
/*
 * notify-listen: stand in for systemd's notification socket in tests.
 *   notify-listen PATH SECONDS
 * Binds a datagram socket at PATH (give it to the daemon as NOTIFY_SOCKET)
 * and prints every message received, one line per field, until SECONDS
 * have passed or a STOPPING=1 arrived.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	time_t end;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen PATH SECONDS\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("notify-listen");
		return 1;
	}
	end = time(NULL) + atoi(argv[2]);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		time_t now = time(NULL);
		ssize_t n;
		char *line, *save;

		if (now >= end || poll(&p, 1, (int)(end - now) * 1000) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			printf("%s\n", line);
		fflush(stdout);
		if (strstr(buf, "STOPPING=1"))
			break;
	}
	unlink(argv[1]);
	return 0;
}
