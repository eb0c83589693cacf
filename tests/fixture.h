/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fixture sources for the tests that build them at run time: find the
 * fixture folder next to the test sources, format paths without cutting
 * them short, and run shell commands. Messages start with FIXTURE_TEST, the
 * test's name, which the test file defines before including this. Each
 * test file that includes it gets its own copy. */
#ifndef __WEFT_TESTS_FIXTURE_H
#define __WEFT_TESTS_FIXTURE_H

#include <ftw.h>
#include <link.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FIXTURE_TEST
#error "define FIXTURE_TEST, the test's name for messages, before including fixture.h"
#endif

/* a test file may use only some of them */
#define FIXTURE_FN static __attribute__((unused))

/* snprintf that fails the test rather than cut a path short. */
FIXTURE_FN void xsnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

FIXTURE_FN void xsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, FIXTURE_TEST ": path too long: %s\n", fmt);
		abort();
	}
}

FIXTURE_FN bool has_file(const char *dir, const char *name)
{
	char path[PATH_MAX * 2];

	xsnprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, R_OK);
}

/* Finds tests/SUB, the folder that holds MARKER, through WEFT_TEST_SRCDIR,
 * the working folder (make runs tests from the top of the tree), or the
 * binary's place in build/tests or build/san/tests, and puts its real path
 * in out (PATH_MAX bytes). Says so and fails when it is nowhere. */
FIXTURE_FN int find_sources(const char *sub, const char *marker, char *out)
{
	char exe[PATH_MAX], cand[PATH_MAX * 2];
	const char *envdir = getenv("WEFT_TEST_SRCDIR");
	const char *rel[] = { "/../../tests/", "/../../../tests/" };
	ssize_t n;
	size_t i;

	if (envdir) {
		xsnprintf(cand, sizeof(cand), "%s/%s", envdir, sub);
		if (has_file(cand, marker))
			goto found;
	}
	xsnprintf(cand, sizeof(cand), "tests/%s", sub);
	if (has_file(cand, marker))
		goto found;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		goto missing;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		xsnprintf(cand, sizeof(cand), "%s%s%s", exe, rel[i], sub);
		if (has_file(cand, marker))
			goto found;
	}
	goto missing;
found:
	if (realpath(cand, out))
		return 0;
missing:
	fprintf(stderr, FIXTURE_TEST ": tests/%s not found (set WEFT_TEST_SRCDIR)\n", sub);
	return -1;
}

/* Runs a shell command; says which one failed. */
FIXTURE_FN int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

FIXTURE_FN int run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, FIXTURE_TEST ": failed (%d): %s\n", st, cmd);
	return st == 0 ? 0 : -1;
}

static int fixture_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the temporary folder dir and all in it (nothing when empty) */
FIXTURE_FN void fixture_remove_tree(const char *dir)
{
	if (dir[0])
		nftw(dir, fixture_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The C library this test runs with: its path and load bias, found with
 * dl_iterate_phdr(find_libc, &info) */
struct libc_info {
	char path[PATH_MAX];
	unsigned long long bias;
};

FIXTURE_FN int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct libc_info *li = arg;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "/libc.so.6"))
		return 0;
	xsnprintf(li->path, sizeof(li->path), "%s", info->dlpi_name);
	li->bias = info->dlpi_addr;
	return 1;
}

#endif /* __WEFT_TESTS_FIXTURE_H */
