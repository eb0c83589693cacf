// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The waits of threads already blocked at attach: see attach_waits.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "attach_waits.h"
#include "record_int.h"
#include "snapshot.h"
#include "stacks.h"
#include "unwind.h"
#include "lock_names.h"
#include "weft.skel.h"

struct snapshot *attach_waits__take(const pid_t *pids, int npids, bool stacks)
{
	struct snapshot_opts opts = { .no_peers = true, .no_stacks = !stacks };
	struct snapshot *snap = calloc(1, sizeof(*snap));
	char msg[256];

	if (snap && snapshot__take(pids, npids, &opts, snap, msg, sizeof(msg))) {
		free(snap);
		snap = NULL;
	}
	return snap;
}

void attach_waits__free(struct snapshot *snap)
{
	snapshot__free(snap);
	free(snap);
}

/* The stack into the user-stack map by content, as keep_user_stack() in
 * bpf/stacks.bpf.h keeps it: id from a hash of the frames, one re-probe */
static __s32 keep_user_stack(struct recorder *r, const struct snap_thread *t)
{
	__u64 ips[WEFT_UNWIND_MAX_FRAMES] = {}, known[WEFT_UNWIND_MAX_FRAMES],
	      hash = WEFT_FNV_BASIS;
	int fd = bpf_map__fd(r->skel->maps.ustacks), n = 0, probe, k;
	__u32 id;

	if (bpf_map__value_size(r->skel->maps.ustacks) != sizeof(ips))
		return WEFT_STACK_NOT_TAKEN;
	for (k = 0; k < t->nustack && n < WEFT_UNWIND_MAX_FRAMES; k++)
		ips[n++] = t->ustack[k];
	if (!t->ustack_whole && n < WEFT_UNWIND_MAX_FRAMES)
		ips[n++] = WEFT_STACK_CUT_SHORT;
	else if (!t->ustack_whole)
		ips[n - 1] = WEFT_STACK_CUT_SHORT;
	for (k = 0; k < n; k++)
		hash = (hash ^ ips[k]) * WEFT_FNV_PRIME;
	id = WEFT_STACK_ID(hash);
	for (probe = 0; probe < 2; probe++) {
		if (!bpf_map_update_elem(fd, &id, ips, BPF_NOEXIST))
			goto kept;
		/* the same frames up to the terminator: the BPF programs
		 * leave the slots after it stale */
		if (!bpf_map_lookup_elem(fd, &id, known) &&
		    !memcmp(known, ips, (n < WEFT_UNWIND_MAX_FRAMES ? n + 1 : n) * sizeof(ips[0])))
			goto kept;
		id = (id + WEFT_STACK_REPROBE) & 0x7fffffff;
	}
	return -EEXIST;
kept:
	if (stack_table__note(r->stacks, true, t->pid, (__s32)id))
		return -ENOMEM;
	return (__s32)id;
}

bool attach_waits__fill(struct recorder *r, const struct snapshot *snap,
			struct weft_ev_task_state *ev)
{
	const struct snap_thread *t = snap ? snapshot__thread(snap, (pid_t)ev->tid) : NULL;

	if (!t || t->state == 'R' || t->syscall < 0 || ev->state != WEFT_TASK_BLOCKED)
		return false;
	ev->hdr.flags |= WEFT_STATE_WAIT;
	ev->syscall_nr = (__s32)t->syscall;
	ev->sys_arg0 = t->args[0];
	ev->sys_arg1 = t->args[1];
	ev->owner_tid = t->wait.kind == SNAP_WAIT_LOCK ? (__u32)t->wait.owner_tid : 0;
	ev->user_stack_id = WEFT_STACK_NOT_TAKEN;
	/* /proc gives the kernel stack's names, not its addresses */
	ev->kernel_stack_id = WEFT_STACK_NOT_TAKEN;
	if (r->stacks && t->nustack)
		ev->user_stack_id = keep_user_stack(r, t);
	if (t->wait.kind == SNAP_WAIT_LOCK || t->wait.kind == SNAP_WAIT_COND ||
	    t->wait.kind == SNAP_WAIT_JOIN)
		lock_names__note(r->lock_names, ev->tgid, t->wait.addr);
	return true;
}
