// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* json.c's field combinators and its reader of flat objects: what the
 * writer writes, the reader reads back; bad text is refused whole. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

struct member {
	char key[32];
	enum json_type type;
	char value[128];
	size_t len;
};

struct members {
	struct member m[16];
	int n;
};

static int collect(void *ctx, const char *key, enum json_type type, const char *value, size_t len)
{
	struct members *ms = ctx;
	struct member *m;

	assert_true(ms->n < 16);
	assert_true(len < sizeof(m->value));
	m = &ms->m[ms->n++];
	snprintf(m->key, sizeof(m->key), "%s", key);
	m->type = type;
	memcpy(m->value, value, len);
	m->value[len] = '\0';
	m->len = len;
	return 0;
}

static int scan(const char *text, struct members *ms)
{
	memset(ms, 0, sizeof(*ms));
	return json_scan_object(text, strlen(text), collect, ms);
}

static void test_reads_members(void **state)
{
	struct members ms;

	(void)state;
	assert_int_equal(scan(" {\"model\":\"sync\", \"units\" : 2,\"elapsed_s\":-1.5e-3,"
			      "\"ok\":true,\"none\":null,\"nested\":{\"a\":[1,{\"b\":\"}\"}]},"
			      "\"esc\":\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\"}\n",
			      &ms),
			 0);
	assert_int_equal(ms.n, 7);
	assert_string_equal(ms.m[0].key, "model");
	assert_int_equal(ms.m[0].type, JSON_STRING);
	assert_string_equal(ms.m[0].value, "sync");
	assert_int_equal(ms.m[1].type, JSON_NUMBER);
	assert_string_equal(ms.m[1].value, "2");
	assert_string_equal(ms.m[2].value, "-1.5e-3");
	assert_int_equal(ms.m[3].type, JSON_LITERAL);
	assert_string_equal(ms.m[3].value, "true");
	assert_string_equal(ms.m[4].value, "null");
	/* a container is handed over whole, a '}' in its string included */
	assert_int_equal(ms.m[5].type, JSON_CONTAINER);
	assert_string_equal(ms.m[5].value, "{\"a\":[1,{\"b\":\"}\"}]}");
	/* escapes decoded, a surrogate pair as one code point in UTF-8 */
	assert_string_equal(ms.m[6].value, "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
}

static void test_refuses_bad_text(void **state)
{
	static const char *const bad[] = {
		"",
		"[1,2]",
		"{\"a\":1",
		"{\"a\":1} x",
		"{\"a\" 1}",
		"{a:1}",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":1,}",
		"{\"a\":tru}",
		"{\"a\":[1,2}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};
	struct members ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (scan(bad[i], &ms) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		/* nothing of a bad object reaches the caller */
		assert_int_equal(ms.n, 0);
	}
	assert_int_equal(scan("{}", &ms), 0);
	assert_int_equal(ms.n, 0);
}

static int stop_at_b(void *ctx, const char *key, enum json_type type, const char *value, size_t len)
{
	(void)type;
	(void)value;
	(void)len;
	++*(int *)ctx;
	return strcmp(key, "b") ? 0 : 7;
}

static void test_callback_stops_the_scan(void **state)
{
	const char *text = "{\"a\":1,\"b\":2,\"c\":3}";
	int calls = 0;

	(void)state;
	assert_int_equal(json_scan_object(text, strlen(text), stop_at_b, &calls), 7);
	assert_int_equal(calls, 2);
}

/* What the combinators write reads back as written; an unknown figure is
 * null */
static void test_fields_round_trip(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	struct json_writer *w = json_writer__new(out, 0);
	struct members ms;

	(void)state;
	assert_non_null(w);
	json_writer__object_begin(w);
	json_writer__string_field(w, "s", "x\"y");
	json_writer__uint_field(w, "u", 18446744073709551615ULL);
	json_writer__int_field(w, "i", -3);
	json_writer__bool_field(w, "b", false);
	json_writer__fixed_field(w, "f", 2.50, 3);
	json_writer__maybe_field(w, "known", 0.125, 3, true);
	json_writer__maybe_field(w, "unknown", 0.125, 3, false);
	json_writer__null_field(w, "n");
	json_writer__object_end(w);
	assert_int_equal(json_writer__finish(w), 0);
	json_writer__free(w);
	fclose(out);
	assert_int_equal(scan(buf, &ms), 0);
	assert_int_equal(ms.n, 8);
	assert_string_equal(ms.m[0].value, "x\"y");
	assert_string_equal(ms.m[1].value, "18446744073709551615");
	assert_string_equal(ms.m[2].value, "-3");
	assert_string_equal(ms.m[3].value, "false");
	assert_string_equal(ms.m[4].value, "2.5");
	assert_string_equal(ms.m[5].value, "0.125");
	assert_string_equal(ms.m[6].value, "null");
	assert_string_equal(ms.m[7].value, "null");
	free(buf);
}

/* Writes one value with a fresh writer; the caller frees the text */
static char *write_one(void (*put)(struct json_writer *, void *), void *arg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);
	struct json_writer *w = json_writer__new(out, 0);

	assert_non_null(w);
	put(w, arg);
	assert_int_equal(json_writer__finish(w), 0);
	json_writer__free(w);
	fclose(out);
	return buf;
}

static void put_q(struct json_writer *w, void *arg)
{
	json_writer__fixed_1024(w, *(unsigned long long *)arg);
}

static void put_q_printf(struct json_writer *w, void *arg)
{
	json_writer__fixed(w, *(unsigned long long *)arg / 1024.0, 10);
}

static void put_int(struct json_writer *w, void *arg)
{
	json_writer__int(w, *(long long *)arg);
}

/* The timeline's times (q / 1024 us) are written without printf: the
 * same text as printf's %.10f with trailing zeros dropped, for every
 * fraction and the integers around the edges, and the integers as %lld */
static void test_fixed_1024_is_printf(void **state)
{
	unsigned long long qs[] = { 0,		1,
				    2,		511,
				    512,	1023,
				    1024,	1025,
				    1536,	123456789,
				    1ULL << 40, (1ULL << 53) - 1,
				    1ULL << 53, (1ULL << 53) + 1,
				    ~0ULL };
	long long is[] = { 0, 7, -7, 10, -10, 9223372036854775807LL, -9223372036854775807LL - 1 };
	char *a, *b, want[32];
	unsigned long long q;
	size_t i;

	(void)state;
	for (q = 0; q < 3 * 1024; q++) {
		a = write_one(put_q, &q);
		b = write_one(put_q_printf, &q);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		a = write_one(put_q, &qs[i]);
		b = write_one(put_q_printf, &qs[i]);
		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	for (i = 0; i < sizeof(is) / sizeof(is[0]); i++) {
		a = write_one(put_int, &is[i]);
		snprintf(want, sizeof(want), "%lld\n", is[i]);
		assert_string_equal(a, want);
		free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_members),
		cmocka_unit_test(test_refuses_bad_text),
		cmocka_unit_test(test_callback_stops_the_scan),
		cmocka_unit_test(test_fields_round_trip),
		cmocka_unit_test(test_fixed_1024_is_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
