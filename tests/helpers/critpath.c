// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Programs whose critical path is known, for weft critical:
 *
 *   critpath pipeline ITEMS   three stages joined by pipes: read (20 us an
 *                             item) -> heavy (500 us) -> write (20 us); the
 *                             heavy stage carries the path
 *   critpath forkjoin MS      two workers, long (3 * MS of work) and short
 *                             (MS); main joins both: the long one is on the
 *                             path, the short one is not
 *   critpath holder MS        holder takes the_lock and sleeps MS in it; the
 *                             waiter blocks on it meanwhile, then works 10
 *                             ms: the holder's sleep is on the path, inside
 *                             the_lock
 *
 * Threads are named (stage-read, stage-heavy, stage-write, fj-long,
 * fj-short, holder, waiter) so the tests find them by name.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

/* us of CPU work, read from the thread's own CPU clock, so that time
 * queued behind other programs does not count as work done */
__attribute__((noinline)) static void spin_us(double us)
{
	struct timespec ts;
	double until;
	unsigned long x = sink;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	until = ts.tv_sec + ts.tv_nsec * 1e-9 + us * 1e-6;
	do {
		for (int i = 0; i < 200; i++)
			x = x * 6364136223846793005UL + 1;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	} while (ts.tv_sec + ts.tv_nsec * 1e-9 < until);
	sink = x;
}

/* ---- pipeline ---- */

static int p_in[2], p_out[2];
static long items;

__attribute__((noinline)) static void *stage_read(void *arg)
{
	long i;

	(void)arg;
	pthread_setname_np(pthread_self(), "stage-read");
	for (i = 0; i < items; i++) {
		spin_us(20);
		if (write(p_in[1], &i, sizeof(i)) != sizeof(i))
			exit(1);
	}
	close(p_in[1]);
	return NULL;
}

__attribute__((noinline)) static void heavy_work(void)
{
	spin_us(500);
}

__attribute__((noinline)) static void *stage_heavy(void *arg)
{
	long v;

	(void)arg;
	pthread_setname_np(pthread_self(), "stage-heavy");
	while (read(p_in[0], &v, sizeof(v)) == sizeof(v)) {
		heavy_work();
		if (write(p_out[1], &v, sizeof(v)) != sizeof(v))
			exit(1);
	}
	close(p_out[1]);
	return NULL;
}

__attribute__((noinline)) static void *stage_write(void *arg)
{
	long v, n = 0;

	(void)arg;
	pthread_setname_np(pthread_self(), "stage-write");
	while (read(p_out[0], &v, sizeof(v)) == sizeof(v)) {
		spin_us(20);
		n++;
	}
	return (void *)n;
}

static int pipeline(long n)
{
	pthread_t t[3];
	void *got;

	items = n;
	if (pipe(p_in) || pipe(p_out))
		return 1;
	if (pthread_create(&t[0], NULL, stage_read, NULL) ||
	    pthread_create(&t[1], NULL, stage_heavy, NULL) ||
	    pthread_create(&t[2], NULL, stage_write, NULL))
		return 1;
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	pthread_join(t[2], &got);
	printf("pipeline %ld items\n", (long)got);
	return (long)got == n ? 0 : 1;
}

/* ---- fork-join ---- */

static double work_ms;

__attribute__((noinline)) static void *fj_long(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "fj-long");
	spin_us(3 * work_ms * 1000);
	return NULL;
}

__attribute__((noinline)) static void *fj_short(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "fj-short");
	spin_us(work_ms * 1000);
	return NULL;
}

static int forkjoin(double ms)
{
	pthread_t a, b;

	work_ms = ms;
	if (pthread_create(&a, NULL, fj_long, NULL) || pthread_create(&b, NULL, fj_short, NULL))
		return 1;
	pthread_join(b, NULL);
	pthread_join(a, NULL);
	printf("forkjoin done\n");
	return 0;
}

/* ---- a holder that sleeps in the lock ---- */

static pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t taken = PTHREAD_COND_INITIALIZER;
static int holding;
static double sleep_ms;

__attribute__((noinline)) static void sleep_in_lock(void)
{
	struct timespec ts = { (time_t)(sleep_ms / 1000),
			       (long)((sleep_ms - 1000 * (long)(sleep_ms / 1000)) * 1e6) };

	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void *holder(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&the_lock);
	pthread_mutex_lock(&gate);
	holding = 1;
	pthread_cond_signal(&taken);
	pthread_mutex_unlock(&gate);
	sleep_in_lock();
	pthread_mutex_unlock(&the_lock);
	return NULL;
}

__attribute__((noinline)) static void *waiter(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	pthread_mutex_lock(&gate);
	while (!holding)
		pthread_cond_wait(&taken, &gate);
	pthread_mutex_unlock(&gate);
	pthread_mutex_lock(&the_lock);
	spin_us(10000);
	pthread_mutex_unlock(&the_lock);
	return NULL;
}

static int holder_sleeps(double ms)
{
	pthread_t h, w;

	sleep_ms = ms;
	if (pthread_create(&h, NULL, holder, NULL) || pthread_create(&w, NULL, waiter, NULL))
		return 1;
	pthread_join(h, NULL);
	pthread_join(w, NULL);
	printf("holder done\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "pipeline"))
		return pipeline(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "forkjoin"))
		return forkjoin(atof(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "holder"))
		return holder_sleeps(atof(argv[2]));
	fprintf(stderr, "usage: critpath pipeline ITEMS | forkjoin MS | holder MS\n");
	return 2;
}
