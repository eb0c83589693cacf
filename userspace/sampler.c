// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sampler.h"

struct stack_sampler {
	struct bpf_link **links;
	int *fds;
	unsigned int n;
};

void stack_sampler__free(struct stack_sampler *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->fds[i]);
	}
	free(s->links);
	free(s->fds);
	free(s);
}

struct stack_sampler *stack_sampler__start(struct bpf_program *prog, unsigned int hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = hz,
	};
	int ncpu = libbpf_num_possible_cpus(), cpu, fd, err = 0;
	struct stack_sampler *s = calloc(1, sizeof(*s));

	if (!s || ncpu <= 0)
		goto fail_nomem;
	s->links = calloc(ncpu, sizeof(*s->links));
	s->fds = calloc(ncpu, sizeof(*s->fds));
	if (!s->links || !s->fds)
		goto fail_nomem;
	for (cpu = 0; cpu < ncpu; cpu++) {
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			/* a possible CPU that is offline has no clock to sample */
			if (errno == ENODEV)
				continue;
			err = -errno;
			elog("Failed to open a cpu-clock perf event on CPU %d: %s", cpu,
			     strerror(errno));
			goto fail;
		}
		s->links[s->n] = bpf_program__attach_perf_event(prog, fd);
		if (!s->links[s->n]) {
			err = -errno;
			elog("Failed to attach the sampling program on CPU %d: %s", cpu,
			     strerror(errno));
			close(fd);
			goto fail;
		}
		s->fds[s->n++] = fd;
	}
	return s;
fail_nomem:
	err = -ENOMEM;
fail:
	stack_sampler__free(s);
	errno = -err;
	return NULL;
}
