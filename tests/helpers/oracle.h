/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The oracle the integration tests compare weft with: the kernel's own
 * accounting of the calling thread, read from /proc/thread-self just before
 * it exits, printed as one line:
 *   thread TID PID SUM_EXEC_NS RUN_DELAY_NS NVCSW NIVCSW
 */
#ifndef __WEFT_TEST_ORACLE_H
#define __WEFT_TEST_ORACLE_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned long long status_value(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void print_own_accounting(void)
{
	unsigned long long exec_ns = 0, delay_ns = 0, pcount = 0;
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen("/proc/thread-self/schedstat", "r");
	if (f) {
		if (fscanf(f, "%llu %llu %llu", &exec_ns, &delay_ns, &pcount) != 3)
			exec_ns = delay_ns = 0;
		fclose(f);
	}
	buf[0] = '\0';
	f = fopen("/proc/thread-self/status", "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	pthread_mutex_lock(&print_lock);
	printf("thread %d %d %llu %llu %llu %llu\n", gettid(), getpid(), exec_ns, delay_ns,
	       status_value(buf, "\nvoluntary_ctxt_switches:"),
	       status_value(buf, "\nnonvoluntary_ctxt_switches:"));
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

#endif /* __WEFT_TEST_ORACLE_H */
