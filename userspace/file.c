// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The recording file.
 *
 * Every integer of the format itself is little-endian; event records keep
 * the byte order of the machine that recorded them (the header says which,
 * and a reader of the other order refuses the file).
 *
 * File header, 24 bytes:
 *    0  char magic[8]   "WEFTREC\0"
 *    8  u16  major      WEFT_FORMAT_MAJOR; a reader refuses a larger one,
 *                       and reads older ones down to
 *                       WEFT_FORMAT_MAJOR_OLDEST (file.h says how)
 *   10  u16  minor      readers of the same major read every minor: a
 *                       minor may add section types, which they skip and
 *                       count (weft_file__unknown_sections())
 *   12  u32  flags      FILE_BIG_ENDIAN: records are big-endian
 *   16  u32  reserved   0
 *   20  u32  hcrc       crc32 of bytes 0..19
 *
 * Then sections, back to back to the end of the file, each a 24-byte
 * header and its payload:
 *    0  u16  type       enum weft_section_type; unknown types are skipped
 *    2  u16  flags      SEC_DEFLATE: the payload is raw deflate (no zlib
 *                       header: the crc below already checks it)
 *    4  u32  aux        EVENTS: the stream; else 0
 *    8  u32  length     payload bytes as stored
 *   12  u32  raw_length payload bytes once inflated
 *   16  u32  crc        crc32 of the stored payload
 *   20  u32  hcrc       crc32 of bytes 0..19 of this header
 *
 * The header's own crc is checked before its length is trusted, so a
 * flipped bit in a length is reported as corruption, not taken for a cut;
 * a partial header or payload at the end of the file is a cut (the
 * recorder was killed, the disk filled): the file reads as truncated, up
 * to its last whole section. The recorder appends sections as it goes:
 * META (start), EVENTS chunks of every stream interleaved in the order they
 * filled, TASKS/MAPS as processes appear, META (end), STACKS, SYMBOLS,
 * END; then `weft compare` may append NOTES.
 *
 * Payloads, once inflated (varint: unsigned LEB128; zigzag: signed values
 * as varints of (v << 1) ^ (v >> 63)):
 *   META, NOTES  a weft_kv: key NUL value NUL, ...
 *   EVENTS       varint stream, varint count, varint len_bytes,
 *                varint ts_bytes, then three columns:
 *                  lengths:    count varints, each record's size (>= 16)
 *                  timestamps: count zigzags, each record's ts_ns minus
 *                              the previous one's in this chunk (the first
 *                              against 0): small, and negative when a
 *                              record came out of order
 *                  bodies:     each record's bytes after ts_ns, as written
 *                Columns, because they let deflate see what repeats: the
 *                bodies of a context-switch storm are a few tids and
 *                states over and over, which it matches at short
 *                distances, and the timestamps become two bytes of
 *                near-constant delta instead of eight of counter.
 *                Each chunk decodes on its own.
 *   END          varint nstreams, then per stream varint events and
 *                varint chunks, then varint sections written before END
 *   TASKS, MAPS, STACKS, SYMBOLS: defined by the recorder that writes them
 */
#include <errno.h>
#include <fcntl.h>
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

#define FILE_MAGIC "WEFTREC"
#define FILE_HDR_SIZE 24
#define FILE_BIG_ENDIAN 0x1
#define SEC_HDR_SIZE 24
#define SEC_DEFLATE 0x1
#define SEC_KNOWN_FLAGS SEC_DEFLATE
/* Deflate cannot expand data more than about 1032 times: a raw_length
 * beyond that for its stored length is a lie, caught before allocating. */
#define DEFLATE_MAX_RATIO 1032ULL
#define DEFAULT_LEVEL 3

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_FLAGS FILE_BIG_ENDIAN
#else
#define HOST_FLAGS 0
#endif

static void put_le16(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static unsigned int get_le16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[n++] = v;
	return n;
}

/* 0, or -1 if the varint runs past end or over 64 bits. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	const unsigned char *q = *p;
	uint64_t r = 0;
	int shift;

	for (shift = 0; shift < 64 && q < end; shift += 7) {
		r |= (uint64_t)(*q & 0x7f) << shift;
		if (!(*q++ & 0x80)) {
			*p = q;
			*v = r;
			return 0;
		}
	}
	return -1;
}

/* --- writing sections --- */

struct part {
	const void *p;
	size_t len;
};

/* What writes sections: the writer's, and append_notes()'s. */
struct sec_out {
	z_stream zs;
	bool zs_ready;
	int level;
	unsigned char *out;
	size_t out_cap;
};

static int sec_out__init(struct sec_out *so, int level)
{
	memset(so, 0, sizeof(*so));
	so->level = level;
	/* raw deflate: the section crc already checks the payload */
	if (deflateInit2(&so->zs, level, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	so->zs_ready = true;
	return 0;
}

static void sec_out__fini(struct sec_out *so)
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

static int write_section(struct sec_out *so, int fd, unsigned int type, unsigned int aux,
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

struct weft_writer {
	int fd;
	char *path;
	int err; /* sticky write error */
	bool finished;
	struct sec_out so;
	struct wstream *streams;
	unsigned int nstreams;
	size_t chunk_size;
	unsigned long long bytes;
	unsigned long long events;
	unsigned long long sections;
};

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
	return w->err;
}

static int writer_section(struct weft_writer *w, unsigned int type, unsigned int aux,
			  const struct part *parts, int nparts)
{
	int err = write_section(&w->so, w->fd, type, aux, parts, nparts, &w->bytes);

	/* A section too large is the caller's mistake; anything else may
	 * have left part of a section in the file: no more writes. */
	if (err && err != -E2BIG)
		w->err = err;
	if (!err)
		w->sections++;
	return err;
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
	err = writer_section(w, WEFT_SEC_EVENTS, id, parts, 4);
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

	if (err)
		return err;
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
	err = writer_section(w, WEFT_SEC_END, 0, &part, 1);
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
	return w ? w->bytes : 0;
}

unsigned long long weft_writer__events(const struct weft_writer *w)
{
	return w ? w->events : 0;
}

int weft_writer__error(const struct weft_writer *w)
{
	return w ? w->err : -EINVAL;
}

/* --- reader --- */

struct weft_file {
	int fd;
	char *path;
	unsigned long long size; /* when opened */
	struct weft_section_info *secs;
	unsigned int *crcs; /* crc of each section's stored payload */
	size_t nsecs;
	size_t cap;
	bool truncated;
	bool has_end;
	struct weft_kv *meta;
	struct weft_kv *notes;
	unsigned int nstreams;
	unsigned int major, minor;
	unsigned int unknown_sections;
	unsigned long long end_events;
	unsigned char *zbuf; /* stored payload being inflated */
	size_t zcap;
	void *pbuf; /* payload for for_each_section and small sections */
	size_t pcap;
	z_stream zs;
	bool zs_ready;
	char err[256];
};

__attribute__((format(printf, 2, 3))) static void set_error(struct weft_file *f, const char *fmt,
							    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

/* 0 when all len bytes were read; -EIO when the file ends first. */
static int pread_full(int fd, void *buf, size_t len, unsigned long long off, size_t *got)
{
	size_t done = 0;
	ssize_t n;
	int err = 0;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done, off + done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0) {
			err = -EIO;
			break;
		}
		done += n;
	}
	if (got)
		*got = done;
	return err;
}

static int corrupt(struct weft_file *f, unsigned long long off, const char *why)
{
	set_error(f, "corrupt section at offset %llu (%s)", off, why);
	return -EBADMSG;
}

static int read_file_header(struct weft_file *f)
{
	unsigned char hdr[FILE_HDR_SIZE];
	unsigned int major, minor, flags;
	size_t got;
	int err;

	err = pread_full(f->fd, hdr, sizeof(hdr), 0, &got);
	if (err && err != -EIO) {
		set_error(f, "%s", strerror(-err));
		return err;
	}
	if (got == 0) {
		set_error(f, "not a weft recording (empty file)");
		return -EINVAL;
	}
	if (memcmp(hdr, FILE_MAGIC, got < 8 ? got : 8)) {
		set_error(f, "not a weft recording");
		return -EINVAL;
	}
	if (got < sizeof(hdr)) {
		set_error(f, "recording cut short inside its file header (%zu of %d bytes)", got,
			  FILE_HDR_SIZE);
		return -EBADMSG;
	}
	major = get_le16(hdr + 8);
	minor = get_le16(hdr + 10);
	flags = get_le32(hdr + 12);
	/* Before the crc: a later major may lay its header out differently. */
	if (major > WEFT_FORMAT_MAJOR) {
		set_error(
			f,
			"recording format %u.%u is newer than this weft reads (%d.x); upgrade weft",
			major, minor, WEFT_FORMAT_MAJOR);
		return -EPROTONOSUPPORT;
	}
	if (crc32(0, hdr, 20) != get_le32(hdr + 20)) {
		set_error(f, "corrupt file header (crc mismatch)");
		return -EBADMSG;
	}
	if (major < WEFT_FORMAT_MAJOR_OLDEST) {
		set_error(f, "recording format %u.%u is not supported (this weft reads %d.x)",
			  major, minor, WEFT_FORMAT_MAJOR);
		return -EPROTONOSUPPORT;
	}
	f->major = major;
	f->minor = minor;
	if ((flags & FILE_BIG_ENDIAN) != HOST_FLAGS) {
		set_error(f,
			  "recording made on a %s-endian machine; this weft reads %s-endian ones",
			  flags & FILE_BIG_ENDIAN ? "big" : "little",
			  HOST_FLAGS ? "big" : "little");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

static int add_section(struct weft_file *f, const struct weft_section_info *si, unsigned int crc)
{
	size_t cap = f->cap ? f->cap * 2 : 64;
	struct weft_section_info *secs;
	unsigned int *crcs;

	if (f->nsecs == f->cap) {
		secs = realloc(f->secs, cap * sizeof(*secs));
		if (!secs)
			return -ENOMEM;
		f->secs = secs;
		crcs = realloc(f->crcs, cap * sizeof(*crcs));
		if (!crcs)
			return -ENOMEM;
		f->crcs = crcs;
		f->cap = cap;
	}
	f->secs[f->nsecs] = *si;
	f->crcs[f->nsecs] = crc;
	f->nsecs++;
	return 0;
}

/* Indexes the section headers; stops at a cut (truncated) or a corrupt
 * header (error). */
static int scan_sections(struct weft_file *f)
{
	unsigned long long off = FILE_HDR_SIZE;
	unsigned char hdr[SEC_HDR_SIZE];
	struct weft_section_info si;
	int err;

	while (off < f->size) {
		if (f->size - off < SEC_HDR_SIZE) {
			f->truncated = true;
			break;
		}
		err = pread_full(f->fd, hdr, sizeof(hdr), off, NULL);
		if (err) {
			set_error(f, "cannot read section header at offset %llu: %s", off,
				  strerror(-err));
			return err;
		}
		if (crc32(0, hdr, 20) != get_le32(hdr + 20))
			return corrupt(f, off, "header crc mismatch");
		si.offset = off;
		si.type = get_le16(hdr);
		si.flags = get_le16(hdr + 2);
		si.aux = get_le32(hdr + 4);
		si.length = get_le32(hdr + 8);
		si.raw_length = get_le32(hdr + 12);
		if (si.flags & ~SEC_KNOWN_FLAGS)
			return corrupt(f, off, "unknown section flags");
		if (si.raw_length > WEFT_SECTION_MAX_RAW)
			return corrupt(f, off, "section too large");
		if (si.flags & SEC_DEFLATE ? si.raw_length > si.length * DEFLATE_MAX_RATIO + 1024 :
					     si.raw_length != si.length)
			return corrupt(f, off, "impossible length");
		if (si.type == WEFT_SEC_EVENTS && si.aux >= WEFT_MAX_STREAMS)
			return corrupt(f, off, "stream out of range");
		if (si.length > f->size - off - SEC_HDR_SIZE) {
			f->truncated = true;
			break;
		}
		err = add_section(f, &si, get_le32(hdr + 16));
		if (err) {
			set_error(f, "%s", strerror(-err));
			return err;
		}
		if (si.type == WEFT_SEC_EVENTS && si.aux >= f->nstreams)
			f->nstreams = si.aux + 1;
		if (si.type < WEFT_SEC_META || si.type > WEFT_SEC_NOTES)
			f->unknown_sections++;
		off += SEC_HDR_SIZE + si.length;
	}
	return 0;
}

int weft_file__read_section(struct weft_file *f, size_t i, void **buf, size_t *cap)
{
	const struct weft_section_info *si;
	unsigned long long data_off;
	size_t need;
	void *p;
	int err, ret;

	if (!f || i >= f->nsecs || !buf || !cap)
		return -EINVAL;
	si = &f->secs[i];
	data_off = si->offset + SEC_HDR_SIZE;
	need = si->raw_length ? si->raw_length : 1;
	if (*cap < need || !*buf) {
		p = realloc(*buf, need);
		if (!p) {
			set_error(f, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		*buf = p;
		*cap = need;
	}
	if (si->flags & SEC_DEFLATE) {
		if (f->zcap < si->length || !f->zbuf) {
			p = realloc(f->zbuf, si->length ? si->length : 1);
			if (!p) {
				set_error(f, "%s", strerror(ENOMEM));
				return -ENOMEM;
			}
			f->zbuf = p;
			f->zcap = si->length ? si->length : 1;
		}
		p = f->zbuf;
	} else {
		p = *buf;
	}
	err = pread_full(f->fd, p, si->length, data_off, NULL);
	if (err) {
		set_error(f, "cannot read section at offset %llu: %s", si->offset,
			  err == -EIO ? "the file shrank" : strerror(-err));
		return err;
	}
	if (crc32(0, p, si->length) != f->crcs[i])
		return corrupt(f, si->offset, "crc mismatch");
	if (!(si->flags & SEC_DEFLATE))
		return 0;
	if (!f->zs_ready) {
		if (inflateInit2(&f->zs, -15) != Z_OK) {
			set_error(f, "%s", strerror(ENOMEM));
			return -ENOMEM;
		}
		f->zs_ready = true;
	} else if (inflateReset(&f->zs) != Z_OK) {
		return corrupt(f, si->offset, "inflate failed");
	}
	f->zs.next_in = p;
	f->zs.avail_in = si->length;
	f->zs.next_out = *buf;
	f->zs.avail_out = si->raw_length;
	ret = inflate(&f->zs, Z_FINISH);
	if (ret != Z_STREAM_END || f->zs.avail_out || f->zs.avail_in)
		return corrupt(f, si->offset, "inflate failed");
	return 0;
}

static int parse_end(struct weft_file *f, const struct weft_section_info *si, const void *buf)
{
	const unsigned char *p = buf, *end = p + si->raw_length;
	uint64_t nstreams, events, chunks, sections, i, total = 0;

	if (get_varint(&p, end, &nstreams) || nstreams > WEFT_MAX_STREAMS)
		return corrupt(f, si->offset, "bad end section");
	for (i = 0; i < nstreams; i++) {
		if (get_varint(&p, end, &events) || get_varint(&p, end, &chunks))
			return corrupt(f, si->offset, "bad end section");
		total += events;
	}
	if (get_varint(&p, end, &sections) || p != end)
		return corrupt(f, si->offset, "bad end section");
	if (nstreams > f->nstreams)
		f->nstreams = nstreams;
	f->end_events = total;
	f->has_end = true;
	return 0;
}

/* META, NOTES and END are small and wanted by every command: read them now. */
static int load_small_sections(struct weft_file *f)
{
	const struct weft_section_info *si;
	size_t i;
	int err;

	for (i = 0; i < f->nsecs; i++) {
		si = &f->secs[i];
		if (si->type != WEFT_SEC_META && si->type != WEFT_SEC_NOTES &&
		    si->type != WEFT_SEC_END)
			continue;
		err = weft_file__read_section(f, i, &f->pbuf, &f->pcap);
		if (err)
			return err;
		if (si->type == WEFT_SEC_END) {
			err = parse_end(f, si, f->pbuf);
			if (err)
				return err;
			continue;
		}
		err = weft_kv__decode(si->type == WEFT_SEC_META ? f->meta : f->notes, f->pbuf,
				      si->raw_length);
		if (err == -EINVAL)
			return corrupt(f, si->offset, "bad key/value list");
		if (err) {
			set_error(f, "%s", strerror(-err));
			return err;
		}
	}
	return 0;
}

struct weft_file *weft_file__open(const char *path, char *err, size_t errlen)
{
	struct weft_file *f;
	struct stat st;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	f = calloc(1, sizeof(*f));
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path ? path : "", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	f->fd = -1;
	f->path = strdup(path ? path : "");
	f->meta = weft_kv__new();
	f->notes = weft_kv__new();
	if (!f->path || !f->meta || !f->notes) {
		set_error(f, "%s", strerror(ENOMEM));
		ret = -ENOMEM;
		goto err_out;
	}
	if (!path) {
		set_error(f, "%s", strerror(EINVAL));
		ret = -EINVAL;
		goto err_out;
	}
	/* O_NONBLOCK: opening a FIFO would wait for a writer; what is not a
	 * regular file is refused just after */
	f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (f->fd < 0 || fstat(f->fd, &st)) {
		ret = -errno;
		set_error(f, "%s", strerror(-ret));
		goto err_out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		set_error(f, "%s", strerror(EISDIR));
		goto err_out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		set_error(f, "not a regular file (%s): weft reads recordings from files",
			  S_ISFIFO(st.st_mode) ? "a FIFO" :
			  S_ISSOCK(st.st_mode) ? "a socket" :
						 "a device");
		goto err_out;
	}
	f->size = st.st_size;
	ret = read_file_header(f);
	if (ret)
		goto err_out;
	ret = scan_sections(f);
	if (ret)
		goto err_out;
	ret = load_small_sections(f);
	if (ret)
		goto err_out;
	if (!f->has_end)
		f->truncated = true;
	/* pbuf may be large (a big META); only keep it if small. */
	if (f->pcap > 65536) {
		free(f->pbuf);
		f->pbuf = NULL;
		f->pcap = 0;
	}
	f->err[0] = '\0';
	return f;

err_out:
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", f->path ? f->path : "", f->err);
	weft_file__free(f);
	errno = -ret;
	return NULL;
}

void weft_file__free(struct weft_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->zs_ready)
		inflateEnd(&f->zs);
	free(f->secs);
	free(f->crcs);
	free(f->zbuf);
	free(f->pbuf);
	weft_kv__free(f->meta);
	weft_kv__free(f->notes);
	free(f->path);
	free(f);
}

bool weft_file__truncated(const struct weft_file *f)
{
	return f ? f->truncated : true;
}

const struct weft_kv *weft_file__meta(const struct weft_file *f)
{
	return f ? f->meta : NULL;
}

const struct weft_kv *weft_file__notes(const struct weft_file *f)
{
	return f ? f->notes : NULL;
}

unsigned int weft_file__nstreams(const struct weft_file *f)
{
	return f ? f->nstreams : 0;
}

void weft_file__format(const struct weft_file *f, unsigned int *major, unsigned int *minor)
{
	*major = f->major;
	*minor = f->minor;
}

unsigned int weft_file__unknown_sections(const struct weft_file *f)
{
	return f->unknown_sections;
}

unsigned long long weft_file__end_events(const struct weft_file *f)
{
	return f ? f->end_events : 0;
}

const char *weft_file__error(const struct weft_file *f)
{
	return f ? f->err : "";
}

const char *weft_file__path(const struct weft_file *f)
{
	return f ? f->path : "";
}

size_t weft_file__nsections(const struct weft_file *f)
{
	return f ? f->nsecs : 0;
}

const struct weft_section_info *weft_file__section(const struct weft_file *f, size_t i)
{
	return f && i < f->nsecs ? &f->secs[i] : NULL;
}

unsigned int weft_file__count_sections(const struct weft_file *f, enum weft_section_type type)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; f && i < f->nsecs; i++)
		n += f->secs[i].type == (unsigned int)type;
	return n;
}

int weft_file__for_each_section(struct weft_file *f, enum weft_section_type type,
				int (*fn)(const void *payload, size_t len, void *ctx), void *ctx)
{
	void *buf = NULL;
	size_t cap = 0, i;
	int ret = 0;

	if (!f || !fn)
		return -EINVAL;
	for (i = 0; i < f->nsecs && !ret; i++) {
		if (f->secs[i].type != (unsigned int)type)
			continue;
		ret = weft_file__read_section(f, i, &buf, &cap);
		if (!ret)
			ret = fn(buf, f->secs[i].raw_length, ctx);
	}
	free(buf);
	return ret;
}

int weft_file__verify(struct weft_file *f)
{
	void *buf = NULL;
	size_t cap = 0, i;
	int ret = 0;

	if (!f)
		return -EINVAL;
	for (i = 0; i < f->nsecs && !ret; i++)
		ret = weft_file__read_section(f, i, &buf, &cap);
	free(buf);
	return ret;
}

int weft_file__append_notes(const char *path, const struct weft_kv *notes, char *err, size_t errlen)
{
	unsigned long long bytes = 0;
	struct weft_file *f;
	struct sec_out so;
	struct part part;
	struct stat st, read_st;
	void *buf = NULL;
	int fd = -1, ret;

	if (err && errlen)
		err[0] = '\0';
	f = weft_file__open(path, err, errlen);
	if (!f)
		return -errno;
	if (f->truncated) {
		set_error(f, "recording is truncated (%s); notes are only appended to a whole one",
			  f->has_end ? "it ends inside a section" : "no end section");
		ret = -EINVAL;
		goto free_file;
	}
	ret = sec_out__init(&so, 6);
	if (ret) {
		set_error(f, "%s", strerror(-ret));
		goto free_file;
	}
	ret = weft_kv__encode(notes, &buf, &part.len);
	if (ret) {
		set_error(f, "%s", strerror(-ret));
		goto free_out;
	}
	part.p = buf;
	/* the very file just read, not a link put in its place (weft
	 * compare appends as root in a folder of the user's) */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) || fstat(f->fd, &read_st)) {
		ret = -errno;
		set_error(f, "Failed to open for appending: %s", strerror(-ret));
		goto close_fd;
	}
	if (st.st_dev != read_st.st_dev || st.st_ino != read_st.st_ino) {
		ret = -EAGAIN;
		set_error(f, "the file was replaced while notes were appended");
		goto close_fd;
	}
	if ((unsigned long long)st.st_size != f->size) {
		ret = -EAGAIN;
		set_error(f, "the file changed while notes were appended");
		goto close_fd;
	}
	if (lseek(fd, f->size, SEEK_SET) < 0) {
		ret = -errno;
		set_error(f, "Failed to append notes: %s", strerror(-ret));
		goto close_fd;
	}
	ret = write_section(&so, fd, WEFT_SEC_NOTES, 0, &part, 1, &bytes);
	if (!ret && fsync(fd) && errno != EINVAL && errno != EROFS)
		ret = -errno;
	if (ret) {
		set_error(f, "Failed to append notes: %s", strerror(-ret));
		/* Cut the partial section off: the recording stays whole. */
		if (ftruncate(fd, f->size))
			set_error(f, "Failed to append notes: %s; a partial section is left",
				  strerror(-ret));
	}

close_fd:
	if (fd >= 0)
		close(fd);
	free(buf);
free_out:
	sec_out__fini(&so);
free_file:
	if (ret && err && errlen)
		snprintf(err, errlen, "%s: %s", path, f->err);
	weft_file__free(f);
	return ret;
}
