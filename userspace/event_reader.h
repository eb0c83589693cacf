/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The events of a recording, one at a time, in global time order.
 *
 * A recording holds one stream of records per CPU (and one or more for the
 * recorder's own records), each cut into EVENTS chunks that the file
 * interleaves in whatever order the recorder drained them. The reader
 * indexes each stream's chunks from the section headers, inflates a
 * stream's next chunk only when it runs low, and merges the streams by
 * timestamp. Memory is about one chunk per stream, whatever the length of
 * the recording.
 *
 * Order: by ts_ns; equal timestamps by stream id, then by position in
 * their stream, so the order is the same on every run. Within a stream a
 * record may come up to WEFT_REORDER_WINDOW records late (a cpu-clock
 * sample interrupting a switch program on the same CPU writes its later
 * record first): it is put back in its place. A record later than that
 * comes out where it is and is counted by weft_event_reader__reordered().
 *
 * Records are append-only (events.h): a record shorter than
 * weft_event_size() of its type (an older weft's) comes out at that size
 * with the fields it lacks 0, a longer one (a newer weft's) cut to it.
 * Records of a type this weft does not know are skipped and counted by
 * weft_event_reader__skipped(). A recording of format 1.0, whose records
 * changed in place, is read only while every record has today's size: the
 * first that has not is an error (-EPROTONOSUPPORT, "recording format 1.0
 * (weft 0.1), this weft reads 2.x: record again").
 *
 * Lifecycle: the reader borrows f, which must outlive it, and uses f's
 * buffers: from the first next() until weft_event_reader__free(), read
 * nothing else through f (on a long recording a thread of the reader's
 * own reads it meanwhile). Calls from one thread at a time.
 * weft_event_reader__free() accepts NULL.
 */
#ifndef __WEFT_EVENT_READER_H
#define __WEFT_EVENT_READER_H

#include <linux/types.h>

#include "events.h"
#include "file.h"

#define WEFT_REORDER_WINDOW 256

struct weft_event_reader;

/* NULL and errno set (ENOMEM, EINVAL) on failure. Reads nothing yet. */
struct weft_event_reader *weft_event_reader__new(struct weft_file *f);
void weft_event_reader__free(struct weft_event_reader *r);

/* 1 with *ev at the next record (8-byte aligned, ts_ns filled in, valid
 * until the next call), 0 at the end, or a negative errno when a chunk is
 * corrupt or cannot be read; weft_event_reader__error() then says which,
 * and every later call returns the same error. */
int weft_event_reader__next(struct weft_event_reader *r, const struct weft_event_header **ev);

/* Before the first next(): merge in a thread of the reader's own whatever
 * the recording's length (it does so on its own past a few MB of events;
 * tests use this to check that both ways give the same records). */
void weft_event_reader__prefetch(struct weft_event_reader *r);

/* The message of the error next() returned, without the path ("corrupt
 * section at offset 12345 (crc mismatch)"); "" if none. */
const char *weft_event_reader__error(const struct weft_event_reader *r);

/* Records that came out of order within their stream beyond the reorder
 * window (should be 0), and records skipped for an unknown type or size. */
unsigned long long weft_event_reader__reordered(const struct weft_event_reader *r);
unsigned long long weft_event_reader__skipped(const struct weft_event_reader *r);

/* Records returned so far. */
unsigned long long weft_event_reader__count(const struct weft_event_reader *r);

#endif /* __WEFT_EVENT_READER_H */
