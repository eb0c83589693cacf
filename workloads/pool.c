// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "work.h"

/* Messages are single writes of less than PIPE_BUF bytes: each arrives
 * whole. The parent sends a unit number; the worker answers with the unit
 * and its hash, which is also its request for the next unit. */
struct pool_reply {
	long unit;
	uint64_t hash;
};

struct pool_child {
	pid_t pid;
	int task_fd; /* parent writes unit numbers; closed to stop the worker */
	int result_fd; /* parent reads replies */
	long outstanding; /* unit sent and not answered yet, or -1 */
	struct pool_reply msg;
	size_t have; /* bytes of msg read so far */
	bool done; /* EOF seen on result_fd */
};

static void __attribute__((noreturn))
pool_worker(const struct work_opts *opts, int index, int task_fd, int result_fd)
{
	struct pool_reply reply;
	ssize_t n;
	long unit;

	work_name_worker(WORK_MODE_POOL, index);
	for (;;) {
		n = read_full(task_fd, &unit, sizeof(unit));
		if (n == 0)
			_exit(0);
		if (n != sizeof(unit))
			_exit(1);
		if (unit == opts->die_at_unit)
			raise(SIGKILL);
		reply.unit = unit;
		if (work_unit(opts, unit, NULL, &reply.hash))
			_exit(1);
		if (write_full(result_fd, &reply, sizeof(reply)))
			_exit(1);
	}
}

static void pool_stop_worker(struct pool_child *c)
{
	if (c->task_fd >= 0)
		close(c->task_fd);
	c->task_fd = -1;
}

/* Hands the next unit to a worker that is idle, or stops it when none are
 * left. A write to a dead worker fails with EPIPE (SIGPIPE is ignored). */
static int pool_send_unit(const struct work_opts *opts, struct pool_child *c, int w,
			  long *next_unit, struct work_result *res)
{
	long unit = *next_unit;

	if (unit >= opts->units) {
		pool_stop_worker(c);
		return 0;
	}
	if (write_full(c->task_fd, &unit, sizeof(unit)))
		return fail_worker(&c->pid, w, res, "cannot take a unit");
	c->outstanding = unit;
	(*next_unit)++;
	return 0;
}

__attribute__((noinline)) static int pool_dispatch(const struct work_opts *opts,
						   struct pool_child *children, uint64_t *sum,
						   struct work_result *res)
{
	struct pollfd *pfds;
	int *index, live = opts->workers, n, err = 0;
	long next_unit = 0;
	ssize_t got;

	pfds = calloc(opts->workers, sizeof(*pfds));
	index = calloc(opts->workers, sizeof(*index));
	if (!pfds || !index) {
		err = work_fail(res, -ENOMEM, "Failed to allocate poll set");
		goto cleanup;
	}
	for (int w = 0; w < opts->workers && !err; w++)
		err = pool_send_unit(opts, &children[w], w, &next_unit, res);

	while (live > 0 && !err) {
		n = 0;
		for (int w = 0; w < opts->workers; w++) {
			if (children[w].done)
				continue;
			pfds[n].fd = children[w].result_fd;
			pfds[n].events = POLLIN;
			index[n++] = w;
		}
		if (poll(pfds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = work_fail(res, -errno, "poll failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !err; i++) {
			struct pool_child *c = &children[index[i]];

			if (!pfds[i].revents)
				continue;
			got = read(c->result_fd, (char *)&c->msg + c->have,
				   sizeof(c->msg) - c->have);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				err = work_fail(res, -errno, "Failed to read from worker %d: %s",
						index[i], strerror(errno));
				break;
			}
			if (got == 0) {
				/* EOF is expected only from a worker told to stop. */
				if (c->outstanding >= 0 || c->have) {
					char what[64];

					snprintf(what, sizeof(what), "ended while running unit %ld",
						 c->outstanding);
					err = fail_worker(&c->pid, index[i], res, what);
					break;
				}
				c->done = true;
				live--;
				continue;
			}
			c->have += got;
			if (c->have < sizeof(c->msg))
				continue;
			if (c->msg.unit != c->outstanding) {
				err = work_fail(res, -EPROTO,
						"worker %d answered unit %ld, expected %ld",
						index[i], c->msg.unit, c->outstanding);
				break;
			}
			*sum += c->msg.hash;
			c->have = 0;
			c->outstanding = -1;
			err = pool_send_unit(opts, c, index[i], &next_unit, res);
		}
	}
cleanup:
	free(pfds);
	free(index);
	return err;
}

int pool_run(const struct work_opts *opts, struct work_result *res)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	int task_pipe[2], result_pipe[2], started = 0, err = 0;
	struct pool_child *children;
	uint64_t sum = 0;

	children = calloc(opts->workers, sizeof(*children));
	if (!children)
		return work_fail(res, -ENOMEM, "Failed to allocate %d workers", opts->workers);
	for (int w = 0; w < opts->workers; w++) {
		children[w].task_fd = children[w].result_fd = -1;
		children[w].outstanding = -1;
	}
	sigaction(SIGPIPE, &ign, &old_pipe);
	/* Anything buffered would be written once per child otherwise. */
	fflush(NULL);

	for (; started < opts->workers; started++) {
		struct pool_child *c = &children[started];

		if (pipe2(task_pipe, O_CLOEXEC)) {
			err = work_fail(res, -errno, "Failed to create pipe: %s", strerror(errno));
			break;
		}
		if (pipe2(result_pipe, O_CLOEXEC)) {
			err = work_fail(res, -errno, "Failed to create pipe: %s", strerror(errno));
			close(task_pipe[0]);
			close(task_pipe[1]);
			break;
		}
		c->pid = fork();
		if (c->pid < 0) {
			err = work_fail(res, -errno, "Failed to fork worker %d: %s", started,
					strerror(errno));
			c->pid = 0;
			close(task_pipe[0]);
			close(task_pipe[1]);
			close(result_pipe[0]);
			close(result_pipe[1]);
			break;
		}
		if (c->pid == 0) {
			/* Holding another worker's task pipe open would keep
			 * that worker from ever seeing its stop (EOF). */
			for (int w = 0; w < started; w++) {
				close(children[w].task_fd);
				close(children[w].result_fd);
			}
			close(task_pipe[1]);
			close(result_pipe[0]);
			pool_worker(opts, started, task_pipe[0], result_pipe[1]);
		}
		close(task_pipe[0]);
		close(result_pipe[1]);
		c->task_fd = task_pipe[1];
		c->result_fd = result_pipe[0];
	}

	res->workers = opts->workers;
	if (!err)
		err = pool_dispatch(opts, children, &sum, res);

	for (int w = 0; w < started; w++) {
		struct pool_child *c = &children[w];

		if (err && c->pid > 0)
			kill(c->pid, SIGKILL);
		pool_stop_worker(c);
		if (c->result_fd >= 0)
			close(c->result_fd);
	}
	for (int w = 0; w < started; w++) {
		struct pool_child *c = &children[w];

		if (c->pid <= 0)
			continue;
		err = reap_worker(c->pid, w, res, err);
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (!err)
		res->checksum = sum;
	free(children);
	return err;
}
