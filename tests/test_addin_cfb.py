"""MS-CFB version 3 writer: what ``xl_ar.addin.cfb.write`` produces, read back by olefile with strict parsing.

olefile is an independent reader; ``raise_defects=DEFECT_INCORRECT`` makes it raise on anything the spec calls
incorrect instead of logging it. Sizes in comments follow the format: 512-byte sectors, 64-byte mini sectors,
streams under 4096 bytes in the mini stream, 128 FAT entries per sector, 109 FAT sector numbers in the header.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import VBA_Parser

from xl_ar.addin.cfb import ENDOFCHAIN, NOSTREAM, name_key, write

VBA_STREAMS = {
    "PROJECT": b'ID="{00000000-0000-0000-0000-000000000000}"\r\nModule=Module1\r\n',
    "PROJECTwm": b"Module1\x00M\x00o\x00d\x00u\x00l\x00e\x001\x00\x00\x00\x00\x00",
    "VBA/_VBA_PROJECT": bytes.fromhex("cc61ffff000100"),
    "VBA/dir": b"d" * 700,
    "VBA/Module1": b"m" * 5000,
}
RIBBON_XLAM = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def read(data: bytes) -> olefile.OleFileIO:
    """Open ``data`` with olefile, raising on every defect it rates incorrect or worse."""
    return olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT)


def header(data: bytes) -> dict[str, int]:
    """The header fields the tests check (MS-CFB 2.2 Compound File Header)."""
    fields = struct.unpack_from("<HHHHH", data, 24)
    counts = struct.unpack_from("<IIIIIIIII", data, 40)
    return {
        "minor": fields[0],
        "major": fields[1],
        "byte_order": fields[2],
        "sector_shift": fields[3],
        "mini_shift": fields[4],
        "fat_sectors": counts[1],
        "mini_cutoff": counts[4],
        "difat_sectors": counts[8],
    }


def test_a_vba_project_layout_reads_back_byte_exact() -> None:
    ole = read(write(VBA_STREAMS))
    for path, data in VBA_STREAMS.items():
        assert ole.openstream(path).read() == data
    assert ole.listdir(streams=True, storages=True) == [
        ["PROJECT"],
        ["PROJECTwm"],
        ["VBA"],
        ["VBA", "Module1"],
        ["VBA", "_VBA_PROJECT"],
        ["VBA", "dir"],
    ]
    assert ole.get_type("VBA") == olefile.STGTY_STORAGE


def test_the_header_is_version_3_with_512_byte_sectors() -> None:
    data = write(VBA_STREAMS)
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert header(data) | {"fat_sectors": 0, "difat_sectors": 0} == {
        "minor": 0x3E,
        "major": 3,
        "byte_order": 0xFFFE,
        "sector_shift": 9,  # 2**9 = 512
        "mini_shift": 6,  # 2**6 = 64
        "fat_sectors": 0,
        "mini_cutoff": 4096,
        "difat_sectors": 0,
    }
    assert len(data) % 512 == 0


def test_an_empty_stream_has_no_sectors() -> None:
    ole = read(write({"empty": b"", "other": b"x"}))
    assert ole.openstream("empty").read() == b""
    assert ole.get_size("empty") == 0
    assert ole.direntries[ole._find("empty")].isectStart == ENDOFCHAIN


def test_a_file_of_only_empty_streams_has_no_mini_stream() -> None:
    data = write({"a": b"", "b": b""})
    ole = read(data)
    assert ole.openstream("a").read() == b""
    # header, 1 FAT sector, 1 directory sector (root, a, b + 1 unused entry)
    assert len(data) == 512 * 3


def test_4095_bytes_go_to_the_mini_stream() -> None:
    ole = read(write({"s": b"q" * 4095}))
    assert ole.direntries[ole._find("s")].is_minifat
    assert ole.openstream("s").read() == b"q" * 4095


def test_4096_bytes_go_to_regular_sectors() -> None:
    ole = read(write({"s": b"q" * 4096}))
    assert not ole.direntries[ole._find("s")].is_minifat
    assert ole.openstream("s").read() == b"q" * 4096


def test_small_streams_share_the_mini_stream_in_64_byte_steps() -> None:
    streams = {f"s{n}": bytes([n]) * n for n in (1, 63, 64, 65, 130)}
    ole = read(write(streams))
    for path, data in streams.items():
        assert ole.openstream(path).read() == data
    root = ole.direntries[0]
    assert root.size == 64 * (1 + 1 + 1 + 2 + 3)  # mini stream: 8 mini sectors


def test_a_stream_over_109_fat_sectors_needs_a_difat_sector() -> None:
    # 7.2 MB = 14,063 sectors; with the directory and FAT that is 111 FAT sectors (128 entries each) > 109
    big = random.Random(4).randbytes(7_200_000)
    data = write({"big": big, "small": b"s"})
    fields = header(data)
    assert fields["fat_sectors"] == 111
    assert fields["difat_sectors"] == 1
    ole = read(data)
    assert ole.openstream("big").read() == big
    assert ole.openstream("small").read() == b"s"


def test_a_chain_of_two_difat_sectors() -> None:
    # 15,872,000 bytes = 31,000 sectors -> 245 FAT sectors: 109 in the header, 127 + 9 in two DIFAT sectors,
    # which sit right after the FAT (sectors 245 and 246); the first points to the second, the second ends the chain
    big = bytes(range(256)) * 62_000
    data = write({"big": big})
    fields = header(data)
    assert (fields["fat_sectors"], fields["difat_sectors"]) == (245, 2)
    assert struct.unpack_from("<I", data, 68) == (245,)
    first, second = (data[512 * (1 + n) : 512 * (2 + n)] for n in (245, 246))
    assert struct.unpack_from("<I", first, 508) == (246,)
    assert struct.unpack_from("<I", second, 508) == (ENDOFCHAIN,)
    assert struct.unpack_from("<10I", second, 0)[-2:] == (244, 0xFFFFFFFF)  # 9 FAT sectors listed, then free
    assert read(data).openstream("big").read() == big


SIZES = st.sampled_from([0, 1, 63, 64, 65, 4095, 4096, 4097, 9000])
NAMES = st.text(alphabet="abAB_1", min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from(["", "VBA/", "VBA/x/"]), NAMES), SIZES, max_size=25))
def test_any_mix_of_sizes_and_storages_reads_back(layout: dict[tuple[str, str], int]) -> None:
    streams: dict[str, bytes] = {}
    seen: set[tuple[str, str]] = set()
    for (folder, name), size in layout.items():
        if (
            (folder, name.upper()) in seen
            or (folder == "" and name.upper() == "VBA")
            or (folder == "VBA/" and name.upper() == "X")
        ):
            continue  # would clash case-insensitively or with a storage
        seen.add((folder, name.upper()))
        streams[folder + name] = bytes([len(streams) % 256]) * size
    data = write(streams)
    ole = read(data)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content
    assert write(streams) == data


def test_nested_storages_are_all_listed() -> None:
    streams = {"A/B/C/deep": b"1", "A/B/mid": b"2" * 5000, "A/top": b"3", "Z": b""}
    ole = read(write(streams))
    assert ole.listdir(streams=True, storages=True) == [
        ["A"],
        ["A", "B"],
        ["A", "B", "C"],
        ["A", "B", "C", "deep"],
        ["A", "B", "mid"],
        ["A", "top"],
        ["Z"],
    ]
    for path, data in streams.items():
        assert ole.openstream(path).read() == data


def test_storage_clsids_and_empty_storages() -> None:
    clsid = bytes(range(16))
    ole = read(write({"S/x": b"x"}, {"": clsid, "S": clsid, "Empty": bytes(16)}))
    assert ole.getclsid("S") == ole.root.clsid == "03020100-0504-0706-0809-0A0B0C0D0E0F"
    assert ole.get_type("Empty") == olefile.STGTY_STORAGE
    assert ole.listdir(streams=False, storages=True) == [["Empty"], ["S"]]


def test_name_order_is_length_first_then_case_insensitive() -> None:
    assert name_key("Z") < name_key("aa")  # shorter first, whatever the letters
    assert name_key("abc") < name_key("ABD") < name_key("abe")  # same length: upper-cased compare
    assert name_key("Module1") == name_key("MODULE1")


def red_black_checked(ole: olefile.OleFileIO, sid: int, low: tuple | None, high: tuple | None) -> int:
    """Black height of the subtree at ``sid`` after checking order and colours (MS-CFB 2.6.4)."""
    if sid == NOSTREAM:
        return 1
    entry = ole.direntries[sid]
    key = name_key(entry.name)
    assert (low is None or low < key) and (high is None or key < high)
    if entry.color == 0:  # red: both children black
        for child in (entry.sid_left, entry.sid_right):
            assert child == NOSTREAM or ole.direntries[child].color == 1
    left_height = red_black_checked(ole, entry.sid_left, low, key)
    right_height = red_black_checked(ole, entry.sid_right, key, high)
    assert left_height == right_height
    return left_height + entry.color


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 100, 257])
def test_many_siblings_form_a_valid_red_black_tree(count: int) -> None:
    rng = random.Random(count)
    by_upper: dict[str, str] = {}  # names equal but for case would clash
    while len(by_upper) < count:
        name = "".join(rng.choice("abcXYZ_09") for _ in range(rng.randint(1, 31)))
        by_upper.setdefault(name.upper(), name)
    names = by_upper.values()
    streams = {f"VBA/{name}": name.encode() * 3 for name in names}
    ole = read(write(streams))
    storage = ole.direntries[ole._find("VBA")]
    assert ole.direntries[storage.sid_child].color == 1  # the tree's root is black
    red_black_checked(ole, storage.sid_child, None, None)
    for path, data in streams.items():
        assert ole.openstream(path).read() == data


def test_same_streams_give_the_same_bytes_whatever_the_order() -> None:
    first = write(VBA_STREAMS)
    assert write(VBA_STREAMS) == first
    assert write(dict(reversed(VBA_STREAMS.items()))) == first


@pytest.mark.parametrize(
    ("streams", "message"),
    [
        ({"x" * 32: b""}, "longer than 31"),
        ({"a:b": b""}, "forbids"),
        ({"/a": b""}, "empty name"),
        ({"a": b"", "A": b""}, "already exists"),
        ({"a": b"", "a/b": b""}, "it is a stream"),
    ],
)
def test_names_ms_cfb_forbids_or_that_clash_raise_value_error(streams: dict[str, bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write(streams)


def test_xlwings_ribbon_add_in_project_rewritten_reads_the_same() -> None:
    with zipfile.ZipFile(RIBBON_XLAM) as xlam:
        original = xlam.read("xl/vbaProject.bin")
    source = read(original)
    streams = {"/".join(path): source.openstream(path).read() for path in source.listdir(streams=True)}
    storages = {"/".join(path): source.getclsid(path) for path in source.listdir(streams=False, storages=True)}
    clsids = {path: bytes.fromhex(value.replace("-", "")) for path, value in storages.items() if value}
    rewritten = write(streams, {**dict.fromkeys(storages, bytes(16)), **clsids})
    again = read(rewritten)
    assert again.listdir(streams=True, storages=True) == source.listdir(streams=True, storages=True)
    for path, data in streams.items():
        assert again.openstream(path).read() == data

    def modules(data: bytes) -> list[tuple[str, str]]:
        parser = VBA_Parser("vbaProject.bin", data=data)
        return sorted((name, code) for _, _, name, code in parser.extract_macros())

    # oletools finds the same modules and code in both files

    assert modules(rewritten) == modules(original)
    assert {name for name, _ in modules(rewritten)} >= {"xlwings.bas", "RibbonMyAddin.bas", "Dictionary.cls"}


def test_output_is_a_whole_number_of_sectors_and_reads_from_a_file(tmp_path: Path) -> None:
    data = write(VBA_STREAMS)
    path = tmp_path / "vbaProject.bin"
    path.write_bytes(data)
    assert olefile.isOleFile(str(path))
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        assert ole.openstream("VBA/dir").read() == VBA_STREAMS["VBA/dir"]
