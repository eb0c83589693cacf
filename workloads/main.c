// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft-work: options and wiring only; the models live in the library. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "work.h"

int main(int argc, char **argv)
{
	struct work_opts opts;
	struct work_result res;
	char errbuf[256];
	int err;

	err = work_opts__parse(&opts, argc, argv, errbuf, sizeof(errbuf));
	if (err == WORK_OPTS_HELP) {
		work_usage(stdout);
		return 0;
	}
	if (err) {
		fprintf(stderr, "weft-work: %s (see weft-work --help)\n", errbuf);
		return 2;
	}

	err = work_run(&opts, &res);
	if (err) {
		fprintf(stderr, "weft-work: %s\n", res.errmsg);
		return 1;
	}
	if (work_result__print(stdout, &opts, &res) || fflush(stdout)) {
		fprintf(stderr, "weft-work: Failed to write the result: %s\n", strerror(errno));
		return 1;
	}
	if (opts.check && opts.mode == WORK_MODE_GIL) {
		fprintf(stderr,
			"weft-work: gil check: max concurrent holders %d, handovers %" PRIu64
			" (%.1f/s; one per switch interval would be %.1f/s)\n",
			res.gil_max_concurrent, res.gil_handovers,
			res.elapsed_s > 0 ? res.gil_handovers / res.elapsed_s : 0.0,
			1e9 / opts.switch_interval_ns);
		if (res.gil_max_concurrent > 1) {
			fprintf(stderr,
				"weft-work: gil check failed: %d threads held the lock at once\n",
				res.gil_max_concurrent);
			return 1;
		}
	}
	return 0;
}
