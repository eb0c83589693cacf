// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "demangle.h"

/* libstdc++'s demangler, the C++ ABI's own entry point (cxxabi.h, which is
 * C++ only): it is on every machine that has g++, follows the compiler
 * that made the names (GCC's clone suffixes read "[clone .cold]", as in
 * perf), and needs no other package. libiberty's cplus_demangle (what
 * perf links) comes only as a static library of binutils-dev.
 *
 * It is opened at the first mangled name, not linked: mapping and
 * relocating libstdc++ took 1.2 ms and 43 page faults from every start of
 * weft (a quarter of a short report's time on a VM), and most commands
 * never see a C++ name. */
typedef char *(*cxa_demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

static pthread_once_t demangler_once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn cxa_demangle;

static void open_demangler(void)
{
	void *lib = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

	/* without it, names stay as they are, as for a name it refuses */
	if (lib)
		cxa_demangle = (cxa_demangle_fn)dlsym(lib, "__cxa_demangle");
}

char *demangle(const char *name)
{
	int status = 0;
	char *out;

	/* Everything else (C names, "_GLOBAL__sub_I_x", JIT names) stays as it is:
	 * __cxa_demangle would also take "i" for "int". */
	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	pthread_once(&demangler_once, open_demangler);
	if (!cxa_demangle)
		return NULL;
	out = cxa_demangle(name, NULL, NULL, &status);
	if (status || !out || !*out) {
		free(out);
		return NULL;
	}
	return out;
}
