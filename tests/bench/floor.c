// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* floor [--empty] -- CMD [ARG...]: runs CMD under bpf/floor.bpf.c's
 * programs (see there), draining the ring every 10 ms, and prints
 * "floor: recorded N records (L lost)" on stderr. For make bench. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"

static unsigned long long records;

static int count_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_buffer *rb = NULL;
	struct floor_bpf *skel;
	int first = 1, status = 0, done = 0;
	pid_t child;

	if (argc > first && !strcmp(argv[first], "--empty"))
		first++;
	if (argc < first + 2 || strcmp(argv[first], "--")) {
		fprintf(stderr, "usage: floor [--empty] -- CMD [ARG...]\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF programs\n");
		return 1;
	}
	skel->rodata->write_records = first == 1;
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach the BPF programs\n");
		floor_bpf__destroy(skel);
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.records), count_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "floor: cannot read the ring buffer\n");
		floor_bpf__destroy(skel);
		return 1;
	}
	child = fork();
	if (child == 0) {
		execvp(argv[first + 1], &argv[first + 1]);
		fprintf(stderr, "floor: %s: %s\n", argv[first + 1], strerror(errno));
		_exit(127);
	}
	while (!done) {
		usleep(10000);
		ring_buffer__consume(rb);
		done = waitpid(child, &status, WNOHANG) == child;
	}
	floor_bpf__detach(skel);
	ring_buffer__consume(rb);
	fprintf(stderr, "floor: recorded %llu records (%llu lost)\n", records,
		(unsigned long long)skel->bss->lost);
	ring_buffer__free(rb);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
