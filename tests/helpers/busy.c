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

static double seconds = 1.0;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long status_value(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void print_own_accounting(void)
{
	unsigned long long exec_ns = 0, delay_ns = 0, pcount = 0;
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen("/proc/thread-self/schedstat", "r");
	if (f) {
		if (fscanf(f, "%llu %llu %llu", &exec_ns, &delay_ns, &pcount) != 3)
			exec_ns = delay_ns = 0;
		fclose(f);
	}
	buf[0] = '\0';
	f = fopen("/proc/thread-self/status", "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	pthread_mutex_lock(&print_lock);
	printf("thread %d %d %llu %llu %llu %llu\n", gettid(), getpid(), exec_ns, delay_ns,
	       status_value(buf, "\nvoluntary_ctxt_switches:"),
	       status_value(buf, "\nnonvoluntary_ctxt_switches:"));
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

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
