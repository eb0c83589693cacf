// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading a recording: the header, the sections with their crcs, what a
 * cut or a corruption leaves, and appending notes to a whole one. The
 * layout is file_format.h's. */
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
#include "file_format.h"

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
