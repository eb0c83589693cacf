/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared by tests/test_unwind.c and its fixture nofp_lib.c: what the
 * fixture records while it runs, for the test to unwind afterwards. */
#ifndef __WEFT_NOFP_LIB_H
#define __WEFT_NOFP_LIB_H

#include <stddef.h>
#include <stdint.h>

/* nofp_run (level 0) calls level 1, ... down to level NOFP_LEVELS - 1 */
#define NOFP_LEVELS 4

/* What levels 0 and 1 put in rbp, for the levels below them to see */
#define NOFP_RBP_LEVEL0 0x5eed00000000b0b0ULL
#define NOFP_RBP_LEVEL1 0x5eed11111111b1b1ULL

struct nofp_capture {
	/* Filled by the test */
	unsigned char *image; /* receives the stack, from sp up */
	size_t cap; /* bytes image can hold */
	uint64_t stack_hi; /* copy no further than this address */
	/* Filled by the fixture */
	uint64_t pc, sp, bp; /* registers of the innermost level, at its capture */
	uint64_t ret[NOFP_LEVELS]; /* each level's return address */
	uint64_t entry_bp[NOFP_LEVELS]; /* rbp as each level found it: its caller's */
	size_t len; /* bytes copied into image, from sp */
};

typedef void (*nofp_run_fn)(struct nofp_capture *c);

#endif /* __WEFT_NOFP_LIB_H */
