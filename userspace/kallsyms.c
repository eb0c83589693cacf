// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols.h"

struct ksym {
	unsigned long long addr;
	unsigned int name_off;
	unsigned int mod; /* index in kallsyms.mods; 0 is "[kernel]" */
	unsigned short name_len;
	bool global; /* upper-case type */
};

struct kallsyms {
	struct ksym *v;
	size_t n, cap;
	char *strs;
	size_t slen, scap;
	char **mods;
	size_t nmods;
	size_t last_mod;
};

static int add_str(struct kallsyms *k, const char *s, size_t len, unsigned int *off)
{
	size_t need = k->slen + len + 1;
	char *p;

	if (need > UINT_MAX)
		return -E2BIG;
	if (need > k->scap) {
		size_t cap = k->scap ? k->scap * 2 : 1 << 20;

		while (cap < need)
			cap *= 2;
		p = realloc(k->strs, cap);
		if (!p)
			return -ENOMEM;
		k->strs = p;
		k->scap = cap;
	}
	memcpy(k->strs + k->slen, s, len);
	k->strs[k->slen + len] = '\0';
	*off = k->slen;
	k->slen = need;
	return 0;
}

static bool mod_is(const char *mod, const char *s, size_t len)
{
	return strlen(mod) == len + 2 && !memcmp(mod + 1, s, len);
}

/* Module names come in runs (a module's symbols are listed together), so
 * the last one found is tried first. */
static int intern_mod(struct kallsyms *k, const char *s, size_t len, unsigned int *idx)
{
	static const size_t max_mods = 1 << 16;
	char **mods;
	size_t i;

	if (k->last_mod < k->nmods && mod_is(k->mods[k->last_mod], s, len)) {
		*idx = k->last_mod;
		return 0;
	}
	for (i = 0; i < k->nmods; i++) {
		if (mod_is(k->mods[i], s, len)) {
			*idx = k->last_mod = i;
			return 0;
		}
	}
	if (k->nmods >= max_mods)
		return -E2BIG;
	mods = realloc(k->mods, (k->nmods + 1) * sizeof(*mods));
	if (!mods)
		return -ENOMEM;
	k->mods = mods;
	mods[k->nmods] = malloc(len + 3);
	if (!mods[k->nmods])
		return -ENOMEM;
	mods[k->nmods][0] = '[';
	memcpy(mods[k->nmods] + 1, s, len);
	mods[k->nmods][len + 1] = ']';
	mods[k->nmods][len + 2] = '\0';
	*idx = k->last_mod = k->nmods++;
	return 0;
}

/* "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]". Returns 1 for a kept
 * symbol, 0 for a line skipped, a negative errno on failure. */
static int parse_line(struct kallsyms *k, char *line, bool *nonzero)
{
	unsigned long long addr;
	struct ksym s = {};
	char *p = line, *end, *name;
	size_t name_len;
	char type;
	int err;

	errno = 0;
	addr = strtoull(p, &end, 16);
	if (end == p || errno || (*end != ' ' && *end != '\t'))
		return 0;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	type = *p;
	if (!isalpha((unsigned char)type) || (p[1] != ' ' && p[1] != '\t'))
		return 0;
	p += 2;
	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	name_len = strcspn(name, " \t\n");
	if (!name_len || name_len > USHRT_MAX)
		return 0;
	/* Absolute and undefined symbols name no place in the kernel. */
	if (type == 'a' || type == 'A' || type == 'U')
		return 0;
	if (addr)
		*nonzero = true;
	p = name + name_len;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		size_t mlen = strcspn(p + 1, "]\n");

		if (p[1 + mlen] != ']' || !mlen)
			return 0;
		err = intern_mod(k, p + 1, mlen, &s.mod);
		if (err)
			return err;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 65536;
		struct ksym *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	err = add_str(k, name, name_len, &s.name_off);
	if (err)
		return err;
	s.addr = addr;
	s.name_len = name_len;
	s.global = isupper((unsigned char)type);
	k->v[k->n++] = s;
	return 1;
}

static int ksym_cmp(const void *pa, const void *pb, void *arg)
{
	const struct ksym *a = pa, *b = pb;
	const char *strs = arg;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->global != b->global)
		return a->global ? -1 : 1;
	if (a->name_len != b->name_len)
		return a->name_len < b->name_len ? -1 : 1;
	return strcmp(strs + a->name_off, strs + b->name_off);
}

struct kallsyms *kallsyms__load(const char *path)
{
	struct kallsyms *k;
	unsigned int kernel_mod;
	bool nonzero = false;
	char *line = NULL;
	size_t line_cap = 0, i, n;
	FILE *f;
	int err = 0, r;

	k = calloc(1, sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		goto err_out;
	}
	/* mods[0] is the kernel itself, for lines without a module. */
	err = intern_mod(k, "kernel", 6, &kernel_mod);
	while (!err && getline(&line, &line_cap, f) >= 0) {
		r = parse_line(k, line, &nonzero);
		if (r < 0)
			err = r;
	}
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	free(line);
	if (err)
		goto err_out;
	if (!k->n) {
		err = -EINVAL;
		goto err_out;
	}
	/* kptr_restrict hides every address from non-root readers. */
	if (!nonzero) {
		err = -EPERM;
		goto err_out;
	}
	qsort_r(k->v, k->n, sizeof(*k->v), ksym_cmp, k->strs);
	/* Keep the first of each address: the preferred alias. */
	for (i = 0, n = 0; i < k->n; i++)
		if (!n || k->v[i].addr != k->v[n - 1].addr)
			k->v[n++] = k->v[i];
	k->n = n;
	return k;

err_out:
	kallsyms__free(k);
	errno = -err;
	return NULL;
}

int kallsyms__resolve(const struct kallsyms *k, unsigned long long addr, struct sym_result *out)
{
	size_t lo = 0, hi, mid;
	const struct ksym *s;

	if (!k || !out)
		return -EINVAL;
	*out = (struct sym_result){ .module = k->mods[0], .offset = addr };
	hi = k->n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (k->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	s = &k->v[lo - 1];
	out->name = k->strs + s->name_off;
	out->module = k->mods[s->mod];
	out->offset = addr - s->addr;
	out->found = true;
	return 0;
}

size_t kallsyms__count(const struct kallsyms *k)
{
	return k ? k->n : 0;
}

void kallsyms__free(struct kallsyms *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->nmods; i++)
		free(k->mods[i]);
	free(k->mods);
	free(k->v);
	free(k->strs);
	free(k);
}
