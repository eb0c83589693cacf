// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writing a recording: sections, and the event streams in chunks. The
 * layout is file_format.h's. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "file.h"
#include "file_format.h"

int sec_out__init(struct sec_out *so, int level)
{
	memset(so, 0, sizeof(*so));
	so->level = level;
	/* raw deflate: the section crc already checks the payload */
	if (deflateInit2(&so->zs, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	so->zs_ready = true;
	return 0;
}

void sec_out__fini(struct sec_out *so)
{
	if (so->zs_ready)
		deflateEnd(&so->zs);
	so->zs_ready = false;
	free(so->out);
	so->out = NULL;
}

static int write_all(int fd, struct iovec *iov, int iovcnt, unsigned long long *bytes)
{
	ssize_t n;

	while (iovcnt > 0) {
		n = writev(fd, iov, iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		*bytes += n;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

/* Deflates the parts as one payload into so->out; *out_len its size. */
static int deflate_parts(struct sec_out *so, const struct part *parts, int nparts, size_t raw,
			 size_t *out_len)
{
	size_t bound = deflateBound(&so->zs, raw) + 64;
	unsigned char *out;
	int i, ret;

	if (deflateReset(&so->zs) != Z_OK)
		return -EINVAL;
	if (so->out_cap < bound) {
		out = realloc(so->out, bound);
		if (!out)
			return -ENOMEM;
		so->out = out;
		so->out_cap = bound;
	}
	so->zs.next_out = so->out;
	so->zs.avail_out = so->out_cap;
	for (i = 0; i < nparts; i++) {
		so->zs.next_in = (unsigned char *)parts[i].p;
		so->zs.avail_in = parts[i].len;
		while (so->zs.avail_in) {
			if (deflate(&so->zs, Z_NO_FLUSH) != Z_OK || !so->zs.avail_out)
				return -EOVERFLOW;
		}
	}
	ret = deflate(&so->zs, Z_FINISH);
	if (ret != Z_STREAM_END)
		return -EOVERFLOW;
	*out_len = so->zs.total_out;
	return 0;
}

int write_section(struct sec_out *so, int fd, unsigned int type, unsigned int aux,
		  const struct part *parts, int nparts, unsigned long long *bytes)
{
	unsigned char hdr[SEC_HDR_SIZE];
	struct iovec iov[2];
	size_t raw = 0, stored;
	int i, err;

	for (i = 0; i < nparts; i++)
		raw += parts[i].len;
	if (raw > WEFT_SECTION_MAX_RAW)
		return -E2BIG;
	err = deflate_parts(so, parts, nparts, raw, &stored);
	if (err)
		return err;
	put_le16(hdr, type);
	put_le16(hdr + 2, SEC_DEFLATE);
	put_le32(hdr + 4, aux);
	put_le32(hdr + 8, stored);
	put_le32(hdr + 12, raw);
	put_le32(hdr + 16, crc32(0, so->out, stored));
	put_le32(hdr + 20, crc32(0, hdr, 20));
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = so->out;
	iov[1].iov_len = stored;
	return write_all(fd, iov, 2, bytes);
}

/* --- writer --- */

struct wbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
};

/* A stream's pending chunk, kept already split into its columns so that
 * a flush only deflates. */
struct wstream {
	struct wbuf lens;
	struct wbuf ts;
	struct wbuf body;
	uint64_t prev_ts;
	size_t count;
	size_t raw; /* bytes of the records as given */
	unsigned long long events;
	unsigned long long chunks;
};

/* A section waiting for the background writer, its payload owned */
struct job {
	struct job *next;
	unsigned int type, aux;
	struct part parts[4];
	int nparts;
	size_t raw;
};

/* The background writer (weft_writer__background): one thread deflates
 * and writes the queued sections in order. It runs at SCHED_IDLE, on what
 * the traced program leaves of the CPUs, until the queue passes half its
 * bound; then at the normal policy until it is down to an eighth. */
struct background {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t queued, written;
	struct job *head, *tail;
	size_t pending, max_pending; /* raw bytes queued or being written */
	bool stop, idle_policy, may_idle;
};

struct weft_writer {
	int fd;
	char *path;
	int err; /* sticky write error (the background thread's too) */
	bool finished;
	struct background *bg;
	struct sec_out so;
	struct wstream *streams;
	unsigned int nstreams;
	size_t chunk_size;
	unsigned long long bytes;
	unsigned long long events;
	unsigned long long sections;
};

static void background_stop(struct weft_writer *w);

static int wbuf_reserve(struct wbuf *b, size_t more)
{
	size_t cap;
	unsigned char *p;

	if (b->cap - b->len >= more)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

struct weft_writer *weft_writer__new(const char *path, int fd)
{
	unsigned char hdr[FILE_HDR_SIZE] = FILE_MAGIC;
	struct weft_writer *w;
	struct iovec iov;
	int err;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		err = -ENOMEM;
		goto err_out;
	}
	w->fd = fd;
	w->chunk_size = WEFT_CHUNK_SIZE_DEFAULT;
	w->path = strdup(path ? path : "");
	if (!w->path) {
		err = -ENOMEM;
		goto err_out;
	}
	err = sec_out__init(&w->so, DEFAULT_LEVEL);
	if (err)
		goto err_out;
	put_le16(hdr + 8, WEFT_FORMAT_MAJOR);
	put_le16(hdr + 10, WEFT_FORMAT_MINOR);
	put_le32(hdr + 12, HOST_FLAGS);
	put_le32(hdr + 16, 0);
	put_le32(hdr + 20, crc32(0, hdr, 20));
	iov.iov_base = hdr;
	iov.iov_len = sizeof(hdr);
	err = write_all(fd, &iov, 1, &w->bytes);
	if (err)
		goto err_out;
	return w;

err_out:
	weft_writer__free(w);
	errno = -err;
	return NULL;
}

void weft_writer__free(struct weft_writer *w)
{
	unsigned int i;

	if (!w)
		return;
	background_stop(w);
	for (i = 0; i < w->nstreams; i++) {
		free(w->streams[i].lens.p);
		free(w->streams[i].ts.p);
		free(w->streams[i].body.p);
	}
	free(w->streams);
	sec_out__fini(&w->so);
	free(w->path);
	free(w);
}

int weft_writer__set_chunk_size(struct weft_writer *w, size_t bytes)
{
	if (!w || !bytes || bytes > WEFT_CHUNK_SIZE_MAX)
		return -EINVAL;
	w->chunk_size = bytes;
	return 0;
}

int weft_writer__set_level(struct weft_writer *w, int level)
{
	if (!w || level < 1 || level > 9)
		return -EINVAL;
	if (deflateParams(&w->so.zs, level, Z_DEFAULT_STRATEGY) != Z_OK)
		return -EINVAL;
	w->so.level = level;
	return 0;
}

/* The checks every writing call starts with. */
static int writer_usable(const struct weft_writer *w)
{
	if (!w || w->finished)
		return -EINVAL;
	return __atomic_load_n(&w->err, __ATOMIC_RELAXED);
}

static int write_now(struct weft_writer *w, unsigned int type, unsigned int aux,
		     const struct part *parts, int nparts)
{
	int err = write_section(&w->so, w->fd, type, aux, parts, nparts, &w->bytes);

	/* A section too large is the caller's mistake; anything else may
	 * have left part of a section in the file: no more writes. */
	if (err && err != -E2BIG)
		__atomic_store_n(&w->err, err, __ATOMIC_RELAXED);
	if (!err)
		w->sections++;
	return err;
}

static int set_policy(pthread_t thread, int policy)
{
	struct sched_param sp = { 0 };

	return pthread_setschedparam(thread, policy, &sp);
}

static void free_job(struct job *j)
{
	int i;

	for (i = 0; i < j->nparts; i++)
		free((void *)j->parts[i].p);
	free(j);
}

static void *background_thread(void *arg)
{
	struct weft_writer *w = arg;
	struct background *bg = w->bg;
	struct job *j;

	pthread_mutex_lock(&bg->lock);
	for (;;) {
		while (!bg->head && !bg->stop)
			pthread_cond_wait(&bg->queued, &bg->lock);
		if (!bg->head)
			break;
		j = bg->head;
		pthread_mutex_unlock(&bg->lock);
		/* after an error the rest is dropped: a section written past a
		 * partial one would not be read anyway */
		if (!__atomic_load_n(&w->err, __ATOMIC_RELAXED))
			write_now(w, j->type, j->aux, j->parts, j->nparts);
		pthread_mutex_lock(&bg->lock);
		bg->head = j->next;
		if (!bg->head)
			bg->tail = NULL;
		bg->pending -= j->raw;
		if (bg->may_idle && !bg->idle_policy && !bg->stop &&
		    bg->pending <= bg->max_pending / 8 && !set_policy(pthread_self(), SCHED_IDLE))
			bg->idle_policy = true;
		pthread_cond_broadcast(&bg->written);
		pthread_mutex_unlock(&bg->lock);
		free_job(j);
		pthread_mutex_lock(&bg->lock);
	}
	pthread_mutex_unlock(&bg->lock);
	return NULL;
}

/* Queues a job; waits while the queue is full. Under bg->lock. */
static void enqueue(struct background *bg, struct job *j)
{
	while (bg->pending && bg->pending + j->raw > bg->max_pending)
		pthread_cond_wait(&bg->written, &bg->lock);
	if (bg->tail)
		bg->tail->next = j;
	else
		bg->head = j;
	bg->tail = j;
	bg->pending += j->raw;
	if (bg->idle_policy && bg->pending > bg->max_pending / 2 &&
	    !set_policy(bg->thread, SCHED_OTHER))
		bg->idle_policy = false;
	pthread_cond_signal(&bg->queued);
}

/* Hands a section whose parts the job owns to the background thread */
static int queue_section(struct weft_writer *w, struct job *j)
{
	int i;

	j->raw = 0;
	for (i = 0; i < j->nparts; i++)
		j->raw += j->parts[i].len;
	if (j->raw > WEFT_SECTION_MAX_RAW) {
		free_job(j);
		return -E2BIG;
	}
	pthread_mutex_lock(&w->bg->lock);
	enqueue(w->bg, j);
	pthread_mutex_unlock(&w->bg->lock);
	return 0;
}

/* Waits until the background thread has written every queued section,
 * at the normal policy; 0 or the write error. */
static int background_drain(struct weft_writer *w)
{
	struct background *bg = w->bg;

	if (!bg)
		return 0;
	pthread_mutex_lock(&bg->lock);
	if (bg->idle_policy && !set_policy(bg->thread, SCHED_OTHER))
		bg->idle_policy = false;
	while (bg->head)
		pthread_cond_wait(&bg->written, &bg->lock);
	pthread_mutex_unlock(&bg->lock);
	return __atomic_load_n(&w->err, __ATOMIC_RELAXED);
}

static void background_stop(struct weft_writer *w)
{
	struct background *bg = w->bg;
	struct job *j;

	if (!bg)
		return;
	pthread_mutex_lock(&bg->lock);
	bg->stop = true;
	/* unwritten sections are dropped, as unflushed records are */
	while (bg->head && bg->head->next) {
		j = bg->head->next;
		bg->head->next = j->next;
		free_job(j);
	}
	pthread_cond_broadcast(&bg->queued);
	pthread_mutex_unlock(&bg->lock);
	pthread_join(bg->thread, NULL);
	pthread_mutex_destroy(&bg->lock);
	pthread_cond_destroy(&bg->queued);
	pthread_cond_destroy(&bg->written);
	free(bg);
	w->bg = NULL;
}

int weft_writer__background(struct weft_writer *w, size_t max_pending, bool idle)
{
	struct background *bg;

	if (!w || w->bg || !max_pending)
		return -EINVAL;
	bg = calloc(1, sizeof(*bg));
	if (!bg)
		return -ENOMEM;
	bg->max_pending = max_pending;
	pthread_mutex_init(&bg->lock, NULL);
	pthread_cond_init(&bg->queued, NULL);
	pthread_cond_init(&bg->written, NULL);
	w->bg = bg;
	if (pthread_create(&bg->thread, NULL, background_thread, w)) {
		pthread_mutex_destroy(&bg->lock);
		pthread_cond_destroy(&bg->queued);
		pthread_cond_destroy(&bg->written);
		free(bg);
		w->bg = NULL;
		return -EAGAIN;
	}
	bg->may_idle = idle;
	if (idle && !set_policy(bg->thread, SCHED_IDLE))
		bg->idle_policy = true;
	return 0;
}

/* A section from payloads the caller keeps: written now, or copied for
 * the background thread */
static int writer_section(struct weft_writer *w, unsigned int type, unsigned int aux,
			  const struct part *parts, int nparts)
{
	struct job *j;
	size_t raw = 0, off = 0;
	unsigned char *copy;
	int i;

	if (!w->bg)
		return write_now(w, type, aux, parts, nparts);
	for (i = 0; i < nparts; i++)
		raw += parts[i].len;
	j = calloc(1, sizeof(*j));
	copy = malloc(raw ? raw : 1);
	if (!j || !copy) {
		free(j);
		free(copy);
		return -ENOMEM;
	}
	for (i = 0; i < nparts; i++) {
		memcpy(copy + off, parts[i].p, parts[i].len);
		off += parts[i].len;
	}
	j->type = type;
	j->aux = aux;
	j->parts[0] = (struct part){ copy, raw };
	j->nparts = 1;
	return queue_section(w, j);
}

int weft_writer__add_meta(struct weft_writer *w, const struct weft_kv *kv)
{
	struct part part;
	void *buf;
	int err = writer_usable(w);

	if (err)
		return err;
	err = weft_kv__encode(kv, &buf, &part.len);
	if (err)
		return err;
	part.p = buf;
	err = writer_section(w, WEFT_SEC_META, 0, &part, 1);
	free(buf);
	return err;
}

/* The background thread takes the chunk's columns as they are; the
 * stream starts new ones of the same size (no copy of a chunk). */
static int hand_over_chunk(struct weft_writer *w, unsigned int id, struct part *parts)
{
	struct wstream *s = &w->streams[id];
	struct wbuf *cols[3] = { &s->lens, &s->ts, &s->body };
	struct wbuf fresh[3] = {};
	struct job *j = calloc(1, sizeof(*j));
	void *prefix = malloc(parts[0].len);
	int i;

	for (i = 0; i < 3; i++)
		if (cols[i]->cap && !(fresh[i].p = malloc(cols[i]->cap)))
			break;
	if (!j || !prefix || i < 3) {
		while (i-- > 0)
			free(fresh[i].p);
		free(j);
		free(prefix);
		return -ENOMEM;
	}
	memcpy(prefix, parts[0].p, parts[0].len);
	parts[0].p = prefix;
	j->type = WEFT_SEC_EVENTS;
	j->aux = id;
	j->nparts = 4;
	for (i = 0; i < 4; i++)
		j->parts[i] = parts[i];
	for (i = 0; i < 3; i++) {
		fresh[i].cap = fresh[i].p ? cols[i]->cap : 0;
		*cols[i] = fresh[i];
	}
	return queue_section(w, j);
}

static int flush_stream(struct weft_writer *w, unsigned int id)
{
	struct wstream *s = &w->streams[id];
	unsigned char prefix[40];
	struct part parts[4];
	size_t n;
	int err;

	if (!s->count)
		return 0;
	n = put_varint(prefix, id);
	n += put_varint(prefix + n, s->count);
	n += put_varint(prefix + n, s->lens.len);
	n += put_varint(prefix + n, s->ts.len);
	parts[0] = (struct part){ prefix, n };
	parts[1] = (struct part){ s->lens.p, s->lens.len };
	parts[2] = (struct part){ s->ts.p, s->ts.len };
	parts[3] = (struct part){ s->body.p, s->body.len };
	err = w->bg ? hand_over_chunk(w, id, parts) : write_now(w, WEFT_SEC_EVENTS, id, parts, 4);
	if (err)
		return err;
	s->chunks++;
	s->lens.len = s->ts.len = s->body.len = 0;
	s->count = s->raw = 0;
	s->prev_ts = 0;
	return 0;
}

static int add_streams(struct weft_writer *w, unsigned int stream)
{
	unsigned int n = stream + 1;
	struct wstream *streams = realloc(w->streams, n * sizeof(*streams));

	if (!streams)
		return -ENOMEM;
	memset(streams + w->nstreams, 0, (n - w->nstreams) * sizeof(*streams));
	w->streams = streams;
	w->nstreams = n;
	return 0;
}

int weft_writer__add_event(struct weft_writer *w, unsigned int stream, const void *record,
			   size_t len)
{
	struct wstream *s;
	uint64_t ts, zz;
	int64_t delta;
	int err = writer_usable(w);

	if (err)
		return err;
	if (!record || len < 16 || len > WEFT_RECORD_MAX || stream >= WEFT_MAX_STREAMS)
		return -EINVAL;
	if (stream >= w->nstreams) {
		err = add_streams(w, stream);
		if (err)
			return err;
	}
	s = &w->streams[stream];
	if (wbuf_reserve(&s->lens, 2) || wbuf_reserve(&s->ts, 10) ||
	    wbuf_reserve(&s->body, len - 8))
		return -ENOMEM;
	memcpy(&ts, record, sizeof(ts));
	delta = (int64_t)(ts - s->prev_ts);
	zz = ((uint64_t)delta << 1) ^ (uint64_t)(delta >> 63);
	s->prev_ts = ts;
	s->lens.len += put_varint(s->lens.p + s->lens.len, len);
	s->ts.len += put_varint(s->ts.p + s->ts.len, zz);
	memcpy(s->body.p + s->body.len, (const char *)record + 8, len - 8);
	s->body.len += len - 8;
	s->count++;
	s->raw += len;
	s->events++;
	w->events++;
	if (s->raw >= w->chunk_size)
		return flush_stream(w, stream);
	return 0;
}

int weft_writer__flush(struct weft_writer *w)
{
	unsigned int i;
	int err = writer_usable(w);

	for (i = 0; !err && i < w->nstreams; i++)
		err = flush_stream(w, i);
	return err;
}

int weft_writer__add_section(struct weft_writer *w, enum weft_section_type type,
			     const void *payload, size_t len)
{
	struct part part = { payload, len };
	int err = writer_usable(w);

	if (err)
		return err;
	if (type == WEFT_SEC_EVENTS || type == WEFT_SEC_END || (unsigned int)type == 0 ||
	    (unsigned int)type > 0xffff || (len && !payload))
		return -EINVAL;
	return writer_section(w, type, 0, &part, 1);
}

int weft_writer__finish(struct weft_writer *w)
{
	unsigned char *buf = NULL, *p;
	struct part part;
	unsigned int i;
	int err = weft_writer__flush(w);

	if (!err)
		err = background_drain(w);
	if (err)
		return err;
	/* the background thread waits, idle: the rest is written from here */
	background_stop(w);
	p = buf = malloc(10 + (size_t)w->nstreams * 20 + 10);
	if (!buf)
		return -ENOMEM;
	p += put_varint(p, w->nstreams);
	for (i = 0; i < w->nstreams; i++) {
		p += put_varint(p, w->streams[i].events);
		p += put_varint(p, w->streams[i].chunks);
	}
	p += put_varint(p, w->sections);
	part = (struct part){ buf, p - buf };
	err = write_now(w, WEFT_SEC_END, 0, &part, 1);
	free(buf);
	if (err)
		return err;
	w->finished = true;
	/* A pipe or a character device cannot be synced: that is fine. */
	if (fsync(w->fd) && errno != EINVAL && errno != EROFS && errno != ENOTSUP) {
		err = -errno;
		w->err = err;
	}
	return err;
}

unsigned long long weft_writer__bytes(const struct weft_writer *w)
{
	return w ? __atomic_load_n(&w->bytes, __ATOMIC_RELAXED) : 0;
}

unsigned long long weft_writer__events(const struct weft_writer *w)
{
	return w ? w->events : 0;
}

int weft_writer__error(const struct weft_writer *w)
{
	return w ? __atomic_load_n(&w->err, __ATOMIC_RELAXED) : -EINVAL;
}

/* --- reader --- */
