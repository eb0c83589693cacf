# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Reads and rewrites weft recordings section by section, with valid crcs,
so that a test can make the recordings an older or a newer weft would have
written (the layout is described in userspace/file_format.h)."""
import struct
import zlib

FILE_HDR = 24
SEC_HDR = 24
SEC_DEFLATE = 0x1
SEC_EVENTS = 2


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def get_varint(buf, pos):
    v = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, pos


class Recording:
    def __init__(self, data):
        self.header = bytearray(data[:FILE_HDR])
        self.sections = []  # [type, flags, aux, raw payload]
        pos = FILE_HDR
        while pos + SEC_HDR <= len(data):
            typ, flags, aux, length, raw_len, _crc, _hcrc = struct.unpack_from("<HHIIIII", data, pos)
            payload = data[pos + SEC_HDR:pos + SEC_HDR + length]
            if flags & SEC_DEFLATE:
                payload = zlib.decompress(payload, -15)
            assert len(payload) == raw_len
            self.sections.append([typ, flags, aux, payload])
            pos += SEC_HDR + length

    @classmethod
    def read(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    def set_format(self, major, minor=0):
        struct.pack_into("<HH", self.header, 8, major, minor)

    def write(self, path):
        struct.pack_into("<I", self.header, 20, zlib.crc32(bytes(self.header[:20])))
        out = bytearray(self.header)
        for typ, flags, aux, payload in self.sections:
            stored = payload
            if flags & SEC_DEFLATE:
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                stored = c.compress(payload) + c.flush()
            hdr = struct.pack("<HHIIII", typ, flags, aux, len(stored), len(payload), zlib.crc32(stored))
            out += hdr + struct.pack("<I", zlib.crc32(hdr)) + stored
        with open(path, "wb") as f:
            f.write(out)

    def event_chunks(self):
        return [s for s in self.sections if s[0] == SEC_EVENTS]


def decode_chunk(payload):
    """An EVENTS payload as (stream, [(length, ts delta zigzag, body)])"""
    stream, pos = get_varint(payload, 0)
    count, pos = get_varint(payload, pos)
    len_bytes, pos = get_varint(payload, pos)
    ts_bytes, pos = get_varint(payload, pos)
    lp, tp, bp = pos, pos + len_bytes, pos + len_bytes + ts_bytes
    recs = []
    for _ in range(count):
        length, lp = get_varint(payload, lp)
        zz, tp = get_varint(payload, tp)
        recs.append((length, zz, bytes(payload[bp:bp + length - 8])))
        bp += length - 8
    return stream, recs


def encode_chunk(stream, recs):
    lens = b"".join(varint(r[0]) for r in recs)
    tss = b"".join(varint(r[1]) for r in recs)
    bodies = b"".join(r[2] for r in recs)
    return varint(stream) + varint(len(recs)) + varint(len(lens)) + varint(len(tss)) + lens + tss + bodies


def record_type(body):
    """The type of a record from its body (the header after ts_ns)"""
    return struct.unpack_from("<H", body, 0)[0]
