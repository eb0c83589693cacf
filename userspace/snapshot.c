// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The snapshot of weft stuck: see snapshot.h for what and why. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/types.h>
#include <linux/unix_diag.h>

#include "stuck.h"
#include "stuck.skel.h"
#include "elf_symtab.h"
#include "procfs.h"
#include "snapshot.h"
#include "symbols.h"
#include "unwind_table.h"
#include "waits.h"

#define FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG and CLOCK_REALTIME */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_LOCK_PI2 13
#define FUTEX_TID_MASK 0x3fffffff
#define STACK_READ_BYTES (64 * 1024)

const char *snap_wait_kind__name(enum snap_wait_kind k)
{
	static const char *const names[] = {
		[SNAP_WAIT_NONE] = "running", [SNAP_WAIT_LOCK] = "lock",
		[SNAP_WAIT_COND] = "cond",    [SNAP_WAIT_JOIN] = "join",
		[SNAP_WAIT_PIPE] = "pipe",    [SNAP_WAIT_SOCKET] = "socket",
		[SNAP_WAIT_CHILD] = "child",  [SNAP_WAIT_SLEEP] = "sleep",
		[SNAP_WAIT_POLL] = "poll",    [SNAP_WAIT_IO] = "io",
		[SNAP_WAIT_OTHER] = "other",
	};

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "other";
}

void snap_wait_from_syscall(long nr, const __u64 *args, char state, struct snap_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (state == 'R') {
		w->kind = SNAP_WAIT_NONE;
		return;
	}
	w->kind = state == 'D' ? SNAP_WAIT_IO : SNAP_WAIT_OTHER;
	switch (nr) {
	case SYS_futex: {
		int cmd = (int)(args[1] & FUTEX_CMD_MASK);

		w->addr = args[0];
		/* glibc's mutexes wait with FUTEX_WAIT on the value 2 (locked,
		 * with waiters); condition variables, joins and semaphores
		 * with FUTEX_WAIT_BITSET (DESIGN: off-CPU reasons) */
		if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
		    (cmd == FUTEX_WAIT && (__u32)args[2] == 2))
			w->kind = SNAP_WAIT_LOCK;
		else
			w->kind = SNAP_WAIT_COND;
		break;
	}
	case SYS_futex_waitv:
		w->kind = SNAP_WAIT_COND;
		break;
	case SYS_read:
	case SYS_readv:
	case SYS_pread64:
	case SYS_write:
	case SYS_writev:
	case SYS_recvfrom:
	case SYS_recvmsg:
	case SYS_sendto:
	case SYS_sendmsg:
	case SYS_accept:
	case SYS_accept4:
	case SYS_connect:
		w->kind = SNAP_WAIT_IO; /* a pipe or socket once the fd is looked at */
		w->fd = (int)args[0];
		break;
	case SYS_wait4:
	case SYS_waitid:
		w->kind = SNAP_WAIT_CHILD;
		break;
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_pause:
	case SYS_rt_sigsuspend:
	case SYS_rt_sigtimedwait:
		w->kind = SNAP_WAIT_SLEEP;
		break;
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		w->kind = SNAP_WAIT_POLL;
		break;
	}
}

/* --- registers --- */

struct regs_list {
	struct weft_stuck_regs *r;
	size_t n, cap;
};

static int regs_push(struct regs_list *l, const struct weft_stuck_regs *r)
{
	struct weft_stuck_regs *grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		grown = realloc(l->r, l->cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		l->r = grown;
	}
	l->r[l->n++] = *r;
	return 0;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Every thread's registers of the processes, from the task iterator: one
 * iterator per process (the kernel walks only its threads) */
static int iter_regs(const struct snap_proc *procs, size_t nprocs, struct regs_list *out)
{
	libbpf_print_fn_t old = libbpf_set_print(silent_print);
	struct stuck_bpf *skel = stuck_bpf__open_and_load();
	struct weft_stuck_regs r;
	int err = 0;
	size_t i;

	libbpf_set_print(old);
	if (!skel)
		return -errno ? -errno : -EINVAL;
	for (i = 0; i < nprocs && !err; i++) {
		DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, o);
		union bpf_iter_link_info linfo = {};
		struct bpf_link *link;
		int fd;
		ssize_t n;

		linfo.task.pid = (__u32)procs[i].pid;
		o.link_info = &linfo;
		o.link_info_len = sizeof(linfo);
		link = bpf_program__attach_iter(skel->progs.stuck_regs, &o);
		if (!link) {
			err = -errno;
			break;
		}
		fd = bpf_iter_create(bpf_link__fd(link));
		if (fd < 0) {
			err = -errno;
			bpf_link__destroy(link);
			break;
		}
		/* one record per read at most: seq_file hands out whole
		 * records when the buffer is a multiple of them */
		while ((n = read(fd, &r, sizeof(r))) == sizeof(r))
			if (regs_push(out, &r)) {
				err = -ENOMEM;
				break;
			}
		if (n < 0)
			err = -errno;
		close(fd);
		bpf_link__destroy(link);
	}
	stuck_bpf__destroy(skel);
	return err;
}

/* /proc/PID/task/TID/syscall: "NR ARG1..ARG6 SP PC", "-1 SP PC" (blocked
 * outside a system call) or "running" */
static void proc_syscall(pid_t pid, pid_t tid, struct snap_thread *t)
{
	unsigned long long a[6] = {}, sp = 0, pc = 0;
	char path[64], line[256];
	long nr;
	FILE *f;
	int i;

	t->syscall = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && sscanf(line, "%ld", &nr) == 1) {
		if (nr >= 0 && sscanf(line, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr,
				      &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &sp, &pc) == 9) {
			t->syscall = nr;
			for (i = 0; i < 6; i++)
				t->args[i] = a[i];
		} else if (nr < 0) {
			sscanf(line, "%ld %llx %llx", &nr, &sp, &pc);
		}
		t->sp = sp;
		t->ip = pc;
	}
	fclose(f);
}

/* --- memory of the target, never stopped --- */

static int read_mem(pid_t pid, __u64 addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(unsigned long)addr, .iov_len = len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* --- processes --- */

static bool is_kernel_thread(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return false;
	/* after the comm: state ppid pgrp session tty tpgid flags */
	for (i = 0; i < 7 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		flags = strtoul(p + 1, NULL, 10);
	return flags & 0x00200000; /* PF_KTHREAD */
}

static int add_proc(struct snapshot *s, pid_t pid, bool peer)
{
	struct proc_thread_stat st;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return 0;
	if (s->nprocs == SNAPSHOT_MAX_PROCS)
		return -E2BIG;
	memset(&st, 0, sizeof(st));
	procfs_read_thread("/proc", pid, pid, &st);
	s->procs[s->nprocs].pid = pid;
	s->procs[s->nprocs].peer = peer;
	memcpy(s->procs[s->nprocs].comm, st.comm, sizeof(st.comm));
	s->nprocs++;
	return 0;
}

static int add_thread(struct snapshot *s, size_t *cap, pid_t pid, pid_t tid)
{
	struct snap_thread *grown, *t;
	struct proc_thread_stat st;

	memset(&st, 0, sizeof(st));
	if (procfs_read_thread("/proc", pid, tid, &st))
		return 0; /* gone meanwhile */
	if (s->nthreads == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		grown = realloc(s->threads, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->threads = grown;
	}
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	t->state = st.state;
	t->nvcsw = st.nvcsw;
	t->syscall = -1;
	memcpy(t->comm, st.comm, sizeof(t->comm));
	return 0;
}

/* --- what a thread waits on --- */

static void fd_target(pid_t pid, int fd, char *link, size_t len)
{
	char path[64];
	ssize_t n;

	link[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	n = readlink(path, link, len - 1);
	link[n > 0 ? n : 0] = 0;
}

/* The access mode of a process's fd (O_RDONLY, O_WRONLY, O_RDWR), or -1 */
static int fd_mode(pid_t pid, const char *fd)
{
	char path[320], line[128];
	unsigned int flags;
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %o", &flags) == 1) {
			mode = (int)(flags & O_ACCMODE);
			break;
		}
	fclose(f);
	return mode;
}

/* The processes that hold the pipe (or socket) ino open for the other
 * direction: writers for a reader, readers for a writer (the waiter's own
 * process among them when it holds that end too). Every process in /proc
 * is looked at (a pipe's ends can be in any of them); only fds that name
 * the very pipe have their mode read. */
static void fd_peers(const char *kind, __u64 ino, bool want_writer, struct snap_wait *w)
{
	char want[48], path[320], link[64];
	struct dirent *pd, *fdd;
	DIR *proc, *fds;
	pid_t pid;
	int mode;

	snprintf(want, sizeof(want), "%s:[%llu]", kind, (unsigned long long)ino);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((pd = readdir(proc)) && w->npeers < SNAPSHOT_MAX_PEERS) {
		pid = (pid_t)atoi(pd->d_name);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fdd = readdir(fds))) {
			ssize_t n;

			if (fdd->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fdd->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strcmp(link, want))
				continue;
			/* a socket's fd is read and written alike */
			mode = !strcmp(kind, "socket") ? O_RDWR : fd_mode(pid, fdd->d_name);
			if (mode == O_RDWR || mode == (want_writer ? O_WRONLY : O_RDONLY)) {
				w->peers[w->npeers++] = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

/* The inode of a unix socket's peer, from the kernel's sock_diag (the
 * socket's own inode is all /proc/PID/fd tells); 0 when it has none or is
 * no unix socket. */
static __u64 unix_peer_ino(__u64 ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX,
			 .udiag_states = ~0U,
			 .udiag_ino = (__u32)ino,
			 .udiag_show = UDIAG_SHOW_PEER,
			 .udiag_cookie = { ~0U, ~0U } },
	};
	char buf[4096] __attribute__((aligned(8)));
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	__u64 peer = 0;
	ssize_t n;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return 0;
	if (send(fd, &msg, sizeof(msg), 0) != sizeof(msg))
		goto out;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 || !NLMSG_OK(h, (size_t)n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	{
		struct unix_diag_msg *m = NLMSG_DATA(h);
		struct rtattr *a = (struct rtattr *)(m + 1);
		int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));

		for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
			if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(__u32))
				peer = *(__u32 *)RTA_DATA(a);
	}
out:
	close(fd);
	return peer;
}

/* The children of pid: /proc/PID/task/TID/children of each thread */
static void children_of(pid_t pid, pid_t only, struct snap_wait *w)
{
	char path[320];
	struct dirent *d;
	DIR *dir;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)) && w->npeers < SNAPSHOT_MAX_PEERS) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (w->npeers < SNAPSHOT_MAX_PEERS && fscanf(f, "%d", &c) == 1)
			if (only <= 0 || c == only)
				w->peers[w->npeers++] = c;
		fclose(f);
	}
	closedir(dir);
}

static bool thread_of(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return tid > 0 && access(path, F_OK) == 0;
}

/* The lock's owner from its word, as the switch program reads it
 * (read_lock_owner): the tid in a PI futex word, glibc's __owner (offset 8)
 * for a normal mutex, accepted only if it is a thread of the process. A
 * futex word that holds a thread's tid in a FUTEX_WAIT_BITSET is a join. */
static void read_owner(struct snap_thread *t)
{
	struct {
		__s32 lock;
		__u32 count;
		__s32 owner;
	} m;
	int cmd = (int)(t->args[1] & FUTEX_CMD_MASK);
	__u32 word;

	if (t->wait.kind == SNAP_WAIT_LOCK) {
		if (cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2) {
			if (!read_mem(t->pid, t->wait.addr, &word, sizeof(word)) &&
			    thread_of(t->pid, (pid_t)(word & FUTEX_TID_MASK)))
				t->wait.owner_tid = (pid_t)(word & FUTEX_TID_MASK);
		} else if (!read_mem(t->pid, t->wait.addr, &m, sizeof(m)) && m.lock &&
			   m.owner != t->tid && thread_of(t->pid, m.owner)) {
			t->wait.owner_tid = m.owner;
		}
	} else if (t->wait.kind == SNAP_WAIT_COND && cmd == FUTEX_WAIT_BITSET) {
		if (!read_mem(t->pid, t->wait.addr, &word, sizeof(word)) &&
		    word == (__u32)t->args[2] && (pid_t)word != t->tid &&
		    thread_of(t->pid, (pid_t)word)) {
			t->wait.kind = SNAP_WAIT_JOIN;
			t->wait.owner_tid = (pid_t)word;
		}
	}
}

static void classify_fd(struct snap_thread *t)
{
	unsigned long long ino;
	char link[128];

	if (t->wait.fd < 0)
		return;
	fd_target(t->pid, t->wait.fd, link, sizeof(link));
	snprintf(t->wait.name, sizeof(t->wait.name), "%s", link);
	if (sscanf(link, "pipe:[%llu]", &ino) == 1) {
		bool writing = t->syscall == SYS_write || t->syscall == SYS_writev;

		t->wait.kind = SNAP_WAIT_PIPE;
		t->wait.ino = ino;
		fd_peers("pipe", ino, !writing, &t->wait);
	} else if (sscanf(link, "socket:[%llu]", &ino) == 1) {
		__u64 peer = unix_peer_ino(ino);

		t->wait.kind = SNAP_WAIT_SOCKET;
		t->wait.ino = ino;
		/* a unix socket's other end: the processes that hold its peer
		 * can write to it (or read what fills it) */
		if (peer)
			fd_peers("socket", peer, true, &t->wait);
	}
}

/* --- stacks --- */

struct object_rows {
	unsigned long long ino;
	unsigned int major, minor;
	struct unwind_table table;
	struct elf_segment *segs;
	size_t nsegs;
};

struct unwinder {
	struct object_rows *objs;
	size_t n, cap;
	struct syms_cache *syms;
};

static struct object_rows *object_rows(struct unwinder *u, const struct proc_maps *m, size_t i,
				       const struct proc_mapping *pm)
{
	struct object_rows *o, *grown;
	Elf *elf;
	size_t k;
	int fd;

	for (k = 0; k < u->n; k++)
		if (u->objs[k].ino == pm->ino && u->objs[k].major == pm->major &&
		    u->objs[k].minor == pm->minor)
			return &u->objs[k];
	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 16;
		grown = realloc(u->objs, u->cap * sizeof(*grown));
		if (!grown)
			return NULL;
		u->objs = grown;
	}
	o = &u->objs[u->n++];
	memset(o, 0, sizeof(*o));
	o->ino = pm->ino;
	o->major = pm->major;
	o->minor = pm->minor;
	fd = proc_maps__open(m, i);
	if (fd < 0)
		return o;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && !elf_segments__read(elf, &o->segs, &o->nsegs))
		unwind_table__from_elf(elf, &o->table);
	if (elf)
		elf_end(elf);
	close(fd);
	return o;
}

struct stack_mem {
	pid_t pid;
	__u64 base;
	unsigned char *buf;
	size_t len;
};

/* The stack from sp up is read once; anything else costs a system call */
static int stack_read(void *ctx, __u64 addr, __u64 *val)
{
	struct stack_mem *sm = ctx;

	if (addr >= sm->base && addr - sm->base + 8 <= sm->len) {
		memcpy(val, sm->buf + (addr - sm->base), 8);
		return 0;
	}
	return read_mem(sm->pid, addr, val, 8) ? -EFAULT : 0;
}

static char *frame_name(struct unwinder *u, const struct proc_maps *m, __u64 addr, bool leaf)
{
	struct sym_result res;
	char *name = NULL;

	if (syms_cache__resolve_user(u->syms, m, addr - (leaf ? 0 : 1), false, &res))
		return strdup("[unknown]");
	if (res.found) {
		if (asprintf(&name, "%s", res.name) < 0)
			name = NULL;
	} else if (!strcmp(res.module, "[unknown]")) {
		name = strdup("[unknown]");
	} else {
		const char *base = strrchr(res.module, '/');

		if (asprintf(&name, "%s+0x%llx", base ? base + 1 : res.module, res.offset) < 0)
			name = NULL;
	}
	return name;
}

static void unwind_thread(struct unwinder *u, const struct proc_maps *m, struct snap_thread *t)
{
	struct unwind_regs r = { .pc = t->ip, .sp = t->sp, .bp = t->bp };
	struct stack_mem sm = { .pid = t->pid, .base = t->sp };
	struct proc_mapping pm;
	bool leaf = true;
	size_t i;
	int ret;

	if (!t->ip || !m)
		return;
	/* the stack from sp to the end of its mapping, or 64 KiB */
	for (i = 0; proc_maps__get(m, i, &pm); i++)
		if (pm.start <= t->sp && t->sp < pm.end) {
			sm.len = pm.end - t->sp;
			if (sm.len > STACK_READ_BYTES)
				sm.len = STACK_READ_BYTES;
			break;
		}
	sm.buf = sm.len ? malloc(sm.len) : NULL;
	if (sm.buf && read_mem(t->pid, sm.base, sm.buf, sm.len))
		sm.len = 0;
	t->ustack_names = calloc(SNAPSHOT_MAX_FRAMES, sizeof(char *));
	while (t->nustack < SNAPSHOT_MAX_FRAMES && t->ustack_names) {
		struct object_rows *o = NULL;
		const struct elf_segment *seg;
		__u64 bias = 0;

		t->ustack[t->nustack] = r.pc;
		t->ustack_names[t->nustack] = frame_name(u, m, r.pc, leaf);
		t->nustack++;
		for (i = 0; proc_maps__get(m, i, &pm); i++)
			if (pm.start <= r.pc && r.pc < pm.end)
				break;
		if (!proc_maps__get(m, i, &pm) || !pm.exec || !pm.file || !pm.ino)
			break;
		o = object_rows(u, m, i, &pm);
		if (!o || !o->table.count)
			break;
		seg = elf_segments__for_mapping(o->segs, o->nsegs, pm.pgoff, true);
		if (!seg)
			break;
		bias = pm.start - (seg->vaddr - (seg->offset - pm.pgoff));
		ret = unwind__step(o->table.rows, o->table.count, bias, &r, leaf, stack_read, &sm);
		if (ret == 0)
			t->ustack_whole = true;
		if (ret <= 0 || !r.pc)
			break;
		leaf = false;
	}
	free(sm.buf);
}

static void kernel_stack(struct snap_thread *t)
{
	char path[64], line[256], name[128], **grown;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", t->pid, t->tid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ']');

		if (!p || sscanf(p + 1, " %127[^+ \n]", name) != 1)
			continue;
		grown = realloc(t->kstack, (t->nkstack + 1) * sizeof(char *));
		if (!grown)
			break;
		t->kstack = grown;
		t->kstack[t->nkstack] = strdup(name);
		if (t->kstack[t->nkstack])
			t->nkstack++;
	}
	fclose(f);
}

static void lock_name(struct unwinder *u, const struct proc_maps *m, struct snap_thread *t)
{
	struct sym_result res;

	if (!m || syms_cache__resolve_user(u->syms, m, t->wait.addr, true, &res) || !res.found)
		return;
	if (res.offset)
		snprintf(t->wait.name, sizeof(t->wait.name), "%s+0x%llx", res.name, res.offset);
	else
		snprintf(t->wait.name, sizeof(t->wait.name), "%s", res.name);
}

/* --- the snapshot --- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int list_threads(struct snapshot *s, size_t *cap, pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (d = readdir(dir)))
		if (d->d_name[0] != '.')
			err = add_thread(s, cap, pid, (pid_t)atoi(d->d_name));
	closedir(dir);
	return err;
}

static void apply_regs(struct snap_thread *t, const struct weft_stuck_regs *r)
{
	t->regs_known = true;
	t->ip = r->ip;
	t->sp = r->sp;
	t->bp = r->bp;
	/* a thread interrupted in user mode has orig_ax -1: in no system
	 * call; the registers of a running thread are not where it is */
	t->syscall = t->state == 'R' ? -1 : r->orig_ax;
	t->args[0] = r->di;
	t->args[1] = r->si;
	t->args[2] = r->dx;
	t->args[3] = r->r10;
	t->args[4] = r->r8;
	t->args[5] = r->r9;
}

static int check_pid(pid_t pid, char *err_msg, size_t err_len)
{
	if (!procfs_pid_exists("/proc", pid)) {
		snprintf(err_msg, err_len, "no process with PID %d", pid);
		return -ESRCH;
	}
	if (!procfs_pid_alive("/proc", pid)) {
		snprintf(err_msg, err_len, "PID %d has exited (a zombie its parent has not reaped)",
			 pid);
		return -ESRCH;
	}
	if (is_kernel_thread(pid)) {
		snprintf(err_msg, err_len,
			 "PID %d is a kernel thread: it has no user stack or locks to look at",
			 pid);
		return -EINVAL;
	}
	return 0;
}

int snapshot__take(const pid_t *pids, int npids, const struct snapshot_opts *opts,
		   struct snapshot *s, char *err_msg, size_t err_len)
{
	static const struct snapshot_opts defaults = {};
	struct regs_list regs = {};
	struct unwinder u = {};
	struct proc_maps *maps[SNAPSHOT_MAX_PROCS] = {};
	double start = now_s();
	size_t cap = 0, i, j, done_procs = 0;
	int err = 0, k;

	if (!opts)
		opts = &defaults;
	memset(s, 0, sizeof(*s));
	err_msg[0] = 0;
	for (k = 0; k < npids; k++) {
		err = check_pid(pids[k], err_msg, err_len);
		if (!err)
			err = add_proc(s, pids[k], false);
		if (err)
			goto out;
	}
	elf_version(EV_CURRENT);
	u.syms = syms_cache__new();
	if (!u.syms) {
		err = -ENOMEM;
		goto out;
	}
	/* Peers found while classifying add processes: each round takes the
	 * processes not yet taken. */
	while (done_procs < s->nprocs) {
		size_t first_thread = s->nthreads, first_proc = done_procs, nnew;

		nnew = s->nprocs - done_procs;
		for (i = first_proc; i < s->nprocs; i++) {
			err = list_threads(s, &cap, s->procs[i].pid);
			if (err == -ENOENT)
				err = 0; /* a peer gone meanwhile */
			if (err)
				goto out;
		}
		done_procs = s->nprocs;
		regs.n = 0;
		if (!opts->no_bpf && !iter_regs(&s->procs[first_proc], nnew, &regs))
			s->bpf_regs = true;
		for (i = first_thread; i < s->nthreads; i++) {
			struct snap_thread *t = &s->threads[i];
			bool found = false;

			for (j = 0; j < regs.n; j++)
				if (regs.r[j].tid == (__u32)t->tid) {
					apply_regs(t, &regs.r[j]);
					found = true;
					break;
				}
			if (!found) {
				proc_syscall(t->pid, t->tid, t);
				if (t->state == 'R')
					t->syscall = -1;
			}
			snap_wait_from_syscall(t->syscall, t->args, t->state, &t->wait);
			if (t->syscall < 0 && t->state != 'R' && t->state != 'D')
				t->wait.kind = SNAP_WAIT_OTHER;
			read_owner(t);
			classify_fd(t);
			if (t->wait.kind == SNAP_WAIT_CHILD)
				children_of(t->pid, t->syscall == SYS_wait4 ? (pid_t)t->args[0] : 0,
					    &t->wait);
			if (opts->no_peers)
				continue;
			if (t->wait.kind == SNAP_WAIT_PIPE || t->wait.kind == SNAP_WAIT_SOCKET ||
			    t->wait.kind == SNAP_WAIT_CHILD)
				for (k = 0; k < t->wait.npeers; k++)
					if (!check_pid(t->wait.peers[k], err_msg, err_len))
						add_proc(s, t->wait.peers[k], true);
			err_msg[0] = 0;
		}
	}
	/* names and stacks, once every process is in */
	for (i = 0; i < s->nprocs; i++) {
		maps[i] = proc_maps__read(s->procs[i].pid);
		if (maps[i])
			proc_maps__set_pid(maps[i], s->procs[i].pid);
	}
	for (i = 0; i < s->nthreads; i++) {
		struct snap_thread *t = &s->threads[i];
		struct proc_maps *m = NULL;

		for (j = 0; j < s->nprocs; j++)
			if (s->procs[j].pid == t->pid)
				m = maps[j];
		if (t->wait.kind == SNAP_WAIT_LOCK || t->wait.kind == SNAP_WAIT_COND ||
		    t->wait.kind == SNAP_WAIT_JOIN)
			lock_name(&u, m, t);
		if (!opts->no_stacks) {
			unwind_thread(&u, m, t);
			kernel_stack(t);
		}
	}
out:
	for (i = 0; i < SNAPSHOT_MAX_PROCS; i++)
		proc_maps__free(maps[i]);
	for (i = 0; i < u.n; i++) {
		unwind_table__release(&u.objs[i].table);
		free(u.objs[i].segs);
	}
	free(u.objs);
	syms_cache__free(u.syms);
	free(regs.r);
	s->took_s = now_s() - start;
	if (err) {
		if (!err_msg[0])
			snprintf(err_msg, err_len, "Failed to take the snapshot: %s",
				 strerror(-err));
		snapshot__free(s);
	}
	return err;
}

void snapshot__free(struct snapshot *s)
{
	size_t i;
	int k;

	if (!s)
		return;
	for (i = 0; i < s->nthreads; i++) {
		struct snap_thread *t = &s->threads[i];

		for (k = 0; t->ustack_names && k < t->nustack; k++)
			free(t->ustack_names[k]);
		free(t->ustack_names);
		for (k = 0; k < t->nkstack; k++)
			free(t->kstack[k]);
		free(t->kstack);
	}
	free(s->threads);
	memset(s, 0, sizeof(*s));
}

const struct snap_thread *snapshot__thread(const struct snapshot *s, pid_t tid)
{
	size_t i;

	for (i = 0; i < s->nthreads; i++)
		if (s->threads[i].tid == tid)
			return &s->threads[i];
	return NULL;
}
