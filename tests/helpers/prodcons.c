// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A producer and a slow consumer on a bounded queue (a mutex and two
 * condition variables): the producer waits mostly in pthread_cond_wait for
 * room, now and then for the mutex. Stack sampling must not hand its
 * condition-variable time to its rarer mutex waits.
 *
 *   prodcons SECONDS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

#define QUEUE_LEN 4

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static unsigned long queued, produced, consumed;
static double stop_at;
static int done;

__attribute__((noinline)) static void wait_for_room(void)
{
	while (queued == QUEUE_LEN && !done)
		pthread_cond_wait(&not_full, &queue_lock);
}

__attribute__((noinline)) static void *producer(void *arg)
{
	(void)arg;
	/* named, so that a verdict names the consumer */
	pthread_setname_np(pthread_self(), "producer");
	for (;;) {
		pthread_mutex_lock(&queue_lock);
		wait_for_room();
		if (done) {
			pthread_mutex_unlock(&queue_lock);
			return NULL;
		}
		queued++;
		produced++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&queue_lock);
	}
}

/* about 50 us of work an item, with the lock held a little: the producer
 * meets it held now and then */
__attribute__((noinline)) static unsigned long work_on_item(unsigned long seed)
{
	double until = now_s() + 50e-6;
	unsigned long x = seed;

	while (now_s() < until)
		x = x * 6364136223846793005UL + 1;
	return x;
}

__attribute__((noinline)) static void *consumer(void *arg)
{
	unsigned long x = 1;

	(void)arg;
	pthread_setname_np(pthread_self(), "consumer");
	while (now_s() < stop_at) {
		pthread_mutex_lock(&queue_lock);
		while (!queued)
			pthread_cond_wait(&not_empty, &queue_lock);
		queued--;
		consumed++;
		x = work_on_item(x);
		pthread_cond_signal(&not_full);
		pthread_mutex_unlock(&queue_lock);
		x = work_on_item(x);
	}
	pthread_mutex_lock(&queue_lock);
	done = 1;
	pthread_cond_broadcast(&not_full);
	pthread_mutex_unlock(&queue_lock);
	return (void *)x;
}

int main(int argc, char **argv)
{
	pthread_t p, c;

	stop_at = now_s() + (argc > 1 ? atof(argv[1]) : 1.0);
	if (pthread_create(&p, NULL, producer, NULL) || pthread_create(&c, NULL, consumer, NULL))
		return 1;
	pthread_join(c, NULL);
	pthread_join(p, NULL);
	printf("produced %lu consumed %lu\n", produced, consumed);
	return 0;
}
