// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Strings live in blocks that are never moved, so pointers to them stay
 * valid; a hash table of ids (open addressing, grown at half full) finds
 * a string again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strtab.h"

#define BLOCK_BYTES (64 * 1024)
#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

struct str_ref {
	const char *s;
	size_t len;
	size_t hash;
};

struct block {
	struct block *next;
	size_t used, cap;
	char data[];
};

struct strtab {
	struct str_ref *refs; /* by id */
	size_t n, cap;
	__u32 *slots; /* id; 0 is empty */
	size_t mask;
	struct block *blocks; /* the newest first */
};

static size_t hash_bytes(const char *s, size_t len)
{
	size_t h = FNV_OFFSET, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

struct strtab *strtab__new(void)
{
	struct strtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->refs = calloc(64, sizeof(*t->refs));
	if (!t->refs) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->cap = 64;
	t->refs[0] = (struct str_ref){ "", 0, 0 };
	t->n = 1;
	return t;
}

void strtab__free(struct strtab *t)
{
	struct block *b, *next;

	if (!t)
		return;
	for (b = t->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(t->refs);
	free(t->slots);
	free(t);
}

static int grow_slots(struct strtab *t)
{
	size_t cap = t->slots ? (t->mask + 1) * 2 : 1024, i, j;
	__u32 *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 1; i < t->n; i++) {
		for (j = t->refs[i].hash & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = i;
	}
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

static char *store(struct strtab *t, const char *s, size_t len)
{
	struct block *b = t->blocks;
	char *p;

	if (!b || b->cap - b->used < len + 1) {
		size_t cap = len + 1 > BLOCK_BYTES ? len + 1 : BLOCK_BYTES;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = t->blocks;
		t->blocks = b;
	}
	p = b->data + b->used;
	memcpy(p, s, len);
	p[len] = '\0';
	b->used += len + 1;
	return p;
}

long strtab__intern(struct strtab *t, const char *s, size_t len)
{
	size_t h, i;
	char *copy;

	if (!len)
		return 0;
	if ((!t->slots || t->n * 2 > t->mask + 1) && grow_slots(t))
		return -ENOMEM;
	h = hash_bytes(s, len);
	for (i = h & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
		const struct str_ref *r = &t->refs[t->slots[i]];

		if (r->hash == h && r->len == len && !memcmp(r->s, s, len))
			return t->slots[i];
	}
	if (t->n == t->cap) {
		struct str_ref *grown = realloc(t->refs, t->cap * 2 * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->refs = grown;
		t->cap *= 2;
	}
	copy = store(t, s, len);
	if (!copy)
		return -ENOMEM;
	t->refs[t->n] = (struct str_ref){ copy, len, h };
	t->slots[i] = t->n;
	return t->n++;
}

const char *strtab__str(const struct strtab *t, __u32 id)
{
	return id < t->n ? t->refs[id].s : "";
}

size_t strtab__len(const struct strtab *t, __u32 id)
{
	return id < t->n ? t->refs[id].len : 0;
}

size_t strtab__count(const struct strtab *t)
{
	return t->n;
}
