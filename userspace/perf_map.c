// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "perf_map.h"
#include "u64set.h"

/* One parsed line */
struct raw_entry {
	__u64 start, end;
	__u32 seq; /* line order: a later line is newer code */
	__u32 name_off; /* into perf_map.names */
};

/* A range a lookup lands in: the part of one line's range where that line
 * is the newest */
struct range {
	__u64 start, end;
	__u32 entry;
};

struct perf_map {
	char *names; /* the text, lines cut at their newline */
	struct raw_entry *entries;
	size_t nentries;
	struct range *ranges;
	size_t nranges;
	size_t bad_lines;
	bool truncated;
};

void perf_map__free(struct perf_map *m)
{
	if (!m)
		return;
	free(m->names);
	free(m->entries);
	free(m->ranges);
	free(m);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number of at most 16 digits, with or without 0x; false when
 * there is none */
static bool parse_hex(const char **pp, __u64 *out)
{
	const char *p = *pp;
	__u64 v = 0;
	int n = 0, d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	while ((d = hex_digit(*p)) >= 0) {
		if (++n > 16)
			return false;
		v = v << 4 | (__u64)d;
		p++;
	}
	if (!n)
		return false;
	*pp = p;
	*out = v;
	return true;
}

/* One line (NUL-terminated, in m->names at off): true when it reads as
 * START SIZE NAME */
static bool parse_line(char *line, struct raw_entry *e)
{
	const char *p = line;
	__u64 start, size;

	if (!parse_hex(&p, &start) || (*p != ' ' && *p != '\t'))
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!parse_hex(&p, &size) || (*p != ' ' && *p != '\t') || !size || start + size < start)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return false;
	e->start = start;
	e->end = start + size;
	e->name_off = (__u32)(p - line); /* made absolute by the caller */
	return true;
}

static int entry_by_start(const void *a, const void *b)
{
	const struct raw_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A max-heap of entry indexes by seq: the newest line among those whose
 * range is open at the sweep's position */
struct heap {
	__u32 *v;
	size_t n;
};

static void heap_push(struct heap *h, const struct raw_entry *e, __u32 i)
{
	size_t at = h->n++, up;

	while (at && e[h->v[up = (at - 1) / 2]].seq < e[i].seq) {
		h->v[at] = h->v[up];
		at = up;
	}
	h->v[at] = i;
}

static void heap_pop(struct heap *h, const struct raw_entry *e)
{
	__u32 last = h->v[--h->n];
	size_t at = 0, child;

	while ((child = 2 * at + 1) < h->n) {
		if (child + 1 < h->n && e[h->v[child + 1]].seq > e[h->v[child]].seq)
			child++;
		if (e[h->v[child]].seq <= e[last].seq)
			break;
		h->v[at] = h->v[child];
		at = child;
	}
	if (h->n)
		h->v[at] = last;
}

/* The ranges where each line is the newest: a sweep over the starts in
 * order, the open lines in a heap by line order (those whose range ended
 * leave it when they reach the top). O(n log n) in lines. */
static int settle_overlaps(struct perf_map *m)
{
	struct raw_entry *e = m->entries;
	struct heap h = { .v = malloc((m->nentries + 1) * sizeof(__u32)) };
	size_t i = 0;
	__u64 pos = 0, next;
	__u32 top;

	/* at most two ranges per line: where it starts, and where it is
	 * the newest again after a newer line inside it ended */
	m->ranges = malloc((2 * m->nentries + 1) * sizeof(*m->ranges));
	if (!h.v || !m->ranges) {
		free(h.v);
		return -ENOMEM;
	}
	if (m->nentries)
		qsort(e, m->nentries, sizeof(*e), entry_by_start);
	while (i < m->nentries || h.n) {
		if (!h.n && pos < e[i].start)
			pos = e[i].start;
		while (i < m->nentries && e[i].start <= pos)
			heap_push(&h, e, i++);
		while (h.n && e[h.v[0]].end <= pos)
			heap_pop(&h, e);
		if (!h.n)
			continue;
		top = h.v[0];
		next = e[top].end;
		if (i < m->nentries && e[i].start < next)
			next = e[i].start;
		if (m->nranges && m->ranges[m->nranges - 1].entry == top &&
		    m->ranges[m->nranges - 1].end == pos) {
			m->ranges[m->nranges - 1].end = next;
		} else {
			/* cannot pass 2n + 1: a range starts at a line's start,
			 * or where a newer line inside one ended */
			m->ranges[m->nranges++] = (struct range){ pos, next, top };
		}
		pos = next;
	}
	free(h.v);
	return 0;
}

struct perf_map *perf_map__parse(const char *text, size_t len)
{
	struct perf_map *m = calloc(1, sizeof(*m));
	size_t cap = 0, off = 0, lines = 0;
	struct raw_entry *grown;
	char *nl, *line;

	if (!m)
		return NULL;
	m->names = malloc(len + 1);
	if (!m->names)
		goto err_out;
	memcpy(m->names, text, len);
	m->names[len] = '\0';
	while (off < len) {
		struct raw_entry e;

		line = m->names + off;
		nl = memchr(line, '\n', len - off);
		if (!nl)
			break; /* still being written */
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		off = nl + 1 - m->names;
		lines++;
		if (!*line)
			continue;
		/* a NUL inside a line ends it early: its name is cut, not its
		 * numbers */
		if (!parse_line(line, &e) || off > UINT32_MAX || lines > UINT32_MAX) {
			m->bad_lines++;
			continue;
		}
		e.name_off += (__u32)(line - m->names);
		e.seq = (__u32)lines;
		if (m->nentries == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(m->entries, cap * sizeof(*grown));
			if (!grown)
				goto err_out;
			m->entries = grown;
		}
		m->entries[m->nentries++] = e;
	}
	if (settle_overlaps(m))
		goto err_out;
	return m;

err_out:
	perf_map__free(m);
	errno = ENOMEM;
	return NULL;
}

bool perf_map__find(const struct perf_map *m, __u64 addr, const char **name, __u64 *offset)
{
	size_t lo = 0, hi = m ? m->nranges : 0;
	const struct raw_entry *e;

	/* the last range starting at or below addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->ranges[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= m->ranges[lo - 1].end)
		return false;
	e = &m->entries[m->ranges[lo - 1].entry];
	*name = m->names + e->name_off;
	*offset = addr - e->start;
	return true;
}

size_t perf_map__count(const struct perf_map *m)
{
	return m ? m->nranges : 0;
}

size_t perf_map__bad_lines(const struct perf_map *m)
{
	return m ? m->bad_lines : 0;
}

bool perf_map__truncated(const struct perf_map *m)
{
	return m && m->truncated;
}

/* --- the process's owner --- */

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int perf_map_owner__read(const char *proc_root, pid_t pid, struct perf_map_owner *out)
{
	char path[256], buf[4096], *p;
	unsigned long long ticks = 0;
	unsigned int ids[4];
	bool have_uid = false;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int i;

	if (!proc_root)
		proc_root = "/proc";
	snprintf(path, sizeof(path), "%s/%d/status", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "Uid: %u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) == 4) {
			have_uid = true;
			break;
		}
	fclose(f);
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* the name may hold spaces and ')': the fields follow the last ')' */
	p = p ? strrchr(buf, ')') : NULL;
	/* state is field 3, starttime field 22 */
	for (i = 3; p && i <= 22; i++) {
		p = strchr(p + 1, ' ');
		if (p && i == 22 && sscanf(p + 1, "%llu", &ticks) != 1)
			p = NULL;
	}
	if (!have_uid || !p || hz <= 0)
		return -EINVAL;
	out->uid = ids[3];
	/* starttime counts ticks of the boot clock; mtimes are real time */
	out->start_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME) +
			ticks * (1000000000ULL / (unsigned long long)hz);
	return 0;
}

/* --- reading a map --- */

static int read_tail(int fd, size_t size, size_t max_bytes, char **text, size_t *len,
		     bool *truncated)
{
	size_t want = size > max_bytes ? max_bytes : size, got = 0;
	off_t from = (off_t)(size - want);
	char *buf = malloc(want + 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	while (got < want) {
		n = pread(fd, buf + got, want - got, from + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (!n)
			break; /* cut short meanwhile */
		got += (size_t)n;
	}
	*text = buf;
	*len = got;
	*truncated = from > 0;
	if (from > 0) {
		/* the first line read is a part of one */
		char *nl = memchr(buf, '\n', got);

		got = nl ? got - (size_t)(nl + 1 - buf) : 0;
		memmove(buf, nl ? nl + 1 : buf, got);
		*len = got;
	}
	return 0;
}

int perf_map__open(const char *path, const struct perf_map_owner *owner)
{
	struct stat st;
	__u64 mtime_ns;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* -ELOOP for a symlink */
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	mtime_ns = (__u64)st.st_mtim.tv_sec * 1000000000ULL + (__u64)st.st_mtim.tv_nsec;
	if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_uid != owner->uid)
		err = -EPERM;
	else if (mtime_ns + PERF_MAP_START_SLACK_NS < owner->start_ns)
		err = -ESTALE; /* a map of an earlier process with this pid */
	else
		return fd;
	close(fd);
	return err;
}

struct perf_map *perf_map__read_fd(int fd, size_t max_bytes)
{
	struct perf_map *m = NULL;
	bool truncated = false;
	char *text = NULL;
	struct stat st;
	size_t len = 0;
	int err;

	if (fstat(fd, &st))
		return NULL;
	err = read_tail(fd, (size_t)st.st_size, max_bytes, &text, &len, &truncated);
	if (!err) {
		m = perf_map__parse(text, len);
		if (m)
			m->truncated = truncated;
		else
			err = -ENOMEM;
	}
	free(text);
	if (err)
		errno = -err;
	return m;
}

struct perf_map *perf_map__read(const char *path, const struct perf_map_owner *owner,
				size_t max_bytes)
{
	struct perf_map *m;
	int fd = perf_map__open(path, owner), err;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	m = perf_map__read_fd(fd, max_bytes);
	err = errno;
	close(fd);
	errno = err;
	return m;
}

/* --- the book --- */

struct book_entry {
	pid_t tgid;
	bool noted; /* owner known */
	bool refused; /* counted once */
	struct perf_map_owner owner;
	struct perf_map *map;
	int held_fd; /* checked at its exit, read at the end; -1: none */
};

struct perf_map_book {
	char *dir, *proc_root;
	struct book_entry *v;
	size_t n, cap;
	struct u64_set index; /* 1 << 63 | tgid -> index in v */
	size_t refused;
	size_t held;
};

struct perf_map_book *perf_map_book__new(const char *dir, const char *proc_root)
{
	struct perf_map_book *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->dir = strdup(dir ? dir : "/tmp");
	b->proc_root = strdup(proc_root ? proc_root : "/proc");
	if (!b->dir || !b->proc_root) {
		perf_map_book__free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

void perf_map_book__free(struct perf_map_book *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++) {
		perf_map__free(b->v[i].map);
		if (b->v[i].held_fd >= 0)
			close(b->v[i].held_fd);
	}
	free(b->v);
	u64_set__release(&b->index);
	free(b->dir);
	free(b->proc_root);
	free(b);
}

static struct book_entry *book_find(const struct perf_map_book *b, pid_t tgid)
{
	__u32 i;

	return u64_set__get(&b->index, 1ULL << 63 | (__u32)tgid, &i) ? &b->v[i] : NULL;
}

int perf_map_book__note(struct perf_map_book *b, pid_t tgid)
{
	struct book_entry *e = book_find(b, tgid), *grown;
	struct perf_map_owner owner;
	bool added;
	__u32 *slot;
	int err;

	if (!e) {
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 32;

			grown = realloc(b->v, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			b->v = grown;
			b->cap = cap;
		}
		slot = u64_set__slot(&b->index, 1ULL << 63 | (__u32)tgid, &added);
		if (!slot)
			return -ENOMEM;
		*slot = b->n;
		e = &b->v[b->n++];
		memset(e, 0, sizeof(*e));
		e->tgid = tgid;
		e->held_fd = -1;
	}
	err = perf_map_owner__read(b->proc_root, tgid, &owner);
	if (!err) {
		e->owner = owner;
		e->noted = true;
	}
	return err;
}

/* The checked map of e, open: an fd or -errno, a refusal counted once */
static int book_open(struct perf_map_book *b, struct book_entry *e)
{
	char path[4200];
	int fd;

	if (!e || !e->noted)
		return -ESRCH;
	snprintf(path, sizeof(path), "%s/perf-%d.map", b->dir, e->tgid);
	fd = perf_map__open(path, &e->owner);
	if (fd < 0 && fd != -ENOENT && fd != -ENOMEM && fd != -EMFILE && fd != -ENFILE &&
	    !e->refused) {
		e->refused = true;
		b->refused++;
	}
	return fd;
}

static int book_read_fd(struct book_entry *e, int fd)
{
	struct perf_map *m = perf_map__read_fd(fd, PERF_MAP_MAX_BYTES);
	int err = m ? 0 : -errno;

	close(fd);
	if (m) {
		perf_map__free(e->map);
		e->map = m;
	}
	return err;
}

int perf_map_book__hold(struct perf_map_book *b, pid_t tgid)
{
	struct book_entry *e = book_find(b, tgid);
	int fd = book_open(b, e);

	if (fd < 0)
		return fd;
	if (e->held_fd >= 0) {
		close(e->held_fd);
		b->held--;
	}
	e->held_fd = -1;
	if (b->held >= PERF_MAP_MAX_HELD)
		return book_read_fd(e, fd);
	e->held_fd = fd;
	b->held++;
	return 0;
}

int perf_map_book__read(struct perf_map_book *b, pid_t tgid)
{
	struct book_entry *e = book_find(b, tgid);
	int fd;

	if (e && e->held_fd >= 0) {
		fd = e->held_fd;
		e->held_fd = -1;
		b->held--;
	} else {
		fd = book_open(b, e);
		if (fd < 0)
			return fd;
	}
	return book_read_fd(e, fd);
}

void perf_map_book__read_held(struct perf_map_book *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].held_fd >= 0)
			perf_map_book__read(b, b->v[i].tgid);
}

const struct perf_map *perf_map_book__get(const struct perf_map_book *b, pid_t tgid)
{
	const struct book_entry *e = b ? book_find(b, tgid) : NULL;

	return e ? e->map : NULL;
}

size_t perf_map_book__refused(const struct perf_map_book *b)
{
	return b ? b->refused : 0;
}
