// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "elf_symtab.h"
#include "grow.h"
#include "log.h"
#include "pyframes.h"
#include "python_loader.h"
#include "stacks.h"
#include "symbols.h"
#include "u64set.h"

#define VERSION_MIN 0x0308
#define VERSION_MAX 0x030d
#define SUPPORTED "3.8-3.13"
#define GIL_SIZE 208 /* sizeof(struct _gil_runtime_state), 3.11-3.13 */

/* A traced process and the interpreter it runs (version 0: none) */
struct py_process {
	__u32 tgid;
	unsigned long long ino; /* the file looked at, so an exec looks again */
	unsigned int version;
	__u64 gil; /* [gil, gil + GIL_SIZE) */
};

struct python_loader {
	int procs_fd, code_fd;
	struct py_process *procs;
	size_t nprocs, cap;
	bool said[32]; /* 3.N said unknown once */
	char versions[64];
	char lock_name[48];
};

/* Offsets from each version's headers (Include/internal/pycore_frame.h,
 * cpython/code.h, pycore_interp.h, pycore_runtime.h, cpython/pystate.h,
 * cpython/frameobject.h before 3.11), measured with offsetof() against the
 * pyenv builds' headers. The GIL's offset in _PyRuntime: ceval.gil (3.8 to
 * 3.11), _main_interpreter._gil (3.12+). */
struct version_row {
	unsigned int version;
	struct weft_py_offsets off;
	__u32 gil;
};

static const struct version_row versions[] = {
	{ 0x0308,
	  {
		  .runtime_interp_head = 32,
		  .interp_threads_head = 8, /* tstate_head */
		  .tstate_next = 8,
		  .tstate_native_thread_id = 176, /* thread_id */
		  .thread_match = WEFT_PY_MATCH_FSBASE,
		  .tstate_frame = 24, /* frame */
		  .cframe_current_frame = WEFT_PY_NONE,
		  .frame_previous = 24, /* f_back */
		  .frame_code = 32,
		  .frame_instr = 104, /* f_lasti */
		  .lasti_kind = WEFT_PY_LASTI_BYTES,
		  .frame_entry = 0,
		  .entry_kind = WEFT_PY_ENTRY_EVERY,
		  .code_qualname = 112, /* co_name */
		  .code_filename = 104,
		  .code_firstlineno = 40,
		  .code_linetable = 120, /* co_lnotab */
		  .unicode_state = 32,
		  .unicode_ascii_size = 48,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  1152 },
	{ 0x0309,
	  {
		  .runtime_interp_head = 32,
		  .interp_threads_head = 8, /* tstate_head */
		  .tstate_next = 8,
		  .tstate_native_thread_id = 176, /* thread_id */
		  .thread_match = WEFT_PY_MATCH_FSBASE,
		  .tstate_frame = 24, /* frame */
		  .cframe_current_frame = WEFT_PY_NONE,
		  .frame_previous = 24, /* f_back */
		  .frame_code = 32,
		  .frame_instr = 104, /* f_lasti */
		  .lasti_kind = WEFT_PY_LASTI_BYTES,
		  .frame_entry = 0,
		  .entry_kind = WEFT_PY_ENTRY_EVERY,
		  .code_qualname = 112, /* co_name */
		  .code_filename = 104,
		  .code_firstlineno = 40,
		  .code_linetable = 120, /* co_lnotab */
		  .unicode_state = 32,
		  .unicode_ascii_size = 48,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  352 },
	{ 0x030a,
	  {
		  .runtime_interp_head = 32,
		  .interp_threads_head = 8, /* tstate_head */
		  .tstate_next = 8,
		  .tstate_native_thread_id = 176, /* thread_id */
		  .thread_match = WEFT_PY_MATCH_FSBASE,
		  .tstate_frame = 24, /* frame */
		  .cframe_current_frame = WEFT_PY_NONE,
		  .frame_previous = 24, /* f_back */
		  .frame_code = 32,
		  .frame_instr = 96, /* f_lasti */
		  .lasti_kind = WEFT_PY_LASTI_UNITS,
		  .frame_entry = 0,
		  .entry_kind = WEFT_PY_ENTRY_EVERY,
		  .code_qualname = 112, /* co_name */
		  .code_filename = 104,
		  .code_firstlineno = 40,
		  .code_linetable = 120, /* co_linetable */
		  .unicode_state = 32,
		  .unicode_ascii_size = 48,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  352 },
	{ 0x030b,
	  {
		  .runtime_interp_head = 40,
		  .interp_threads_head = 16,
		  .tstate_next = 8,
		  .tstate_native_thread_id = 160,
		  .tstate_frame = 56, /* cframe */
		  .cframe_current_frame = 8,
		  .frame_previous = 48,
		  .frame_code = 32,
		  .frame_instr = 56,
		  .frame_entry = 68, /* is_entry */
		  .entry_kind = WEFT_PY_ENTRY_FLAG,
		  .code_qualname = 128,
		  .code_filename = 112,
		  .code_firstlineno = 72,
		  .code_linetable = 136,
		  .code_adaptive = 184,
		  .unicode_state = 32,
		  .unicode_ascii_size = 48,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  360 },
	{ 0x030c,
	  {
		  .runtime_interp_head = 40,
		  .interp_threads_head = 72,
		  .tstate_next = 8,
		  .tstate_native_thread_id = 144,
		  .tstate_frame = 56, /* cframe */
		  .cframe_current_frame = 0,
		  .frame_previous = 8,
		  .frame_code = 0,
		  .frame_instr = 56,
		  .frame_entry = 70, /* owner */
		  .entry_kind = WEFT_PY_ENTRY_CSTACK_OWNER,
		  .code_qualname = 128,
		  .code_filename = 112,
		  .code_firstlineno = 68,
		  .code_linetable = 136,
		  .code_adaptive = 192,
		  .unicode_state = 32,
		  .unicode_ascii_size = 40,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  77432 },
	{ 0x030d,
	  {
		  .runtime_interp_head = 632,
		  .interp_threads_head = 7344,
		  .tstate_next = 8,
		  .tstate_native_thread_id = 160,
		  .tstate_frame = 72, /* current_frame */
		  .cframe_current_frame = WEFT_PY_NONE,
		  .frame_previous = 8,
		  .frame_code = 0, /* f_executable */
		  .frame_instr = 56, /* instr_ptr */
		  .frame_entry = 70, /* owner */
		  .entry_kind = WEFT_PY_ENTRY_CSTACK_OWNER,
		  .code_qualname = 128,
		  .code_filename = 112,
		  .code_firstlineno = 68,
		  .code_linetable = 136,
		  .code_adaptive = 200,
		  .unicode_state = 32,
		  .unicode_ascii_size = 40,
		  .bytes_size = 16,
		  .bytes_sval = 32,
		  .object_type = 8,
	  },
	  96104 },
};

static const struct version_row *row_of(unsigned int version)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].version == version)
			return &versions[i];
	return NULL;
}

bool python_offsets__of(unsigned int version, struct weft_py_offsets *off)
{
	const struct version_row *r = row_of(version);

	if (r)
		*off = r->off;
	return r != NULL;
}

struct python_loader *python_loader__new(int procs_fd, int code_fd)
{
	struct python_loader *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	elf_version(EV_CURRENT);
	pl->procs_fd = procs_fd;
	pl->code_fd = code_fd;
	return pl;
}

void python_loader__free(struct python_loader *pl)
{
	if (!pl)
		return;
	free(pl->procs);
	free(pl);
}

static struct py_process *proc_get(struct python_loader *pl, __u32 tgid, bool add)
{
	size_t i;

	for (i = 0; i < pl->nprocs; i++)
		if (pl->procs[i].tgid == tgid)
			return &pl->procs[i];
	if (!add)
		return NULL;
	if (grow_array((void **)&pl->procs, &pl->cap, pl->nprocs + 1, sizeof(*pl->procs)))
		return NULL;
	memset(&pl->procs[pl->nprocs], 0, sizeof(pl->procs[0]));
	pl->procs[pl->nprocs].tgid = tgid;
	return &pl->procs[pl->nprocs++];
}

/* 3 and N of a path whose base name is python3.N... or libpython3.N... */
static unsigned int version_of_path(const char *path)
{
	const char *base = strrchr(path, '/');
	char *end;
	long minor;

	base = base ? base + 1 : path;
	if (!strncmp(base, "lib", 3))
		base += 3;
	if (strncmp(base, "python3.", 8))
		return 0;
	minor = strtol(base + 8, &end, 10);
	if (end == base + 8 || minor < 0 || minor > 31)
		return 0;
	return 0x0300 | (unsigned int)minor;
}

/* _PyRuntime's link-time address in the ELF file on fd, 0 when it has
 * none, and PyCode_Type's (0 when none); and the segment bias inputs of
 * the mapping at pgoff */
static unsigned long long find_runtime(int fd, unsigned long long pgoff,
				       unsigned long long *vaddr_minus_offset,
				       unsigned long long *code_type)
{
	unsigned long long value = 0;
	struct elf_segment *segs = NULL;
	const struct elf_segment *seg;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t nsegs = 0, i;
	Elf_Data *data;
	Elf *elf;

	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return 0;
	*code_type = 0;
	while ((!value || !*code_type) && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		data = elf_getdata(scn, NULL);
		for (i = 0; data && gelf_getsym(data, (int)i, &sym); i++) {
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);

			if (!name || !sym.st_value)
				continue;
			if (!strcmp(name, "_PyRuntime"))
				value = sym.st_value;
			else if (!strcmp(name, "PyCode_Type"))
				*code_type = sym.st_value;
		}
	}
	if (value && !elf_segments__read(elf, &segs, &nsegs) &&
	    (seg = elf_segments__for_mapping(segs, nsegs, pgoff, false)))
		*vaddr_minus_offset = seg->vaddr - seg->offset;
	else
		value = 0;
	free(segs);
	elf_end(elf);
	return value;
}

/* 3.13's _PyRuntime.debug_offsets (_Py_DebugOffsets, at its start): the
 * interpreter's own account of its layout, read from the process. Each
 * field is a u64; DO(x) is the index of the field at byte offset x. */
#define DO(x) ((x) / 8)
#define DEBUG_OFFSETS_WORDS 73
static int read_debug_offsets(pid_t tgid, __u64 runtime, unsigned int version,
			      struct weft_py_offsets *off)
{
	__u64 d[DEBUG_OFFSETS_WORDS];
	char path[64];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = pread(fd, d, sizeof(d), (off_t)runtime);
	close(fd);
	if (got != (ssize_t)sizeof(d))
		return -EIO;
	if (memcmp(d, "xdebugpy", 8) || (d[DO(8)] >> 16) != version)
		return -EINVAL;
	off->runtime_interp_head = (__u32)d[DO(40)];
	off->interp_threads_head = (__u32)d[DO(72)];
	off->tstate_next = (__u32)d[DO(168)];
	off->tstate_frame = (__u32)d[DO(184)];
	off->cframe_current_frame = WEFT_PY_NONE;
	off->tstate_native_thread_id = (__u32)d[DO(200)];
	off->frame_previous = (__u32)d[DO(232)];
	off->frame_code = (__u32)d[DO(240)];
	off->frame_instr = (__u32)d[DO(248)];
	off->frame_entry = (__u32)d[DO(264)];
	off->entry_kind = WEFT_PY_ENTRY_CSTACK_OWNER;
	off->code_filename = (__u32)d[DO(280)];
	off->code_qualname = (__u32)d[DO(296)];
	off->code_linetable = (__u32)d[DO(304)];
	off->code_firstlineno = (__u32)d[DO(312)];
	off->code_adaptive = (__u32)d[DO(344)];
	off->bytes_size = (__u32)d[DO(520)];
	off->bytes_sval = (__u32)d[DO(528)];
	off->unicode_state = (__u32)d[DO(544)];
	off->unicode_ascii_size = (__u32)d[DO(560)];
	off->object_type = (__u32)d[DO(360)];
	return 0;
}

static void note_version(struct python_loader *pl, unsigned int version)
{
	char v[8];

	snprintf(v, sizeof(v), "3.%u", version & 0xff);
	if (strstr(pl->versions, v))
		return;
	if (strlen(pl->versions) + strlen(v) + 2 < sizeof(pl->versions)) {
		if (*pl->versions)
			strcat(pl->versions, ",");
		strcat(pl->versions, v);
	}
}

/* Whether the BPF side still has tgid (an exec of the same file deletes
 * it there) */
static bool published(const struct python_loader *pl, __u32 tgid)
{
	struct weft_py_proc proc;

	return !bpf_map_lookup_elem(pl->procs_fd, &tgid, &proc);
}

int python_loader__update(struct python_loader *pl, pid_t tgid, const struct proc_maps *m)
{
	unsigned long long vmo = 0, value = 0, code_type = 0;
	struct weft_py_proc proc = {};
	struct py_process *p;
	struct proc_mapping pm;
	unsigned int version = 0, v;
	size_t i;
	int fd, err;

	if (!pl || !m)
		return 0;
	for (i = 0; proc_maps__get(m, i, &pm); i++) {
		if (!pm.file || !pm.path || !(v = version_of_path(pm.path)))
			continue;
		p = proc_get(pl, (__u32)tgid, false);
		if (p && p->ino == pm.ino && (!p->version || published(pl, (__u32)tgid)))
			return 0; /* looked at already */
		version = v;
		if (v < VERSION_MIN || v > VERSION_MAX)
			break;
		fd = proc_maps__open(m, i);
		if (fd < 0)
			continue;
		value = find_runtime(fd, pm.pgoff, &vmo, &code_type);
		close(fd);
		if (value)
			break;
	}
	if (!version)
		return 0;
	p = proc_get(pl, (__u32)tgid, true);
	if (!p)
		return -ENOMEM;
	p->ino = pm.ino;
	p->version = 0;
	if (version < VERSION_MIN || version > VERSION_MAX) {
		/* 3.6 has no _PyRuntime: the file's name is enough to say it */
		if (!pl->said[version & 31])
			wlog("CPython 3.%u: no Python frames (supported: %s)", version & 0xff,
			     SUPPORTED);
		pl->said[version & 31] = true;
		return 0;
	}
	if (!value || !python_offsets__of(version, &proc.off))
		return 0;
	proc.runtime = pm.start - pm.pgoff - vmo + value;
	proc.code_type = code_type ? pm.start - pm.pgoff - vmo + code_type : 0;
	proc.version = version;
	if (version >= 0x030d && read_debug_offsets(tgid, proc.runtime, version, &proc.off))
		vlog("CPython 3.%u in PID %d: no debug_offsets, using the headers' offsets",
		     version & 0xff, tgid);
	err = bpf_map_update_elem(pl->procs_fd, &tgid, &proc, BPF_ANY);
	if (err)
		return -errno;
	p->version = version;
	p->gil = proc.runtime + row_of(version)->gil;
	note_version(pl, version);
	return 0;
}

const char *python_loader__versions(struct python_loader *pl)
{
	return pl ? pl->versions : "";
}

const char *python_loader__lock_name(const struct python_loader *pl, __u32 tgid, __u64 addr)
{
	size_t i;

	if (!pl)
		return NULL;
	for (i = 0; i < pl->nprocs; i++) {
		const struct py_process *p = &pl->procs[i];

		if (p->tgid == tgid && p->version && addr >= p->gil && addr < p->gil + GIL_SIZE) {
			snprintf((char *)pl->lock_name, sizeof(pl->lock_name), "GIL (CPython 3.%u)",
				 p->version & 0xff);
			return pl->lock_name;
		}
	}
	return NULL;
}

/* --- naming --- */

struct code_table {
	struct weft_py_code *codes;
	size_t n, cap;
	size_t torn, unknown; /* entries whose id is not their key's; words of no entry */
	struct u64_set index; /* id -> codes */
};

static int read_codes(struct python_loader *pl, struct code_table *ct)
{
	struct weft_py_code_key key, next;
	struct weft_py_code *grown;
	bool added, first = true;
	__u32 *slot;

	while (!bpf_map_get_next_key(pl->code_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (ct->n == ct->cap) {
			ct->cap = ct->cap ? ct->cap * 2 : 256;
			grown = realloc(ct->codes, ct->cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			ct->codes = grown;
		}
		if (bpf_map_lookup_elem(pl->code_fd, &key, &ct->codes[ct->n]))
			continue;
		/* the id frames carry is the key's hash: one made again here
		 * tells a torn entry */
		if (ct->codes[ct->n].id != weft_py_code_id(&key)) {
			ct->torn++;
			continue;
		}
		slot = u64_set__slot(&ct->index, ct->codes[ct->n].id, &added);
		if (!slot)
			return -ENOMEM;
		if (added)
			*slot = (__u32)ct->n++;
	}
	return 0;
}

static int name_frame(struct code_table *ct, __u64 word, char *buf, size_t size)
{
	const struct weft_py_code *c;
	__u32 at;
	int line;

	if (word == WEFT_PY_CUT)
		return snprintf(buf, size, "%s", PYFRAMES_CUT_NAME);
	if (!u64_set__get(&ct->index, WEFT_PY_WORD_ID(word), &at)) {
		ct->unknown++;
		return snprintf(buf, size, "[unknown Python code]");
	}
	c = &ct->codes[at];
	line = pyframes__line_at(c->version, c->linetable, c->linetable_len, c->firstlineno,
				 (unsigned int)WEFT_PY_WORD_LASTI(word) * 2);
	return pyframes__text(buf, size, c->qualname, c->filename,
			      line > 0 ? line : c->firstlineno);
}

int python_loader__name(struct python_loader *pl, struct stack_table *t)
{
	struct code_table ct = {};
	char buf[WEFT_PY_NAME_LEN + WEFT_PY_FILE_LEN + 16];
	size_t i, n;
	int err = 0;

	if (!pl || !pl->nprocs)
		return 0;
	err = read_codes(pl, &ct);
	n = stack_table__count(t);
	for (i = 0; !err && i < n; i++) {
		const struct weft_stack *st = stack_table__at(t, i);
		unsigned int f;
		bool py = false;

		if (!st->user)
			continue;
		for (f = 0; !err && f < st->nframes; f++) {
			if (st->frames[f].addr == WEFT_PY_MARKER) {
				py = true;
				continue;
			}
			if (!py)
				continue;
			name_frame(&ct, st->frames[f].addr, buf, sizeof(buf));
			err = stack_table__rename(t, i, f, buf);
		}
	}
	vlog("Python code objects: %zu copied, %zu torn; %zu frames of no copied code object", ct.n,
	     ct.torn, ct.unknown);
	free(ct.codes);
	u64_set__release(&ct.index);
	return err;
}
