// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the recording reader:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ibpf -Iuserspace \
 *       tests/fuzz_file.c userspace/file.c userspace/kv.c userspace/event_reader.c -lz \
 *       -o build/fuzz_file && build/fuzz_file -max_len=65536
 *
 * The first input byte picks what the rest is:
 *   0  a whole file, read as weft_file__open() and the event reader would;
 *   1  the payload of EVENTS chunks (split at "\xff\xfe"), wrapped in a
 *      valid file with good crcs, so the fuzzer reaches the chunk decoder
 *      without having to forge crc32s;
 *   2  a serialized weft_kv.
 * Every input must be either read or refused; none may crash, leak or
 * read out of bounds. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>
#include <zlib.h>

#include "event_reader.h"
#include "events.h"
#include "file.h"
#include "kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch(const void *payload, size_t len, void *ctx)
{
	const unsigned char *p = payload;
	size_t i;

	for (i = 0; i < len; i++)
		*(unsigned int *)ctx += p[i];
	return 0;
}

static void read_file(int fd)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	unsigned int sum = 0, type;
	struct weft_file *f;
	char path[64], err[256];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	f = weft_file__open(path, err, sizeof(err));
	if (!f)
		return;
	weft_file__truncated(f);
	weft_kv__count(weft_file__meta(f));
	for (type = 1; type <= WEFT_SEC_NOTES + 1; type++)
		weft_file__for_each_section(f, type, touch, &sum);
	r = weft_event_reader__new(f);
	if (r) {
		while (weft_event_reader__next(r, &ev) == 1)
			sum += ev->type + weft_event_size(ev->type);
		weft_event_reader__free(r);
	}
	weft_file__free(f);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* One EVENTS section around raw; its stream (aux) is the payload's first
 * byte, as a real chunk starts with its stream's varint. */
static void write_chunk(int fd, const uint8_t *raw, size_t len)
{
	uLongf zlen = compressBound(len) + 64;
	unsigned char hdr[24], *z = malloc(zlen);
	z_stream zs;

	if (!z)
		return;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		goto free_z;
	zs.next_in = (unsigned char *)raw;
	zs.avail_in = len;
	zs.next_out = z;
	zs.avail_out = zlen;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		goto end_zs;
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = WEFT_SEC_EVENTS;
	hdr[2] = 1;
	put32(hdr + 4, len ? raw[0] & 0x7f : 0);
	put32(hdr + 8, zs.total_out);
	put32(hdr + 12, len);
	put32(hdr + 16, crc32(0, z, zs.total_out));
	put32(hdr + 20, crc32(0, hdr, 20));
	if (write(fd, hdr, sizeof(hdr)) != sizeof(hdr) ||
	    write(fd, z, zs.total_out) != (ssize_t)zs.total_out)
		abort();
end_zs:
	deflateEnd(&zs);
free_z:
	free(z);
}

static void fuzz_chunks(int fd, const uint8_t *data, size_t size)
{
	struct weft_writer *w = weft_writer__new("fuzz", fd); /* the file header */
	const uint8_t *start = data, *end = data + size, *p;

	if (!w)
		abort();
	weft_writer__free(w);
	for (p = data; p + 1 < end; p++) {
		if (p[0] == 0xff && p[1] == 0xfe) {
			write_chunk(fd, start, p - start);
			start = p + 2;
			p++;
		}
	}
	write_chunk(fd, start, end - start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weft_kv *kv;
	int fd;

	if (size < 1)
		return 0;
	if (data[0] == 2) {
		kv = weft_kv__new();
		if (kv && !weft_kv__decode(kv, data + 1, size - 1) && weft_kv__count(kv))
			weft_kv__get(kv, weft_kv__key(kv, 0));
		weft_kv__free(kv);
		return 0;
	}
	fd = memfd_create("weft-fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (data[0] == 1) {
		fuzz_chunks(fd, data + 1, size - 1);
	} else if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
		abort();
	}
	read_file(fd);
	close(fd);
	return 0;
}
