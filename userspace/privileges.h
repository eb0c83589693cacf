/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's privileges: whether it may load and attach the programs,
 * and the capabilities it keeps after (README "Safety"). */
#ifndef __WEFT_PRIVILEGES_H
#define __WEFT_PRIVILEGES_H

#include <stdbool.h>

/* root, or CAP_BPF and CAP_PERFMON in the effective set */
bool privileges__can_trace(void);

/* Whether cap is in this thread's effective set */
bool privileges__effective(int cap);

/* Keeps only the capabilities the rest of a run needs (CAP_SYS_ADMIN too
 * with uprobes, for --locks=pthread), drops the bounding set and sets
 * no_new_privs. 0 or -errno. */
int privileges__drop(bool uprobes);

#endif
