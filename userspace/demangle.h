/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* C++ symbol names as perf shows them ("v8::internal::Heap::Scavenge()"),
 * from their Itanium ABI mangling ("_ZN2v88internal4Heap8ScavengeEv"),
 * with the parameter types. The symbolizer (symbols.c) calls it, so every
 * frame and lock name of every output is demangled once, at the end of the
 * recording. */
#ifndef __WEFT_DEMANGLE_H
#define __WEFT_DEMANGLE_H

/* The demangled name (malloc'd: the caller frees it), or NULL when name is
 * not a mangled C++ name ("_Z..."), the demangler refuses it, or memory
 * ran out: the caller keeps the name as it is. */
char *demangle(const char *name);

#endif /* __WEFT_DEMANGLE_H */
