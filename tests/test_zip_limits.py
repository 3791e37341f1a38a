"""Zip sources have limits (issue 13, defect 5): a zip bomb is refused with a clear message naming the
archive, nothing taken from it, and memory stays bounded even when its headers lie."""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile

import pytest

from benchmarks._table import peak_mb
from xl_ar import sources
from xl_ar.errors import InputError

ERA = b"ISA*00*          *00*          *ZZ*P*ZZ*Q*240120*1200*^*00501*000000001*0*P*:~"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _refusal(path) -> str:
    with pytest.raises(InputError) as caught:
        sources.read_source(path)
    return str(caught.value)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """50 MB of zeros behind an 835 header: about 50 KB on disk (a ratio near 1000:1)."""
    return _zip({"era.835": ERA + bytes(50_000_000)})


def test_a_zip_bomb_is_refused_by_name(bomb, tmp_path):
    path = tmp_path / "download.zip"
    path.write_bytes(bomb)
    message = _refusal(path)
    assert message.startswith("download.zip: refused") and "era.835" in message and "200 times" in message


def test_a_zip_bomb_is_refused_in_bounded_memory(bomb, tmp_path):
    path = tmp_path / "download.zip"
    path.write_bytes(bomb)
    assert peak_mb(lambda: _refusal(path)) < 20  # inflating it would take 50 MB


def _understate(data: bytes, stored: int) -> bytes:
    """The zip with every header claiming `stored` compressed bytes (a lie that makes the ratio look small)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 18), (b"PK\x01\x02", 20)):
        at = out.find(signature)
        out[at + offset:at + offset + 4] = struct.pack("<I", stored)
    return bytes(out)


def test_a_bomb_whose_headers_lie_is_not_imported_and_not_inflated(bomb, tmp_path):
    path = tmp_path / "liar.zip"
    path.write_bytes(_understate(bomb, 40_000_000))  # 50 MB from "40 MB": 1.25:1 by the headers
    listing = sources.Listing()

    def read() -> None:
        nonlocal listing
        with contextlib.suppress(InputError):  # refused, or the member skipped as damaged: both are fine
            listing = sources.read_source(path)

    assert peak_mb(read) < 30  # the archive is ~50 KB: at most 200 x 50 KB = ~10 MB is ever inflated
    assert listing.files == []


def test_the_limits_are_enforced_while_reading_not_only_from_the_directory(bomb, tmp_path, monkeypatch):
    checks = sources._zip_limits
    # a central directory that gets past the first check (whatever the lie): only reading can stop the bomb
    monkeypatch.setattr(sources, "_zip_limits", lambda name, members, declared: None if declared else
                        checks(name, members, declared))
    path = tmp_path / "download.zip"
    path.write_bytes(bomb)
    peak = peak_mb(lambda: _refusal(path))
    assert "download.zip: refused: member era.835 expands more than 200 times" in _refusal(path)
    assert peak < 30  # stopped after ~10 MB (200 x ~50 KB stored), not 50 MB


def test_a_zip_over_the_total_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ZIP_TOTAL_BYTES", 1000)
    path = tmp_path / "two.zip"
    path.write_bytes(_zip({"a.835": ERA + b"x" * 600, "b.835": ERA + b"y" * 600}))  # 2 x ~690 bytes > 1000
    assert "in all" in _refusal(path)


def test_a_bomb_inside_a_folder_stops_the_whole_folder(bomb, tmp_path):
    (tmp_path / "good.835").write_bytes(ERA)
    (tmp_path / "z.zip").write_bytes(bomb)
    assert _refusal(tmp_path).startswith("z.zip: refused")


def test_small_zips_compress_as_they_like(tmp_path):
    path = tmp_path / "small.zip"
    path.write_bytes(_zip({"era.835": ERA + bytes(500_000)}))  # 0.5 MB of zeros: below the 1 MiB ratio floor
    assert [f.name for f in sources.read_source(path).files] == ["small.zip/era.835"]
