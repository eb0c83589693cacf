/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small strict JSON reader for the tests (RFC 8259: no trailing commas,
 * no NaN, no raw control characters, valid UTF-8), so that what weft
 * writes is read back by something other than its own writer, with nothing
 * but libc. json_parse() gives a tree of struct jv (NULL for text that is
 * not exactly one JSON value); jv_free() frees it; jget() looks a key up.
 * Each test file that includes it gets its own copy. */
#ifndef __WEFT_TESTS_JSON_CHECK_H
#define __WEFT_TESTS_JSON_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* a test file may use only some of them */
#define JSON_CHECK_FN static __attribute__((unused))

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	bool b;
	double num;
	bool integer; /* no fraction, no exponent */
	char *s;
	size_t slen;
	struct jv **items;
	char **keys;
	size_t n;
};

struct jp {
	const char *p, *end;
	int depth;
};

JSON_CHECK_FN void jv_free(struct jv *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		jv_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	free(v);
}

JSON_CHECK_FN void ws(struct jp *p)
{
	/* not strchr(): it would take the string's NUL for whitespace */
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\r' || *p->p == '\n'))
		p->p++;
}

JSON_CHECK_FN bool lit(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->p) < n || memcmp(p->p, word, n))
		return false;
	p->p += n;
	return true;
}

JSON_CHECK_FN int hex4(const char *s)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

JSON_CHECK_FN size_t put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | (cp >> 18);
	o[1] = 0x80 | ((cp >> 12) & 0x3f);
	o[2] = 0x80 | ((cp >> 6) & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* length of the well-formed UTF-8 sequence at s, 0 if none */
JSON_CHECK_FN size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (avail < n)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	if (s[0] == 0xed)
		hi = 0x9f;
	if (s[0] == 0xf0)
		lo = 0x90;
	if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

JSON_CHECK_FN char *parse_string(struct jp *p, size_t *len)
{
	char *out, *o;

	if (p->p >= p->end || *p->p != '"')
		return NULL;
	p->p++;
	out = o = malloc(4 * (p->end - p->p) + 1);
	if (!out)
		return NULL;
	while (p->p < p->end && *p->p != '"') {
		unsigned char c = *p->p;

		if (c < 0x20)
			goto bad;
		if (c == '\\') {
			if (++p->p >= p->end)
				goto bad;
			switch (*p->p) {
			case '"':
			case '\\':
			case '/':
				*o++ = *p->p;
				break;
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'u': {
				int cp, lo;

				if (p->end - p->p < 5 || (cp = hex4(p->p + 1)) < 0)
					goto bad;
				p->p += 4;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (p->end - p->p < 7 || p->p[1] != '\\' ||
					    p->p[2] != 'u' || (lo = hex4(p->p + 3)) < 0xdc00 ||
					    lo > 0xdfff)
						goto bad;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p->p += 6;
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					goto bad;
				}
				o += put_utf8(o, cp);
				break;
			}
			default:
				goto bad;
			}
			p->p++;
		} else {
			size_t n = utf8_len((const unsigned char *)p->p, p->end - p->p);

			if (!n)
				goto bad;
			memcpy(o, p->p, n);
			o += n;
			p->p += n;
		}
	}
	if (p->p >= p->end)
		goto bad;
	p->p++;
	*o = '\0';
	*len = o - out;
	return out;
bad:
	free(out);
	return NULL;
}

JSON_CHECK_FN bool parse_number(struct jp *p, struct jv *v)
{
	const char *s = p->p;
	char *buf;

	v->integer = true;
	if (p->p < p->end && *p->p == '-')
		p->p++;
	if (p->p >= p->end)
		return false;
	if (*p->p == '0') {
		p->p++;
	} else if (*p->p >= '1' && *p->p <= '9') {
		while (p->p < p->end && *p->p >= '0' && *p->p <= '9')
			p->p++;
	} else {
		return false;
	}
	if (p->p < p->end && *p->p == '.') {
		v->integer = false;
		if (++p->p >= p->end || *p->p < '0' || *p->p > '9')
			return false;
		while (p->p < p->end && *p->p >= '0' && *p->p <= '9')
			p->p++;
	}
	if (p->p < p->end && (*p->p == 'e' || *p->p == 'E')) {
		v->integer = false;
		p->p++;
		if (p->p < p->end && (*p->p == '+' || *p->p == '-'))
			p->p++;
		if (p->p >= p->end || *p->p < '0' || *p->p > '9')
			return false;
		while (p->p < p->end && *p->p >= '0' && *p->p <= '9')
			p->p++;
	}
	buf = strndup(s, p->p - s);
	if (!buf)
		return false;
	v->num = strtod(buf, NULL);
	free(buf);
	return isfinite(v->num);
}

JSON_CHECK_FN struct jv *parse_value(struct jp *p);

JSON_CHECK_FN bool add_item(struct jv *v, struct jv *item, char *key)
{
	struct jv **items = realloc(v->items, (v->n + 1) * sizeof(*items));

	if (!items)
		return false;
	v->items = items;
	if (v->t == J_OBJ) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

		if (!keys)
			return false;
		v->keys = keys;
		v->keys[v->n] = key;
	}
	v->items[v->n++] = item;
	return true;
}

JSON_CHECK_FN struct jv *parse_value(struct jp *p)
{
	struct jv *v = calloc(1, sizeof(*v));

	if (!v || ++p->depth > 64)
		goto bad;
	ws(p);
	if (p->p >= p->end)
		goto bad;
	switch (*p->p) {
	case 'n':
		if (!lit(p, "null"))
			goto bad;
		v->t = J_NULL;
		break;
	case 't':
	case 'f':
		v->t = J_BOOL;
		v->b = *p->p == 't';
		if (!lit(p, v->b ? "true" : "false"))
			goto bad;
		break;
	case '"':
		v->t = J_STR;
		if (!(v->s = parse_string(p, &v->slen)))
			goto bad;
		break;
	case '[':
	case '{': {
		bool obj = *p->p == '{';
		char close = obj ? '}' : ']';

		v->t = obj ? J_OBJ : J_ARR;
		p->p++;
		ws(p);
		if (p->p < p->end && *p->p == close) {
			p->p++;
			break;
		}
		for (;;) {
			char *key = NULL;
			struct jv *item;
			size_t klen, i;

			if (obj) {
				ws(p);
				if (!(key = parse_string(p, &klen)))
					goto bad;
				for (i = 0; i < v->n; i++)
					if (!strcmp(v->keys[i], key))
						break;
				ws(p);
				if (i < v->n || p->p >= p->end || *p->p != ':') {
					free(key);
					goto bad;
				}
				p->p++;
			}
			item = parse_value(p);
			if (!item || !add_item(v, item, key)) {
				jv_free(item);
				free(key);
				goto bad;
			}
			ws(p);
			if (p->p < p->end && *p->p == ',') {
				p->p++;
				continue;
			}
			if (p->p < p->end && *p->p == close) {
				p->p++;
				break;
			}
			goto bad;
		}
		break;
	}
	default:
		v->t = J_NUM;
		if (!parse_number(p, v))
			goto bad;
	}
	p->depth--;
	return v;
bad:
	jv_free(v);
	return NULL;
}

/* The whole text must be one value and whitespace. */
JSON_CHECK_FN struct jv *json_parse(const char *text, size_t len)
{
	struct jp p = { text, text + len, 0 };
	struct jv *v = parse_value(&p);

	ws(&p);
	if (v && p.p != p.end) {
		jv_free(v);
		return NULL;
	}
	return v;
}

JSON_CHECK_FN const struct jv *jget(const struct jv *obj, const char *key)
{
	size_t i;

	if (!obj || obj->t != J_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

#ifdef fail_msg
/* With cmocka included first: obj's value at key, failing the test when
 * it is missing or of another type */
JSON_CHECK_FN const struct jv *jneed(const struct jv *obj, const char *key, enum jtype t)
{
	const struct jv *v = jget(obj, key);

	if (!v)
		fail_msg("key \"%s\" missing", key);
	if (v->t != t)
		fail_msg("key \"%s\" has type %d, want %d", key, v->t, t);
	return v;
}
#endif

#endif /* __WEFT_TESTS_JSON_CHECK_H */
