// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gil.h"
#include "work.h"

struct gil gil;

/* The offsets gil.h promises to a tracer reading futex addresses. */
#if defined(__x86_64__) && defined(__GLIBC__)
_Static_assert(offsetof(struct gil, cond) == 0x28 && offsetof(struct gil, switch_mutex) == 0x58 &&
		       offsetof(struct gil, switch_cond) == 0x80 &&
		       offsetof(pthread_cond_t, __data.__g_signals) == 0x28,
	       "struct gil layout differs from what gil.h documents");
#endif

/* What the gil protects, as a Python interpreter's state: only the holder
 * reads or writes it. */
static struct {
	const struct work_opts *opts;
	long next_unit;
	uint64_t sum;
	int err;
	long failed_unit;
} gil_state;

/* --check: threads between gil_acquire() and gil_release() right now, and
 * the most seen. Counted outside gil.mutex, so two threads that both
 * believed they held the lock would show as 2. */
static bool gil_checking;
static atomic_int gil_check_holders;
static atomic_int gil_check_max;

struct gil_worker_state {
	struct gil_thread self;
	struct work_hooks hooks;
	pthread_t thread;
	int index;
};

static void gil_check_enter(void)
{
	int now = atomic_fetch_add(&gil_check_holders, 1) + 1;
	int max = atomic_load(&gil_check_max);

	while (now > max && !atomic_compare_exchange_weak(&gil_check_max, &max, now))
		;
}

void gil_drop_request(void)
{
	atomic_store(&gil.drop_request, 1);
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
	ts->tv_sec += ns / 1000000000ULL;
	ts->tv_nsec += ns % 1000000000ULL;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* CPython's take_gil(): wait in slices of one interval; only an interval
 * that passed with no change of holder earns a drop request, so a busy
 * lock is handed over about once per interval.
 *
 * One difference: the first interval counts from self->wanted_since when
 * set, the moment a forced switch took the lock away. CPython counts from
 * the call, which comes only once the woken thread gets a core again; when
 * both threads share one core (another process busy on the other) that
 * adds a scheduler slice to every handover, measured here as 8 ms instead
 * of 5. */
__attribute__((noinline)) void gil_acquire(struct gil_thread *self)
{
	struct timespec start = self->wanted_since, deadline;
	unsigned long saved;
	int err;

	if (!start.tv_sec && !start.tv_nsec)
		clock_gettime(CLOCK_MONOTONIC, &start);
	self->wanted_since = (struct timespec){};
	pthread_mutex_lock(&gil.mutex);
	while (atomic_load(&gil.locked)) {
		saved = gil.switch_number;
		deadline = start;
		deadline_after(&deadline, gil.interval_ns);
		err = pthread_cond_timedwait(&gil.cond, &gil.mutex, &deadline);
		if (err == ETIMEDOUT && atomic_load(&gil.locked) && gil.switch_number == saved)
			gil_drop_request();
		clock_gettime(CLOCK_MONOTONIC, &start);
	}
	/* Under switch_mutex so that a holder in a forced switch cannot miss
	 * the change of holder (see gil_release()). */
	pthread_mutex_lock(&gil.switch_mutex);
	atomic_store(&gil.locked, 1);
	if (gil.holder != self->tid) {
		gil.holder = self->tid;
		gil.switch_number++;
	}
	pthread_cond_signal(&gil.switch_cond);
	pthread_mutex_unlock(&gil.switch_mutex);
	/* Whoever takes the lock satisfies any pending request. */
	atomic_store(&gil.drop_request, 0);
	pthread_mutex_unlock(&gil.mutex);

	if (gil_checking)
		gil_check_enter();
}

/* CPython's drop_gil() with FORCE_SWITCHING: after a drop request the
 * releasing thread waits until another thread has taken the lock, or it
 * would usually take it straight back on the core it already runs on. */
__attribute__((noinline)) void gil_release(struct gil_thread *self)
{
	if (gil_checking)
		atomic_fetch_sub(&gil_check_holders, 1);

	pthread_mutex_lock(&gil.mutex);
	atomic_store(&gil.locked, 0);
	pthread_cond_signal(&gil.cond);
	pthread_mutex_unlock(&gil.mutex);

	if (atomic_load(&gil.drop_request)) {
		pthread_mutex_lock(&gil.switch_mutex);
		if (gil.holder == self->tid) {
			atomic_store(&gil.drop_request, 0);
			/* A request is set only by a thread waiting in
			 * gil_acquire(), which was just signalled: it, or another
			 * waiter, will take the lock and end this wait. */
			while (gil.holder == self->tid)
				pthread_cond_wait(&gil.switch_cond, &gil.switch_mutex);
		}
		pthread_mutex_unlock(&gil.switch_mutex);
	}
}

__attribute__((noinline)) void gil_yield(struct gil_thread *self)
{
	if (!atomic_load_explicit(&gil.drop_request, memory_order_relaxed))
		return;
	clock_gettime(CLOCK_MONOTONIC, &self->wanted_since);
	gil_release(self);
	gil_acquire(self);
}

static void gil_yield_between_slices(void *ctx)
{
	gil_yield(ctx);
}

static void gil_release_for_wait(void *ctx)
{
	gil_release(ctx);
}

static void gil_acquire_after_wait(void *ctx)
{
	gil_acquire(ctx);
}

static void *gil_worker(void *arg)
{
	struct gil_worker_state *w = arg;
	const struct work_opts *opts = gil_state.opts;
	uint64_t hash;
	long unit;
	int err;

	w->self.tid = gettid();
	work_name_worker(WORK_MODE_GIL, w->index);
	gil_acquire(&w->self);
	while (!gil_state.err && gil_state.next_unit < opts->units) {
		unit = gil_state.next_unit++;
		err = work_unit(opts, unit, &w->hooks, &hash);
		if (err) {
			gil_state.err = err;
			gil_state.failed_unit = unit;
			break;
		}
		gil_state.sum += hash;
	}
	gil_release(&w->self);
	return NULL;
}

static void gil_init(uint64_t interval_ns)
{
	pthread_condattr_t attr;

	memset(&gil, 0, sizeof(gil));
	pthread_mutex_init(&gil.mutex, NULL);
	pthread_mutex_init(&gil.switch_mutex, NULL);
	/* Timed waits against CLOCK_MONOTONIC: a clock step must not
	 * stretch or cut a switch interval. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&gil.cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&gil.switch_cond, NULL);
	gil.interval_ns = interval_ns;
}

static void gil_destroy(void)
{
	pthread_cond_destroy(&gil.switch_cond);
	pthread_cond_destroy(&gil.cond);
	pthread_mutex_destroy(&gil.switch_mutex);
	pthread_mutex_destroy(&gil.mutex);
}

int gil_run(const struct work_opts *opts, struct work_result *res)
{
	struct gil_worker_state *workers;
	struct gil_thread main_thread = {};
	int started = 0, err = 0;

	workers = calloc(opts->workers, sizeof(*workers));
	if (!workers)
		return work_fail(res, -ENOMEM, "Failed to allocate %d gil workers", opts->workers);
	gil_init(opts->switch_interval_ns);
	memset(&gil_state, 0, sizeof(gil_state));
	gil_state.opts = opts;
	gil_checking = opts->check;
	atomic_store(&gil_check_holders, 0);
	atomic_store(&gil_check_max, 0);

	for (; started < opts->workers; started++) {
		struct gil_worker_state *w = &workers[started];

		w->index = started;
		w->hooks.between_slices = gil_yield_between_slices;
		w->hooks.before_wait = gil_release_for_wait;
		w->hooks.after_wait = gil_acquire_after_wait;
		w->hooks.ctx = &w->self;
		err = -pthread_create(&w->thread, NULL, gil_worker, w);
		if (err)
			break;
	}
	if (err) {
		/* Stop the started workers the way they read state: under the gil. */
		main_thread.tid = gettid();
		gil_acquire(&main_thread);
		gil_state.err = err;
		gil_release(&main_thread);
		work_fail(res, err, "Failed to create gil worker thread %d: %s", started,
			  strerror(-err));
	}
	for (int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);

	res->workers = opts->workers;
	res->checksum = gil_state.sum;
	res->gil_max_concurrent = atomic_load(&gil_check_max);
	res->gil_handovers = gil.switch_number ? gil.switch_number - 1 : 0;
	if (!err && gil_state.err)
		err = work_fail(res, gil_state.err, "gil worker failed at unit %ld: %s",
				gil_state.failed_unit, strerror(-gil_state.err));
	gil_destroy();
	free(workers);
	return err;
}
