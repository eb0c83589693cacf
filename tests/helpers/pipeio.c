// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A reader blocked on a pipe while the writer computes: the reader's
 * off-CPU time is I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 0.3, end;
	unsigned long sum = 0;
	int fds[2], i;
	char buf[64];
	pid_t pid;

	if (pipe(fds))
		return 1;
	pid = fork();
	if (pid == 0) {
		/* the writer computes, then answers */
		for (i = 0; i < 4; i++) {
			end = now_s() + seconds / 4;
			while (now_s() < end)
				__asm__ volatile("" : "+r"(sum));
			if (write(fds[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	while (read(fds[0], buf, sizeof(buf)) > 0)
		;
	waitpid(pid, NULL, 0);
	return 0;
}
