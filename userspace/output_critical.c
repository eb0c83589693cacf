// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The critical path written out (critical.h): the critical_path object of
 * weft critical's and weft report --critical's JSON, and its text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "critical.h"
#include "json.h"
#include "output.h"

/* rows the text lists of the table --by chooses (JSON lists all) */
#define CRITICAL_ROWS_SHOWN 15

static void key_s(struct json_writer *w, const char *key, __u64 ns)
{
	json_writer__seconds_field(w, key, ns / 1e9);
}

static double share(__u64 part, __u64 whole)
{
	return whole ? (double)part / whole : 0;
}

/* critical_path {wall_s, path_s, end_tid, by_thread [{tid, pid, comm, s,
 * share}], by_state {...}, queued_behind [{tid, comm, s}], by_lock [{name,
 * pid, addr, s, share, whatif_bound_s}], by_function [{name, s, share}]}
 * (DESIGN: Causality) */
void critical__write_json(const struct critical *c, struct json_writer *w, const char *verdict,
			  const char *verdict_kind)
{
	const struct critical_state_ns *st = critical__by_state(c);
	const struct critical_function *f;
	const struct critical_thread *t;
	const struct critical_cause *q;
	const struct critical_lock *l;
	__u64 path = critical__path_ns(c);
	unsigned int i, n;
	char addr[32];

	json_writer__object_begin(w);
	json_writer__seconds_field(w, "wall_s", critical__wall_s(c));
	key_s(w, "path_s", path);
	json_writer__uint_field(w, "end_tid", critical__end_tid(c));
	t = critical__by_thread(c, &n);
	json_writer__key(w, "by_thread");
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__uint_field(w, "tid", t[i].tid);
		json_writer__uint_field(w, "pid", t[i].pid);
		json_writer__string_field(w, "comm", t[i].comm);
		key_s(w, "s", t[i].ns);
		json_writer__share_field(w, "share", t[i].share);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	json_writer__key(w, "by_state");
	json_writer__object_begin(w);
	key_s(w, "running_s", st->running);
	key_s(w, "runnable_tree_s", st->runnable_tree);
	key_s(w, "runnable_others_s", st->runnable_others);
	key_s(w, "sleep_s", st->sleep);
	key_s(w, "io_s", st->io);
	key_s(w, "lock_s", st->lock);
	key_s(w, "wait_s", st->wait);
	key_s(w, "other_s", st->other);
	json_writer__object_end(w);
	q = critical__queued_behind(c, &n);
	json_writer__key(w, "queued_behind");
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__key(w, "tid");
		if (q[i].tid)
			json_writer__uint(w, q[i].tid);
		else
			json_writer__null(w);
		json_writer__string_field(w, "comm", q[i].comm);
		key_s(w, "s", q[i].ns);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	l = critical__by_lock(c, &n);
	json_writer__key(w, "by_lock");
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__string_field(w, "name", l[i].name);
		json_writer__uint_field(w, "pid", l[i].pid);
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)l[i].addr);
		json_writer__string_field(w, "addr", addr);
		key_s(w, "s", l[i].ns);
		json_writer__share_field(w, "share", l[i].share);
		/* an upper bound, named so */
		key_s(w, "whatif_bound_s", l[i].bound_ns);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	f = critical__by_function(c, &n);
	json_writer__key(w, "by_function");
	json_writer__array_begin(w);
	for (i = 0; i < n; i++) {
		json_writer__object_begin(w);
		json_writer__string_field(w, "name", f[i].name);
		key_s(w, "s", f[i].ns);
		json_writer__share_field(w, "share", f[i].share);
		json_writer__object_end(w);
	}
	json_writer__array_end(w);
	if (verdict) {
		json_writer__string_field(w, "verdict", verdict);
		json_writer__string_field(w, "verdict_kind", verdict_kind);
	}
	json_writer__object_end(w);
}

static void print_state(FILE *out, const char *name, __u64 ns, __u64 path)
{
	char d[32];

	if (!ns)
		return;
	fprintf(out, "  %-26s %12s %6.1f%%\n", name, output_fmt_duration(d, sizeof(d), ns / 1e9),
		100 * share(ns, path));
}

int critical__write_text(const struct critical *c, FILE *out, enum critical_by by,
			 const char *verdict)
{
	const struct critical_state_ns *st = critical__by_state(c);
	__u64 path = critical__path_ns(c);
	unsigned int i, n;
	char d[32], w[32], b[32], name[96];

	fprintf(out, "Critical path: %s of %s wall, ends on tid %u\n",
		output_fmt_duration(d, sizeof(d), path / 1e9),
		output_fmt_duration(w, sizeof(w), critical__wall_s(c)), critical__end_tid(c));
	if (verdict && verdict[0])
		fprintf(out, "Verdict: %s\n", verdict);
	fprintf(out, "\nBy state:\n");
	print_state(out, "running", st->running, path);
	print_state(out, "queued behind the tree", st->runnable_tree, path);
	print_state(out, "queued behind others", st->runnable_others, path);
	print_state(out, "sleep", st->sleep, path);
	print_state(out, "io", st->io, path);
	print_state(out, "lock", st->lock, path);
	print_state(out, "wait", st->wait, path);
	print_state(out, "other", st->other, path);

	if (by == CRITICAL_BY_THREAD) {
		const struct critical_thread *t = critical__by_thread(c, &n);
		const struct critical_cause *q;

		fprintf(out, "\nBy thread:\n  %8s %8s  %-16s %12s %7s\n", "tid", "pid", "comm",
			"on path", "share");
		for (i = 0; i < n && i < CRITICAL_ROWS_SHOWN; i++) {
			output_sanitize(name, sizeof(name), t[i].comm);
			fprintf(out, "  %8u %8u  %-16s %12s %6.1f%%\n", t[i].tid, t[i].pid, name,
				output_fmt_duration(d, sizeof(d), t[i].ns / 1e9), 100 * t[i].share);
		}
		if (n > CRITICAL_ROWS_SHOWN)
			fprintf(out, "  ... %u more threads\n", n - CRITICAL_ROWS_SHOWN);
		q = critical__queued_behind(c, &n);
		if (n)
			fprintf(out, "\nQueued behind:\n");
		for (i = 0; i < n && i < CRITICAL_ROWS_SHOWN; i++) {
			char who[64];

			output_sanitize(name, sizeof(name), q[i].comm);
			if (q[i].tid)
				snprintf(who, sizeof(who), "%.16s (tid %u)", name, q[i].tid);
			else
				snprintf(who, sizeof(who), "(other tasks)");
			fprintf(out, "  %-26s %12s\n", who,
				output_fmt_duration(d, sizeof(d), q[i].ns / 1e9));
		}
	} else if (by == CRITICAL_BY_LOCK) {
		const struct critical_lock *l = critical__by_lock(c, &n);

		fprintf(out, "\nBy lock (the path inside critical sections others waited for):\n");
		if (!n)
			fprintf(out, "  (no lock on the path)\n");
		else
			fprintf(out, "  %-32s %12s %7s %16s\n", "lock", "on path", "share",
				"what-if bound");
		for (i = 0; i < n && i < CRITICAL_ROWS_SHOWN; i++) {
			output_sanitize(name, sizeof(name), l[i].name);
			fprintf(out, "  %-32s %12s %6.1f%% %16s\n", name,
				output_fmt_duration(d, sizeof(d), l[i].ns / 1e9), 100 * l[i].share,
				output_fmt_duration(b, sizeof(b), l[i].bound_ns / 1e9));
		}
		if (n)
			fprintf(out,
				"  what-if bound: the path's time in waits on the lock, the most "
				"the wall could gain\n  if it were never contended (an upper "
				"bound, not a prediction)\n");
	} else {
		const struct critical_function *f = critical__by_function(c, &n);

		fprintf(out, "\nBy function (on-CPU: leaf of the samples; blocked: leaf user "
			     "frame):\n");
		for (i = 0; i < n && i < CRITICAL_ROWS_SHOWN; i++) {
			output_sanitize(name, sizeof(name), f[i].name);
			fprintf(out, "  %-40s %12s %6.1f%%\n", name,
				output_fmt_duration(d, sizeof(d), f[i].ns / 1e9), 100 * f[i].share);
		}
		if (n > CRITICAL_ROWS_SHOWN)
			fprintf(out, "  ... %u more\n", n - CRITICAL_ROWS_SHOWN);
	}
	return ferror(out) ? -EIO : 0;
}
