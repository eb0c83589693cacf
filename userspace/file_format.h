/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The recording file's layout, for its writer (file_write.c) and its
 * reader (file_read.c); other modules use file.h.
 *
 * Every integer of the format itself is little-endian; event records keep
 * the byte order of the machine that recorded them (the header says which,
 * and a reader of the other order refuses the file).
 *
 * File header, 24 bytes:
 *    0  char magic[8]   "WEFTREC\0"
 *    8  u16  major      WEFT_FORMAT_MAJOR; a reader refuses a larger one,
 *                       and reads older ones down to
 *                       WEFT_FORMAT_MAJOR_OLDEST (file.h says how)
 *   10  u16  minor      readers of the same major read every minor: a
 *                       minor may add section types, which they skip and
 *                       count (weft_file__unknown_sections())
 *   12  u32  flags      FILE_BIG_ENDIAN: records are big-endian
 *   16  u32  reserved   0
 *   20  u32  hcrc       crc32 of bytes 0..19
 *
 * Then sections, back to back to the end of the file, each a 24-byte
 * header and its payload:
 *    0  u16  type       enum weft_section_type; unknown types are skipped
 *    2  u16  flags      SEC_DEFLATE: the payload is raw deflate (no zlib
 *                       header: the crc below already checks it)
 *    4  u32  aux        EVENTS: the stream; else 0
 *    8  u32  length     payload bytes as stored
 *   12  u32  raw_length payload bytes once inflated
 *   16  u32  crc        crc32 of the stored payload
 *   20  u32  hcrc       crc32 of bytes 0..19 of this header
 *
 * The header's own crc is checked before its length is trusted, so a
 * flipped bit in a length is reported as corruption, not taken for a cut;
 * a partial header or payload at the end of the file is a cut (the
 * recorder was killed, the disk filled): the file reads as truncated, up
 * to its last whole section. The recorder appends sections as it goes:
 * META (start), EVENTS chunks of every stream interleaved in the order they
 * filled, TASKS/MAPS as processes appear, META (end), STACKS, SYMBOLS,
 * END; then `weft compare` may append NOTES.
 *
 * Payloads, once inflated (varint: unsigned LEB128; zigzag: signed values
 * as varints of (v << 1) ^ (v >> 63)):
 *   META, NOTES  a weft_kv: key NUL value NUL, ...
 *   EVENTS       varint stream, varint count, varint len_bytes,
 *                varint ts_bytes, then three columns:
 *                  lengths:    count varints, each record's size (>= 16)
 *                  timestamps: count zigzags, each record's ts_ns minus
 *                              the previous one's in this chunk (the first
 *                              against 0): small, and negative when a
 *                              record came out of order
 *                  bodies:     each record's bytes after ts_ns, as written
 *                Columns, because they let deflate see what repeats: the
 *                bodies of a context-switch storm are a few tids and
 *                states over and over, which it matches at short
 *                distances, and the timestamps become two bytes of
 *                near-constant delta instead of eight of counter.
 *                Each chunk decodes on its own.
 *   END          varint nstreams, then per stream varint events and
 *                varint chunks, then varint sections written before END
 *   TASKS, MAPS, STACKS, SYMBOLS: defined by the recorder that writes them
 */
#ifndef __WEFT_FILE_FORMAT_H
#define __WEFT_FILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define FILE_MAGIC "WEFTREC"
#define FILE_HDR_SIZE 24
#define FILE_BIG_ENDIAN 0x1
#define SEC_HDR_SIZE 24
#define SEC_DEFLATE 0x1
#define SEC_KNOWN_FLAGS SEC_DEFLATE
/* Deflate cannot expand data more than about 1032 times: a raw_length
 * beyond that for its stored length is a lie, caught before allocating. */
#define DEFLATE_MAX_RATIO 1032ULL
#define DEFAULT_LEVEL 3

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_FLAGS FILE_BIG_ENDIAN
#else
#define HOST_FLAGS 0
#endif

static inline void put_le16(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline unsigned int get_le16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t get_le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	p[n++] = v;
	return n;
}

/* 0, or -1 if the varint runs past end or over 64 bits. */
static inline int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	const unsigned char *q = *p;
	uint64_t r = 0;
	int shift;

	for (shift = 0; shift < 64 && q < end; shift += 7) {
		r |= (uint64_t)(*q & 0x7f) << shift;
		if (!(*q++ & 0x80)) {
			*p = q;
			*v = r;
			return 0;
		}
	}
	return -1;
}

/* --- writing sections --- */

struct part {
	const void *p;
	size_t len;
};

/* What writes sections: the writer's, and append_notes()'s. */
struct sec_out {
	z_stream zs;
	bool zs_ready;
	int level;
	unsigned char *out;
	size_t out_cap;
};

int sec_out__init(struct sec_out *so, int level);
void sec_out__fini(struct sec_out *so);
/* One section of type and aux, its payload the parts deflated, appended
 * to fd; bytes counts what was written. 0 or -errno. */
int write_section(struct sec_out *so, int fd, unsigned int type, unsigned int aux,
		  const struct part *parts, int nparts, unsigned long long *bytes);

#endif
