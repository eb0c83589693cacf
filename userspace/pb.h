/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small protocol-buffers encoder: the wire format's varint (type 0) and
 * length-delimited (type 2) fields, which is all profile.proto needs
 * (ints, bools, strings, packed repeated ints and nested messages).
 *
 * Why not Debian's libprotobuf-c: it needs the .proto compiled by
 * protoc-c into generated sources (a build step and a second package for
 * the compiler), and it builds each message as a tree of C structs before
 * packing; the profile is written once, field by field, so appending the
 * bytes directly costs less memory and no dependency.
 *
 * A nested message is written into a pb_buf of its own and appended with
 * pb__message() (its length goes first, so it must be known). Errors are
 * sticky: after an allocation fails every call does nothing and
 * pb_buf.failed stays set; check it once at the end.
 *
 * Lifecycle: a zeroed pb_buf is empty; pb__reset() empties it keeping its
 * memory; pb__free() releases it.
 */
#ifndef __WEFT_PB_H
#define __WEFT_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct pb_buf {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

void pb__free(struct pb_buf *b);
void pb__reset(struct pb_buf *b);

/* A bare varint (no key) */
void pb__varint(struct pb_buf *b, __u64 v);
/* Field number field as a varint; int64 values go as their two's
 * complement (ten bytes when negative), as protobuf does */
void pb__uint(struct pb_buf *b, unsigned int field, __u64 v);
/* As pb__uint, but a value of 0 is left out (proto3's default) */
void pb__uint_nz(struct pb_buf *b, unsigned int field, __u64 v);
/* Length-delimited: bytes, a string, a nested message's bytes */
void pb__bytes(struct pb_buf *b, unsigned int field, const void *data, size_t len);
void pb__string(struct pb_buf *b, unsigned int field, const char *s);
void pb__message(struct pb_buf *b, unsigned int field, const struct pb_buf *msg);
/* msg's bytes as they are (fields of the same message) */
void pb__append(struct pb_buf *b, const struct pb_buf *msg);
/* A packed repeated field of varints (left out when n is 0) */
void pb__packed(struct pb_buf *b, unsigned int field, const __u64 *v, size_t n);

/* Decoding, for tests and checks: reads one varint at *pos (advanced);
 * 0, or -EINVAL when the buffer ends first or it is longer than 10 bytes */
int pb__read_varint(const unsigned char *p, size_t len, size_t *pos, __u64 *v);

#endif /* __WEFT_PB_H */
