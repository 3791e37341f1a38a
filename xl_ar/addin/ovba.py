"""MS-OVBA 2.4.1 compression: the run-length/LZ77 format that VBA uses for module source and the ``dir`` stream.

A CompressedContainer is the signature byte 0x01 followed by CompressedChunks. Each chunk holds at most 4096
decompressed bytes and starts with a 16-bit header: bits 0-11 are the chunk size minus 3, bits 12-14 the signature
0b011, bit 15 the flag (1 = compressed). A compressed chunk is a series of TokenSequences: one flag byte, then up to
8 tokens, each a literal byte (flag bit 0) or a 16-bit CopyToken (flag bit 1) holding an offset back into the chunk
and a length. The split of the CopyToken's bits between offset and length depends on how far into the chunk the
token is (2.4.1.3.19.1 CopyToken Help). A chunk that would not fit in 4098 bytes is stored as a RawChunk: flag 0,
exactly 4096 bytes, padded with 0x00 (2.4.1.3.10) - so only such an incompressible *last* chunk comes back longer.
"""

from __future__ import annotations

import struct

__all__ = ["CHUNK_SIZE", "compress", "decompress"]

CHUNK_SIZE = 4096
_SIGNATURE = 0x01
_CHUNK_SIGNATURE = 0b011
_MAX_CHUNK_BYTES = CHUNK_SIZE + 2  # header included


def _copy_token_help(difference: int) -> tuple[int, int, int]:
    """Bit count, length mask and maximum length for a CopyToken ``difference`` bytes into its chunk.

    MS-OVBA 2.4.1.3.19.1 CopyToken Help: BitCount = max(ceil(log2(difference)), 4) offset bits, the rest for length.
    """
    bit_count = max((difference - 1).bit_length(), 4)
    length_mask = 0xFFFF >> bit_count
    return bit_count, length_mask, length_mask + 3


def _longest_match(chunk: bytes, pos: int, candidates: list[int], max_length: int) -> tuple[int, int]:
    """Longest earlier match for ``chunk[pos:]`` as (length, offset), the closest on ties.

    MS-OVBA 2.4.1.3.19.4 Matching: copies may overlap the bytes being produced; a match shorter than 3 is no match.
    """
    limit = min(max_length, len(chunk) - pos)
    best_length, best_offset = 0, 0
    for candidate in reversed(candidates):
        length = 0
        while length < limit and chunk[candidate + length] == chunk[pos + length]:
            length += 1
        if length > best_length:
            best_length, best_offset = length, pos - candidate
            if length == limit:
                break
    return (best_length, best_offset) if best_length >= 3 else (0, 0)


def _compress_chunk(chunk: bytes) -> bytes:
    """One CompressedChunk (header included) for up to 4096 bytes; a RawChunk when compression does not fit.

    MS-OVBA 2.4.1.3.7 Compressing a DecompressedChunk, 2.4.1.3.8 Compressing a TokenSequence, 2.4.1.3.10 RawChunk.
    """
    out = bytearray()
    positions: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions (hash chains for Matching)
    pos = 0
    while pos < len(chunk):
        flags = 0
        flag_at = len(out)
        out.append(0)
        for bit in range(8):
            if pos >= len(chunk):
                break
            _, _, max_length = _copy_token_help(pos)
            key = chunk[pos : pos + 3]
            length, offset = _longest_match(chunk, pos, positions.get(key, []), max_length) if pos else (0, 0)
            step = length or 1
            if length:
                bit_count = _copy_token_help(pos)[0]
                out += struct.pack("<H", ((offset - 1) << (16 - bit_count)) | (length - 3))
                flags |= 1 << bit
            else:
                out.append(chunk[pos])
            for i in range(pos, pos + step):
                if i + 3 <= len(chunk):
                    positions.setdefault(chunk[i : i + 3], []).append(i)
            pos += step
        out[flag_at] = flags
        if len(out) + 2 > _MAX_CHUNK_BYTES:
            break
    if len(out) + 2 > _MAX_CHUNK_BYTES:
        header = (CHUNK_SIZE - 1) | (_CHUNK_SIGNATURE << 12)  # size field 4095 = 4098 - 3, flag 0
        return struct.pack("<H", header) + chunk.ljust(CHUNK_SIZE, b"\x00")
    header = (len(out) + 2 - 3) | (_CHUNK_SIGNATURE << 12) | 0x8000
    return struct.pack("<H", header) + bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer (2.4.1.3.6 Compression algorithm).

    Empty input gives the signature byte alone. Chunks are independent, 4096 input bytes each.
    """
    data = bytes(data)
    parts = [bytes([_SIGNATURE])]
    parts += [_compress_chunk(data[start : start + CHUNK_SIZE]) for start in range(0, len(data), CHUNK_SIZE)]
    return b"".join(parts)


def _decompress_chunk(body: bytes, where: int) -> bytearray:
    """Decompress the tokens of one compressed chunk (2.4.1.3.2 Decompressing a CompressedChunk).

    Rejects a CopyToken reaching before the chunk start, a truncated token, or more than 4096 output bytes.
    """
    out = bytearray()
    pos = 0
    while pos < len(body):
        flags = body[pos]
        pos += 1
        for bit in range(8):
            if pos >= len(body):
                break
            if not flags & (1 << bit):
                out.append(body[pos])
                pos += 1
            else:
                if pos + 2 > len(body):
                    raise ValueError(f"truncated CopyToken in the chunk at byte {where}")
                (token,) = struct.unpack_from("<H", body, pos)
                pos += 2
                if not out:
                    raise ValueError(f"CopyToken before any literal in the chunk at byte {where}")
                bit_count, length_mask, _ = _copy_token_help(len(out))
                length = (token & length_mask) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out):
                    raise ValueError(f"CopyToken offset {offset} before the start of the chunk at byte {where}")
                if offset >= length:
                    out += out[len(out) - offset : len(out) - offset + length]
                else:
                    pattern = bytes(out[len(out) - offset :])
                    out += (pattern * (length // offset + 1))[:length]
            if len(out) > CHUNK_SIZE:
                raise ValueError(f"the chunk at byte {where} decompresses to more than {CHUNK_SIZE} bytes")
    return out


def decompress(data: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (2.4.1.3.1 Decompression algorithm), strictly.

    Raises ValueError on a wrong signature byte, a wrong chunk signature, a chunk running past the end of the data,
    a RawChunk of other than 4096 bytes, or a CopyToken reaching outside its chunk. Work is linear in the input.
    """
    data = bytes(data)
    if not data or data[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA CompressedContainer: the first byte must be 0x01")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError(f"truncated chunk header at byte {pos}")
        (header,) = struct.unpack_from("<H", data, pos)
        size = (header & 0x0FFF) + 3
        if (header >> 12) & 0b111 != _CHUNK_SIGNATURE:
            raise ValueError(f"bad CompressedChunkSignature at byte {pos}")
        if pos + size > len(data):
            raise ValueError(f"the chunk at byte {pos} claims {size} bytes, only {len(data) - pos} remain")
        if header & 0x8000:
            out += _decompress_chunk(data[pos + 2 : pos + size], pos)
        elif size != _MAX_CHUNK_BYTES:
            raise ValueError(f"RawChunk at byte {pos} must hold {CHUNK_SIZE} bytes, its header says {size - 2}")
        else:
            out += data[pos + 2 : pos + size]
        pos += size
    return bytes(out)
