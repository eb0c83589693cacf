// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture of tests/test_symbols.c, compiled by it at run time as a PIE (and
 * stripped copies). It prints the addresses of its functions and globals
 * on one line, then waits for its stdin to close, so the test can read its
 * /proc/PID/maps and resolve them while it lives. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Shaped like weft-work's global interpreter lock. */
struct gil {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	int drop_request;
	int holder;
	long switches;
};

pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
struct gil gil;
int data_counter = 42;
/* Far larger than a page: most of it lies past the file's last page, in
 * the anonymous mapping that follows it. */
static char bss_pad[1 << 16];

__attribute__((noinline)) int fix_alpha(int x)
{
	return x * 3 + data_counter;
}

__attribute__((noinline)) int fix_beta(int x)
{
	return fix_alpha(x) + bss_pad[x & 0xff];
}

static __attribute__((noinline)) int fix_local(int x)
{
	return fix_beta(x) - 1;
}

int main(void)
{
	char *heap = malloc(64);
	int on_stack = 0;
	char c;

	printf("alpha=%p beta=%p local=%p lock=%p gil=%p data=%p pad=%p stack=%p heap=%p "
	       "mutex_lock=%p\n",
	       (void *)fix_alpha, (void *)fix_beta, (void *)fix_local, (void *)&shared_lock,
	       (void *)&gil, (void *)&data_counter, (void *)bss_pad, (void *)&on_stack,
	       (void *)heap, (void *)pthread_mutex_lock);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	on_stack = fix_local(gil.holder);
	free(heap);
	return on_stack == 0;
}
