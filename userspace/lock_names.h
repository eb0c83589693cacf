/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names of the addresses threads waited on ("shared_lock", "gil+0x50"):
 * the recorder notes each (process, futex address) it sees in a blocking
 * switch, resolves them at the end through the processes' maps snapshots
 * and their ELF data symbols, and stores them in the recording's SYMBOLS
 * section as lines "lock<TAB>pid<TAB>hexaddr<TAB>name"; the reports read
 * them back from there. */
#ifndef __WEFT_LOCK_NAMES_H
#define __WEFT_LOCK_NAMES_H

#include <stddef.h>
#include <linux/types.h>

struct lock_names;
struct maps_book;
struct syms_cache;

struct lock_names *lock_names__new(void);
void lock_names__free(struct lock_names *ln);
/* 0, or -ENOMEM; an address already noted costs a lookup */
int lock_names__note(struct lock_names *ln, __u32 tgid, __u64 addr);
/* A name of fn's for an address (NULL: none of fn's) */
typedef const char *(*lock_name_fn)(void *ctx, __u32 tgid, __u64 addr);
/* Names the noted addresses fn knows (the GIL of a CPython) before
 * lock_names__resolve(), which keeps those names */
void lock_names__name_with(struct lock_names *ln, lock_name_fn fn, void *ctx);
/* Names every noted address and encodes them (malloc'd text in *buf). */
int lock_names__resolve(struct lock_names *ln, const struct maps_book *book,
			struct syms_cache *syms, char **buf, size_t *len);
/* Adds the names of one SYMBOLS section; 0, or -EINVAL on a bad line. */
int lock_names__decode(struct lock_names *ln, const void *buf, size_t len);
/* The name, or NULL when the address has none. */
const char *lock_names__get(const struct lock_names *ln, __u32 tgid, __u64 addr);

#endif /* __WEFT_LOCK_NAMES_H */
