// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analysis.h"
#include "events.h"
#include "keytab.h"
#include "pb.h"
#include "pprof.h"
#include "stack_attrib.h"
#include "stacks.h"
#include "strtab.h"
#include "waits.h"

#define DEFAULT_SAMPLE_HZ 99

/* profile.proto's field numbers (github.com/google/pprof, proto/profile.proto) */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	MAPPING_ID = 1,
	MAPPING_FILENAME = 5,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
	FUNCTION_START_LINE = 5,
};

#define MAPPING_USER 1
#define MAPPING_KERNEL 2

static const char *const type_names[PPROF_NR_TYPES][2] = {
	[PPROF_SAMPLES] = { "samples", "count" },	  [PPROF_CPU] = { "cpu", "nanoseconds" },
	[PPROF_OFFCPU] = { "off_cpu", "nanoseconds" },	  [PPROF_LOCK] = { "lock", "nanoseconds" },
	[PPROF_RUNQUEUE] = { "runqueue", "nanoseconds" },
};

/* What a sample is made of, as numbers; zeroed before it is filled so
 * that its bytes compare and hash as a whole */
struct pkey {
	__u64 addr;
	__u32 kind, tid, pid, comm, leader_comm;
	__u32 taken, unsampled, tgid;
	__s32 user, kernel;
	__u32 reason;
};

struct kline {
	struct pkey key;
	__u64 weight;
};

struct pprof {
	struct pprof_opts opts;
	struct stack_attrib *attrib;
	struct strtab *names; /* the stack_attrib's */
	struct keytab lines; /* struct kline by their keys */
	bool failed, finished;
	__u32 unknown_id, unsampled_id;

	/* after finish */
	struct strtab *strings; /* the profile's string table; id 0 is "" */
	struct pb_buf samples; /* Profile.sample fields, one after another */
	__u32 *loc_of; /* frame name id -> location id (0: none yet) */
	size_t nloc_of;
	__u32 *loc_name; /* location id - 1 -> frame name id */
	size_t nlocs, caplocs;
	__u64 totals[PPROF_NR_TYPES];
	bool has_type[PPROF_NR_TYPES];
	size_t nsamples;
};

static void pprof_add(void *ctx, const struct attributed_stack *as)
{
	struct pprof *p = ctx;
	struct pkey key;
	struct kline *l;
	bool added;

	if (p->finished || p->opts.no_stacks)
		return;
	memset(&key, 0, sizeof(key));
	key.kind = as->kind;
	key.tid = as->thread.tid;
	key.pid = as->thread.pid;
	key.comm = as->thread.comm;
	key.leader_comm = as->thread.leader_comm;
	key.taken = as->stacks.taken;
	key.unsampled = as->unsampled;
	if (as->stacks.taken) {
		key.tgid = as->stacks.tgid;
		key.user = as->stacks.user;
		key.kernel = as->stacks.kernel;
	}
	if (as->kind == STACK_KIND_OFFCPU) {
		key.reason = (__u32)as->reason;
		key.addr = as->addr;
	}
	l = keytab__get(&p->lines, &key, &added);
	if (!l) {
		p->failed = true;
		return;
	}
	l->weight += as->weight;
}

struct pprof *pprof__new(const struct pprof_opts *opts, struct stack_attrib *a)
{
	struct pprof *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	if (!p)
		return NULL;
	p->opts = *opts;
	if (!p->opts.sample_hz)
		p->opts.sample_hz = DEFAULT_SAMPLE_HZ;
	p->attrib = a;
	keytab__init(&p->lines, sizeof(struct pkey), sizeof(struct kline));
	p->names = stack_attrib__names(a);
	p->strings = strtab__new();
	p->unknown_id = stack_attrib__intern(a, STACK_UNKNOWN_FRAME, NULL);
	p->unsampled_id = stack_attrib__intern(a, "[unsampled wait]", NULL);
	if (p->strings && p->unknown_id && p->unsampled_id)
		err = stack_attrib__subscribe(a, pprof_add, p);
	if (err) {
		strtab__free(p->strings);
		free(p);
		errno = -err;
		return NULL;
	}
	return p;
}

void pprof__free(struct pprof *p)
{
	if (!p)
		return;
	keytab__release(&p->lines);
	strtab__free(p->strings);
	pb__free(&p->samples);
	free(p->loc_of);
	free(p->loc_name);
	free(p);
}

/* The profile's string table index of s; 0 (the empty string) when out
 * of memory, which p->failed then says */
static __u64 str(struct pprof *p, const char *s)
{
	long id = strtab__intern(p->strings, s, strlen(s));

	if (id < 0) {
		p->failed = true;
		return 0;
	}
	return (__u64)id;
}

/* The location of frame name id, made when new; 0 when out of memory */
static __u64 location(struct pprof *p, __u32 name)
{
	if (name >= p->nloc_of) {
		/* names are ids below the table's count, which grows */
		size_t n = name + 1024, i;
		__u32 *grown = realloc(p->loc_of, n * sizeof(*grown));

		if (!grown) {
			p->failed = true;
			return 0;
		}
		for (i = p->nloc_of; i < n; i++)
			grown[i] = 0;
		p->loc_of = grown;
		p->nloc_of = n;
	}
	if (!p->loc_of[name]) {
		if (p->nlocs == p->caplocs) {
			size_t cap = p->caplocs ? p->caplocs * 2 : 1024;
			__u32 *grown = realloc(p->loc_name, cap * sizeof(*grown));

			if (!grown) {
				p->failed = true;
				return 0;
			}
			p->loc_name = grown;
			p->caplocs = cap;
		}
		p->loc_name[p->nlocs++] = name;
		p->loc_of[name] = (__u32)p->nlocs;
	}
	return p->loc_of[name];
}

struct u64_buf {
	__u64 *v;
	size_t n, cap;
	bool failed;
};

static void put_u64(struct u64_buf *b, __u64 v)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		__u64 *grown = realloc(b->v, cap * sizeof(*grown));

		if (!grown) {
			b->failed = true;
			return;
		}
		b->v = grown;
		b->cap = cap;
	}
	b->v[b->n++] = v;
}

/* The root frame --by asks for, as weft flame names it */
static __u32 root_name(struct pprof *p, const struct pkey *k)
{
	__u32 name = k->leader_comm ? k->leader_comm : k->comm;
	const char *comm;
	char text[64];

	if (p->opts.by == FLAME_BY_NONE)
		return 0;
	if (p->opts.by == FLAME_BY_THREAD)
		name = k->comm;
	comm = name ? strtab__str(p->names, name) : STACK_UNKNOWN_FRAME;
	if (p->opts.by == FLAME_BY_PROCESS)
		snprintf(text, sizeof(text), "%s", comm);
	else
		snprintf(text, sizeof(text), "%s-%u", comm,
			 p->opts.by == FLAME_BY_THREAD ? k->tid : k->pid);
	return stack_attrib__intern_root(p->attrib, text);
}

/* A sample's locations, leaf first: kernel frames, user frames, root */
static void sample_locations(struct pprof *p, const struct pkey *k, struct u64_buf *locs)
{
	const __u32 *u = NULL, *kf = NULL;
	unsigned int nu = 0, nk = 0, i;
	__u32 root;

	if (k->taken) {
		if (stack_attrib__frames(p->attrib, false, 0, k->kernel, &kf, &nk) ||
		    stack_attrib__frames(p->attrib, true, k->tgid, k->user, &u, &nu))
			p->failed = true;
	}
	for (i = 0; i < nk; i++)
		put_u64(locs, location(p, kf[i]));
	for (i = 0; i < nu; i++)
		put_u64(locs, location(p, u[i]));
	if (!nk && !nu)
		put_u64(locs, location(p, k->unsampled ? p->unsampled_id : p->unknown_id));
	root = root_name(p, k);
	if (root)
		put_u64(locs, location(p, root));
}

static void label_num(struct pprof *p, struct pb_buf *s, struct pb_buf *tmp, const char *key,
		      __u64 num)
{
	pb__reset(tmp);
	pb__uint(tmp, LABEL_KEY, str(p, key));
	pb__uint(tmp, LABEL_NUM, num);
	pb__message(s, SAMPLE_LABEL, tmp);
}

static void label_str(struct pprof *p, struct pb_buf *s, struct pb_buf *tmp, const char *key,
		      const char *v)
{
	pb__reset(tmp);
	pb__uint(tmp, LABEL_KEY, str(p, key));
	pb__uint(tmp, LABEL_STR, str(p, v));
	pb__message(s, SAMPLE_LABEL, tmp);
}

static void encode_sample(struct pprof *p, const struct kline *l, const struct weft_metrics *m,
			  struct pb_buf *s, struct pb_buf *tmp, struct u64_buf *locs)
{
	const struct pkey *k = &l->key;
	__u64 v[PPROF_NR_TYPES] = {}, packed[PPROF_NR_TYPES];
	const struct weft_lock_metrics *lm = NULL;
	unsigned int t, nv = 0;
	char lock[96];

	if (k->kind == STACK_KIND_ONCPU) {
		v[PPROF_SAMPLES] = l->weight;
		v[PPROF_CPU] = l->weight * (1000000000ULL / p->opts.sample_hz);
	} else {
		v[PPROF_OFFCPU] = l->weight;
		lm = weft_metrics__lock_of(m, k->pid, k->addr);
		if (lm)
			v[PPROF_LOCK] = l->weight;
		if (k->reason == WEFT_WAIT_RUNQUEUE)
			v[PPROF_RUNQUEUE] = l->weight;
	}
	for (t = 0; t < PPROF_NR_TYPES; t++) {
		if (!p->has_type[t])
			continue;
		packed[nv++] = v[t];
		p->totals[t] += v[t];
	}
	locs->n = 0;
	sample_locations(p, k, locs);
	if (locs->failed) {
		p->failed = true;
		return;
	}
	pb__reset(s);
	pb__packed(s, SAMPLE_LOCATION_ID, locs->v, locs->n);
	pb__packed(s, SAMPLE_VALUE, packed, nv);
	label_num(p, s, tmp, "pid", k->pid);
	label_num(p, s, tmp, "tid", k->tid);
	label_str(p, s, tmp, "comm",
		  k->comm ? strtab__str(p->names, k->comm) : STACK_UNKNOWN_FRAME);
	if (k->kind == STACK_KIND_OFFCPU)
		label_str(p, s, tmp, "reason", weft_wait_reason__name(k->reason));
	if (lm) {
		weft_lock_metrics__label(lm, lock, sizeof(lock));
		label_str(p, s, tmp, "lock", lock);
	}
	pb__message(&p->samples, PROFILE_SAMPLE, s);
	p->nsamples++;
}

int pprof__finish(struct pprof *p, const struct weft_metrics *m)
{
	struct pb_buf s = {}, tmp = {};
	struct u64_buf locs = {};
	size_t i;
	int err;

	if (p->finished)
		return 0;
	err = stack_attrib__finish(p->attrib);
	p->finished = true;
	if (err || p->failed)
		return -ENOMEM;
	/* string_table[0] must be "" */
	if (strtab__intern(p->strings, "", 0) != 0)
		return -ENOMEM;
	p->has_type[PPROF_SAMPLES] = p->has_type[PPROF_CPU] = true;
	p->has_type[PPROF_OFFCPU] = p->has_type[PPROF_LOCK] = true;
	for (i = 0; i < p->lines.n; i++) {
		const struct kline *l = keytab__at(&p->lines, i);

		if (l->key.kind == STACK_KIND_OFFCPU && l->key.reason == WEFT_WAIT_RUNQUEUE)
			p->has_type[PPROF_RUNQUEUE] = true;
	}
	for (i = 0; i < p->lines.n && !p->failed; i++) {
		const struct kline *l = keytab__at(&p->lines, i);

		if (l->weight)
			encode_sample(p, l, m, &s, &tmp, &locs);
	}
	pb__free(&s);
	pb__free(&tmp);
	free(locs.v);
	keytab__release(&p->lines);
	return p->failed || p->samples.failed ? -ENOMEM : 0;
}

__u64 pprof__total(const struct pprof *p, enum pprof_type t)
{
	return p->totals[t];
}

bool pprof__has_type(const struct pprof *p, enum pprof_type t)
{
	return p->has_type[t];
}

size_t pprof__samples(const struct pprof *p)
{
	return p->nsamples;
}

/* An interpreter frame, "name (file.py:LINE)" as stack_attrib spells
 * it: its name's length, file and line; false for any other frame */
static bool interpreter_frame(const char *f, size_t *name_len, char *file, size_t file_size,
			      long *line)
{
	const char *open = strstr(f, " ("), *colon;
	size_t len = strlen(f), flen;
	char *end;

	if (!open || len < 5 || f[len - 1] != ')')
		return false;
	while (strstr(open + 1, " ("))
		open = strstr(open + 1, " (");
	colon = strrchr(open, ':');
	if (!colon || colon[1] < '0' || colon[1] > '9')
		return false;
	*line = strtol(colon + 1, &end, 10);
	if (end != f + len - 1)
		return false;
	flen = (size_t)(colon - (open + 2));
	if (flen + 1 > file_size)
		flen = file_size - 1;
	memcpy(file, open + 2, flen);
	file[flen] = '\0';
	*name_len = (size_t)(open - f);
	return true;
}

static void encode_function(struct pprof *p, struct pb_buf *out, struct pb_buf *msg,
			    struct pb_buf *loc, __u64 id)
{
	const char *frame = strtab__str(p->names, p->loc_name[id - 1]);
	size_t len = strlen(frame), name_len = len;
	bool kernel = len > 4 && !strcmp(frame + len - 4, "_[k]");
	char name[1024], file[512] = "";
	long line = 0;
	__u64 name_id, file_id;

	if (kernel)
		name_len = len - 4;
	else if (!interpreter_frame(frame, &name_len, file, sizeof(file), &line))
		line = 0;
	if (name_len >= sizeof(name))
		name_len = sizeof(name) - 1;
	memcpy(name, frame, name_len);
	name[name_len] = '\0';
	name_id = str(p, name);
	file_id = file[0] ? str(p, file) : 0;

	pb__reset(msg);
	pb__uint(msg, FUNCTION_ID, id);
	pb__uint(msg, FUNCTION_NAME, name_id);
	pb__uint(msg, FUNCTION_SYSTEM_NAME, name_id);
	pb__uint_nz(msg, FUNCTION_FILENAME, file_id);
	pb__message(out, PROFILE_FUNCTION, msg);

	pb__reset(msg);
	pb__uint(msg, LINE_FUNCTION_ID, id);
	pb__uint_nz(msg, LINE_LINE, (__u64)line);
	pb__reset(loc);
	pb__uint(loc, LOCATION_ID, id);
	pb__uint(loc, LOCATION_MAPPING_ID, kernel ? MAPPING_KERNEL : MAPPING_USER);
	pb__message(loc, LOCATION_LINE, msg);
	pb__message(out, PROFILE_LOCATION, loc);
}

static void value_type(struct pprof *p, struct pb_buf *out, struct pb_buf *msg, unsigned int field,
		       enum pprof_type t)
{
	pb__reset(msg);
	pb__uint(msg, VALUE_TYPE_TYPE, str(p, type_names[t][0]));
	pb__uint(msg, VALUE_TYPE_UNIT, str(p, type_names[t][1]));
	pb__message(out, field, msg);
}

static void mapping(struct pprof *p, struct pb_buf *out, struct pb_buf *msg, __u64 id,
		    const char *file)
{
	pb__reset(msg);
	pb__uint(msg, MAPPING_ID, id);
	pb__uint(msg, MAPPING_FILENAME, str(p, file));
	pb__uint(msg, MAPPING_HAS_FUNCTIONS, 1);
	pb__uint(msg, MAPPING_HAS_FILENAMES, 1);
	pb__uint(msg, MAPPING_HAS_LINE_NUMBERS, 1);
	pb__message(out, PROFILE_MAPPING, msg);
}

int pprof__encode(struct pprof *p, const struct pprof_meta *meta, struct pb_buf *out)
{
	struct pb_buf msg = {}, loc = {};
	unsigned int t;
	size_t i;

	if (!p->finished || p->failed)
		return -EINVAL;
	for (t = 0; t < PPROF_NR_TYPES; t++)
		if (p->has_type[t])
			value_type(p, out, &msg, PROFILE_SAMPLE_TYPE, t);
	/* the samples are whole fields already */
	pb__append(out, &p->samples);
	mapping(p, out, &msg, MAPPING_USER, meta && meta->main_file ? meta->main_file : "weft");
	mapping(p, out, &msg, MAPPING_KERNEL, "[kernel.kallsyms]");
	for (i = 1; i <= p->nlocs; i++)
		encode_function(p, out, &msg, &loc, i);
	pb__uint_nz(out, PROFILE_TIME_NANOS, meta ? (__u64)meta->time_nanos : 0);
	pb__uint_nz(out, PROFILE_DURATION_NANOS, meta ? (__u64)meta->duration_nanos : 0);
	value_type(p, out, &msg, PROFILE_PERIOD_TYPE, PPROF_CPU);
	pb__uint(out, PROFILE_PERIOD, 1000000000ULL / p->opts.sample_hz);
	for (i = 0; meta && meta->comments && meta->comments[i]; i++)
		pb__uint(out, PROFILE_COMMENT, str(p, meta->comments[i]));
	pb__uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, str(p, type_names[PPROF_CPU][0]));
	/* last, once every string is in */
	for (i = 0; i < strtab__count(p->strings); i++)
		pb__bytes(out, PROFILE_STRING_TABLE, strtab__str(p->strings, (__u32)i),
			  strtab__len(p->strings, (__u32)i));
	pb__free(&msg);
	pb__free(&loc);
	return out->failed || p->failed ? -ENOMEM : 0;
}

int pprof__write_gzip(const void *data, size_t len, FILE *out)
{
	unsigned char buf[64 * 1024];
	z_stream z = {};
	int ret, err = 0;

	/* 15 + 16: a gzip header and trailer, which pprof expects */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)data;
	do {
		/* avail_in is 32 bits: a larger profile goes in pieces */
		if (!z.avail_in) {
			size_t piece = len > (1u << 30) ? (1u << 30) : len;

			z.avail_in = (uInt)piece;
			len -= piece;
		}
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		ret = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
		if (ret == Z_STREAM_ERROR) {
			err = -ENOMEM;
			break;
		}
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) != sizeof(buf) - z.avail_out) {
			err = -EIO;
			break;
		}
	} while (ret != Z_STREAM_END);
	deflateEnd(&z);
	return err;
}
