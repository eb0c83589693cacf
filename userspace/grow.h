/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Growing arrays: the one rule every growing table follows. */
#ifndef __WEFT_GROW_H
#define __WEFT_GROW_H

#include <errno.h>
#include <stdlib.h>

/* Makes *p hold at least need elements of elem bytes: *cap (in elements)
 * doubles from 64 until it does, with realloc, so pointers into the array
 * go stale and indices stay. 0, or -ENOMEM with *p and *cap unchanged. */
static inline int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (*cap >= need && *p)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

#endif /* __WEFT_GROW_H */
