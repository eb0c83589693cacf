/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* weft record -p: the waits that began before the recording, read at
 * attach with weft stuck's snapshot (snapshot.h), so that they are
 * classified, named, given their owner and their stack like any other
 * (issue 21). They travel in the task-state records written at attach
 * (WEFT_STATE_WAIT); the user stack goes into the recorder's user-stack map
 * under an id of its own, as the BPF unwinder would have kept it. */
#ifndef __WEFT_ATTACH_WAITS_H
#define __WEFT_ATTACH_WAITS_H

#include <stdbool.h>
#include <sys/types.h>

struct recorder;
struct snapshot;
struct weft_ev_task_state;

/* The snapshot of the processes (no peers followed), taken before the
 * recording's start is stamped: it takes a tenth of a second or more
 * (loading the iterator), which must not fall between the start and the
 * kernel figures read as the accounting check's baseline. NULL when it
 * could not be taken: the attach goes on without it. stacks false
 * (--no-stacks): no stack is unwound. */
struct snapshot *attach_waits__take(const pid_t *pids, int npids, bool stacks);
void attach_waits__free(struct snapshot *snap);
/* Fills the wait fields of ev (a blocked thread's state record) from the
 * snapshot (NULL: none); true when it did. */
bool attach_waits__fill(struct recorder *r, const struct snapshot *snap,
			struct weft_ev_task_state *ev);

#endif /* __WEFT_ATTACH_WAITS_H */
