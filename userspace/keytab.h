/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Records counted by a key made of numbers: each record starts with its
 * key (key_size bytes, a multiple of 4, the caller zeroes it before it
 * fills it so that padding compares equal), and the table finds a record
 * by its key (open addressing, grown at half full). The consumers of
 * attributed stacks count their lines this way while the events go by,
 * and make text only at the end.
 *
 * Records live in one array grown with realloc: a pointer to one is good
 * until the next keytab__get(); indices stay. Embedded by value after
 * keytab__init(); keytab__release() frees it. */
#ifndef __WEFT_KEYTAB_H
#define __WEFT_KEYTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct keytab {
	size_t key_size, rec_size;
	unsigned char *recs;
	size_t n, cap;
	__u32 *slots; /* index + 1; 0 is empty */
	size_t mask;
};

void keytab__init(struct keytab *t, size_t key_size, size_t rec_size);
/* The record of key, added (zeroed past its key, *added set) when absent;
 * NULL when out of memory */
void *keytab__get(struct keytab *t, const void *key, bool *added);
static inline void *keytab__at(const struct keytab *t, size_t i)
{
	return t->recs + i * t->rec_size;
}
void keytab__release(struct keytab *t);

#endif /* __WEFT_KEYTAB_H */
