// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Merges the per-stream EVENTS chunks of a recording by timestamp. The
 * chunk encoding (three columns: lengths, timestamp deltas, bodies) is
 * described with the rest of the format in file_format.h.
 *
 * Each stream keeps the records it has decoded and not yet returned in an
 * arena, with an index sorted by timestamp (insertion sort as they are
 * decoded: nearly sorted input costs one comparison a record). A stream
 * offers its first record only while at least WEFT_REORDER_WINDOW others
 * wait behind it (or its chunks are all read), so a record that many
 * places late still goes in front. The streams' first records sit in a
 * binary heap; returning a record and moving its stream's key costs one
 * sift.
 *
 * On a long recording, a second thread does all of that (reading,
 * checking, inflating, decoding, merging) and hands the records over in
 * batches (a ring of them, see struct prefetch), while the caller's
 * thread analyses earlier ones: the two halves of a report take about as
 * long as each other, so the report takes about half the time. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "event_reader.h"
#include "grow.h"
#include "kv.h"
#include "recording_meta.h"

struct rec_ref {
	__u64 ts;
	__u32 off; /* in the arena */
	__u32 len;
};

struct ev_stream {
	unsigned int id;
	size_t *chunks; /* section indices, in file order */
	size_t nchunks;
	size_t next_chunk;
	unsigned char *arena;
	size_t alen;
	size_t acap;
	struct rec_ref *idx; /* idx[head..n) are waiting, sorted */
	size_t head;
	size_t n;
	size_t icap;
	__u64 last_ts; /* of the last record returned */
	bool emitted;
};

/* The heap holds each stream's first key, so a sift compares without
 * following pointers into the streams. Streams are numbered in id order,
 * so (ts, k) orders ties by stream id. */
struct heap_ent {
	__u64 ts;
	unsigned int k; /* index in streams */
};

/* Records copied out of the merge, each at an 8-byte boundary. The
 * consumer moves pos of one batch while the merge fills len of another: a
 * line each. */
struct __attribute__((aligned(64))) batch {
	unsigned char *buf; /* BATCH_SLOT bytes of the prefetch's ring */
	size_t len;
	size_t pos; /* the consumer's next record */
	/* what follows the batch: 0 another batch, 1 the end, or the error */
	int end;
	bool full; /* handed to the consumer, not yet given back */
	unsigned long long reordered, skipped; /* the merge's, when handed */
};

/* A ring of NR_BATCHES batches between the two threads. The side that
 * runs ahead sleeps when the ring is full (or empty) and is woken only
 * when the other has made half the ring ready again: a wakeup per half
 * ring, not per batch. With two batches the threads waited for each other
 * at every batch, and on a VM the wakeup of a waiting thread (an IPI to a
 * halted vCPU) costs about what a batch does: the report ran at about the
 * sum of the two halves, not their maximum. */
#define NR_BATCHES 8

struct prefetch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct batch batches[NR_BATCHES];
	unsigned char *ring; /* the batches' buffers, RING_BYTES */
	unsigned int consuming; /* the batch the consumer reads */
	unsigned int ready; /* batches full and not yet given back (under the lock) */
	bool holding; /* the consumer has taken it */
	bool producer_waits, consumer_waits; /* under the lock */
	bool stop;
};

/* Prefetch when the events take this much inflated: below it, a thread
 * costs more than it saves. */
#define PREFETCH_MIN_BYTES (4u << 20)
/* A batch takes records until it holds BATCH_BYTES, so the last one may
 * pass that by a record: each has a slot of 256 KB, and the ring of them
 * is one 2 MB huge page where the kernel gives one. On a VM a first touch
 * of a page is a fault of about 15 us (shadow page tables): the 512 pages
 * of 4 KB that the batches took were 7 ms of a 1M-event report, a fifth
 * of what inflating it takes. */
#define BATCH_SLOT (256u << 10)
#define BATCH_BYTES (BATCH_SLOT - WEFT_RECORD_MAX)
#define RING_BYTES ((size_t)NR_BATCHES * BATCH_SLOT)
#define HUGE_PAGE_BYTES (2u << 20)

struct weft_event_reader {
	struct weft_file *f;
	struct prefetch *pf;
	bool pf_decided;
	bool pf_wanted;
	/* what the consumer has seen, when a prefetch thread merges */
	unsigned long long delivered, pf_reordered, pf_skipped;
	/* The merge's state starts on a line of its own. The merge thread
	 * read streams at every record while the consumer wrote delivered
	 * beside it: the line went back and forth between the CPUs at every
	 * record (a third of the consumer's time in reading records). */
	_Alignas(64) struct ev_stream *streams;
	unsigned int nstreams;
	struct heap_ent *heap;
	unsigned int nheap;
	struct ev_stream *cur; /* returned the last record; at heap[0] */
	bool started;
	void *raw; /* an inflated chunk */
	size_t raw_cap;
	void *tmp; /* records moving to the front of their arena */
	size_t tmp_cap;
	int err; /* sticky */
	/* A recording of a format whose records changed in place: a record
	 * not of today's size cannot be read at all */
	bool strict_sizes;
	unsigned long long reordered;
	unsigned long long skipped;
	unsigned long long count;
	char msg[256];
};

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

/* Zeroed, at a cache line's boundary, for the structs whose lines the
 * two threads share out (calloc aligns to 16 bytes only) */
static void *aligned_zalloc(size_t size)
{
	size_t rounded = (size + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, rounded);

	if (p)
		memset(p, 0, rounded);
	return p;
}

__attribute__((format(printf, 2, 3))) static void set_msg(struct weft_event_reader *r,
							  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

static int get_varint_slow(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t r = 0;
	int shift;

	for (shift = 0; shift < 64 && p < end; shift += 7) {
		r |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*pp = p;
			*v = r;
			return 0;
		}
	}
	return -1;
}

static inline int get_varint(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;

	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	return get_varint_slow(pp, end, v);
}

/* Lists each stream's chunks (section indices, in file order) from the
 * section headers alone. */
static int index_streams(struct weft_event_reader *r)
{
	size_t nsecs = weft_file__nsections(r->f), s;
	const struct weft_section_info *si;
	unsigned int max_id = 0, i, k, n = 0;
	struct ev_stream *st;
	int *map, err = 0;

	for (s = 0; s < nsecs; s++) {
		si = weft_file__section(r->f, s);
		if (si->type == WEFT_SEC_EVENTS && si->aux > max_id)
			max_id = si->aux;
	}
	/* Stream ids may be sparse: number the ones present in id order. */
	map = calloc(max_id + 1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (s = 0; s < nsecs; s++) {
		si = weft_file__section(r->f, s);
		if (si->type == WEFT_SEC_EVENTS)
			map[si->aux]++;
	}
	for (i = 0; i <= max_id; i++)
		n += map[i] > 0;
	if (!n)
		goto free_map;
	r->streams = calloc(n, sizeof(*r->streams));
	r->heap = calloc(n, sizeof(*r->heap));
	if (!r->streams || !r->heap) {
		err = -ENOMEM;
		goto free_map;
	}
	r->nstreams = n;
	for (i = 0, k = 0; i <= max_id; i++) {
		if (!map[i])
			continue;
		st = &r->streams[k];
		st->id = i;
		st->chunks = calloc(map[i], sizeof(*st->chunks));
		if (!st->chunks) {
			err = -ENOMEM;
			goto free_map;
		}
		map[i] = k++;
	}
	for (s = 0; s < nsecs; s++) {
		si = weft_file__section(r->f, s);
		if (si->type != WEFT_SEC_EVENTS)
			continue;
		st = &r->streams[map[si->aux]];
		st->chunks[st->nchunks++] = s;
	}

free_map:
	free(map);
	return err;
}

static void stop_prefetch(struct weft_event_reader *r);

struct weft_event_reader *weft_event_reader__new(struct weft_file *f)
{
	struct weft_event_reader *r = NULL;
	unsigned int major, minor;
	int err;

	if (!f) {
		err = -EINVAL;
		goto err_out;
	}
	r = aligned_zalloc(sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto err_out;
	}
	r->f = f;
	weft_file__format(f, &major, &minor);
	r->strict_sizes = major < 2;
	err = index_streams(r);
	if (err)
		goto err_out;
	return r;

err_out:
	weft_event_reader__free(r);
	errno = -err;
	return NULL;
}

void weft_event_reader__free(struct weft_event_reader *r)
{
	unsigned int i;

	if (!r)
		return;
	stop_prefetch(r);
	for (i = 0; i < r->nstreams; i++) {
		free(r->streams[i].chunks);
		free(r->streams[i].arena);
		free(r->streams[i].idx);
	}
	free(r->streams);
	free(r->heap);
	free(r->raw);
	free(r->tmp);
	free(r);
}

/* Puts a decoded record in its place among the waiting ones, moving it at
 * most WEFT_REORDER_WINDOW places (so a hostile chunk costs O(n * window),
 * not O(n^2)). */
static inline void insert(struct weft_event_reader *r, struct ev_stream *s, __u64 ts, size_t off,
			  size_t len)
{
	size_t j = s->n, lim = s->head;

	if (j - lim > WEFT_REORDER_WINDOW)
		lim = j - WEFT_REORDER_WINDOW;
	while (j > lim && s->idx[j - 1].ts > ts) {
		s->idx[j] = s->idx[j - 1];
		j--;
	}
	s->idx[j].ts = ts;
	s->idx[j].off = off;
	s->idx[j].len = len;
	s->n++;
	if (j > s->head ? s->idx[j - 1].ts > ts : s->emitted && ts < s->last_ts)
		r->reordered++;
}

/* Records are a few words long: a word loop beats the call (or the rep
 * movs) a memcpy of unknown size costs. */
static inline void copy_body(unsigned char *dst, const unsigned char *src, size_t len)
{
	__u64 w;
	size_t i;

	if (len & 7) {
		memcpy(dst, src, len);
		return;
	}
	for (i = 0; i < len; i += 8) {
		memcpy(&w, src + i, sizeof(w));
		memcpy(dst + i, &w, sizeof(w));
	}
}

static int bad_chunk(struct weft_event_reader *r, size_t sec, const char *why)
{
	set_msg(r, "corrupt section at offset %llu (events chunk: %s)",
		weft_file__section(r->f, sec)->offset, why);
	return -EBADMSG;
}

/* Moves the waiting records (at most the window, since a chunk is read
 * only when that few are left) to the front of the arena, through a
 * scratch buffer, and makes room for a chunk: memory stays at about one
 * chunk plus the window per stream. */
static int compact(struct weft_event_reader *r, struct ev_stream *s, size_t more_recs,
		   size_t more_bytes)
{
	size_t kept = s->n - s->head, bytes = 0, k, o = 0;
	struct rec_ref *e;
	void *p;

	for (k = s->head; k < s->n; k++)
		bytes += ALIGN8(s->idx[k].len);
	if (grow_array(&r->tmp, &r->tmp_cap, bytes, 1))
		return -ENOMEM;
	for (k = s->head; k < s->n; k++) {
		e = &s->idx[k];
		memcpy((char *)r->tmp + o, s->arena + e->off, e->len);
		e->off = o;
		o += ALIGN8(e->len);
	}
	if (s->acap < bytes + more_bytes || !s->arena) {
		/* Its contents are in tmp: no need for realloc to copy them. */
		free(s->arena);
		s->arena = NULL;
		s->acap = 0;
		p = NULL;
		if (grow_array(&p, &s->acap, bytes + more_bytes, 1))
			return -ENOMEM;
		s->arena = p;
	}
	if (kept) {
		memcpy(s->arena, r->tmp, o);
		memmove(s->idx, s->idx + s->head, kept * sizeof(*s->idx));
	}
	s->head = 0;
	s->n = kept;
	s->alen = o;
	return grow_array((void **)&s->idx, &s->icap, kept + more_recs, sizeof(*s->idx));
}

/* A record of a format 1.0 recording whose size is not format 2.0's
 * first: its layout may have changed in place since, so nothing of it can
 * be read. */
static int old_format(struct weft_event_reader *r)
{
	const char *version = weft_kv__get(weft_file__meta(r->f), META_VERSION);
	unsigned int major, minor;

	weft_file__format(r->f, &major, &minor);
	set_msg(r, "recording format %u.%u (weft %s), this weft reads %d.x: record again", major,
		minor, version ? version : "unknown", WEFT_FORMAT_MAJOR);
	return -EPROTONOSUPPORT;
}

/* Makes room in the stream's arena for a record larger than it was
 * stored (load_chunk() reserved what the stored sizes take) */
static int arena_room(struct ev_stream *s, size_t len)
{
	void *p = s->arena;
	int err;

	if (s->alen + len <= s->acap)
		return 0;
	err = grow_array(&p, &s->acap, s->alen + len, 1);
	s->arena = p;
	return err;
}

static int load_chunk(struct weft_event_reader *r, struct ev_stream *s)
{
	size_t sec = s->chunks[s->next_chunk++], blen, off;
	const struct weft_section_info *si = weft_file__section(r->f, sec);
	const unsigned char *p, *end, *lp, *lend, *tp, *tend, *bp, *bend;
	uint64_t stream, count, len_bytes, ts_bytes, len, zz, c;
	size_t size, kept;
	__u64 ts = 0;
	__u16 type;
	int err;

	err = weft_file__read_section(r->f, sec, &r->raw, &r->raw_cap);
	if (err) {
		set_msg(r, "%s", weft_file__error(r->f));
		return err;
	}
	p = r->raw;
	end = p + si->raw_length;
	if (get_varint(&p, end, &stream) || get_varint(&p, end, &count) ||
	    get_varint(&p, end, &len_bytes) || get_varint(&p, end, &ts_bytes))
		return bad_chunk(r, sec, "bad prefix");
	if (stream != s->id)
		return bad_chunk(r, sec, "stream differs from its header");
	/* Every length and delta takes at least a byte: count is bounded by
	 * the payload, so the allocations below are too. */
	if (len_bytes > (uint64_t)(end - p) || ts_bytes > (uint64_t)(end - p) - len_bytes ||
	    count > len_bytes || count > ts_bytes)
		return bad_chunk(r, sec, "columns do not fit");
	lp = p;
	lend = tp = lp + len_bytes;
	tend = bp = tp + ts_bytes;
	bend = end;
	blen = bend - bp;
	/* Each record takes len - 8 body bytes, 8 for ts, up to 7 of padding. */
	err = compact(r, s, count, blen + count * 15);
	if (err) {
		set_msg(r, "%s", strerror(-err));
		return err;
	}
	for (c = 0; c < count; c++) {
		if (get_varint(&lp, lend, &len) || get_varint(&tp, tend, &zz))
			return bad_chunk(r, sec, "column ends early");
		if (len < sizeof(struct weft_event_header) || len > WEFT_RECORD_MAX ||
		    len - 8 > (uint64_t)(bend - bp))
			return bad_chunk(r, sec, "bad record length");
		ts += (zz >> 1) ^ -(zz & 1);
		memcpy(&type, bp, sizeof(type));
		size = weft_event_size(type);
		if (r->strict_sizes && weft_event_size_at_2_0(type) != len)
			return old_format(r);
		/* a type of a newer weft: counted, and said by the report */
		if (!size) {
			r->skipped++;
			bp += len - 8;
			continue;
		}
		/* Records are append-only: a shorter one (an older weft's)
		 * lacks fields added since, which read as 0; a longer one (a
		 * newer weft's) has fields this weft does not know. */
		if (size > len) {
			err = arena_room(s, ALIGN8(size));
			if (err) {
				set_msg(r, "%s", strerror(-err));
				return err;
			}
		}
		kept = size < len ? size : len;
		off = s->alen;
		memcpy(s->arena + off, &ts, sizeof(ts));
		copy_body(s->arena + off + 8, bp, kept - 8);
		if (kept < size)
			memset(s->arena + off + kept, 0, size - kept);
		bp += len - 8;
		s->alen += ALIGN8(size);
		insert(r, s, ts, off, size);
	}
	if (lp != lend || tp != tend || bp != bend)
		return bad_chunk(r, sec, "columns do not add up");
	return 0;
}

/* Reads chunks until WEFT_REORDER_WINDOW records wait behind the first,
 * or the stream has no more. */
static int fill(struct weft_event_reader *r, struct ev_stream *s)
{
	int err;

	while (s->n - s->head <= WEFT_REORDER_WINDOW && s->next_chunk < s->nchunks) {
		err = load_chunk(r, s);
		if (err)
			return err;
	}
	return 0;
}

static inline bool before(const struct heap_ent *a, const struct heap_ent *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->k < b->k);
}

static void sift_down(struct weft_event_reader *r, unsigned int i)
{
	struct heap_ent *h = r->heap, x = h[i];
	unsigned int n = r->nheap, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&h[c + 1], &h[c]))
			c++;
		if (!before(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static int start(struct weft_event_reader *r)
{
	struct ev_stream *s;
	unsigned int i;
	int err;

	for (i = 0; i < r->nstreams; i++) {
		s = &r->streams[i];
		err = fill(r, s);
		if (err)
			return err;
		if (s->n > s->head)
			r->heap[r->nheap++] = (struct heap_ent){ s->idx[s->head].ts, i };
	}
	for (i = r->nheap / 2; i-- > 0;)
		sift_down(r, i);
	r->started = true;
	return 0;
}

static int next_direct(struct weft_event_reader *r, const struct weft_event_header **ev)
{
	struct ev_stream *s;
	struct rec_ref *e;
	int err = 0;

	if (r->err)
		return r->err;
	if (!r->started) {
		err = start(r);
		if (err)
			goto fail;
	} else if ((s = r->cur)) {
		s->head++;
		if (s->n - s->head <= WEFT_REORDER_WINDOW && s->next_chunk < s->nchunks) {
			err = fill(r, s);
			if (err)
				goto fail;
		}
		if (s->head == s->n)
			r->heap[0] = r->heap[--r->nheap];
		else
			r->heap[0].ts = s->idx[s->head].ts;
		if (r->nheap > 1)
			sift_down(r, 0);
	}
	if (!r->nheap) {
		r->cur = NULL;
		return 0;
	}
	s = &r->streams[r->heap[0].k];
	e = &s->idx[s->head];
	s->last_ts = e->ts;
	s->emitted = true;
	/* The stream's next record is wanted when its turn comes again, some
	 * records from now: fetch it into the cache meanwhile (with tens of
	 * streams the arenas do not all fit in it). */
	if (s->head + 1 < s->n)
		__builtin_prefetch(s->arena + e[1].off);
	if (s->head + 8 < s->n)
		__builtin_prefetch(&e[8]);
	r->cur = s;
	r->count++;
	*ev = (const struct weft_event_header *)(s->arena + e->off);
	return 1;

fail:
	r->err = err;
	r->cur = NULL;
	return err;
}

/* A batch is written on one CPU and read on the other: ordinary stores
 * first pull each line over from the reader's cache, and 62% of the
 * copy's time went to that one store. Stores that go around the caches
 * take that off the merge thread (a 1M-event report: 10% less CPU). */
#ifdef __x86_64__
#include <emmintrin.h>
static inline void copy_to_batch(unsigned char *dst, const unsigned char *src, size_t len)
{
	long long w;
	size_t i;

	for (i = 0; i < len; i += 8) {
		memcpy(&w, src + i, sizeof(w));
		_mm_stream_si64((long long *)(dst + i), w);
	}
}

static inline void batch_written(void)
{
	_mm_sfence();
}
#else
#define copy_to_batch copy_body
static inline void batch_written(void)
{
}
#endif

/* Copies the merge's records into the batches, one at a time, until the
 * end, an error, or the consumer goes away. */
static void *prefetch_thread(void *arg)
{
	struct weft_event_reader *r = arg;
	struct prefetch *pf = r->pf;
	const struct weft_event_header *ev;
	unsigned int producing = 0;
	bool stop;
	size_t size;
	int ret;

	for (;;) {
		struct batch *b = &pf->batches[producing];

		pthread_mutex_lock(&pf->lock);
		while (b->full && !pf->stop) {
			pf->producer_waits = true;
			pthread_cond_wait(&pf->changed, &pf->lock);
		}
		pf->producer_waits = false;
		stop = pf->stop;
		pthread_mutex_unlock(&pf->lock);
		if (stop)
			break;
		b->len = 0;
		b->pos = 0;
		b->end = 0;
		while (b->len < BATCH_BYTES) {
			ret = next_direct(r, &ev);
			if (ret <= 0) {
				b->end = ret ? ret : 1;
				break;
			}
			size = weft_event_size(ev->type);
			copy_to_batch(b->buf + b->len, (const unsigned char *)ev, size);
			b->len += ALIGN8(size);
		}
		batch_written();
		b->reordered = r->reordered;
		b->skipped = r->skipped;
		pthread_mutex_lock(&pf->lock);
		b->full = true;
		pf->ready++;
		if (pf->consumer_waits && (b->end || pf->ready >= NR_BATCHES / 2))
			pthread_cond_broadcast(&pf->changed);
		pthread_mutex_unlock(&pf->lock);
		if (b->end)
			break;
		producing = (producing + 1) % NR_BATCHES;
	}
	return NULL;
}

static size_t events_bytes(const struct weft_event_reader *r)
{
	size_t total = 0, i;
	unsigned int k;

	for (k = 0; k < r->nstreams; k++)
		for (i = 0; i < r->streams[k].nchunks; i++)
			total += weft_file__section(r->f, r->streams[k].chunks[i])->raw_length;
	return total;
}

/* RING_BYTES at a huge page's boundary, asked to be huge pages (a hint:
 * small pages where THP is off or memory too fragmented) */
static unsigned char *ring_alloc(void)
{
	size_t span = RING_BYTES + HUGE_PAGE_BYTES;
	unsigned char *map, *ring;
	size_t head, tail;

	map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	ring = (unsigned char *)(((uintptr_t)map + HUGE_PAGE_BYTES - 1) &
				 ~(uintptr_t)(HUGE_PAGE_BYTES - 1));
	head = ring - map;
	tail = span - head - RING_BYTES;
	if (head)
		munmap(map, head);
	if (tail)
		munmap(ring + RING_BYTES, tail);
	madvise(ring, RING_BYTES, MADV_HUGEPAGE);
	return ring;
}

static void start_prefetch(struct weft_event_reader *r)
{
	struct prefetch *pf;
	unsigned int i;

	r->pf_decided = true;
	if (!r->pf_wanted && events_bytes(r) < PREFETCH_MIN_BYTES)
		return;
	pf = aligned_zalloc(sizeof(*pf));
	if (!pf)
		return;
	/* Sized once: grown by doubling, each batch went through a dozen
	 * reallocs, the large ones an mremap with a TLB shootdown each (3%
	 * of a 1M-event report). */
	pf->ring = ring_alloc();
	if (!pf->ring) {
		free(pf);
		return;
	}
	for (i = 0; i < NR_BATCHES; i++)
		pf->batches[i].buf = pf->ring + (size_t)i * BATCH_SLOT;
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->changed, NULL);
	r->pf = pf;
	if (pthread_create(&pf->thread, NULL, prefetch_thread, r)) {
		/* no thread: merge in this one, as on a short recording */
		pthread_mutex_destroy(&pf->lock);
		pthread_cond_destroy(&pf->changed);
		munmap(pf->ring, RING_BYTES);
		free(pf);
		r->pf = NULL;
	}
}

static void stop_prefetch(struct weft_event_reader *r)
{
	struct prefetch *pf = r->pf;

	if (!pf)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_broadcast(&pf->changed);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->changed);
	munmap(pf->ring, RING_BYTES);
	free(pf);
	r->pf = NULL;
}

static int next_prefetched(struct weft_event_reader *r, const struct weft_event_header **ev)
{
	struct prefetch *pf = r->pf;
	struct batch *b = &pf->batches[pf->consuming];

	for (;;) {
		if (!pf->holding) {
			pthread_mutex_lock(&pf->lock);
			while (!b->full) {
				pf->consumer_waits = true;
				pthread_cond_wait(&pf->changed, &pf->lock);
			}
			pf->consumer_waits = false;
			pthread_mutex_unlock(&pf->lock);
			pf->holding = true;
			r->pf_reordered = b->reordered;
			r->pf_skipped = b->skipped;
		}
		if (b->pos < b->len) {
			*ev = (const struct weft_event_header *)(b->buf + b->pos);
			b->pos += ALIGN8(weft_event_size((*ev)->type));
			r->delivered++;
			return 1;
		}
		/* the end and errors stay, for every later call */
		if (b->end)
			return b->end < 0 ? b->end : 0;
		pthread_mutex_lock(&pf->lock);
		b->full = false;
		pf->ready--;
		if (pf->producer_waits && pf->ready <= NR_BATCHES / 2)
			pthread_cond_broadcast(&pf->changed);
		pthread_mutex_unlock(&pf->lock);
		pf->holding = false;
		pf->consuming = (pf->consuming + 1) % NR_BATCHES;
		b = &pf->batches[pf->consuming];
	}
}

int weft_event_reader__next(struct weft_event_reader *r, const struct weft_event_header **ev)
{
	if (!r || !ev)
		return -EINVAL;
	if (!r->pf_decided)
		start_prefetch(r);
	return r->pf ? next_prefetched(r, ev) : next_direct(r, ev);
}

void weft_event_reader__prefetch(struct weft_event_reader *r)
{
	if (r && !r->pf_decided)
		r->pf_wanted = true;
}

const char *weft_event_reader__error(const struct weft_event_reader *r)
{
	return r ? r->msg : "";
}

unsigned long long weft_event_reader__reordered(const struct weft_event_reader *r)
{
	return !r ? 0 : r->pf ? r->pf_reordered : r->reordered;
}

unsigned long long weft_event_reader__skipped(const struct weft_event_reader *r)
{
	return !r ? 0 : r->pf ? r->pf_skipped : r->skipped;
}

unsigned long long weft_event_reader__count(const struct weft_event_reader *r)
{
	return !r ? 0 : r->pf ? r->delivered : r->count;
}
