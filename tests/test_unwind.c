// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Unwind tables and the reference unwinder. The key test: a library built
 * here without frame pointers (tests/unwind/nofp_lib.c) copies the stack
 * it runs on, and that image unwinds with the library's CFI to the return
 * addresses it recorded, rbp included, where a frame-pointer walk finds
 * nothing. Also: the table of the system's libc, the unwinder's rules on
 * hand-made rows, hand-assembled CFI compiled to exact rows, and malformed
 * CFI (truncated, damaged, random) refused without a crash: run this
 * under ASan and UBSan too. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gelf.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "unwind_table.h"
#include "unwind/nofp_lib.h"
#include "helpers/clock.h"

#define FIXTURE_TEST "test_unwind"
#include "fixture.h"

static struct {
	char src[PATH_MAX]; /* tests/unwind */
	char dir[PATH_MAX]; /* the temporary folder */
	char lib[PATH_MAX * 2]; /* libnofp.so in it */
	void *handle;
	nofp_run_fn run;
	__u64 bias; /* libnofp.so's load bias */
} env;

static int group_setup(void **state)
{
	struct link_map *lm;

	(void)state;
	if (find_sources("unwind", "nofp_lib.c", env.src))
		return -1;
	xsnprintf(env.dir, sizeof(env.dir), "/tmp/weft-test-unwind.XXXXXX");
	if (!mkdtemp(env.dir))
		return -1;
	if (run("cd %s && cc -O2 -g -fPIC -shared -fomit-frame-pointer "
		"-fasynchronous-unwind-tables -I%s -o libnofp.so %s/nofp_lib.c",
		env.dir, env.src, env.src))
		return -1;
	xsnprintf(env.lib, sizeof(env.lib), "%s/libnofp.so", env.dir);
	env.handle = dlopen(env.lib, RTLD_NOW | RTLD_LOCAL);
	if (!env.handle) {
		fprintf(stderr, "test_unwind: dlopen: %s\n", dlerror());
		return -1;
	}
	env.run = (nofp_run_fn)dlsym(env.handle, "nofp_run");
	if (!env.run || dlinfo(env.handle, RTLD_DI_LINKMAP, &lm))
		return -1;
	env.bias = lm->l_addr;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (env.handle)
		dlclose(env.handle);
	fixture_remove_tree(env.dir);
	return 0;
}

/* Every table: rows strictly sorted, types in the enum. */
static void check_table(const struct unwind_table *t)
{
	size_t i;

	for (i = 0; i < t->count; i++) {
		assert_true(t->rows[i].cfa_type <= WEFT_CFA_GAP);
		if (i)
			assert_true(t->rows[i - 1].pc < t->rows[i].pc);
	}
}

/* --- stack images --- */

/* Stack memory at [base, base + len), as the unwinder reads it */
struct stack_image {
	__u64 base;
	const unsigned char *bytes;
	size_t len;
};

static int read_image(void *ctx, __u64 addr, __u64 *val)
{
	const struct stack_image *img = ctx;

	if (addr < img->base || img->len < 8 || addr - img->base > img->len - 8)
		return -EFAULT;
	memcpy(val, img->bytes + (addr - img->base), 8);
	return 0;
}

/* Calls into the library from a frame of its own, above which the
 * library copies no stack. */
static __attribute__((noinline)) void call_library(struct nofp_capture *c)
{
	c->stack_hi = (uintptr_t)__builtin_frame_address(0);
	env.run(c);
	asm volatile("" ::: "memory");
}

static void capture(struct nofp_capture *c, struct stack_image *img)
{
	memset(c, 0, sizeof(*c));
	c->cap = 16 << 10;
	c->image = malloc(c->cap);
	assert_non_null(c->image);
	call_library(c);
	/* The fixture did what it is for: its frames are not frame-pointer
	 * frames, and rbp changed on the way down. */
	assert_int_equal(c->bp, NOFP_RBP_LEVEL1);
	assert_int_equal(c->entry_bp[1], NOFP_RBP_LEVEL0);
	assert_int_equal(c->entry_bp[NOFP_LEVELS - 1], NOFP_RBP_LEVEL1);
	assert_true(c->entry_bp[0] != NOFP_RBP_LEVEL0 && c->entry_bp[0] != NOFP_RBP_LEVEL1);
	assert_true(c->len >= 256 && c->len <= c->cap);
	img->base = c->sp;
	img->bytes = c->image;
	img->len = c->len;
}

/* --- tests --- */

static void test_nofp_library_unwinds(void **state)
{
	struct unwind_table t;
	struct nofp_capture c;
	struct stack_image img;
	struct unwind_regs r;
	Dl_info info;
	int level;

	(void)state;
	assert_int_equal(unwind_table__from_file(env.lib, &t), 0);
	check_table(&t);
	capture(&c, &img);

	r = (struct unwind_regs){ .pc = c.pc, .sp = c.sp, .bp = c.bp };
	for (level = NOFP_LEVELS - 1; level >= 0; level--) {
		assert_int_equal(unwind__step(t.rows, t.count, env.bias, &r,
					      level == NOFP_LEVELS - 1, read_image, &img),
				 1);
		/* Now in the caller of level: where level returns to, with
		 * the rbp level was called with (restored from its save
		 * slot by levels 1 and 0, which changed it). */
		assert_int_equal(r.pc, c.ret[level]);
		assert_int_equal(r.bp, c.entry_bp[level]);
		assert_true(r.sp > img.base && r.sp <= img.base + img.len);
	}
	/* The last frame is this test's: outside the library. */
	assert_true(dladdr((void *)(uintptr_t)r.pc, &info));
	assert_true(strcmp(info.dli_fname, env.lib) != 0);
	assert_true(r.pc > (uintptr_t)call_library && r.pc < (uintptr_t)call_library + 4096);

	free(c.image);
	unwind_table__release(&t);
	assert_null(t.rows);
	assert_int_equal(t.count, 0);
}

/* The address range of a section of an ELF file, or false. */
static bool section_range(const char *path, const char *want, __u64 *addr, __u64 *size)
{
	bool found = false;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;
	int fd;

	assert_true(elf_version(EV_CURRENT) != EV_NONE);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while (!found && (scn = elf_nextscn(elf, scn))) {
		const char *name;

		assert_non_null(gelf_getshdr(scn, &sh));
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want)) {
			*addr = sh.sh_addr;
			*size = sh.sh_size;
			found = true;
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

static void test_libc_table(void **state)
{
	const char *funcs[] = { "nanosleep", "__libc_start_main", "qsort", "fork" };
	size_t i, ends = 0, plts = 0, unknown = 0;
	struct libc_info li = {};
	__u64 plt, plt_size;
	struct unwind_table t;
	double t0, t1;
	void *libc;

	(void)state;
	assert_int_equal(dl_iterate_phdr(find_libc, &li), 1);
	t0 = now_s();
	assert_int_equal(unwind_table__from_file(li.path, &t), 0);
	t1 = now_s();
	check_table(&t);
	assert_true(t.count > 10000);
	for (i = 0; i < t.count; i++) {
		ends += t.rows[i].cfa_type == WEFT_CFA_END;
		plts += t.rows[i].cfa_type == WEFT_CFA_PLT;
		unknown += t.rows[i].cfa_type == WEFT_CFA_UNKNOWN;
	}
	/* clone and clone3 end every thread's stack. */
	assert_true(ends > 0);

	/* At a function's first instruction the CFA is rsp + 8 and rbp is
	 * the caller's. libc's own symbols, not a sanitizer's. */
	libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(libc);
	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
		uintptr_t addr = (uintptr_t)dlsym(libc, funcs[i]);
		const struct weft_unwind_row *row;

		assert_true(addr > li.bias);
		row = unwind_table__find(t.rows, t.count, addr - li.bias);
		assert_non_null(row);
		assert_int_equal(row->cfa_type, WEFT_CFA_RSP);
		assert_int_equal(row->cfa_offset, 8);
		assert_int_equal(row->rbp_offset8, WEFT_RBP_SAME);
	}
	dlclose(libc);

	/* Lazy PLT entries (after the 16-byte PLT0): the CFA is rsp + 8
	 * until the entry pushes its index, rsp + 16 at its last bytes. */
	if (section_range(li.path, ".plt", &plt, &plt_size) && plt_size >= 32) {
		__u64 words[4] = { 0x1111, 0x2222, 0x3333, 0x4444 };
		struct stack_image img = { 0x7ff000, (const unsigned char *)words, sizeof(words) };
		const struct weft_unwind_row *row;
		struct unwind_regs r;

		assert_true(plts > 0);
		row = unwind_table__find(t.rows, t.count, plt + 16);
		assert_non_null(row);
		assert_int_equal(row->cfa_type, WEFT_CFA_PLT);
		assert_int_equal(row->cfa_offset, 8);
		r = (struct unwind_regs){ li.bias + plt + 16, img.base, 77 };
		assert_int_equal(unwind__step(t.rows, t.count, li.bias, &r, true, read_image, &img),
				 1);
		assert_int_equal(r.pc, 0x1111);
		assert_int_equal(r.sp, img.base + 8);
		assert_int_equal(r.bp, 77);
		r = (struct unwind_regs){ li.bias + plt + 31, img.base, 77 };
		assert_int_equal(unwind__step(t.rows, t.count, li.bias, &r, true, read_image, &img),
				 1);
		assert_int_equal(r.pc, 0x2222);
		assert_int_equal(r.sp, img.base + 16);
	}
	print_message("libc %s: %zu rows (%zu unknown, %zu PLT, %zu end) compiled in %.2f ms\n",
		      li.path, t.count, unknown, plts, ends, (t1 - t0) * 1e3);
	unwind_table__release(&t);
	unwind_table__release(&t);
	unwind_table__release(NULL);
}

static void test_elf_errors(void **state)
{
	char path[PATH_MAX * 2];
	struct unwind_table t;

	(void)state;
	assert_int_equal(unwind_table__from_file("/nonexistent/libx.so", &t), -ENOENT);
	assert_null(t.rows);
	xsnprintf(path, sizeof(path), "%s/nofp_lib.c", env.src);
	assert_int_equal(unwind_table__from_file(path, &t), -EINVAL);
	/* A separate debug file: .eh_frame without bytes. */
	assert_int_equal(run("cd %s && objcopy --only-keep-debug libnofp.so nofp.debug", env.dir),
			 0);
	xsnprintf(path, sizeof(path), "%s/nofp.debug", env.dir);
	assert_int_equal(unwind_table__from_file(path, &t), -ENOENT);
	assert_int_equal(run("cd %s && objcopy -R .eh_frame -R .eh_frame_hdr libnofp.so noeh.so "
			     "2>/dev/null",
			     env.dir),
			 0);
	xsnprintf(path, sizeof(path), "%s/noeh.so", env.dir);
	assert_int_equal(unwind_table__from_file(path, &t), -ENOENT);
	assert_null(t.rows);
	assert_int_equal(t.count, 0);
}

#define ROW(pc_, type, off, rbp)                                                           \
	{                                                                                  \
		.pc = (pc_), .cfa_offset = (off), .cfa_type = (type), .rbp_offset8 = (rbp) \
	}

static const struct weft_unwind_row step_rows[] = {
	ROW(0x100, WEFT_CFA_RSP, 8, WEFT_RBP_SAME),
	ROW(0x110, WEFT_CFA_RSP, 24, -2),
	ROW(0x120, WEFT_CFA_RBP, 16, -2),
	ROW(0x130, WEFT_CFA_END, 0, 0),
	ROW(0x140, WEFT_CFA_UNKNOWN, 0, 0),
	ROW(0x150, WEFT_CFA_PLT, 8, 11),
	ROW(0x160, WEFT_CFA_RSP, 16, WEFT_RBP_UNKNOWN),
	ROW(0x170, WEFT_CFA_RSP, 8, 4),
	ROW(0x180, WEFT_CFA_GAP, 0, 0),
};

#define NSTEP_ROWS (sizeof(step_rows) / sizeof(step_rows[0]))

static void test_find(void **state)
{
	const struct weft_unwind_row *rows = step_rows;

	(void)state;
	assert_null(unwind_table__find(rows, NSTEP_ROWS, 0));
	assert_null(unwind_table__find(rows, NSTEP_ROWS, 0xff));
	assert_null(unwind_table__find(rows, 0, 0x100));
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0x100), &rows[0]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0x10f), &rows[0]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0x110), &rows[1]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0x17f), &rows[7]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0x180), &rows[8]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, 0xffffffff), &rows[8]);
	assert_ptr_equal(unwind_table__find(rows, NSTEP_ROWS, UINT64_MAX), &rows[8]);
	assert_ptr_equal(unwind_table__find(rows, 1, 0x100), &rows[0]);
	assert_ptr_equal(unwind_table__find(rows, 1, 0x5000), &rows[0]);
}

static int step(struct unwind_regs *r, bool leaf, struct stack_image *img)
{
	return unwind__step(step_rows, NSTEP_ROWS, 0x400000, r, leaf, read_image, img);
}

static void test_step_rules(void **state)
{
	__u64 words[16];
	struct stack_image img = { 0x7000, (const unsigned char *)words, sizeof(words) };
	const __u64 bias = 0x400000;
	struct unwind_regs r, before;
	int i;

	(void)state;
	for (i = 0; i < 16; i++)
		words[i] = 0xa000 + i;

	/* Leaf at a function's entry: the return address at rsp. */
	r = (struct unwind_regs){ bias + 0x100, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa000);
	assert_int_equal(r.sp, 0x7008);
	assert_int_equal(r.bp, 0x55);

	/* A return address at 0x110 belongs to the call before it: row 0. */
	r = (struct unwind_regs){ bias + 0x110, 0x7010, 0x55 };
	assert_int_equal(step(&r, false, &img), 1);
	assert_int_equal(r.pc, 0xa002);
	assert_int_equal(r.sp, 0x7018);
	/* As frame 0 it is row 1: CFA = rsp + 24, rbp saved at CFA - 16. */
	r = (struct unwind_regs){ bias + 0x110, 0x7010, 0x55 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa004);
	assert_int_equal(r.sp, 0x7028);
	assert_int_equal(r.bp, 0xa003);

	/* CFA from rbp. */
	r = (struct unwind_regs){ bias + 0x125, 0x7000, 0x7020 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa005);
	assert_int_equal(r.sp, 0x7030);
	assert_int_equal(r.bp, 0xa004);

	/* PLT: 8 more once (pc & 15) reaches the threshold, rbp kept. */
	r = (struct unwind_regs){ bias + 0x15a, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa000);
	assert_int_equal(r.sp, 0x7008);
	assert_int_equal(r.bp, 0x55);
	r = (struct unwind_regs){ bias + 0x15b, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa001);
	assert_int_equal(r.sp, 0x7010);

	/* rbp that cannot be restored reads as 0. */
	r = (struct unwind_regs){ bias + 0x161, 0x7000, 0x55 };
	assert_int_equal(step(&r, false, &img), 1);
	assert_int_equal(r.pc, 0xa001);
	assert_int_equal(r.bp, 0);

	/* A positive save slot (above the CFA). */
	r = (struct unwind_regs){ bias + 0x170, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), 1);
	assert_int_equal(r.pc, 0xa000);
	assert_int_equal(r.bp, 0xa005);

	/* The end of the stack, and where nothing is known: *r untouched. */
	r = before = (struct unwind_regs){ bias + 0x131, 0x7000, 0x55 };
	assert_int_equal(step(&r, false, &img), 0);
	assert_memory_equal(&r, &before, sizeof(r));
	r = before = (struct unwind_regs){ bias + 0x140, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), -ENOENT);
	assert_memory_equal(&r, &before, sizeof(r));
	/* 0x140 as a return address is the call at 0x13f: the end. */
	assert_int_equal(step(&r, false, &img), 0);
	r = before = (struct unwind_regs){ bias + 0xff, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), -ENOENT);
	r = before = (struct unwind_regs){ bias + 0x100, 0x7000, 0x55 };
	assert_int_equal(step(&r, false, &img), -ENOENT); /* 0xff */
	r = before = (struct unwind_regs){ bias, 0x7000, 0x55 };
	assert_int_equal(step(&r, false, &img), -ENOENT);
	r = before = (struct unwind_regs){ 0x1000, 0x7000, 0x55 }; /* below the bias */
	assert_int_equal(step(&r, true, &img), -ENOENT);
	r = before = (struct unwind_regs){ bias + 0x100000000ULL, 0x7000, 0x55 };
	assert_int_equal(step(&r, true, &img), -ENOENT);
	r = before = (struct unwind_regs){ bias + 0x190, 0x7000, 0x55 }; /* past the last FDE */
	assert_int_equal(step(&r, true, &img), -ENOENT);

	/* Reads that fail: the return address, then only the saved rbp. */
	r = before = (struct unwind_regs){ bias + 0x100, 0x6ff0, 0x55 };
	assert_int_equal(step(&r, true, &img), -EFAULT);
	assert_memory_equal(&r, &before, sizeof(r));
	r = before = (struct unwind_regs){ bias + 0x170, 0x7070, 0x55 };
	assert_int_equal(step(&r, true, &img), -EFAULT);
	assert_memory_equal(&r, &before, sizeof(r));
	r = before = (struct unwind_regs){ bias + 0x125, 0x7000, 0 };
	assert_int_equal(step(&r, true, &img), -EFAULT);
}

/* --- hand-assembled .eh_frame --- */

#define EH_VADDR 0x10000
#define EH_TEXT 0x800
#define EH_GOT 0x90000

struct eh {
	unsigned char buf[2048];
	size_t len;
};

static void put(struct eh *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->buf));
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put_le(struct eh *b, __u64 v, size_t n)
{
	while (n--) {
		unsigned char byte = v;

		put(b, &byte, 1);
		v >>= 8;
	}
}

static void put_uleb(struct eh *b, __u64 v)
{
	do {
		unsigned char byte = v & 0x7f;

		v >>= 7;
		if (v)
			byte |= 0x80;
		put(b, &byte, 1);
	} while (v);
}

static void put_sleb(struct eh *b, __s64 v)
{
	bool more = true;

	while (more) {
		unsigned char byte = v & 0x7f;

		v >>= 7;
		more = !((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40)));
		if (more)
			byte |= 0x80;
		put(b, &byte, 1);
	}
}

#define PUT_BYTES(b, ...)                              \
	put(b, (const unsigned char[]){ __VA_ARGS__ }, \
	    sizeof((const unsigned char[]){ __VA_ARGS__ }))

static __u64 here(const struct eh *b)
{
	return EH_VADDR + b->len;
}

/* An entry with a 32-bit length: returns where it starts, for
 * end_entry() and for FDEs that point at it. */
static size_t begin_entry(struct eh *b)
{
	size_t start = b->len;

	put_le(b, 0, 4);
	return start;
}

static void end_entry(struct eh *b, size_t start)
{
	size_t len = b->len - start - 4;
	size_t i;

	for (i = 0; i < 4; i++)
		b->buf[start + i] = len >> (8 * i);
}

/* The same with a 64-bit length: 0xffffffff, then 8 bytes of length
 * (and then an 8-byte id). */
static size_t begin_entry64(struct eh *b)
{
	size_t start = b->len;

	put_le(b, 0xffffffff, 4);
	put_le(b, 0, 8);
	return start;
}

static void end_entry64(struct eh *b, size_t start)
{
	size_t len = b->len - start - 12;
	size_t i;

	for (i = 0; i < 8; i++)
		b->buf[start + 4 + i] = len >> (8 * i);
}

/* The usual CIE: "zR", pcrel|sdata4, code 1, data -8, return address
 * column 16; CFA = rsp + 8, return address at CFA - 8. */
static size_t std_cie(struct eh *b)
{
	size_t start = begin_entry(b);

	PUT_BYTES(b, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b);
	PUT_BYTES(b, 0x0c, 7, 8, 0x90, 1);
	end_entry(b, start);
	return start;
}

/* An FDE of std_cie() for [begin, begin + range) with these instructions */
static size_t std_fde(struct eh *b, size_t cie, __u64 begin, __u32 range,
		      const unsigned char *insns, size_t n)
{
	size_t start = begin_entry(b);

	put_le(b, b->len - cie, 4);
	put_le(b, begin - here(b), 4);
	put_le(b, range, 4);
	put_uleb(b, 0);
	put(b, insns, n);
	end_entry(b, start);
	return start;
}

#define STD_FDE(b, cie, begin, range, ...)                                    \
	std_fde(b, cie, begin, range, (const unsigned char[]){ __VA_ARGS__ }, \
		sizeof((const unsigned char[]){ __VA_ARGS__ }))

/* Compiles the first len bytes of b from a buffer of exactly that size,
 * so that ASan sees any read past it. */
static int compile_len(const struct eh *b, size_t len, struct unwind_table *t)
{
	struct eh_frame_section sec = { NULL, len, EH_VADDR, EH_TEXT, EH_GOT };
	void *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, b->buf, len);
	sec.data = copy;
	err = unwind_table__from_eh_frame(&sec, t);
	free(copy);
	if (!err)
		check_table(t);
	else
		assert_true(!t->rows && !t->count);
	return err;
}

static int compile(const struct eh *b, struct unwind_table *t)
{
	return compile_len(b, b->len, t);
}

static void expect_rows(const struct unwind_table *t, const struct weft_unwind_row *want, size_t n)
{
	size_t i;

	for (i = 0; i < t->count && i < n; i++) {
		const struct weft_unwind_row *g = &t->rows[i];

		if (g->pc != want[i].pc || g->cfa_type != want[i].cfa_type ||
		    g->cfa_offset != want[i].cfa_offset || g->rbp_offset8 != want[i].rbp_offset8)
			fail_msg("row %zu: got pc %#x type %u cfa %d rbp %d, want pc %#x type %u "
				 "cfa %d rbp %d",
				 i, g->pc, g->cfa_type, g->cfa_offset, g->rbp_offset8, want[i].pc,
				 want[i].cfa_type, want[i].cfa_offset, want[i].rbp_offset8);
	}
	assert_int_equal(t->count, n);
}

#define EXPECT_ROWS(t, ...)                                                   \
	expect_rows(t, (const struct weft_unwind_row[]){ __VA_ARGS__ },       \
		    sizeof((const struct weft_unwind_row[]){ __VA_ARGS__ }) / \
			    sizeof(struct weft_unwind_row))

/* A prologue and epilogue with every way of moving the location. */
static void test_cfi_basic_rules(void **state)
{
	struct unwind_table t;
	struct eh b = {};
	size_t cie;

	(void)state;
	cie = std_cie(&b);
	STD_FDE(&b, cie, 0x1000, 0x100, 0x41, /* advance_loc 1 */
		0x0e, 16, /* def_cfa_offset 16 */
		0x86, 2, /* offset r6 at cfa-16 */
		0x43, /* advance_loc 3 */
		0x0d, 6, /* def_cfa_register rbp */
		0x02, 0x10, /* advance_loc1 16 */
		0x0a, /* remember_state */
		0x0c, 7, 8, /* def_cfa rsp+8 */
		0x03, 0x02, 0x00, /* advance_loc2 2 */
		0x0b, /* restore_state */
		0x04, 0x04, 0, 0, 0, /* advance_loc4 4 */
		0xc6, /* restore r6 */
		0x01, 0, 0, 0, 0, /* set_loc 0x1050 (pcrel sdata4, patched below) */
		0x0e, 24, /* def_cfa_offset 24 */
		0x40, /* advance_loc 0: the next rule replaces this one */
		0x0e, 32, 0x00, 0x00);
	/* set_loc's operand is relative to itself: patch it now that its
	 * place is known. */
	{
		size_t at = b.len - 11;
		__s32 rel = 0x1050 - (__s64)(EH_VADDR + at);

		memcpy(b.buf + at, &rel, 4);
	}
	assert_int_equal(compile(&b, &t), 0);
	EXPECT_ROWS(&t, ROW(0x1000, WEFT_CFA_RSP, 8, 0), ROW(0x1001, WEFT_CFA_RSP, 16, -2),
		    ROW(0x1004, WEFT_CFA_RBP, 16, -2), ROW(0x1014, WEFT_CFA_RSP, 8, -2),
		    ROW(0x1016, WEFT_CFA_RBP, 16, -2), ROW(0x101a, WEFT_CFA_RBP, 16, 0),
		    ROW(0x1050, WEFT_CFA_RBP, 32, 0), ROW(0x1100, WEFT_CFA_GAP, 0, 0));
	unwind_table__release(&t);
}

/* FDEs out of order, adjacent, with gaps, overlapping, empty. */
static void test_cfi_fde_layout(void **state)
{
	struct unwind_table t;
	struct eh b = {};
	size_t cie;

	(void)state;
	cie = std_cie(&b);
	STD_FDE(&b, cie, 0x2030, 0x10, 0x44, 0x0e, 16, 0);
	STD_FDE(&b, cie, 0x2010, 0x10, 0);
	STD_FDE(&b, cie, 0x2000, 0x10, 0);
	/* Starts inside the FDE before it: dropped. */
	STD_FDE(&b, cie, 0x2038, 0x18, 0x0e, 48);
	/* Same start as an earlier FDE of the section: dropped. */
	STD_FDE(&b, cie, 0x2030, 0x08, 0x0e, 40);
	/* Empty: ignored. */
	STD_FDE(&b, cie, 0x2100, 0, 0x0e, 56);
	/* Rules past the end of the FDE: ignored. */
	STD_FDE(&b, cie, 0x2050, 0x10, 0x0e, 24, 0x02, 0x40, 0x0e, 64, 0x50, 0x0e, 72);
	PUT_BYTES(&b, 0, 0, 0, 0); /* terminator */
	/* What follows the terminator is not read. */
	PUT_BYTES(&b, 0xde, 0xad);
	assert_int_equal(compile(&b, &t), 0);
	EXPECT_ROWS(&t, ROW(0x2000, WEFT_CFA_RSP, 8, 0), ROW(0x2020, WEFT_CFA_GAP, 0, 0),
		    ROW(0x2030, WEFT_CFA_RSP, 8, 0), ROW(0x2034, WEFT_CFA_RSP, 16, 0),
		    ROW(0x2040, WEFT_CFA_GAP, 0, 0), ROW(0x2050, WEFT_CFA_RSP, 24, 0),
		    ROW(0x2060, WEFT_CFA_GAP, 0, 0));
	unwind_table__release(&t);

	/* No FDE at all: an empty table. */
	memset(&b, 0, sizeof(b));
	std_cie(&b);
	assert_int_equal(compile(&b, &t), 0);
	assert_int_equal(t.count, 0);
	assert_int_equal(compile_len(&b, 0, &t), 0);
	assert_int_equal(t.count, 0);

	/* Rows hold 32-bit addresses: a function at 4 GiB does not fit. */
	memset(&b, 0, sizeof(b));
	cie = begin_entry(&b);
	PUT_BYTES(&b, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x04, 0x0c, 7, 8, 0x90, 1);
	end_entry(&b, cie);
	{
		size_t fde = begin_entry(&b);

		put_le(&b, b.len - cie, 4);
		put_le(&b, 0xffffff00, 8);
		put_le(&b, 0xff, 8);
		put_uleb(&b, 0);
		end_entry(&b, fde);
		assert_int_equal(compile(&b, &t), 0);
		EXPECT_ROWS(&t, ROW(0xffffff00, WEFT_CFA_RSP, 8, 0),
			    ROW(0xffffffff, WEFT_CFA_GAP, 0, 0));
		unwind_table__release(&t);
		b.buf[fde + 16] = 0x00; /* range 0x100: ends at 4 GiB */
		b.buf[fde + 17] = 0x01;
		assert_int_equal(compile(&b, &t), -E2BIG);
	}
}

/* Return-address rules, rbp rules, CFA rules. */
static void test_cfi_rule_mapping(void **state)
{
	struct unwind_table t;
	struct eh b = {};
	size_t cie;

	(void)state;
	cie = std_cie(&b);
	STD_FDE(&b, cie, 0x3000, 0x10, 0x07, 16, /* undefined r16: the outermost frame */
		0x44, 0x90, 2, /* return address at cfa-16 */
		0x44, 0xd0, /* restore r16 */
		0x44, 0x09, 16, 0);
	STD_FDE(&b, cie, 0x4000, 0x20, 0x11, 6, 0x7d, /* offset_extended_sf r6 -3: cfa+24 */
		0x41, 0x09, 6, 3, /* register r6 in rbx */
		0x41, 0x05, 6, 1, /* offset_extended r6 1: cfa-8 */
		0x41, 0x10, 6, 2, 0x77, 0x10, /* expression r6 */
		0x41, 0x86, 0xc8, 0x01, /* offset r6 at cfa-1600: too far for __s8 */
		0x41, 0x08, 6, /* same_value r6 */
		0x41, 0x07, 6, /* undefined r6 */
		0x41, 0x2f, 6, 2, /* GNU_negative_offset_extended r6 2: cfa+16 */
		0x41, 0x14, 6, 1, /* val_offset r6 */
		0x41, 0x86, 0, /* offset r6 at cfa+0 */
		0x41, 0x16, 6, 1, 0x9c, /* val_expression r6 */
		0x41, 0x06, 6, /* restore_extended r6 */
		0x41, 0x15, 6, 2, /* val_offset_sf r6 */
		0x41, 0xc6, 0x2e, 16, /* restore r6, GNU_args_size 16 */
		0x86, 2);
	STD_FDE(&b, cie, 0x5000, 0x40, 0x0c, 5, 0, /* def_cfa rdi+0 */
		0x41, 0x12, 7, 0x7e, /* def_cfa_sf rsp, -2: rsp+16 */
		0x41, 0x0e, 0xc0, 0xb8, 0x02, /* def_cfa_offset 40000: too far for __s16 */
		0x41, 0x13, 0x7c, /* def_cfa_offset_sf -4: rsp+32 */
		/* the PLT's expression */
		0x41, 0x0f, 11, 0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22,
		/* another expression (a signal frame's) */
		0x41, 0x0f, 4, 0x77, 0xa0, 0x01, 0x06, 0x41, 0x0d,
		7, /* def_cfa_register rsp: the offset is still 8 */
		/* the PLT's expression with one more operation */
		0x41, 0x0f, 12, 0x77, 8, 0x80, 0, 0x3f, 0x1a, 0x3b, 0x2a, 0x33, 0x24, 0x22, 0x96,
		/* the PLT's again, and rbp saved, which it never does */
		0x41, 0x0f, 11, 0x77, 16, 0x80, 0, 0x3f, 0x1a, 0x3a, 0x2a, 0x33, 0x24, 0x22, 0x41,
		0x86, 2, 0x41, 0xc6, 0);
	assert_int_equal(compile(&b, &t), 0);
	EXPECT_ROWS(&t, ROW(0x3000, WEFT_CFA_END, 0, 0), ROW(0x3004, WEFT_CFA_UNKNOWN, 0, 0),
		    ROW(0x3008, WEFT_CFA_RSP, 8, 0), ROW(0x300c, WEFT_CFA_UNKNOWN, 0, 0),
		    ROW(0x3010, WEFT_CFA_GAP, 0, 0), ROW(0x4000, WEFT_CFA_RSP, 8, 3),
		    ROW(0x4001, WEFT_CFA_RSP, 8, -128), ROW(0x4002, WEFT_CFA_RSP, 8, -1),
		    ROW(0x4003, WEFT_CFA_RSP, 8, -128), ROW(0x4005, WEFT_CFA_RSP, 8, 0),
		    ROW(0x4006, WEFT_CFA_RSP, 8, -128), ROW(0x4007, WEFT_CFA_RSP, 8, 2),
		    ROW(0x4008, WEFT_CFA_RSP, 8, -128), ROW(0x400b, WEFT_CFA_RSP, 8, 0),
		    ROW(0x400c, WEFT_CFA_RSP, 8, -128), ROW(0x400d, WEFT_CFA_RSP, 8, -2),
		    ROW(0x4020, WEFT_CFA_GAP, 0, 0), ROW(0x5000, WEFT_CFA_UNKNOWN, 0, 0),
		    ROW(0x5001, WEFT_CFA_RSP, 16, 0), ROW(0x5002, WEFT_CFA_UNKNOWN, 0, 0),
		    ROW(0x5003, WEFT_CFA_RSP, 32, 0), ROW(0x5004, WEFT_CFA_PLT, 8, 11),
		    ROW(0x5005, WEFT_CFA_UNKNOWN, 0, 0), ROW(0x5006, WEFT_CFA_RSP, 8, 0),
		    ROW(0x5007, WEFT_CFA_UNKNOWN, 0, 0), ROW(0x5008, WEFT_CFA_PLT, 16, 10),
		    ROW(0x5009, WEFT_CFA_UNKNOWN, 0, 0), ROW(0x500a, WEFT_CFA_PLT, 16, 10),
		    ROW(0x5040, WEFT_CFA_GAP, 0, 0));
	unwind_table__release(&t);
}

/* CIE versions, augmentations, pointer encodings, 64-bit lengths, and
 * factors other than 1 and -8. Each FDE says def_cfa_offset N so that
 * its row shows it was read. */
static size_t build_cie_variants(struct eh *b, size_t *bounds, size_t max)
{
	size_t n = 0, cie, fde;

#define BOUND()                       \
	do {                          \
		assert_true(n < max); \
		bounds[n++] = b->len; \
	} while (0)

	/* Version 3, "zPLR": an indirect personality pointer, an LSDA. */
	cie = begin_entry(b);
	PUT_BYTES(b, 0, 0, 0, 0, 3, 'z', 'P', 'L', 'R', 0, 1, 0x78, 16, 7, 0x9b);
	put_le(b, 0x1234, 4);
	PUT_BYTES(b, 0x1b, 0x1b, 0x0c, 7, 8, 0x90, 1);
	end_entry(b, cie);
	BOUND();
	fde = begin_entry(b);
	put_le(b, b->len - cie, 4);
	put_le(b, 0x6000 - here(b), 4);
	put_le(b, 0x10, 4);
	PUT_BYTES(b, 4, 0, 0, 0, 0, 0x0e, 16);
	end_entry(b, fde);
	BOUND();

	/* Version 4 "zRS", udata4 absolute, code factor 4, data factor -4. */
	cie = begin_entry(b);
	PUT_BYTES(b, 0, 0, 0, 0, 4, 'z', 'R', 'S', 0, 8, 0, 4, 0x7c, 16, 1, 0x03, 0x0c, 7, 8, 0x90,
		  2);
	end_entry(b, cie);
	BOUND();
	fde = begin_entry(b);
	put_le(b, b->len - cie, 4);
	put_le(b, 0x6010, 4);
	put_le(b, 0x10, 4);
	/* advance 1 (4 bytes); offset r6 1: cfa-4, not a multiple of 8 */
	PUT_BYTES(b, 0, 0x0e, 24, 0x41, 0x86, 1);
	end_entry(b, fde);
	BOUND();

	/* Version 1 without augmentation: absolute 8-byte pointers. */
	cie = begin_entry(b);
	PUT_BYTES(b, 0, 0, 0, 0, 1, 0, 1, 0x78, 16, 0x0c, 7, 8, 0x90, 1);
	end_entry(b, cie);
	BOUND();
	fde = begin_entry(b);
	put_le(b, b->len - cie, 4);
	put_le(b, 0x6020, 8);
	put_le(b, 0x10, 8);
	PUT_BYTES(b, 0x0e, 32);
	end_entry(b, fde);
	BOUND();

	/* An unknown augmentation after z: skipped with its data. */
	cie = begin_entry(b);
	PUT_BYTES(b, 0, 0, 0, 0, 1, 'z', 'R', 'X', 0, 1, 0x78, 16, 3, 0x1b, 0xaa, 0xbb, 0x0c, 7, 8,
		  0x90, 1);
	end_entry(b, cie);
	BOUND();
	fde = begin_entry(b);
	put_le(b, b->len - cie, 4);
	put_le(b, 0x6030 - here(b), 4);
	put_le(b, 0x10, 4);
	PUT_BYTES(b, 0, 0x0e, 40);
	end_entry(b, fde);
	BOUND();

	/* Every other pointer encoding, one CIE each. */
	{
		static const struct {
			__u8 enc;
			__u64 begin; /* as encoded */
			int size; /* 0: LEB128 */
		} encs[] = {
			{ 0x01, 0x6040, 0 }, /* uleb128 */
			{ 0x02, 0x6050, 2 }, /* udata2 */
			{ 0x04, 0x6060, 8 }, /* udata8 */
			{ 0x09, 0x6070, 0 }, /* sleb128 */
			{ 0x0a, 0x6080, 2 }, /* sdata2 */
			{ 0x0b, 0x6090, 4 }, /* sdata4 */
			{ 0x0c, 0x60a0, 8 }, /* sdata8 */
			{ 0x08, 0x60b0, 8 }, /* signed */
			{ 0x23, 0x60c0 - EH_TEXT, 4 }, /* textrel udata4 */
			{ 0x3b, 0x60d0 - EH_GOT, 4 }, /* datarel sdata4 (negative) */
		};
		size_t i;

		for (i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
			cie = begin_entry(b);
			PUT_BYTES(b, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, encs[i].enc, 0x0c,
				  7, 8, 0x90, 1);
			end_entry(b, cie);
			BOUND();
			fde = begin_entry(b);
			put_le(b, b->len - cie, 4);
			if (encs[i].size) {
				put_le(b, encs[i].begin, encs[i].size);
				put_le(b, 0x10, encs[i].size);
			} else if (encs[i].enc == 0x01) {
				put_uleb(b, encs[i].begin);
				put_uleb(b, 0x10);
			} else {
				put_sleb(b, encs[i].begin);
				put_sleb(b, 0x10);
			}
			PUT_BYTES(b, 0, 0x0e, 48 + 8 * i);
			end_entry(b, fde);
			BOUND();
		}
	}

	/* 64-bit lengths, and 8-byte ids */
	cie = begin_entry64(b);
	put_le(b, 0, 8);
	PUT_BYTES(b, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0x0c, 7, 8, 0x90, 1);
	end_entry64(b, cie);
	BOUND();
	fde = begin_entry64(b);
	put_le(b, b->len - cie, 8);
	put_le(b, 0x6100 - here(b), 4);
	put_le(b, 0x10, 4);
	PUT_BYTES(b, 0, 0x0e, 0xc8, 0x01); /* def_cfa_offset 200 */
	end_entry64(b, fde);
	BOUND();
	PUT_BYTES(b, 0, 0, 0, 0);
	BOUND();
#undef BOUND
	return n;
}

static void test_cfi_encodings(void **state)
{
	struct unwind_table t;
	size_t bounds[64];
	struct eh b = {};

	(void)state;
	build_cie_variants(&b, bounds, 64);
	assert_int_equal(compile(&b, &t), 0);
	EXPECT_ROWS(&t, ROW(0x6000, WEFT_CFA_RSP, 16, 0), ROW(0x6010, WEFT_CFA_RSP, 24, 0),
		    ROW(0x6014, WEFT_CFA_RSP, 24, -128), ROW(0x6020, WEFT_CFA_RSP, 32, 0),
		    ROW(0x6030, WEFT_CFA_RSP, 40, 0), ROW(0x6040, WEFT_CFA_RSP, 48, 0),
		    ROW(0x6050, WEFT_CFA_RSP, 56, 0), ROW(0x6060, WEFT_CFA_RSP, 64, 0),
		    ROW(0x6070, WEFT_CFA_RSP, 72, 0), ROW(0x6080, WEFT_CFA_RSP, 80, 0),
		    ROW(0x6090, WEFT_CFA_RSP, 88, 0), ROW(0x60a0, WEFT_CFA_RSP, 96, 0),
		    ROW(0x60b0, WEFT_CFA_RSP, 104, 0), ROW(0x60c0, WEFT_CFA_RSP, 112, 0),
		    ROW(0x60d0, WEFT_CFA_RSP, 120, 0), ROW(0x60e0, WEFT_CFA_GAP, 0, 0),
		    ROW(0x6100, WEFT_CFA_RSP, 200, 0), ROW(0x6110, WEFT_CFA_GAP, 0, 0));
	unwind_table__release(&t);
}

/* Cut anywhere but between entries, a valid section is malformed. */
static void test_truncated(void **state)
{
	struct unwind_table t;
	size_t bounds[64], nb, cut, k;
	struct eh b = {};

	(void)state;
	nb = build_cie_variants(&b, bounds, 64);
	for (cut = 0; cut <= b.len; cut++) {
		bool at_bound = cut == 0;
		int err;

		for (k = 0; k < nb; k++)
			at_bound |= bounds[k] == cut;
		err = compile_len(&b, cut, &t);
		if (err != (at_bound ? 0 : -EINVAL))
			fail_msg("cut at %zu of %zu: %d", cut, b.len, err);
		unwind_table__release(&t);
	}
}

/* A section of the std CIE and one FDE with these instructions. */
static int compile_insns(const unsigned char *insns, size_t n)
{
	struct unwind_table t;
	struct eh b = {};
	int err;

	std_fde(&b, std_cie(&b), 0x1000, 0x100, insns, n);
	err = compile(&b, &t);
	unwind_table__release(&t);
	return err;
}

#define COMPILE_INSNS(...)                                    \
	compile_insns((const unsigned char[]){ __VA_ARGS__ }, \
		      sizeof((const unsigned char[]){ __VA_ARGS__ }))

/* A section of one CIE with this body (after its id) and one FDE of
 * std_fde's shape. */
static int compile_cie_body(const unsigned char *body, size_t n)
{
	struct unwind_table t;
	struct eh b = {};
	size_t cie;
	int err;

	cie = begin_entry(&b);
	put_le(&b, 0, 4);
	put(&b, body, n);
	end_entry(&b, cie);
	STD_FDE(&b, cie, 0x1000, 0x10, 0);
	err = compile(&b, &t);
	unwind_table__release(&t);
	return err;
}

#define COMPILE_CIE(...)                                         \
	compile_cie_body((const unsigned char[]){ __VA_ARGS__ }, \
			 sizeof((const unsigned char[]){ __VA_ARGS__ }))

static void test_malformed(void **state)
{
	unsigned char insns[40];
	struct unwind_table t;
	struct eh b = {};
	size_t cie, fde;

	(void)state;
	/* Sanity: the helpers make valid sections. */
	assert_int_equal(COMPILE_INSNS(0), 0);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b), 0);

	/* Lengths: past the section, shorter than the id, reserved. */
	PUT_BYTES(&b, 0x20, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	assert_int_equal(compile(&b, &t), -EINVAL);
	memset(&b, 0, sizeof(b));
	PUT_BYTES(&b, 2, 0, 0, 0, 0, 0);
	assert_int_equal(compile(&b, &t), -EINVAL);
	memset(&b, 0, sizeof(b));
	PUT_BYTES(&b, 0xf0, 0xff, 0xff, 0xff, 0, 0, 0, 0);
	assert_int_equal(compile(&b, &t), -EINVAL);
	memset(&b, 0, sizeof(b));
	PUT_BYTES(&b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
	assert_int_equal(compile(&b, &t), -EINVAL);
	/* Three bytes that are no terminator */
	memset(&b, 0, sizeof(b));
	std_cie(&b);
	PUT_BYTES(&b, 0, 0, 0);
	assert_int_equal(compile(&b, &t), -EINVAL);

	/* CIE pointers: before the section, into a CIE, at an FDE. */
	memset(&b, 0, sizeof(b));
	cie = std_cie(&b);
	fde = STD_FDE(&b, cie, 0x1000, 0x10, 0);
	b.buf[fde + 4] += 0x40;
	assert_int_equal(compile(&b, &t), -EINVAL);
	b.buf[fde + 4] -= 0x40 + 4;
	assert_int_equal(compile(&b, &t), -EINVAL);
	memset(&b, 0, sizeof(b));
	cie = std_cie(&b);
	fde = STD_FDE(&b, cie, 0x1000, 0x10, 0);
	STD_FDE(&b, fde, 0x2000, 0x10, 0);
	assert_int_equal(compile(&b, &t), -EINVAL);

	/* CIEs: version, augmentation, address size, lengths inside. */
	assert_int_equal(COMPILE_CIE(2, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'e', 'h', 0, 1, 0x78, 16), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R'), -EINVAL); /* no NUL */
	assert_int_equal(COMPILE_CIE(4, 'z', 'R', 0, 4, 0, 1, 0x78, 16, 1, 0x1b), -EINVAL);
	assert_int_equal(COMPILE_CIE(4, 'z', 'R', 0, 8, 1, 1, 0x78, 16, 1, 0x1b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 9, 0x1b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'P', 0, 1, 0x78, 16, 3, 0x9b, 1, 2), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'P', 0, 1, 0x78, 16, 2, 0xff, 0), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'L', 0, 1, 0x78, 16, 1, 0x0f), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
				     0x80, 0x01, 0x78, 16),
			 -EINVAL); /* a LEB128 of 11 bytes */
	/* FDE pointer encodings: unknown format, funcrel, aligned,
	 * indirect, omit. */
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x0d), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x4b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x5b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x9b), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0xff), -EINVAL);

	/* FDEs: augmentation data past the entry, pc_begin + range past
	 * 2^64. */
	memset(&b, 0, sizeof(b));
	cie = std_cie(&b);
	fde = begin_entry(&b);
	put_le(&b, b.len - cie, 4);
	put_le(&b, 0, 8);
	PUT_BYTES(&b, 9, 0);
	end_entry(&b, fde);
	assert_int_equal(compile(&b, &t), -EINVAL);
	memset(&b, 0, sizeof(b));
	cie = begin_entry(&b);
	PUT_BYTES(&b, 0, 0, 0, 0, 1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x04);
	end_entry(&b, cie);
	fde = begin_entry(&b);
	put_le(&b, b.len - cie, 4);
	put_le(&b, 0xfffffffffffffff0ULL, 8);
	put_le(&b, 0x20, 8);
	put_uleb(&b, 0);
	end_entry(&b, fde);
	assert_int_equal(compile(&b, &t), -EINVAL);

	/* Instructions: unknown opcodes, operands cut by the entry's end,
	 * blocks past it, locations backwards, the state stack. */
	assert_int_equal(COMPILE_INSNS(0x17), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x2d), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x3f), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x0c, 7), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x03, 1), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x0e, 0x80), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x0f, 5, 0x77, 8), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x10, 6, 3, 0x77), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x16, 6, 0x80, 0x80, 0x80, 0x80, 0x01), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x0b), -EINVAL);
	assert_int_equal(COMPILE_INSNS(0x0a, 0x0b, 0x0b), -EINVAL);
	memset(insns, 0x0a, 16);
	memset(insns + 16, 0x0b, 16);
	assert_int_equal(compile_insns(insns, 32), 0);
	memset(insns, 0x0a, 17);
	assert_int_equal(compile_insns(insns, 17), -EINVAL);
	/* set_loc back to before an advance (its operand is pcrel) */
	memset(&b, 0, sizeof(b));
	cie = std_cie(&b);
	fde = STD_FDE(&b, cie, 0x1000, 0x100, 0x44, 0x01, 0, 0, 0, 0);
	{
		size_t at = b.len - 4;
		__s32 rel = 0x1002 - (__s64)(EH_VADDR + at);

		memcpy(b.buf + at, &rel, 4);
		assert_int_equal(compile(&b, &t), -EINVAL);
		rel += 4; /* to 0x1006: forward is fine */
		memcpy(b.buf + at, &rel, 4);
		assert_int_equal(compile(&b, &t), 0);
		unwind_table__release(&t);
	}
	/* No location in a CIE */
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0x41), -EINVAL);
	assert_int_equal(COMPILE_CIE(1, 'z', 'R', 0, 1, 0x78, 16, 1, 0x1b, 0x02, 1), -EINVAL);
}

static unsigned int rng_state = 12345;

static unsigned int rng(void)
{
	rng_state = rng_state * 1103515245 + 12345;
	return rng_state >> 8;
}

/* Random damage to real and hand-made CFI: an answer or -EINVAL
 * (-E2BIG when an address grew), never a crash. */
static void test_fuzzed(void **state)
{
	size_t bounds[64], k, len, i, ok = 0, total = 0;
	struct unwind_table t;
	struct eh orig = {}, lib = {}, b;
	Elf_Data *data;
	int fd, iter, err, src;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;

	(void)state;
	build_cie_variants(&orig, bounds, 64);

	/* libnofp.so's .eh_frame, as a second original. */
	assert_true(elf_version(EV_CURRENT) != EV_NONE);
	fd = open(env.lib, O_RDONLY);
	assert_true(fd >= 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(elf, shstrndx, sh.sh_name), ".eh_frame"))
			break;
	}
	assert_non_null(scn);
	data = elf_getdata(scn, NULL);
	assert_non_null(data);

	assert_true(data->d_size <= sizeof(lib.buf));
	memcpy(lib.buf, data->d_buf, data->d_size);
	lib.len = data->d_size;
	elf_end(elf);
	close(fd);

	for (src = 0; src < 2; src++) {
		const struct eh *base = src ? &lib : &orig;

		/* Undamaged, each compiles (libnofp's at another vaddr, so
		 * its functions move, but stay under 4 GiB). */
		assert_int_equal(compile(base, &t), 0);
		assert_true(t.count > 0);
		unwind_table__release(&t);
		for (iter = 0; iter < 3000; iter++) {
			b = *base;
			for (k = 1 + rng() % 6; k > 0; k--) {
				i = rng() % b.len;
				/* Small values half the time: lengths and
				 * opcodes that are almost right. */
				b.buf[i] = rng() % 2 ? b.buf[i] ^ (1u << (rng() % 8)) : rng();
			}
			len = iter % 7 == 0 ? rng() % (b.len + 1) : b.len;
			err = compile_len(&b, len, &t);
			assert_true(err == 0 || err == -EINVAL || err == -E2BIG);
			ok += !err;
			total++;
			unwind_table__release(&t);
		}
	}
	print_message("fuzzed CFI: %zu of %zu damaged sections still compiled\n", ok, total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nofp_library_unwinds),
		cmocka_unit_test(test_libc_table),
		cmocka_unit_test(test_elf_errors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_step_rules),
		cmocka_unit_test(test_cfi_basic_rules),
		cmocka_unit_test(test_cfi_fde_layout),
		cmocka_unit_test(test_cfi_rule_mapping),
		cmocka_unit_test(test_cfi_encodings),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fuzzed),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
