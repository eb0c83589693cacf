// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Turns recordings into seeds for tests/fuzz_read.c: its input kind 1, the
 * sections in the clear (u8 type, u8 aux, u32 length, payload), which the
 * target wraps again with good crcs.
 *
 *   fuzz_seed [-b BYTES] FILE OUT
 *
 * EVENTS chunks past BYTES of payload in all (default 65536) are left out,
 * so that seeds stay small enough for the fuzzer to run fast; the other
 * sections are all kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

int main(int argc, char **argv)
{
	size_t budget = 65536, used = 0, cap = 0, i;
	const struct weft_section_info *si;
	unsigned char hdr[6];
	struct weft_file *f;
	char err[512];
	void *buf = NULL;
	FILE *out;

	if (argc == 5 && !strcmp(argv[1], "-b")) {
		budget = strtoul(argv[2], NULL, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz_seed [-b BYTES] FILE OUT\n");
		return 2;
	}
	f = weft_file__open(argv[1], err, sizeof(err));
	if (!f) {
		fprintf(stderr, "fuzz_seed: %s\n", err);
		return 1;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "fuzz_seed: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fputc(1, out);
	for (i = 0; i < weft_file__nsections(f); i++) {
		si = weft_file__section(f, i);
		if (si->type == WEFT_SEC_EVENTS && used + si->raw_length > budget)
			continue;
		if (weft_file__read_section(f, i, &buf, &cap)) {
			fprintf(stderr, "fuzz_seed: %s: %s\n", argv[1], weft_file__error(f));
			return 1;
		}
		if (si->type == WEFT_SEC_EVENTS)
			used += si->raw_length;
		hdr[0] = si->type;
		hdr[1] = si->aux;
		hdr[2] = si->raw_length;
		hdr[3] = si->raw_length >> 8;
		hdr[4] = si->raw_length >> 16;
		hdr[5] = si->raw_length >> 24;
		fwrite(hdr, 1, sizeof(hdr), out);
		fwrite(buf, 1, si->raw_length, out);
	}
	free(buf);
	weft_file__free(f);
	if (fclose(out)) {
		fprintf(stderr, "fuzz_seed: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return 0;
}
