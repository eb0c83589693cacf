// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "u64set.h"

int u64_set__grow(struct u64_set *s)
{
	size_t cap = s->keys ? (s->mask + 1) * 2 : 256, i, j;
	__u64 *keys = calloc(cap, sizeof(*keys));
	__u32 *vals = calloc(cap, sizeof(*vals));

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; s->keys && i <= s->mask; i++) {
		if (!s->keys[i])
			continue;
		for (j = u64_set__hash(s->keys[i], cap - 1); keys[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = s->keys[i];
		vals[j] = s->vals[i];
	}
	free(s->keys);
	free(s->vals);
	s->keys = keys;
	s->vals = vals;
	s->mask = cap - 1;
	return 0;
}

__u32 *u64_set__slot(struct u64_set *s, __u64 key, bool *added)
{
	size_t i;

	*added = false;
	if (!s->keys || (s->used + 1) * 2 > s->mask + 1)
		if (u64_set__grow(s))
			return NULL;
	for (i = u64_set__hash(key, s->mask);; i = (i + 1) & s->mask) {
		if (s->keys[i] == key)
			return &s->vals[i];
		if (!s->keys[i]) {
			s->keys[i] = key;
			s->used++;
			*added = true;
			return &s->vals[i];
		}
	}
}

bool u64_set__has(const struct u64_set *s, __u64 key)
{
	return u64_set__get(s, key, NULL);
}

void u64_set__release(struct u64_set *s)
{
	free(s->keys);
	free(s->vals);
	s->keys = NULL;
	s->vals = NULL;
	s->mask = s->used = 0;
}
