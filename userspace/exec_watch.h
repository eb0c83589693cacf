/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's exec watcher. Record side only. */
#ifndef __WEFT_EXEC_WATCH_H
#define __WEFT_EXEC_WATCH_H

#include <linux/types.h>

/* Wakes the recorder as soon as a process execs (the kernel's process
 * events connector, root only), so that the maps of a process that lives a
 * few milliseconds are read while it lives: the recorder drains its rings
 * on a 50 ms timer otherwise. The socket joins epoll_fd (the ring
 * buffers' epoll, ring_buffer__epoll_fd()) as if it were ring 0, one-shot:
 * exec_watch__drain() empties it, exec_watch__rearm() lets it wake again. NULL and errno when the
 * connector is not there (the recorder then works as before). */
struct exec_watch;
struct exec_watch *exec_watch__new(int epoll_fd);
/* Empties the socket; when something exec'd, waits EXEC_SETTLE_US first,
 * so that the dynamic loader has mapped the libraries by the time the
 * maps are read. The sleep also batches the wakeups: without it the
 * recorder woke at every exec of a fork-heavy program and preempted the
 * new process, one involuntary switch per child (2,000 more on
 * fork -n 2000, 5% of its wall time). Returns the messages read (0 for
 * NULL). */
#define EXEC_SETTLE_US 1500
/* Execs wake the recorder at most EXEC_WAKE_BURST times at once and one in
 * EXEC_WAKE_INTERVAL_NS after that. A wakeup at every exec, and the maps
 * read it brought while the new process ran its loader or exited (both
 * take its mmap_lock), made fork -n 1000 (fork + exec of /bin/true, 330 a
 * second) take 1.09x its untraced time; with this budget 0.98x, as with no
 * stacks at all (0.97x; medians of 8 interleaved runs). A process that
 * execs while the watch rests is read at the next wakeup if it still
 * lives: one that lives a few tens of milliseconds loses nothing, nor
 * does a burst of 32 short ones. */
#define EXEC_WAKE_INTERVAL_NS 20000000ULL
#define EXEC_WAKE_BURST 32
int exec_watch__drain(struct exec_watch *w, __u64 now_ns);
/* Lets the watch wake the recorder again when the budget allows; else
 * returns when it will (0 when it is armed, or w is NULL). */
__u64 exec_watch__rearm(struct exec_watch *w, __u64 now_ns);
/* Its wakeups of the recorder, and the messages they read (an exec each,
 * or a batch lost to a full socket) */
void exec_watch__counts(const struct exec_watch *w, unsigned long long *wakes,
			unsigned long long *execs);
void exec_watch__free(struct exec_watch *w);

#endif /* __WEFT_EXEC_WATCH_H */
