// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* N threads contend one global mutex with a short critical section: the
 * locks table must name it by its symbol, shared_lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long shared_counter;
static double seconds = 0.5;

__attribute__((noinline)) static void critical_section(void)
{
	unsigned long i;

	for (i = 0; i < 2000; i++) {
		shared_counter++;
		__asm__ volatile("" ::: "memory");
	}
}

static void *contender(void *arg)
{
	double end = now_s() + seconds;
	unsigned long outside, i;

	(void)arg;
	while (now_s() < end) {
		pthread_mutex_lock(&shared_lock);
		critical_section();
		pthread_mutex_unlock(&shared_lock);
		for (outside = 0, i = 0; i < 500; i++)
			__asm__ volatile("" : "+r"(outside));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4, i;
	pthread_t *t;

	if (argc > 2)
		seconds = atof(argv[2]);
	t = calloc(threads, sizeof(*t));
	for (i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, contender, NULL);
	for (i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("%lu\n", shared_counter);
	free(t);
	return 0;
}
