// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

struct kv_entry {
	char *key;
	char *value;
	size_t hash;
};

/* Entries in order, plus an open-addressing index (slot = entry + 1, 0 is
 * empty) so that merging a recording's META sections stays linear even
 * when a damaged or hostile file holds many keys. */
struct weft_kv {
	struct kv_entry *entries;
	size_t count;
	size_t cap;
	size_t *slots;
	size_t nslots; /* a power of two, at least twice count */
};

static size_t hash_key(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct weft_kv *kv, const char *key, size_t hash)
{
	size_t mask = kv->nslots - 1, i = hash & mask, e;

	while ((e = kv->slots[i])) {
		if (kv->entries[e - 1].hash == hash && !strcmp(kv->entries[e - 1].key, key))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int grow(struct weft_kv *kv)
{
	size_t nslots = kv->nslots ? kv->nslots * 2 : 16, cap, i, mask = nslots - 1, j;
	struct kv_entry *entries;
	size_t *slots;

	cap = nslots / 2;
	entries = realloc(kv->entries, cap * sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	kv->entries = entries;
	kv->cap = cap;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < kv->count; i++) {
		j = entries[i].hash & mask;
		while (slots[j])
			j = (j + 1) & mask;
		slots[j] = i + 1;
	}
	free(kv->slots);
	kv->slots = slots;
	kv->nslots = nslots;
	return 0;
}

struct weft_kv *weft_kv__new(void)
{
	struct weft_kv *kv = calloc(1, sizeof(*kv));

	if (!kv)
		return NULL;
	if (grow(kv)) {
		weft_kv__free(kv);
		errno = ENOMEM;
		return NULL;
	}
	return kv;
}

void weft_kv__free(struct weft_kv *kv)
{
	size_t i;

	if (!kv)
		return;
	for (i = 0; i < kv->count; i++) {
		free(kv->entries[i].key);
		free(kv->entries[i].value);
	}
	free(kv->entries);
	free(kv->slots);
	free(kv);
}

/* Takes ownership of value (a malloc'd string) whatever the outcome. */
static int set_owned(struct weft_kv *kv, const char *key, char *value)
{
	size_t hash, slot;
	struct kv_entry *e;
	int err = 0;

	if (!kv || !key || !*key || !value) {
		err = -EINVAL;
		goto free_value;
	}
	hash = hash_key(key);
	slot = find_slot(kv, key, hash);
	if (kv->slots[slot]) {
		e = &kv->entries[kv->slots[slot] - 1];
		free(e->value);
		e->value = value;
		return 0;
	}
	if (kv->count == kv->cap) {
		err = grow(kv);
		if (err)
			goto free_value;
		slot = find_slot(kv, key, hash);
	}
	e = &kv->entries[kv->count];
	e->key = strdup(key);
	if (!e->key) {
		err = -ENOMEM;
		goto free_value;
	}
	e->value = value;
	e->hash = hash;
	kv->slots[slot] = ++kv->count;
	return 0;

free_value:
	free(value);
	return err;
}

int weft_kv__set(struct weft_kv *kv, const char *key, const char *value)
{
	char *copy;

	if (!value)
		return -EINVAL;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	return set_owned(kv, key, copy);
}

int weft_kv__setf(struct weft_kv *kv, const char *key, const char *fmt, ...)
{
	char *value;
	va_list ap;
	int n;

	if (!fmt)
		return -EINVAL;
	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return set_owned(kv, key, value);
}

const char *weft_kv__get(const struct weft_kv *kv, const char *key)
{
	size_t slot;

	if (!kv || !key)
		return NULL;
	slot = find_slot(kv, key, hash_key(key));
	return kv->slots[slot] ? kv->entries[kv->slots[slot] - 1].value : NULL;
}

unsigned long long weft_kv__get_ull(const struct weft_kv *kv, const char *key)
{
	const char *v = weft_kv__get(kv, key);

	return v ? strtoull(v, NULL, 10) : 0;
}

size_t weft_kv__count(const struct weft_kv *kv)
{
	return kv ? kv->count : 0;
}

const char *weft_kv__key(const struct weft_kv *kv, size_t i)
{
	return kv && i < kv->count ? kv->entries[i].key : NULL;
}

const char *weft_kv__value(const struct weft_kv *kv, size_t i)
{
	return kv && i < kv->count ? kv->entries[i].value : NULL;
}

int weft_kv__merge(struct weft_kv *dst, const struct weft_kv *src)
{
	size_t i;
	int err;

	for (i = 0; i < weft_kv__count(src); i++) {
		err = weft_kv__set(dst, src->entries[i].key, src->entries[i].value);
		if (err)
			return err;
	}
	return 0;
}

int weft_kv__encode(const struct weft_kv *kv, void **buf, size_t *len)
{
	size_t total = 0, i, n;
	char *out, *p;

	for (i = 0; i < weft_kv__count(kv); i++)
		total += strlen(kv->entries[i].key) + strlen(kv->entries[i].value) + 2;
	out = malloc(total ? total : 1);
	if (!out)
		return -ENOMEM;
	p = out;
	for (i = 0; i < weft_kv__count(kv); i++) {
		n = strlen(kv->entries[i].key) + 1;
		memcpy(p, kv->entries[i].key, n);
		p += n;
		n = strlen(kv->entries[i].value) + 1;
		memcpy(p, kv->entries[i].value, n);
		p += n;
	}
	*buf = out;
	*len = total;
	return 0;
}

int weft_kv__decode(struct weft_kv *kv, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len, *key, *nul;
	int err;

	if (!kv || (len && !buf))
		return -EINVAL;
	/* Check first, so that a malformed buffer leaves kv as it was. */
	while (p < end) {
		nul = memchr(p, '\0', end - p);
		if (!nul || nul == p)
			return -EINVAL;
		p = nul + 1;
		nul = p < end ? memchr(p, '\0', end - p) : NULL;
		if (!nul)
			return -EINVAL;
		p = nul + 1;
	}
	for (p = buf; p < end; p += strlen(p) + 1) {
		key = p;
		p += strlen(p) + 1;
		err = weft_kv__set(kv, key, p);
		if (err)
			return err;
	}
	return 0;
}
