// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Two threads hand a token back and forth through a futex: each wakes the
 * other and blocks, so every handoff is two context switches. With -c CPU
 * both are pinned to that CPU (the most switches a machine can do), with -x
 * one runs on each of CPUs 0 and 1. Prints each thread's own accounting
 * (oracle.h). */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oracle.h"

static _Atomic int token;
static long iterations = 100000;
static int pin_cpu = -1, cross;

static void futex_wait(_Atomic int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

__attribute__((noinline)) static void *player(void *arg)
{
	int me = (int)(long)arg, other = !me;
	long i;

	pin_to(cross ? me : pin_cpu);
	for (i = 0; i < iterations; i++) {
		while (atomic_load(&token) != me)
			futex_wait(&token, other);
		atomic_store(&token, other);
		futex_wake(&token);
	}
	print_own_accounting();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t a, b;
	int opt;

	while ((opt = getopt(argc, argv, "n:c:x")) != -1) {
		switch (opt) {
		case 'n':
			iterations = atol(optarg);
			break;
		case 'c':
			pin_cpu = atoi(optarg);
			break;
		case 'x':
			cross = 1;
			break;
		default:
			fprintf(stderr, "usage: pingpong [-n ITERATIONS] [-c CPU | -x]\n");
			return 2;
		}
	}
	pthread_create(&a, NULL, player, (void *)0L);
	pthread_create(&b, NULL, player, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
