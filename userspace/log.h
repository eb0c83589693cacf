/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Diagnostics go to stderr, one line each, prefixed with "weft: " so a
 * user can tell them from the traced program's own output. Reports go to
 * stdout and never through these. */
#ifndef __WEFT_LOG_H
#define __WEFT_LOG_H

#include <stdbool.h>
#include <stdio.h>

extern bool weft_verbose;

#define elog(fmt, ...) fprintf(stderr, "weft: " fmt "\n", ##__VA_ARGS__)
#define wlog(fmt, ...) fprintf(stderr, "weft: warning: " fmt "\n", ##__VA_ARGS__)
#define vlog(fmt, ...)                                                     \
	do {                                                               \
		if (weft_verbose)                                          \
			fprintf(stderr, "weft: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif /* __WEFT_LOG_H */
