// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kv.h"

static int setup(void **state)
{
	*state = weft_kv__new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	weft_kv__free(*state);
	return 0;
}

/* The invariants after every step: keys unique and non-empty, get agrees
 * with the entry list. */
static void check_kv(const struct weft_kv *kv)
{
	size_t i, j, n = weft_kv__count(kv);

	for (i = 0; i < n; i++) {
		assert_non_null(weft_kv__key(kv, i));
		assert_true(weft_kv__key(kv, i)[0] != '\0');
		assert_ptr_equal(weft_kv__get(kv, weft_kv__key(kv, i)), weft_kv__value(kv, i));
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(weft_kv__key(kv, i), weft_kv__key(kv, j));
	}
	assert_null(weft_kv__key(kv, n));
	assert_null(weft_kv__value(kv, n));
}

static void test_set_get_order(void **state)
{
	struct weft_kv *kv = *state;

	assert_int_equal(weft_kv__count(kv), 0);
	assert_null(weft_kv__get(kv, "a"));
	assert_int_equal(weft_kv__set(kv, "cmd", "sleep 1"), 0);
	assert_int_equal(weft_kv__set(kv, "ncpu", "2"), 0);
	assert_int_equal(weft_kv__setf(kv, "start_ns", "%llu", 123456789012ULL), 0);
	check_kv(kv);
	assert_int_equal(weft_kv__count(kv), 3);
	assert_string_equal(weft_kv__get(kv, "ncpu"), "2");
	assert_string_equal(weft_kv__get(kv, "start_ns"), "123456789012");
	/* Replacing keeps the entry where it was. */
	assert_int_equal(weft_kv__set(kv, "cmd", "true"), 0);
	check_kv(kv);
	assert_int_equal(weft_kv__count(kv), 3);
	assert_string_equal(weft_kv__key(kv, 0), "cmd");
	assert_string_equal(weft_kv__value(kv, 0), "true");
	assert_string_equal(weft_kv__key(kv, 2), "start_ns");
	/* Empty values are values; empty or NULL keys are not keys. */
	assert_int_equal(weft_kv__set(kv, "empty", ""), 0);
	assert_string_equal(weft_kv__get(kv, "empty"), "");
	assert_int_equal(weft_kv__set(kv, "", "x"), -EINVAL);
	assert_int_equal(weft_kv__set(kv, NULL, "x"), -EINVAL);
	assert_int_equal(weft_kv__set(kv, "k", NULL), -EINVAL);
	assert_int_equal(weft_kv__setf(kv, "", "%d", 1), -EINVAL);
	assert_int_equal(weft_kv__count(kv), 4);
	check_kv(kv);
}

static void test_round_trip_odd_values(void **state)
{
	static const char *const keys[] = { "model", "result", "k=v", "multi\nline key", "utf8" };
	static const char *const values[] = { "gil", "checksum=42\nelapsed=1.5\n", "a=b=c", "\n\n",
					      "caf\xc3\xa9 \t end" };
	struct weft_kv *kv = *state, *back = weft_kv__new();
	size_t len, i;
	void *buf;

	assert_non_null(back);
	for (i = 0; i < 5; i++)
		assert_int_equal(weft_kv__set(kv, keys[i], values[i]), 0);
	assert_int_equal(weft_kv__encode(kv, &buf, &len), 0);
	/* key NUL value NUL for each: lengths by hand */
	assert_int_equal(len, (5 + 1 + 3 + 1) + (6 + 1 + 24 + 1) + (3 + 1 + 5 + 1) +
				      (14 + 1 + 2 + 1) + (4 + 1 + 11 + 1));
	assert_int_equal(weft_kv__decode(back, buf, len), 0);
	free(buf);
	check_kv(back);
	assert_int_equal(weft_kv__count(back), 5);
	for (i = 0; i < 5; i++) {
		assert_string_equal(weft_kv__key(back, i), keys[i]);
		assert_string_equal(weft_kv__value(back, i), values[i]);
	}
	weft_kv__free(back);
}

static void test_empty_encode(void **state)
{
	struct weft_kv *kv = *state;
	size_t len = 99;
	void *buf = NULL;

	assert_int_equal(weft_kv__encode(kv, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(weft_kv__decode(kv, buf, 0), 0);
	assert_int_equal(weft_kv__count(kv), 0);
	free(buf);
}

static void test_merge_later_wins(void **state)
{
	struct weft_kv *kv = *state, *end = weft_kv__new();

	assert_non_null(end);
	assert_int_equal(weft_kv__set(kv, "start_ns", "100"), 0);
	assert_int_equal(weft_kv__set(kv, "end_ns", "0"), 0);
	assert_int_equal(weft_kv__set(end, "end_ns", "900"), 0);
	assert_int_equal(weft_kv__set(end, "events", "7"), 0);
	assert_int_equal(weft_kv__merge(kv, end), 0);
	check_kv(kv);
	assert_int_equal(weft_kv__count(kv), 3);
	assert_string_equal(weft_kv__key(kv, 1), "end_ns");
	assert_string_equal(weft_kv__value(kv, 1), "900");
	assert_string_equal(weft_kv__get(kv, "events"), "7");
	/* Decoding into a list that has keys merges the same way. */
	assert_int_equal(weft_kv__decode(kv,
					 "start_ns\0"
					 "5\0"
					 "new\0"
					 "x\0",
					 17),
			 0);
	assert_string_equal(weft_kv__get(kv, "start_ns"), "5");
	assert_string_equal(weft_kv__key(kv, 3), "new");
	check_kv(kv);
	weft_kv__free(end);
}

static void test_decode_malformed(void **state)
{
	struct weft_kv *kv = *state;

	assert_int_equal(weft_kv__set(kv, "keep", "me"), 0);
	/* no final NUL */
	assert_int_equal(weft_kv__decode(kv, "a\0b", 3), -EINVAL);
	/* a key without a value */
	assert_int_equal(weft_kv__decode(kv, "a\0b\0c\0", 6), -EINVAL);
	/* an empty key */
	assert_int_equal(weft_kv__decode(kv, "\0b\0", 3), -EINVAL);
	/* a good pair then a bad one: nothing is applied */
	assert_int_equal(weft_kv__decode(kv, "x\0y\0z", 5), -EINVAL);
	assert_int_equal(weft_kv__count(kv), 1);
	assert_null(weft_kv__get(kv, "x"));
	check_kv(kv);
}

static void test_many_keys(void **state)
{
	struct weft_kv *kv = *state;
	char key[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "argv%d", i);
		assert_int_equal(weft_kv__setf(kv, key, "%d", i * 3), 0);
	}
	for (i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "argv%d", i);
		assert_int_equal(atoi(weft_kv__get(kv, key)), i * 3);
	}
	assert_int_equal(weft_kv__count(kv), 5000);
	assert_string_equal(weft_kv__key(kv, 4999), "argv4999");
	assert_null(weft_kv__get(kv, "argv5000"));
}

static void test_null_kv(void **state)
{
	(void)state;
	weft_kv__free(NULL);
	assert_int_equal(weft_kv__count(NULL), 0);
	assert_null(weft_kv__get(NULL, "a"));
	assert_int_equal(weft_kv__set(NULL, "a", "b"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_odd_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_encode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_later_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
		cmocka_unit_test(test_null_kv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
