// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* perf maps: parsing (gaps, overlaps against a brute-force oracle, bad
 * lines, a last line still being written, huge files read from their
 * end), the checks before a map is trusted (symlink, owner, age, kind),
 * the process's owner from /proc, and the book the recorder keeps. */
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "perf_map.h"

static char dir[] = "/tmp/weft-test-perf-map.XXXXXX";

static struct perf_map *parse(const char *text)
{
	struct perf_map *m = perf_map__parse(text, strlen(text));

	assert_non_null(m);
	return m;
}

static void expect_name(const struct perf_map *m, __u64 addr, const char *name, __u64 off)
{
	const char *got = NULL;
	__u64 got_off = 0;

	if (!name) {
		assert_false(perf_map__find(m, addr, &got, &got_off));
		return;
	}
	assert_true(perf_map__find(m, addr, &got, &got_off));
	assert_string_equal(got, name);
	assert_int_equal(got_off, off);
}

static void test_lines_and_gaps(void **state)
{
	struct perf_map *m;

	(void)state;
	m = parse("7f0000001000 40 JS:~computeHash /app/hash.js:1:21\n"
		  "0x7f0000002000 0x10 py::work:/app/w.py\n"
		  "7F0000003000\t8\tLazyCompile:*run\n");
	assert_int_equal(perf_map__count(m), 3);
	assert_int_equal(perf_map__bad_lines(m), 0);
	/* names keep their spaces; 0x and upper case read as hex */
	expect_name(m, 0x7f0000001000, "JS:~computeHash /app/hash.js:1:21", 0);
	expect_name(m, 0x7f000000103f, "JS:~computeHash /app/hash.js:1:21", 0x3f);
	expect_name(m, 0x7f0000002008, "py::work:/app/w.py", 8);
	expect_name(m, 0x7f0000003007, "LazyCompile:*run", 7);
	/* gaps: before, between, after; ends are exclusive */
	expect_name(m, 0x7f0000000fff, NULL, 0);
	expect_name(m, 0x7f0000001040, NULL, 0);
	expect_name(m, 0x7f0000002010, NULL, 0);
	expect_name(m, 0x7f0000003008, NULL, 0);
	expect_name(m, 0, NULL, 0);
	expect_name(m, UINT64_MAX, NULL, 0);
	perf_map__free(m);

	/* empty text: a map that names nothing */
	m = perf_map__parse("", 0);
	assert_non_null(m);
	assert_int_equal(perf_map__count(m), 0);
	expect_name(m, 0x1000, NULL, 0);
	perf_map__free(m);
}

static void test_overlaps(void **state)
{
	struct perf_map *m;

	(void)state;
	/* code moved: the later line wins its range, the older keeps both
	 * sides of it */
	m = parse("1000 100 old\n"
		  "1040 20 new\n");
	expect_name(m, 0x1000, "old", 0);
	expect_name(m, 0x103f, "old", 0x3f);
	expect_name(m, 0x1040, "new", 0);
	expect_name(m, 0x105f, "new", 0x1f);
	expect_name(m, 0x1060, "old", 0x60);
	expect_name(m, 0x10ff, "old", 0xff);
	expect_name(m, 0x1100, NULL, 0);
	assert_int_equal(perf_map__count(m), 3);
	perf_map__free(m);

	/* an older line inside a newer one is hidden; the same range twice:
	 * the later */
	m = parse("2040 10 inner\n"
		  "2000 100 outer\n"
		  "3000 10 first\n"
		  "3000 10 second\n"
		  "3008 10 third\n");
	expect_name(m, 0x2045, "outer", 0x45);
	expect_name(m, 0x3004, "second", 4);
	expect_name(m, 0x3008, "third", 0);
	expect_name(m, 0x3017, "third", 0xf);
	perf_map__free(m);
}

/* Random lines against the rule said plainly: the last line holding an
 * address names it. */
static void test_overlaps_against_oracle(void **state)
{
	enum { LINES = 300, SPACE = 4096 };
	struct {
		__u64 start, size;
	} lines[LINES];
	char *text = malloc(LINES * 48), name[16];
	const char *got;
	struct perf_map *m;
	size_t len, round;
	__u64 addr, off;
	int i, last;

	(void)state;
	srand(26);
	for (round = 0; round < 20; round++) {
		len = 0;
		for (i = 0; i < LINES; i++) {
			lines[i].start = 0x10000 + rand() % SPACE;
			lines[i].size = 1 + rand() % (round % 2 ? 400 : 40);
			len += sprintf(text + len, "%llx %llx f%d\n",
				       (unsigned long long)lines[i].start,
				       (unsigned long long)lines[i].size, i);
		}
		m = perf_map__parse(text, len);
		assert_non_null(m);
		assert_true(perf_map__count(m) <= 2 * LINES + 1);
		for (addr = 0x10000 - 2; addr < 0x10000 + SPACE + 450; addr++) {
			last = -1;
			for (i = 0; i < LINES; i++)
				if (addr >= lines[i].start && addr < lines[i].start + lines[i].size)
					last = i;
			if (last < 0) {
				assert_false(perf_map__find(m, addr, &got, &off));
				continue;
			}
			snprintf(name, sizeof(name), "f%d", last);
			expect_name(m, addr, name, addr - lines[last].start);
		}
		perf_map__free(m);
	}
	free(text);
}

static void test_bad_lines(void **state)
{
	const char *text = "\n"
			   "1000 10 good\n"
			   "zzzz 10 not hex\n"
			   "2000 10\n" /* no name */
			   "2000 10 \n" /* a blank name */
			   "3000 0 empty\n" /* no code */
			   "ffffffffffffff00 200 wraps\n"
			   "12345678901234567 10 seventeen digits\n"
			   "4000-10 dash\n"
			   "5000 10x name\n"
			   " 6000 10 leading space\n"
			   "7000 10 crlf\r\n"
			   "\n"
			   "8000 10 partial"; /* no newline: still being written */
	struct perf_map *m = parse(text);

	(void)state;
	assert_int_equal(perf_map__bad_lines(m), 9);
	assert_int_equal(perf_map__count(m), 2);
	expect_name(m, 0x1005, "good", 5);
	expect_name(m, 0x7005, "crlf", 5);
	expect_name(m, 0x8005, NULL, 0);
	expect_name(m, 0x2005, NULL, 0);
	expect_name(m, 0xffffffffffffff10, NULL, 0);
	perf_map__free(m);

	/* NUL bytes: the line ends there, never a read past the text */
	m = perf_map__parse("1000 10 a\0b\n2000\0 10 c\n", 24);
	assert_non_null(m);
	expect_name(m, 0x1000, "a", 0);
	expect_name(m, 0x2000, NULL, 0);
	assert_int_equal(perf_map__bad_lines(m), 1);
	perf_map__free(m);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct perf_map_owner me(void)
{
	return (struct perf_map_owner){ .uid = geteuid(), .start_ns = 0 };
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A million lines (a long node run): parsed in seconds, not minutes;
 * past max_bytes only the end is read, from a whole line on. */
static void test_huge(void **state)
{
	enum { LINES = 1000000 };
	char path[256], *text = malloc((size_t)LINES * 64);
	struct perf_map_owner owner = me();
	struct perf_map *m;
	size_t len = 0;
	double t0;
	int i;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < LINES; i++)
		len += sprintf(text + len, "%x 20 LazyCompile:~f%d /a.js:%d\n",
			       0x10000000 + i * 0x20, i, i);
	t0 = now_s();
	m = perf_map__parse(text, len);
	assert_non_null(m);
	print_message("%d lines (%.1f MB) parsed in %.3f s\n", LINES, len / 1e6, now_s() - t0);
	assert_int_equal(perf_map__count(m), LINES);
	expect_name(m, 0x10000000 + 777777 * 0x20 + 3, "LazyCompile:~f777777 /a.js:777777", 3);
	perf_map__free(m);

	snprintf(path, sizeof(path), "%s/huge.map", dir);
	write_file(path, text, len);
	m = perf_map__read(path, &owner, PERF_MAP_MAX_BYTES);
	assert_non_null(m);
	assert_false(perf_map__truncated(m));
	assert_int_equal(perf_map__count(m), LINES);
	perf_map__free(m);

	/* 4 KiB from the end: the last lines, the cut one skipped */
	m = perf_map__read(path, &owner, 4096);
	assert_non_null(m);
	assert_true(perf_map__truncated(m));
	assert_int_equal(perf_map__bad_lines(m), 0);
	assert_true(perf_map__count(m) > 4096 / 60 && perf_map__count(m) < 4096 / 40);
	expect_name(m, 0x10000000 + (LINES - 1) * 0x20, "LazyCompile:~f999999 /a.js:999999", 0);
	expect_name(m, 0x10000000, NULL, 0);
	perf_map__free(m);
	unlink(path);
	free(text);
}

static void test_read_checks(void **state)
{
	struct perf_map_owner owner = me();
	char path[256], link[256], fifo[256];
	struct timespec times[2];
	struct perf_map *m;
	time_t base;

	(void)state;
	snprintf(path, sizeof(path), "%s/perf-1.map", dir);
	snprintf(link, sizeof(link), "%s/perf-2.map", dir);
	snprintf(fifo, sizeof(fifo), "%s/perf-3.map", dir);
	write_file(path, "1000 10 jit\n", 12);

	m = perf_map__read(path, &owner, PERF_MAP_MAX_BYTES);
	assert_non_null(m);
	expect_name(m, 0x1001, "jit", 1);
	perf_map__free(m);

	/* none */
	errno = 0;
	assert_null(perf_map__read("/nonexistent/perf-1.map", &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, ENOENT);

	/* a symlink (to a file the process owns, even) */
	assert_int_equal(symlink(path, link), 0);
	errno = 0;
	assert_null(perf_map__read(link, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, ELOOP);

	/* another owner */
	owner.uid = geteuid() + 1;
	errno = 0;
	assert_null(perf_map__read(path, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, EPERM);
	owner = me();

	/* written before the process started (within the slack: kept) */
	base = time(NULL);
	owner.start_ns = (__u64)base * 1000000000ULL;
	times[0].tv_sec = times[1].tv_sec = base;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	owner.start_ns += PERF_MAP_START_SLACK_NS - 1000;
	m = perf_map__read(path, &owner, PERF_MAP_MAX_BYTES);
	assert_non_null(m);
	perf_map__free(m);
	owner.start_ns += 2000;
	errno = 0;
	assert_null(perf_map__read(path, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, ESTALE);
	owner.start_ns = (__u64)time(NULL) * 1000000000ULL;
	times[0].tv_sec = times[1].tv_sec = time(NULL) - 60;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	errno = 0;
	assert_null(perf_map__read(path, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, ESTALE);
	owner = me();

	/* not a regular file: a FIFO nobody writes must not hang, a folder */
	assert_int_equal(mkfifo(fifo, 0644), 0);
	errno = 0;
	assert_null(perf_map__read(fifo, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(perf_map__read(dir, &owner, PERF_MAP_MAX_BYTES));
	assert_int_equal(errno, EINVAL);
	unlink(fifo);
	unlink(link);
	unlink(path);
}

static void test_owner(void **state)
{
	struct perf_map_owner o;
	struct timespec now;
	char path[256];
	FILE *f;

	(void)state;
	assert_int_equal(perf_map_owner__read(NULL, getpid(), &o), 0);
	assert_int_equal(o.uid, geteuid());
	clock_gettime(CLOCK_REALTIME, &now);
	/* this test started a moment ago, within a clock tick */
	assert_true(o.start_ns <= (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec + 20000000ULL);
	assert_true(o.start_ns + 600 * 1000000000ULL > (__u64)now.tv_sec * 1000000000ULL);
	assert_int_equal(perf_map_owner__read(NULL, 0x3fffffff, &o), -ENOENT);

	/* a name with spaces and ')', and a fsuid apart from the uid */
	snprintf(path, sizeof(path), "%s/77", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/77/status", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t0\t0\t0\t0\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/77/stat", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("77 (a b) c) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 500 100 1\n", f);
	fclose(f);
	assert_int_equal(perf_map_owner__read(dir, 77, &o), 0);
	assert_int_equal(o.uid, 1003);
	{
		struct timespec rt, bt;
		__u64 boot;

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_BOOTTIME, &bt);
		boot = (__u64)rt.tv_sec * 1000000000ULL + rt.tv_nsec -
		       ((__u64)bt.tv_sec * 1000000000ULL + bt.tv_nsec);
		/* 500 ticks after boot */
		assert_true(o.start_ns >
			    boot + 500 * (1000000000ULL / sysconf(_SC_CLK_TCK)) - 1000000ULL);
		assert_true(o.start_ns <
			    boot + 500 * (1000000000ULL / sysconf(_SC_CLK_TCK)) + 1000000ULL);
	}
	/* a stat line cut short */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("77 (a b) S 1 77\n", f);
	fclose(f);
	assert_int_equal(perf_map_owner__read(dir, 77, &o), -EINVAL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/77/status", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/77", dir);
	rmdir(path);
}

static void test_book(void **state)
{
	struct perf_map_book *b = perf_map_book__new(dir, NULL);
	char path[256];

	(void)state;
	assert_non_null(b);
	/* never noted: no owner to check against */
	assert_int_equal(perf_map_book__read(b, getpid()), -ESRCH);
	assert_int_equal(perf_map_book__note(b, getpid()), 0);
	assert_int_equal(perf_map_book__read(b, getpid()), -ENOENT);
	assert_null(perf_map_book__get(b, getpid()));

	snprintf(path, sizeof(path), "%s/perf-%d.map", dir, getpid());
	write_file(path, "1000 10 first\n", 14);
	assert_int_equal(perf_map_book__read(b, getpid()), 0);
	expect_name(perf_map_book__get(b, getpid()), 0x1000, "first", 0);
	/* a later read (at the end) replaces it */
	write_file(path, "1000 10 first\n2000 10 second\n", 29);
	assert_int_equal(perf_map_book__read(b, getpid()), 0);
	expect_name(perf_map_book__get(b, getpid()), 0x2000, "second", 0);
	assert_int_equal(perf_map_book__refused(b), 0);
	/* a refused read keeps what was read before, and is counted once */
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(perf_map_book__read(b, getpid()), -ELOOP);
	assert_int_equal(perf_map_book__read(b, getpid()), -ELOOP);
	assert_int_equal(perf_map_book__refused(b), 1);
	expect_name(perf_map_book__get(b, getpid()), 0x2000, "second", 0);
	assert_null(perf_map_book__get(b, 1));
	unlink(path);

	/* held at the exit: the file as it was then, though a later one
	 * took its name; read at the end */
	write_file(path, "3000 10 at_exit\n", 16);
	assert_int_equal(perf_map_book__hold(b, getpid()), 0);
	unlink(path);
	write_file(path, "3000 10 later\n", 14);
	expect_name(perf_map_book__get(b, getpid()), 0x2000, "second", 0);
	perf_map_book__read_held(b);
	expect_name(perf_map_book__get(b, getpid()), 0x3000, "at_exit", 0);
	/* held once: the next read takes the file */
	assert_int_equal(perf_map_book__read(b, getpid()), 0);
	expect_name(perf_map_book__get(b, getpid()), 0x3000, "later", 0);
	/* a refused hold holds nothing */
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(perf_map_book__hold(b, getpid()), -ELOOP);
	perf_map_book__read_held(b);
	expect_name(perf_map_book__get(b, getpid()), 0x3000, "later", 0);
	unlink(path);
	/* a held map is closed by free */
	write_file(path, "3000 10 at_exit\n", 16);
	assert_int_equal(perf_map_book__hold(b, getpid()), 0);
	unlink(path);
	perf_map_book__free(b);
	perf_map_book__free(NULL);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_gaps),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_overlaps_against_oracle),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_read_checks),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_book),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
