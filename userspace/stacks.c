// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "log.h"
#include "stacks.h"
#include "symbols.h"
#include "u64set.h"

#define NAME_MAX_LEN 512

struct stack_table {
	struct weft_stack *stacks;
	size_t n, cap;
	struct u64_set index; /* key_of() -> index in stacks */
	struct u64_set execed; /* tgids that exec'd */
};

/* Unique and never 0: bit 63 set, bit 62 user, tgid, id. */
static __u64 key_of(bool user, __u32 tgid, __s32 id)
{
	return 1ULL << 63 | (__u64)user << 62 | (__u64)(tgid & 0x3fffffff) << 32 | (__u32)id;
}

struct stack_table *stack_table__new(void)
{
	return calloc(1, sizeof(struct stack_table));
}

static void frames_free(struct weft_stack *s)
{
	unsigned int i;

	for (i = 0; i < s->nframes; i++)
		free((char *)s->frames[i].name);
	free(s->frames);
	s->frames = NULL;
	s->nframes = 0;
}

void stack_table__free(struct stack_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		frames_free(&t->stacks[i]);
	free(t->stacks);
	u64_set__release(&t->index);
	u64_set__release(&t->execed);
	free(t);
}

static struct weft_stack *find(const struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	__u32 i;

	/* the key is the stack's whole identity */
	return u64_set__get(&t->index, key_of(user, tgid, id), &i) ? &t->stacks[i] : NULL;
}

static struct weft_stack *add(struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	struct weft_stack *grown, *st;
	bool added;
	__u32 *slot;

	if (!user)
		tgid = 0;
	st = find(t, user, tgid, id);
	if (st)
		return st;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;

		grown = realloc(t->stacks, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		t->stacks = grown;
		t->cap = cap;
	}
	slot = u64_set__slot(&t->index, key_of(user, tgid, id), &added);
	if (!slot)
		return NULL;
	*slot = t->n;
	st = &t->stacks[t->n++];
	memset(st, 0, sizeof(*st));
	st->user = user;
	st->tgid = tgid;
	st->id = id;
	return st;
}

int stack_table__note(struct stack_table *t, bool user, __u32 tgid, __s32 id)
{
	if (id < 0)
		return 0;
	return add(t, user, tgid, id) ? 0 : -ENOMEM;
}

void stack_table__note_event(struct stack_table *t, const struct weft_event_header *h)
{
	const struct weft_ev_switch *sw;
	const struct weft_ev_wakeup *wk;
	const struct weft_ev_sample *sa;
	const struct weft_ev_klock *kl;

	switch (h->type) {
	case WEFT_EV_SWITCH:
		sw = (const void *)h;
		stack_table__note(t, true, sw->prev_tgid, sw->user_stack_id);
		stack_table__note(t, false, 0, sw->kernel_stack_id);
		break;
	case WEFT_EV_WAKEUP:
		wk = (const void *)h;
		stack_table__note(t, true, wk->waker_tgid, wk->waker_user_stack_id);
		stack_table__note(t, false, 0, wk->waker_kernel_stack_id);
		break;
	case WEFT_EV_SAMPLE:
		sa = (const void *)h;
		stack_table__note(t, true, sa->tgid, sa->user_stack_id);
		stack_table__note(t, false, 0, sa->kernel_stack_id);
		break;
	case WEFT_EV_KLOCK:
		kl = (const void *)h;
		stack_table__note(t, false, 0, kl->kernel_stack_id);
		break;
	case WEFT_EV_EXEC:
		u64_set__slot(&t->execed, 1ULL << 63 | ((const struct weft_ev_exec *)h)->tgid,
			      &(bool){ false });
		break;
	}
}

bool stack_table__execed(const struct stack_table *t, __u32 tgid)
{
	return u64_set__has(&t->execed, 1ULL << 63 | tgid);
}

int stack_table__set(struct stack_table *t, bool user, __u32 tgid, __s32 id, const __u64 *addrs,
		     unsigned int n)
{
	struct weft_stack *st = add(t, user, tgid, id);
	unsigned int i;

	if (!st)
		return -ENOMEM;
	frames_free(st);
	if (!n)
		return 0;
	st->frames = calloc(n, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		st->frames[i].addr = addrs[i];
	st->nframes = n;
	return 0;
}

int stack_table__read_map(struct stack_table *t, int map_fd, unsigned int max_depth,
			  unsigned int which)
{
	__u64 *ips = calloc(max_depth, sizeof(*ips));
	int missing = 0, err = 0;
	unsigned int n;
	size_t i;

	if (!ips)
		return -ENOMEM;
	for (i = 0; i < t->n && !err; i++) {
		struct weft_stack *st = &t->stacks[i];
		__u32 id = st->id;

		if (!(which & (st->user ? STACKS_USER : STACKS_KERNEL)))
			continue;
		memset(ips, 0, max_depth * sizeof(*ips));
		if (bpf_map_lookup_elem(map_fd, &id, ips)) {
			missing++;
			continue;
		}
		/* the kernel zero-fills the frames past the stack's depth */
		for (n = 0; n < max_depth && ips[n]; n++)
			;
		/* stack_table__set() on st itself: no reallocation of t->stacks */
		err = stack_table__set(t, st->user, st->tgid, st->id, ips, n);
	}
	free(ips);
	return err ? err : missing;
}

static char *sanitize(char *s)
{
	char *p;

	for (p = s; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = '_';
	return s;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static char *frame_name(const struct sym_result *res)
{
	char buf[NAME_MAX_LEN];

	if (res->found && res->name)
		snprintf(buf, sizeof(buf), "%s", res->name);
	else if (!res->module || !strcmp(res->module, "[unknown]"))
		snprintf(buf, sizeof(buf), STACK_UNKNOWN_FRAME);
	else
		snprintf(buf, sizeof(buf), "%s+0x%llx", base_name(res->module), res->offset);
	return sanitize(strdup(buf));
}

int stack_table__symbolize(struct stack_table *t, stack_maps_fn maps_of, void *maps_ctx,
			   struct syms_cache *syms, const struct kallsyms *ks)
{
	struct sym_result res;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct weft_stack *st = &t->stacks[i];
		const struct proc_maps *m = st->user && maps_of ? maps_of(maps_ctx, st->tgid) :
								  NULL;
		unsigned int f;

		for (f = 0; f < st->nframes; f++) {
			/* a return address points past the call, maybe into
			 * the next function: name the call itself */
			__u64 addr = st->frames[f].addr - (f ? 1 : 0);
			int err = -1;

			memset(&res, 0, sizeof(res));
			if (st->frames[f].addr == WEFT_STACK_CUT_SHORT)
				err = -1; /* the unwinder's "[unknown]" */
			else if (st->user && m && syms)
				err = syms_cache__resolve_user(syms, m, addr, false, &res);
			else if (!st->user && ks)
				err = kallsyms__resolve(ks, addr, &res);
			if (err == -ENOMEM)
				return err;
			if (err)
				memset(&res, 0, sizeof(res));
			/* a kernel address below the first symbol is no symbol */
			free((char *)st->frames[f].name);
			st->frames[f].name = frame_name(&res);
			if (!st->frames[f].name)
				return -ENOMEM;
		}
	}
	return 0;
}

int stack_table__encode(const struct stack_table *t, char **buf, size_t *len)
{
	size_t cap = 4096, off = 0, i, need;
	char *text = malloc(cap), *grown;
	unsigned int f;

	if (!text)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct weft_stack *st = &t->stacks[i];

		if (!st->nframes)
			continue;
		need = 64;
		for (f = 0; f < st->nframes; f++)
			need += 24 +
				strlen(st->frames[f].name ? st->frames[f].name :
							    STACK_UNKNOWN_FRAME) +
				4;
		if (off + need >= cap) {
			while (off + need >= cap)
				cap *= 2;
			grown = realloc(text, cap);
			if (!grown) {
				free(text);
				return -ENOMEM;
			}
			text = grown;
		}
		off += snprintf(text + off, cap - off, "s\t%c\t%u\t%d\t%u\n", st->user ? 'u' : 'k',
				st->tgid, st->id, st->nframes);
		for (f = 0; f < st->nframes; f++)
			off += snprintf(text + off, cap - off, "f\t%llx\t%s\n",
					(unsigned long long)st->frames[f].addr,
					st->frames[f].name ? st->frames[f].name :
							     STACK_UNKNOWN_FRAME);
	}
	*buf = text;
	*len = off;
	return 0;
}

/* One line of p (up to end) into line, NUL-terminated; the next line's
 * start, or NULL when there is no whole line. */
static const char *next_line(const char *p, const char *end, char *line, size_t size)
{
	const char *nl = memchr(p, '\n', end - p);
	size_t n;

	if (!nl)
		return NULL;
	n = nl - p;
	if (n >= size)
		n = size - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	return nl + 1;
}

int stack_table__decode(struct stack_table *t, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len;
	char line[NAME_MAX_LEN + 64], kind;
	unsigned int tgid, nframes, f;
	struct weft_stack *st;
	int id, pos;

	while (p < end) {
		p = next_line(p, end, line, sizeof(line));
		if (!p)
			return -EINVAL;
		if (line[0] != 's')
			continue; /* a line kind this weft does not know */
		if (sscanf(line, "s\t%c\t%u\t%d\t%u", &kind, &tgid, &id, &nframes) != 4 ||
		    (kind != 'u' && kind != 'k') || id < 0 || nframes > 4096)
			return -EINVAL;
		st = add(t, kind == 'u', tgid, id);
		if (!st)
			return -ENOMEM;
		frames_free(st);
		st->frames = calloc(nframes ? nframes : 1, sizeof(*st->frames));
		if (!st->frames)
			return -ENOMEM;
		for (f = 0; f < nframes; f++) {
			unsigned long long addr;

			p = p ? next_line(p, end, line, sizeof(line)) : NULL;
			if (!p || sscanf(line, "f\t%llx\t%n", &addr, &pos) != 1 || !pos)
				return -EINVAL;
			st->frames[f].addr = addr;
			st->frames[f].name = strdup(line + pos);
			st->nframes = f + 1;
			if (!st->frames[f].name)
				return -ENOMEM;
		}
	}
	return 0;
}

const struct weft_stack *stack_table__get(const struct stack_table *t, bool user, __u32 tgid,
					  __s32 id)
{
	if (id < 0)
		return NULL;
	return find(t, user, user ? tgid : 0, id);
}

size_t stack_table__count(const struct stack_table *t)
{
	return t->n;
}

const struct weft_stack *stack_table__at(const struct stack_table *t, size_t i)
{
	return i < t->n ? &t->stacks[i] : NULL;
}

struct stack_sampler {
	struct bpf_link **links;
	int *fds;
	unsigned int n;
};

void stack_sampler__free(struct stack_sampler *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->fds[i]);
	}
	free(s->links);
	free(s->fds);
	free(s);
}

struct stack_sampler *stack_sampler__start(struct bpf_program *prog, unsigned int hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = hz,
	};
	int ncpu = libbpf_num_possible_cpus(), cpu, fd, err = 0;
	struct stack_sampler *s = calloc(1, sizeof(*s));

	if (!s || ncpu <= 0)
		goto fail_nomem;
	s->links = calloc(ncpu, sizeof(*s->links));
	s->fds = calloc(ncpu, sizeof(*s->fds));
	if (!s->links || !s->fds)
		goto fail_nomem;
	for (cpu = 0; cpu < ncpu; cpu++) {
		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			/* a possible CPU that is offline has no clock to sample */
			if (errno == ENODEV)
				continue;
			err = -errno;
			elog("Failed to open a cpu-clock perf event on CPU %d: %s", cpu,
			     strerror(errno));
			goto fail;
		}
		s->links[s->n] = bpf_program__attach_perf_event(prog, fd);
		if (!s->links[s->n]) {
			err = -errno;
			elog("Failed to attach the sampling program on CPU %d: %s", cpu,
			     strerror(errno));
			close(fd);
			goto fail;
		}
		s->fds[s->n++] = fd;
	}
	return s;
fail_nomem:
	err = -ENOMEM;
fail:
	stack_sampler__free(s);
	errno = -err;
	return NULL;
}

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
