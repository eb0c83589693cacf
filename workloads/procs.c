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

/* What a worker sends back, once, as its last act: one write of less than
 * PIPE_BUF bytes, so it arrives whole or not at all. */
struct procs_result {
	uint64_t sum;
	long units_done;
};

struct procs_child {
	pid_t pid;
	int fd; /* read end of its result pipe */
	long first, count;
	struct procs_result msg;
	size_t have; /* bytes of msg read so far */
	bool done;
};

/* Runs in the child; never returns to the caller's code. */
static void __attribute__((noreturn))
procs_worker(const struct work_opts *opts, int index, long first, long count, int fd)
{
	struct procs_result msg = {};
	uint64_t hash;

	work_name_worker(WORK_MODE_PROCS, index);
	for (long unit = first; unit < first + count; unit++) {
		if (unit == opts->die_at_unit)
			raise(SIGKILL);
		if (work_unit(opts, unit, NULL, &hash))
			_exit(1);
		msg.sum += hash;
		msg.units_done++;
	}
	_exit(write_full(fd, &msg, sizeof(msg)) ? 1 : 0);
}

/* Reads every worker's result as it comes, so that a worker that dies is
 * noticed at once, whatever the others are doing. */
__attribute__((noinline)) static int
procs_collect(const struct work_opts *opts, struct procs_child *children, struct work_result *res)
{
	struct pollfd *pfds;
	int *index, left = opts->workers, n, err = 0;
	ssize_t got;

	pfds = calloc(opts->workers, sizeof(*pfds));
	index = calloc(opts->workers, sizeof(*index));
	if (!pfds || !index) {
		err = work_fail(res, -ENOMEM, "Failed to allocate poll set");
		goto cleanup;
	}
	while (left > 0) {
		n = 0;
		for (int w = 0; w < opts->workers; w++) {
			if (children[w].done)
				continue;
			pfds[n].fd = children[w].fd;
			pfds[n].events = POLLIN;
			index[n++] = w;
		}
		if (poll(pfds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = work_fail(res, -errno, "poll failed: %s", strerror(errno));
			goto cleanup;
		}
		for (int i = 0; i < n; i++) {
			struct procs_child *c = &children[index[i]];

			if (!pfds[i].revents)
				continue;
			got = read(c->fd, (char *)&c->msg + c->have, sizeof(c->msg) - c->have);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				err = work_fail(res, -errno, "Failed to read from worker %d: %s",
						index[i], strerror(errno));
				goto cleanup;
			}
			if (got == 0) {
				err = fail_worker(&c->pid, index[i], res,
						  "ended without sending its result");
				goto cleanup;
			}
			c->have += got;
			if (c->have < sizeof(c->msg))
				continue;
			if (c->msg.units_done != c->count) {
				err = work_fail(res, -EPROTO, "worker %d ran %ld units, not %ld",
						index[i], c->msg.units_done, c->count);
				goto cleanup;
			}
			c->done = true;
			left--;
		}
	}
cleanup:
	free(pfds);
	free(index);
	return err;
}

int procs_run(const struct work_opts *opts, struct work_result *res)
{
	struct procs_child *children;
	int pipefd[2], started = 0, err = 0;
	uint64_t sum = 0;

	children = calloc(opts->workers, sizeof(*children));
	if (!children)
		return work_fail(res, -ENOMEM, "Failed to allocate %d workers", opts->workers);
	for (int w = 0; w < opts->workers; w++)
		children[w].fd = -1;
	/* Anything buffered would be written once per child otherwise. */
	fflush(NULL);

	for (; started < opts->workers; started++) {
		struct procs_child *c = &children[started];

		work_split(opts->units, opts->workers, started, &c->first, &c->count);
		if (pipe2(pipefd, O_CLOEXEC)) {
			err = work_fail(res, -errno, "Failed to create pipe: %s", strerror(errno));
			break;
		}
		c->pid = fork();
		if (c->pid < 0) {
			err = work_fail(res, -errno, "Failed to fork worker %d: %s", started,
					strerror(errno));
			c->pid = 0;
			close(pipefd[0]);
			close(pipefd[1]);
			break;
		}
		if (c->pid == 0) {
			close(pipefd[0]);
			for (int w = 0; w < started; w++)
				close(children[w].fd);
			procs_worker(opts, started, c->first, c->count, pipefd[1]);
		}
		close(pipefd[1]);
		c->fd = pipefd[0];
	}

	res->workers = opts->workers;
	if (!err)
		err = procs_collect(opts, children, res);

	for (int w = 0; w < started; w++) {
		struct procs_child *c = &children[w];

		/* After a failure nobody waits for the rest: stop them. */
		if (err && c->pid > 0)
			kill(c->pid, SIGKILL);
		if (c->fd >= 0)
			close(c->fd);
	}
	for (int w = 0; w < started; w++) {
		struct procs_child *c = &children[w];

		if (c->pid <= 0)
			continue;
		err = reap_worker(c->pid, w, res, err);
		sum += c->msg.sum;
	}
	if (!err)
		res->checksum = sum;
	free(children);
	return err;
}
