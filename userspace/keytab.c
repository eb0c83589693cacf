// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "keytab.h"

void keytab__init(struct keytab *t, size_t key_size, size_t rec_size)
{
	memset(t, 0, sizeof(*t));
	t->key_size = key_size;
	t->rec_size = rec_size;
}

static size_t key_hash(const void *key, size_t size)
{
	const __u32 *w = key;
	__u64 h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < size / sizeof(*w); i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return (size_t)h;
}

static int slots_grow(struct keytab *t)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : 1024, i, j;
	__u32 *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		for (j = key_hash(keytab__at(t, i), t->key_size) & (cap - 1); slots[j];
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

void *keytab__get(struct keytab *t, const void *key, bool *added)
{
	void *r, *recs = t->recs;
	size_t i;

	*added = false;
	if ((!t->slots || (t->n + 1) * 2 > t->mask + 1) && slots_grow(t))
		return NULL;
	for (i = key_hash(key, t->key_size) & t->mask; t->slots[i]; i = (i + 1) & t->mask)
		if (!memcmp(keytab__at(t, t->slots[i] - 1), key, t->key_size))
			return keytab__at(t, t->slots[i] - 1);
	if (grow_array(&recs, &t->cap, t->n + 1, t->rec_size))
		return NULL;
	t->recs = recs;
	r = keytab__at(t, t->n);
	memset(r, 0, t->rec_size);
	memcpy(r, key, t->key_size);
	t->slots[i] = ++t->n;
	*added = true;
	return r;
}

void keytab__release(struct keytab *t)
{
	free(t->recs);
	free(t->slots);
	t->recs = NULL;
	t->slots = NULL;
	t->n = t->cap = t->mask = 0;
}
