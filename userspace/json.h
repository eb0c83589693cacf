/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small streaming JSON writer: values go out as they are given, with the
 * commas, indentation and string escaping done here, so a report never
 * prints invalid JSON whatever a thread's name holds.
 *
 * Strings are escaped per RFC 8259 and made valid UTF-8 (each byte of an
 * invalid sequence becomes U+FFFD): comm names and arguments are bytes,
 * not text. Numbers that JSON cannot hold (NaN, infinities) are written as
 * null, and numbers never depend on the locale.
 *
 * Errors are sticky: the first misuse (a value where a key is due, too
 * deep a nesting, an unbalanced end) or write error is kept, later calls
 * do nothing, and json_writer__finish() returns it.
 *
 * Lifecycle: json_writer__new() (NULL and errno on failure); one top-level
 * value; json_writer__finish() to check and end the line;
 * json_writer__free() accepts NULL and does not close the stream.
 */
#ifndef __WEFT_JSON_H
#define __WEFT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSON_WRITER_PRETTY 0x1 /* two-space indentation, one member a line */
#define JSON_MAX_DEPTH 32

struct json_writer;

struct json_writer *json_writer__new(FILE *out, unsigned int flags);
void json_writer__free(struct json_writer *w);
/* 0, or the first error (-EINVAL misuse, -EIO write), after checking that
 * every container was closed; writes the final newline. */
int json_writer__finish(struct json_writer *w);
int json_writer__error(const struct json_writer *w);

void json_writer__object_begin(struct json_writer *w);
void json_writer__object_end(struct json_writer *w);
void json_writer__array_begin(struct json_writer *w);
/* An array written on one line even when pretty, with whatever it holds:
 * for short lists of numbers. */
void json_writer__array_begin_flat(struct json_writer *w);
void json_writer__array_end(struct json_writer *w);

/* Inside an object, every value follows a key. */
void json_writer__key(struct json_writer *w, const char *key);

void json_writer__string(struct json_writer *w, const char *s);
void json_writer__string_len(struct json_writer *w, const char *s, size_t len);
void json_writer__int(struct json_writer *w, long long v);
void json_writer__uint(struct json_writer *w, unsigned long long v);
/* Shortest of up to 15 significant digits. */
void json_writer__double(struct json_writer *w, double v);
/* At most `decimals` decimals, trailing zeros dropped: 2.5, not 2.500000000. */
void json_writer__fixed(struct json_writer *w, double v, int decimals);
/* q / 1024 exactly, as json_writer__fixed(w, q / 1024.0, 10) writes it,
 * without printf's long division of a double */
void json_writer__fixed_1024(struct json_writer *w, unsigned long long q);
void json_writer__bool(struct json_writer *w, bool v);
void json_writer__null(struct json_writer *w);

/* A key and its value, the way every JSON writer of weft writes members */
void json_writer__string_field(struct json_writer *w, const char *key, const char *s);
void json_writer__uint_field(struct json_writer *w, const char *key, unsigned long long v);
void json_writer__int_field(struct json_writer *w, const char *key, long long v);
void json_writer__bool_field(struct json_writer *w, const char *key, bool v);
void json_writer__fixed_field(struct json_writer *w, const char *key, double v, int decimals);
void json_writer__null_field(struct json_writer *w, const char *key);
/* The precision of every figure weft writes as JSON (report, critical,
 * compare, stuck, and the HTML page's data-value, which holds the JSON's
 * value): times to the nanosecond, shares and averages to a millionth,
 * latencies in microseconds to the nanosecond. Every digit written means
 * something, and one figure reads alike wherever it appears. */
#define JSON_S_DECIMALS 9
#define JSON_SHARE_DECIMALS 6
#define JSON_US_DECIMALS 3
void json_writer__seconds_field(struct json_writer *w, const char *key, double s);
void json_writer__share_field(struct json_writer *w, const char *key, double v);
/* A figure that may not be known: null then, never a made-up 0 */
void json_writer__maybe_field(struct json_writer *w, const char *key, double v, int decimals,
			      bool known);

/* Writes s as a JSON string (quotes included) to out: the escaping the
 * writer uses, for callers that build JSON otherwise. */
int json_write_string(FILE *out, const char *s, size_t len);

/* --- reading --- */

enum json_type {
	JSON_STRING,
	JSON_NUMBER,
	JSON_LITERAL, /* true, false, null */
	JSON_CONTAINER, /* an object or array, not looked into */
};

/* Called for each member of the top-level object: its key and its value's
 * text (a string's decoded, NUL-terminated; a number's or literal's as
 * written; a container's whole text). Non-zero stops the scan and is
 * returned. */
typedef int (*json_member_fn)(void *ctx, const char *key, enum json_type type, const char *value,
			      size_t len);

/* Parses text as one JSON object (RFC 8259, whitespace around it allowed)
 * and calls fn for each of its members, in order. 0, fn's non-zero value,
 * -EINVAL for text that is not such an object, -ENOMEM. */
int json_scan_object(const char *text, size_t len, json_member_fn fn, void *ctx);

#endif /* __WEFT_JSON_H */
