/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Interned strings: each distinct string gets a small number, so that
 * stacks are arrays of numbers while they are counted and merged, and text
 * is made only where a writer prints it.
 *
 * Id 0 is the empty string and means "none". Strings are copied in; the
 * pointer strtab__str() returns stays valid until strtab__free(), however
 * many strings are added later. Not thread-safe.
 */
#ifndef __WEFT_STRTAB_H
#define __WEFT_STRTAB_H

#include <stddef.h>
#include <linux/types.h>

struct strtab;

/* NULL and errno on failure */
struct strtab *strtab__new(void);
void strtab__free(struct strtab *t);

/* The id of the len bytes at s (they need not end in a NUL), added when
 * new; 0 for len 0, -ENOMEM (as a negative int) when out of memory. */
long strtab__intern(struct strtab *t, const char *s, size_t len);
/* The string of id (NUL-terminated), "" for 0 or an id not given out */
const char *strtab__str(const struct strtab *t, __u32 id);
size_t strtab__len(const struct strtab *t, __u32 id);
/* Ids given out, 0 included */
size_t strtab__count(const struct strtab *t);

#endif /* __WEFT_STRTAB_H */
