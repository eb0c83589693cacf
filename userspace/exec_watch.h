/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recorder's exec watcher. Record side only. */
#ifndef __WEFT_EXEC_WATCH_H
#define __WEFT_EXEC_WATCH_H

/* Wakes the recorder as soon as a process execs (the kernel's process
 * events connector, root only), so that the maps of a process that lives a
 * few milliseconds are read while it lives: the recorder drains its rings
 * on a 50 ms timer otherwise. The socket joins epoll_fd (the ring
 * buffers' epoll, ring_buffer__epoll_fd()) as if it were ring 0, edge
 * triggered; exec_watch__drain() empties it. NULL and errno when the
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
int exec_watch__drain(struct exec_watch *w);
void exec_watch__free(struct exec_watch *w);

#endif /* __WEFT_EXEC_WATCH_H */
