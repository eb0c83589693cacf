// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>
#include <zlib.h>
#include <cmocka.h>

#include "event_reader.h"
#include "events.h"
#include "file.h"

#define SW_SIZE sizeof(struct weft_ev_switch)

static char tmpdir[] = "/tmp/weft-test-reader.XXXXXX";

static char *tpath(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
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

/* A record as the test wrote it: where it went and a tag to find it by. */
struct rec {
	unsigned int stream;
	unsigned int tag;
	size_t len;
	union {
		struct weft_event_header hdr;
		struct weft_ev_switch sw;
		struct weft_ev_wakeup wk;
		struct weft_ev_fork fork;
		unsigned char bytes[128];
	} u;
};

static struct rec sw_rec(unsigned int stream, __u64 ts_us, unsigned int tag)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.stream = stream;
	r.tag = tag;
	r.len = sizeof(r.u.sw);
	r.u.sw.hdr.ts_ns = ts_us * 1000;
	r.u.sw.hdr.type = WEFT_EV_SWITCH;
	r.u.sw.hdr.cpu = stream;
	r.u.sw.prev_tid = tag;
	r.u.sw.prev_tgid = 4242;
	r.u.sw.next_tid = 4243;
	r.u.sw.prev_state = 1;
	r.u.sw.syscall_nr = 202;
	r.u.sw.sys_arg0 = 0xdead0000 + tag;
	return r;
}

/* The tag of a record read back. */
static unsigned int tag_of(const struct weft_event_header *ev)
{
	switch (ev->type) {
	case WEFT_EV_SWITCH:
		return ((const struct weft_ev_switch *)ev)->prev_tid;
	case WEFT_EV_WAKEUP:
		return ((const struct weft_ev_wakeup *)ev)->tid;
	case WEFT_EV_FORK:
		return ((const struct weft_ev_fork *)ev)->child_tid;
	default:
		return ~0U;
	}
}

static void write_recs(const char *path, const struct rec *recs, size_t n, size_t chunk)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	struct weft_writer *w = weft_writer__new(path, fd);
	size_t i;

	assert_non_null(w);
	assert_int_equal(weft_writer__set_chunk_size(w, chunk), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(weft_writer__add_event(w, recs[i].stream, &recs[i].u, recs[i].len),
				 0);
	assert_int_equal(weft_writer__finish(w), 0);
	weft_writer__free(w);
	close(fd);
}

/* Readers made by the tests merge in a thread of their own when set */
static bool force_prefetch;

static struct weft_event_reader *new_reader(struct weft_file *f)
{
	struct weft_event_reader *r = weft_event_reader__new(f);

	assert_non_null(r);
	if (force_prefetch)
		weft_event_reader__prefetch(r);
	return r;
}

/* Reads path and checks the tags come out as want, each record byte for
 * byte as written. */
static struct weft_event_reader *read_expect(struct weft_file **fp, const char *path,
					     const struct rec *recs, size_t n,
					     const unsigned int *want, size_t nwant)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	unsigned int maxtag = 0;
	struct weft_file *f;
	size_t i = 0, k;
	size_t *by_tag;
	char err[256];

	/* tags are unique: index the records by them */
	for (k = 0; k < n; k++)
		maxtag = recs[k].tag > maxtag ? recs[k].tag : maxtag;
	by_tag = calloc(maxtag + 1, sizeof(*by_tag));
	assert_non_null(by_tag);
	for (k = 0; k < n; k++)
		by_tag[recs[k].tag] = k;
	f = weft_file__open(path, err, sizeof(err));
	assert_non_null(f);
	r = new_reader(f);
	while (weft_event_reader__next(r, &ev) == 1) {
		assert_true(i < nwant);
		if (tag_of(ev) != want[i])
			fail_msg("record %zu: tag %u, want %u", i, tag_of(ev), want[i]);
		k = by_tag[want[i]];
		assert_int_equal(recs[k].len, weft_event_size(ev->type));
		assert_memory_equal(ev, &recs[k].u, recs[k].len);
		assert_int_equal(((uintptr_t)ev) & 7, 0);
		i++;
	}
	assert_int_equal(i, nwant);
	assert_int_equal(weft_event_reader__count(r), nwant);
	free(by_tag);
	*fp = f;
	return r;
}

static void test_merge_by_hand(void **state)
{
	struct rec recs[20];
	size_t n = 0;
	struct weft_event_reader *r;
	struct weft_file *f;
	/* ts in us: stream 0 every 10; stream 1 with a tie against stream 0
	 * at 20, a record 3 us earlier than its predecessor (22 after 25),
	 * and a tie within itself at 35; stream 5 (ids may be sparse) with a
	 * wakeup, an unknown type and a fork. */
	static const unsigned int want[] = { 500, 1,   101, 2,	 102, 104, 103, 3,
					     105, 106, 4,   503, 5,   6,   107 };

	(void)state;
	recs[n++] = sw_rec(0, 10, 1);
	recs[n++] = sw_rec(0, 20, 2);
	recs[n++] = sw_rec(0, 30, 3);
	recs[n++] = sw_rec(0, 40, 4);
	recs[n++] = sw_rec(0, 50, 5);
	recs[n++] = sw_rec(0, 60, 6);
	recs[n++] = sw_rec(1, 15, 101);
	recs[n++] = sw_rec(1, 20, 102);
	recs[n++] = sw_rec(1, 25, 103);
	recs[n++] = sw_rec(1, 22, 104);
	recs[n++] = sw_rec(1, 35, 105);
	recs[n++] = sw_rec(1, 35, 106);
	recs[n++] = sw_rec(1, 70, 107);
	memset(&recs[n], 0, sizeof(recs[n]));
	recs[n].stream = 5;
	recs[n].tag = 500;
	recs[n].len = sizeof(struct weft_ev_wakeup);
	recs[n].u.wk.hdr.ts_ns = 5000;
	recs[n].u.wk.hdr.type = WEFT_EV_WAKEUP;
	recs[n].u.wk.waking_ts_ns = 4000;
	recs[n].u.wk.tid = 500;
	recs[n].u.wk.waker_tid = 1;
	n++;
	memset(&recs[n], 0, sizeof(recs[n]));
	recs[n].stream = 5;
	recs[n].tag = 501;
	recs[n].len = 24;
	recs[n].u.hdr.ts_ns = 12000;
	recs[n].u.hdr.type = 99;
	n++;
	memset(&recs[n], 0, sizeof(recs[n]));
	recs[n].stream = 5;
	recs[n].tag = 503;
	recs[n].len = sizeof(struct weft_ev_fork);
	recs[n].u.fork.hdr.ts_ns = 45000;
	recs[n].u.fork.hdr.type = WEFT_EV_FORK;
	recs[n].u.fork.child_tid = 503;
	memcpy(recs[n].u.fork.comm, "worker", 7);
	n++;
	/* 4 switches to a chunk */
	write_recs(tpath("hand.data"), recs, n, 3 * SW_SIZE + 8);
	r = read_expect(&f, tpath("hand.data"), recs, n, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(weft_file__nstreams(f), 6);
	assert_int_equal(weft_event_reader__skipped(r), 1);
	assert_int_equal(weft_event_reader__reordered(r), 0);
	weft_event_reader__free(r);
	weft_file__free(f);
}

/* The late record is the first of the next chunk: its predecessor is in
 * memory still (the window), so it goes in front of it. */
static void test_late_across_chunks(void **state)
{
	static const unsigned int want[] = { 1, 2, 3, 5, 4, 6 };
	struct weft_event_reader *r;
	struct rec recs[6];
	struct weft_file *f;

	(void)state;
	recs[0] = sw_rec(0, 10, 1);
	recs[1] = sw_rec(0, 20, 2);
	recs[2] = sw_rec(0, 30, 3);
	recs[3] = sw_rec(0, 40, 4);
	recs[4] = sw_rec(0, 37, 5);
	recs[5] = sw_rec(0, 50, 6);
	/* one record a chunk */
	write_recs(tpath("late.data"), recs, 6, 1);
	r = read_expect(&f, tpath("late.data"), recs, 6, want, 6);
	assert_int_equal(weft_file__count_sections(f, WEFT_SEC_EVENTS), 6);
	assert_int_equal(weft_event_reader__reordered(r), 0);
	weft_event_reader__free(r);
	weft_file__free(f);
}

static void test_ties(void **state)
{
	unsigned int want[12], s, k, n = 0;
	struct weft_event_reader *r;
	struct rec recs[12];
	struct weft_file *f;

	(void)state;
	/* written stream 3 first; all at one instant */
	for (s = 4; s-- > 0;)
		for (k = 0; k < 3; k++)
			recs[n++] = sw_rec(s, 100, s * 10 + k);
	for (s = 0, n = 0; s < 4; s++)
		for (k = 0; k < 3; k++)
			want[n++] = s * 10 + k;
	write_recs(tpath("ties.data"), recs, 12, 100);
	r = read_expect(&f, tpath("ties.data"), recs, 12, want, 12);
	weft_event_reader__free(r);
	weft_file__free(f);
}

/* A record more than the window late is returned as it comes, and counted. */
static void test_beyond_window(void **state)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;
	struct rec *recs = calloc(1200, sizeof(*recs));
	unsigned long long last = 0, descents = 0, got = 0;
	size_t i, chunk;

	(void)state;
	assert_non_null(recs);
	for (chunk = SW_SIZE * 4; chunk <= SW_SIZE * 2000; chunk *= 500) {
		for (i = 0; i < 1200; i++)
			recs[i] = sw_rec(0, 1000 + i, i);
		/* 1000 places late */
		recs[1000] = sw_rec(0, 1, 1000);
		write_recs(tpath("window.data"), recs, 1200, chunk);
		f = weft_file__open(tpath("window.data"), NULL, 0);
		assert_non_null(f);
		r = weft_event_reader__new(f);
		assert_non_null(r);
		last = descents = got = 0;
		while (weft_event_reader__next(r, &ev) == 1) {
			descents += ev->ts_ns < last;
			last = ev->ts_ns;
			got++;
		}
		assert_int_equal(got, 1200);
		assert_int_equal(descents, 1);
		assert_int_equal(weft_event_reader__reordered(r), 1);
		weft_event_reader__free(r);
		weft_file__free(f);
	}
	free(recs);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->u.hdr.ts_ns != y->u.hdr.ts_ns)
		return x->u.hdr.ts_ns < y->u.hdr.ts_ns ? -1 : 1;
	if (x->stream != y->stream)
		return x->stream < y->stream ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* Six streams written in random interleaving, ~2 us apart with a record
 * now and then a few us early: the output is the records sorted by (ts,
 * stream, position). */
static void random_streams(unsigned int per)
{
	enum { NS = 6 };
	unsigned int N = NS * per;
	struct rec *recs = calloc(N, sizeof(*recs)), *sorted = calloc(N, sizeof(*recs));
	unsigned int *want = calloc(N, sizeof(*want)), left[NS], s, i, n = 0;
	__u64 ts[NS];
	struct weft_event_reader *r;
	struct weft_file *f;

	assert_true(recs && sorted && want);
	for (s = 0; s < NS; s++) {
		left[s] = per;
		ts[s] = 1000000 + s;
	}
	while (n < N) {
		s = rnd(NS);
		if (!left[s])
			continue;
		left[s]--;
		ts[s] += 1 + rnd(3);
		/* tags increase with position within a stream */
		recs[n] = sw_rec(s, ts[s], s * per + (per - left[s]));
		if (rnd(10) == 0)
			recs[n].u.hdr.ts_ns -= 3000 + rnd(2000);
		n++;
	}
	memcpy(sorted, recs, N * sizeof(*recs));
	qsort(sorted, N, sizeof(*sorted), cmp_rec);
	for (i = 0; i < N; i++)
		want[i] = sorted[i].tag;
	write_recs(tpath("random.data"), recs, N, 1024);
	r = read_expect(&f, tpath("random.data"), recs, N, want, N);
	assert_int_equal(weft_event_reader__reordered(r), 0);
	weft_event_reader__free(r);
	weft_file__free(f);
	free(recs);
	free(sorted);
	free(want);
}

static void test_random_streams(void **state)
{
	(void)state;
	random_streams(3000);
}

static void test_no_events(void **state)
{
	int fd = open(tpath("empty.data"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
	struct weft_writer *w = weft_writer__new("empty.data", fd);
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;

	(void)state;
	assert_non_null(w);
	assert_int_equal(weft_writer__add_section(w, WEFT_SEC_TASKS, "t", 1), 0);
	assert_int_equal(weft_writer__finish(w), 0);
	weft_writer__free(w);
	close(fd);
	f = weft_file__open(tpath("empty.data"), NULL, 0);
	assert_non_null(f);
	r = weft_event_reader__new(f);
	assert_non_null(r);
	assert_int_equal(weft_event_reader__next(r, &ev), 0);
	assert_int_equal(weft_event_reader__next(r, &ev), 0);
	assert_string_equal(weft_event_reader__error(r), "");
	weft_event_reader__free(r);
	weft_file__free(f);
	weft_event_reader__free(NULL);
	assert_null(weft_event_reader__new(NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_corrupt_chunk(void **state)
{
	const struct weft_event_header *ev;
	const struct weft_section_info *si;
	struct weft_event_reader *r;
	struct rec recs[40];
	struct weft_file *f;
	unsigned char byte;
	char want[128];
	int fd, ret, i;

	(void)state;
	for (i = 0; i < 40; i++)
		recs[i] = sw_rec(i % 2, 10 * i, i);
	write_recs(tpath("corrupt.data"), recs, 40, 300);
	f = weft_file__open(tpath("corrupt.data"), NULL, 0);
	assert_non_null(f);
	si = weft_file__section(f, 2);
	assert_int_equal(si->type, WEFT_SEC_EVENTS);
	snprintf(want, sizeof(want), "corrupt section at offset %llu (crc mismatch)", si->offset);
	fd = open(tpath("corrupt.data"), O_RDWR);
	assert_int_equal(pread(fd, &byte, 1, si->offset + 30), 1);
	byte ^= 4;
	assert_int_equal(pwrite(fd, &byte, 1, si->offset + 30), 1);
	close(fd);
	r = new_reader(f);
	while ((ret = weft_event_reader__next(r, &ev)) == 1)
		;
	assert_int_equal(ret, -EBADMSG);
	assert_string_equal(weft_event_reader__error(r), want);
	assert_int_equal(weft_event_reader__next(r, &ev), -EBADMSG);
	weft_event_reader__free(r);
	weft_file__free(f);
}

/* The same records, errors and counts when a thread merges: 18,000
 * records make several batches, 120,000 (9 MB) go round the ring of
 * batches several times, each side waiting for the other. */
static void test_prefetched(void **state)
{
	force_prefetch = true;
	test_random_streams(state);
	random_streams(20000);
	test_corrupt_chunk(state);
	force_prefetch = false;
}

static unsigned int threads_now(void)
{
	DIR *d = opendir("/proc/self/task");
	unsigned int n = 0;
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The reader merges in a thread of its own, and freed halfway, stops and
 * joins it. */
static void test_prefetch_stopped_early(void **state)
{
	enum { N = 100000 };
	struct rec *recs = calloc(N, sizeof(*recs));
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;
	int i;

	(void)state;
	assert_non_null(recs);
	for (i = 0; i < N; i++)
		recs[i] = sw_rec(i % 3, 10 * i, i);
	write_recs(tpath("early.data"), recs, N, 4096);
	f = weft_file__open(tpath("early.data"), NULL, 0);
	assert_non_null(f);
	r = weft_event_reader__new(f);
	assert_non_null(r);
	weft_event_reader__prefetch(r);
	for (i = 0; i < 100; i++)
		assert_int_equal(weft_event_reader__next(r, &ev), 1);
	assert_int_equal(tag_of(ev), 99);
	assert_int_equal(weft_event_reader__count(r), 100);
	/* 8 MB of records, more than the ring of batches holds: the thread
	 * waits for the batches to be read */
	assert_int_equal(threads_now(), 2);
	weft_event_reader__free(r);
	/* pthread_join returns when the kernel clears the thread's id, a
	 * moment before /proc/self/task stops listing it */
	for (i = 0; i < 1000 && threads_now() != 1; i++)
		usleep(1000);
	assert_int_equal(threads_now(), 1);
	weft_file__free(f);
	free(recs);
}

/* Chunks whose crc is right but whose contents lie, as a buggy or hostile
 * writer would make them. */
static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[n++] = v;
	return n;
}

static void put32(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void write_crafted(const char *path, unsigned int aux, const unsigned char *raw, size_t len)
{
	unsigned char hdr[24], out[4096];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	struct weft_writer *w = weft_writer__new(path, fd); /* just the file header */
	z_stream zs;

	assert_non_null(w);
	weft_writer__free(w);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)raw;
	zs.avail_in = len;
	zs.next_out = out;
	zs.avail_out = sizeof(out);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = WEFT_SEC_EVENTS;
	hdr[2] = 1;
	put32(hdr + 4, aux);
	put32(hdr + 8, zs.total_out);
	put32(hdr + 12, len);
	put32(hdr + 16, crc32(0, out, zs.total_out));
	put32(hdr + 20, crc32(0, hdr, 20));
	assert_int_equal(write(fd, hdr, 24), 24);
	assert_int_equal(write(fd, out, zs.total_out), (ssize_t)zs.total_out);
	deflateEnd(&zs);
	close(fd);
}

static void expect_bad_chunk(const unsigned char *raw, size_t len, unsigned int aux,
			     const char *why)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct weft_file *f;
	char want[128];
	int ret;

	write_crafted(tpath("crafted.data"), aux, raw, len);
	f = weft_file__open(tpath("crafted.data"), NULL, 0);
	assert_non_null(f);
	assert_true(weft_file__truncated(f));
	r = weft_event_reader__new(f);
	assert_non_null(r);
	while ((ret = weft_event_reader__next(r, &ev)) == 1)
		;
	snprintf(want, sizeof(want), "corrupt section at offset 24 (events chunk: %s)", why);
	assert_int_equal(ret, -EBADMSG);
	assert_string_equal(weft_event_reader__error(r), want);
	weft_event_reader__free(r);
	weft_file__free(f);
}

static size_t chunk_of(unsigned char *p, uint64_t stream, uint64_t count, const unsigned char *lens,
		       size_t nlens, const unsigned char *tss, size_t nts, const void *body,
		       size_t nbody)
{
	size_t n = put_varint(p, stream);

	n += put_varint(p + n, count);
	n += put_varint(p + n, nlens);
	n += put_varint(p + n, nts);
	memcpy(p + n, lens, nlens);
	n += nlens;
	memcpy(p + n, tss, nts);
	n += nts;
	memcpy(p + n, body, nbody);
	return n + nbody;
}

static void test_hostile_chunks(void **state)
{
	struct rec sw = sw_rec(0, 1, 7);
	unsigned char raw[512], lens[2] = { SW_SIZE, SW_SIZE }, tss[2] = { 2, 2 }, short_len = 8;
	unsigned char big_count[16];
	size_t n;

	(void)state;
	/* a good chunk of one record reads */
	n = chunk_of(raw, 3, 1, lens, 1, tss, 1, (char *)&sw.u + 8, SW_SIZE - 8);
	write_crafted(tpath("crafted.data"), 3, raw, n);
	{
		struct weft_file *f = weft_file__open(tpath("crafted.data"), NULL, 0);
		struct weft_event_reader *r = weft_event_reader__new(f);
		const struct weft_event_header *ev;

		assert_int_equal(weft_event_reader__next(r, &ev), 1);
		assert_int_equal(ev->ts_ns, 1); /* zigzag 2 is +1 */
		assert_memory_equal((const char *)ev + 8, (char *)&sw.u + 8, SW_SIZE - 8);
		assert_int_equal(weft_event_reader__next(r, &ev), 0);
		weft_event_reader__free(r);
		weft_file__free(f);
	}
	expect_bad_chunk(raw, n, 4, "stream differs from its header");
	/* more records than bytes to hold their lengths */
	n = put_varint(big_count, 0);
	n += put_varint(big_count + n, 1ULL << 40);
	n += put_varint(big_count + n, 1);
	n += put_varint(big_count + n, 1);
	big_count[n++] = SW_SIZE;
	big_count[n++] = 2;
	expect_bad_chunk(big_count, n, 0, "columns do not fit");
	n = chunk_of(raw, 0, 1, &short_len, 1, tss, 1, (char *)&sw.u + 8, SW_SIZE - 8);
	expect_bad_chunk(raw, n, 0, "bad record length");
	/* says two records, holds one body */
	n = chunk_of(raw, 0, 2, lens, 2, tss, 2, (char *)&sw.u + 8, SW_SIZE - 8);
	expect_bad_chunk(raw, n, 0, "bad record length");
	/* a byte left over in the body column */
	n = chunk_of(raw, 0, 1, lens, 1, tss, 1, (char *)&sw.u + 8, SW_SIZE - 7);
	expect_bad_chunk(raw, n, 0, "columns do not add up");
	/* a length column shorter than its count */
	n = chunk_of(raw, 0, 2, lens, 1, tss, 2, (char *)&sw.u + 8, SW_SIZE - 8);
	expect_bad_chunk(raw, n, 0, "columns do not fit");
	/* a prefix cut off */
	expect_bad_chunk(raw, 2, 0, "bad prefix");
}

/* Records are append-only: an older weft's shorter record reads at today's
 * size with the fields it lacks 0, a newer weft's longer one is cut to
 * today's size, a type this weft does not know is counted, not read. */
static void test_append_only_records(void **state)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct rec recs[4];
	struct weft_file *f;
	const struct weft_ev_switch *sw;
	char err[256];

	(void)state;
	recs[0] = sw_rec(0, 10, 1);
	recs[0].u.sw.user_stack_id = 7;
	recs[0].u.sw.kernel_stack_id = 8;
	/* an older weft's switch: without the stack ids */
	recs[0].len = offsetof(struct weft_ev_switch, user_stack_id);
	recs[1] = sw_rec(0, 20, 2);
	recs[1].u.sw.user_stack_id = 9;
	/* a newer weft's: 16 bytes of fields this weft does not know */
	memset(recs[1].u.bytes + SW_SIZE, 0xab, 16);
	recs[1].len = SW_SIZE + 16;
	memset(&recs[2], 0, sizeof(recs[2]));
	recs[2].len = 40;
	recs[2].u.hdr.ts_ns = 25000;
	recs[2].u.hdr.type = WEFT_EV_TYPE_MAX + 5;
	recs[3] = sw_rec(0, 30, 3);
	write_recs(tpath("append.data"), recs, 4, 1 << 16);
	f = weft_file__open(tpath("append.data"), err, sizeof(err));
	assert_non_null(f);
	r = new_reader(f);
	assert_int_equal(weft_event_reader__next(r, &ev), 1);
	sw = (const void *)ev;
	assert_int_equal(sw->prev_tid, 1);
	assert_int_equal(sw->sys_arg0, 0xdead0001);
	assert_int_equal(sw->user_stack_id, 0);
	assert_int_equal(sw->kernel_stack_id, 0);
	assert_int_equal(weft_event_reader__next(r, &ev), 1);
	sw = (const void *)ev;
	assert_int_equal(sw->prev_tid, 2);
	assert_int_equal(sw->user_stack_id, 9);
	assert_memory_equal(ev, &recs[1].u, SW_SIZE);
	assert_int_equal(weft_event_reader__next(r, &ev), 1);
	assert_int_equal(((const struct weft_ev_switch *)ev)->prev_tid, 3);
	assert_int_equal(weft_event_reader__next(r, &ev), 0);
	assert_int_equal(weft_event_reader__skipped(r), 1);
	weft_event_reader__free(r);
	weft_file__free(f);
}

/* Makes the file at path say format 1.0 (weft 0.1), whose records changed
 * in place: the header's major and its crc */
static void make_format_1_0(const char *path)
{
	unsigned char hdr[24];
	int fd = open(path, O_RDWR | O_CLOEXEC);
	__u32 crc;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
	hdr[8] = 1;
	hdr[9] = 0;
	crc = crc32(0, hdr, 20);
	hdr[20] = crc;
	hdr[21] = crc >> 8;
	hdr[22] = crc >> 16;
	hdr[23] = crc >> 24;
	assert_int_equal(pwrite(fd, hdr, sizeof(hdr), 0), sizeof(hdr));
	close(fd);
}

/* A 1.0 recording is read when every record has format 2.0's first size
 * (a switch without owner_tid, 64 bytes), the fields added since as 0;
 * the first that has not stops the reader with one line saying to record
 * again */
static void test_format_1_0(void **state)
{
	const struct weft_event_header *ev;
	struct weft_event_reader *r;
	struct rec recs[3];
	struct weft_file *f;
	unsigned int major, minor;
	char err[256];
	int ret;

	(void)state;
	recs[0] = sw_rec(0, 10, 1);
	recs[1] = sw_rec(0, 20, 2);
	recs[2] = sw_rec(0, 30, 3);
	for (int i = 0; i < 3; i++) {
		recs[i].u.sw.owner_tid = 77; /* not written: the records end before */
		recs[i].len = offsetof(struct weft_ev_switch, owner_tid);
	}
	write_recs(tpath("v1.data"), recs, 3, 1 << 16);
	make_format_1_0(tpath("v1.data"));
	f = weft_file__open(tpath("v1.data"), err, sizeof(err));
	assert_non_null(f);
	weft_file__format(f, &major, &minor);
	assert_int_equal(major, 1);
	r = new_reader(f);
	while ((ret = weft_event_reader__next(r, &ev)) == 1)
		assert_int_equal(((const struct weft_ev_switch *)ev)->owner_tid, 0);
	assert_int_equal(ret, 0);
	assert_int_equal(weft_event_reader__count(r), 3);
	weft_event_reader__free(r);
	weft_file__free(f);

	/* today's size is not 1.0's */
	recs[1].len = SW_SIZE;
	write_recs(tpath("v1-short.data"), recs, 3, 1 << 16);
	make_format_1_0(tpath("v1-short.data"));
	f = weft_file__open(tpath("v1-short.data"), err, sizeof(err));
	assert_non_null(f);
	r = new_reader(f);
	while ((ret = weft_event_reader__next(r, &ev)) == 1)
		;
	assert_int_equal(ret, -EPROTONOSUPPORT);
	assert_string_equal(
		weft_event_reader__error(r),
		"recording format 1.0 (weft unknown), this weft reads 2.x: record again");
	weft_event_reader__free(r);
	weft_file__free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_by_hand),
		cmocka_unit_test(test_late_across_chunks),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_beyond_window),
		cmocka_unit_test(test_random_streams),
		cmocka_unit_test(test_no_events),
		cmocka_unit_test(test_corrupt_chunk),
		cmocka_unit_test(test_hostile_chunks),
		cmocka_unit_test(test_append_only_records),
		cmocka_unit_test(test_format_1_0),
		cmocka_unit_test(test_prefetched),
		cmocka_unit_test(test_prefetch_stopped_early),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
