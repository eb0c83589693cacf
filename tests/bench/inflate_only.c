// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor for reading a recording: open it and inflate every EVENTS
 * section (crc checked), counting bytes, doing nothing with the records.
 * scripts/bench.sh builds it against libweft.a and times it beside
 * weft report on the same file.
 *
 * usage: inflate_only FILE    prints "sections=N raw_bytes=B" */
#include <stdio.h>

#include "file.h"

struct totals {
	unsigned long long sections, raw_bytes;
};

static int count_section(const void *payload, size_t len, void *ctx)
{
	struct totals *t = ctx;

	(void)payload;
	t->sections++;
	t->raw_bytes += len;
	return 0;
}

int main(int argc, char **argv)
{
	struct totals t = { 0 };
	struct weft_file *f;
	char err[512];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: inflate_only FILE\n");
		return 2;
	}
	f = weft_file__open(argv[1], err, sizeof(err));
	if (!f) {
		fprintf(stderr, "inflate_only: %s\n", err);
		return 1;
	}
	ret = weft_file__for_each_section(f, WEFT_SEC_EVENTS, count_section, &t);
	if (ret < 0)
		fprintf(stderr, "inflate_only: %s: %s\n", argv[1], weft_file__error(f));
	else
		printf("sections=%llu raw_bytes=%llu\n", t.sections, t.raw_bytes);
	weft_file__free(f);
	return ret < 0 ? 1 : 0;
}
