// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the recorder writes beside the records it drains: the state of
 * attached threads, the kernel's accounting at the end, per-CPU totals,
 * the run's metadata, the named stacks and the task table. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "maps_book.h"
#include "perf_map.h"
#include "procfs.h"
#include "attach_waits.h"
#include "record_int.h"
#include "recording_meta.h"
#include "stacks.h"
#include "python_loader.h"
#include "symbols.h"
#include "weft.skel.h"

int read_cpu_stats(struct recorder *r, struct weft_cpu_stat *out)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.cpu_stats), &zero, out))
		return -errno;
	return 0;
}

__u64 lost_so_far(struct recorder *r)
{
	__u64 lost = 0;
	int i;

	if (!read_cpu_stats(r, r->stats_now))
		for (i = 0; i < r->ncpu; i++)
			lost += r->stats_now[i].lost - r->stats_start[i].lost;
	return lost;
}

void fill_state_event(struct weft_ev_task_state *ev, __u64 ts, pid_t tgid, pid_t tid,
		      const struct proc_thread_stat *st, __u32 state)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.ts_ns = ts;
	ev->hdr.type = WEFT_EV_TASK_STATE;
	ev->hdr.cpu = st->processor >= 0 ? st->processor : 0;
	ev->hdr.flags = WEFT_STATE_ATTACH;
	ev->tid = tid;
	ev->tgid = tgid;
	ev->ppid = st->ppid;
	ev->state = state;
	ev->sum_exec_ns = st->sum_exec_ns;
	ev->run_delay_ns = st->run_delay_ns;
	ev->nvcsw = st->nvcsw;
	ev->nivcsw = st->nivcsw;
	memcpy(ev->comm, st->comm, sizeof(ev->comm));
}

/* The state of every thread of an attached process, just before it joins
 * the traced tree, so that a thread that never switches while weft
 * watches still counts. /proc tells runnable from blocked but not running
 * from queued: a runnable thread is taken as running on the CPU it last
 * ran on, which its next switch corrects. */
int snapshot_process(struct recorder *r, pid_t tgid, __u64 ts)
{
	struct weft_ev_task_state ev;
	struct proc_thread_stat st;
	pid_t *tids;
	int n, i, pass, err = 0;

	tids = calloc(MAX_THREADS_PER_PROC, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	n = procfs_list_threads("/proc", tgid, tids, MAX_THREADS_PER_PROC);
	if (n < 0) {
		err = n;
		goto cleanup;
	}
	/* Waits that began before the recording (attach_waits.h); the
	 * threads that wait come second, so that the owners they name are
	 * known threads by then. */
	for (pass = 0; pass < 2 && !err; pass++)
		for (i = 0; i < n && i < MAX_THREADS_PER_PROC; i++) {
			if (procfs_read_thread("/proc", tgid, tids[i], &st))
				continue;
			fill_state_event(&ev, ts, tgid, tids[i], &st,
					 st.state == 'R' ? WEFT_TASK_RUNNING : WEFT_TASK_BLOCKED);
			if (attach_waits__fill(r, r->attach_waits, &ev) != (pass == 1))
				continue;
			if (tids[i] == tgid)
				proc_add(r, tgid, st.ppid, st.comm);
			err = add_own_event(r, &ev, sizeof(ev));
			if (err)
				break;
		}
cleanup:
	free(tids);
	return err;
}

/* The kernel's accounting of every thread still alive at the end: with the
 * exit records, the other side of the accounting check. */
void account_live_threads(struct recorder *r, __u64 ts)
{
	struct proc_thread_stat st;
	struct weft_ev_exit ev;
	pid_t *tids;
	size_t p;
	int n, i;

	tids = calloc(MAX_THREADS_PER_PROC, sizeof(*tids));
	if (!tids)
		return;
	for (p = 0; p < r->nprocs; p++) {
		if (r->procs[p].exited)
			continue;
		n = procfs_list_threads("/proc", r->procs[p].tgid, tids, MAX_THREADS_PER_PROC);
		for (i = 0; i < n && i < MAX_THREADS_PER_PROC; i++) {
			if (procfs_read_thread("/proc", r->procs[p].tgid, tids[i], &st))
				continue;
			/* A zombie's /proc still answers: only live ones. */
			if (st.state == 'Z' || st.state == 'X')
				continue;
			memset(&ev, 0, sizeof(ev));
			ev.hdr.ts_ns = ts;
			ev.hdr.type = WEFT_EV_TASK_ACCT;
			ev.hdr.cpu = st.processor >= 0 ? st.processor : 0;
			ev.tid = tids[i];
			ev.tgid = r->procs[p].tgid;
			ev.sum_exec_ns = st.sum_exec_ns;
			ev.run_delay_ns = st.run_delay_ns;
			ev.pcount = st.pcount;
			ev.nvcsw = st.nvcsw;
			ev.nivcsw = st.nivcsw;
			ev.maxrss_kb = st.maxrss_kb;
			memcpy(ev.comm, st.comm, sizeof(ev.comm));
			add_own_event(r, &ev, sizeof(ev));
		}
	}
	free(tids);
}

void fill_cpu_totals(const struct recorder *r, struct weft_ev_cpu_totals *ev, __u16 type, __u64 ts,
		     int cpu)
{
	const struct weft_cpu_stat *now = &r->stats_now[cpu], *start = &r->stats_start[cpu];

	memset(ev, 0, sizeof(*ev));
	ev->hdr.ts_ns = ts;
	ev->hdr.type = type;
	ev->hdr.cpu = cpu;
	ev->idle_ns = now->idle_ns - start->idle_ns;
	ev->traced_ns = now->traced_ns - start->traced_ns;
	ev->other_ns = now->other_ns - start->other_ns;
	ev->steal_ns = now->steal_ns - start->steal_ns;
	ev->lost = now->lost - start->lost;
}

void write_cpu_totals(struct recorder *r, __u64 ts)
{
	__u64 *steal_end = calloc(r->ncpu, sizeof(*steal_end));
	struct weft_ev_cpu_totals ev;
	__u64 proc_steal;
	int i;

	if (!steal_end || read_cpu_stats(r, r->stats_now))
		goto cleanup;
	procfs_read_steal("/proc", steal_end, r->ncpu);
	for (i = 0; i < r->ncpu; i++) {
		fill_cpu_totals(r, &ev, WEFT_EV_CPU_TOTALS, ts, i);
		/* Both figures can only miss steal: /proc/stat's rounds down to
		 * ticks and is folded in at the CPU's next tick, the programs'
		 * ends at its last switch. */
		proc_steal = steal_end[i] >= r->steal_start[i] ? steal_end[i] - r->steal_start[i] :
								 0;
		if (proc_steal > ev.steal_ns)
			ev.steal_ns = proc_steal;
		add_own_event(r, &ev, sizeof(ev));
	}
cleanup:
	free(steal_end);
}

void write_start_meta(struct recorder *r, int usable)
{
	const struct record_opts *o = r->opts;
	struct weft_kv *kv = weft_kv__new();
	char host[256] = "", when[64] = "", pids[RECORD_MAX_PIDS * 12] = "", key[64];
	struct utsname uts;
	time_t t = time(NULL);
	struct tm tm;
	size_t i, off = 0;
	int a;

	if (!kv)
		return;
	weft_kv__set(kv, META_VERSION, WEFT_VERSION);
	weft_kv__set(kv, META_MODE, o->argv ? "command" : "attach");
	if (o->argv) {
		weft_kv__setf(kv, META_ARGC, "%d", o->argc);
		for (a = 0; a < o->argc; a++) {
			snprintf(key, sizeof(key), META_ARGV_FMT, a);
			weft_kv__set(kv, key, o->argv[a]);
		}
	} else {
		for (a = 0; a < o->npids && off < sizeof(pids); a++)
			off += snprintf(pids + off, sizeof(pids) - off, "%s%d", a ? "," : "",
					o->pids[a]);
		weft_kv__set(kv, META_PIDS, pids);
	}
	weft_kv__setf(kv, META_START_NS, "%llu", (unsigned long long)r->start_ns);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	weft_kv__set(kv, META_START_REALTIME, when);
	gethostname(host, sizeof(host) - 1);
	weft_kv__set(kv, META_HOSTNAME, host);
	if (!uname(&uts))
		weft_kv__set(kv, META_KERNEL, uts.release);
	weft_kv__setf(kv, META_NCPU, "%d", r->ncpu);
	weft_kv__setf(kv, META_USABLE_CPUS, "%d", usable ? usable : r->ncpu);
	weft_kv__setf(kv, META_RING_KB, "%lu", ring_bytes_for(o->ring_kb) / 1024);
	/* how stacks are taken, here too for a recording killed before its
	 * end metadata */
	if (o->stacks) {
		weft_kv__setf(kv, META_STACK_ENTRIES, "%u", o->stack_entries);
		weft_kv__setf(kv, META_SAMPLE_HZ, "%u", o->sample_hz);
		weft_kv__set(kv, META_USER_UNWIND, unwinding(r) ? "tables" : "fp");
		weft_kv__setf(kv, META_STACK_EVERY, "%u", o->stack_every);
	}
	for (i = 0; o->meta && i < weft_kv__count(o->meta); i++) {
		snprintf(key, sizeof(key), META_USER_PREFIX "%s", weft_kv__key(o->meta, i));
		weft_kv__set(kv, key, weft_kv__value(o->meta, i));
	}
	if (weft_writer__add_meta(r->writer, kv) && !r->write_err)
		r->write_err = -EIO;
	weft_kv__free(kv);
}

void write_end_meta(struct recorder *r, __u64 lost, __u64 targets_full)
{
	struct weft_kv *kv = weft_kv__new();

	if (!kv)
		return;
	weft_kv__setf(kv, META_END_NS, "%llu", (unsigned long long)r->end_ns);
	weft_kv__setf(kv, META_LOST, "%llu", (unsigned long long)lost);
	weft_kv__setf(kv, META_EVENTS, "%llu", weft_writer__events(r->writer));
	weft_kv__setf(kv, META_TARGETS_FULL, "%llu", (unsigned long long)targets_full);
	if (r->opts->argv)
		weft_kv__setf(kv, META_EXIT_STATUS, "%d", r->exit_status);
	if (r->have_rusage) {
		weft_kv__setf(kv, META_RUSAGE_USER, "%.6f",
			      r->child_rusage.ru_utime.tv_sec +
				      r->child_rusage.ru_utime.tv_usec / 1e6);
		weft_kv__setf(kv, META_RUSAGE_SYS, "%.6f",
			      r->child_rusage.ru_stime.tv_sec +
				      r->child_rusage.ru_stime.tv_usec / 1e6);
		weft_kv__setf(kv, META_RUSAGE_MAXRSS, "%ld", r->child_rusage.ru_maxrss);
	}
	if (weft_writer__add_meta(r->writer, kv) && !r->write_err)
		r->write_err = -EIO;
	weft_kv__free(kv);
}

/* A process gone before its maps were read resolves through its parent's
 * when it did not exec: a fork has its parent's mappings. */
static const struct proc_maps *stack_maps_of(void *ctx, __u32 tgid)
{
	struct recorder *r = ctx;
	const struct proc_maps *m = maps_book__get(r->maps, tgid);
	struct proc_entry *p;

	if (!m && !stack_table__execed(r->stacks, tgid) && (p = proc_find(r, tgid)) && p->ppid)
		m = maps_book__get(r->maps, p->ppid);
	return m;
}

/* JIT code's names as the process wrote them for perf, else as its
 * parents did: a fork that did not exec runs code they made (CPython
 * starts a map of its own in a forked child, but the frames above the
 * fork are the parent's trampolines) */
static bool stack_jit_name(void *ctx, __u32 tgid, __u64 addr, const char **name)
{
	struct recorder *r = ctx;
	struct proc_entry *p;
	__u64 offset;
	int depth;

	for (depth = 0; depth < 16 && tgid; depth++) {
		if (perf_map__find(perf_map_book__get(r->jit, tgid), addr, name, &offset))
			return true;
		if (stack_table__execed(r->stacks, tgid) || !(p = proc_find(r, tgid)))
			return false;
		tgid = p->ppid;
	}
	return false;
}

/* The perf maps of the processes gone (opened at their exit) and still
 * alive, before the stacks are named */
static void read_perf_maps(struct recorder *r)
{
	size_t i;

	if (!r->jit)
		return;
	perf_map_book__read_held(r->jit);
	for (i = 0; i < r->nprocs; i++)
		if (!r->procs[i].exited)
			perf_map_book__read(r->jit, r->procs[i].tgid);
	if (perf_map_book__refused(r->jit))
		wlog("%zu perf maps (/tmp/perf-PID.map) left unread: a symlink, another owner "
		     "than the process's, older than the process or not a regular file",
		     perf_map_book__refused(r->jit));
	stack_table__set_jit_names(r->stacks, stack_jit_name, r);
}

/* The stacks of t, read from the kernel's maps and named now, while the
 * machine that ran the program is at hand, into one STACKS section. A
 * reader merges the sections, a later one naming a stack again wins.
 * Returns how many stacks were missing from the maps, or a negative errno. */
static int name_stacks(struct recorder *r, struct stack_table *t, struct syms_cache *syms,
		       const struct kallsyms *ks)
{
	struct bpf_map *user_map = r->skel->maps.ustacks;
	size_t len = 0;
	char *text = NULL;
	int missing;

	missing = stack_table__read_map(t, bpf_map__fd(r->skel->maps.kstacks),
					bpf_map__value_size(r->skel->maps.kstacks) / sizeof(__u64),
					STACKS_KERNEL);
	if (missing >= 0) {
		int more = stack_table__read_map(t, bpf_map__fd(user_map),
						 bpf_map__value_size(user_map) / sizeof(__u64),
						 STACKS_USER);

		missing = more < 0 ? more : missing + more;
	}
	read_perf_maps(r);
	if (syms && !stack_table__symbolize(t, stack_maps_of, r, syms, ks) &&
	    !python_loader__name(r->python, t) && !stack_table__encode(t, &text, &len) && len &&
	    weft_writer__add_section(r->writer, WEFT_SEC_STACKS, text, len) && !r->write_err)
		r->write_err = weft_writer__error(r->writer) ?: -EIO;
	free(text);
	return missing;
}

/* Every stack the records name, into the last STACKS section. */
void write_stacks(struct recorder *r, __u64 failures, struct syms_cache *syms)
{
	struct kallsyms *ks = kallsyms__load("/proc/kallsyms");
	struct weft_kv *kv = weft_kv__new();
	int missing;

	missing = name_stacks(r, r->stacks, syms, ks);
	if (missing > 0)
		wlog("%d stacks named by records were not in the stack maps", missing);
	if (!ks)
		wlog("could not read /proc/kallsyms: kernel frames stay unnamed");
	if (kv) {
		weft_kv__setf(kv, META_STACK_FAILURES, "%llu", (unsigned long long)failures);
		weft_kv__setf(kv, META_STACK_ENTRIES, "%u", r->opts->stack_entries);
		weft_kv__setf(kv, META_SAMPLE_HZ, "%u", r->opts->sample_hz);
		weft_kv__set(kv, META_USER_UNWIND, unwinding(r) ? "tables" : "fp");
		weft_kv__setf(kv, META_STACK_EVERY, "%u", r->opts->stack_every);
		weft_kv__setf(kv, META_STACK_RATE, "%u", r->opts->stack_rate);
		if (r->python)
			weft_kv__set(kv, META_PYTHON, python_loader__versions(r->python));
		if (r->opts->stack_audit)
			weft_kv__set(kv, META_STACK_AUDIT, "1");
		if (weft_writer__add_meta(r->writer, kv) && !r->write_err)
			r->write_err = -EIO;
	}
	weft_kv__free(kv);
	kallsyms__free(ks);
}

/* The task table as it grows: the processes new or changed (exec, exit)
 * since the last call, so that a killed recorder leaves it up to its last
 * flush. A later line for the same pid supersedes an earlier one. */
void write_task_table(struct recorder *r)
{
	size_t i, size = 1, off = 0;
	char *buf;

	for (i = 0; i < r->nprocs; i++)
		size += r->procs[i].task_dirty ? 48 : 0;
	if (size == 1)
		return;
	buf = malloc(size);
	if (!buf)
		return;
	for (i = 0; i < r->nprocs; i++) {
		if (!r->procs[i].task_dirty)
			continue;
		r->procs[i].task_dirty = false;
		off += snprintf(buf + off, size - off, "%u\t%u\t%d\t%s\n", r->procs[i].tgid,
				r->procs[i].ppid, r->procs[i].exited, r->procs[i].comm);
	}
	if (weft_writer__add_section(r->writer, WEFT_SEC_TASKS, buf, off) && !r->write_err)
		r->write_err = weft_writer__error(r->writer) ?: -EIO;
	free(buf);
}

/* What a recorder killed with SIGKILL keeps: everything drained up to
 * the last of these, once a second. */
void flush_recording(struct recorder *r)
{
	int err;

	write_task_table(r);
	err = weft_writer__flush(r->writer);
	if (err && !r->write_err)
		r->write_err = err;
}
