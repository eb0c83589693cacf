// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "grow.h"
#include "maps_book.h"
#include "symbols.h"

struct maps_entry {
	pid_t tgid;
	struct proc_maps *maps;
};

struct maps_book {
	struct maps_entry *entries;
	size_t n, cap;
};

struct maps_book *maps_book__new(void)
{
	return calloc(1, sizeof(struct maps_book));
}

void maps_book__free(struct maps_book *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		proc_maps__free(b->entries[i].maps);
	free(b->entries);
	free(b);
}

static struct maps_entry *find(const struct maps_book *b, pid_t tgid)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->entries[i].tgid == tgid)
			return &b->entries[i];
	return NULL;
}

int maps_book__take(struct maps_book *b, pid_t tgid)
{
	struct maps_entry *e = find(b, tgid);
	struct proc_maps *m = proc_maps__read(tgid);

	if (!m)
		return -errno;
	if (!proc_maps__count(m)) {
		proc_maps__free(m);
		return -ENOENT;
	}
	if (!e) {
		if (grow_array((void **)&b->entries, &b->cap, b->n + 1, sizeof(*b->entries))) {
			proc_maps__free(m);
			return -ENOMEM;
		}
		e = &b->entries[b->n++];
		e->tgid = tgid;
		e->maps = NULL;
	}
	proc_maps__free(e->maps);
	e->maps = m;
	return 0;
}

const struct proc_maps *maps_book__get(const struct maps_book *b, pid_t tgid)
{
	struct maps_entry *e = find(b, tgid);

	return e ? e->maps : NULL;
}
