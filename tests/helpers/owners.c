// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A thread "holder" that sleeps while it holds a mutex, and three threads
 * "waiter1".."waiter3" that take the same mutex briefly: almost all of the
 * waiters' lock wait is spent while "holder" holds it, so the wait-for
 * graph must point their edges at it. --pi makes the mutex priority
 * inheriting (PTHREAD_PRIO_INHERIT: the kernel's FUTEX_LOCK_PI, whose
 * futex word holds the owner's tid).
 *
 * --handoff N: instead, two threads on CPU 0 hand a baton back and forth N
 * times through two mutexes, each blocking in a mutex wait at every turn:
 * a switch program's cost per lock wait shows there (scripts/bench.sh).
 *
 * usage: owners [--pi] [ROUNDS]   (default 30 rounds of 20 ms)
 *        owners --handoff N */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pthread_mutex_t owned_lock;
static volatile int done;
static int rounds = 30;

static void *holder(void *arg)
{
	int i;

	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	for (i = 0; i < rounds; i++) {
		pthread_mutex_lock(&owned_lock);
		usleep(20000); /* asleep, holding it */
		pthread_mutex_unlock(&owned_lock);
		usleep(3000);
	}
	done = 1;
	return NULL;
}

static void *waiter(void *arg)
{
	char name[16];
	unsigned long n = 0;

	snprintf(name, sizeof(name), "waiter%ld", (long)arg);
	pthread_setname_np(pthread_self(), name);
	while (!done) {
		pthread_mutex_lock(&owned_lock);
		n++;
		pthread_mutex_unlock(&owned_lock);
		/* leave the holder room to take it back */
		usleep(1000);
	}
	return (void *)n;
}

/* glibc lets any thread unlock a default (non-robust, non-checking)
 * mutex: each side waits on its own mutex, locked, until the other
 * unlocks it */
static pthread_mutex_t baton[2] = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static long handoffs;

static void *passer(void *arg)
{
	long me = (long)arg, i;

	for (i = 0; i < handoffs; i++) {
		pthread_mutex_lock(&baton[me]);
		pthread_mutex_unlock(&baton[!me]);
	}
	return NULL;
}

static int handoff_main(long n)
{
	pthread_t t[2];
	cpu_set_t one;
	long i;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		perror("owners: sched_setaffinity");
	handoffs = n;
	pthread_mutex_lock(&baton[0]);
	pthread_mutex_lock(&baton[1]);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, passer, (void *)i);
	pthread_mutex_unlock(&baton[0]); /* thread 0 starts */
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("owners: %ld handoffs\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_mutexattr_t attr;
	pthread_t h, w[3];
	int i, arg = 1;

	if (argc == 3 && !strcmp(argv[1], "--handoff") && atol(argv[2]) > 0)
		return handoff_main(atol(argv[2]));
	pthread_mutexattr_init(&attr);
	if (argc > arg && !strcmp(argv[arg], "--pi")) {
		if (pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT)) {
			fprintf(stderr, "owners: no priority-inheriting mutexes here\n");
			return 1;
		}
		arg++;
	}
	if (argc > arg)
		rounds = atoi(argv[arg]);
	if (rounds <= 0) {
		fprintf(stderr, "usage: owners [--pi] [ROUNDS] | --handoff N\n");
		return 2;
	}
	pthread_mutex_init(&owned_lock, &attr);
	pthread_create(&h, NULL, holder, NULL);
	usleep(2000); /* the holder takes it first */
	for (i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, waiter, (void *)(long)(i + 1));
	pthread_join(h, NULL);
	for (i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	printf("owners: %d rounds\n", rounds);
	return 0;
}
