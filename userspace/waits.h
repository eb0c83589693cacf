/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Why threads were off the CPU, and the addresses they waited on.
 *
 * wait_classify() turns what the recorder read when a thread blocked (its
 * system call and first arguments, its state) into one of DESIGN's off-CPU
 * reasons, each rule beside the evidence it uses. The wait table keeps, per
 * (process, address) waited on, the figures of the locks table and what
 * makes an address *turn-taking*: two or more threads wait there and a
 * thread that woke a waiter there has waited there too (a lock passed
 * around, such as a GIL), as opposed to a join or a queue whose producer
 * never waits. Memory grows with addresses and their waiters, not with
 * events.
 */
#ifndef __WEFT_WAITS_H
#define __WEFT_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum weft_wait_reason {
	WEFT_WAIT_LOCK,
	WEFT_WAIT_WAIT, /* events: a condition variable, a join, epoll, poll */
	WEFT_WAIT_IO,
	WEFT_WAIT_SLEEP,
	WEFT_WAIT_FAULT,
	WEFT_WAIT_RUNQUEUE,
	WEFT_WAIT_OTHER,
	WEFT_WAIT_NR,
};

/* "lock", "wait", "io", "sleep", "fault", "runqueue", "other": the JSON
 * off_cpu keys without _s */
const char *weft_wait_reason__name(enum weft_wait_reason r);

enum weft_lock_kind {
	WEFT_LOCK_NONE, /* not an address wait */
	WEFT_LOCK_MUTEX, /* a futex used as a mutex: FUTEX_WAIT, FUTEX_LOCK_PI */
	WEFT_LOCK_FUTEX_WAIT, /* a futex used to wait for an event: WAIT_BITSET, waitv */
	WEFT_LOCK_KERNEL, /* a kernel lock (contention tracepoints) */
	/* a pthread_mutex_lock call that blocked (--locks=pthread): a row of
	 * its own beside the futex one, whose waits it includes with the
	 * spinning before and between them */
	WEFT_LOCK_PTHREAD,
};

const char *weft_lock_kind__name(enum weft_lock_kind k);

struct wait_class {
	enum weft_wait_reason reason;
	enum weft_lock_kind kind;
	__u64 addr; /* the futex word, when kind is not NONE */
	int syscall_nr; /* -1 outside a system call */
};

/* A blocking switch's evidence to a reason. flags are the switch record's
 * (WEFT_SWITCH_BLOCKING says the system call was read). */
void wait_classify(__s32 syscall_nr, __u64 arg0, __u64 arg1, __u32 prev_state, __u32 flags,
		   struct wait_class *out);

/* A system call's name for verdicts ("epoll_wait"), or NULL. */
const char *weft_syscall_name(int nr);

struct wait_addr {
	__u32 tgid;
	__u64 addr;
	enum weft_lock_kind kind; /* the first kind seen there */
	__u64 waits, total_ns, max_ns;
	__u64 handoffs; /* waits ended by another traced thread's wakeup */
	__u32 threads; /* distinct threads that waited */
	bool waker_waited; /* a thread that woke a waiter here also waited here */
	__u32 blocked_now; /* threads blocked here at the current instant */
	/* threads whose wait here timed out and which queue for a CPU to try
	 * again: still waiting for whoever holds it, as far as serialization
	 * goes */
	__u32 retrying_now;
	__u64 serialized_ns; /* while the tree ran one thread, others waited here */
	__u32 active_pos; /* in the analysis's list of busy turn-taking addresses */
};

#define WAIT_NONE 0xffffffffu

struct wait_table;

struct wait_table *wait_table__new(void);
void wait_table__free(struct wait_table *t);
/* The entry of (tgid, addr), made on first use: an index, or WAIT_NONE
 * when out of memory. Indexes stay valid; pointers from
 * wait_table__at() only until the next wait_table__get(). */
__u32 wait_table__get(struct wait_table *t, __u32 tgid, __u64 addr, enum weft_lock_kind kind);
struct wait_addr *wait_table__at(struct wait_table *t, __u32 index);
size_t wait_table__count(const struct wait_table *t);

/* tid starts waiting at the address; 0, or -ENOMEM */
int wait_table__note_waiter(struct wait_table *t, __u32 index, __u32 tid);
/* a wait there was ended by waker_tid (a traced thread); 0, or -ENOMEM */
int wait_table__note_waker(struct wait_table *t, __u32 index, __u32 waker_tid);

static inline bool wait_addr__turn_taking(const struct wait_addr *w)
{
	return w->threads >= 2 && w->waker_waited;
}

#endif /* __WEFT_WAITS_H */
