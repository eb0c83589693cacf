// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A traced program for integration tests: N threads spin for S seconds
 * (optionally in a forked child process too), and each prints the kernel's
 * own accounting of itself, read just before it exits, as the oracle that
 * weft's figures are checked against:
 *   thread TID PID SUM_EXEC_NS RUN_DELAY_NS NVCSW NIVCSW
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "oracle.h"

static double seconds = 1.0;

__attribute__((noinline)) static unsigned long spin_until(double end)
{
	unsigned long sum = 0, i;

	while (now_s() < end)
		for (i = 0; i < 10000; i++) {
			sum += i;
			__asm__ volatile("" : "+r"(sum));
		}
	return sum;
}

static void *busy_thread(void *arg)
{
	(void)arg;
	spin_until(now_s() + seconds);
	print_own_accounting();
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 1, fork_child = 0, i, opt;
	pthread_t *tids;
	pid_t child = -1;

	while ((opt = getopt(argc, argv, "t:s:f")) != -1) {
		switch (opt) {
		case 't':
			threads = atoi(optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'f':
			fork_child = 1;
			break;
		default:
			fprintf(stderr, "usage: busy [-t THREADS] [-s SECONDS] [-f]\n");
			return 2;
		}
	}
	if (fork_child) {
		fflush(stdout);
		child = fork();
		if (child == 0) {
			spin_until(now_s() + seconds);
			print_own_accounting();
			_exit(0);
		}
	}
	tids = calloc(threads, sizeof(*tids));
	for (i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, busy_thread, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(tids[i], NULL);
	if (child > 0)
		waitpid(child, NULL, 0);
	print_own_accounting();
	free(tids);
	return 0;
}
