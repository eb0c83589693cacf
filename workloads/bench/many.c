// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* T threads in a ring pass K tokens around it: a thread sleeps on a futex
 * until it holds a token, then hands it to the next thread and wakes it.
 * Each thread passes K * ROUNDS tokens, so about T * K * ROUNDS wakeups,
 * spread over every CPU: many threads, all short-lived on a CPU. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct seat {
	_Atomic int tokens;
	char pad[60]; /* one cache line per thread */
};

static struct seat *ring;
static long nthreads = 64, ntokens = 4, rounds = 2000;

static void *passer(void *arg)
{
	long me = (long)arg, next = (me + 1) % nthreads, i;
	_Atomic int *mine = &ring[me].tokens;
	int seen;

	for (i = 0; i < ntokens * rounds; i++) {
		while ((seen = atomic_load(mine)) == 0)
			syscall(SYS_futex, mine, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		atomic_fetch_sub(mine, 1);
		atomic_fetch_add(&ring[next].tokens, 1);
		syscall(SYS_futex, &ring[next].tokens, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	pthread_t *t;
	long i;
	int opt;

	while ((opt = getopt(argc, argv, "t:k:n:")) != -1) {
		switch (opt) {
		case 't':
			nthreads = atol(optarg);
			break;
		case 'k':
			ntokens = atol(optarg);
			break;
		case 'n':
			rounds = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (nthreads < 2 || ntokens < 1 || ntokens > nthreads || rounds < 1)
		goto usage;
	ring = calloc(nthreads, sizeof(*ring));
	t = calloc(nthreads, sizeof(*t));
	if (!ring || !t)
		return 1;
	atomic_store(&ring[0].tokens, (int)ntokens);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, passer, (void *)i);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("many: %ld threads, %ld tokens, %ld rounds in %.3f s\n", nthreads, ntokens, rounds,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	free(t);
	free(ring);
	return 0;
usage:
	fprintf(stderr, "usage: many [-t THREADS] [-k TOKENS] [-n ROUNDS]\n");
	return 2;
}
