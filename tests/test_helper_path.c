// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* helper_path__find(): weft-work beside weft, in ../libexec/weft, then on
 * PATH, in a scratch tree of files made executable or not. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "helper_path.h"

struct tree {
	char root[64];
	char exe[PATH_MAX]; /* ROOT/prefix/bin/weft */
	char buf[PATH_MAX];
};

static void make_dirs(const char *root, const char *rel)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void make_file(const struct tree *t, const char *rel, mode_t mode)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/weft-helper-path.XXXXXX");
	if (!mkdtemp(t->root))
		return -1;
	make_dirs(t->root, "prefix/bin");
	make_dirs(t->root, "prefix/libexec/weft");
	make_dirs(t->root, "path1");
	make_dirs(t->root, "path2");
	snprintf(t->exe, sizeof(t->exe), "%s/prefix/bin/weft", t->root);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[PATH_MAX];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd))
		return -1;
	free(t);
	return 0;
}

/* ROOT/REL, for comparing with what was found; one buffer, so one call
 * per expression */
static const char *at(const struct tree *t, const char *rel)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	return path;
}

static void test_beside_first(void **state)
{
	struct tree *t = *state;
	char path_env[PATH_MAX];

	make_file(t, "prefix/bin/weft-work", 0755);
	make_file(t, "prefix/libexec/weft/weft-work", 0755);
	make_file(t, "path1/weft-work", 0755);
	snprintf(path_env, sizeof(path_env), "%s", at(t, "path1"));
	assert_int_equal(helper_path__find("weft-work", t->exe, path_env, t->buf, sizeof(t->buf)),
			 0);
	assert_string_equal(t->buf, at(t, "prefix/bin/weft-work"));
}

static void test_libexec_before_path(void **state)
{
	struct tree *t = *state;
	char path_env[PATH_MAX];

	make_file(t, "prefix/libexec/weft/weft-work", 0755);
	make_file(t, "path1/weft-work", 0755);
	snprintf(path_env, sizeof(path_env), "%s", at(t, "path1"));
	assert_int_equal(helper_path__find("weft-work", t->exe, path_env, t->buf, sizeof(t->buf)),
			 0);
	assert_string_equal(t->buf, at(t, "prefix/bin/../libexec/weft/weft-work"));
}

/* Not executable beside weft: skipped, as is an empty PATH entry (the
 * current directory to execvp, never searched by a root weft). */
static void test_path_in_order(void **state)
{
	struct tree *t = *state;
	char path_env[3 * PATH_MAX], path1[PATH_MAX];

	make_file(t, "prefix/bin/weft-work", 0644);
	make_file(t, "path1/weft-work", 0644);
	make_file(t, "path2/weft-work", 0755);
	snprintf(path1, sizeof(path1), "%s", at(t, "path1"));
	snprintf(path_env, sizeof(path_env), "::%s:%s", path1, at(t, "path2"));
	assert_int_equal(helper_path__find("weft-work", t->exe, path_env, t->buf, sizeof(t->buf)),
			 0);
	assert_string_equal(t->buf, at(t, "path2/weft-work"));
	/* no self: PATH only */
	assert_int_equal(helper_path__find("weft-work", NULL, path_env, t->buf, sizeof(t->buf)), 0);
	assert_string_equal(t->buf, at(t, "path2/weft-work"));
}

static void test_not_found(void **state)
{
	struct tree *t = *state;
	char path_env[PATH_MAX + 2];

	snprintf(path_env, sizeof(path_env), "%s:", at(t, "path1"));
	assert_int_equal(helper_path__find("weft-work", t->exe, path_env, t->buf, sizeof(t->buf)),
			 -ENOENT);
	assert_string_equal(t->buf, "");
	/* a binary name without a directory (not from /proc/self/exe) */
	assert_int_equal(helper_path__find("weft-work", "weft", "", t->buf, sizeof(t->buf)),
			 -ENOENT);
}

static void test_too_long(void **state)
{
	struct tree *t = *state;
	char small[16];

	make_file(t, "path2/weft-work", 0755);
	assert_int_equal(helper_path__find("weft-work", t->exe, NULL, small, sizeof(small)),
			 -ENAMETOOLONG);
	assert_int_equal(helper_path__find("weft-work", t->exe, NULL, small, 0), -ENAMETOOLONG);
	/* a PATH entry too long is passed over for one that fits */
	assert_int_equal(helper_path__find("weft-work", NULL, "/a/very/long/dir/name:/bin", small,
					   sizeof(small)),
			 access("/bin/weft-work", X_OK) ? -ENAMETOOLONG : 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_beside_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libexec_before_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
