// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "elf_symtab.h"

#define MAX_LOAD_SEGMENTS 64

/* A symbol as read, before sorting and merging of aliases. */
struct raw_sym {
	unsigned long long addr;
	unsigned long long size;
	unsigned int name_off;
	unsigned int name_len;
	unsigned char bind_rank; /* 0 global, 1 weak, 2 local and others */
};

struct raw_vec {
	struct raw_sym *v;
	size_t n, cap;
};

/* The sorted table: cover is the index, among entries 0..i, of the one that
 * ends last, so that an address past the end of its nearest symbol can
 * still be found inside an enclosing one. */
struct elf_sym {
	unsigned long long addr;
	unsigned long long end;
	unsigned int name_off;
	unsigned int cover;
};

struct sym_table {
	struct elf_sym *v;
	size_t n;
};

/* An allocated section's address range: a symbol of size 0 ends with its
 * section at the latest (_init must not swallow the .plt after it). */
struct elf_range {
	unsigned long long start, end;
};

struct elf_symtab {
	struct elf_segment *segs;
	size_t nsegs;
	struct elf_range *secs;
	size_t nsecs;
	struct sym_table funcs;
	struct sym_table objs;
	char *strs; /* every name, NUL-terminated, referenced by offset */
	size_t slen, scap;
	unsigned char build_id[ELF_BUILD_ID_MAX];
	size_t build_id_len;
	char *debuglink; /* name from .gnu_debuglink, or NULL */
	unsigned int debuglink_crc;
	char *debug_path;
};

/* Symbols being collected from one or more ELF files. */
struct builder {
	struct elf_symtab *s;
	struct raw_vec funcs;
	struct raw_vec objs;
};

static bool libelf_ready(void)
{
	static int ready = -1;

	if (ready < 0)
		ready = elf_version(EV_CURRENT) != EV_NONE;
	return ready;
}

static int add_name(struct elf_symtab *s, const char *name, size_t len, unsigned int *off)
{
	size_t need = s->slen + len + 1;
	char *p;

	if (need > UINT_MAX)
		return -E2BIG;
	if (need > s->scap) {
		size_t cap = s->scap ? s->scap * 2 : 4096;

		while (cap < need)
			cap *= 2;
		p = realloc(s->strs, cap);
		if (!p)
			return -ENOMEM;
		s->strs = p;
		s->scap = cap;
	}
	memcpy(s->strs + s->slen, name, len);
	s->strs[s->slen + len] = '\0';
	*off = s->slen;
	s->slen = need;
	return 0;
}

static int raw_push(struct raw_vec *rv, const struct raw_sym *r)
{
	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 256;
		struct raw_sym *v = realloc(rv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	rv->v[rv->n++] = *r;
	return 0;
}

/* A compressed section (SHF_COMPRESSED) is inflated in place by libelf;
 * objcopy never compresses symbol tables, but other tools may. */
static Elf_Data *section_data(Elf_Scn *scn, const GElf_Shdr *shdr)
{
	Elf_Data *data;

	if (shdr->sh_type == SHT_NOBITS)
		return NULL;
	if ((shdr->sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf || !data->d_size)
		return NULL;
	return data;
}

/* Reads the symbols of every section of type sh_type (SHT_SYMTAB or
 * SHT_DYNSYM). Returns how many were kept, or a negative errno. */
static int read_symbols(Elf *elf, struct builder *b, unsigned int sh_type)
{
	Elf_Scn *scn = NULL;
	int kept = 0, err;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		GElf_Sym sym;
		size_t i;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != sh_type)
			continue;
		data = section_data(scn, &shdr);
		if (!data)
			continue;
		/* gelf_getsym() checks i against the data's size. */
		for (i = 0; gelf_getsym(data, i, &sym); i++) {
			unsigned int type = GELF_ST_TYPE(sym.st_info);
			unsigned int bind = GELF_ST_BIND(sym.st_info);
			struct raw_sym r = {};
			const char *name;
			struct raw_vec *rv;

			if (type == STT_FUNC || type == STT_GNU_IFUNC)
				rv = &b->funcs;
			else if (type == STT_OBJECT || type == STT_COMMON)
				rv = &b->objs;
			else
				continue;
			if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS ||
			    sym.st_shndx == SHN_COMMON || !sym.st_value)
				continue;
			name = elf_strptr(elf, shdr.sh_link, sym.st_name);
			if (!name)
				continue;
			r.name_len = strcspn(name, "@");
			if (!r.name_len)
				continue;
			r.addr = sym.st_value;
			r.size = sym.st_size;
			r.bind_rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
			err = add_name(b->s, name, r.name_len, &r.name_off);
			if (!err)
				err = raw_push(rv, &r);
			if (err)
				return err;
			kept++;
		}
	}
	return kept;
}

int elf_segments__read(Elf *elf, struct elf_segment **segs, size_t *n)
{
	size_t phnum, i;

	*segs = NULL;
	*n = 0;
	if (elf_getphdrnum(elf, &phnum))
		return 0;
	*segs = calloc(phnum ? phnum : 1, sizeof(**segs));
	if (!*segs)
		return -ENOMEM;
	/* Every lookup scans the segments: a damaged file with thousands of
	 * them must not make every lookup slow. Real files have a handful. */
	for (i = 0; i < phnum && *n < MAX_LOAD_SEGMENTS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* A segment that wraps around cannot be mapped: drop it rather
		 * than let later sums overflow. */
		if (ph.p_offset + ph.p_filesz < ph.p_offset || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			continue;
		(*segs)[(*n)++] = (struct elf_segment){
			.offset = ph.p_offset,
			.vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz,
			.memsz = ph.p_memsz,
			.flags = ph.p_flags,
		};
	}
	return 0;
}

static int range_cmp(const void *pa, const void *pb)
{
	const struct elf_range *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

static int read_sections(Elf *elf, struct elf_symtab *s)
{
	Elf_Scn *scn = NULL;
	size_t shnum;

	if (elf_getshdrnum(elf, &shnum) || !shnum)
		return 0;
	s->secs = calloc(shnum, sizeof(*s->secs));
	if (!s->secs)
		return -ENOMEM;
	while ((scn = elf_nextscn(elf, scn)) && s->nsecs < shnum) {
		GElf_Shdr shdr;

		/* .tbss overlaps the sections after it: leave TLS out. */
		if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_ALLOC) ||
		    (shdr.sh_flags & SHF_TLS) || !shdr.sh_size ||
		    shdr.sh_addr + shdr.sh_size < shdr.sh_addr)
			continue;
		s->secs[s->nsecs++] =
			(struct elf_range){ shdr.sh_addr, shdr.sh_addr + shdr.sh_size };
	}
	qsort(s->secs, s->nsecs, sizeof(*s->secs), range_cmp);
	return 0;
}

static bool note_build_id(Elf_Data *data, unsigned char *id, size_t *len)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	/* gelf_getnote() returns 0 once a note would run past the data. */
	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz > 0 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
			*len = nh.n_descsz < ELF_BUILD_ID_MAX ? nh.n_descsz : ELF_BUILD_ID_MAX;
			memcpy(id, (char *)data->d_buf + desc_off, *len);
			return true;
		}
		off = next;
	}
	return false;
}

/* From a SHT_NOTE section, else (sections stripped) from PT_NOTE. */
static void read_build_id(Elf *elf, unsigned char *id, size_t *len)
{
	Elf_Scn *scn = NULL;
	size_t phnum, i;

	*len = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = section_data(scn, &shdr);
		if (data && note_build_id(data, id, len))
			return;
	}
	if (elf_getphdrnum(elf, &phnum))
		return;
	for (i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *data;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		/* Checked against the file's size by libelf. */
		data = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		if (data && data->d_buf && note_build_id(data, id, len))
			return;
	}
}

/* .gnu_debuglink: a NUL-terminated file name, padding to 4 bytes, then the
 * CRC-32 of the debug file in the file's byte order. */
static int read_debuglink(Elf *elf, struct elf_symtab *s)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const unsigned char *crc;
	const char *name;
	const char *ident;
	size_t name_len, crc_off;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		const char *sname;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS)
			continue;
		sname = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!sname || strcmp(sname, ".gnu_debuglink"))
			continue;
		data = section_data(scn, &shdr);
		if (!data)
			return 0;
		name = data->d_buf;
		name_len = strnlen(name, data->d_size);
		crc_off = (name_len + 4) & ~(size_t)3;
		if (!name_len || name_len == data->d_size || crc_off + 4 > data->d_size)
			return 0;
		/* A bare file name only: the link must not lead out of the
		 * folders we search. */
		if (memchr(name, '/', name_len))
			return 0;
		s->debuglink = strndup(name, name_len);
		if (!s->debuglink)
			return -ENOMEM;
		crc = (const unsigned char *)data->d_buf + crc_off;
		ident = elf_getident(elf, NULL);
		if (ident && ident[EI_DATA] == ELFDATA2MSB)
			s->debuglink_crc = (unsigned int)crc[0] << 24 | crc[1] << 16 | crc[2] << 8 |
					   crc[3];
		else
			s->debuglink_crc = (unsigned int)crc[3] << 24 | crc[2] << 16 | crc[1] << 8 |
					   crc[0];
		return 0;
	}
	return 0;
}

static int file_crc32(int fd, unsigned int *crc_out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		crc = crc32(crc, buf, n);
		off += n;
	}
	if (n < 0)
		return -errno;
	*crc_out = crc;
	return 0;
}

static bool is_elf(Elf *elf)
{
	return elf && elf_kind(elf) == ELF_K_ELF && gelf_getclass(elf) != ELFCLASSNONE;
}

/* Opens a candidate debug file and, if it belongs to s, reads its .symtab.
 * Returns the number of symbols read (0: not this one). by_build_id: the
 * file was found by s's build-id, so a build-id is what must match. */
static int try_debug_file(struct builder *b, const char *path, bool by_build_id,
			  const struct stat *self)
{
	struct elf_symtab *s = b->s;
	unsigned char id[ELF_BUILD_ID_MAX];
	size_t id_len;
	struct stat st;
	Elf *elf = NULL;
	int fd, n = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto cleanup;
	if (self && st.st_dev == self->st_dev && st.st_ino == self->st_ino)
		goto cleanup;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!is_elf(elf))
		goto cleanup;
	read_build_id(elf, id, &id_len);
	if (s->build_id_len && id_len) {
		if (id_len != s->build_id_len || memcmp(id, s->build_id, id_len))
			goto cleanup;
	} else if (by_build_id) {
		goto cleanup;
	} else {
		unsigned int crc;

		if (file_crc32(fd, &crc) || crc != s->debuglink_crc)
			goto cleanup;
	}
	n = read_symbols(elf, b, SHT_SYMTAB);
	if (n > 0) {
		s->debug_path = strdup(path);
		if (!s->debug_path)
			n = -ENOMEM;
	}
cleanup:
	elf_end(elf);
	close(fd);
	return n;
}

static int find_debug_file(struct builder *b, const char *path, const char *debug_root,
			   const struct stat *self)
{
	struct elf_symtab *s = b->s;
	char cand[PATH_MAX], dir[PATH_MAX];
	const char *slash;
	size_t i, dir_len;
	int n, len;

	if (debug_root && s->build_id_len > 1) {
		char hex[2 * ELF_BUILD_ID_MAX + 1];

		for (i = 0; i < s->build_id_len; i++)
			sprintf(hex + 2 * i, "%02x", s->build_id[i]);
		len = snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", debug_root, hex,
			       hex + 2);
		if (len > 0 && (size_t)len < sizeof(cand)) {
			n = try_debug_file(b, cand, true, self);
			if (n)
				return n;
		}
	}
	if (!s->debuglink || !path)
		return 0;
	slash = strrchr(path, '/');
	dir_len = slash ? (size_t)(slash - path) : 0;
	if (dir_len >= sizeof(dir))
		return 0;
	memcpy(dir, path, dir_len);
	dir[dir_len] = '\0';
	for (i = 0; i < 3; i++) {
		if (i == 0)
			len = snprintf(cand, sizeof(cand), "%s/%s", dir, s->debuglink);
		else if (i == 1)
			len = snprintf(cand, sizeof(cand), "%s/.debug/%s", dir, s->debuglink);
		else if (debug_root)
			len = snprintf(cand, sizeof(cand), "%s%s/%s", debug_root, dir,
				       s->debuglink);
		else
			break;
		if (len <= 0 || (size_t)len >= sizeof(cand))
			continue;
		n = try_debug_file(b, cand, false, self);
		if (n)
			return n;
	}
	return 0;
}

struct sort_ctx {
	const char *strs;
};

static int raw_cmp(const void *pa, const void *pb, void *arg)
{
	const struct raw_sym *a = pa, *b = pb;
	const struct sort_ctx *ctx = arg;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->bind_rank != b->bind_rank)
		return a->bind_rank < b->bind_rank ? -1 : 1;
	if (a->name_len != b->name_len)
		return a->name_len < b->name_len ? -1 : 1;
	return strcmp(ctx->strs + a->name_off, ctx->strs + b->name_off);
}

/* Where a symbol of size 0 at addr ends at the latest: its section's end,
 * else its segment's. */
static unsigned long long section_end(const struct elf_symtab *s, unsigned long long addr)
{
	size_t lo = 0, hi = s->nsecs, mid, i;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->secs[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < s->secs[lo - 1].end)
		return s->secs[lo - 1].end;
	for (i = 0; i < s->nsegs; i++) {
		const struct elf_segment *g = &s->segs[i];

		if (addr >= g->vaddr && addr - g->vaddr < g->memsz)
			return g->vaddr + g->memsz;
	}
	return addr + 1;
}

/* Sorts, keeps one name per address (the first in raw_cmp() order, with
 * the largest size of its aliases), and fixes each symbol's end. */
static int finalize(struct elf_symtab *s, struct raw_vec *rv, struct sym_table *t)
{
	struct sort_ctx ctx = { .strs = s->strs };
	size_t i, j, n = 0;

	if (!rv->n)
		return 0;
	qsort_r(rv->v, rv->n, sizeof(*rv->v), raw_cmp, &ctx);
	t->v = calloc(rv->n, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	for (i = 0; i < rv->n; i = j) {
		unsigned long long size = rv->v[i].size;

		for (j = i + 1; j < rv->n && rv->v[j].addr == rv->v[i].addr; j++)
			if (rv->v[j].size > size)
				size = rv->v[j].size;
		t->v[n].addr = rv->v[i].addr;
		t->v[n].name_off = rv->v[i].name_off;
		/* 0: to be set from the next symbol below. */
		t->v[n].end = 0;
		if (size && rv->v[i].addr + size > rv->v[i].addr)
			t->v[n].end = rv->v[i].addr + size;
		n++;
	}
	t->n = n;
	for (i = 0; i < n; i++) {
		if (!t->v[i].end) {
			unsigned long long end = section_end(s, t->v[i].addr);

			if (i + 1 < n && t->v[i + 1].addr < end)
				end = t->v[i + 1].addr;
			t->v[i].end = end;
		}
		t->v[i].cover = i && t->v[t->v[i - 1].cover].end > t->v[i].end ? t->v[i - 1].cover :
										 i;
	}
	return 0;
}

static const struct elf_sym *table_find(const struct sym_table *t, unsigned long long x)
{
	size_t lo = 0, hi = t->n, mid;
	const struct elf_sym *e;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->v[mid].addr <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	e = &t->v[lo - 1];
	if (x < e->end)
		return e;
	e = &t->v[e->cover];
	return x < e->end ? e : NULL;
}

static void builder_free(struct builder *b)
{
	free(b->funcs.v);
	free(b->objs.v);
}

/* Everything but the debug file search. */
static int read_main(Elf *elf, struct builder *b, int *nsymtab)
{
	struct elf_symtab *s = b->s;
	int err, n;

	err = elf_segments__read(elf, &s->segs, &s->nsegs);
	if (!err)
		err = read_sections(elf, s);
	if (err)
		return err;
	read_build_id(elf, s->build_id, &s->build_id_len);
	err = read_debuglink(elf, s);
	if (err)
		return err;
	n = read_symbols(elf, b, SHT_SYMTAB);
	if (n < 0)
		return n;
	*nsymtab = n;
	n = read_symbols(elf, b, SHT_DYNSYM);
	return n < 0 ? n : 0;
}

static int build(struct builder *b)
{
	int err;

	err = finalize(b->s, &b->funcs, &b->s->funcs);
	if (!err)
		err = finalize(b->s, &b->objs, &b->s->objs);
	return err;
}

struct elf_symtab *elf_symtab__open(int fd, const char *path, const char *debug_root)
{
	struct builder b = {};
	struct stat self;
	Elf *elf = NULL;
	int err, nsymtab = 0, n;

	if (!libelf_ready()) {
		errno = ENOSYS;
		return NULL;
	}
	b.s = calloc(1, sizeof(*b.s));
	if (!b.s) {
		errno = ENOMEM;
		return NULL;
	}
	/* ELF_C_READ rather than a mapping: a file truncated while we read it
	 * must give an error, not SIGBUS. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!is_elf(elf)) {
		err = -EINVAL;
		goto err_out;
	}
	err = read_main(elf, &b, &nsymtab);
	elf_end(elf);
	elf = NULL;
	if (err)
		goto err_out;
	if (!nsymtab) {
		n = find_debug_file(&b, path, debug_root, fstat(fd, &self) ? NULL : &self);
		if (n < 0) {
			err = n;
			goto err_out;
		}
	}
	err = build(&b);
	if (err)
		goto err_out;
	builder_free(&b);
	return b.s;

err_out:
	elf_end(elf);
	builder_free(&b);
	elf_symtab__free(b.s);
	errno = -err;
	return NULL;
}

struct elf_symtab *elf_symtab__from_memory(const void *image, size_t size)
{
	struct builder b = {};
	char *copy = NULL;
	Elf *elf = NULL;
	int err, nsymtab;

	if (!libelf_ready()) {
		errno = ENOSYS;
		return NULL;
	}
	b.s = calloc(1, sizeof(*b.s));
	copy = malloc(size ? size : 1);
	if (!b.s || !copy) {
		err = -ENOMEM;
		goto err_out;
	}
	memcpy(copy, image, size);
	elf = elf_memory(copy, size);
	if (!is_elf(elf)) {
		err = -EINVAL;
		goto err_out;
	}
	err = read_main(elf, &b, &nsymtab);
	if (!err)
		err = build(&b);
	if (err)
		goto err_out;
	elf_end(elf);
	free(copy);
	builder_free(&b);
	return b.s;

err_out:
	elf_end(elf);
	free(copy);
	builder_free(&b);
	elf_symtab__free(b.s);
	errno = -err;
	return NULL;
}

void elf_symtab__free(struct elf_symtab *s)
{
	if (!s)
		return;
	free(s->segs);
	free(s->secs);
	free(s->funcs.v);
	free(s->objs.v);
	free(s->strs);
	free(s->debuglink);
	free(s->debug_path);
	free(s);
}

const struct elf_segment *elf_segments__for_mapping(const struct elf_segment *segs, size_t n,
						    unsigned long long pgoff, bool exec)
{
	static unsigned long long page_mask;
	const struct elf_segment *best = NULL;
	size_t i;

	if (!page_mask)
		page_mask = ~((unsigned long long)sysconf(_SC_PAGESIZE) - 1);
	for (i = 0; i < n; i++) {
		const struct elf_segment *g = &segs[i];
		bool x = g->flags & PF_X, bx;

		if (!g->filesz || pgoff < (g->offset & page_mask) || pgoff >= g->offset + g->filesz)
			continue;
		if (best) {
			bx = best->flags & PF_X;
			if (bx == exec && x != exec)
				continue;
			if (bx == x && g->offset < best->offset)
				continue;
		}
		best = g;
	}
	return best;
}

const struct elf_segment *elf_symtab__segments(const struct elf_symtab *s, size_t *cnt)
{
	*cnt = s->nsegs;
	return s->segs;
}

const char *elf_symtab__find(const struct elf_symtab *s, unsigned long long vaddr, bool data,
			     unsigned long long *start)
{
	const struct elf_sym *e = table_find(data ? &s->objs : &s->funcs, vaddr);

	if (!e)
		return NULL;
	*start = e->addr;
	return s->strs + e->name_off;
}
