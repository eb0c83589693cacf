// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture of tests/test_symbols.c: a shared library that the test dlopens.
 * fix_lib_function has aliases, a longer global one and a shorter weak one:
 * the symbolizer must name it fix_lib_function (global first, then the
 * shortest name). */
int fix_lib_counter = 7;

__attribute__((noinline)) int fix_lib_function(int x)
{
	return x * fix_lib_counter + 1;
}

extern int __fix_lib_function(int x) __attribute__((alias("fix_lib_function")));
extern int fw(int x) __attribute__((weak, alias("fix_lib_function")));

/* A C++ name (fix::scaled(int)), made by hand in C: shown demangled. */
__attribute__((noinline)) int fix_scaled(int x) __asm__("_ZN3fix6scaledEi");
__attribute__((noinline)) int fix_scaled(int x)
{
	return x * 3 + fix_lib_counter;
}
