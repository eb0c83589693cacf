/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* An ordered list of string key/value pairs: a recording's run metadata
 * (META sections) and its notes (NOTES sections).
 *
 * Invariants:
 *  - keys are unique and non-empty; a key and a value may hold any byte
 *    except NUL (newlines, '=', spaces and UTF-8 are kept as they are);
 *  - entries keep the order in which their keys were first set; setting an
 *    existing key replaces its value in place (so merging a later list
 *    into an earlier one makes later keys win without reordering).
 *
 * Ownership and lifecycle: the kv owns copies of every key and value. A
 * pointer returned by weft_kv__get(), __key() or __value() stays valid
 * until that entry's value is replaced, or the kv is freed; appending
 * other keys does not move the strings. weft_kv__free() accepts NULL.
 *
 * Serialized form (weft_kv__encode()): for each entry in order, the key,
 * a NUL, the value, a NUL. It round-trips every list, since neither keys
 * nor values hold a NUL.
 *
 * Not thread-safe: one thread uses a kv at a time.
 */
#ifndef __WEFT_KV_H
#define __WEFT_KV_H

#include <stddef.h>

struct weft_kv;

/* An empty list; NULL and errno set (ENOMEM) on failure. */
struct weft_kv *weft_kv__new(void);
void weft_kv__free(struct weft_kv *kv);

/* Adds key, or replaces its value when present. 0, -EINVAL for a NULL or
 * empty key or a NULL value, -ENOMEM. */
int weft_kv__set(struct weft_kv *kv, const char *key, const char *value);
int weft_kv__setf(struct weft_kv *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The value of key, or NULL when absent (or kv is NULL). */
const char *weft_kv__get(const struct weft_kv *kv, const char *key);
/* The value of key read as a whole number, 0 when absent (the recorder
 * writes numbers in decimal) */
unsigned long long weft_kv__get_ull(const struct weft_kv *kv, const char *key);

/* Entries 0..count-1, in order. An index out of range gives NULL. */
size_t weft_kv__count(const struct weft_kv *kv);
const char *weft_kv__key(const struct weft_kv *kv, size_t i);
const char *weft_kv__value(const struct weft_kv *kv, size_t i);

/* Sets every entry of src in dst, in src's order: later keys win. */
int weft_kv__merge(struct weft_kv *dst, const struct weft_kv *src);

/* The serialized form in a new malloc'd buffer (*buf, *len; the caller
 * frees it; an empty list gives a non-NULL buffer of length 0). 0 or
 * -ENOMEM. */
int weft_kv__encode(const struct weft_kv *kv, void **buf, size_t *len);

/* Parses a serialized form and sets its entries in kv, in order (later
 * keys win). The whole buffer is checked before kv changes: -EINVAL if it
 * does not end in NUL, holds a key without a value or an empty key; then
 * kv is untouched. -ENOMEM may leave part of the entries set. */
int weft_kv__decode(struct weft_kv *kv, const void *buf, size_t len);

#endif /* __WEFT_KV_H */
