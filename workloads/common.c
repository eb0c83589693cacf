// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "work.h"

static const char *const task_names[WORK_TASK_COUNT] = {
	[WORK_TASK_CPU] = "cpu",
	[WORK_TASK_IO] = "io",
	[WORK_TASK_MIXED] = "mixed",
};

/* One table from mode name to model, as bpftool dispatches subcommands. */
static const struct {
	const char *name;
	int (*run)(const struct work_opts *opts, struct work_result *res);
} models[WORK_MODE_COUNT] = {
	[WORK_MODE_SYNC] = { "sync", sync_run },
	[WORK_MODE_THREADS] = { "threads", threads_run },
	[WORK_MODE_GIL] = { "gil", gil_run },
	[WORK_MODE_EVENTLOOP] = { "eventloop", eventloop_run },
	[WORK_MODE_PROCS] = { "procs", procs_run },
	[WORK_MODE_POOL] = { "pool", pool_run },
};

const char *work_task_name(enum work_task task)
{
	return (unsigned)task < WORK_TASK_COUNT ? task_names[task] : "?";
}

const char *work_mode_name(enum work_mode mode)
{
	return (unsigned)mode < WORK_MODE_COUNT ? models[mode].name : "?";
}

int work_task_from_name(const char *name)
{
	for (int i = 0; i < WORK_TASK_COUNT; i++)
		if (!strcmp(name, task_names[i]))
			return i;
	return -EINVAL;
}

int work_mode_from_name(const char *name)
{
	for (int i = 0; i < WORK_MODE_COUNT; i++)
		if (!strcmp(name, models[i].name))
			return i;
	return -EINVAL;
}

int work_fail(struct work_result *res, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->errmsg, sizeof(res->errmsg), fmt, ap);
	va_end(ap);
	return err;
}

void work_split(long units, int workers, int w, long *first, long *count)
{
	long base = units / workers, extra = units % workers;

	*count = base + (w < extra);
	*first = w * base + (w < extra ? w : extra);
}

/* splitmix64's finalizer: every input bit reaches every output bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t unit_hash(long unit, uint64_t value)
{
	return mix64(value ^ mix64((uint64_t)unit + 0x9e3779b97f4a7c15ULL));
}

uint64_t mixed_combine(uint64_t io_value, uint64_t cpu_value)
{
	return mix64(io_value) + cpu_value;
}

int work_unit(const struct work_opts *opts, long unit, const struct work_hooks *hooks,
	      uint64_t *hash)
{
	uint64_t value = 0;
	int err = 0;

	if (unit == opts->die_at_unit)
		return -ECANCELED;
	switch (opts->task) {
	case WORK_TASK_CPU:
		value = cpu_unit(opts, unit, hooks);
		break;
	case WORK_TASK_IO:
		err = io_unit(opts, unit, hooks, &value);
		break;
	case WORK_TASK_MIXED:
		err = mixed_unit(opts, unit, hooks, &value);
		break;
	default:
		err = -EINVAL;
	}
	if (!err)
		*hash = unit_hash(unit, value);
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int work_run(const struct work_opts *opts, struct work_result *res)
{
	double start;
	int err;

	memset(res, 0, sizeof(*res));
	if ((unsigned)opts->mode >= WORK_MODE_COUNT || (unsigned)opts->task >= WORK_TASK_COUNT ||
	    opts->workers < 1 || opts->workers > WORK_MAX_WORKERS || opts->units < 0 ||
	    opts->units > WORK_MAX_UNITS || opts->size < 1 || opts->size > WORK_MAX_SIZE ||
	    opts->switch_interval_ns < 1)
		return work_fail(res, -EINVAL, "invalid options");

	start = now_s();
	err = models[opts->mode].run(opts, res);
	res->elapsed_s = now_s() - start;
	if (err && !res->errmsg[0])
		work_fail(res, err, "%s model failed: %s", models[opts->mode].name, strerror(-err));
	return err;
}

int work_result__print(FILE *f, const struct work_opts *opts, const struct work_result *res)
{
	const char *model = work_mode_name(opts->mode), *task = work_task_name(opts->task);
	bool gil_keys = opts->check && opts->mode == WORK_MODE_GIL;

	if (!opts->json) {
		fprintf(f, "%s %s %ld %d %.6f 0x%016" PRIx64 "\n", model, task, opts->units,
			res->workers, res->elapsed_s, res->checksum);
	} else {
		fprintf(f,
			"{\"model\":\"%s\",\"task\":\"%s\",\"units\":%ld,\"workers\":%d,"
			"\"elapsed_s\":%.6f,\"checksum\":\"0x%016" PRIx64 "\"",
			model, task, opts->units, res->workers, res->elapsed_s, res->checksum);
		if (gil_keys)
			fprintf(f, ",\"gil_max_concurrent\":%d,\"gil_handovers\":%" PRIu64,
				res->gil_max_concurrent, res->gil_handovers);
		fprintf(f, "}\n");
	}
	return ferror(f) ? -EIO : 0;
}

void work_name_worker(enum work_mode mode, int index)
{
	char name[16];

	snprintf(name, sizeof(name), "%s-w%d", work_mode_name(mode), index);
	prctl(PR_SET_NAME, name);
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

int reap_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int reap_worker(pid_t pid, int w, struct work_result *res, int err)
{
	char how[96];
	int status;

	if (reap_child(pid, &status))
		return err ? err :
			     work_fail(res, -ECHILD, "Failed to wait for worker process %d", w);
	if (!err && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		err = work_fail(res, -ECHILD, "worker process %d %s", w,
				describe_status(status, how, sizeof(how)));
	return err;
}

int fail_worker(pid_t *pid, int w, struct work_result *res, const char *what)
{
	char how[96];
	int status;

	if (!reap_child(*pid, &status)) {
		*pid = 0;
		return work_fail(res, -EPIPE, "worker process %d %s: %s", w, what,
				 describe_status(status, how, sizeof(how)));
	}
	return work_fail(res, -EPIPE, "worker process %d %s", w, what);
}

const char *describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "wait status 0x%x", status);
	return buf;
}
