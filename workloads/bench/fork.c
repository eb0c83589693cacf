// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Starts N short child processes one after another, each a fork and an
 * exec of /bin/true, waiting for each: the recorder must account for every
 * process (N + this one) and lose nothing while processes come and go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long children = 2000, i;
	struct timespec a, b;
	int opt, status;
	pid_t pid;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: fork [-n CHILDREN]\n");
			return 2;
		}
		children = atol(optarg);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < children; i++) {
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "fork: Failed to fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			execl("/bin/true", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "fork: child %ld failed\n", i);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("fork: %ld children in %.3f s\n", children,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
