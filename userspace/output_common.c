// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What every report writer says the same way (output.h): durations,
 * the command line, names made printable, the stacks sentence and the
 * unread-records warning. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "stack_summary.h"

char *output_fmt_duration(char *buf, size_t size, double s)
{
	double a = fabs(s);

	if (!isfinite(s) || a == 0)
		snprintf(buf, size, "0 s");
	else if (a >= 1)
		snprintf(buf, size, "%.3f s", s);
	else if (a >= 1e-3)
		snprintf(buf, size, "%.2f ms", s * 1e3);
	else if (a >= 1e-6)
		snprintf(buf, size, "%.1f us", s * 1e6);
	else
		snprintf(buf, size, "%.0f ns", s * 1e9);
	return buf;
}

void output_sanitize(char *dst, size_t size, const char *src)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; src[i] && i + 1 < size; i++) {
		unsigned char c = src[i];

		dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-",
			    *s))
			return false;
	return true;
}

char *output_command_line(const struct weft_metrics *m)
{
	size_t len = 1, i, j;
	char *buf, *p;

	/* worst case: every byte a quote, each becoming '\'' (4 bytes) */
	for (i = 0; i < m->command_len; i++)
		len += 4 * strlen(m->command[i]) + 3;
	buf = malloc(len);
	if (!buf)
		return NULL;
	p = buf;
	for (i = 0; i < m->command_len; i++) {
		const char *arg = m->command[i];
		bool quote = !shell_safe(arg);

		if (i)
			*p++ = ' ';
		if (quote)
			*p++ = '\'';
		for (j = 0; arg[j]; j++) {
			unsigned char c = arg[j];

			if (quote && c == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
			}
		}
		if (quote)
			*p++ = '\'';
	}
	*p = '\0';
	return buf;
}

/* Appends to buf at *off, never past size */
static void append(char *buf, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	va_end(ap);
	*off = n < 0 ? size : *off + (size_t)n;
}

char *output_unread_line(char *buf, size_t size, const struct weft_metrics *m)
{
	char records[48] = "", sections[48] = "";

	if (m->unread_records)
		snprintf(records, sizeof(records), "%llu record%s",
			 (unsigned long long)m->unread_records, m->unread_records == 1 ? "" : "s");
	if (m->unread_sections)
		snprintf(sections, sizeof(sections), "%u section%s", m->unread_sections,
			 m->unread_sections == 1 ? "" : "s");
	snprintf(buf, size,
		 "%s%s%s of kinds this weft does not know were left out (recorded by a newer "
		 "weft); figures may be incomplete",
		 records, records[0] && sections[0] ? " and " : "", sections);
	return buf;
}

char *output_stacks_line(char *buf, size_t size, const struct stack_capture *c)
{
	const char *sep = "";
	size_t off = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!c || !c->recorded) {
		append(buf, size, &off, "none in the recording");
		return buf;
	}
	/* settings an older recording does not state are left out */
	if (c->user_unwind) {
		append(buf, size, &off, "user stacks by %s",
		       !strcmp(c->user_unwind, "tables") ? "unwind tables" :
		       !strcmp(c->user_unwind, "fp")	 ? "frame pointers" :
							   c->user_unwind);
		sep = ", ";
	}
	if (c->stack_audit)
		append(buf, size, &off,
		       "%soff-CPU stacks at every blocking switch (an audit: those the sampling "
		       "would skip are marked)",
		       sep);
	else if (c->stack_every == 1 && !c->stack_rate)
		append(buf, size, &off, "%soff-CPU stacks at every blocking switch", sep);
	else if (c->stack_every) {
		char rate[48] = "";

		if (c->stack_rate)
			snprintf(rate, sizeof(rate), ", at most %u a second per CPU",
				 c->stack_rate);
		append(buf, size, &off,
		       "%soff-CPU stacks at 1 blocking switch in %u per thread%s (each with the "
		       "blocked time of the skipped ones of its kind)",
		       sep, c->stack_every, rate);
	}
	if (c->stack_every)
		sep = ", ";
	if (c->sample_hz) {
		append(buf, size, &off, "%s%u Hz samples", sep, c->sample_hz);
		sep = ", ";
	}
	if (c->has_failures) {
		append(buf, size, &off, "%s%llu failure%s", sep, (unsigned long long)c->failures,
		       c->failures == 1 ? "" : "s");
		sep = ", ";
	}
	append(buf, size, &off, "%s%llu of %llu user stack%s cut short", sep,
	       (unsigned long long)c->user_stacks_cut_short, (unsigned long long)c->user_stacks,
	       c->user_stacks == 1 ? "" : "s");
	if (c->user_stacks_cut_short && c->has_blocked && c->blocked_ns)
		append(buf, size, &off, " (%.1f%% of off-CPU time)",
		       100.0 * c->cut_short_ns / c->blocked_ns);
	return buf;
}

FILE *output_file__open(struct output_file *o, const char *path)
{
	struct stat st;
	mode_t mask;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = path;
	/* as most tools read it: standard output */
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return o->f;
	}
	/* A device, a FIFO or a terminal is written in place: a file renamed
	 * over it replaced the node (weft pprof -o /dev/full, as root, left a
	 * regular file at /dev/full) */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "we");
		if (!o->f)
			elog("Failed to create %s: %s", path, strerror(errno));
		return o->f;
	}
	if (asprintf(&o->tmp, "%s.tmp.XXXXXX", path) < 0) {
		o->tmp = NULL;
		elog("Failed to create %s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		elog("Failed to create %s: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return NULL;
	}
	/* mkstemp makes it 0600; give the file the mode a new file gets */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		elog("Failed to create %s: %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	return o->f;
}

const char *output_file__name(const struct output_file *o)
{
	return o->path && strcmp(o->path, "-") ? o->path : "standard output";
}

int output_file__close(struct output_file *o, bool ok)
{
	int err = 0;

	if (o->f && (fflush(o->f) || ferror(o->f)))
		err = -(errno ? errno : EIO);
	if (o->f && o->f != stdout && fclose(o->f) && !err)
		err = -errno;
	o->f = NULL;
	if (ok && err) {
		elog("Failed to write %s: %s", output_file__name(o), strerror(-err));
	} else if (ok && o->tmp && rename(o->tmp, o->path)) {
		err = -errno;
		elog("Failed to rename %s to %s: %s", o->tmp, o->path, strerror(errno));
	}
	if (o->tmp && (!ok || err))
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return ok ? err : 0;
}
