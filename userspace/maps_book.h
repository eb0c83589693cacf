/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The latest /proc/PID/maps of every traced process, taken while it lives,
 * so that addresses of processes gone by the end of a recording still
 * resolve. A read that fails or comes back empty (a zombie) keeps the last
 * good snapshot. */
#ifndef __WEFT_MAPS_BOOK_H
#define __WEFT_MAPS_BOOK_H

#include <sys/types.h>

struct proc_maps;
struct maps_book;

struct maps_book *maps_book__new(void);
void maps_book__free(struct maps_book *b);
/* Reads /proc/tgid/maps now; 0, or a negative errno (the old snapshot
 * stays). */
int maps_book__take(struct maps_book *b, pid_t tgid);
/* The latest snapshot of tgid, or NULL; valid until the next take. */
const struct proc_maps *maps_book__get(const struct maps_book *b, pid_t tgid);

#endif /* __WEFT_MAPS_BOOK_H */
