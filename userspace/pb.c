// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

#define WIRE_VARINT 0
#define WIRE_LEN 2

void pb__free(struct pb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void pb__reset(struct pb_buf *b)
{
	b->len = 0;
}

static bool reserve(struct pb_buf *b, size_t more)
{
	size_t cap;
	unsigned char *p;

	if (b->failed)
		return false;
	if (b->len + more <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void append(struct pb_buf *b, const void *data, size_t len)
{
	if (!len || !reserve(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void pb__varint(struct pb_buf *b, __u64 v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	append(b, tmp, n);
}

static void key(struct pb_buf *b, unsigned int field, unsigned int wire)
{
	pb__varint(b, ((__u64)field << 3) | wire);
}

void pb__uint(struct pb_buf *b, unsigned int field, __u64 v)
{
	key(b, field, WIRE_VARINT);
	pb__varint(b, v);
}

void pb__uint_nz(struct pb_buf *b, unsigned int field, __u64 v)
{
	if (v)
		pb__uint(b, field, v);
}

void pb__bytes(struct pb_buf *b, unsigned int field, const void *data, size_t len)
{
	key(b, field, WIRE_LEN);
	pb__varint(b, len);
	append(b, data, len);
}

void pb__string(struct pb_buf *b, unsigned int field, const char *s)
{
	pb__bytes(b, field, s, strlen(s));
}

void pb__message(struct pb_buf *b, unsigned int field, const struct pb_buf *msg)
{
	if (msg->failed) {
		b->failed = true;
		return;
	}
	pb__bytes(b, field, msg->p, msg->len);
}

void pb__append(struct pb_buf *b, const struct pb_buf *msg)
{
	if (msg->failed) {
		b->failed = true;
		return;
	}
	append(b, msg->p, msg->len);
}

static size_t varint_len(__u64 v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

void pb__packed(struct pb_buf *b, unsigned int field, const __u64 *v, size_t n)
{
	size_t len = 0, i;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		len += varint_len(v[i]);
	key(b, field, WIRE_LEN);
	pb__varint(b, len);
	for (i = 0; i < n; i++)
		pb__varint(b, v[i]);
}

int pb__read_varint(const unsigned char *p, size_t len, size_t *pos, __u64 *v)
{
	__u64 r = 0;
	unsigned int shift;

	for (shift = 0; shift < 70; shift += 7) {
		if (*pos >= len)
			return -EINVAL;
		r |= (__u64)(p[*pos] & 0x7f) << shift;
		if (!(p[(*pos)++] & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -EINVAL;
}
