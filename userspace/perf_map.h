/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* JIT code's names from /tmp/perf-PID.map, the file that node
 * (--perf-basic-prof), CPython 3.12+ (-X perf) and Java agents write for
 * perf: one line per piece of generated code,
 *   START SIZE NAME
 * START and SIZE in hex (with or without 0x), NAME the rest of the line
 * ("JS:~computeHash /app/hash.js:1:21", "py::work:/app/w.py").
 *
 * Parsing. Lines that do not read so (no hex, no name, a size of 0, a range
 * past 2^64) are skipped and counted; a last line without its newline is
 * one still being written and is left out. Where ranges overlap (code
 * freed and its memory reused: V8 moves code, CPython reuses trampolines),
 * the later line wins its whole range and an earlier one keeps what is
 * left of it, so a lookup names the newest code at that address. Addresses
 * in no range (gaps) are not found.
 *
 * Reading, as root, a file in a folder every user writes to: opened with
 * O_NOFOLLOW (a symlink is refused) and O_NONBLOCK (a FIFO cannot hang the
 * recorder), and used only when it is a regular file owned by the
 * process's uid and written since the process started. A file larger than
 * max_bytes is read from its end (the newest code), its first partial line
 * skipped.
 *
 * The book keeps each traced process's owner (read from /proc while it
 * lives) and its latest map; the recorder reads the map when the process
 * exits and at the end of the recording, and stacks.c names the frames in
 * anonymous code with it. Errors: 0 or a negative errno; constructors
 * return NULL and set errno; every *__free() accepts NULL.
 */
#ifndef __WEFT_PERF_MAP_H
#define __WEFT_PERF_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

/* Read from the end past this (a long node run's map grows by megabytes) */
#define PERF_MAP_MAX_BYTES (64UL << 20)
/* A map may look this much older than its process: file times come from
 * a clock that lags by up to a tick, the start is rounded down to one
 * (USER_HZ), and the real-time clock may be stepped. An earlier process
 * with the same pid (pids wrap at 4 million) is far older. */
#define PERF_MAP_START_SLACK_NS 100000000ULL
/* Maps of exited processes held open until the end (file descriptors) */
#define PERF_MAP_MAX_HELD 256

struct perf_map;

/* Parses len bytes of map text (need not be NUL-terminated). NULL only
 * when out of memory. */
struct perf_map *perf_map__parse(const char *text, size_t len);
void perf_map__free(struct perf_map *m);
/* The newest code holding addr: its name (owned by the map) and addr's
 * offset in it. false when no line covers addr. */
bool perf_map__find(const struct perf_map *m, __u64 addr, const char **name, __u64 *offset);
/* Address ranges a lookup can land in (after overlaps are settled) */
size_t perf_map__count(const struct perf_map *m);
/* Lines skipped as malformed */
size_t perf_map__bad_lines(const struct perf_map *m);
/* Whether the file was larger than max_bytes and only its end was read */
bool perf_map__truncated(const struct perf_map *m);

/* Who may have written a process's map */
struct perf_map_owner {
	uid_t uid; /* the process's filesystem uid, which creates its files */
	__u64 start_ns; /* the process's start, CLOCK_REALTIME (as mtimes) */
};

/* The owner of process pid from PROC_ROOT/PID/status and stat (NULL
 * root: "/proc"). 0, or -ENOENT (gone), -EINVAL (unreadable fields). */
int perf_map_owner__read(const char *proc_root, pid_t pid, struct perf_map_owner *out);

/* Opens the map at path and checks it as said above: an fd, or -ENOENT
 * (none), -ELOOP (a symlink), -EINVAL (not a regular file), -EPERM
 * (another owner), -ESTALE (last written before the process started,
 * PERF_MAP_START_SLACK_NS allowed), or
 * what open gave. */
int perf_map__open(const char *path, const struct perf_map_owner *owner);
/* Reads and parses the map open on fd (the caller closes it). NULL and
 * errno (ENOMEM, or what read gave). */
struct perf_map *perf_map__read_fd(int fd, size_t max_bytes);
/* perf_map__open() and perf_map__read_fd() in one */
struct perf_map *perf_map__read(const char *path, const struct perf_map_owner *owner,
				size_t max_bytes);

struct perf_map_book;

/* dir: where the maps are (NULL: "/tmp"), proc_root (NULL: "/proc") */
struct perf_map_book *perf_map_book__new(const char *dir, const char *proc_root);
void perf_map_book__free(struct perf_map_book *b);
/* Notes tgid's owner from /proc now, while it lives (again after an exec,
 * which may change its uid); a failed read keeps the owner noted before.
 * 0 or -errno. */
int perf_map_book__note(struct perf_map_book *b, pid_t tgid);
/* At tgid's exit: opens and checks its map now, the file that process
 * left (its pid, and the map's name, may be reused), and keeps it open to
 * be read by perf_map_book__read(): parsing a large map (a second for 50
 * MB) while the recorder drains would cost events. Past PERF_MAP_MAX_HELD
 * open maps, it is read at once. 0 or -errno as perf_map_book__read(). */
int perf_map_book__hold(struct perf_map_book *b, pid_t tgid);
/* Reads tgid's map: the one held open, else the file now; it replaces the
 * map kept on success. 0 or -errno (-ENOENT: no map; -ESRCH: owner never
 * noted; a refusal as perf_map__open() says). */
int perf_map_book__read(struct perf_map_book *b, pid_t tgid);
/* Reads every map held open (perf_map_book__read() of each) */
void perf_map_book__read_held(struct perf_map_book *b);
/* The latest map read for tgid, or NULL */
const struct perf_map *perf_map_book__get(const struct perf_map_book *b, pid_t tgid);
/* Maps refused for their owner, a symlink, their age or kind (each once
 * per process), to warn about */
size_t perf_map_book__refused(const struct perf_map_book *b);

#endif /* __WEFT_PERF_MAP_H */
