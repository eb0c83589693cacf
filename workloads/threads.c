// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "work.h"

/* A thread-safe FIFO of unit numbers, as Python's queue.Queue behind a
 * ThreadPoolExecutor: the main thread submits, the workers take. Global so
 * that weft names its lock and condition variable `work_queue+...`. */
struct work_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	long *units;
	long head, tail;
	bool closed;
	/* Results, under lock. */
	uint64_t sum;
	int err;
	long failed_unit;
};

struct work_queue work_queue;

static const struct work_opts *threads_opts;

struct threads_worker_arg {
	pthread_t thread;
	int index;
};

__attribute__((noinline)) static void work_queue_push(struct work_queue *q, long unit)
{
	pthread_mutex_lock(&q->lock);
	q->units[q->tail++] = unit;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

static void work_queue_close(struct work_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

/* Returns false once the queue is closed and empty, or a worker failed. */
__attribute__((noinline)) static bool work_queue_pop(struct work_queue *q, long *unit)
{
	bool got = false;

	pthread_mutex_lock(&q->lock);
	while (q->head == q->tail && !q->closed && !q->err)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->head < q->tail && !q->err) {
		*unit = q->units[q->head++];
		got = true;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

static void *threads_worker(void *arg)
{
	struct threads_worker_arg *self = arg;
	struct work_queue *q = &work_queue;
	uint64_t sum = 0, hash;
	long unit;
	int err = 0;

	work_name_worker(WORK_MODE_THREADS, self->index);
	while (work_queue_pop(q, &unit)) {
		err = work_unit(threads_opts, unit, NULL, &hash);
		if (err)
			break;
		sum += hash;
	}
	pthread_mutex_lock(&q->lock);
	q->sum += sum;
	if (err && !q->err) {
		q->err = err;
		q->failed_unit = unit;
		/* Stop the others early: they check err before taking more. */
		pthread_cond_broadcast(&q->not_empty);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int threads_run(const struct work_opts *opts, struct work_result *res)
{
	struct work_queue *q = &work_queue;
	struct threads_worker_arg *workers;
	int started = 0, err = 0;

	memset(q, 0, sizeof(*q));
	workers = calloc(opts->workers, sizeof(*workers));
	q->units = malloc((opts->units ? opts->units : 1) * sizeof(*q->units));
	if (!workers || !q->units) {
		err = work_fail(res, -ENOMEM, "Failed to allocate the work queue");
		goto cleanup;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	threads_opts = opts;

	for (; started < opts->workers; started++) {
		workers[started].index = started;
		err = -pthread_create(&workers[started].thread, NULL, threads_worker,
				      &workers[started]);
		if (err) {
			work_fail(res, err, "Failed to create worker thread %d: %s", started,
				  strerror(-err));
			break;
		}
	}
	for (long unit = 0; unit < opts->units && !err; unit++)
		work_queue_push(q, unit);
	work_queue_close(q);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);

	res->workers = opts->workers;
	if (!err && q->err)
		err = work_fail(res, q->err, "worker thread failed at unit %ld: %s", q->failed_unit,
				strerror(-q->err));
	res->checksum = q->sum;
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
cleanup:
	free(q->units);
	q->units = NULL;
	free(workers);
	return err;
}
