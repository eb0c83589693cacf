// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target over the whole read path, as a user runs it on a
 * recording someone sent them: the file, the event reader, the analysis,
 * weft report in every format, weft flame of every type (folded and SVG),
 * weft timeline, weft critical and weft compare, each through its own
 * cmd_*() entry, so that the wiring is fuzzed too. `make fuzz` builds and runs it
 * (scripts/fuzz.sh), seeded from real recordings.
 *
 * The first input byte picks what the rest is:
 *   0  a whole file as it is on disk: the file header and section headers
 *      with their crcs, truncation, corruption;
 *   1  sections in the clear, which the target deflates and wraps in a
 *      valid file with good crcs, so that mutations reach the analysis
 *      instead of dying at a crc check: per section, u8 type, u8 aux (the
 *      EVENTS stream), u32 little-endian length, the inflated payload (a
 *      length past the input's end takes what is left);
 *   2  a serialized weft_kv.
 * tests/fuzz_seed.c turns recordings into inputs of the second kind.
 * Every input must be read or refused with one line; none may crash,
 * leak, hang or read out of bounds. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/types.h>
#include <zlib.h>

#include "cmd.h"
#include "event_reader.h"
#include "events.h"
#include "file.h"
#include "kv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out_dir[64];
/* WEFT_FUZZ_NO_COMPARE=1 leaves weft compare out, to fuzz the rest while
 * compare.c has a known fault */
static bool no_compare;

static void remove_out_dir(void)
{
	rmdir(out_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* reports go nowhere; libFuzzer's own lines go to stderr, which
	 * -close_fd_mask=2 keeps apart from the commands' messages */
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		abort();
	close(null);
	no_compare = getenv("WEFT_FUZZ_NO_COMPARE") != NULL;
	snprintf(out_dir, sizeof(out_dir), "/tmp/weft-fuzz.XXXXXX");
	if (!mkdtemp(out_dir))
		abort();
	atexit(remove_out_dir);
	return 0;
}

static int touch(const void *payload, size_t len, void *ctx)
{
	const unsigned char *p = payload;
	size_t i;

	for (i = 0; i < len; i++)
		*(unsigned int *)ctx += p[i];
	return 0;
}

/* The library level: what the commands do not reach by themselves
 * (sections of every type, verify). */
static void read_file(const char *path)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	unsigned int sum = 0, type;
	struct weft_file *f;
	char err[256];

	f = weft_file__open(path, err, sizeof(err));
	if (!f)
		return;
	weft_file__truncated(f);
	weft_kv__count(weft_file__meta(f));
	for (type = 1; type <= WEFT_SEC_NOTES + 1; type++)
		weft_file__for_each_section(f, type, touch, &sum);
	weft_file__verify(f);
	r = weft_event_reader__new(f);
	if (r) {
		while (weft_event_reader__next(r, &ev) == 1)
			sum += ev->type + weft_event_size(ev->type);
		weft_event_reader__free(r);
	}
	weft_file__free(f);
}

static void run(int (*cmd)(int, char **), char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	cmd(argc, argv);
	fflush(stdout);
}

/* Every command that reads a recording, with every format and type. */
static void read_path(const char *path)
{
	static const char *formats[] = { "text", "json", "markdown", "html" };
	static const char *types[] = { "oncpu", "offcpu", "lock", "wakeup" };
	static const char *bys[] = { "process", "pid", "thread", "none" };
	char svg[128], trace[128];
	size_t i;

	snprintf(svg, sizeof(svg), "%s/flame.svg", out_dir);
	snprintf(trace, sizeof(trace), "%s/trace.json", out_dir);
	read_file(path);
	for (i = 0; i < 4; i++) {
		char *argv[] = { "weft report", (char *)path, "--format", (char *)formats[i],
				 "--threads",	"--cpus",     NULL };
		run(cmd_report, argv);
	}
	for (i = 0; i < 4; i++) {
		char *folded[] = { "weft flame", (char *)path,	 "--type", (char *)types[i],
				   "--by",	 (char *)bys[i], NULL };
		char *graph[] = { "weft flame", (char *)path, "--type", (char *)types[i],
				  "--svg",	svg,	      NULL };

		run(cmd_flame, folded);
		run(cmd_flame, graph);
	}
	{
		char *argv[] = { "weft timeline", (char *)path, "-o", trace, "--min-us", "0", NULL };

		run(cmd_timeline, argv);
	}
	for (i = 0; i < 3; i++) {
		static const char *cbys[] = { "thread", "function", "lock" };
		static const char *cfmts[] = { "text", "folded", "json" };
		char *argv[] = { "weft critical",
				 (char *)path,
				 "--format",
				 (char *)cfmts[i],
				 "--by",
				 (char *)cbys[i % 2 ? 1 : i],
				 NULL };

		run(cmd_critical, argv);
	}
	/* the critical path in the JSON and on the page (its tab and summary) */
	for (i = 1; i < 4; i += 2) {
		char *argv[] = { "weft report",	     (char *)path, "--format",
				 (char *)formats[i], "--critical", NULL };

		run(cmd_report, argv);
	}
	for (i = 0; i < 4 && !no_compare; i++) {
		static const char *cfmt[] = { "text", "markdown", "json", "csv" };
		char *argv[] = { "weft compare", "--format",   (char *)cfmt[i],
				 (char *)path,	 (char *)path, NULL };

		run(cmd_compare, argv);
	}
	unlink(svg);
	unlink(trace);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* One section around raw, deflated, with good crcs. */
static void write_section(int fd, unsigned int type, unsigned int aux, const uint8_t *raw,
			  size_t len)
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
	hdr[0] = type;
	hdr[2] = 1; /* deflated */
	put32(hdr + 4, aux);
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

static void rebuild(int fd, const uint8_t *data, size_t size)
{
	struct weft_writer *w = weft_writer__new("fuzz", fd); /* the file header */
	const uint8_t *p = data, *end = data + size;
	size_t len;

	if (!w)
		abort();
	weft_writer__free(w);
	while (end - p >= 6) {
		len = p[2] | p[3] << 8 | p[4] << 16 | (size_t)p[5] << 24;
		if (len > (size_t)(end - p - 6))
			len = end - p - 6;
		/* type 0 is no section: any byte is a type the reader meets */
		write_section(fd, p[0] ? p[0] : WEFT_SEC_EVENTS, p[1], p + 6, len);
		p += 6 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weft_kv *kv;
	char path[64];
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
	if (data[0] == 1)
		rebuild(fd, data + 1, size - 1);
	else if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	read_path(path);
	close(fd);
	return 0;
}
