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

struct exec_watch {
	int fd;
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
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = 0 };
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
	return w;
fail:
	err = errno;
	exec_watch__free(w);
	errno = err;
	return NULL;
}

int exec_watch__drain(struct exec_watch *w)
{
	char buf[4096];
	int n = 0;

	if (!w)
		return 0;
	/* what exec'd is in the rings (the tracepoint fires before the
	 * connector): the messages only had to wake the recorder */
	for (;;) {
		errno = 0;
		if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0 && errno != ENOBUFS)
			break;
		n++;
	}
	if (n)
		usleep(EXEC_SETTLE_US);
	return n;
}

void exec_watch__free(struct exec_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}
