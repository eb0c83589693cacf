/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recording file (weft.data): a file header, then sections, each
 * checked by crc32 and deflated with zlib. The byte layout is described in
 * file_format.h.
 *
 * Writer lifecycle: weft_writer__new() on an open fd (it writes the file
 * header at once); add_meta/add_event/add_section as the recording goes;
 * weft_writer__finish() once (flushes, writes the END section, fsyncs);
 * weft_writer__free(), which never closes the fd. A writer is used by one
 * thread at a time.
 *
 * Write errors are sticky: the call that hits one (ENOSPC, EIO, ...)
 * returns it as a negative errno, and so does every later call that
 * writes. Whatever was written before stays a readable, truncated
 * recording, since the file is a sequence of self-checked sections.
 *
 * Reader lifecycle: weft_file__open() reads the file header and every
 * section header (and the small META, NOTES and END sections); payloads of
 * the other sections are read when asked for, so opening a large
 * recording is cheap. The weft_file owns the kv lists it returns.
 * Functions that read payloads reuse buffers inside the weft_file: a
 * weft_file is used by one thread at a time, and so are the readers built
 * on it.
 *
 * The reader never trusts a length from the file: each is checked against
 * the file size and sane limits before anything is allocated, and every
 * payload's crc32 is checked before it is inflated.
 */
#ifndef __WEFT_FILE_H
#define __WEFT_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "kv.h"

/* 2.0: event records are append-only (events.h): a reader takes a
 * shorter record with its missing fields as 0 and cuts a longer one to
 * the size it knows. 1.0 recordings (weft 0.1) changed records in place:
 * they are read only when every record has today's size. */
#define WEFT_FORMAT_MAJOR 2
#define WEFT_FORMAT_MINOR 0
#define WEFT_FORMAT_MAJOR_OLDEST 1

enum weft_section_type {
	WEFT_SEC_META = 1, /* weft_kv: run metadata; several are merged, later keys win */
	WEFT_SEC_EVENTS = 2, /* one chunk of event records of one stream */
	/* tab-separated lines "pid ppid exited comm", appended each second for
	 * the processes new or changed since: a later line for a pid wins */
	WEFT_SEC_TASKS = 3,
	WEFT_SEC_MAPS = 4,
	WEFT_SEC_STACKS = 5,
	WEFT_SEC_SYMBOLS = 6,
	WEFT_SEC_END = 7, /* counts: the recording is whole */
	WEFT_SEC_NOTES = 8, /* weft_kv appended after END (weft compare) */
};

/* Raw (uncompressed) bytes of records a stream buffers before it writes
 * them as one EVENTS section. */
#define WEFT_CHUNK_SIZE_DEFAULT (256 * 1024)
#define WEFT_CHUNK_SIZE_MAX (16 * 1024 * 1024)
/* Largest record add_event takes; streams ids below WEFT_MAX_STREAMS. */
#define WEFT_RECORD_MAX 4096
#define WEFT_MAX_STREAMS 65536
/* Largest section payload, inflated, that a reader accepts. */
#define WEFT_SECTION_MAX_RAW (256U * 1024 * 1024)

/* --- writer --- */

struct weft_writer;

/* Writes to fd, an open file (the caller opens it, so it can choose its
 * owner and mode, and closes it after weft_writer__free()). path only
 * names the file in messages. Writes the file header at once: NULL and
 * errno set (ENOSPC, EIO, ENOMEM, ...) on failure. */
struct weft_writer *weft_writer__new(const char *path, int fd);

/* Does not close the fd. Unflushed records are dropped: call
 * weft_writer__finish() first to keep them. NULL is fine. */
void weft_writer__free(struct weft_writer *w);

/* Raw bytes a stream buffers before writing a chunk (default
 * WEFT_CHUNK_SIZE_DEFAULT; 1 .. WEFT_CHUNK_SIZE_MAX). Smaller chunks cost
 * compression; tests use them to get many sections. 0 or -EINVAL. */
int weft_writer__set_chunk_size(struct weft_writer *w, size_t bytes);

/* zlib level 1..9 for the sections written from now on. The default, 3,
 * writes about 10 million switch records a second on one core, as fast as
 * 1 and 10% smaller; 4 and up are slower by half. 0 or -EINVAL. */
int weft_writer__set_level(struct weft_writer *w, int level);

/* From now on a thread of its own deflates and writes the sections; the
 * calls only copy, and wait while max_pending raw bytes do. With idle, the
 * thread runs at SCHED_IDLE while fewer than max_pending / 2 bytes wait
 * and at the normal policy above that: only a caller that may give it the
 * normal policy back (CAP_SYS_NICE, or RLIMIT_NICE 20) may ask for it, or
 * the thread would starve on a busy machine. Write errors show at the
 * calls after them, and at weft_writer__finish(), which writes the rest
 * first. Call it before weft_writer__set_level(), if at all. 0 or -errno. */
int weft_writer__background(struct weft_writer *w, size_t max_pending, bool idle);

/* A META section holding kv. May be called more than once (start and end
 * metadata): readers merge them in file order, later keys win. */
int weft_writer__add_meta(struct weft_writer *w, const struct weft_kv *kv);

/* One event record (an events.h struct; len is weft_event_size(type) for
 * the known types, 16 .. WEFT_RECORD_MAX bytes for any other, which
 * readers skip). stream is the CPU for records from the kernel, another
 * small number (ncpu, say) for the recorder's own, < WEFT_MAX_STREAMS.
 * Records are copied into the stream's buffer, which is written as one
 * compressed EVENTS section when it passes the chunk size. Within a stream
 * records should come in time order; a reader fixes small disorder (a
 * few hundred records) and counts the rest. */
int weft_writer__add_event(struct weft_writer *w, unsigned int stream, const void *record,
			   size_t len);

/* Writes every stream's buffered records now (the recorder calls it once a
 * second, so that a killed recorder loses at most about that much). */
int weft_writer__flush(struct weft_writer *w);

/* Any other section (TASKS, MAPS, STACKS, SYMBOLS, NOTES, META given
 * already encoded, or a type this weft does not know), compressed. EVENTS
 * and END are refused (-EINVAL): they come from add_event and finish. */
int weft_writer__add_section(struct weft_writer *w, enum weft_section_type type,
			     const void *payload, size_t len);

/* Flushes, writes the END section (events and chunks per stream, sections
 * written), fsyncs the fd (a fd that cannot be synced, such as a pipe, is
 * fine). After this, only weft_writer__free() and the counters; other
 * calls return -EINVAL. */
int weft_writer__finish(struct weft_writer *w);

/* Bytes written to the fd so far, and records accepted by add_event. */
unsigned long long weft_writer__bytes(const struct weft_writer *w);
unsigned long long weft_writer__events(const struct weft_writer *w);

/* The first write error (a negative errno), or 0. */
int weft_writer__error(const struct weft_writer *w);

/* --- reader --- */

struct weft_file;

/* Where a section is and what its header says; lengths are checked. */
struct weft_section_info {
	unsigned long long offset; /* of its header, from the start of the file */
	unsigned int type;
	unsigned int flags;
	unsigned int aux; /* EVENTS: the stream */
	unsigned int length; /* payload bytes as stored */
	unsigned int raw_length; /* payload bytes once inflated */
};

/* NULL and errno set on failure, with one line in err (which may be NULL)
 * naming the file and the problem:
 *   "weft.data: No such file or directory"            (errno from open)
 *   "x.txt: not a weft recording"                      (EINVAL)
 *   "weft.data: recording format 2.0 is newer than this weft reads (1.x);
 *    upgrade weft"                                     (EPROTONOSUPPORT)
 *   "weft.data: corrupt section at offset 12345 (crc mismatch)" (EBADMSG)
 * A file cut short (no END section, or a partial last section) opens fine
 * and says so through weft_file__truncated(). */
struct weft_file *weft_file__open(const char *path, char *err, size_t errlen);
void weft_file__free(struct weft_file *f);

/* True when the END section is missing or the file ends inside a section:
 * what it holds is readable, but the recording stopped early. */
bool weft_file__truncated(const struct weft_file *f);

/* All META sections merged in file order, later keys win; all NOTES
 * sections likewise (an empty list when there are none). Owned by f. */
const struct weft_kv *weft_file__meta(const struct weft_file *f);
const struct weft_kv *weft_file__notes(const struct weft_file *f);

/* The file's format version, from its header */
void weft_file__format(const struct weft_file *f, unsigned int *major, unsigned int *minor);

/* Sections of a type this weft does not know (a newer minor's), which
 * readers leave out */
unsigned int weft_file__unknown_sections(const struct weft_file *f);

/* One more than the largest stream id of the EVENTS sections and of the
 * END section's counts. */
unsigned int weft_file__nstreams(const struct weft_file *f);

/* Records the END section counts (0 when there is none). */
unsigned long long weft_file__end_events(const struct weft_file *f);

/* Calls fn with the inflated payload of every section of that type, in
 * file order. The payload is valid during the call only. Stops and
 * returns fn's value when it is non-zero; a negative errno when a section
 * is corrupt or cannot be read (weft_file__error() tells which); else 0. */
int weft_file__for_each_section(struct weft_file *f, enum weft_section_type type,
				int (*fn)(const void *payload, size_t len, void *ctx), void *ctx);

/* The message of the last failure of a call on f, without the path
 * ("corrupt section at offset 12345 (crc mismatch)"); "" if none. */
const char *weft_file__error(const struct weft_file *f);
const char *weft_file__path(const struct weft_file *f);

/* The whole sections, in file order (a partial last one is not listed). */
size_t weft_file__nsections(const struct weft_file *f);
const struct weft_section_info *weft_file__section(const struct weft_file *f, size_t i);
unsigned int weft_file__count_sections(const struct weft_file *f, enum weft_section_type type);

/* Reads section i, checks its crc and inflates its payload into *buf,
 * which is (re)allocated with realloc as needed (*cap is its size; the
 * caller frees it). 0, or a negative errno with weft_file__error() set:
 * -EBADMSG for a corrupt section, -EIO when the file shrank, ... */
int weft_file__read_section(struct weft_file *f, size_t i, void **buf, size_t *cap);

/* Reads and checks every section (crc and inflate): 0 or the first error,
 * as weft_file__read_section(). */
int weft_file__verify(struct weft_file *f);

/* Appends a NOTES section holding notes after the END section of a whole
 * recording (weft compare stores the model and the workload's result this
 * way). Refuses a truncated recording. On a write error the file is cut
 * back to its former length, so it stays whole. 0, or a negative errno
 * with one line in err naming the file and the problem. */
int weft_file__append_notes(const char *path, const struct weft_kv *notes, char *err,
			    size_t errlen);

#endif /* __WEFT_FILE_H */
