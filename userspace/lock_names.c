// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock_names.h"
#include "maps_book.h"
#include "symbols.h"
#include "u64set.h"

#define NAME_LEN 96

struct lock_name {
	__u32 tgid;
	__u64 addr;
	char name[NAME_LEN];
};

struct lock_names {
	struct lock_name *entries;
	size_t n, cap;
	struct u64_set index; /* key -> entry */
};

/* user addresses fit in 47 bits; never 0 */
static __u64 key_of(__u32 tgid, __u64 addr)
{
	return (addr ^ ((__u64)tgid << 47) ^ ((__u64)tgid >> 17)) | 1ULL << 63;
}

struct lock_names *lock_names__new(void)
{
	return calloc(1, sizeof(struct lock_names));
}

void lock_names__free(struct lock_names *ln)
{
	if (!ln)
		return;
	free(ln->entries);
	u64_set__release(&ln->index);
	free(ln);
}

static struct lock_name *find(const struct lock_names *ln, __u32 tgid, __u64 addr)
{
	const struct u64_set *s = &ln->index;
	__u64 key = key_of(tgid, addr);
	size_t i;

	if (!s->keys)
		return NULL;
	for (i = u64_set__hash(key, s->mask); s->keys[i]; i = (i + 1) & s->mask) {
		struct lock_name *e = &ln->entries[s->vals[i]];

		if (s->keys[i] == key && e->tgid == tgid && e->addr == addr)
			return e;
	}
	return NULL;
}

static struct lock_name *add(struct lock_names *ln, __u32 tgid, __u64 addr)
{
	struct lock_name *grown, *e;
	bool added;
	__u32 *slot;

	if (ln->n == ln->cap) {
		size_t cap = ln->cap ? ln->cap * 2 : 64;

		grown = realloc(ln->entries, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		ln->entries = grown;
		ln->cap = cap;
	}
	/* two pairs with one key (2^47 apart) keep the first's name only */
	slot = u64_set__slot(&ln->index, key_of(tgid, addr), &added);
	if (!slot)
		return NULL;
	if (!added)
		return &ln->entries[*slot];
	*slot = ln->n;
	e = &ln->entries[ln->n++];
	e->tgid = tgid;
	e->addr = addr;
	e->name[0] = '\0';
	return e;
}

int lock_names__note(struct lock_names *ln, __u32 tgid, __u64 addr)
{
	if (find(ln, tgid, addr))
		return 0;
	return add(ln, tgid, addr) ? 0 : -ENOMEM;
}

int lock_names__resolve(struct lock_names *ln, const struct maps_book *book,
			struct syms_cache *syms, char **buf, size_t *len)
{
	size_t cap = ln->n * (NAME_LEN + 40) + 1, off = 0, i;
	struct sym_result res;
	const struct proc_maps *m;
	char *text = malloc(cap);

	if (!text)
		return -ENOMEM;
	for (i = 0; i < ln->n; i++) {
		struct lock_name *e = &ln->entries[i];

		m = maps_book__get(book, e->tgid);
		if (e->name[0]) /* named already (lock_names__name_with()) */
			goto encode;
		if (!m || syms_cache__resolve_user(syms, m, e->addr, true, &res) || !res.found ||
		    !res.name)
			continue;
		if (res.offset)
			snprintf(e->name, sizeof(e->name), "%s+0x%llx", res.name, res.offset);
		else
			snprintf(e->name, sizeof(e->name), "%s", res.name);
encode:
		off += snprintf(text + off, cap - off, "lock\t%u\t%llx\t%s\n", e->tgid,
				(unsigned long long)e->addr, e->name);
	}
	*buf = text;
	*len = off;
	return 0;
}

void lock_names__name_with(struct lock_names *ln, lock_name_fn fn, void *ctx)
{
	const char *name;
	size_t i;

	for (i = 0; i < ln->n; i++) {
		struct lock_name *e = &ln->entries[i];

		name = fn(ctx, e->tgid, e->addr);
		if (name)
			snprintf(e->name, sizeof(e->name), "%s", name);
	}
}

int lock_names__decode(struct lock_names *ln, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len, *nl;
	char line[NAME_LEN + 64], name[NAME_LEN];
	unsigned long long addr;
	struct lock_name *e;
	unsigned int tgid;
	size_t n;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			return -EINVAL;
		n = nl - p;
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		if (strncmp(line, "lock\t", 5))
			continue;
		if (sscanf(line, "lock\t%u\t%llx\t%95[^\n]", &tgid, &addr, name) != 3)
			return -EINVAL;
		e = add(ln, tgid, addr);
		if (!e)
			return -ENOMEM;
		snprintf(e->name, sizeof(e->name), "%s", name);
	}
	return 0;
}

const char *lock_names__get(const struct lock_names *ln, __u32 tgid, __u64 addr)
{
	const struct lock_name *e = find(ln, tgid, addr);

	return e && e->name[0] ? e->name : NULL;
}
