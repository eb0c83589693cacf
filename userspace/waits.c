// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "events.h"
#include "u64set.h"
#include "waits.h"

/* x86_64 system call numbers of the calls that block */
enum {
	NR_READ = 0,
	NR_WRITE = 1,
	NR_OPEN = 2,
	NR_CLOSE = 3,
	NR_POLL = 7,
	NR_PREAD64 = 17,
	NR_PWRITE64 = 18,
	NR_READV = 19,
	NR_WRITEV = 20,
	NR_SELECT = 23,
	NR_PAUSE = 34,
	NR_NANOSLEEP = 35,
	NR_SENDFILE = 40,
	NR_CONNECT = 42,
	NR_ACCEPT = 43,
	NR_SENDTO = 44,
	NR_RECVFROM = 45,
	NR_SENDMSG = 46,
	NR_RECVMSG = 47,
	NR_WAIT4 = 61,
	NR_MSGRCV = 70,
	NR_FSYNC = 74,
	NR_FDATASYNC = 75,
	NR_RT_SIGTIMEDWAIT = 128,
	NR_RT_SIGSUSPEND = 130,
	NR_FUTEX = 202,
	NR_IO_GETEVENTS = 208,
	NR_CLOCK_NANOSLEEP = 230,
	NR_EPOLL_WAIT = 232,
	NR_WAITID = 247,
	NR_OPENAT = 257,
	NR_PSELECT6 = 270,
	NR_PPOLL = 271,
	NR_SPLICE = 275,
	NR_EPOLL_PWAIT = 281,
	NR_ACCEPT4 = 288,
	NR_PREADV = 295,
	NR_PWRITEV = 296,
	NR_RECVMMSG = 299,
	NR_SENDMMSG = 307,
	NR_IO_URING_ENTER = 426,
	NR_EPOLL_PWAIT2 = 441,
	NR_FUTEX_WAITV = 449,
};

/* futex op: the command, without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define FUTEX_CMD_MASK 0x7f
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13

#define STATE_UNINTERRUPTIBLE 0x2

static const struct {
	int nr;
	const char *name;
	enum weft_wait_reason reason;
} syscalls[] = {
	/* Waiting for an event someone else makes happen */
	{ NR_POLL, "poll", WEFT_WAIT_WAIT },
	{ NR_SELECT, "select", WEFT_WAIT_WAIT },
	{ NR_PSELECT6, "pselect6", WEFT_WAIT_WAIT },
	{ NR_PPOLL, "ppoll", WEFT_WAIT_WAIT },
	{ NR_EPOLL_WAIT, "epoll_wait", WEFT_WAIT_WAIT },
	{ NR_EPOLL_PWAIT, "epoll_pwait", WEFT_WAIT_WAIT },
	{ NR_EPOLL_PWAIT2, "epoll_pwait2", WEFT_WAIT_WAIT },
	{ NR_FUTEX_WAITV, "futex_waitv", WEFT_WAIT_WAIT },
	{ NR_WAIT4, "wait4", WEFT_WAIT_WAIT },
	{ NR_WAITID, "waitid", WEFT_WAIT_WAIT },
	{ NR_PAUSE, "pause", WEFT_WAIT_WAIT },
	{ NR_RT_SIGSUSPEND, "rt_sigsuspend", WEFT_WAIT_WAIT },
	{ NR_RT_SIGTIMEDWAIT, "rt_sigtimedwait", WEFT_WAIT_WAIT },
	{ NR_MSGRCV, "msgrcv", WEFT_WAIT_WAIT },
	/* Sleeping for a time the thread chose */
	{ NR_NANOSLEEP, "nanosleep", WEFT_WAIT_SLEEP },
	{ NR_CLOCK_NANOSLEEP, "clock_nanosleep", WEFT_WAIT_SLEEP },
	/* Moving data through a file, pipe or socket */
	{ NR_READ, "read", WEFT_WAIT_IO },
	{ NR_WRITE, "write", WEFT_WAIT_IO },
	{ NR_OPEN, "open", WEFT_WAIT_IO },
	{ NR_CLOSE, "close", WEFT_WAIT_IO },
	{ NR_PREAD64, "pread64", WEFT_WAIT_IO },
	{ NR_PWRITE64, "pwrite64", WEFT_WAIT_IO },
	{ NR_READV, "readv", WEFT_WAIT_IO },
	{ NR_WRITEV, "writev", WEFT_WAIT_IO },
	{ NR_SENDFILE, "sendfile", WEFT_WAIT_IO },
	{ NR_CONNECT, "connect", WEFT_WAIT_IO },
	{ NR_ACCEPT, "accept", WEFT_WAIT_IO },
	{ NR_ACCEPT4, "accept4", WEFT_WAIT_IO },
	{ NR_SENDTO, "sendto", WEFT_WAIT_IO },
	{ NR_RECVFROM, "recvfrom", WEFT_WAIT_IO },
	{ NR_SENDMSG, "sendmsg", WEFT_WAIT_IO },
	{ NR_RECVMSG, "recvmsg", WEFT_WAIT_IO },
	{ NR_RECVMMSG, "recvmmsg", WEFT_WAIT_IO },
	{ NR_SENDMMSG, "sendmmsg", WEFT_WAIT_IO },
	{ NR_FSYNC, "fsync", WEFT_WAIT_IO },
	{ NR_FDATASYNC, "fdatasync", WEFT_WAIT_IO },
	{ NR_OPENAT, "openat", WEFT_WAIT_IO },
	{ NR_SPLICE, "splice", WEFT_WAIT_IO },
	{ NR_PREADV, "preadv", WEFT_WAIT_IO },
	{ NR_PWRITEV, "pwritev", WEFT_WAIT_IO },
	{ NR_IO_GETEVENTS, "io_getevents", WEFT_WAIT_IO },
	{ NR_IO_URING_ENTER, "io_uring_enter", WEFT_WAIT_IO },
	/* decided by its op below */
	{ NR_FUTEX, "futex", WEFT_WAIT_OTHER },
};

const char *weft_wait_reason__name(enum weft_wait_reason r)
{
	static const char *const names[WEFT_WAIT_NR] = { "lock",  "wait",     "io",   "sleep",
							 "fault", "runqueue", "other" };

	return r < WEFT_WAIT_NR ? names[r] : "other";
}

const char *weft_lock_kind__name(enum weft_lock_kind k)
{
	switch (k) {
	case WEFT_LOCK_MUTEX:
		return "mutex";
	case WEFT_LOCK_FUTEX_WAIT:
		return "futex-wait";
	case WEFT_LOCK_KERNEL:
		return "kernel";
	case WEFT_LOCK_PTHREAD:
		return "pthread";
	default:
		return "none";
	}
}

const char *weft_syscall_name(int nr)
{
	size_t i;

	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	return NULL;
}

void wait_classify(__s32 syscall_nr, __u64 arg0, __u64 arg1, __u32 prev_state, __u32 flags,
		   struct wait_class *out)
{
	int cmd;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->reason = WEFT_WAIT_OTHER;
	out->syscall_nr = syscall_nr;
	if (!(flags & WEFT_SWITCH_BLOCKING)) {
		/* Nothing was read: an uninterruptible sleep is most often a
		 * disk wait. */
		out->syscall_nr = -1;
		if (prev_state & STATE_UNINTERRUPTIBLE)
			out->reason = WEFT_WAIT_IO;
		return;
	}
	if (flags & WEFT_SWITCH_KERNEL_LOCK) {
		/* the contention tracepoints saw it wait for this lock */
		out->reason = WEFT_WAIT_LOCK;
		out->kind = WEFT_LOCK_KERNEL;
		out->addr = arg1;
		return;
	}
	if (syscall_nr < 0) {
		/* Blocked outside any system call: only a fault (a page
		 * being read in) takes a user thread off the CPU there. */
		out->reason = WEFT_WAIT_FAULT;
		return;
	}
	if (syscall_nr == NR_FUTEX) {
		cmd = arg1 & FUTEX_CMD_MASK;
		/* glibc's mutexes wait with FUTEX_WAIT (PI ones with
		 * LOCK_PI); its condition variables, pthread_join and
		 * semaphores with FUTEX_WAIT_BITSET. */
		if (cmd == FUTEX_WAIT || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) {
			out->reason = WEFT_WAIT_LOCK;
			out->kind = WEFT_LOCK_MUTEX;
			out->addr = arg0;
		} else if (cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI) {
			out->reason = WEFT_WAIT_WAIT;
			out->kind = WEFT_LOCK_FUTEX_WAIT;
			/* A glibc condition variable's waiters sleep on one of
			 * two adjacent words (__g_signals[2], one per group of
			 * waiters, alternating): one 8-byte slot is one
			 * condition variable. */
			out->addr = arg0 & ~7ULL;
		}
		return;
	}
	if (syscall_nr == NR_FUTEX_WAITV && (flags & WEFT_SWITCH_MULTI_WAIT) && arg0) {
		/* several words at once: named by the first */
		out->reason = WEFT_WAIT_WAIT;
		out->kind = WEFT_LOCK_FUTEX_WAIT;
		out->addr = arg0;
		return;
	}
	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		if (syscalls[i].nr == syscall_nr) {
			out->reason = syscalls[i].reason;
			return;
		}
	}
	/* Any other call in an uninterruptible sleep waits on a device. */
	if (prev_state & STATE_UNINTERRUPTIBLE)
		out->reason = WEFT_WAIT_IO;
}

struct wait_table {
	struct wait_addr *entries;
	size_t n, cap;
	struct u64_set by_addr; /* hash of (tgid, addr) -> index */
	struct u64_set waiters, wakers; /* (index, tid) pairs */
};

struct wait_table *wait_table__new(void)
{
	return calloc(1, sizeof(struct wait_table));
}

void wait_table__free(struct wait_table *t)
{
	if (!t)
		return;
	free(t->entries);
	u64_set__release(&t->by_addr);
	u64_set__release(&t->waiters);
	u64_set__release(&t->wakers);
	free(t);
}

static __u64 addr_key(__u32 tgid, __u64 addr)
{
	/* user addresses fit in 47 bits: fold the tgid into the rest */
	return (addr ^ ((__u64)tgid << 47) ^ ((__u64)tgid >> 17)) | 1ULL << 63;
}

__u32 wait_table__get(struct wait_table *t, __u32 tgid, __u64 addr, enum weft_lock_kind kind)
{
	__u64 key = addr_key(tgid, addr);
	struct u64_set *s = &t->by_addr;
	struct wait_addr *grown, *w;
	size_t i;

	if (!s->keys || (s->used + 1) * 2 > s->mask + 1)
		if (u64_set__grow(s))
			return WAIT_NONE;
	/* Equal keys (two processes, addresses 2^47 apart) are told apart by
	 * the entry itself. */
	for (i = u64_set__hash(key, s->mask); s->keys[i]; i = (i + 1) & s->mask) {
		w = &t->entries[s->vals[i]];
		if (s->keys[i] == key && w->tgid == tgid && w->addr == addr &&
		    (w->kind == WEFT_LOCK_PTHREAD) == (kind == WEFT_LOCK_PTHREAD))
			return s->vals[i];
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		grown = realloc(t->entries, cap * sizeof(*grown));
		if (!grown)
			return WAIT_NONE;
		t->entries = grown;
		t->cap = cap;
	}
	s->keys[i] = key;
	s->vals[i] = t->n;
	s->used++;
	w = &t->entries[t->n];
	memset(w, 0, sizeof(*w));
	w->tgid = tgid;
	w->addr = addr;
	w->kind = kind;
	w->active_pos = WAIT_NONE;
	return t->n++;
}

struct wait_addr *wait_table__at(struct wait_table *t, __u32 index)
{
	return index < t->n ? &t->entries[index] : NULL;
}

size_t wait_table__count(const struct wait_table *t)
{
	return t->n;
}

static __u64 pair_key(__u32 index, __u32 tid)
{
	return ((__u64)(index + 1) << 32) | tid;
}

int wait_table__note_waiter(struct wait_table *t, __u32 index, __u32 tid)
{
	struct wait_addr *w = &t->entries[index];
	bool added;

	if (!u64_set__slot(&t->waiters, pair_key(index, tid), &added))
		return -ENOMEM;
	if (added) {
		w->threads++;
		if (u64_set__has(&t->wakers, pair_key(index, tid)))
			w->waker_waited = true;
	}
	return 0;
}

int wait_table__note_waker(struct wait_table *t, __u32 index, __u32 waker_tid)
{
	struct wait_addr *w = &t->entries[index];
	bool added;

	if (!u64_set__slot(&t->wakers, pair_key(index, waker_tid), &added))
		return -ENOMEM;
	if (added && u64_set__has(&t->waiters, pair_key(index, waker_tid)))
		w->waker_waited = true;
	return 0;
}
