// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "work.h"

#define EVENTLOOP_MAX_EVENTS 64
/* File descriptors left to the rest of the process when the timers take
 * the others. */
#define EVENTLOOP_SPARE_FDS 64

/* One outstanding request: a timerfd armed for one unit. */
struct eventloop_timer {
	int fd;
	long unit;
};

struct eventloop {
	const struct work_opts *opts;
	int epfd;
	struct eventloop_timer *timers;
	long ntimers;
	long next_unit; /* the next unit to start */
	long done;
	uint64_t sum;
};

/* Every unit is a request whose reply arrives when its timer fires: after
 * --latency for io and mixed, at once for cpu (a zero-delay callback, as
 * asyncio's call_soon). A zero it_value would disarm the timer, so "at
 * once" is 1 ns. */
static int eventloop_start_unit(struct eventloop *loop, struct eventloop_timer *t)
{
	uint64_t ns = loop->opts->task == WORK_TASK_CPU ? 0 : loop->opts->latency_ns;
	struct itimerspec its = {};

	if (!ns)
		ns = 1;
	its.it_value.tv_sec = ns / 1000000000ULL;
	its.it_value.tv_nsec = ns % 1000000000ULL;
	t->unit = loop->next_unit++;
	if (timerfd_settime(t->fd, 0, &its, NULL))
		return -errno;
	return 0;
}

/* The unit's callback: runs inline and holds the loop, as a coroutine
 * that computes without awaiting. */
__attribute__((noinline)) static uint64_t eventloop_on_reply(struct eventloop *loop, long unit)
{
	const struct work_opts *opts = loop->opts;
	uint64_t value = 0;

	switch (opts->task) {
	case WORK_TASK_CPU:
		value = cpu_unit(opts, unit, NULL);
		break;
	case WORK_TASK_IO:
		value = io_reply_checksum(unit);
		break;
	case WORK_TASK_MIXED:
		value = mixed_combine(io_reply_checksum(unit), cpu_unit(opts, unit, NULL));
		break;
	default:
		break;
	}
	return unit_hash(unit, value);
}

/* As many timers as units, all armed at once, unless the descriptor limit
 * is lower: then later units start as earlier ones finish. */
static long eventloop_max_timers(long units)
{
	struct rlimit rl;
	long max = 65536;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    (long)rl.rlim_cur - EVENTLOOP_SPARE_FDS < max)
		max = (long)rl.rlim_cur - EVENTLOOP_SPARE_FDS;
	if (max < 1)
		max = 1;
	return units < max ? units : max;
}

static int eventloop_setup(struct eventloop *loop, struct work_result *res)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return work_fail(res, -errno, "Failed to create epoll instance: %s",
				 strerror(errno));
	loop->ntimers = eventloop_max_timers(loop->opts->units);
	loop->timers = calloc(loop->ntimers ? loop->ntimers : 1, sizeof(*loop->timers));
	if (!loop->timers)
		return work_fail(res, -ENOMEM, "Failed to allocate %ld timers", loop->ntimers);
	for (long i = 0; i < loop->ntimers; i++)
		loop->timers[i].fd = -1;
	for (long i = 0; i < loop->ntimers; i++) {
		struct eventloop_timer *t = &loop->timers[i];

		t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (t->fd < 0)
			return work_fail(res, -errno, "Failed to create timerfd %ld: %s", i,
					 strerror(errno));
		ev.data.u64 = i;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, t->fd, &ev))
			return work_fail(res, -errno, "Failed to add timerfd to epoll: %s",
					 strerror(errno));
	}
	for (long i = 0; i < loop->ntimers; i++) {
		err = eventloop_start_unit(loop, &loop->timers[i]);
		if (err)
			return work_fail(res, err, "Failed to arm timerfd: %s", strerror(-err));
	}
	return 0;
}

__attribute__((noinline)) static int eventloop_loop(struct eventloop *loop, struct work_result *res)
{
	struct epoll_event events[EVENTLOOP_MAX_EVENTS];
	struct eventloop_timer *t;
	uint64_t expirations;
	int n, err;

	while (loop->done < loop->opts->units) {
		n = epoll_wait(loop->epfd, events, EVENTLOOP_MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return work_fail(res, -errno, "epoll_wait failed: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			t = &loop->timers[events[i].data.u64];
			if (read(t->fd, &expirations, sizeof(expirations)) < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return work_fail(res, -errno, "Failed to read timerfd: %s",
						 strerror(errno));
			}
			if (t->unit == loop->opts->die_at_unit)
				return work_fail(res, -ECANCELED, "unit %ld failed: %s", t->unit,
						 strerror(ECANCELED));
			loop->sum += eventloop_on_reply(loop, t->unit);
			loop->done++;
			if (loop->next_unit < loop->opts->units) {
				err = eventloop_start_unit(loop, t);
				if (err)
					return work_fail(res, err, "Failed to arm timerfd: %s",
							 strerror(-err));
			}
		}
	}
	return 0;
}

int eventloop_run(const struct work_opts *opts, struct work_result *res)
{
	struct eventloop loop = { .opts = opts, .epfd = -1 };
	int err;

	res->workers = 1;
	err = eventloop_setup(&loop, res);
	if (!err)
		err = eventloop_loop(&loop, res);
	if (!err)
		res->checksum = loop.sum;

	for (long i = 0; loop.timers && i < loop.ntimers; i++)
		if (loop.timers[i].fd >= 0)
			close(loop.timers[i].fd);
	free(loop.timers);
	if (loop.epfd >= 0)
		close(loop.epfd);
	return err;
}
