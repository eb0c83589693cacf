// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <stdlib.h>

#include "demangle.h"

/* libstdc++'s demangler, the C++ ABI's own entry point (cxxabi.h, which is
 * C++ only): it is on every machine that has g++, follows the compiler
 * that made the names (GCC's clone suffixes read "[clone .cold]", as in
 * perf), and needs no other package. libiberty's cplus_demangle (what
 * perf links) comes only as a static library of binutils-dev. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle(const char *name)
{
	int status = 0;
	char *out;

	/* Everything else (C names, "_GLOBAL__sub_I_x", JIT names) stays as it is:
	 * __cxa_demangle would also take "i" for "int". */
	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	out = __cxa_demangle(name, NULL, NULL, &status);
	if (status || !out || !*out) {
		free(out);
		return NULL;
	}
	return out;
}
