/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where weft finds the programs it runs (weft-work), wherever weft itself
 * was built, installed or copied. */
#ifndef __WEFT_HELPER_PATH_H
#define __WEFT_HELPER_PATH_H

#include <stddef.h>

/* Relative to the directory of weft's own binary: make install puts
 * helpers in $(PREFIX)/libexec/weft while weft is in $(PREFIX)/bin. */
#define HELPER_LIBEXEC_DIR "../libexec/weft"

/* Looks for an executable NAME, in order: beside SELF_EXE (a build tree
 * runs its own weft-work), in HELPER_LIBEXEC_DIR relative to SELF_EXE's
 * directory (an installed or copied tree), then in each directory of
 * PATH_ENV (NULL: /usr/local/bin:/usr/bin). SELF_EXE may be NULL (not
 * known). Writes the path found to BUF; 0, -ENOENT when none is
 * executable, -ENAMETOOLONG when a candidate does not fit. */
int helper_path__find(const char *name, const char *self_exe, const char *path_env, char *buf,
		      size_t size);

/* helper_path__find() with weft's own binary (/proc/self/exe) and $PATH. */
int helper_path__find_own(const char *name, char *buf, size_t size);

#endif /* __WEFT_HELPER_PATH_H */
