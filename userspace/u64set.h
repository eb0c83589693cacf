/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A set of 64-bit keys with a 32-bit value each: open addressing, linear
 * probing, grown at half full, no removal. Key 0 is the empty slot, so
 * callers fold their keys away from 0. Embedded by value; zero-initialised
 * is empty. */
#ifndef __WEFT_U64SET_H
#define __WEFT_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct u64_set {
	__u64 *keys;
	__u32 *vals;
	size_t mask, used;
};

static inline size_t u64_set__hash(__u64 k, size_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & mask;
}

/* Doubles the table (or makes the first); 0 or -ENOMEM. */
int u64_set__grow(struct u64_set *s);
/* The value slot of key, inserted when absent (*added is set then); NULL
 * when out of memory. */
__u32 *u64_set__slot(struct u64_set *s, __u64 key, bool *added);
/* Whether key is there, and its value in *val (val may be NULL); inline,
 * as the analysis looks a thread up at every event */
static inline bool u64_set__get(const struct u64_set *s, __u64 key, __u32 *val)
{
	size_t i;

	if (!s->keys)
		return false;
	for (i = u64_set__hash(key, s->mask); s->keys[i]; i = (i + 1) & s->mask)
		if (s->keys[i] == key) {
			if (val)
				*val = s->vals[i];
			return true;
		}
	return false;
}
bool u64_set__has(const struct u64_set *s, __u64 key);
void u64_set__release(struct u64_set *s);

#endif /* __WEFT_U64SET_H */
