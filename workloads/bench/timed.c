// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Runs a command and appends one line about it to a file:
 *   wall_s user_s sys_s switches maxrss_kb status
 * wall from just before the fork to the end of the wait, CPU time, context
 * switches (voluntary + involuntary) and peak RSS from the kernel's
 * accounting of every descendant that was waited for (RUSAGE_CHILDREN).
 * scripts/bench.sh puts it inside the tracer (so that the tracer's start and
 * stop are not counted in the workload's time) and around it (so that the
 * tracer's own CPU time is the difference). Exits with the command's status. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	struct rusage ru;
	double start, wall_s;
	int opt, status, fd, code;
	char line[256];
	pid_t pid;

	while ((opt = getopt(argc, argv, "+o:")) != -1) {
		if (opt != 'o')
			goto usage;
		out = optarg;
	}
	if (!out || optind >= argc)
		goto usage;

	start = now_s();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "timed: Failed to fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "timed: Failed to run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "timed: Failed to wait: %s\n", strerror(errno));
			return 1;
		}
	}
	wall_s = now_s() - start;
	getrusage(RUSAGE_CHILDREN, &ru);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	snprintf(line, sizeof(line), "%.6f %.6f %.6f %ld %ld %d\n", wall_s, tv_s(ru.ru_utime),
		 tv_s(ru.ru_stime), ru.ru_nvcsw + ru.ru_nivcsw, ru.ru_maxrss, code);
	fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0666);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "timed: Failed to write %s: %s\n", out, strerror(errno));
		return 1;
	}
	close(fd);
	return code;
usage:
	fprintf(stderr, "usage: timed -o FILE -- CMD [ARG...]\n");
	return 2;
}
