// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Waits that block inside Debian's glibc, which has no frame pointers: the
 * off-CPU and lock stacks must still name the function of this program
 * that waited, and go on to the thread's start.
 *
 *   libc_waits mutex THREADS SECONDS   threads contend shared_lock from
 *                                      lock_and_count()
 *   libc_waits cond ROUNDS             a thread waits in pthread_cond_wait
 *                                      from wait_for_signal()
 *   libc_waits sleep ROUNDS MS         the main thread sleeps in nanosleep
 *                                      from nap()
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long counter;
static double stop_at;

__attribute__((noinline)) static void lock_and_count(void)
{
	unsigned long i;

	pthread_mutex_lock(&shared_lock);
	for (i = 0; i < 20000; i++) {
		counter++;
		__asm__ volatile("" ::: "memory");
	}
	pthread_mutex_unlock(&shared_lock);
}

static void *contender(void *arg)
{
	(void)arg;
	while (now_s() < stop_at)
		lock_and_count();
	return NULL;
}

static int run_mutex(int threads, double seconds)
{
	pthread_t t[64];
	int i;

	if (threads < 2 || threads > 64)
		return 2;
	stop_at = now_s() + seconds;
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, contender, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%lu\n", counter);
	return 0;
}

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int signalled, waiter_done;

__attribute__((noinline)) static void wait_for_signal(void)
{
	pthread_mutex_lock(&cond_lock);
	while (!signalled)
		pthread_cond_wait(&cond, &cond_lock);
	signalled = 0;
	pthread_mutex_unlock(&cond_lock);
	__asm__ volatile("" ::: "memory");
}

static void *waiter(void *arg)
{
	int rounds = *(int *)arg, i;

	for (i = 0; i < rounds; i++)
		wait_for_signal();
	pthread_mutex_lock(&cond_lock);
	waiter_done = 1;
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static int run_cond(int rounds)
{
	struct timespec gap = { 0, 5 * 1000 * 1000 };
	pthread_t t;
	int done = 0;

	pthread_create(&t, NULL, waiter, &rounds);
	while (!done) {
		nanosleep(&gap, NULL);
		pthread_mutex_lock(&cond_lock);
		signalled = 1;
		done = waiter_done;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&cond_lock);
	}
	pthread_join(t, NULL);
	return 0;
}

__attribute__((noinline)) static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 4 && !strcmp(argv[1], "mutex"))
		return run_mutex(atoi(argv[2]), atof(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "cond"))
		return run_cond(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "sleep")) {
		for (i = 0; i < atoi(argv[2]); i++)
			nap(atol(argv[3]));
		return 0;
	}
	fprintf(stderr,
		"usage: libc_waits mutex THREADS SECONDS | cond ROUNDS | sleep ROUNDS MS\n");
	return 2;
}
