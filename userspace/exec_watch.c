// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "exec_watch.h"

/* The socket is in the epoll one-shot: after each wakeup it stays out
 * until exec_watch__rearm() lets it back, which the wakeup budget decides
 * (a generic cell rate algorithm, as the programs' stack budget: tat_ns is
 * when the budget would be whole again). */
struct exec_watch {
	int fd, epoll_fd;
	bool armed;
	__u64 tat_ns;
	unsigned long long wakes, execs;
};

/* The connector's subscription, with the event filter of Linux 6.6 and
 * later (only execs wake the recorder); older kernels take the bare
 * operation and send every process event. */
struct cn_listen {
	struct nlmsghdr nl;
	struct cn_msg cn;
	__u32 op;
	__u32 event_type;
} __attribute__((packed));

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

struct exec_watch *exec_watch__new(int epoll_fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = 0 };
	struct exec_watch *w = calloc(1, sizeof(*w));
	bool filter = kernel_at_least(6, 6);
	struct cn_listen msg = {};
	int err;

	if (!w)
		return NULL;
	w->fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (w->fd < 0)
		goto fail;
	if (bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	msg.nl.nlmsg_len = filter ? sizeof(msg) : sizeof(msg) - sizeof(msg.event_type);
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.nl.nlmsg_pid = getpid();
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = filter ? 2 * sizeof(__u32) : sizeof(__u32);
	msg.op = PROC_CN_MCAST_LISTEN;
	msg.event_type = PROC_EVENT_EXEC;
	if (send(w->fd, &msg, msg.nl.nlmsg_len, 0) < 0)
		goto fail;
	/* data.fd 0: libbpf takes it for ring 0, which it then reads */
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, w->fd, &ev))
		goto fail;
	w->epoll_fd = epoll_fd;
	w->armed = true;
	return w;
fail:
	err = errno;
	exec_watch__free(w);
	errno = err;
	return NULL;
}

int exec_watch__drain(struct exec_watch *w, __u64 now_ns)
{
	char buf[4096];
	int n = 0;

	/* Resting, it is out of the epoll: what a wakeup for something else
	 * finds waits for the rearm, which then wakes the recorder once for
	 * all of it. */
	if (!w || !w->armed)
		return 0;
	/* what exec'd is in the rings (the tracepoint fires before the
	 * connector): the messages only had to wake the recorder */
	for (;;) {
		errno = 0;
		if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0 && errno != ENOBUFS)
			break;
		n++;
	}
	if (n) {
		w->wakes++;
		w->execs += n;
		usleep(EXEC_SETTLE_US);
		w->armed = false;
		w->tat_ns = (w->tat_ns > now_ns ? w->tat_ns : now_ns) + EXEC_WAKE_INTERVAL_NS;
	}
	return n;
}

__u64 exec_watch__rearm(struct exec_watch *w, __u64 now_ns)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.fd = 0 };
	const __u64 burst_ns = EXEC_WAKE_BURST * EXEC_WAKE_INTERVAL_NS;

	if (!w || w->armed)
		return 0;
	if (w->tat_ns > now_ns + burst_ns)
		return w->tat_ns - burst_ns;
	/* execs that came while it was out are still queued: the next poll
	 * returns at once for them */
	if (!epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, w->fd, &ev))
		w->armed = true;
	return 0;
}

void exec_watch__counts(const struct exec_watch *w, unsigned long long *wakes,
			unsigned long long *execs)
{
	*wakes = w ? w->wakes : 0;
	*execs = w ? w->execs : 0;
}

void exec_watch__free(struct exec_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
