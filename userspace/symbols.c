// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "demangle.h"
#include "elf_symtab.h"
#include "symbols.h"
#include "u64set.h"

#define DEFAULT_DEBUG_ROOT "/usr/lib/debug"
#define DELETED_SUFFIX " (deleted)"

enum map_kind {
	MAP_FILE, /* a path: an ELF file, or at least a file */
	MAP_ANON, /* no name */
	MAP_HEAP,
	MAP_STACK,
	MAP_VDSO,
	MAP_OTHER, /* [vvar], [vsyscall], [anon:NAME], ... */
};

struct proc_map {
	unsigned long long start, end, pgoff, ino;
	unsigned int major, minor;
	enum map_kind kind;
	bool exec;
	const char *path; /* into proc_maps.text; "" when anonymous */
};

struct proc_maps {
	struct proc_map *v;
	size_t n;
	char *text; /* a copy of the snapshot, cut into paths */
	pid_t pid;
	/* Tells snapshots apart for the cache's memo, even one allocated
	 * where a freed one was. */
	unsigned long serial;
};

/* One ELF file as named by a maps line. st is NULL when it could not be
 * read; the entry still gives lookups their module name. */
struct file_entry {
	struct file_entry *next;
	unsigned long long ino;
	unsigned int major, minor;
	unsigned long hash;
	bool tried; /* load_entry() ran */
	bool tried_pid; /* ... with a pid, so /proc/PID/ was tried */
	struct elf_symtab *st;
	char path[];
};

struct syms_cache {
	char *debug_root; /* NULL: no debug root */
	struct file_entry **buckets;
	size_t nbuckets, nentries;
	struct elf_symtab *vdso;
	unsigned long long vdso_size;
	bool vdso_tried;
	/* The last (snapshot, mapping) looked up and its entry: the frames of
	 * one stack are mostly in a few files. */
	unsigned long memo_serial;
	size_t memo_idx;
	struct file_entry *memo_entry;
	/* Demangled names by the address of their mangled one (which the
	 * cache's symbol tables hold until it is freed): each demangled
	 * once. The value indexes demangled[]; NULL there keeps the name. */
	struct u64_set demangled_of;
	char **demangled;
	size_t ndemangled, demangled_cap;
};

static unsigned long next_serial;

/* --- /proc/PID/maps --- */

static bool parse_hex(const char **pp, const char *end, unsigned long long *val)
{
	const char *p = *pp;
	unsigned long long v = 0;
	int digits = 0;

	for (; p < end; p++, digits++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits == 16)
			return false;
		v = v << 4 | d;
	}
	*pp = p;
	*val = v;
	return digits > 0;
}

static bool parse_dec(const char **pp, const char *end, unsigned long long *val)
{
	const char *p = *pp;
	unsigned long long v = 0;

	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	if (p == *pp)
		return false;
	*pp = p;
	*val = v;
	return true;
}

static bool expect(const char **pp, const char *end, char c)
{
	if (*pp >= end || **pp != c)
		return false;
	(*pp)++;
	return true;
}

/* "start-end perms offset major:minor inode   path"; the line is [p, end)
 * and *end is writable (the path is cut there). */
static bool parse_line(char *p, char *end, struct proc_map *mp)
{
	const char *q = p;
	unsigned long long major, minor;
	size_t len;
	char *path;

	if (!parse_hex(&q, end, &mp->start) || !expect(&q, end, '-') ||
	    !parse_hex(&q, end, &mp->end) || !expect(&q, end, ' ') || end - q < 5)
		return false;
	if ((q[0] != 'r' && q[0] != '-') || (q[1] != 'w' && q[1] != '-') ||
	    (q[2] != 'x' && q[2] != '-') || (q[3] != 'p' && q[3] != 's'))
		return false;
	mp->exec = q[2] == 'x';
	q += 4;
	if (!expect(&q, end, ' ') || !parse_hex(&q, end, &mp->pgoff) || !expect(&q, end, ' ') ||
	    !parse_hex(&q, end, &major) || !expect(&q, end, ':') || !parse_hex(&q, end, &minor) ||
	    !expect(&q, end, ' ') || !parse_dec(&q, end, &mp->ino))
		return false;
	if (mp->start >= mp->end || major > UINT_MAX || minor > UINT_MAX)
		return false;
	mp->major = major;
	mp->minor = minor;
	if (q < end && *q != ' ')
		return false;
	while (q < end && *q == ' ')
		q++;
	path = p + (q - p);
	*end = '\0';
	len = end - path;
	if (len >= sizeof(DELETED_SUFFIX) - 1 &&
	    !strcmp(path + len - (sizeof(DELETED_SUFFIX) - 1), DELETED_SUFFIX))
		path[len - (sizeof(DELETED_SUFFIX) - 1)] = '\0';
	mp->path = path;
	if (path[0] == '/')
		mp->kind = MAP_FILE;
	else if (!path[0])
		mp->kind = MAP_ANON;
	else if (!strcmp(path, "[heap]"))
		mp->kind = MAP_HEAP;
	else if (!strcmp(path, "[stack]") || !strncmp(path, "[stack:", 7))
		mp->kind = MAP_STACK;
	else if (!strcmp(path, "[vdso]"))
		mp->kind = MAP_VDSO;
	else
		mp->kind = MAP_OTHER;
	return true;
}

static int map_cmp(const void *pa, const void *pb)
{
	const struct proc_map *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

struct proc_maps *proc_maps__parse(const char *maps_text, size_t len)
{
	struct proc_maps *m;
	size_t lines = 1, i;
	char *p, *end, *eol;
	bool sorted = true;
	int err;

	if ((!maps_text && len) || len == SIZE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
	m->text = malloc(len + 1);
	if (!m->text) {
		err = -ENOMEM;
		goto err_out;
	}
	if (len)
		memcpy(m->text, maps_text, len);
	m->text[len] = '\0';
	/* A NUL cannot come from the kernel, and would cut a path short. */
	if (memchr(m->text, '\0', len)) {
		err = -EINVAL;
		goto err_out;
	}
	for (i = 0; i < len; i++)
		lines += m->text[i] == '\n';
	m->v = calloc(lines, sizeof(*m->v));
	if (!m->v) {
		err = -ENOMEM;
		goto err_out;
	}
	end = m->text + len;
	for (p = m->text; p < end; p = eol + 1) {
		eol = memchr(p, '\n', end - p);
		if (!eol)
			eol = end;
		if (eol == p)
			continue;
		if (m->n >= lines || !parse_line(p, eol, &m->v[m->n])) {
			err = -EINVAL;
			goto err_out;
		}
		if (m->n && m->v[m->n].start < m->v[m->n - 1].start)
			sorted = false;
		m->n++;
	}
	if (!sorted)
		qsort(m->v, m->n, sizeof(*m->v), map_cmp);
	return m;

err_out:
	proc_maps__free(m);
	errno = -err;
	return NULL;
}

struct proc_maps *proc_maps__read(pid_t pid)
{
	struct proc_maps *m = NULL;
	size_t len = 0, cap = 65536;
	char path[64], *buf, *nbuf;
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		if (len == cap) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				err = -ENOMEM;
				goto cleanup;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (!n)
			break;
		len += n;
	}
	m = proc_maps__parse(buf, len);
	if (!m)
		err = -errno;
	else
		m->pid = pid;
cleanup:
	free(buf);
	close(fd);
	if (err)
		errno = -err;
	return m;
}

void proc_maps__set_pid(struct proc_maps *m, pid_t pid)
{
	if (m)
		m->pid = pid > 0 ? pid : 0;
}

size_t proc_maps__count(const struct proc_maps *m)
{
	return m ? m->n : 0;
}

bool proc_maps__get(const struct proc_maps *m, size_t i, struct proc_mapping *out)
{
	const struct proc_map *mp;

	if (!m || i >= m->n)
		return false;
	mp = &m->v[i];
	out->start = mp->start;
	out->end = mp->end;
	out->pgoff = mp->pgoff;
	out->ino = mp->ino;
	out->major = mp->major;
	out->minor = mp->minor;
	out->exec = mp->exec;
	out->file = mp->kind == MAP_FILE;
	out->path = mp->path;
	return true;
}

void proc_maps__free(struct proc_maps *m)
{
	if (!m)
		return;
	free(m->v);
	free(m->text);
	free(m);
}

/* Index of the mapping holding addr, or -1. */
static long find_map(const struct proc_maps *m, unsigned long long addr)
{
	size_t lo = 0, hi = m->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= m->v[lo - 1].end)
		return -1;
	return lo - 1;
}

/* --- the cache of ELF files --- */

struct syms_cache *syms_cache__new(void)
{
	return syms_cache__new_opts(NULL);
}

struct syms_cache *syms_cache__new_opts(const struct syms_cache_opts *opts)
{
	const char *root = opts && opts->debug_root ? opts->debug_root : DEFAULT_DEBUG_ROOT;
	struct syms_cache *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_out;
	c->nbuckets = 64;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets)
		goto err_out;
	if (root[0]) {
		c->debug_root = strdup(root);
		if (!c->debug_root)
			goto err_out;
	}
	return c;

err_out:
	syms_cache__free(c);
	errno = ENOMEM;
	return NULL;
}

void syms_cache__free(struct syms_cache *c)
{
	struct file_entry *e, *next;
	size_t i;

	if (!c)
		return;
	for (i = 0; c->buckets && i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e; e = next) {
			next = e->next;
			elf_symtab__free(e->st);
			free(e);
		}
	}
	free(c->buckets);
	elf_symtab__free(c->vdso);
	free(c->debug_root);
	for (i = 0; i < c->ndemangled; i++)
		free(c->demangled[i]);
	free(c->demangled);
	u64_set__release(&c->demangled_of);
	free(c);
}

static unsigned long entry_hash(const struct proc_map *mp)
{
	unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
	const unsigned char *p;

	for (p = (const unsigned char *)mp->path; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h ^= mp->ino * 0x9e3779b97f4a7c15ULL;
	h ^= ((unsigned long long)mp->major << 32 | mp->minor) * 0xc2b2ae3d27d4eb4fULL;
	return h ^ (h >> 29);
}

/* Whether the file found (st) may be the one the snapshot names. A
 * different inode on the same device is a replaced file (rebuilt, or the
 * package upgraded): its symbols would be wrong. A different device (an
 * overlay or btrfs subvolume shows another st_dev than maps does) cannot
 * be checked, and is trusted. */
static bool same_file(const struct stat *st, const struct proc_map *mp)
{
	if (!S_ISREG(st->st_mode))
		return false;
	if (!mp->ino)
		return true;
	if (major(st->st_dev) == mp->major && minor(st->st_dev) == mp->minor)
		return st->st_ino == mp->ino;
	return true;
}

/* Opens a regular file only: a maps line may name a device (/dev/zero,
 * a GPU), and opening one can have effects. */
static int open_checked(const char *path, const struct proc_map *mp)
{
	struct stat st, fst;
	int fd;

	if (stat(path, &st) || !same_file(&st, mp))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &fst) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

static int open_mapped_file(const struct proc_maps *m, const struct proc_map *mp)
{
	char path[PATH_MAX + 64];
	int fd, len;

	if (m->pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)m->pid, mp->start,
			 mp->end);
		fd = open_checked(path, mp);
		if (fd >= 0)
			return fd;
		len = snprintf(path, sizeof(path), "/proc/%d/root%s", (int)m->pid, mp->path);
		if (len > 0 && (size_t)len < sizeof(path)) {
			fd = open_checked(path, mp);
			if (fd >= 0)
				return fd;
		}
	}
	return open_checked(mp->path, mp);
}

int proc_maps__open(const struct proc_maps *m, size_t i)
{
	if (!m || i >= m->n || m->v[i].kind != MAP_FILE)
		return -1;
	return open_mapped_file(m, &m->v[i]);
}

static void load_entry(struct syms_cache *c, const struct proc_maps *m, const struct proc_map *mp,
		       struct file_entry *e)
{
	int fd;

	e->tried = true;
	e->tried_pid = m->pid > 0;
	fd = open_mapped_file(m, mp);
	if (fd < 0)
		return;
	e->st = elf_symtab__open(fd, e->path, c->debug_root);
	close(fd);
}

static int grow_buckets(struct syms_cache *c)
{
	size_t n = c->nbuckets * 2, i;
	struct file_entry **b, *e, *next;

	b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < c->nbuckets; i++) {
		for (e = c->buckets[i]; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return 0;
}

/* The entry of the file that mapping idx of m names, read on first use.
 * NULL only when out of memory. */
static struct file_entry *get_entry(struct syms_cache *c, const struct proc_maps *m, size_t idx)
{
	const struct proc_map *mp = &m->v[idx];
	struct file_entry *e;
	unsigned long h;
	size_t len;

	if (c->memo_entry && c->memo_serial == m->serial && c->memo_idx == idx) {
		e = c->memo_entry;
		goto found;
	}
	h = entry_hash(mp);
	for (e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->ino == mp->ino && e->major == mp->major &&
		    e->minor == mp->minor && !strcmp(e->path, mp->path))
			goto found;
	if (c->nentries >= c->nbuckets && grow_buckets(c))
		return NULL;
	len = strlen(mp->path);
	e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->path, mp->path, len + 1);
	e->ino = mp->ino;
	e->major = mp->major;
	e->minor = mp->minor;
	e->hash = h;
	e->next = c->buckets[h & (c->nbuckets - 1)];
	c->buckets[h & (c->nbuckets - 1)] = e;
	c->nentries++;
found:
	/* Read on first use; a file that could not be read from a snapshot
	 * without a live pid may be through this one's /proc/PID/map_files. */
	if (!e->st && (!e->tried || (!e->tried_pid && m->pid > 0)))
		load_entry(c, m, mp, e);
	c->memo_serial = m->serial;
	c->memo_idx = idx;
	c->memo_entry = e;
	return e;
}

/* The load segment a mapping maps (elf_segments__for_mapping() says how
 * it is chosen) */
static const struct elf_segment *find_segment(const struct elf_symtab *st,
					      const struct proc_map *mp)
{
	const struct elf_segment *segs;
	size_t n;

	segs = elf_symtab__segments(st, &n);
	return elf_segments__for_mapping(segs, n, mp->pgoff, mp->exec);
}

static void lookup(const struct elf_symtab *st, unsigned long long vaddr, bool data,
		   struct sym_result *out)
{
	unsigned long long start;
	const char *name = elf_symtab__find(st, vaddr, data, &start);

	if (!name)
		return;
	out->name = name;
	out->offset = vaddr - start;
	out->found = true;
}

static int resolve_in_file(struct syms_cache *c, const struct proc_maps *m, size_t idx,
			   unsigned long long addr, bool data, struct sym_result *out)
{
	const struct proc_map *mp = &m->v[idx];
	unsigned long long file_off = addr - mp->start + mp->pgoff;
	const struct elf_segment *seg;
	struct file_entry *e;

	e = get_entry(c, m, idx);
	if (!e)
		return -ENOMEM;
	out->module = e->path;
	out->offset = file_off;
	if (!e->st)
		return 0;
	seg = find_segment(e->st, mp);
	if (seg)
		lookup(e->st, file_off - seg->offset + seg->vaddr, data, out);
	return 0;
}

/* .bss past the file's last page lives in the anonymous mapping that
 * follows the file's last mapping (for the main executable the kernel may
 * call it [heap] when brk starts right there). Its link address is that of
 * the segment the previous mapping maps, if it falls in the segment's
 * memsz. */
static int resolve_bss(struct syms_cache *c, const struct proc_maps *m, size_t idx,
		       unsigned long long addr, struct sym_result *out)
{
	const struct proc_map *mp = &m->v[idx], *prev;
	const struct elf_segment *seg;
	struct file_entry *e;
	unsigned long long vaddr;

	if (!idx)
		return 0;
	prev = &m->v[idx - 1];
	if (prev->kind != MAP_FILE || prev->end != mp->start)
		return 0;
	e = get_entry(c, m, idx - 1);
	if (!e)
		return -ENOMEM;
	if (!e->st)
		return 0;
	seg = find_segment(e->st, prev);
	if (!seg)
		return 0;
	vaddr = addr - prev->start + prev->pgoff - seg->offset + seg->vaddr;
	if (vaddr < seg->vaddr || vaddr - seg->vaddr >= seg->memsz)
		return 0;
	lookup(e->st, vaddr, true, out);
	if (out->found)
		out->module = e->path;
	return 0;
}

/* The vDSO is the kernel's, the same image in every 64-bit process: read
 * ours, and use it for a process whose [vdso] has the same size. */
static void load_vdso(struct syms_cache *c)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	struct proc_maps *self;
	long i;

	c->vdso_tried = true;
	if (!base)
		return;
	self = proc_maps__read(getpid());
	if (!self)
		return;
	i = find_map(self, base);
	if (i >= 0 && self->v[i].kind == MAP_VDSO && self->v[i].start == base) {
		c->vdso_size = self->v[i].end - self->v[i].start;
		c->vdso = elf_symtab__from_memory((const void *)base, c->vdso_size);
	}
	proc_maps__free(self);
}

static void resolve_vdso(struct syms_cache *c, const struct proc_map *mp, unsigned long long addr,
			 struct sym_result *out)
{
	const struct elf_segment *seg;

	if (!c->vdso_tried)
		load_vdso(c);
	if (!c->vdso || c->vdso_size != mp->end - mp->start)
		return;
	seg = find_segment(c->vdso, mp);
	if (seg)
		lookup(c->vdso, addr - mp->start + mp->pgoff - seg->offset + seg->vaddr, false,
		       out);
}

static const char *anon_module(enum map_kind kind)
{
	switch (kind) {
	case MAP_HEAP:
		return "[heap]";
	case MAP_STACK:
		return "[stack]";
	default:
		return "[anon]";
	}
}

/* The name to show for a symbol name the cache holds: demangled when it
 * is a C++ name, once per name. NULL only when out of memory. */
static const char *shown_name(struct syms_cache *c, const char *name)
{
	bool added = false;
	char **grown;
	__u32 *slot;

	if (name[0] != '_' || name[1] != 'Z')
		return name;
	/* room first: a slot once added must name a string */
	if (c->ndemangled == c->demangled_cap) {
		size_t cap = c->demangled_cap ? c->demangled_cap * 2 : 64;

		grown = realloc(c->demangled, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		c->demangled = grown;
		c->demangled_cap = cap;
	}
	slot = u64_set__slot(&c->demangled_of, (__u64)(uintptr_t)name, &added);
	if (!slot)
		return NULL;
	if (added) {
		*slot = c->ndemangled;
		c->demangled[c->ndemangled++] = demangle(name);
	}
	return c->demangled[*slot] ? c->demangled[*slot] : name;
}

static int resolve_user(struct syms_cache *c, const struct proc_maps *m, unsigned long long addr,
			bool data, struct sym_result *out)
{
	const struct proc_map *mp;
	long idx;
	int err;

	*out = (struct sym_result){ .module = "[unknown]", .offset = addr };
	idx = find_map(m, addr);
	if (idx < 0)
		return 0;
	mp = &m->v[idx];
	switch (mp->kind) {
	case MAP_FILE:
		return resolve_in_file(c, m, idx, addr, data, out);
	case MAP_VDSO:
		out->module = "[vdso]";
		out->offset = addr - mp->start;
		if (!data)
			resolve_vdso(c, mp, addr, out);
		return 0;
	case MAP_ANON:
	case MAP_HEAP:
		if (data) {
			err = resolve_bss(c, m, idx, addr, out);
			if (err || out->found)
				return err;
		}
		break;
	default:
		break;
	}
	out->module = anon_module(mp->kind);
	out->offset = addr - mp->start;
	return 0;
}

int syms_cache__resolve_user(struct syms_cache *c, const struct proc_maps *m,
			     unsigned long long addr, bool data, struct sym_result *out)
{
	int err;

	if (!c || !m || !out)
		return -EINVAL;
	err = resolve_user(c, m, addr, data, out);
	if (!err && out->found && out->name) {
		out->name = shown_name(c, out->name);
		if (!out->name)
			return -ENOMEM;
	}
	return err;
}
