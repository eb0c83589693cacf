// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>
#include <zlib.h>
#include <cmocka.h>

#include "event_reader.h"
#include "events.h"
#include "file.h"
#include "kv.h"

#define NSTREAMS 3
/* Records per stream in the fixture: a chunk size just past 7 switches
 * makes chunks of 8, whatever the switch record's size. */
static const int fixture_counts[NSTREAMS] = { 40, 25, 10 };
#define SW_SIZE sizeof(struct weft_ev_switch)
#define FIXTURE_CHUNK (7 * SW_SIZE + 8)
#define FIXTURE_TASKS "tid=1 comm=main\ntid=2 comm=worker"

static char tmpdir[] = "/tmp/weft-test-file.XXXXXX";

static char *tpath(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

static struct weft_ev_switch make_switch(unsigned int stream, unsigned int seq)
{
	struct weft_ev_switch sw;

	memset(&sw, 0, sizeof(sw));
	/* streams interleave in time; each is in order */
	sw.hdr.ts_ns = 1000000 + 1000ULL * seq + 7 * stream;
	sw.hdr.type = WEFT_EV_SWITCH;
	sw.hdr.cpu = stream;
	sw.hdr.flags = WEFT_SWITCH_PREV_TRACED;
	sw.prev_tid = seq; /* tells the records apart */
	sw.prev_tgid = 100 + stream;
	sw.next_tid = seq & 1 ? 0 : 77;
	sw.prev_state = seq % 3 == 0 ? 0 : 1;
	sw.syscall_nr = 202;
	sw.sys_arg0 = 0x7f0000001000ULL;
	sw.sys_arg1 = 0x80;
	return sw;
}

/* META start, events of three streams round-robin, TASKS, META end, END. */
/* backlog: 0 to write from this thread, else the background writer's
 * bound */
static void write_fixture_with(const char *path, size_t backlog)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	struct weft_kv *start = weft_kv__new(), *end = weft_kv__new();
	struct weft_ev_switch sw;
	struct weft_writer *w;
	unsigned int s, i;

	assert_true(fd >= 0);
	assert_non_null(start);
	assert_non_null(end);
	w = weft_writer__new(path, fd);
	assert_non_null(w);
	assert_int_equal(weft_writer__bytes(w), 24);
	assert_int_equal(weft_writer__set_chunk_size(w, FIXTURE_CHUNK), 0);
	if (backlog)
		assert_int_equal(weft_writer__background(w, backlog, true), 0);
	assert_int_equal(weft_kv__set(start, "cmd", "weft-work --mode gil"), 0);
	assert_int_equal(weft_kv__set(start, "odd", "a=b\nc=d\n"), 0);
	assert_int_equal(weft_kv__set(start, "end_ns", "0"), 0);
	assert_int_equal(weft_writer__add_meta(w, start), 0);
	for (i = 0; i < 40; i++) {
		for (s = 0; s < NSTREAMS; s++) {
			if (i >= (unsigned int)fixture_counts[s])
				continue;
			sw = make_switch(s, i);
			assert_int_equal(weft_writer__add_event(w, s, &sw, sizeof(sw)), 0);
		}
	}
	assert_int_equal(weft_writer__events(w), 75);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_TASKS, FIXTURE_TASKS,
						  strlen(FIXTURE_TASKS)),
			 0);
	assert_int_equal(weft_kv__set(end, "end_ns", "999"), 0);
	assert_int_equal(weft_kv__set(end, "events", "75"), 0);
	assert_int_equal(weft_writer__add_meta(w, end), 0);
	assert_int_equal(weft_writer__finish(w), 0);
	assert_int_equal(weft_writer__bytes(w), (unsigned long long)lseek(fd, 0, SEEK_CUR));
	weft_writer__free(w);
	close(fd);
	weft_kv__free(start);
	weft_kv__free(end);
}

static void write_fixture(const char *path)
{
	write_fixture_with(path, 0);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void put32(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static int save_payload(const void *payload, size_t len, void *ctx)
{
	char *out = ctx;

	memcpy(out, payload, len);
	out[len] = '\0';
	return 0;
}

static int count_calls(const void *payload, size_t len, void *ctx)
{
	(void)payload;
	(void)len;
	++*(int *)ctx;
	return 0;
}

static void test_round_trip(void **state)
{
	const char *path = tpath("round.data");
	const struct weft_section_info *si;
	struct weft_event_reader *r;
	const struct weft_event_header *ev;
	const struct weft_ev_switch *sw;
	struct weft_ev_switch want;
	int next_seq[NSTREAMS] = { 0 }, calls = 0;
	unsigned long long last_ts = 0, n = 0;
	const struct weft_kv *meta;
	struct weft_file *f;
	char err[256], tasks[256];
	size_t i;

	(void)state;
	write_fixture(path);
	f = weft_file__open(path, err, sizeof(err));
	assert_non_null(f);
	assert_false(weft_file__truncated(f));
	assert_int_equal(weft_file__nstreams(f), 3);
	assert_int_equal(weft_file__end_events(f), 75);
	/* 40 = 5 chunks, 25 = 3 + 1, 10 = 1 + 1 */
	assert_int_equal(weft_file__count_sections(f, WEFT_SEC_EVENTS), 11);
	assert_int_equal(weft_file__count_sections(f, WEFT_SEC_META), 2);
	assert_int_equal(weft_file__count_sections(f, WEFT_SEC_END), 1);
	assert_int_equal(weft_file__nsections(f), 11 + 2 + 1 + 1);
	si = weft_file__section(f, 0);
	assert_int_equal(si->offset, 24);
	assert_int_equal(si->type, WEFT_SEC_META);
	for (i = 1; i < weft_file__nsections(f); i++) {
		si = weft_file__section(f, i);
		assert_int_equal(si->offset, weft_file__section(f, i - 1)->offset + 24 +
						     weft_file__section(f, i - 1)->length);
	}

	/* later keys win, in first-seen order */
	meta = weft_file__meta(f);
	assert_int_equal(weft_kv__count(meta), 4);
	assert_string_equal(weft_kv__get(meta, "cmd"), "weft-work --mode gil");
	assert_string_equal(weft_kv__get(meta, "odd"), "a=b\nc=d\n");
	assert_string_equal(weft_kv__get(meta, "end_ns"), "999");
	assert_string_equal(weft_kv__key(meta, 2), "end_ns");
	assert_string_equal(weft_kv__get(meta, "events"), "75");
	assert_int_equal(weft_kv__count(weft_file__notes(f)), 0);

	assert_int_equal(weft_file__for_each_section(f, WEFT_SEC_TASKS, save_payload, tasks), 0);
	assert_string_equal(tasks, FIXTURE_TASKS);
	assert_int_equal(weft_file__for_each_section(f, WEFT_SEC_EVENTS, count_calls, &calls), 0);
	assert_int_equal(calls, 11);
	assert_int_equal(weft_file__verify(f), 0);

	r = weft_event_reader__new(f);
	assert_non_null(r);
	while (weft_event_reader__next(r, &ev) == 1) {
		assert_true(ev->ts_ns >= last_ts);
		last_ts = ev->ts_ns;
		sw = (const struct weft_ev_switch *)ev;
		assert_true(ev->cpu < NSTREAMS);
		want = make_switch(ev->cpu, next_seq[ev->cpu]++);
		assert_memory_equal(sw, &want, sizeof(want));
		n++;
	}
	assert_int_equal(n, 75);
	assert_int_equal(weft_event_reader__next(r, &ev), 0);
	assert_int_equal(weft_event_reader__reordered(r), 0);
	assert_int_equal(weft_event_reader__skipped(r), 0);
	for (i = 0; i < NSTREAMS; i++)
		assert_int_equal(next_seq[i], fixture_counts[i]);
	weft_event_reader__free(r);
	weft_file__free(f);
}

static void test_open_errors(void **state)
{
	char err[256], want[512];
	struct weft_file *f;

	(void)state;
	f = weft_file__open(tpath("missing.data"), err, sizeof(err));
	assert_null(f);
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", tpath("missing.data"));
	assert_string_equal(err, want);

	spit(tpath("x.txt"), "hello\n", 6);
	f = weft_file__open(tpath("x.txt"), err, sizeof(err));
	assert_null(f);
	assert_int_equal(errno, EINVAL);
	snprintf(want, sizeof(want), "%s: not a weft recording", tpath("x.txt"));
	assert_string_equal(err, want);

	/* long enough to hold a header, still not one */
	spit(tpath("long.txt"), "hello, this is a text file with many words", 42);
	f = weft_file__open(tpath("long.txt"), err, sizeof(err));
	assert_null(f);
	snprintf(want, sizeof(want), "%s: not a weft recording", tpath("long.txt"));
	assert_string_equal(err, want);

	spit(tpath("empty.data"), "", 0);
	f = weft_file__open(tpath("empty.data"), err, sizeof(err));
	assert_null(f);
	snprintf(want, sizeof(want), "%s: not a weft recording (empty file)", tpath("empty.data"));
	assert_string_equal(err, want);

	f = weft_file__open(tmpdir, err, sizeof(err));
	assert_null(f);
	assert_int_equal(errno, EISDIR);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	assert_string_equal(err, want);

	/* err may be NULL */
	assert_null(weft_file__open(tpath("missing.data"), NULL, 0));
	assert_int_equal(errno, ENOENT);
}

static void test_newer_major(void **state)
{
	const char *path = tpath("newer.data");
	unsigned char *buf;
	char err[256], want[512];
	size_t len;

	(void)state;
	write_fixture(path);
	buf = slurp(path, &len);
	buf[8] = WEFT_FORMAT_MAJOR + 1;
	buf[10] = 0;
	spit(path, buf, len);
	assert_null(weft_file__open(path, err, sizeof(err)));
	assert_int_equal(errno, EPROTONOSUPPORT);
	snprintf(want, sizeof(want),
		 "%s: recording format %d.0 is newer than this weft reads (%d.x); upgrade weft",
		 path, WEFT_FORMAT_MAJOR + 1, WEFT_FORMAT_MAJOR);
	assert_string_equal(err, want);

	/* a newer minor of our major reads, skipping a section type it
	 * does not know */
	buf[8] = WEFT_FORMAT_MAJOR;
	buf[10] = 7;
	put32(buf + 20, crc32(0, buf, 20));
	spit(path, buf, len);
	{
		struct weft_file *f = weft_file__open(path, err, sizeof(err));

		assert_non_null(f);
		assert_false(weft_file__truncated(f));
		weft_file__free(f);
	}
	free(buf);
}

static void test_unknown_section_type(void **state)
{
	const char *path = tpath("unknown.data");
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644), calls = 0;
	struct weft_writer *w = weft_writer__new(path, fd);
	char err[256], got[64];
	struct weft_file *f;

	(void)state;
	assert_non_null(w);
	assert_int_equal(weft_writer__add_section(w, 42, "future", 6), 0);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_SYMBOLS, "", 0), 0);
	assert_int_equal(weft_writer__finish(w), 0);
	weft_writer__free(w);
	close(fd);
	f = weft_file__open(path, err, sizeof(err));
	assert_non_null(f);
	assert_false(weft_file__truncated(f));
	assert_int_equal(weft_file__nstreams(f), 0);
	assert_int_equal(weft_file__for_each_section(f, 42, save_payload, got), 0);
	assert_string_equal(got, "future");
	assert_int_equal(weft_file__for_each_section(f, WEFT_SEC_SYMBOLS, count_calls, &calls), 0);
	assert_int_equal(calls, 1);
	/* left out, and counted so that a report can say so */
	assert_int_equal(weft_file__unknown_sections(f), 1);
	weft_file__free(f);
}

/* For a file cut at len: which sections are whole, and how many records
 * of each stream they hold (read from the chunk prefix: varint stream,
 * varint count; both below 128 here). */
struct layout {
	size_t nsecs;
	unsigned long long end[64];
	unsigned int type[64];
	unsigned int stream[64];
	unsigned int count[64];
};

static void read_layout(const char *path, struct layout *lay)
{
	struct weft_file *f = weft_file__open(path, NULL, 0);
	const struct weft_section_info *si;
	void *buf = NULL;
	size_t cap = 0, i;

	assert_non_null(f);
	lay->nsecs = weft_file__nsections(f);
	assert_true(lay->nsecs <= 64);
	for (i = 0; i < lay->nsecs; i++) {
		si = weft_file__section(f, i);
		lay->end[i] = si->offset + 24 + si->length;
		lay->type[i] = si->type;
		if (si->type != WEFT_SEC_EVENTS)
			continue;
		assert_int_equal(weft_file__read_section(f, i, &buf, &cap), 0);
		assert_true(((unsigned char *)buf)[0] < 128 && ((unsigned char *)buf)[1] < 128);
		lay->stream[i] = ((unsigned char *)buf)[0];
		lay->count[i] = ((unsigned char *)buf)[1];
		assert_int_equal(lay->stream[i], si->aux);
	}
	free(buf);
	weft_file__free(f);
}

static void check_cut(const char *path, size_t cut, const struct layout *lay)
{
	unsigned int want[NSTREAMS] = { 0 }, got[NSTREAMS] = { 0 }, metas = 0, seq;
	unsigned long long last_ts = 0;
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;
	char err[256];
	size_t i, whole = 0;
	int ret;

	f = weft_file__open(path, err, sizeof(err));
	if (cut < 24) {
		assert_null(f);
		assert_non_null(
			strstr(err, cut ? "cut short inside its file header" : "empty file"));
		return;
	}
	if (!f)
		fail_msg("cut at %zu: %s", cut, err);
	assert_true(weft_file__truncated(f));
	for (i = 0; i < lay->nsecs && lay->end[i] <= cut; i++) {
		whole++;
		metas += lay->type[i] == WEFT_SEC_META;
		if (lay->type[i] == WEFT_SEC_EVENTS)
			want[lay->stream[i]] += lay->count[i];
	}
	assert_int_equal(weft_file__nsections(f), whole);
	assert_string_equal(weft_kv__get(weft_file__meta(f), "end_ns") ?: "none",
			    metas == 0 ? "none" :
			    metas == 1 ? "0" :
					 "999");
	assert_int_equal(weft_file__verify(f), 0);
	r = weft_event_reader__new(f);
	assert_non_null(r);
	while ((ret = weft_event_reader__next(r, &ev)) == 1) {
		assert_true(ev->ts_ns >= last_ts);
		last_ts = ev->ts_ns;
		assert_true(ev->cpu < NSTREAMS);
		/* each stream's records come in order: a prefix of it */
		seq = ((const struct weft_ev_switch *)ev)->prev_tid;
		assert_int_equal(seq, got[ev->cpu]);
		got[ev->cpu]++;
	}
	assert_int_equal(ret, 0);
	for (i = 0; i < NSTREAMS; i++)
		assert_int_equal(got[i], want[i]);
	weft_event_reader__free(r);
	weft_file__free(f);
}

static void test_truncated_everywhere(void **state)
{
	const char *path = tpath("cut-src.data"), *cut_path = tpath("cut.data");
	struct layout lay;
	unsigned char *buf;
	size_t len, cut;

	(void)state;
	write_fixture(path);
	read_layout(path, &lay);
	buf = slurp(path, &len);
	assert_int_equal(lay.end[lay.nsecs - 1], len);
	for (cut = 0; cut < len; cut++) {
		spit(cut_path, buf, cut);
		check_cut(cut_path, cut, &lay);
	}
	free(buf);
}

/* The section holding byte off, or -1 in the file header. */
static long section_at(const struct layout *lay, size_t off)
{
	size_t i;

	if (off < 24)
		return -1;
	for (i = 0; i < lay->nsecs; i++)
		if (off < lay->end[i])
			return i;
	return -2;
}

/* Reads everything: 0, or the first error with its message in err. */
static int read_all(const char *path, char *err, size_t errlen)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;
	int ret, calls = 0;

	f = weft_file__open(path, err, errlen);
	if (!f)
		return -errno;
	ret = weft_file__for_each_section(f, WEFT_SEC_TASKS, count_calls, &calls);
	if (ret) {
		snprintf(err, errlen, "%s", weft_file__error(f));
		goto out;
	}
	r = weft_event_reader__new(f);
	assert_non_null(r);
	while ((ret = weft_event_reader__next(r, &ev)) == 1)
		;
	if (ret)
		snprintf(err, errlen, "%s", weft_event_reader__error(r));
	weft_event_reader__free(r);
out:
	weft_file__free(f);
	return ret;
}

static void test_flipped_bytes(void **state)
{
	const char *path = tpath("flip-src.data"), *bad = tpath("flip.data");
	static const unsigned char masks[] = { 0x01, 0x80, 0x5a };
	unsigned long long sec_off;
	char err[256], want[64];
	struct layout lay;
	unsigned char *buf;
	size_t len, off, m;
	long sec;
	int ret;

	(void)state;
	write_fixture(path);
	read_layout(path, &lay);
	buf = slurp(path, &len);
	for (off = 0; off < len; off++) {
		sec = section_at(&lay, off);
		assert_true(sec >= -1);
		for (m = 0; m < sizeof(masks); m++) {
			buf[off] ^= masks[m];
			spit(bad, buf, len);
			buf[off] ^= masks[m];
			err[0] = '\0';
			ret = read_all(bad, err, sizeof(err));
			if (!ret)
				fail_msg("flip 0x%02x at %zu went unnoticed", masks[m], off);
			if (sec < 0)
				continue;
			sec_off = sec ? lay.end[sec - 1] : 24;
			snprintf(want, sizeof(want), "corrupt section at offset %llu (", sec_off);
			if (!strstr(err, want))
				fail_msg("flip at %zu: \"%s\" does not name offset %llu", off, err,
					 sec_off);
		}
	}
	free(buf);
}

static void test_crafted_lengths(void **state)
{
	const char *path = tpath("craft-src.data"), *bad = tpath("craft.data");
	unsigned char *buf, hdr[24 + 24];
	char err[256], want[512];
	struct weft_file *f;
	size_t len;

	(void)state;
	write_fixture(path);
	buf = slurp(path, &len);
	memcpy(hdr, buf, 24);
	free(buf);

	/* A header with a good crc and a raw length far beyond its payload */
	memset(hdr + 24, 0, 24);
	hdr[24] = WEFT_SEC_TASKS;
	hdr[26] = 1; /* deflated */
	put32(hdr + 24 + 8, 0);
	put32(hdr + 24 + 12, 200U << 20);
	put32(hdr + 24 + 20, crc32(0, hdr + 24, 20));
	spit(bad, hdr, sizeof(hdr));
	assert_null(weft_file__open(bad, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	snprintf(want, sizeof(want), "%s: corrupt section at offset 24 (impossible length)", bad);
	assert_string_equal(err, want);

	/* over the hard limit */
	put32(hdr + 24 + 8, 1U << 20);
	put32(hdr + 24 + 12, 0xffffffffU);
	put32(hdr + 24 + 20, crc32(0, hdr + 24, 20));
	spit(bad, hdr, sizeof(hdr));
	assert_null(weft_file__open(bad, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: corrupt section at offset 24 (section too large)", bad);
	assert_string_equal(err, want);

	/* a length past the end of the file is a cut, not an allocation */
	put32(hdr + 24 + 8, 0xfffffff0U);
	put32(hdr + 24 + 12, 0);
	put32(hdr + 24 + 20, crc32(0, hdr + 24, 20));
	spit(bad, hdr, sizeof(hdr));
	f = weft_file__open(bad, err, sizeof(err));
	assert_non_null(f);
	assert_true(weft_file__truncated(f));
	assert_int_equal(weft_file__nsections(f), 0);
	weft_file__free(f);

	/* events of a stream out of range */
	hdr[24] = WEFT_SEC_EVENTS;
	put32(hdr + 24 + 4, WEFT_MAX_STREAMS);
	put32(hdr + 24 + 8, 0);
	put32(hdr + 24 + 20, crc32(0, hdr + 24, 20));
	spit(bad, hdr, sizeof(hdr));
	assert_null(weft_file__open(bad, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: corrupt section at offset 24 (stream out of range)", bad);
	assert_string_equal(err, want);
}

static void test_payload_crc_message(void **state)
{
	const char *path = tpath("crc-src.data"), *bad = tpath("crc.data");
	char err[256], want[512];
	struct weft_file *f;
	struct layout lay;
	unsigned char *buf;
	size_t len, i;
	int calls = 0;

	(void)state;
	write_fixture(path);
	read_layout(path, &lay);
	buf = slurp(path, &len);
	/* the TASKS payload: open is fine (read lazily), reading names it */
	for (i = 0; lay.type[i] != WEFT_SEC_TASKS; i++)
		;
	buf[lay.end[i] - 1] ^= 0x10;
	spit(bad, buf, len);
	buf[lay.end[i] - 1] ^= 0x10;
	f = weft_file__open(bad, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(weft_file__for_each_section(f, WEFT_SEC_TASKS, count_calls, &calls),
			 -EBADMSG);
	assert_int_equal(calls, 0);
	snprintf(want, sizeof(want), "corrupt section at offset %llu (crc mismatch)",
		 lay.end[i - 1]);
	assert_string_equal(weft_file__error(f), want);
	assert_int_equal(weft_file__verify(f), -EBADMSG);
	weft_file__free(f);

	/* the first META payload: open itself fails, with the path */
	buf[24 + 24] ^= 0x10;
	spit(bad, buf, len);
	assert_null(weft_file__open(bad, err, sizeof(err)));
	assert_int_equal(errno, EBADMSG);
	snprintf(want, sizeof(want), "%s: corrupt section at offset 24 (crc mismatch)", bad);
	assert_string_equal(err, want);
	free(buf);
}

static void test_append_notes(void **state)
{
	const char *path = tpath("notes.data"), *cut = tpath("notes-cut.data");
	struct weft_kv *notes = weft_kv__new();
	const struct weft_kv *got;
	struct weft_file *f;
	char err[256], want[512];
	unsigned char *buf;
	size_t len, len2;

	(void)state;
	assert_non_null(notes);
	write_fixture(path);
	assert_int_equal(weft_kv__set(notes, "model", "gil"), 0);
	assert_int_equal(weft_kv__set(notes, "result", "{\"checksum\": 42,\n \"elapsed_s\": 1.5}"),
			 0);
	assert_int_equal(weft_file__append_notes(path, notes, err, sizeof(err)), 0);
	assert_int_equal(weft_kv__set(notes, "model", "threads"), 0);
	assert_int_equal(weft_kv__set(notes, "repeat", "2"), 0);
	assert_int_equal(weft_file__append_notes(path, notes, err, sizeof(err)), 0);

	f = weft_file__open(path, err, sizeof(err));
	assert_non_null(f);
	assert_false(weft_file__truncated(f));
	got = weft_file__notes(f);
	assert_int_equal(weft_kv__count(got), 3);
	assert_string_equal(weft_kv__get(got, "model"), "threads");
	assert_string_equal(weft_kv__get(got, "result"),
			    "{\"checksum\": 42,\n \"elapsed_s\": 1.5}");
	assert_string_equal(weft_kv__get(got, "repeat"), "2");
	assert_string_equal(weft_kv__get(weft_file__meta(f), "end_ns"), "999");
	assert_int_equal(weft_file__count_sections(f, WEFT_SEC_NOTES), 2);
	assert_int_equal(weft_file__end_events(f), 75);
	assert_int_equal(weft_file__verify(f), 0);
	weft_file__free(f);

	/* a recording cut short is refused and left as it is */
	buf = slurp(path, &len);
	spit(cut, buf, len - 30);
	free(buf);
	assert_int_equal(weft_file__append_notes(cut, notes, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: recording is truncated (it ends inside a section); notes are only appended "
		 "to a whole one",
		 cut);
	assert_string_equal(err, want);
	free(slurp(cut, &len2));
	assert_int_equal(len2, len - 30);

	/* without its END section */
	write_fixture(cut);
	buf = slurp(cut, &len);
	{
		struct layout lay;

		read_layout(cut, &lay);
		assert_int_equal(lay.type[lay.nsecs - 1], WEFT_SEC_END);
		spit(cut, buf, lay.end[lay.nsecs - 2]);
	}
	free(buf);
	assert_int_equal(weft_file__append_notes(cut, notes, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "recording is truncated (no end section)"));

	assert_int_equal(weft_file__append_notes(tpath("nope.data"), notes, err, sizeof(err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", tpath("nope.data"));
	assert_string_equal(err, want);
	weft_kv__free(notes);
}

/* A write that fails halfway (the file size limit, standing in for a full
 * disk) leaves the recording as it was. */
static void test_append_notes_rolls_back(void **state)
{
	const char *path = tpath("rollback.data");
	struct weft_kv *notes = weft_kv__new();
	struct rlimit old, lim;
	struct weft_file *f;
	size_t len, len2, i;
	char err[256], big[4096];
	void (*old_handler)(int);
	unsigned char *buf;

	(void)state;
	write_fixture(path);
	buf = slurp(path, &len);
	free(buf);
	/* incompressible, so the section is larger than the room left */
	srand(1);
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = 33 + rand() % 90;
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(weft_kv__set(notes, "result", big), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = len + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(weft_file__append_notes(path, notes, err, sizeof(err)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_non_null(strstr(err, "Failed to append notes: File too large"));
	free(slurp(path, &len2));
	assert_int_equal(len2, len);
	f = weft_file__open(path, err, sizeof(err));
	assert_non_null(f);
	assert_false(weft_file__truncated(f));
	assert_int_equal(weft_kv__count(weft_file__notes(f)), 0);
	weft_file__free(f);
	weft_kv__free(notes);
}

/* A writer on a new file at path (*fd), with chunks of chunk bytes and a
 * background writer of that backlog when they are not 0 */
static struct weft_writer *new_writer(const char *path, int *fd, size_t chunk, size_t backlog)
{
	struct weft_writer *w;

	*fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(*fd >= 0);
	w = weft_writer__new(path, *fd);
	assert_non_null(w);
	if (chunk)
		assert_int_equal(weft_writer__set_chunk_size(w, chunk), 0);
	if (backlog)
		assert_int_equal(weft_writer__background(w, backlog, true), 0);
	return w;
}

static void test_enospc(void **state)
{
	const char *path = tpath("full.data");
	struct weft_ev_switch sw = make_switch(0, 0);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC), fd, ret = 0, i;
	struct weft_kv *kv = weft_kv__new();
	struct weft_writer *w;

	(void)state;
	assert_true(full >= 0);
	/* the file header is written at once */
	assert_null(weft_writer__new("/dev/full", full));
	assert_int_equal(errno, ENOSPC);

	/* a disk that fills later: the add that flushes a chunk says so */
	w = new_writer(path, &fd, 1000, 0);
	assert_int_equal(dup2(full, fd), fd);
	for (i = 0; i < 100 && !ret; i++)
		ret = weft_writer__add_event(w, 0, &sw, sizeof(sw));
	assert_int_equal(ret, -ENOSPC);
	/* the add that takes the chunk past 1000 bytes writes it */
	assert_int_equal(i, (1000 + sizeof(sw) - 1) / sizeof(sw));
	assert_int_equal(weft_writer__error(w), -ENOSPC);
	/* and every later call */
	assert_int_equal(weft_writer__add_event(w, 1, &sw, sizeof(sw)), -ENOSPC);
	assert_int_equal(weft_writer__add_meta(w, kv), -ENOSPC);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_TASKS, "x", 1), -ENOSPC);
	assert_int_equal(weft_writer__flush(w), -ENOSPC);
	assert_int_equal(weft_writer__finish(w), -ENOSPC);
	assert_int_equal(weft_writer__bytes(w), 24);
	weft_writer__free(w);
	close(fd);

	/* flush and finish hit it too */
	w = new_writer(path, &fd, 0, 0);
	assert_int_equal(weft_writer__add_event(w, 0, &sw, sizeof(sw)), 0);
	assert_int_equal(dup2(full, fd), fd);
	assert_int_equal(weft_writer__flush(w), -ENOSPC);
	weft_writer__free(w);
	close(fd);

	w = new_writer(path, &fd, 0, 0);
	assert_int_equal(dup2(full, fd), fd);
	assert_int_equal(weft_writer__finish(w), -ENOSPC);
	weft_writer__free(w);
	close(fd);
	close(full);
	weft_kv__free(kv);
}

/* The threads of this process; *other the policy of one that is not the
 * main thread */
static int threads_of_this_process(int *other)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	assert_non_null(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		n++;
		if (other && atoi(d->d_name) != getpid())
			*other = sched_getscheduler(atoi(d->d_name));
	}
	closedir(dir);
	return n;
}

/* The background writer writes the same bytes, in the same order, with
 * room for everything or for one section at a time */
static void test_background_writer_same_file(void **state)
{
	const char *sync_path = tpath("sync.data"), *bg_path = tpath("bg.data");
	size_t backlogs[] = { 64u << 20, 1 }, i, sync_len, bg_len;
	unsigned char *sync_bytes, *bg_bytes;

	(void)state;
	write_fixture_with(sync_path, 0);
	sync_bytes = slurp(sync_path, &sync_len);
	for (i = 0; i < sizeof(backlogs) / sizeof(backlogs[0]); i++) {
		write_fixture_with(bg_path, backlogs[i]);
		bg_bytes = slurp(bg_path, &bg_len);
		assert_int_equal(bg_len, sync_len);
		assert_memory_equal(bg_bytes, sync_bytes, sync_len);
		free(bg_bytes);
	}
	free(sync_bytes);
}

/* A write error of the background thread shows at the calls after it,
 * and at finish, which never reports a partial file as whole */
static void test_background_writer_enospc(void **state)
{
	const char *path = tpath("bgfull.data");
	struct weft_ev_switch sw = make_switch(0, 0);
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC), fd, ret = 0, i, policy = -1;
	struct weft_writer *w;

	(void)state;
	assert_true(full >= 0);
	assert_int_equal(threads_of_this_process(NULL), 1);
	w = new_writer(path, &fd, 1000, 1 << 20);
	assert_int_equal(weft_writer__background(w, 1 << 20, true), -EINVAL);
	assert_int_equal(threads_of_this_process(&policy), 2);
	assert_int_equal(policy, SCHED_IDLE);
	assert_int_equal(dup2(full, fd), fd);
	for (i = 0; i < 100000 && !ret; i++)
		ret = weft_writer__add_event(w, 0, &sw, sizeof(sw));
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(weft_writer__error(w), -ENOSPC);
	assert_int_equal(weft_writer__flush(w), -ENOSPC);
	assert_int_equal(weft_writer__finish(w), -ENOSPC);
	assert_int_equal(weft_writer__bytes(w), 24);
	weft_writer__free(w);
	close(fd);

	/* an error only finish can see: it waits for the queue first */
	w = new_writer(path, &fd, 0, 1 << 20);
	assert_int_equal(weft_writer__add_event(w, 0, &sw, sizeof(sw)), 0);
	assert_int_equal(dup2(full, fd), fd);
	assert_int_equal(weft_writer__finish(w), -ENOSPC);
	weft_writer__free(w);
	close(fd);

	/* freed with sections still queued: they are dropped, nothing leaks;
	 * a caller that could not give it the normal policy back keeps it */
	w = new_writer(path, &fd, 100, 0);
	assert_int_equal(weft_writer__background(w, 1 << 20, false), 0);
	assert_int_equal(threads_of_this_process(&policy), 2);
	assert_int_equal(policy, SCHED_OTHER);
	for (i = 0; i < 1000; i++)
		assert_int_equal(weft_writer__add_event(w, i % 3, &sw, sizeof(sw)), 0);
	weft_writer__free(w);
	close(fd);
	close(full);
}

static void test_writer_misuse(void **state)
{
	const char *path = tpath("misuse.data");
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	struct weft_ev_switch sw = make_switch(0, 0);
	struct weft_writer *w = weft_writer__new(path, fd);
	char big[WEFT_RECORD_MAX + 1] = { 0 };

	(void)state;
	assert_non_null(w);
	assert_int_equal(weft_writer__add_event(w, 0, &sw, 15), -EINVAL);
	assert_int_equal(weft_writer__add_event(w, 0, big, sizeof(big)), -EINVAL);
	assert_int_equal(weft_writer__add_event(w, WEFT_MAX_STREAMS, &sw, sizeof(sw)), -EINVAL);
	assert_int_equal(weft_writer__add_event(w, 0, NULL, sizeof(sw)), -EINVAL);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_EVENTS, "x", 1), -EINVAL);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_END, "x", 1), -EINVAL);
	assert_int_equal(weft_writer__set_chunk_size(w, 0), -EINVAL);
	assert_int_equal(weft_writer__set_level(w, 0), -EINVAL);
	assert_int_equal(weft_writer__set_level(w, 9), 0);
	/* mistakes are not write errors */
	assert_int_equal(weft_writer__error(w), 0);
	assert_int_equal(weft_writer__add_event(w, 0, &sw, sizeof(sw)), 0);
	assert_int_equal(weft_writer__finish(w), 0);
	assert_int_equal(weft_writer__add_event(w, 0, &sw, sizeof(sw)), -EINVAL);
	assert_int_equal(weft_writer__flush(w), -EINVAL);
	assert_int_equal(weft_writer__finish(w), -EINVAL);
	assert_int_equal(weft_writer__events(w), 1);
	weft_writer__free(w);
	weft_writer__free(NULL);
	weft_file__free(NULL);
	close(fd);
	assert_null(weft_writer__new(path, -1));
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_newer_major),
		cmocka_unit_test(test_unknown_section_type),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_crafted_lengths),
		cmocka_unit_test(test_payload_crc_message),
		cmocka_unit_test(test_append_notes),
		cmocka_unit_test(test_append_notes_rolls_back),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_background_writer_same_file),
		cmocka_unit_test(test_background_writer_enospc),
		cmocka_unit_test(test_writer_misuse),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
