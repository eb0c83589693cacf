// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The symbolizer against real files: fixtures from tests/symbols/ are
 * compiled at run time into a temporary folder (a PIE, a shared library,
 * stripped copies with their debug files found by build-id and by
 * .gnu_debuglink), run, and their addresses resolved through their
 * /proc/PID/maps. Also kallsyms (a fixture and the real one), libc's
 * start_thread through libc6-dbg, and input that must not crash: garbage
 * maps text, missing and non-ELF files, fuzzed ELF files. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/clock.h"

#include "symbols.h"

#define FIXTURE_TEST "test_symbols"
#include "fixture.h"

static struct {
	char src[PATH_MAX]; /* tests/symbols */
	char dir[PATH_MAX]; /* the temporary folder */
} env;

/* First line of a command's output, without its newline. */
static int capture(char *out, size_t size, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *f;
	int err = 0;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (!fgets(out, size, f))
		err = -1;
	else
		out[strcspn(out, "\n")] = '\0';
	pclose(f);
	return err || !out[0] ? -1 : 0;
}

static int build_fixtures(void)
{
	const char *d = env.dir, *s = env.src;
	char id[256];

	/* The PIE, with its symbols. */
	if (run("cd %s && cc -g -O0 -fPIE -pie -Wl,--build-id -o prog %s/fix_prog.c -lpthread", d,
		s))
		return -1;
	/* Non-PIE: loaded at its link address. */
	if (run("cd %s && cc -g -O0 -fno-pie -no-pie -o prog_nopie %s/fix_prog.c -lpthread", d, s))
		return -1;
	if (run("cd %s && cc -g -O2 -fPIC -shared -o libfix.so %s/fix_lib.c", d, s))
		return -1;
	/* Stripped, its debug file where a build-id finds it. */
	if (run("cd %s && cp prog prog_bid && objcopy --only-keep-debug prog_bid prog_bid.debug && "
		"strip --strip-all prog_bid",
		d))
		return -1;
	if (capture(id, sizeof(id),
		    "readelf -n %s/prog_bid 2>/dev/null | sed -n 's/.*Build ID: //p'", d))
		return -1;
	if (run("cd %s && mkdir -p dbg/.build-id/%.2s && mv prog_bid.debug dbg/.build-id/%.2s/%s.debug",
		d, id, id, id + 2))
		return -1;
	/* Stripped without a build-id, found by .gnu_debuglink in .debug/. */
	if (run("cd %s && cc -g -O0 -fPIE -pie -Wl,--build-id=none -o prog_dl %s/fix_prog.c "
		"-lpthread && objcopy --only-keep-debug prog_dl prog_dl.debug && "
		"strip --strip-all prog_dl && objcopy --add-gnu-debuglink=prog_dl.debug prog_dl && "
		"mkdir -p .debug && mv prog_dl.debug .debug/",
		d, s))
		return -1;
	/* The same link to a file that is not its debug file (wrong CRC). */
	if (run("cd %s && mkdir -p bad && cp prog_dl bad/prog_dl && cp prog bad/prog_dl.debug", d))
		return -1;
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (find_sources("symbols", "fix_prog.c", env.src))
		return -1;
	xsnprintf(env.dir, sizeof(env.dir), "/tmp/weft-test-symbols.XXXXXX");
	if (!mkdtemp(env.dir))
		return -1;
	return build_fixtures();
}

static int group_teardown(void **state)
{
	(void)state;
	fixture_remove_tree(env.dir);
	return 0;
}

/* --- a running fixture --- */

struct child {
	pid_t pid;
	int in_fd;
	char line[2048];
};

static void child_start(struct child *ch, const char *name)
{
	char path[PATH_MAX * 2];
	int in[2], out[2];
	size_t len = 0;
	ssize_t n;

	xsnprintf(path, sizeof(path), "%s/%s", env.dir, name);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	ch->pid = fork();
	assert_true(ch->pid >= 0);
	if (!ch->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	ch->in_fd = in[1];
	while (len < sizeof(ch->line) - 1 && !memchr(ch->line, '\n', len)) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			break;
		n = read(out[0], ch->line + len, sizeof(ch->line) - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	ch->line[len] = '\0';
	close(out[0]);
	assert_non_null(strchr(ch->line, '\n'));
}

static void child_stop(struct child *ch)
{
	close(ch->in_fd);
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, NULL, 0);
}

static unsigned long long child_addr(const struct child *ch, const char *key)
{
	char pat[64];
	const char *p;

	xsnprintf(pat, sizeof(pat), "%s=", key);
	p = strstr(ch->line, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 16);
}

/* --- checks --- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static void expect_sym(struct syms_cache *c, const struct proc_maps *m, unsigned long long addr,
		       bool data, const char *name, unsigned long long offset, const char *module)
{
	struct sym_result r;

	assert_int_equal(syms_cache__resolve_user(c, m, addr, data, &r), 0);
	if (!r.found)
		fprintf(stderr, "test_symbols: %#llx not found (module %s+%#llx), want %s\n", addr,
			r.module, r.offset, name);
	assert_true(r.found);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, offset);
	assert_non_null(r.module);
	assert_true(ends_with(r.module, module));
}

static void expect_none(struct syms_cache *c, const struct proc_maps *m, unsigned long long addr,
			bool data, const char *module)
{
	struct sym_result r;

	assert_int_equal(syms_cache__resolve_user(c, m, addr, data, &r), 0);
	if (r.found)
		fprintf(stderr, "test_symbols: %#llx resolved to %s+%#llx, want none\n", addr,
			r.name, r.offset);
	assert_false(r.found);
	assert_null(r.name);
	assert_non_null(r.module);
	assert_true(ends_with(r.module, module));
}

static struct syms_cache *cache_with_root(const char *root)
{
	struct syms_cache_opts opts = { .debug_root = root };
	struct syms_cache *c = syms_cache__new_opts(&opts);

	assert_non_null(c);
	return c;
}

/* --- tests --- */

static void check_program(const char *name, bool pie)
{
	struct syms_cache *c = cache_with_root("");
	char mod[64];
	unsigned long long data;
	struct sym_result r;
	struct proc_maps *m;
	struct child ch;

	xsnprintf(mod, sizeof(mod), "/%s", name);
	child_start(&ch, name);
	m = proc_maps__read(ch.pid);
	assert_non_null(m);

	expect_sym(c, m, child_addr(&ch, "alpha"), false, "fix_alpha", 0, mod);
	expect_sym(c, m, child_addr(&ch, "alpha") + 3, false, "fix_alpha", 3, mod);
	expect_sym(c, m, child_addr(&ch, "beta") + 1, false, "fix_beta", 1, mod);
	expect_sym(c, m, child_addr(&ch, "local"), false, "fix_local", 0, mod);

	/* Locks are named by the global that holds them. */
	expect_sym(c, m, child_addr(&ch, "lock") + 8, true, "shared_lock", 8, mod);
	expect_sym(c, m, child_addr(&ch, "gil") + 0x28, true, "gil", 0x28, mod);
	expect_sym(c, m, child_addr(&ch, "data"), true, "data_counter", 0, mod);
	/* Deep in .bss, past the file: the anonymous mapping after it. */
	expect_none(c, m, child_addr(&ch, "pad") + 40000, false, "]");
	assert_int_equal(syms_cache__resolve_user(c, m, child_addr(&ch, "pad") + 40000, false, &r),
			 0);
	assert_true(!strcmp(r.module, "[anon]") || !strcmp(r.module, "[heap]"));
	expect_sym(c, m, child_addr(&ch, "pad") + 40000, true, "bss_pad", 40000, mod);

	/* Code is not data and data is not code. */
	expect_none(c, m, child_addr(&ch, "alpha"), true, mod);
	data = child_addr(&ch, "data");
	expect_none(c, m, data, false, mod);
	assert_int_equal(syms_cache__resolve_user(c, m, data, false, &r), 0);
	assert_true(r.offset < data); /* a file offset, for module+0xoffset */

	expect_none(c, m, child_addr(&ch, "stack"), true, "[stack]");
	expect_none(c, m, child_addr(&ch, "heap") + 8, true, "[heap]");
	if (pie) {
		/* libc without its debug file: .dynsym, with the public name. */
		expect_sym(c, m, child_addr(&ch, "mutex_lock"), false, "pthread_mutex_lock", 0,
			   "libc.so.6");
	} else {
		/* Non-PIC code takes the address of the PLT entry, which has no
		 * symbol: not _init's, which has size 0 and ends with .init. */
		expect_none(c, m, child_addr(&ch, "mutex_lock"), false, mod);
	}

	child_stop(&ch);
	/* The process is gone; the snapshot and the cache still answer. */
	expect_sym(c, m, child_addr(&ch, "beta"), false, "fix_beta", 0, mod);
	proc_maps__free(m);
	syms_cache__free(c);
}

static void test_pie_functions_and_data(void **state)
{
	(void)state;
	check_program("prog", true);
}

static void test_non_pie(void **state)
{
	(void)state;
	check_program("prog_nopie", false);
}

static void test_shared_library(void **state)
{
	struct syms_cache *c = cache_with_root("");
	char path[PATH_MAX * 2];
	struct proc_maps *m, *m2;
	struct sym_result r1, r2;
	void *h, *fn, *var, *cxx;

	(void)state;
	xsnprintf(path, sizeof(path), "%s/libfix.so", env.dir);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	fn = dlsym(h, "fix_lib_function");
	var = dlsym(h, "fix_lib_counter");
	assert_non_null(fn);
	assert_non_null(var);
	m = proc_maps__read(getpid());
	assert_non_null(m);
	assert_true(proc_maps__count(m) > 0);

	/* Aliases __fix_lib_function (global, longer) and fw (weak). */
	expect_sym(c, m, (uintptr_t)fn, false, "fix_lib_function", 0, "/libfix.so");
	expect_sym(c, m, (uintptr_t)fn + 2, false, "fix_lib_function", 2, "/libfix.so");
	expect_sym(c, m, (uintptr_t)var + 2, true, "fix_lib_counter", 2, "/libfix.so");

	/* A C++ name is shown demangled, the same string every time. */
	cxx = dlsym(h, "_ZN3fix6scaledEi");
	assert_non_null(cxx);
	expect_sym(c, m, (uintptr_t)cxx + 1, false, "fix::scaled(int)", 1, "/libfix.so");
	assert_int_equal(syms_cache__resolve_user(c, m, (uintptr_t)cxx, false, &r1), 0);
	assert_int_equal(syms_cache__resolve_user(c, m, (uintptr_t)cxx + 3, false, &r2), 0);
	assert_ptr_equal(r1.name, r2.name);

	/* A second snapshot of the same files uses the same parsed file. */
	m2 = proc_maps__read(getpid());
	assert_non_null(m2);
	assert_int_equal(syms_cache__resolve_user(c, m, (uintptr_t)fn, false, &r1), 0);
	assert_int_equal(syms_cache__resolve_user(c, m2, (uintptr_t)fn, false, &r2), 0);
	assert_ptr_equal(r1.name, r2.name);
	assert_ptr_equal(r1.module, r2.module);
	/* Strings belong to the cache, not the snapshot. */
	proc_maps__free(m2);
	proc_maps__free(m);
	assert_string_equal(r2.name, "fix_lib_function");
	dlclose(h);
	syms_cache__free(c);
}

static void test_debug_file_by_build_id(void **state)
{
	struct syms_cache *with, *without;
	char root[PATH_MAX * 2];
	struct proc_maps *m;
	struct child ch;

	(void)state;
	xsnprintf(root, sizeof(root), "%s/dbg", env.dir);
	with = cache_with_root(root);
	without = cache_with_root("");
	child_start(&ch, "prog_bid");
	m = proc_maps__read(ch.pid);
	assert_non_null(m);

	expect_sym(with, m, child_addr(&ch, "alpha") + 4, false, "fix_alpha", 4, "/prog_bid");
	expect_sym(with, m, child_addr(&ch, "local"), false, "fix_local", 0, "/prog_bid");
	expect_sym(with, m, child_addr(&ch, "gil") + 0x28, true, "gil", 0x28, "/prog_bid");
	/* Without the debug file the stripped program has no names. */
	expect_none(without, m, child_addr(&ch, "alpha") + 4, false, "/prog_bid");
	expect_none(without, m, child_addr(&ch, "gil"), true, "/prog_bid");

	child_stop(&ch);
	proc_maps__free(m);
	syms_cache__free(with);
	syms_cache__free(without);
}

static void test_debug_file_by_debuglink(void **state)
{
	struct syms_cache *c = cache_with_root("");
	struct proc_maps *m;
	struct child ch;

	(void)state;
	child_start(&ch, "prog_dl");
	m = proc_maps__read(ch.pid);
	assert_non_null(m);
	expect_sym(c, m, child_addr(&ch, "beta") + 2, false, "fix_beta", 2, "/prog_dl");
	expect_sym(c, m, child_addr(&ch, "lock") + 8, true, "shared_lock", 8, "/prog_dl");
	child_stop(&ch);
	proc_maps__free(m);

	/* A file of the linked name whose CRC does not match is not used. */
	child_start(&ch, "bad/prog_dl");
	m = proc_maps__read(ch.pid);
	assert_non_null(m);
	expect_none(c, m, child_addr(&ch, "beta"), false, "/bad/prog_dl");
	child_stop(&ch);
	proc_maps__free(m);
	syms_cache__free(c);
}

/* A program whose file was deleted while it ran resolves through
 * /proc/PID/map_files while it lives (root only), and not after. */
static void test_deleted_file(void **state)
{
	struct syms_cache *c, *c2;
	char path[PATH_MAX * 2];
	struct proc_maps *m;
	struct child ch;

	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: /proc/PID/map_files needs root\n");
		skip();
	}
	assert_int_equal(run("cp %s/prog %s/prog_del", env.dir, env.dir), 0);
	child_start(&ch, "prog_del");
	xsnprintf(path, sizeof(path), "%s/prog_del", env.dir);
	assert_int_equal(unlink(path), 0);
	m = proc_maps__read(ch.pid);
	assert_non_null(m);
	c = cache_with_root("");
	expect_sym(c, m, child_addr(&ch, "alpha"), false, "fix_alpha", 0, "/prog_del");
	/* Without the pid only the path is left, and it is gone. */
	proc_maps__set_pid(m, 0);
	c2 = cache_with_root("");
	expect_none(c2, m, child_addr(&ch, "alpha"), false, "/prog_del");
	/* A file now at that path is another inode: not used either. */
	assert_int_equal(run("cp %s/prog %s/prog_del", env.dir, env.dir), 0);
	syms_cache__free(c2);
	c2 = cache_with_root("");
	expect_none(c2, m, child_addr(&ch, "alpha"), false, "/prog_del");
	child_stop(&ch);
	proc_maps__free(m);
	syms_cache__free(c);
	syms_cache__free(c2);
}

/* The vDSO is read from our own memory: a process's [vdso] of the same
 * size is the same image. */
static void test_vdso(void **state)
{
	struct syms_cache *c = cache_with_root("");
	unsigned long long lo = 0, hi = 0, a;
	char line[PATH_MAX + 128];
	bool clock_gettime = false;
	struct sym_result r;
	struct proc_maps *m;
	FILE *f;

	(void)state;
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]"))
			sscanf(line, "%llx-%llx", &lo, &hi);
	fclose(f);
	if (!lo) {
		print_message("skipped: no [vdso] mapping\n");
		skip();
	}
	m = proc_maps__read(getpid());
	assert_non_null(m);
	for (a = lo; a < hi; a += 4) {
		assert_int_equal(syms_cache__resolve_user(c, m, a, false, &r), 0);
		assert_string_equal(r.module, "[vdso]");
		if (r.found && strstr(r.name, "clock_gettime"))
			clock_gettime = true;
	}
	assert_true(clock_gettime);
	proc_maps__free(m);
	syms_cache__free(c);
}

static void expect_ksym(const struct kallsyms *k, unsigned long long addr, const char *name,
			unsigned long long offset, const char *module)
{
	struct sym_result r;

	assert_int_equal(kallsyms__resolve(k, addr, &r), 0);
	assert_true(r.found);
	assert_string_equal(r.name, name);
	assert_int_equal(r.offset, offset);
	assert_string_equal(r.module, module);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_kallsyms_fixture(void **state)
{
	char path[PATH_MAX * 2];
	struct sym_result r;
	struct kallsyms *k;

	(void)state;
	xsnprintf(path, sizeof(path), "%s/kallsyms.txt", env.src);
	k = kallsyms__load(path);
	assert_non_null(k);
	/* _text, second_func, weak_func, some_data, other_data, and three
	 * module functions; not the absolute, undefined or broken lines. */
	assert_int_equal(kallsyms__count(k), 8);
	/* Three aliases at one address: global before local, then shortest. */
	expect_ksym(k, 0xffffffff81000000ULL, "_text", 0, "[kernel]");
	expect_ksym(k, 0xffffffff810000ffULL, "_text", 0xff, "[kernel]");
	expect_ksym(k, 0xffffffff81000100ULL, "second_func", 0, "[kernel]");
	expect_ksym(k, 0xffffffff81000234ULL, "weak_func", 0x34, "[kernel]");
	expect_ksym(k, 0xffffffff82000050ULL, "other_data", 0x10, "[kernel]");
	expect_ksym(k, 0xffffffffc0001010ULL, "mod_func", 0x10, "[fixmod]");
	expect_ksym(k, 0xffffffffc0001090ULL, "mod_func2", 0x10, "[fixmod]");
	expect_ksym(k, 0xffffffffc0002004ULL, "other_mod_func", 4, "[othermod]");
	assert_int_equal(kallsyms__resolve(k, 0xffffffff80000000ULL, &r), 0);
	assert_false(r.found);
	assert_null(r.name);
	assert_string_equal(r.module, "[kernel]");
	assert_int_equal(kallsyms__resolve(NULL, 1, &r), -EINVAL);
	kallsyms__free(k);

	/* What a non-root reader sees. */
	xsnprintf(path, sizeof(path), "%s/kallsyms.zero", env.dir);
	write_file(path, "0000000000000000 T _text\n0000000000000000 T schedule\n");
	assert_null(kallsyms__load(path));
	assert_int_equal(errno, EPERM);
	write_file(path, "nothing here\n");
	assert_null(kallsyms__load(path));
	assert_int_equal(errno, EINVAL);
	xsnprintf(path, sizeof(path), "%s/no-such-kallsyms", env.dir);
	assert_null(kallsyms__load(path));
	assert_int_equal(errno, ENOENT);
	kallsyms__free(NULL);
}

static void test_kallsyms_proc(void **state)
{
	unsigned long long addr = 0;
	char line[512], name[256], type;
	struct kallsyms *k;
	double t0, t1;
	FILE *f;

	(void)state;
	t0 = now_s();
	k = kallsyms__load("/proc/kallsyms");
	t1 = now_s();
	if (!k) {
		assert_int_equal(errno, EPERM);
		print_message("skipped: /proc/kallsyms shows no addresses (not root)\n");
		skip();
	}
	f = fopen("/proc/kallsyms", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 &&
		    !strcmp(name, "schedule") && type == 'T')
			break;
	fclose(f);
	assert_string_equal(name, "schedule");
	expect_ksym(k, addr, "schedule", 0, "[kernel]");
	expect_ksym(k, addr + 4, "schedule", 4, "[kernel]");
	print_message("kallsyms: %zu symbols loaded in %.1f ms\n", kallsyms__count(k),
		      (t1 - t0) * 1e3);
	kallsyms__free(k);
}

static unsigned long long debug_symbol(const char *debug, const char *name)
{
	char out[64];

	if (capture(out, sizeof(out),
		    "readelf -sW %s 2>/dev/null | awk '$4 == \"FUNC\" && $8 == \"%s\" { print $2; exit }'",
		    debug, name))
		return 0;
	return strtoull(out, NULL, 16);
}

/* start_thread and __libc_start_call_main are in no table of Debian's
 * libc.so.6, only in libc6-dbg's debug file, found by build-id. */
static void test_libc_start_thread(void **state)
{
	unsigned long long start_thread, call_main, text_lo = 0, text_hi = 0, sum = 0;
	char id[256], debug[PATH_MAX], line[PATH_MAX + 128];
	struct libc_info li = {};
	struct syms_cache *c;
	struct sym_result r;
	struct proc_maps *m;
	double t0, t1, t2;
	const int n = 200000;
	FILE *f;
	int i;

	(void)state;
	assert_int_equal(dl_iterate_phdr(find_libc, &li), 1);
	assert_int_equal(capture(id, sizeof(id),
				 "readelf -n %s 2>/dev/null | sed -n 's/.*Build ID: //p'", li.path),
			 0);
	xsnprintf(debug, sizeof(debug), "/usr/lib/debug/.build-id/%.2s/%s.debug", id, id + 2);
	if (access(debug, R_OK)) {
		print_message("skipped: no libc debug file %s (install libc6-dbg)\n", debug);
		skip();
	}
	start_thread = debug_symbol(debug, "start_thread");
	call_main = debug_symbol(debug, "__libc_start_call_main");
	assert_true(start_thread && call_main);

	m = proc_maps__read(getpid());
	assert_non_null(m);
	c = syms_cache__new();
	assert_non_null(c);
	t0 = now_s();
	expect_sym(c, m, li.bias + start_thread + 0x10, false, "start_thread", 0x10, "libc.so.6");
	t1 = now_s();
	expect_sym(c, m, li.bias + call_main + 1, false, "__libc_start_call_main", 1, "libc.so.6");

	/* Warm lookups over libc's text. */
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "/libc.so.6") && strstr(line, " r-xp ")) {
			sscanf(line, "%llx-%llx", &text_lo, &text_hi);
			break;
		}
	}
	fclose(f);
	assert_true(text_hi > text_lo);
	t2 = now_s();
	for (i = 0; i < n; i++) {
		unsigned long long a =
			text_lo + ((unsigned long long)i * 2654435761ULL) % (text_hi - text_lo);

		assert_int_equal(syms_cache__resolve_user(c, m, a, false, &r), 0);
		sum += r.found;
	}
	print_message("libc: first lookup (reads libc and its debug file) %.1f ms; warm lookup "
		      "%.3f us; %llu of %d text addresses named\n",
		      (t1 - t0) * 1e3, (now_s() - t2) * 1e6 / n, sum, n);
	assert_true(sum > n * 9ULL / 10);
	proc_maps__free(m);
	syms_cache__free(c);
}

static void test_bad_maps_and_files(void **state)
{
	static const char *garbage[] = {
		"hello world\n",
		"7f00-",
		"7f00-7f10 rwzp 00000000 00:00 0\n",
		"7f10-7f00 r-xp 00000000 00:00 0\n",
		"7f00-7f10 r-xp 00000000 00:00\n",
		"7f00-7f10 r-xp 00000000 0000 0 /x\n",
		"11112222333344445-7f10 r-xp 00000000 00:00 0\n",
		"7f00-7f10 r-xp 00000000 00:00 0x12 /x\n",
		"7f00-7f10 r-xp 00000000 00:00 0 /x\nnot a line\n",
	};
	char text[PATH_MAX * 4], path[PATH_MAX * 2];
	struct syms_cache *c = cache_with_root("");
	struct sym_result r;
	struct proc_maps *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		errno = 0;
		assert_null(proc_maps__parse(garbage[i], strlen(garbage[i])));
		assert_int_equal(errno, EINVAL);
	}
	assert_null(proc_maps__parse("7f00-7f10 r-xp 00000000 00:00 0 /a\0b\n", 36));
	assert_int_equal(errno, EINVAL);

	/* Empty: a zombie's snapshot. */
	m = proc_maps__parse("", 0);
	assert_non_null(m);
	assert_int_equal(proc_maps__count(m), 0);
	assert_int_equal(syms_cache__resolve_user(c, m, 0x1234, false, &r), 0);
	assert_false(r.found);
	assert_string_equal(r.module, "[unknown]");
	assert_int_equal(r.offset, 0x1234);
	assert_int_equal(syms_cache__resolve_user(NULL, m, 0x1234, false, &r), -EINVAL);
	proc_maps__free(m);
	proc_maps__free(NULL);

	/* Out of order, without a final newline; a missing file, a device, a
	 * text file, a deleted file. */
	xsnprintf(path, sizeof(path), "%s/kallsyms.txt", env.src);
	xsnprintf(text, sizeof(text),
		  "7f0000010000-7f0000011000 r--p 00000000 00:00 0 %s\n"
		  "7f0000000000-7f0000002000 r-xp 00001000 08:01 999999   /nonexistent/libgone.so\n"
		  "7f0000020000-7f0000021000 rw-s 00000000 00:05 6 /dev/zero (deleted)\n"
		  "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                  [stack]\n"
		  "7f0000030000-7f0000031000 r-xp 00000000 08:01 999998 /gone/prog (deleted)\n"
		  "560000000000-560000021000 rw-p 00000000 00:00 0 [heap]",
		  path);
	m = proc_maps__parse(text, strlen(text));
	assert_non_null(m);
	assert_int_equal(proc_maps__count(m), 6);
	assert_int_equal(syms_cache__resolve_user(c, m, 0x7f0000000010ULL, false, &r), 0);
	assert_false(r.found);
	assert_null(r.name);
	assert_string_equal(r.module, "/nonexistent/libgone.so");
	assert_int_equal(r.offset, 0x1010);
	expect_none(c, m, 0x7f0000000010ULL, true, "/nonexistent/libgone.so");
	expect_none(c, m, 0x7f0000020010ULL, true, "/dev/zero");
	expect_none(c, m, 0x7f0000010010ULL, false, "/kallsyms.txt");
	expect_none(c, m, 0x7f0000030010ULL, false, "/gone/prog");
	expect_none(c, m, 0x7ffc00000100ULL, true, "[stack]");
	expect_none(c, m, 0x560000000100ULL, true, "[heap]");
	assert_int_equal(syms_cache__resolve_user(c, m, 0x1000, false, &r), 0);
	assert_string_equal(r.module, "[unknown]");
	assert_int_equal(syms_cache__resolve_user(c, m, 0x7f0000002000ULL, false, &r), 0);
	assert_string_equal(r.module, "[unknown]");
	proc_maps__free(m);
	syms_cache__free(c);
}

static unsigned int rng_state = 12345;

static unsigned int rng(void)
{
	rng_state = rng_state * 1103515245 + 12345;
	return rng_state >> 8;
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Maps libfix.so (or a damaged copy) as ld.so would at 0x10000. */
static struct proc_maps *map_lib(const char *path)
{
	char text[PATH_MAX * 8];
	struct proc_maps *m;

	xsnprintf(text, sizeof(text),
		  "10000-11000 r--p 00000000 00:00 0 %s\n"
		  "11000-12000 r-xp 00001000 00:00 0 %s\n"
		  "12000-13000 r--p 00002000 00:00 0 %s\n"
		  "13000-14000 r--p 00002000 00:00 0 %s\n"
		  "14000-15000 rw-p 00003000 00:00 0 %s\n"
		  "15000-17000 rw-p 00000000 00:00 0\n",
		  path, path, path, path, path);
	m = proc_maps__parse(text, strlen(text));
	assert_non_null(m);
	return m;
}

/* Damaged ELF files (bytes changed, cut short) must give answers or
 * nothing, never a crash: run this under ASan and UBSan. */
static void test_fuzzed_elf(void **state)
{
	char src[PATH_MAX * 2], path[PATH_MAX * 2], text[PATH_MAX * 4];
	size_t len, i, k, cut, found = 0, lookups = 0;
	unsigned long long fn = 0, var = 0, a;
	struct syms_cache *c;
	struct proc_maps *m;
	struct sym_result r;
	char *orig, *buf;
	int iter;

	(void)state;
	xsnprintf(src, sizeof(src), "%s/libfix.so", env.dir);
	orig = read_all(src, &len);
	buf = malloc(len);
	assert_non_null(buf);

	/* Undamaged, the layout above finds the function and the variable. */
	c = cache_with_root("");
	m = map_lib(src);
	for (a = 0x10000; a < 0x17000; a += 8) {
		assert_int_equal(syms_cache__resolve_user(c, m, a, false, &r), 0);
		if (r.found && !r.offset && !strcmp(r.name, "fix_lib_function"))
			fn = a;
		assert_int_equal(syms_cache__resolve_user(c, m, a, true, &r), 0);
		if (r.found && !r.offset && !strcmp(r.name, "fix_lib_counter"))
			var = a;
	}
	expect_sym(c, m, fn, false, "fix_lib_function", 0, "/libfix.so");
	expect_sym(c, m, var, true, "fix_lib_counter", 0, "/libfix.so");
	proc_maps__free(m);
	syms_cache__free(c);

	for (iter = 0; iter < 300; iter++) {
		FILE *f;

		memcpy(buf, orig, len);
		cut = len;
		for (k = 1 + rng() % 8; k > 0; k--) {
			/* Headers half the time, anywhere otherwise. */
			i = rng() % 2 ? rng() % 64 : rng() % len;
			buf[i] = rng();
		}
		if (iter % 10 == 0)
			cut = rng() % len;
		xsnprintf(path, sizeof(path), "%s/fuzz-%d.so", env.dir, iter);
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite(buf, 1, cut, f);
		fclose(f);
		c = cache_with_root(env.dir);
		m = map_lib(path);
		for (a = 0x10000; a < 0x17000; a += 8) {
			assert_int_equal(syms_cache__resolve_user(c, m, a, a & 8, &r), 0);
			assert_non_null(r.module);
			found += r.found;
			lookups++;
		}
		proc_maps__free(m);
		syms_cache__free(c);
		unlink(path);
	}
	/* Maps text with bytes changed: parsed or refused, never a crash. */
	for (iter = 0; iter < 2000; iter++) {
		struct syms_cache *c = NULL;
		struct proc_maps *m;
		struct sym_result r;

		xsnprintf(text, sizeof(text),
			  "10000-11000 r--p 00000000 00:00 0 %s\n"
			  "11000-12000 r-xp 00001000 00:00 0 %s\n"
			  "12000-14000 rw-p 00002000 00:00 0  [heap]\n",
			  src, src);
		len = strlen(text);
		for (k = 1 + rng() % 4; k > 0; k--)
			text[rng() % len] = "0123456789abcdef-: /[]\n\0x"[rng() % 25];
		m = proc_maps__parse(text, len);
		if (!m)
			continue;
		c = cache_with_root("");
		for (k = 0; k < 8; k++)
			assert_int_equal(
				syms_cache__resolve_user(c, m, 0x10000 + k * 0x800, k & 1, &r), 0);
		syms_cache__free(c);
		proc_maps__free(m);
	}
	print_message("fuzzed ELF files: %zu of %zu lookups resolved\n", found, lookups);
	free(buf);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pie_functions_and_data),
		cmocka_unit_test(test_non_pie),
		cmocka_unit_test(test_shared_library),
		cmocka_unit_test(test_vdso),
		cmocka_unit_test(test_debug_file_by_build_id),
		cmocka_unit_test(test_debug_file_by_debuglink),
		cmocka_unit_test(test_deleted_file),
		cmocka_unit_test(test_kallsyms_fixture),
		cmocka_unit_test(test_kallsyms_proc),
		cmocka_unit_test(test_libc_start_thread),
		cmocka_unit_test(test_bad_maps_and_files),
		cmocka_unit_test(test_fuzzed_elf),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
