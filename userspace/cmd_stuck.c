// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* weft stuck: why is it hung. A snapshot of the processes' threads that
 * stops nothing (snapshot.c), their wait-for graph and its cycles
 * (stuck_graph.c), said in text or JSON. Exit 3 when a deadlock is found. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "json.h"
#include "log.h"
#include "snapshot.h"
#include "stuck_graph.h"
#include "waits.h"

#define STUCK_MAX_PIDS 64
#define TEXT_FRAMES 16 /* of each stack in a deadlock, in text */

struct stuck_cli {
	pid_t pids[STUCK_MAX_PIDS];
	int npids;
	bool json;
};

static const char stuck_doc[] =
	"Say why running processes are hung, without stopping them: each thread's state, the "
	"system call it blocks in, what it waits on (a lock and the thread that holds it, a pipe "
	"or unix socket and the processes at its other end, a child, a thread it joins), its "
	"user and kernel stacks; then the cycles of who waits for whom. Processes at the other "
	"end of a pipe or socket and children waited for are looked at too. Needs root."
	"\v"
	"Exit status: 0 no deadlock, 3 a deadlock was found, 1 runtime error (no such process, a "
	"kernel thread, not root), 2 usage error.\n\n"
	"Examples:\n"
	"  sudo weft stuck -p 1234                 # why is 1234 hung?\n"
	"  sudo weft stuck -p 1234,1240 --format json";

static const struct argp_option stuck_options[] = {
	{ "pid", 'p', "PID[,PID...]", 0, "The processes to look at (required)", 0 },
	{ "format", 'f', "FMT", 0, "text (default) or json", 0 },
	{},
};

static error_t stuck_parse_arg(int key, char *arg, struct argp_state *state)
{
	struct stuck_cli *o = state->input;
	char *p = arg, *end;
	long pid;

	switch (key) {
	case 'p':
		while (*p) {
			errno = 0;
			pid = strtol(p, &end, 10);
			if (errno || end == p || pid <= 0 || pid > 0x3fffffff ||
			    (*end && *end != ','))
				argp_failure(state, 2, 0, "-p wants PID[,PID...], not '%s'", arg);
			if (o->npids == STUCK_MAX_PIDS)
				argp_failure(state, 2, 0, "-p takes at most %d PIDs",
					     STUCK_MAX_PIDS);
			o->pids[o->npids++] = (pid_t)pid;
			p = *end ? end + 1 : end;
		}
		break;
	case 'f':
		o->json = cmd_arg_choice(state, "--format", arg,
					 (const char *const[]){ "text", "json", NULL }) == 1;
		break;
	case ARGP_KEY_ARG:
		argp_failure(state, 2, 0, "unexpected argument '%s': give the processes with -p",
			     arg);
		break;
	case ARGP_KEY_END:
		if (!o->npids)
			argp_failure(state, 2, 0, "no process to look at: give -p PID[,PID...]");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* --- the graph --- */

struct stuck_view {
	struct snapshot snap;
	struct stuck_node *nodes;
	pid_t **wakers;
	struct stuck_result res;
	size_t nblocked;
};

static bool is_blocked(const struct snap_thread *t)
{
	return t->state != 'R' && t->state != 'Z' && t->state != 'X';
}

/* Who can end each thread's wait (stuck_graph.h): the lock's owner, the
 * joined thread, the threads of the processes at a pipe's other end or of
 * the children; a wait with none of those is open. */
static int build_graph(struct stuck_view *v)
{
	struct snapshot *s = &v->snap;
	size_t i, j;
	int k;

	v->nodes = calloc(s->nthreads ? s->nthreads : 1, sizeof(*v->nodes));
	v->wakers = calloc(s->nthreads ? s->nthreads : 1, sizeof(*v->wakers));
	if (!v->nodes || !v->wakers)
		return -ENOMEM;
	for (i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		struct stuck_node *n = &v->nodes[i];

		n->tid = t->tid;
		n->blocked = is_blocked(t);
		v->nblocked += n->blocked;
		switch (t->wait.kind) {
		case SNAP_WAIT_LOCK:
		case SNAP_WAIT_JOIN:
			if (!t->wait.owner_tid)
				break;
			v->wakers[i] = malloc(sizeof(pid_t));
			if (!v->wakers[i])
				return -ENOMEM;
			v->wakers[i][n->nwakers++] = t->wait.owner_tid;
			break;
		case SNAP_WAIT_PIPE:
		case SNAP_WAIT_SOCKET:
		case SNAP_WAIT_CHILD:
			/* every thread of the peers, but the waiter itself; a
			 * peer not in the snapshot is named by its pid, which is
			 * no node: it may act */
			v->wakers[i] = malloc((s->nthreads + SNAPSHOT_MAX_PEERS) * sizeof(pid_t));
			if (!v->wakers[i])
				return -ENOMEM;
			for (k = 0; k < t->wait.npeers; k++) {
				bool any = false;

				for (j = 0; j < s->nthreads; j++)
					if (s->threads[j].pid == t->wait.peers[k]) {
						any = true;
						if (j != i)
							v->wakers[i][n->nwakers++] =
								s->threads[j].tid;
					}
				if (!any)
					v->wakers[i][n->nwakers++] = t->wait.peers[k];
			}
			break;
		default:
			break;
		}
		n->wakers = v->wakers[i];
	}
	return stuck_graph__find(v->nodes, s->nthreads, &v->res);
}

static void stuck_view__free(struct stuck_view *v)
{
	size_t i;

	for (i = 0; v->wakers && i < v->snap.nthreads; i++)
		free(v->wakers[i]);
	free(v->wakers);
	free(v->nodes);
	stuck_result__free(&v->res);
	snapshot__free(&v->snap);
}

static const char *proc_comm(const struct snapshot *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return s->procs[i].comm;
	return "?";
}

static const char *syscall_name(const struct snap_thread *t)
{
	const char *name = t->syscall >= 0 ? weft_syscall_name((int)t->syscall) : NULL;

	return name;
}

/* --- text --- */

/* "payer (tid 812)" the first time a thread is named in a line, "payer"
 * after */
static void say_thread(FILE *out, const struct snap_thread *t, pid_t *named, int *nnamed)
{
	int k;

	for (k = 0; k < *nnamed; k++)
		if (named[k] == t->tid) {
			fprintf(out, "%s", t->comm);
			return;
		}
	named[(*nnamed)++] = t->tid;
	fprintf(out, "%s (tid %d)", t->comm, t->tid);
}

/* What t waits for, up to the thread `next` that can end it (NULL: say
 * what it waits on, whoever may end it) */
static void say_wait(FILE *out, const struct snapshot *s, const struct snap_thread *t,
		     const struct snap_thread *next, pid_t *named, int *nnamed)
{
	const struct snap_wait *w = &t->wait;
	const char *name = w->name[0] ? w->name : NULL;
	char addr[32];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)w->addr);
	switch (w->kind) {
	case SNAP_WAIT_LOCK:
		fprintf(out, "waits for %s", name ? name : addr);
		if (next) {
			fprintf(out, " held by ");
			say_thread(out, next, named, nnamed);
		} else if (w->owner_tid) {
			const struct snap_thread *o = snapshot__thread(s, w->owner_tid);

			fprintf(out, " held by ");
			if (o) {
				say_thread(out, o, named, nnamed);
				fprintf(out, " (%s)",
					o->wait.kind == SNAP_WAIT_NONE ?
						"running" :
					o->wait.kind == SNAP_WAIT_SLEEP ?
						"asleep" :
						snap_wait_kind__name(o->wait.kind));
			} else {
				fprintf(out, "tid %d", w->owner_tid);
			}
		} else {
			fprintf(out, " (its owner could not be read)");
		}
		break;
	case SNAP_WAIT_JOIN:
		fprintf(out, "joins ");
		if (next || snapshot__thread(s, w->owner_tid))
			say_thread(out, next ? next : snapshot__thread(s, w->owner_tid), named,
				   nnamed);
		else
			fprintf(out, "tid %d", w->owner_tid);
		break;
	case SNAP_WAIT_COND:
		fprintf(out,
			"waits on %s (a condition variable or other futex wait: no owner to "
			"read)",
			name ? name : addr);
		break;
	case SNAP_WAIT_PIPE:
	case SNAP_WAIT_SOCKET:
		if (w->kind == SNAP_WAIT_SOCKET && !w->npeers) {
			fprintf(out, "waits on %s (no local peer found)", w->name);
			break;
		}
		fprintf(out, "%s %s", t->syscall == 1 || t->syscall == 20 ? "writes" : "reads",
			w->name);
		if (next) {
			fprintf(out, ", whose other end %s (pid %d) holds", proc_comm(s, next->pid),
				next->pid);
		} else if (w->npeers) {
			int k;

			fprintf(out, ", whose other end");
			for (k = 0; k < w->npeers; k++)
				fprintf(out, "%s %s (pid %d)", k ? "," : "",
					proc_comm(s, w->peers[k]), w->peers[k]);
			fprintf(out, " hold%s", w->npeers > 1 ? "" : "s");
		}
		break;
	case SNAP_WAIT_CHILD:
		fprintf(out, "waits for its child");
		if (next)
			fprintf(out, " %s (pid %d)", proc_comm(s, next->pid), next->pid);
		break;
	case SNAP_WAIT_NONE:
		fprintf(out, "is running");
		break;
	default: {
		const char *sc = syscall_name(t);

		static const char *const verbs[] = {
			[SNAP_WAIT_SOCKET] = "waits on a socket", [SNAP_WAIT_SLEEP] = "sleeps",
			[SNAP_WAIT_POLL] = "waits for events",	  [SNAP_WAIT_IO] = "waits for I/O",
			[SNAP_WAIT_OTHER] = "is blocked",
		};

		fprintf(out, "%s",
			(unsigned int)w->kind < sizeof(verbs) / sizeof(verbs[0]) && verbs[w->kind] ?
				verbs[w->kind] :
				"is blocked");
		if (sc)
			fprintf(out, " in %s", sc);
		else if (t->syscall >= 0)
			fprintf(out, " in system call %ld", t->syscall);
		if (w->name[0])
			fprintf(out, " on %s", w->name);
		break;
	}
	}
}

static void print_stacks(FILE *out, const struct snap_thread *t)
{
	int k;

	fprintf(out, "  %s (tid %d):\n", t->comm, t->tid);
	for (k = 0; k < t->nustack && k < TEXT_FRAMES; k++)
		fprintf(out, "    %s\n", t->ustack_names[k] ? t->ustack_names[k] : "[unknown]");
	if (t->nustack > TEXT_FRAMES)
		fprintf(out, "    ... %d more\n", t->nustack - TEXT_FRAMES);
	else if (t->nustack && !t->ustack_whole)
		fprintf(out, "    [the unwinder stopped here]\n");
	if (t->nkstack) {
		fprintf(out, "    kernel:");
		for (k = 0; k < t->nkstack && k < 6; k++)
			fprintf(out, " %s", t->kstack[k]);
		fprintf(out, "\n");
	}
}

/* What a thread waits on and its stack, as text: threads with the same
 * name, wait and stack are said once (200 workers idle on one queue) */
static char *thread_key(const struct snapshot *s, const struct snap_thread *t)
{
	pid_t named[64] = { t->tid };
	int nnamed = 1, k;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	say_wait(f, s, t, NULL, named, &nnamed);
	fputc('\n', f);
	for (k = 0; k < t->nustack; k++)
		fprintf(f, "%s;", t->ustack_names[k] ? t->ustack_names[k] : "?");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void print_groups(FILE *out, const struct snapshot *s)
{
	char **keys = calloc(s->nthreads ? s->nthreads : 1, sizeof(char *));
	bool *done = calloc(s->nthreads ? s->nthreads : 1, sizeof(bool));
	size_t i, j, n;
	int shown;

	if (!keys || !done)
		goto out;
	for (i = 0; i < s->nthreads; i++)
		keys[i] = thread_key(s, &s->threads[i]);
	for (i = 0; i < s->nthreads; i++) {
		const struct snap_thread *t = &s->threads[i];
		const char *nl;

		if (done[i] || !keys[i])
			continue;
		for (n = 0, j = i; j < s->nthreads; j++)
			if (keys[j] && !strcmp(t->comm, s->threads[j].comm) &&
			    !strcmp(keys[i], keys[j]))
				n++;
		nl = strchr(keys[i], '\n');
		if (n == 1) {
			fprintf(out, "  %s (tid %d) %.*s\n", t->comm, t->tid, (int)(nl - keys[i]),
				keys[i]);
			done[i] = true;
			continue;
		}
		fprintf(out, "  %s, %zu threads (tids", t->comm, n);
		for (shown = 0, j = i; j < s->nthreads; j++) {
			if (!keys[j] || strcmp(t->comm, s->threads[j].comm) ||
			    strcmp(keys[i], keys[j]))
				continue;
			done[j] = true;
			if (shown++ < 4)
				fprintf(out, "%s %d", shown > 1 ? "," : "", s->threads[j].tid);
		}
		fprintf(out, "%s), each %.*s\n", shown > 4 ? ", ..." : "", (int)(nl - keys[i]),
			keys[i]);
	}
	fprintf(out, "\nstacks:\n");
	memset(done, 0, s->nthreads * sizeof(bool));
	for (i = 0; i < s->nthreads; i++) {
		if (done[i])
			continue;
		print_stacks(out, &s->threads[i]);
		for (n = 0, j = i + 1; keys[i] && j < s->nthreads; j++)
			if (keys[j] && !strcmp(s->threads[i].comm, s->threads[j].comm) &&
			    !strcmp(keys[i], keys[j])) {
				done[j] = true;
				n++;
			}
		if (n)
			fprintf(out, "    (and %zu more thread%s of that name, wait and stack)\n",
				n, n > 1 ? "s" : "");
	}
out:
	for (i = 0; keys && i < s->nthreads; i++)
		free(keys[i]);
	free(keys);
	free(done);
}

static void print_text(FILE *out, const struct stuck_view *v)
{
	const struct snapshot *s = &v->snap;
	pid_t named[64];
	int nnamed;
	size_t i, c, k, behind = 0;

	fprintf(out, "weft stuck: %zu threads in %zu process%s (", s->nthreads, s->nprocs,
		s->nprocs > 1 ? "es" : "");
	for (i = 0; i < s->nprocs; i++)
		fprintf(out, "%s%s %d%s", i ? ", " : "", s->procs[i].comm, s->procs[i].pid,
			s->procs[i].peer ? " (its peer)" : "");
	fprintf(out, "), %zu blocked; snapshot in %.1f ms%s\n", v->nblocked, s->took_s * 1e3,
		s->bpf_regs ? "" : " (registers from /proc: stacks may stop at glibc)");
	for (c = 0; c < v->res.ncycles; c++) {
		const struct stuck_cycle *cy = &v->res.cycles[c];

		nnamed = 0;
		fprintf(out, "\ndeadlock: ");
		for (k = 0; k < cy->n; k++) {
			const struct snap_thread *t = &s->threads[cy->nodes[k]];
			const struct snap_thread *next = &s->threads[cy->nodes[(k + 1) % cy->n]];

			if (k)
				fprintf(out, "; ");
			say_thread(out, t, named, &nnamed);
			fprintf(out, " ");
			say_wait(out, s, t, next, named, &nnamed);
		}
		fprintf(out, "\n");
		for (k = 0; k < cy->n; k++)
			print_stacks(out, &s->threads[cy->nodes[k]]);
	}
	for (i = 0; i < s->nthreads; i++) {
		bool in_cycle = false;

		for (c = 0; c < v->res.ncycles; c++)
			for (k = 0; k < v->res.cycles[c].n; k++)
				in_cycle |= v->res.cycles[c].nodes[k] == i;
		if (!v->res.stuck[i] || in_cycle)
			continue;
		if (!behind++)
			fprintf(out, "\nstuck behind it:\n");
		nnamed = 0;
		fprintf(out, "  ");
		say_thread(out, &s->threads[i], named, &nnamed);
		fprintf(out, " ");
		say_wait(out, s, &s->threads[i], NULL, named, &nnamed);
		fprintf(out, "\n");
	}
	if (!v->res.ncycles) {
		if (s->nthreads && v->nblocked == s->nthreads)
			fprintf(out,
				"\nno deadlock: all %zu threads are blocked, but in no cycle "
				"(a lost wakeup, or an idle server?):\n",
				s->nthreads);
		else
			fprintf(out, "\nno deadlock: %zu of %zu threads are blocked, in no cycle\n",
				v->nblocked, s->nthreads);
		print_groups(out, s);
	}
}

/* --- JSON --- */

static void json_thread(struct json_writer *w, const struct snap_thread *t, bool stuck)
{
	char state[2] = { t->state, 0 };
	const char *sc = syscall_name(t);
	int k;

	json_writer__object_begin(w);
	json_writer__int_field(w, "tid", t->tid);
	json_writer__int_field(w, "pid", t->pid);
	json_writer__string_field(w, "comm", t->comm);
	json_writer__string_field(w, "state", state);
	if (t->syscall < 0)
		json_writer__null_field(w, "syscall");
	else if (sc)
		json_writer__string_field(w, "syscall", sc);
	else
		json_writer__int_field(w, "syscall", t->syscall);
	json_writer__bool_field(w, "stuck", stuck);
	json_writer__key(w, "waits_on");
	if (t->wait.kind == SNAP_WAIT_NONE) {
		json_writer__null(w);
	} else {
		json_writer__object_begin(w);
		json_writer__string_field(w, "kind", snap_wait_kind__name(t->wait.kind));
		if (t->wait.addr)
			json_writer__uint_field(w, "addr", t->wait.addr);
		else
			json_writer__null_field(w, "addr");
		if (t->wait.name[0])
			json_writer__string_field(w, "name", t->wait.name);
		else
			json_writer__null_field(w, "name");
		if (t->wait.owner_tid)
			json_writer__int_field(w, "owner_tid", t->wait.owner_tid);
		else
			json_writer__null_field(w, "owner_tid");
		if (t->wait.kind == SNAP_WAIT_PIPE || t->wait.kind == SNAP_WAIT_SOCKET ||
		    t->wait.kind == SNAP_WAIT_CHILD) {
			json_writer__key(w, "peer_pids");
			json_writer__array_begin_flat(w);
			for (k = 0; k < t->wait.npeers; k++)
				json_writer__int(w, t->wait.peers[k]);
			json_writer__array_end(w);
		}
		json_writer__object_end(w);
	}
	json_writer__key(w, "stack");
	json_writer__array_begin(w);
	for (k = 0; k < t->nustack; k++)
		json_writer__string(w, t->ustack_names[k] ? t->ustack_names[k] : "[unknown]");
	json_writer__array_end(w);
	json_writer__bool_field(w, "stack_whole", t->ustack_whole);
	json_writer__key(w, "kernel_stack");
	json_writer__array_begin(w);
	for (k = 0; k < t->nkstack; k++)
		json_writer__string(w, t->kstack[k]);
	json_writer__array_end(w);
	json_writer__uint_field(w, "voluntary", t->nvcsw);
	json_writer__object_end(w);
}

static int print_json(FILE *out, const struct stuck_view *v)
{
	const struct snapshot *s = &v->snap;
	struct json_writer *w = json_writer__new(out, JSON_WRITER_PRETTY);
	size_t i, c, k, j;
	int err;

	if (!w)
		return -errno;
	json_writer__object_begin(w);
	json_writer__key(w, "processes");
	json_writer__array_begin(w);
	for (i = 0; i < s->nprocs; i++) {
		json_writer__object_begin(w);
		json_writer__int_field(w, "pid", s->procs[i].pid);
		json_writer__string_field(w, "comm", s->procs[i].comm);
		json_writer__bool_field(w, "peer", s->procs[i].peer);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__key(w, "threads");
	json_writer__array_begin(w);
	for (i = 0; i < s->nthreads; i++)
		json_thread(w, &s->threads[i], v->res.stuck[i]);
	json_writer__array_end(w);
	json_writer__key(w, "deadlocks");
	json_writer__array_begin(w);
	for (c = 0; c < v->res.ncycles; c++) {
		const struct stuck_cycle *cy = &v->res.cycles[c];

		json_writer__object_begin(w);
		json_writer__key(w, "threads");
		json_writer__array_begin(w);
		for (k = 0; k < cy->n; k++) {
			const struct snap_thread *t = &s->threads[cy->nodes[k]];

			json_writer__object_begin(w);
			json_writer__int_field(w, "tid", t->tid);
			json_writer__int_field(w, "pid", t->pid);
			json_writer__string_field(w, "comm", t->comm);
			json_writer__object_end(w);
		}
		json_writer__array_end(w);
		/* what each waits on, in the cycle's order: a lock's name, a
		 * pipe, a child */
		json_writer__key(w, "locks");
		json_writer__array_begin(w);
		for (k = 0; k < cy->n; k++) {
			const struct snap_thread *t = &s->threads[cy->nodes[k]];
			char addr[32];

			snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t->wait.addr);
			if (t->wait.name[0])
				json_writer__string(w, t->wait.name);
			else if (t->wait.addr)
				json_writer__string(w, addr);
			else
				json_writer__string(w, snap_wait_kind__name(t->wait.kind));
		}
		json_writer__array_end(w);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	j = 0;
	for (i = 0; i < s->nthreads; i++)
		j += v->res.stuck[i];
	json_writer__uint_field(w, "blocked", v->nblocked);
	json_writer__uint_field(w, "stuck", j);
	json_writer__bool_field(w, "registers_from_bpf", s->bpf_regs);
	json_writer__seconds_field(w, "snapshot_s", s->took_s);
	json_writer__object_end(w);
	err = json_writer__finish(w);
	json_writer__free(w);
	return err;
}

int cmd_stuck(int argc, char **argv)
{
	struct stuck_cli o = {};
	struct argp argp = { .options = stuck_options,
			     .parser = stuck_parse_arg,
			     .args_doc = "-p PID[,PID...]",
			     .doc = stuck_doc };
	struct stuck_view v = {};
	struct snapshot_opts sopts = {};
	char msg[256];
	int err;

	argp_parse(&argp, argc, argv, 0, NULL, &o);
	if (geteuid() != 0) {
		elog("weft stuck needs root (it reads other processes' registers, memory and kernel "
		     "stacks): run it with sudo");
		return WEFT_EXIT_ERROR;
	}
	/* WEFT_STUCK_BPF=0: registers from /proc only, to compare the two
	 * routes (snapshot.h) */
	sopts.no_bpf = getenv("WEFT_STUCK_BPF") && !strcmp(getenv("WEFT_STUCK_BPF"), "0");
	err = snapshot__take(o.pids, o.npids, &sopts, &v.snap, msg, sizeof(msg));
	if (err) {
		elog("%s", msg);
		return WEFT_EXIT_ERROR;
	}
	err = build_graph(&v);
	if (err) {
		elog("Failed to build the wait-for graph: %s", strerror(-err));
		stuck_view__free(&v);
		return WEFT_EXIT_ERROR;
	}
	if (o.json) {
		err = print_json(stdout, &v);
	} else {
		print_text(stdout, &v);
		err = fflush(stdout) ? -errno : 0;
	}
	if (err) {
		elog("Failed to write the report: %s", strerror(-err));
		stuck_view__free(&v);
		return WEFT_EXIT_ERROR;
	}
	err = v.res.ncycles ? WEFT_EXIT_DEADLOCK : WEFT_EXIT_OK;
	stuck_view__free(&v);
	return err;
}
