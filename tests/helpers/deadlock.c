// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Programs that hang, for weft stuck (tests/integration/test_stuck.py).
 * Each prints "ready" once its threads are on their way to block, then
 * stays hung until killed.
 *
 * usage: deadlock abba      payer and auditor take ledger_lock and
 *                           audit_lock in opposite orders
 *        deadlock cycle3    three threads, three locks, each holds one and
 *                           wants the next
 *        deadlock pipes     a parent and its child each read a pipe only
 *                           the other writes
 *        deadlock sockets   the same over a unix socket pair
 *        deadlock cond      a thread waits on a condition variable nobody
 *                           signals; main joins it
 *        deadlock held [S]  "holder" sleeps S seconds (default 600) with
 *                           held_lock, "waiter" waits for it
 *        deadlock many N    N threads wait on one condition variable */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_c = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t all_hold;
static unsigned int hold_s = 600;

struct pair {
	const char *name;
	pthread_mutex_t *first, *second;
};

/* Takes its first lock, waits until every other thread holds its own,
 * then blocks on its second: a deadlock every time, not by chance. */
static __attribute__((noinline)) void take_in_order(struct pair *p)
{
	pthread_mutex_lock(p->first);
	pthread_barrier_wait(&all_hold);
	pthread_mutex_lock(p->second);
	pthread_mutex_unlock(p->second);
	pthread_mutex_unlock(p->first);
}

static void *locker(void *arg)
{
	struct pair *p = arg;

	pthread_setname_np(pthread_self(), p->name);
	take_in_order(p);
	return NULL;
}

static int run_pairs(struct pair *pairs, int n)
{
	pthread_t t[8];
	int i;

	pthread_barrier_init(&all_hold, NULL, n);
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, locker, &pairs[i]);
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static __attribute__((noinline)) void wait_forever(void)
{
	pthread_mutex_lock(&never_lock);
	for (;;)
		pthread_cond_wait(&never_signalled, &never_lock);
}

static void *cond_waiter(void *arg)
{
	pthread_setname_np(pthread_self(), arg ? (const char *)arg : "waiter");
	wait_forever();
	return NULL;
}

static __attribute__((noinline)) void sleep_holding(void)
{
	pthread_mutex_lock(&held_lock);
	pthread_barrier_wait(&all_hold);
	sleep(hold_s);
	pthread_mutex_unlock(&held_lock);
}

static void *holder(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	sleep_holding();
	return NULL;
}

static __attribute__((noinline)) void wait_for_holder(void)
{
	pthread_mutex_lock(&held_lock);
	pthread_mutex_unlock(&held_lock);
}

static void *held_waiter(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	pthread_barrier_wait(&all_hold);
	wait_for_holder();
	return NULL;
}

/* Each side reads one byte from the other before it writes its own */
static __attribute__((noinline)) void read_then_write(int in, int out)
{
	char c;

	if (read(in, &c, 1) == 1)
		(void)!write(out, &c, 1);
}

static int run_pipes(bool sockets)
{
	int to_child[2], to_parent[2];
	pid_t child;

	if (sockets) {
		/* one pair: each side reads its own end, which only the
		 * other side's end can fill */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, to_child))
			return 1;
		to_parent[0] = to_child[0];
		to_parent[1] = to_child[1];
		child = fork();
		if (child < 0)
			return 1;
		if (!child) {
			close(to_child[0]);
			read_then_write(to_child[1], to_child[1]);
			_exit(0);
		}
		close(to_child[1]);
		printf("ready %d\n", child);
		fflush(stdout);
		read_then_write(to_parent[0], to_parent[0]);
		waitpid(child, NULL, 0);
		return 0;
	}
	if (pipe(to_child) || pipe(to_parent))
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		close(to_child[1]);
		close(to_parent[0]);
		read_then_write(to_child[0], to_parent[1]);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	printf("ready %d\n", child);
	fflush(stdout);
	read_then_write(to_parent[0], to_child[1]);
	waitpid(child, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "abba")) {
		struct pair p[] = { { "payer", &ledger_lock, &audit_lock },
				    { "auditor", &audit_lock, &ledger_lock } };

		return run_pairs(p, 2);
	}
	if (!strcmp(mode, "cycle3")) {
		struct pair p[] = { { "alpha", &lock_a, &lock_b },
				    { "beta", &lock_b, &lock_c },
				    { "gamma", &lock_c, &lock_a } };

		return run_pairs(p, 3);
	}
	if (!strcmp(mode, "pipes") || !strcmp(mode, "sockets"))
		return run_pipes(!strcmp(mode, "sockets"));
	if (!strcmp(mode, "cond")) {
		pthread_t t;

		pthread_create(&t, NULL, cond_waiter, NULL);
		printf("ready\n");
		fflush(stdout);
		pthread_join(t, NULL);
		return 0;
	}
	if (!strcmp(mode, "held")) {
		pthread_t t[2];

		if (argc > 2)
			hold_s = (unsigned int)atoi(argv[2]);
		pthread_barrier_init(&all_hold, NULL, 2);
		pthread_create(&t[0], NULL, holder, NULL);
		pthread_create(&t[1], NULL, held_waiter, NULL);
		printf("ready\n");
		fflush(stdout);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		return 0;
	}
	if (!strcmp(mode, "many") && argc > 2) {
		int i, n = atoi(argv[2]);
		pthread_t t;

		for (i = 0; i < n; i++)
			if (pthread_create(&t, NULL, cond_waiter, "sleeper"))
				return 1;
		printf("ready\n");
		fflush(stdout);
		wait_forever();
	}
	fprintf(stderr, "usage: deadlock abba|cycle3|pipes|sockets|cond|held [S]|many N\n");
	return 2;
}
