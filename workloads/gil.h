/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A global interpreter lock modelled on CPython's since 3.2
 * (Python/ceval_gil.h, with FORCE_SWITCHING): threads compute only while
 * they hold it; a thread that wants it waits on cond in timed waits of one
 * switch interval and, if the lock did not change hands meanwhile, sets
 * drop_request; the holder checks drop_request between slices of work,
 * releases, and waits on switch_cond until another thread has taken the
 * lock, so it cannot take it straight back.
 *
 * There is one lock, the global `gil`, so that a symbolizer names the
 * futex words it contains. On x86-64 glibc (checked in gil.c): threads
 * waiting for the lock sleep on gil.cond, a futex at gil+0x50 or gil+0x54
 * (the condvar's __g_signals); a holder forced to switch sleeps on
 * gil.switch_cond, gil+0xa8 or gil+0xac; the short critical sections of
 * gil.mutex (gil+0x0) and gil.switch_mutex (gil+0x58) rarely block. It is
 * set up by gil_run() and used by one run at a time. */
#ifndef __WEFT_GIL_H
#define __WEFT_GIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct gil {
	pthread_mutex_t mutex; /* protects locked, holder, switch_number */
	pthread_cond_t cond; /* signalled on every release */
	pthread_mutex_t switch_mutex; /* orders holder changes with forced switches */
	pthread_cond_t switch_cond; /* signalled when a thread takes the lock */
	atomic_int locked;
	/* Read by the holder without the mutex between slices of work. */
	atomic_int drop_request;
	unsigned long switch_number; /* times the lock changed holder, first take included */
	pid_t holder; /* tid of the last thread that took it (CPython's last_holder) */
	uint64_t interval_ns;
};

extern struct gil gil;

/* A thread that takes part in the gil; its tid is what gil.holder holds. */
struct gil_thread {
	pid_t tid;
	/* CLOCK_MONOTONIC time since which the thread has wanted the lock, for
	 * its next gil_acquire(); zero means from the call. */
	struct timespec wanted_since;
};

void gil_acquire(struct gil_thread *self);
/* Releases; if a drop request is pending and no thread has taken the lock
 * yet, waits until one has (the forced switch). */
void gil_release(struct gil_thread *self);
/* Called by a waiter whose interval passed without a switch. */
void gil_drop_request(void);
/* Called by the holder between slices: releases and takes the lock again
 * if another thread asked for it. */
void gil_yield(struct gil_thread *self);

#endif /* __WEFT_GIL_H */
