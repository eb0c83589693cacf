/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* weft-work: one task split into independent units, run in one of six
 * concurrency models. This header is the common core shared by the models,
 * the CLI and the tests: options, the unit split, the per-unit functions and
 * the checksum that every model must reproduce.
 *
 * The library keeps state in globals (the gil, the threads' work queue) so
 * that a symbolizer names them; runs are therefore not reentrant: one
 * work_run() at a time per process. Functions return 0 or a negative errno
 * and never exit; a failed run leaves a one-line reason in
 * work_result.errmsg.
 *
 * Functions named for a step of a model (cpu_unit, gil_acquire,
 * pool_dispatch, ...) are kept out of line so that stacks and flame graphs
 * show them. */
#ifndef __WEFT_WORK_H
#define __WEFT_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum work_task {
	WORK_TASK_CPU,
	WORK_TASK_IO,
	WORK_TASK_MIXED,
	WORK_TASK_COUNT,
};

enum work_mode {
	WORK_MODE_SYNC,
	WORK_MODE_THREADS,
	WORK_MODE_GIL,
	WORK_MODE_EVENTLOOP,
	WORK_MODE_PROCS,
	WORK_MODE_POOL,
	WORK_MODE_COUNT,
};

/* Defaults: 64 cpu units of 100M additions take about 1.5 s in one thread
 * on a current core (4.2e9 additions/s measured on a 2-core EPYC VM); 16 io
 * units of 60 ms take about 1 s one after another. */
#define WORK_DEFAULT_UNITS_CPU 64
#define WORK_DEFAULT_UNITS_IO 16
#define WORK_DEFAULT_SIZE 100000000LL
#define WORK_DEFAULT_LATENCY_MS 60
#define WORK_DEFAULT_SWITCH_INTERVAL_MS 5

#define WORK_MAX_WORKERS 256
#define WORK_MAX_UNITS 1000000L
#define WORK_MAX_SIZE 1000000000000LL
#define WORK_MAX_LATENCY_MS 60000
#define WORK_MAX_SWITCH_INTERVAL_MS 10000

/* Additions between two checks of the gil's drop request: about 60 us at
 * one addition per cycle, the order of CPython's eval-breaker checks. */
#define CPU_SLICE 262144

/* Bytes of the simulated reply that an io unit checksums. */
#define IO_REPLY_BYTES 1024

struct work_opts {
	enum work_task task;
	enum work_mode mode;
	int workers; /* threads or processes of the parallel models */
	long units;
	long long size; /* additions per cpu unit (cpu and mixed) */
	uint64_t latency_ns; /* wait of one io unit (io and mixed) */
	uint64_t switch_interval_ns; /* gil only */
	bool json;
	bool check; /* gil: count concurrent holders and handovers */
	/* Testing aid: the worker that runs this unit fails (a thread returns
	 * an error, a process kills itself with SIGKILL); -1 for none. */
	long die_at_unit;
};

struct work_result {
	uint64_t checksum; /* sum of unit_hash() over the units, mod 2^64 */
	double elapsed_s;
	int workers; /* threads or processes that ran units: 1 for sync and eventloop */
	/* gil with opts.check: the most threads that held the lock at once
	 * (must be 1) and the times the lock passed to another thread. */
	int gil_max_concurrent;
	uint64_t gil_handovers;
	char errmsg[256];
};

/* Returned by work_opts__parse() for --help. */
#define WORK_OPTS_HELP 1

/* Parses argv into opts (defaults applied). Returns 0, WORK_OPTS_HELP, or
 * -EINVAL with a one-line reason (no prefix, no newline) in errbuf. Resets
 * getopt's state, so it may be called repeatedly. */
int work_opts__parse(struct work_opts *opts, int argc, char **argv, char *errbuf, size_t errlen);
void work_opts__defaults(struct work_opts *opts, enum work_task task, enum work_mode mode);
void work_usage(FILE *f);

const char *work_task_name(enum work_task task);
const char *work_mode_name(enum work_mode mode);
int work_task_from_name(const char *name);
int work_mode_from_name(const char *name);

/* Runs opts->units units in opts->mode and fills res. 0 or a negative
 * errno; on error res->errmsg says why. */
int work_run(const struct work_opts *opts, struct work_result *res);

/* One line "model task units workers elapsed_s checksum", or with
 * opts->json one JSON object whose checksum is a string "0x" + 16 hex
 * digits (a JSON number cannot hold 64 bits exactly). */
int work_result__print(FILE *f, const struct work_opts *opts, const struct work_result *res);

/* Sets res->errmsg and returns err, for one-line error returns. */
int work_fail(struct work_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Static split of units over workers in contiguous blocks; the first
 * units % workers workers take one more. Worker w runs [*first, *first +
 * *count). */
void work_split(long units, int workers, int w, long *first, long *count);

/* The contribution of one unit to the checksum. Summing these makes the
 * checksum independent of the order in which units complete. */
uint64_t unit_hash(long unit, uint64_t value);

/* Where a model steps into a unit: between slices of compute (a gil holder
 * honours a drop request there) and around the blocking wait of an io
 * unit (the gil is released there). Any hook may be NULL. */
struct work_hooks {
	void (*between_slices)(void *ctx);
	void (*before_wait)(void *ctx);
	void (*after_wait)(void *ctx);
	void *ctx;
};

/* Runs one unit of opts->task and stores unit_hash() of its value. */
int work_unit(const struct work_opts *opts, long unit, const struct work_hooks *hooks,
	      uint64_t *hash);

/* cpu: the sum of [unit * size, (unit + 1) * size), computed in slices of
 * CPU_SLICE additions. */
uint64_t cpu_unit(const struct work_opts *opts, long unit, const struct work_hooks *hooks);
uint64_t cpu_sum_range(uint64_t from, uint64_t to);

/* io: a blocking wait of latency_ns (clock_nanosleep), then the checksum of
 * the unit's simulated reply. */
int io_unit(const struct work_opts *opts, long unit, const struct work_hooks *hooks,
	    uint64_t *value);
int io_wait(uint64_t latency_ns);
uint64_t io_reply_checksum(long unit);

/* mixed: the io unit, then the cpu unit. */
int mixed_unit(const struct work_opts *opts, long unit, const struct work_hooks *hooks,
	       uint64_t *value);
uint64_t mixed_combine(uint64_t io_value, uint64_t cpu_value);

/* The models; each fills res->checksum and res->workers. */
int sync_run(const struct work_opts *opts, struct work_result *res);
int threads_run(const struct work_opts *opts, struct work_result *res);
int gil_run(const struct work_opts *opts, struct work_result *res);
int eventloop_run(const struct work_opts *opts, struct work_result *res);
int procs_run(const struct work_opts *opts, struct work_result *res);
int pool_run(const struct work_opts *opts, struct work_result *res);

/* Names the calling thread "<model>-w<index>" (its comm), so that reports
 * tell the workers from the main thread and from each other. */
void work_name_worker(enum work_mode mode, int index);

/* Pipe helpers of the process models: whole reads and writes across EINTR
 * and short transfers. read_full() returns the bytes read (less than len
 * only at EOF) or a negative errno. */
ssize_t read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);

/* waitpid() across EINTR: 0, or a negative errno. */
int reap_child(pid_t pid, int *status);

/* Describes a waitpid() status ("exited with status 1", "killed by signal
 * 9") into buf. */
const char *describe_status(int status, char *buf, size_t len);

/* Reaps worker process w of a process model; a worker that could not be
 * waited for or did not exit 0 fails the run, unless err already did:
 * returns the run's error so far. */
int reap_worker(pid_t pid, int w, struct work_result *res, int err);

/* A worker process closed its pipe: reaps it (clearing *pid) to say how
 * it ended, and fails the run with what the parent was doing. */
int fail_worker(pid_t *pid, int w, struct work_result *res, const char *what);

#endif /* __WEFT_WORK_H */
