// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "exec_watch.h"
#include "file.h"
#include "grow.h"
#include "kv.h"
#include "launch.h"
#include "lock_names.h"
#include "log.h"
#include "maps_book.h"
#include "perf_map.h"
#include "procfs.h"
#include "privileges.h"
#include "record.h"
#include "attach_waits.h"
#include "record_int.h"
#include "recording_meta.h"
#include "sampler.h"
#include "stacks.h"
#include "unwind.h"
#include "unwind_loader.h"
#include "python_loader.h"
#include "user_file.h"
#include "symbols.h"
#include "waits.h"
#include "weft.skel.h"

#define DRAIN_PERIOD_MS 50
/* Raw records the background writer may hold: about 4 s of a 64-thread
 * ring switching 200,000 times a second */
#define WRITER_BACKLOG_BYTES (256u << 20)
/* What a recorder killed by SIGKILL (or a crash of the machine's power)
 * can lose: the records drained since its last flush (README "Safety"). */
#define FLUSH_PERIOD_NS 1000000000ULL
/* enum target_flags of weft.bpf.c: the group's last thread has exited */
#define TARGET_FLAG_EXITING 2
#define KILL_GRACE_NS 2000000000ULL
/* Libraries mapped after exec (and dlopen) show up in maps read later. */
#define MAPS_REFRESH_NS 500000000ULL
/* Reads after exec: at once, then these long after each. The loader maps
 * libc within about half a millisecond of the process's CPU time, which
 * on a busy machine can take several milliseconds: a process that lives
 * 10 ms has its libc read by the second. */
static const __u64 maps_reread_ns[] = { 4000000ULL, 26000000ULL, 30000000ULL };
/* The first read after an exec waits this long after it, so that the
 * dynamic loader has mapped the libraries of a process that lives a few
 * milliseconds. exec_watch__drain() has usually slept that long already;
 * without the connector the drain loop wakes for it. */
#define MAPS_EXEC_SETTLE_NS (EXEC_SETTLE_US * 1000ULL)
#define MAPS_READS_AFTER_EXEC (1 + sizeof(maps_reread_ns) / sizeof(maps_reread_ns[0]))
/* A fork's first read waits this long after it: a fork that execs has
 * done so by then, one that does not keeps its parent's tables meanwhile. */
#define MAPS_FORK_SETTLE_NS 4000000ULL

static volatile sig_atomic_t stop_signal, stop_from_tty;

/* A Ctrl-C comes from the terminal (si_code SI_KERNEL) to its whole
 * foreground process group, the command's processes in it included: those
 * must not get a second SIGINT from weft, which many programs take for
 * "stop at once, skip the cleanup". */
static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	stop_from_tty = sig == SIGINT && si && si->si_code == SI_KERNEL;
	stop_signal = sig;
}

/* Only there so that a child's exit interrupts the wait for ring data. */
static void on_child_signal(int sig)
{
	(void)sig;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !weft_verbose)
		return 0;
	if (level == LIBBPF_INFO && !weft_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

struct proc_entry *proc_find(struct recorder *r, __u32 tgid)
{
	size_t i;

	for (i = r->nprocs; i > 0; i--)
		if (r->procs[i - 1].tgid == tgid)
			return &r->procs[i - 1];
	return NULL;
}

struct proc_entry *proc_add(struct recorder *r, __u32 tgid, __u32 ppid, const char *comm)
{
	struct proc_entry *p = proc_find(r, tgid);

	if (p && !p->exited)
		return p;
	/* the cap moved before a failed realloc, and the next add wrote past
	 * the array */
	if (grow_array((void **)&r->procs, &r->procs_cap, r->nprocs + 1, sizeof(*r->procs)))
		return NULL;
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->ppid = ppid;
	/* a fork maps what its parent maps: one read; an exec earns the
	 * re-reads (track_task) */
	p->maps_reads_due = 1;
	p->task_dirty = true;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

/* The recorder reads only the life-cycle records, to know which
 * processes to read from /proc at the end. */
static void track_task(struct recorder *r, const struct weft_event_header *h)
{
	const struct weft_ev_fork *fork_ev;
	const struct weft_ev_exec *exec_ev;
	const struct weft_ev_exit *exit_ev;
	struct proc_entry *p;

	switch (h->type) {
	case WEFT_EV_FORK:
		fork_ev = (const void *)h;
		if (h->flags & WEFT_FORK_THREAD)
			break;
		p = proc_add(r, fork_ev->child_tgid, fork_ev->parent_tgid, fork_ev->comm);
		if (p && !p->ppid)
			p->ppid = fork_ev->parent_tgid;
		if (p && p->maps_gone) { /* the tgid came back */
			p->maps_gone = false;
			p->maps_reads_due = 1;
		}
		/* The programs gave the child its parent's tables at the fork.
		 * A read at once came while most children exec'd: it held
		 * their mmap_lock against the loader's mappings (exec blocked
		 * in rwsem_down_write_slowpath) and read what the exec threw
		 * away. An exec since reschedules it. */
		if (p && p->maps_reads_due == 1 && !p->maps_not_before)
			p->maps_not_before = h->ts_ns + MAPS_FORK_SETTLE_NS;
		break;
	case WEFT_EV_EXEC:
		exec_ev = (const void *)h;
		/* The rings are read one CPU after another, so a child's exec
		 * can come before its fork: had the fork's record made the
		 * entry, its maps would be read at once, before the loader
		 * mapped libc, and not again while a 4 ms child lives. */
		p = proc_add(r, exec_ev->tgid, 0, exec_ev->comm);
		if (p) {
			memcpy(p->comm, exec_ev->comm, sizeof(p->comm));
			p->task_dirty = true;
			p->maps_reads_due = MAPS_READS_AFTER_EXEC;
			p->maps_not_before = h->ts_ns + MAPS_EXEC_SETTLE_NS;
			p->maps_gone = false;
		}
		break;
	case WEFT_EV_EXIT:
		exit_ev = (const void *)h;
		p = proc_find(r, exit_ev->tgid);
		if (p && (h->flags & WEFT_EXIT_GROUP_DEAD)) {
			p->exited = true;
			p->task_dirty = true;
			/* its pid may be reused, and its map with it */
			if (r->jit)
				perf_map_book__hold(r->jit, p->tgid);
		}
		break;
	}
}

/* The futex words threads block on are named at the end, from the data
 * symbols of the process's mapped files. */
static void note_lock_address(struct recorder *r, const struct weft_ev_switch *ev)
{
	struct wait_class wc;

	wait_classify(ev->syscall_nr, ev->sys_arg0, ev->sys_arg1, ev->prev_state, ev->hdr.flags,
		      &wc);
	if (wc.kind != WEFT_LOCK_NONE)
		lock_names__note(r->lock_names, ev->prev_tgid, wc.addr);
}

/* The libc a process maps, from /proc/PID/maps: what the pthread uprobes
 * attach to. */
static int find_libc(pid_t tgid, char *path, size_t size)
{
	char maps[64], line[512], *name;
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", tgid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		name = strchr(line, '/');
		if (!name || !strstr(name, "/libc.so.6"))
			continue;
		name[strcspn(name, "\n")] = '\0';
		snprintf(path, size, "%s", name);
		err = 0;
	}
	fclose(f);
	return err;
}

static int keep_link(struct recorder *r, struct bpf_link *link)
{
	struct bpf_link **grown;

	if (r->nr_pthread_links == r->cap_pthread_links) {
		r->cap_pthread_links = r->cap_pthread_links ? r->cap_pthread_links * 2 : 16;
		grown = realloc(r->pthread_links, r->cap_pthread_links * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		r->pthread_links = grown;
	}
	r->pthread_links[r->nr_pthread_links++] = link;
	return 0;
}

/* Per process, never system-wide: a uprobe filtered by the process's pid
 * fires for every thread sharing its address space, and only there. */
static void attach_pthread_probes(struct recorder *r, struct proc_entry *p)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = "pthread_mutex_lock");
	struct bpf_link *entry, *ret;
	char libc[PATH_MAX];

	p->pthread_probed = true;
	if (find_libc(p->tgid, libc, sizeof(libc)))
		return;
	entry = bpf_program__attach_uprobe_opts(r->skel->progs.handle_pthread_lock, p->tgid, libc,
						0, &opts);
	opts.retprobe = true;
	ret = bpf_program__attach_uprobe_opts(r->skel->progs.handle_pthread_lock_return, p->tgid,
					      libc, 0, &opts);
	if (!entry || !ret || keep_link(r, entry) || keep_link(r, ret)) {
		/* a process that ended meanwhile (a `touch` in a shell script)
		 * had no lock to wait on: no warning for it */
		if (procfs_pid_alive("/proc", (pid_t)p->tgid))
			wlog("could not probe pthread_mutex_lock in %s for PID %u", libc, p->tgid);
		bpf_link__destroy(entry);
		bpf_link__destroy(ret);
	}
}

/* Maps are read while the processes live: those new or exec'd since the
 * last read at once and again as maps_reread_ns says, all of them every
 * MAPS_REFRESH_NS. Returns when the next read falls due. */
/* One read of p's maps, and the next one due after it */
static void read_proc_maps(struct recorder *r, struct proc_entry *p, __u64 now)
{
	bool due;

	r->maps_reads++;
	if (maps_book__take(r->maps, p->tgid)) {
		r->maps_failed++;
		/* Gone for good: the rings are read one CPU after another, so
		 * a short child's exit can be drained before its fork or exec,
		 * and nothing marks it exited. Its reads were retried every
		 * 4 ms to the end of the recording: 2,375 opens of maps for
		 * 300 fork+exec of /bin/true, 80% of them failing. */
		if (!procfs_pid_alive("/proc", (pid_t)p->tgid)) {
			p->maps_gone = true;
			p->maps_reads_due = 0;
			return;
		}
		/* not readable yet: try again soon, without spinning on it */
		p->maps_not_before = now + maps_reread_ns[0];
		return;
	}
	/* a read that was due (a new process, a fork, an exec), not the
	 * periodic refresh */
	due = p->maps_reads_due;
	if (p->maps_reads_due) {
		p->maps_reads_due--;
		if (p->maps_reads_due)
			p->maps_not_before =
				now + maps_reread_ns[MAPS_READS_AFTER_EXEC - 1 - p->maps_reads_due];
	}
	if (r->unwind)
		unwind_loader__update(r->unwind, p->tgid, maps_book__get(r->maps, p->tgid));
	if (r->python)
		python_loader__update(r->python, p->tgid, maps_book__get(r->maps, p->tgid));
	/* who may write its perf map: it changes only at an exec, and
	 * reading it opens two files in /proc */
	if (r->jit && due)
		perf_map_book__note(r->jit, p->tgid);
}

static __u64 read_maps(struct recorder *r, __u64 now, bool all)
{
	bool refresh = all || now >= r->maps_read_ns + MAPS_REFRESH_NS;
	__u64 next_due;
	size_t i;

	if (refresh)
		r->maps_read_ns = now;
	next_due = r->maps_read_ns + MAPS_REFRESH_NS;
	for (i = 0; i < r->nprocs; i++) {
		struct proc_entry *p = &r->procs[i];

		if (p->exited || p->maps_gone)
			continue;
		if ((p->maps_reads_due && now >= p->maps_not_before) || refresh) {
			read_proc_maps(r, p, now);
			if (r->opts->lock_pthread && !p->pthread_probed && !p->maps_gone)
				attach_pthread_probes(r, p);
		}
		if (p->maps_reads_due && p->maps_not_before < next_due)
			next_due = p->maps_not_before;
	}
	return next_due;
}

static const char *gil_name(void *ctx, __u32 tgid, __u64 addr)
{
	return python_loader__lock_name(ctx, tgid, addr);
}

static void write_lock_names(struct recorder *r, struct syms_cache *syms)
{
	size_t len = 0;
	char *text = NULL;

	if (r->python)
		lock_names__name_with(r->lock_names, gil_name, r->python);
	if (syms && !lock_names__resolve(r->lock_names, r->maps, syms, &text, &len) && len &&
	    weft_writer__add_section(r->writer, WEFT_SEC_SYMBOLS, text, len) && !r->write_err)
		r->write_err = -EIO;
	free(text);
}

static int on_ring_record(void *ctx, void *data, size_t size)
{
	struct ring_ctx *rc = ctx;
	struct recorder *r = rc->rec;
	const struct weft_event_header *h = data;
	int err;

	if (size < sizeof(*h) || weft_event_size(h->type) != size)
		return 0;
	if (r->stacks)
		stack_table__note_event(r->stacks, h);
	if (h->type == WEFT_EV_FORK || h->type == WEFT_EV_EXEC || h->type == WEFT_EV_EXIT)
		track_task(r, h);
	else if (h->type == WEFT_EV_SWITCH && (h->flags & WEFT_SWITCH_BLOCKING))
		note_lock_address(r, data);
	else if (h->type == WEFT_EV_PLOCK)
		lock_names__note(r->lock_names, ((const struct weft_ev_plock *)data)->tgid,
				 ((const struct weft_ev_plock *)data)->mutex_addr);
	err = weft_writer__add_event(r->writer, rc->cpu, data, size);
	if (err) {
		r->write_err = err;
		return err;
	}
	return 0;
}

int add_own_event(struct recorder *r, const void *rec, size_t size)
{
	int err = weft_writer__add_event(r->writer, r->ncpu, rec, size);

	if (err && !r->write_err)
		r->write_err = err;
	return err;
}

static int open_output(struct recorder *r)
{
	const char *path = r->opts->output ? r->opts->output : "weft.data";

	r->fd = user_file__create(path, &r->ra);
	if (r->fd < 0)
		return r->fd;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->writer = weft_writer__new(path, r->fd);
	if (!r->writer) {
		elog("Failed to start %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* A run that recorded nothing leaves no file that looks like a recording;
 * removed as the user who created it. */
static void remove_output(struct recorder *r)
{
	user_file__remove(r->path, &r->ra);
}

unsigned long ring_bytes_for(unsigned int ring_kb)
{
	unsigned long bytes = 4096, want = (unsigned long)ring_kb * 1024;

	/* A ring buffer is a power of two pages. */
	while (bytes < want && bytes < (1UL << 30))
		bytes <<= 1;
	return bytes;
}

bool unwinding(const struct recorder *r)
{
	return r->opts->stacks && r->opts->unwind_tables;
}

/* WEFT_OWNERS=0 leaves out the read of a blocked lock's owner, and
 * WEFT_BPF_STATS=1 says what the switch program cost per call: both for
 * scripts/bench.sh, which measures the owner read's price. */
static bool owners_wanted(void)
{
	const char *v = getenv("WEFT_OWNERS");

	return !v || strcmp(v, "0");
}

static int start_prog_stats(void)
{
	const char *v = getenv("WEFT_BPF_STATS");
	int fd;

	if (!v || strcmp(v, "1"))
		return -1;
	/* the kernel times every program while this fd stays open */
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		wlog("WEFT_BPF_STATS: could not turn on BPF run-time statistics: %s",
		     strerror(errno));
	return fd;
}

static void log_switch_stats(struct recorder *r, int stats_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (stats_fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(r->skel->progs.handle_switch), &info, &len)) {
		wlog("WEFT_BPF_STATS: %s", strerror(errno));
		return;
	}
	fprintf(stderr, "weft: switch program: %llu calls, %.1f ns per call (owners %s)\n",
		(unsigned long long)info.run_cnt,
		info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0,
		owners_wanted() ? "read" : "not read");
	/* the sample program takes a stack at every call: its cost per call
	 * is a stack's (make bench: with and without Python frames) */
	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (r->opts->stacks &&
	    !bpf_obj_get_info_by_fd(bpf_program__fd(r->skel->progs.handle_sample), &info, &len))
		fprintf(stderr, "weft: sample program: %llu calls, %.1f ns per call (python %s)\n",
			(unsigned long long)info.run_cnt,
			info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0,
			r->python ? "auto" : "off");
}

static int load_programs(struct recorder *r)
{
	unsigned long ring_bytes = ring_bytes_for(r->opts->ring_kb);
	int err, i, outer_fd;

	r->skel = weft_bpf__open();
	if (!r->skel) {
		elog("Failed to open BPF programs: %s", strerror(errno));
		return -errno;
	}
	r->skel->rodata->wakeup_watermark = ring_bytes / 4;
	r->skel->rodata->targ_futex_reasons = r->opts->lock_futex;
	r->skel->rodata->targ_kernel_locks = r->opts->lock_kernel;
	r->skel->rodata->targ_pthread_locks = r->opts->lock_pthread;
	r->skel->rodata->targ_stacks = r->opts->stacks;
	r->skel->rodata->targ_unwind_tables = unwinding(r);
	r->skel->rodata->targ_python = r->opts->stacks && r->opts->python;
	r->skel->rodata->stack_every = r->opts->stack_every;
	r->skel->rodata->stack_interval_ns =
		r->opts->stack_rate ? 1000000000ULL / r->opts->stack_rate : 0;
	r->skel->rodata->targ_stack_audit = r->opts->stack_audit;
	r->skel->rodata->targ_owners = owners_wanted();
	bpf_map__set_max_entries(r->skel->maps.kstacks,
				 r->opts->stacks ? r->opts->stack_entries : 1);
	bpf_map__set_max_entries(r->skel->maps.ustacks,
				 r->opts->stacks ? r->opts->stack_entries : 1);
	bpf_map__set_max_entries(r->skel->maps.pycode,
				 r->opts->stacks && r->opts->python ? r->opts->stack_entries : 1);
	bpf_map__set_max_entries(r->skel->maps.unwind_rows,
				 unwinding(r) ? r->opts->unwind_rows : 1);
	if (!r->opts->stacks)
		bpf_program__set_autoload(r->skel->progs.handle_sample, false);
	if (!r->opts->lock_pthread) {
		bpf_program__set_autoload(r->skel->progs.handle_pthread_lock, false);
		bpf_program__set_autoload(r->skel->progs.handle_pthread_lock_return, false);
	}
	if (!r->opts->lock_kernel) {
		bpf_program__set_autoload(r->skel->progs.handle_contention_begin, false);
		bpf_program__set_autoload(r->skel->progs.handle_contention_end, false);
	}
	/* The inner template's size stays as declared: libbpf 1.1 cannot
	 * resize an inner map (it crashes), and the kernel takes ring
	 * buffers of any size into the array. */
	bpf_map__set_max_entries(r->skel->maps.rings, r->ncpu);
	err = weft_bpf__load(r->skel);
	if (err) {
		elog("Failed to load BPF programs: %s (run with -v for the verifier's log)",
		     strerror(-err));
		return err;
	}
	r->ring_fds = calloc(r->ncpu, sizeof(*r->ring_fds));
	r->ring_ctxs = calloc(r->ncpu, sizeof(*r->ring_ctxs));
	if (!r->ring_fds || !r->ring_ctxs)
		return -ENOMEM;
	outer_fd = bpf_map__fd(r->skel->maps.rings);
	for (i = 0; i < r->ncpu; i++) {
		r->ring_fds[i] =
			bpf_map_create(BPF_MAP_TYPE_RINGBUF, "weft_ring", 0, 0, ring_bytes, NULL);
		if (r->ring_fds[i] < 0) {
			err = -errno;
			elog("Failed to create a %lu KiB ring buffer for CPU %d: %s",
			     ring_bytes / 1024, i, strerror(errno));
			return err;
		}
		if (bpf_map_update_elem(outer_fd, &i, &r->ring_fds[i], BPF_ANY)) {
			err = -errno;
			elog("Failed to install the ring buffer of CPU %d: %s", i, strerror(errno));
			return err;
		}
		r->ring_ctxs[i].rec = r;
		r->ring_ctxs[i].cpu = i;
		if (i == 0)
			r->rb = ring_buffer__new(r->ring_fds[0], on_ring_record, &r->ring_ctxs[0],
						 NULL);
		else if (r->rb &&
			 ring_buffer__add(r->rb, r->ring_fds[i], on_ring_record, &r->ring_ctxs[i]))
			return -errno;
		if (!r->rb) {
			elog("Failed to set up ring buffer reading: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Tables for the recorder's own libc and dynamic loader, which are the
 * traced programs' too as a rule, are compiled before the command runs:
 * compiling them later would hold up the draining of the rings. */
static int start_unwinder(struct recorder *r)
{
	struct proc_maps *self;
	struct unwind_loader_stats st;

	r->unwind = unwind_loader__new(bpf_map__fd(r->skel->maps.unwind_rows), r->opts->unwind_rows,
				       bpf_map__fd(r->skel->maps.unwind_procs),
				       bpf_map__fd(r->skel->maps.unwind_objects));
	if (!r->unwind) {
		elog("Failed to map the unwind tables: %s", strerror(errno));
		return -errno;
	}
	self = proc_maps__read(getpid());
	unwind_loader__prepare(r->unwind, self);
	/* the held command is a fork of the recorder until it execs */
	if (r->opts->argv && self)
		unwind_loader__update(r->unwind, r->root_pid, self);
	proc_maps__free(self);
	unwind_loader__stats(r->unwind, &st);
	vlog("unwind tables: %zu rows of %zu objects compiled in %.1f ms", st.rows,
	     st.objects_with_rows, st.compile_s * 1e3);
	return 0;
}

static void log_unwind_stats(struct recorder *r)
{
	struct unwind_loader_stats st;

	unwind_loader__stats(r->unwind, &st);
	vlog("unwind tables: %zu of %zu rows used by %zu of %zu objects, compiled in %.1f ms",
	     st.rows, st.rows_max, st.objects_with_rows, st.objects, st.compile_s * 1e3);
	if (st.objects_too_big)
		wlog("%zu objects had no room in the unwind tables: their frames are walked by "
		     "frame pointers; try a larger --unwind-rows",
		     st.objects_too_big);
	if (st.mappings_dropped)
		vlog("%zu executable mappings past %d per process are walked by frame pointers",
		     st.mappings_dropped, WEFT_UNWIND_MAX_MAPPINGS);
}

static int attach_programs(struct recorder *r)
{
	int err = weft_bpf__attach(r->skel);

	if (err) {
		elog("Failed to attach BPF programs: %s", strerror(-err));
		return err;
	}
	/* perf_event programs are not attached by the skeleton */
	if (r->opts->stacks) {
		r->sampler = stack_sampler__start(r->skel->progs.handle_sample, r->opts->sample_hz);
		if (!r->sampler)
			err = -errno;
		/* without it, a process that lives a few ms has no maps */
		r->exec_watch = exec_watch__new(ring_buffer__epoll_fd(r->rb));
		if (!r->exec_watch)
			vlog("no process events connector (%s): short-lived processes may keep "
			     "unnamed frames",
			     strerror(errno));
	}
	return err;
}

static int add_target(struct recorder *r, pid_t tgid)
{
	__u32 key = tgid, flags = 1;

	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.targets), &key, &flags, BPF_ANY)) {
		elog("Failed to add PID %d to the traced tree: %s", tgid, strerror(errno));
		return -errno;
	}
	return 0;
}

static int usable_cpus_of(pid_t pid)
{
	cpu_set_t set;

	if (sched_getaffinity(pid, sizeof(set), &set))
		return 0;
	return CPU_COUNT(&set);
}

static void reap_child(struct recorder *r)
{
	struct rusage ru;
	int status;
	pid_t pid;

	if (!r->child_running)
		return;
	pid = wait4(r->root_pid, &status, WNOHANG, &ru);
	if (pid != r->root_pid)
		return;
	r->child_running = false;
	r->child_rusage = ru;
	r->have_rusage = true;
	if (WIFEXITED(status))
		r->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->exit_status = 128 + WTERMSIG(status);
}

static bool attached_alive(struct recorder *r)
{
	int i;

	/* a zombie is gone: its parent may never reap it */
	for (i = 0; i < r->opts->npids; i++)
		if (procfs_pid_alive("/proc", r->opts->pids[i]))
			return true;
	return false;
}

static void show_progress(struct recorder *r, __u64 now)
{
	fprintf(stderr, "\rweft: recording %.1f s, %llu events, %.1f MB, %llu lost  ",
		(now - r->start_ns) / 1e9, weft_writer__events(r->writer),
		weft_writer__bytes(r->writer) / 1e6, (unsigned long long)lost_so_far(r));
}

/* Every live process of the traced tree, as the kernel's targets map
 * holds it, gets sig; returns how many did. A pid stays in the map until
 * its group's last switch, before its parent can reap it, so it names no
 * other process while there; the pidfd taken before the second look keeps
 * it so until the signal is sent. An entry marked exiting is skipped: it
 * is dying, and may outlive its process when the leader went first. */
static int signal_tree(struct recorder *r, int sig, bool skip_own_group)
{
	int map_fd = bpf_map__fd(r->skel->maps.targets);
	pid_t own_group = getpgrp();
	__u32 key, next, flags;
	bool first = true;
	int n = 0, pidfd;

	while (!bpf_map_get_next_key(map_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(map_fd, &key, &flags) || (flags & TARGET_FLAG_EXITING))
			continue;
		pidfd = syscall(SYS_pidfd_open, (pid_t)key, 0);
		if (pidfd < 0)
			continue;
		if (bpf_map_lookup_elem(map_fd, &key, &flags) || (flags & TARGET_FLAG_EXITING)) {
			close(pidfd);
			continue;
		}
		if (sig == 0 || (skip_own_group && getpgid((pid_t)key) == own_group) ||
		    !syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0))
			n++;
		close(pidfd);
	}
	return n;
}

/* Drains until the command exits (command mode), every attached process
 * is gone, --duration passes, or a signal asks to stop. When recording
 * must stop early, every process of the tree weft started is sent
 * SIGTERM (SIGINT for the user's Ctrl-C, but not to those the terminal
 * already sent it), and SIGKILL if any is still there 2 s later: a
 * pipeline's children, not only its root. */
static int drain_loop(struct recorder *r)
{
	const struct record_opts *o = r->opts;
	__u64 deadline = o->duration_s > 0 ? r->start_ns + (__u64)(o->duration_s * 1e9) : 0;
	__u64 kill_at = 0, next_progress = r->start_ns + 1000000000ULL, now, maps_due;
	__u64 next_flush = r->start_ns + FLUSH_PERIOD_NS, give_up_at = 0;
	__u64 next_tick = r->start_ns + CPU_TICK_PERIOD_NS, rearm_at;
	int poll_ms = DRAIN_PERIOD_MS;
	int err, sig;

	for (;;) {
		err = ring_buffer__poll(r->rb, poll_ms);
		if (err < 0 && err != -EINTR)
			break;
		/* Records are submitted without a wakeup: read every ring,
		 * not only those that signalled. */
		exec_watch__drain(r->exec_watch, now_ns());
		err = ring_buffer__consume(r->rb);
		if (r->write_err || (err < 0 && err != -EINTR))
			break;
		now = now_ns();
		maps_due = read_maps(r, now, false);
		rearm_at = exec_watch__rearm(r->exec_watch, now);
		if (rearm_at && rearm_at < maps_due)
			maps_due = rearm_at;
		if (now >= next_tick) {
			write_cpu_ticks(r, now);
			next_tick +=
				CPU_TICK_PERIOD_NS * ((now - next_tick) / CPU_TICK_PERIOD_NS + 1);
		}
		if (now >= next_flush) {
			flush_recording(r);
			if (r->write_err)
				break;
			next_flush = now + FLUSH_PERIOD_NS;
		}
		/* wake for the next maps read that falls due, not a whole
		 * drain period later */
		poll_ms = maps_due <= now ? 1 : (maps_due - now + 999999) / 1000000;
		if (poll_ms > DRAIN_PERIOD_MS)
			poll_ms = DRAIN_PERIOD_MS;
		if (o->progress && now >= next_progress) {
			show_progress(r, now);
			next_progress = now + 1000000000ULL;
		}
		if (o->argv) {
			reap_child(r);
			/* the root ended by itself: what it left running is its
			 * business; once weft stops the tree, all of it ends */
			if (!r->child_running && (!r->stopped_by || !signal_tree(r, 0, false) ||
						  (give_up_at && now >= give_up_at)))
				return 0;
			if (!r->stopped_by && (stop_signal || (deadline && now >= deadline))) {
				r->stopped_by = stop_signal ? stop_signal : SIGALRM;
				sig = stop_signal == SIGINT ? SIGINT : SIGTERM;
				signal_tree(r, sig, stop_from_tty);
				kill_at = now + KILL_GRACE_NS;
			}
			if (kill_at && now >= kill_at) {
				signal_tree(r, SIGKILL, false);
				if (r->child_running)
					kill(r->root_pid, SIGKILL);
				kill_at = 0;
				/* a process in uninterruptible sleep (a dead NFS
				 * server) may take a while: weft does not wait on
				 * it forever */
				give_up_at = now + KILL_GRACE_NS;
			}
		} else if (stop_signal || (deadline && now >= deadline) || !attached_alive(r)) {
			return 0;
		}
	}
	return r->write_err ? r->write_err : err;
}

/* The file cannot take more (a full disk, a quota, an I/O error): the
 * programs are already detached; the file keeps what was written before
 * (a truncated recording that reports up to there), and a command weft
 * started runs on, untraced, to its own end: a build or a server killed
 * because its profile did not fit would be the worse outcome. */
static void finish_untraced(struct recorder *r)
{
	double after_s = (r->end_ns - r->start_ns) / 1e9;
	int status;
	pid_t pid;

	for (size_t i = 0; i < r->nr_pthread_links; i++)
		bpf_link__destroy(r->pthread_links[i]);
	r->nr_pthread_links = 0;
	if (!r->child_running) {
		elog("Failed to write %s: %s: recording stopped after %.1f s; the file keeps what "
		     "came before (truncated)",
		     r->path, strerror(-r->write_err), after_s);
		return;
	}
	elog("Failed to write %s: %s: recording stopped after %.1f s (the file keeps what came "
	     "before, truncated); %s (PID %d) runs on untraced and weft waits for it",
	     r->path, strerror(-r->write_err), after_s, r->opts->argv[0], r->root_pid);
	for (;;) {
		pid = waitpid(r->root_pid, &status, 0);
		if (pid == r->root_pid || errno != EINTR)
			break;
		/* a SIGTERM to weft still stops the command; Ctrl-C
		 * reaches it from the terminal by itself */
		if (stop_signal == SIGTERM)
			kill(r->root_pid, SIGTERM);
		stop_signal = 0;
	}
	r->child_running = false;
}

static void recorder_free(struct recorder *r)
{
	attach_waits__free(r->attach_waits);
	ring_buffer__free(r->rb);
	weft_bpf__destroy(r->skel);
	if (r->ring_fds)
		for (int i = 0; i < r->ncpu; i++)
			if (r->ring_fds[i] > 0)
				close(r->ring_fds[i]);
	free(r->ring_fds);
	free(r->ring_ctxs);
	weft_writer__free(r->writer);
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nr_pthread_links; i++)
		bpf_link__destroy(r->pthread_links[i]);
	free(r->pthread_links);
	free(r->procs);
	maps_book__free(r->maps);
	perf_map_book__free(r->jit);
	lock_names__free(r->lock_names);
	stack_sampler__free(r->sampler);
	exec_watch__free(r->exec_watch);
	unwind_loader__free(r->unwind);
	python_loader__free(r->python);
	stack_table__free(r->stacks);
	syms_cache__free(r->syms);
	free(r->stats_start);
	free(r->stats_now);
	free(r->steal_start);
}

static int start_command(struct recorder *r, char *path)
{
	int err;

	err = launch_hold(path, r->opts->argv, &r->ra, &r->child);
	if (err) {
		elog("Failed to start %s: %s", r->opts->argv[0], strerror(-err));
		return err;
	}
	r->root_pid = r->child.pid;
	r->child_running = true;
	return add_target(r, r->root_pid);
}

/* The root's state just before it is let go: blocked on the hold pipe,
 * with what it ran before exec as the baseline of its accounting. */
static int release_command(struct recorder *r)
{
	struct proc_entry *proc;
	struct weft_ev_task_state ev;
	struct proc_thread_stat st;
	int err;

	if (procfs_read_thread("/proc", r->root_pid, r->root_pid, &st) == 0) {
		proc = proc_add(r, r->root_pid, getpid(), st.comm);
		/* before exec: a uprobe filtered by this pid survives it */
		if (proc && r->opts->lock_pthread)
			attach_pthread_probes(r, proc);
		fill_state_event(&ev, r->start_ns, r->root_pid, r->root_pid, &st,
				 WEFT_TASK_BLOCKED);
		add_own_event(r, &ev, sizeof(ev));
	}
	err = launch_release(&r->child);
	if (err) {
		elog("Failed to run %s: %s", r->opts->argv[0], strerror(-err));
		reap_child(r);
	}
	return err;
}

int record_run(const struct record_opts *opts)
{
	struct recorder rec = { .opts = opts, .fd = -1 }, *r = &rec;
	struct sigaction sa = {};
	char path[PATH_MAX], err_msg[256];
	__u64 lost = 0, targets_full = 0, stack_failures = 0;
	unsigned long long wakes, execs;
	struct syms_cache *syms;
	struct weft_cpu_stat *end_stats = NULL;
	int stats_fd = -1;
	int err, i, usable = 0;

	if (!privileges__can_trace()) {
		elog("weft record needs root or CAP_BPF+CAP_PERFMON: run it with sudo");
		return 1;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		elog("this kernel has no BTF (/sys/kernel/btf/vmlinux): weft needs a kernel built "
		     "with CONFIG_DEBUG_INFO_BTF=y");
		return 1;
	}
	if (run_as_resolve(opts->user, &r->ra, err_msg, sizeof(err_msg))) {
		elog("%s", err_msg);
		return 1;
	}
	if (opts->argv) {
		err = launch_resolve_command(opts->argv[0], path, sizeof(path));
		if (err) {
			elog("%s: %s", opts->argv[0],
			     err == -ENOENT ? "command not found" : strerror(-err));
			return 127;
		}
	} else {
		for (i = 0; i < opts->npids; i++) {
			if (!procfs_pid_exists("/proc", opts->pids[i])) {
				elog("no process with PID %d", opts->pids[i]);
				return 1;
			}
			if (!procfs_pid_alive("/proc", opts->pids[i])) {
				elog("PID %d has exited (a zombie its parent has not reaped): nothing "
				     "to record",
				     opts->pids[i]);
				return 1;
			}
		}
	}

	r->ncpu = libbpf_num_possible_cpus();
	if (r->ncpu <= 0) {
		elog("Failed to count CPUs: %s", strerror(-r->ncpu));
		return 1;
	}
	libbpf_set_print(libbpf_print);
	r->stats_start = calloc(r->ncpu, sizeof(*r->stats_start));
	r->stats_now = calloc(r->ncpu, sizeof(*r->stats_now));
	r->steal_start = calloc(r->ncpu, sizeof(*r->steal_start));
	end_stats = calloc(r->ncpu, sizeof(*end_stats));
	r->maps = maps_book__new();
	r->lock_names = lock_names__new();
	r->stacks = opts->stacks ? stack_table__new() : NULL;
	r->syms = opts->stacks ? syms_cache__new() : NULL;
	r->jit = opts->stacks ? perf_map_book__new(NULL, NULL) : NULL;
	if ((opts->stacks && (!r->stacks || !r->syms || !r->jit)) || !r->stats_start ||
	    !r->stats_now || !r->steal_start || !end_stats || !r->maps || !r->lock_names) {
		err = -ENOMEM;
		goto cleanup;
	}

	sa.sa_sigaction = on_stop_signal;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = on_child_signal;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = open_output(r);
	if (!err)
		err = load_programs(r);
	if (!err && opts->argv)
		err = start_command(r, path);
	if (!err && unwinding(r))
		err = start_unwinder(r);
	if (!err && opts->stacks && opts->python) {
		r->python = python_loader__new(bpf_map__fd(r->skel->maps.py_procs),
					       bpf_map__fd(r->skel->maps.pycode));
		if (!r->python)
			err = -ENOMEM;
	}
	if (!err) {
		stats_fd = start_prog_stats();
		err = attach_programs(r);
	}
	if (err)
		goto cleanup;
	if (!opts->argv)
		r->attach_waits = attach_waits__take(opts->pids, opts->npids, opts->stacks);
	read_cpu_stats(r, r->stats_start);
	procfs_read_steal("/proc", r->steal_start, r->ncpu);

	r->start_ns = now_ns();
	usable = usable_cpus_of(opts->argv ? r->root_pid : opts->pids[0]);
	write_start_meta(r, usable);
	if (opts->argv) {
		err = release_command(r);
	} else {
		for (i = 0; i < opts->npids && !err; i++) {
			err = snapshot_process(r, opts->pids[i], r->start_ns);
			if (!err)
				err = add_target(r, opts->pids[i]);
		}
	}
	if (err)
		goto cleanup;
	r->recording = true;
	err = privileges__drop(opts->lock_pthread);
	if (err) {
		elog("Failed to drop the capabilities weft no longer needs: %s", strerror(-err));
		goto cleanup;
	}
	/* Deflating was 84% of the recorder's CPU on 64 threads switching
	 * 200,000 times a second, taken from the program on a machine it
	 * keeps busy: the writer deflates on the CPUs' idle time instead,
	 * and competes only when WRITER_BACKLOG_BYTES / 2 wait. Started after
	 * the drop, as a thread has its own capabilities; without it the
	 * drain loop deflates, as before. */
	if (weft_writer__background(r->writer, WRITER_BACKLOG_BYTES,
				    privileges__effective(CAP_SYS_NICE)))
		vlog("no background writer: deflating in the drain loop");

	err = drain_loop(r);
	r->end_ns = now_ns();
	log_switch_stats(r, stats_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	stats_fd = -1;
	if (opts->progress)
		fprintf(stderr, "\r\033[K");
	/* The last records (the final switch of the exiting command) are in
	 * the rings by now; stop the programs and take them. */
	weft_bpf__detach(r->skel);
	stack_sampler__free(r->sampler);
	r->sampler = NULL;
	if (r->write_err) {
		finish_untraced(r);
		err = r->write_err;
		goto cleanup;
	}
	ring_buffer__consume(r->rb);
	vlog("read /proc/PID/maps %llu times for %zu processes (%llu found nothing)", r->maps_reads,
	     r->nprocs, r->maps_failed);
	if (r->exec_watch) {
		exec_watch__counts(r->exec_watch, &wakes, &execs);
		vlog("execs woke the recorder %llu times (%llu messages)", wakes, execs);
	}
	/* the programs are gone: nothing reads the unwind tables any more */
	if (r->unwind) {
		log_unwind_stats(r);
		unwind_loader__free(r->unwind);
		r->unwind = NULL;
	}
	if (!read_cpu_stats(r, end_stats))
		for (i = 0; i < r->ncpu; i++) {
			lost += end_stats[i].lost - r->stats_start[i].lost;
			targets_full += end_stats[i].targets_full - r->stats_start[i].targets_full;
			stack_failures +=
				end_stats[i].stack_failures - r->stats_start[i].stack_failures;
		}
	read_maps(r, now_ns(), true);
	account_live_threads(r, r->end_ns);
	write_cpu_totals(r, r->end_ns);
	write_end_meta(r, lost, targets_full);
	/* one cache: the stacks and the lock names read the same files */
	syms = r->syms ? r->syms : syms_cache__new();
	if (r->stacks)
		write_stacks(r, stack_failures, syms);
	write_task_table(r);
	write_lock_names(r, syms);
	if (syms != r->syms)
		syms_cache__free(syms);
	if (!r->write_err)
		r->write_err = weft_writer__finish(r->writer);
	if (r->write_err) {
		elog("Failed to write %s: %s", r->path, strerror(-r->write_err));
		err = r->write_err;
		goto cleanup;
	}
	fprintf(stderr,
		"weft: recorded %llu events (%llu lost, %llu stack failures) in %.2f s, %.2f MB "
		"written to %s\n",
		weft_writer__events(r->writer), (unsigned long long)lost,
		(unsigned long long)stack_failures, (r->end_ns - r->start_ns) / 1e9,
		weft_writer__bytes(r->writer) / 1e6, r->path);
	if (lost)
		wlog("%llu events were lost: the ring buffers were full; try a larger --ring-kb",
		     (unsigned long long)lost);
	if (stack_failures)
		wlog("%llu stacks could not be taken (map full or hash collisions); try a larger "
		     "--stack-entries",
		     (unsigned long long)stack_failures);
	if (targets_full)
		wlog("%llu processes were not traced: the targets map was full",
		     (unsigned long long)targets_full);

cleanup:
	if (r->child_running) {
		/* Recording failed while the command ran: do not leave it. */
		if (r->child.go_fd > 0)
			close(r->child.go_fd);
		if (r->recording)
			signal_tree(r, SIGKILL, false);
		kill(r->root_pid, SIGKILL);
		waitpid(r->root_pid, NULL, 0);
		r->child_running = false;
		r->exit_status = 1;
	}
	if (stats_fd >= 0)
		close(stats_fd);
	free(end_stats);
	recorder_free(r);
	if (err && !r->recording && r->path[0])
		remove_output(r);
	if (err)
		return 1;
	/* --duration and a SIGTERM to weft are weft's own stop: success. The
	 * user's Ctrl-C ended the command as it would have without weft. */
	if (!opts->argv || (r->stopped_by && r->stopped_by != SIGINT))
		return 0;
	return r->exit_status;
}
