// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Once a reader has started its prefetch thread, glibc locks the stream at
 * every fputc, for good: a timeline of 1.5M events spent a quarter of its
 * time there. A writer's stream is written by one thread only. */
#define fputc fputc_unlocked
#define fputs fputs_unlocked
#define fwrite fwrite_unlocked
#define ferror ferror_unlocked

struct json_frame {
	bool object;
	bool first; /* nothing written in it yet */
	bool flat;
	bool has_key; /* an object's key waits for its value */
};

struct json_writer {
	FILE *out;
	unsigned int flags;
	int err;
	bool done; /* the top-level value is written */
	unsigned int depth;
	struct json_frame stack[JSON_MAX_DEPTH];
};

struct json_writer *json_writer__new(FILE *out, unsigned int flags)
{
	struct json_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->out = out;
	w->flags = flags;
	return w;
}

void json_writer__free(struct json_writer *w)
{
	free(w);
}

int json_writer__error(const struct json_writer *w)
{
	return w->err;
}

static void fail(struct json_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

static bool pretty(const struct json_writer *w)
{
	return (w->flags & JSON_WRITER_PRETTY) && !(w->depth && w->stack[w->depth - 1].flat);
}

static void newline(struct json_writer *w, unsigned int depth)
{
	unsigned int i;

	fputc('\n', w->out);
	for (i = 0; i < depth; i++)
		fputs("  ", w->out);
}

/* Commas and indentation before a value; false when the value must not
 * be written (an error, or no key before it in an object). */
static bool before_value(struct json_writer *w)
{
	struct json_frame *f;

	if (w->err)
		return false;
	if (!w->depth) {
		if (w->done) {
			fail(w, -EINVAL);
			return false;
		}
		return true;
	}
	f = &w->stack[w->depth - 1];
	if (f->object) {
		if (!f->has_key) {
			fail(w, -EINVAL);
			return false;
		}
		f->has_key = false;
		return true;
	}
	if (!f->first)
		fputs(pretty(w) ? "," : (f->flat && (w->flags & JSON_WRITER_PRETTY) ? ", " : ","),
		      w->out);
	if (pretty(w))
		newline(w, w->depth);
	f->first = false;
	return true;
}

static void after_value(struct json_writer *w)
{
	if (!w->depth)
		w->done = true;
}

int json_write_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	fputc('"', out);
	while (p < end) {
		unsigned char c = *p;
		size_t n = 0;

		if (c < 0x80) {
			switch (c) {
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs("\\\\", out);
				break;
			case '\b':
				fputs("\\b", out);
				break;
			case '\f':
				fputs("\\f", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			default:
				if (c < 0x20)
					fprintf(out, "\\u%04x", c);
				else
					fputc(c, out);
			}
			p++;
			continue;
		}
		/* The length of a well-formed UTF-8 sequence (RFC 3629): no
		 * overlong forms, no surrogates, nothing past U+10FFFF. */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		if (n && (size_t)(end - p) >= n) {
			unsigned char lo = 0x80, hi = 0xbf;
			size_t i;

			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
			else if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
			if (p[1] < lo || p[1] > hi)
				n = 0;
			for (i = 2; n && i < n; i++)
				if (p[i] < 0x80 || p[i] > 0xbf)
					n = 0;
		} else {
			n = 0;
		}
		if (n) {
			fwrite(p, 1, n, out);
			p += n;
		} else {
			fputs("\\ufffd", out);
			p++;
		}
	}
	fputc('"', out);
	return ferror(out) ? -EIO : 0;
}

void json_writer__key(struct json_writer *w, const char *key)
{
	struct json_frame *f;

	if (w->err)
		return;
	if (!w->depth || !w->stack[w->depth - 1].object || w->stack[w->depth - 1].has_key) {
		fail(w, -EINVAL);
		return;
	}
	f = &w->stack[w->depth - 1];
	if (!f->first)
		fputc(',', w->out);
	if (pretty(w))
		newline(w, w->depth);
	else if (!f->first && (w->flags & JSON_WRITER_PRETTY))
		fputc(' ', w->out);
	f->first = false;
	f->has_key = true;
	json_write_string(w->out, key, strlen(key));
	fputs((w->flags & JSON_WRITER_PRETTY) ? ": " : ":", w->out);
}

static void begin(struct json_writer *w, bool object, bool flat)
{
	struct json_frame *f;

	if (!before_value(w))
		return;
	if (w->depth == JSON_MAX_DEPTH) {
		fail(w, -EINVAL);
		return;
	}
	flat = flat || (w->depth && w->stack[w->depth - 1].flat);
	f = &w->stack[w->depth++];
	f->object = object;
	f->first = true;
	f->flat = flat;
	f->has_key = false;
	fputc(object ? '{' : '[', w->out);
}

static void end(struct json_writer *w, bool object)
{
	struct json_frame *f;

	if (w->err)
		return;
	if (!w->depth || w->stack[w->depth - 1].object != object ||
	    w->stack[w->depth - 1].has_key) {
		fail(w, -EINVAL);
		return;
	}
	f = &w->stack[w->depth - 1];
	if (!f->first && pretty(w))
		newline(w, w->depth - 1);
	w->depth--;
	fputc(object ? '}' : ']', w->out);
	after_value(w);
}

void json_writer__object_begin(struct json_writer *w)
{
	begin(w, true, false);
}

void json_writer__object_end(struct json_writer *w)
{
	end(w, true);
}

void json_writer__array_begin(struct json_writer *w)
{
	begin(w, false, false);
}

void json_writer__array_begin_flat(struct json_writer *w)
{
	begin(w, false, true);
}

void json_writer__array_end(struct json_writer *w)
{
	end(w, false);
}

void json_writer__string_len(struct json_writer *w, const char *s, size_t len)
{
	if (!before_value(w))
		return;
	json_write_string(w->out, s ? s : "", s ? len : 0);
	after_value(w);
}

void json_writer__string(struct json_writer *w, const char *s)
{
	json_writer__string_len(w, s, s ? strlen(s) : 0);
}

static void raw(struct json_writer *w, const char *text)
{
	if (!before_value(w))
		return;
	fputs(text, w->out);
	after_value(w);
}

/* The digits of v, ending at end (which gets the NUL); the first digit */
static char *utoa(char *end, unsigned long long v)
{
	*end = '\0';
	do {
		*--end = '0' + v % 10;
		v /= 10;
	} while (v);
	return end;
}

void json_writer__int(struct json_writer *w, long long v)
{
	unsigned long long m = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
	char buf[32], *p = utoa(buf + sizeof(buf) - 1, m);

	if (v < 0)
		*--p = '-';
	raw(w, p);
}

void json_writer__uint(struct json_writer *w, unsigned long long v)
{
	char buf[32];

	raw(w, utoa(buf + sizeof(buf) - 1, v));
}

/* printf follows LC_NUMERIC; JSON wants a dot whatever the user's locale
 * (the formats used never group thousands, so a comma is the decimal
 * point). */
static void c_locale(char *buf)
{
	for (; *buf; buf++)
		if (*buf == ',')
			*buf = '.';
}

void json_writer__double(struct json_writer *w, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		raw(w, "null");
		return;
	}
	snprintf(buf, sizeof(buf), "%.15g", v);
	c_locale(buf);
	raw(w, buf);
}

void json_writer__fixed(struct json_writer *w, double v, int decimals)
{
	char buf[352], *dot, *p;

	if (!isfinite(v)) {
		raw(w, "null");
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 17)
		decimals = 17;
	/* %f of a huge double is long but finite: 309 digits at most */
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	c_locale(buf);
	dot = strchr(buf, '.');
	if (dot) {
		for (p = dot + strlen(dot) - 1; p > dot && *p == '0'; p--)
			*p = '\0';
		if (p == dot)
			*p = '\0';
	}
	if (!strcmp(buf, "-0"))
		strcpy(buf, "0");
	raw(w, buf);
}

void json_writer__fixed_1024(struct json_writer *w, unsigned long long q)
{
	/* q / 1024 has at most 10 decimals, all exact: the fraction's
	 * digits are (q % 1024) * 10^10 / 1024 = (q % 1024) * 9765625 */
	char buf[48], *p = utoa(buf + 24, q >> 10), *d = buf + 24;
	unsigned long long frac = (q & 1023) * 9765625ULL;
	int i;

	if (q >> 53) { /* past a double's exact integers, as printf rounds */
		json_writer__fixed(w, q / 1024.0, 10);
		return;
	}
	if (frac) {
		*d++ = '.';
		for (i = 9; i >= 0; i--, frac /= 10)
			d[i] = '0' + frac % 10;
		for (i = 10; d[i - 1] == '0'; i--)
			;
		d[i] = '\0';
	}
	raw(w, p);
}

void json_writer__bool(struct json_writer *w, bool v)
{
	raw(w, v ? "true" : "false");
}

void json_writer__null(struct json_writer *w)
{
	raw(w, "null");
}

int json_writer__finish(struct json_writer *w)
{
	if (!w->err && (w->depth || !w->done))
		fail(w, -EINVAL);
	if (!w->err)
		fputc('\n', w->out);
	if (!w->err && ferror(w->out))
		fail(w, -EIO);
	return w->err;
}

void json_writer__string_field(struct json_writer *w, const char *key, const char *s)
{
	json_writer__key(w, key);
	json_writer__string(w, s);
}

void json_writer__uint_field(struct json_writer *w, const char *key, unsigned long long v)
{
	json_writer__key(w, key);
	json_writer__uint(w, v);
}

void json_writer__int_field(struct json_writer *w, const char *key, long long v)
{
	json_writer__key(w, key);
	json_writer__int(w, v);
}

void json_writer__bool_field(struct json_writer *w, const char *key, bool v)
{
	json_writer__key(w, key);
	json_writer__bool(w, v);
}

void json_writer__fixed_field(struct json_writer *w, const char *key, double v, int decimals)
{
	json_writer__key(w, key);
	json_writer__fixed(w, v, decimals);
}

void json_writer__null_field(struct json_writer *w, const char *key)
{
	json_writer__key(w, key);
	json_writer__null(w);
}

void json_writer__seconds_field(struct json_writer *w, const char *key, double s)
{
	json_writer__fixed_field(w, key, s, JSON_S_DECIMALS);
}

void json_writer__share_field(struct json_writer *w, const char *key, double v)
{
	json_writer__fixed_field(w, key, v, JSON_SHARE_DECIMALS);
}

void json_writer__maybe_field(struct json_writer *w, const char *key, double v, int decimals,
			      bool known)
{
	json_writer__key(w, key);
	if (known)
		json_writer__fixed(w, v, decimals);
	else
		json_writer__null(w);
}

/* --- reading --- */

struct scan {
	const char *p, *end;
	char *buf; /* a string value, decoded */
	size_t cap, len;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(const char *p, unsigned int *v)
{
	unsigned int i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			d = (p[i] | 0x20) - 'a' + 10;
		else
			return -EINVAL;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A string at s->p (its opening quote), decoded into s->buf as UTF-8;
 * *len its length */
static int scan_string(struct scan *s, size_t *len)
{
	size_t n = 0;
	unsigned int cp, lo;

	s->p++;
	for (;;) {
		if (n + 5 > s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			char *b = realloc(s->buf, cap);

			if (!b)
				return -ENOMEM;
			s->buf = b;
			s->cap = cap;
		}
		if (s->p >= s->end || (unsigned char)*s->p < 0x20)
			return -EINVAL;
		if (*s->p == '"')
			break;
		if (*s->p != '\\') {
			s->buf[n++] = *s->p++;
			continue;
		}
		if (++s->p >= s->end)
			return -EINVAL;
		switch (*s->p++) {
		case '"':
			s->buf[n++] = '"';
			continue;
		case '\\':
			s->buf[n++] = '\\';
			continue;
		case '/':
			s->buf[n++] = '/';
			continue;
		case 'b':
			s->buf[n++] = '\b';
			continue;
		case 'f':
			s->buf[n++] = '\f';
			continue;
		case 'n':
			s->buf[n++] = '\n';
			continue;
		case 'r':
			s->buf[n++] = '\r';
			continue;
		case 't':
			s->buf[n++] = '\t';
			continue;
		case 'u':
			break;
		default:
			return -EINVAL;
		}
		if (s->end - s->p < 4 || hex4(s->p, &cp))
			return -EINVAL;
		s->p += 4;
		/* a surrogate pair is one code point */
		if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 && s->p[0] == '\\' &&
		    s->p[1] == 'u' && !hex4(s->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			s->p += 6;
		} else if (cp >= 0xd800 && cp < 0xe000) {
			cp = 0xfffd;
		}
		if (cp < 0x80) {
			s->buf[n++] = cp;
		} else if (cp < 0x800) {
			s->buf[n++] = 0xc0 | cp >> 6;
			s->buf[n++] = 0x80 | (cp & 0x3f);
		} else if (cp < 0x10000) {
			s->buf[n++] = 0xe0 | cp >> 12;
			s->buf[n++] = 0x80 | ((cp >> 6) & 0x3f);
			s->buf[n++] = 0x80 | (cp & 0x3f);
		} else {
			s->buf[n++] = 0xf0 | cp >> 18;
			s->buf[n++] = 0x80 | ((cp >> 12) & 0x3f);
			s->buf[n++] = 0x80 | ((cp >> 6) & 0x3f);
			s->buf[n++] = 0x80 | (cp & 0x3f);
		}
	}
	s->p++;
	s->buf[n] = '\0';
	*len = s->len = n;
	return 0;
}

static bool digits(struct scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/* A number as RFC 8259 spells it */
static int scan_number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (!digits(s))
		return -EINVAL;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digits(s))
			return -EINVAL;
	}
	if (s->p < s->end && (*s->p | 0x20) == 'e') {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digits(s))
			return -EINVAL;
	}
	return 0;
}

static int scan_value(struct scan *s, int depth, enum json_type *type);

/* An object or array at s->p, checked but not looked into */
static int scan_container(struct scan *s, int depth)
{
	char close = *s->p == '{' ? '}' : ']';
	bool object = close == '}', first = true;
	enum json_type type;
	size_t len;
	int err;

	if (depth >= JSON_MAX_DEPTH)
		return -EINVAL;
	s->p++;
	for (;;) {
		skip_ws(s);
		if (s->p < s->end && *s->p == close && first)
			break;
		if (object) {
			if (s->p >= s->end || *s->p != '"')
				return -EINVAL;
			err = scan_string(s, &len);
			if (err)
				return err;
			skip_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return -EINVAL;
		}
		err = scan_value(s, depth + 1, &type);
		if (err)
			return err;
		skip_ws(s);
		first = false;
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == close)
			break;
		return -EINVAL;
	}
	s->p++;
	return 0;
}

static int scan_value(struct scan *s, int depth, enum json_type *type)
{
	static const char *const literals[] = { "true", "false", "null" };
	size_t len, i;

	skip_ws(s);
	if (s->p >= s->end)
		return -EINVAL;
	if (*s->p == '"') {
		*type = JSON_STRING;
		return scan_string(s, &len);
	}
	if (*s->p == '{' || *s->p == '[') {
		*type = JSON_CONTAINER;
		return scan_container(s, depth);
	}
	for (i = 0; i < 3; i++) {
		len = strlen(literals[i]);
		if ((size_t)(s->end - s->p) >= len && !memcmp(s->p, literals[i], len)) {
			s->p += len;
			*type = JSON_LITERAL;
			return 0;
		}
	}
	*type = JSON_NUMBER;
	return scan_number(s);
}

int json_scan_object(const char *text, size_t len, json_member_fn fn, void *ctx)
{
	struct scan s = { .p = text, .end = text + len };
	char *key = NULL;
	enum json_type type;
	const char *start;
	size_t klen;
	int err = -EINVAL;

	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		goto out;
	/* checked whole first, so that fn never sees part of a bad object */
	err = scan_container(&s, 0);
	if (err)
		goto out;
	skip_ws(&s);
	if (s.p != s.end) {
		err = -EINVAL;
		goto out;
	}
	s.p = text;
	skip_ws(&s);
	s.p++;
	for (;;) {
		skip_ws(&s);
		if (*s.p == '}')
			break;
		err = scan_string(&s, &klen);
		if (err)
			goto out;
		free(key);
		key = strdup(s.buf);
		if (!key) {
			err = -ENOMEM;
			goto out;
		}
		skip_ws(&s);
		s.p++; /* the ':' */
		skip_ws(&s);
		start = s.p;
		err = scan_value(&s, 1, &type);
		if (err)
			goto out;
		err = type == JSON_STRING ? fn(ctx, key, type, s.buf, s.len) :
					    fn(ctx, key, type, start, (size_t)(s.p - start));
		if (err)
			goto out;
		skip_ws(&s);
		if (*s.p == ',')
			s.p++;
	}
	err = 0;
out:
	free(key);
	free(s.buf);
	return err;
}
