// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A traced program for the stack tests, with functions of known names:
 *   stacker sleep N MS     sleeps N times MS ms in sleep_here()
 *   stacker forkexec N MS  N times: forks a child that execs this program
 *                          to spin MS ms in child_spin() and exit, and
 *                          waits for it (short-lived processes whose
 *                          frames must still resolve)
 *   stacker child MS       what each child runs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The system call made here, not in libc, so that the stack is this
 * program's down to the kernel whichever way it is walked (libc has no
 * frame pointers: --unwind=fp would lose this frame inside it). */
__attribute__((noinline)) static void sleep_here(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	register long remaining __asm__("r10") = 0; /* the 4th argument: NULL */
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)SYS_clock_nanosleep), "D"((long)CLOCK_MONOTONIC), "S"(0L),
			   "d"(&ts), "r"(remaining)
			 : "rcx", "r11", "memory");
	(void)ret;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Spins for seconds of its own CPU time, not of wall time: on a busy
 * machine the samples it is there for still come. */
__attribute__((noinline)) static unsigned long child_spin(double seconds)
{
	double end = cpu_s() + seconds;
	unsigned long sum = 0, i;

	while (cpu_s() < end)
		for (i = 0; i < 1000; i++) {
			sum += i;
			__asm__ volatile("" : "+r"(sum));
		}
	return sum;
}

int main(int argc, char **argv)
{
	char self[4096];
	ssize_t len;
	int n, ms, i;
	pid_t pid;

	if (argc == 3 && !strcmp(argv[1], "child")) {
		child_spin(atoi(argv[2]) / 1000.0);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: stacker sleep|forkexec N MS\n");
		return 2;
	}
	/* exec by its path, so the children are named after it */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return 1;
	self[len] = '\0';
	n = atoi(argv[2]);
	ms = atoi(argv[3]);
	for (i = 0; i < n; i++) {
		if (!strcmp(argv[1], "sleep")) {
			sleep_here(ms);
			continue;
		}
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			execl(self, "stacker", "child", argv[3], (char *)NULL);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}
