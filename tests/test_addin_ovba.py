"""MS-OVBA 2.4.1 compression: what ``xl_ar.addin.ovba`` writes, and that an independent reader agrees.

oletools' ``decompress_stream`` is the independent decompressor: every container we write must read back the same
through it as through ours. Sizes in the comments are counted by hand from the format: a container is 1 signature
byte, then per chunk a 2-byte header and flag bytes + 1-byte literals + 2-byte CopyTokens.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xl_ar.addin.ovba import CHUNK_SIZE, _copy_token_help, compress, decompress

XLWINGS_DIR = Path(xlwings.__file__).parent
XLWINGS_SOURCES = sorted(
    [*XLWINGS_DIR.glob("addin/*.bas"), *XLWINGS_DIR.glob("addin/*.cls"), *XLWINGS_DIR.glob("xlwings*.bas")]
)

# MS-OVBA 3.2.2 Copy Token Example: the spec's own compressed bytes for this text.
SPEC_TEXT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
SPEC_COMPRESSED = bytes.fromhex(
    "012FB000236161616263646582660070616768696A013808616B6C00306D6E6F700671027004107273747576107778797A003C"
)


def roundtrip_agrees(data: bytes) -> bytes:
    """Compress, then decompress with ours and with oletools; both must give the same bytes (returned)."""
    packed = compress(data)
    ours = decompress(packed)
    assert decompress_stream(packed) == ours
    return ours


def test_empty_input_is_the_signature_byte_alone() -> None:
    assert compress(b"") == b"\x01"
    assert decompress(b"\x01") == b""


def test_three_distinct_bytes_are_one_chunk_of_literals() -> None:
    # body = flag 0x00 + "abc" = 4 bytes; chunk = 6 bytes, size field 6 - 3 = 3, signature 0b011, flag 1 -> 0xB003
    assert compress(b"abc") == bytes.fromhex("0103B000616263")


def test_a_run_is_one_literal_and_one_overlapping_copy_token() -> None:
    # "a" literal, then offset 1 length 9 at 1 byte into the chunk: 4 offset bits, token (0 << 12) | (9 - 3) = 0x0006
    # flag byte 0b10; body 02 61 06 00 = 4 bytes, chunk 6 bytes -> header 0xB003
    assert compress(b"a" * 10) == bytes.fromhex("0103B002610600")
    assert decompress(bytes.fromhex("0103B002610600")) == b"a" * 10


def test_the_spec_example_decompresses_to_its_text() -> None:
    assert decompress(SPEC_COMPRESSED) == SPEC_TEXT
    assert decompress_stream(SPEC_COMPRESSED) == SPEC_TEXT


def test_the_spec_example_text_compresses_to_the_same_size_and_round_trips() -> None:
    # Matching may pick another equally long earlier match than Office did, so the bytes may differ, the size not.
    assert len(compress(SPEC_TEXT)) == len(SPEC_COMPRESSED)
    assert roundtrip_agrees(SPEC_TEXT) == SPEC_TEXT


@pytest.mark.parametrize(
    ("difference", "bit_count", "max_length"),
    [
        (1, 4, 4098),  # 2.4.1.3.19.1: at least 4 offset bits; 12 length bits -> 0x0FFF + 3
        (16, 4, 4098),
        (17, 5, 2050),  # ceil(log2(17)) = 5 -> 11 length bits -> 0x07FF + 3
        (2048, 11, 34),
        (2049, 12, 18),  # 4 length bits -> 0x000F + 3
        (4096, 12, 18),
    ],
)
def test_copy_token_bit_split_follows_the_position_in_the_chunk(
    difference: int, bit_count: int, max_length: int
) -> None:
    assert _copy_token_help(difference)[0] == bit_count
    assert _copy_token_help(difference)[2] == max_length


def test_exactly_4096_bytes_make_one_chunk() -> None:
    # "a" + one CopyToken of length 4095 (max 4098 at 1 byte in): body 02 61 + token = 4 bytes, chunk 6 bytes
    assert compress(b"a" * CHUNK_SIZE) == bytes.fromhex("0103B00261FC0F")
    assert roundtrip_agrees(b"a" * CHUNK_SIZE) == b"a" * CHUNK_SIZE


def test_4097_bytes_start_a_second_chunk_for_the_last_byte() -> None:
    # second chunk: flag 00 + literal 61 = 2 bytes, chunk 4 bytes, size field 1 -> header 0xB001
    packed = compress(b"a" * (CHUNK_SIZE + 1))
    assert packed == bytes.fromhex("0103B00261FC0F") + bytes.fromhex("01B00061")
    assert roundtrip_agrees(b"a" * (CHUNK_SIZE + 1)) == b"a" * (CHUNK_SIZE + 1)


def test_long_repeats_cost_six_bytes_per_chunk() -> None:
    # 100,000 zero bytes = 24 full chunks + 1696 bytes: each chunk is literal + one CopyToken = 6 bytes
    assert len(compress(bytes(100_000))) == 1 + 25 * 6
    assert roundtrip_agrees(bytes(100_000)) == bytes(100_000)
    assert roundtrip_agrees(b"Dim x As Long\r\n" * 5000) == b"Dim x As Long\r\n" * 5000


def test_incompressible_4096_bytes_are_one_raw_chunk() -> None:
    # RawChunk (2.4.1.3.10): flag 0, size field 4095 -> header 0x3FFF, then the 4096 bytes as they are
    data = random.Random(1).randbytes(CHUNK_SIZE)
    assert compress(data) == b"\x01\xff\x3f" + data
    assert roundtrip_agrees(data) == data


def test_random_4097_bytes_round_trip_exactly() -> None:
    data = random.Random(2).randbytes(CHUNK_SIZE + 1)  # raw chunk + a 1-byte compressed chunk
    assert roundtrip_agrees(data) == data


def test_an_incompressible_short_last_chunk_is_padded_with_zeros() -> None:
    # 4000 random bytes need 4000 + 500 flag bytes > 4096: the spec stores a RawChunk padded to 4096 bytes,
    # so decompression gives the data followed by 96 zero bytes. VBA source text never comes close.
    data = random.Random(3).randbytes(4000)
    assert roundtrip_agrees(data) == data + bytes(96)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3 * CHUNK_SIZE + 7))
def test_any_bytes_come_back_followed_at_most_by_raw_chunk_padding(data: bytes) -> None:
    back = roundtrip_agrees(data)
    assert back[: len(data)] == data
    assert back[len(data) :] == bytes(len(back) - len(data))
    assert len(back) - len(data) < CHUNK_SIZE


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"Sub ", b"\r\n", b"End Sub", b" "]), max_size=3000))
def test_text_like_input_round_trips_exactly(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    assert roundtrip_agrees(data) == data


def test_the_xlwings_sources_are_all_found() -> None:
    names = {path.name for path in XLWINGS_SOURCES}
    assert {"xlwings.bas", "Main.bas", "Dictionary.cls", "WebHelpers.bas"} <= names
    assert len(XLWINGS_SOURCES) >= 14


@pytest.mark.parametrize("path", XLWINGS_SOURCES, ids=lambda path: path.name)
def test_every_xlwings_vba_source_round_trips_and_shrinks(path: Path) -> None:
    data = path.read_bytes()
    assert roundtrip_agrees(data) == data
    assert len(compress(data)) < len(data)


def test_os_random_bytes_of_several_chunks_agree_with_oletools() -> None:
    data = os.urandom(3 * CHUNK_SIZE) + b"tail " * 300
    assert roundtrip_agrees(data) == data


@pytest.mark.parametrize(
    ("packed", "message"),
    [
        (b"", "first byte must be 0x01"),
        (b"\x02\x03\xb0\x00abc", "first byte must be 0x01"),
        (b"\x01\x03", "truncated chunk header"),
        (bytes.fromhex("0103C0") + b"\x00abc", "CompressedChunkSignature"),  # signature bits 0b100
        (bytes.fromhex("0109B000616263"), "claims 12 bytes"),  # size field 9 -> 12, only 6 remain
        (bytes.fromhex("0103300061626364"), "RawChunk"),  # flag 0 with a size other than 4098
        (bytes.fromhex("0102B0026110"), "truncated CopyToken"),  # flag says token, 1 byte left
        (bytes.fromhex("0102B0016100"), "CopyToken before any literal"),
        (bytes.fromhex("0103B0026100F0"), "offset 16 before the start"),  # token 0xF000: offset 16 at 1 byte in
    ],
)
def test_malformed_containers_raise_a_clear_value_error(packed: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decompress(packed)


def test_a_chunk_expanding_past_4096_bytes_is_rejected() -> None:
    # "a" then two tokens of length 4098 (0x0FFF at 1 byte in): the first already makes 4099 bytes
    packed = bytes.fromhex("0105B00661FF0FFF0F")
    with pytest.raises(ValueError, match="more than 4096 bytes"):
        decompress(packed)
