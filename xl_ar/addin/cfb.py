"""A small MS-CFB writer: Compound File Binary format version 3 (512-byte sectors), as used by ``vbaProject.bin``.

The file is a 512-byte header followed by sectors. The FAT chains sectors into streams; the header lists the first
109 FAT sectors and DIFAT sectors list the rest (2.5 Compound File DIFAT Sectors). Streams under 4096 bytes live in
the mini stream (64-byte mini sectors chained by the miniFAT), itself a normal stream owned by the root entry. The
directory is an array of 128-byte entries; each storage's children form a red-black tree ordered by name length,
then by upper-cased UTF-16 code units (2.6.4 Red-Black Tree). Output is deterministic: timestamps are zero and
entries are numbered in breadth-first name order, whatever the order of the input mapping.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["write"]

SECTOR = 512
MINI_SECTOR = 64
MINI_STREAM_CUTOFF = 4096
_HEADER_DIFAT = 109
_IDS_PER_SECTOR = SECTOR // 4  # 128 FAT/miniFAT entries per sector
_DIFAT_PER_SECTOR = _IDS_PER_SECTOR - 1  # the last slot chains to the next DIFAT sector
DIFSECT, FATSECT, ENDOFCHAIN, FREESECT = 0xFFFFFFFC, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1
_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_BAD_NAME_CHARS = set("/\\:!")
# 2.6.3 Free (unused) directory entries: all zero except the three links, NOSTREAM.
_UNUSED_ENTRY = bytes(68) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM) + bytes(48)


@dataclass
class _Entry:
    """One directory entry being built (2.6.1 Compound File Directory Entry)."""

    name: str
    kind: int
    data: bytes = b""
    clsid: bytes = bytes(16)
    children: dict[tuple[int, tuple[int, ...]], _Entry] = field(default_factory=dict)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = _BLACK
    start: int = ENDOFCHAIN


def name_key(name: str) -> tuple[int, tuple[int, ...]]:
    """Sort key of a directory entry name among its siblings (2.6.4 Red-Black Tree).

    Shorter names are smaller; equal lengths compare code unit by code unit after simple upper-casing.
    """
    units = name.encode("utf-16-le")
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in name).encode("utf-16-le")
    return len(units) // 2, struct.unpack(f"<{len(upper) // 2}H", upper)


def _check_name(name: str, path: str) -> None:
    """Reject names MS-CFB forbids (2.6.1: at most 31 UTF-16 code units, none of / \\ : !)."""
    if not name:
        raise ValueError(f"empty name in path {path!r}")
    if len(name.encode("utf-16-le")) // 2 > 31:
        raise ValueError(f"name {name!r} in {path!r} is longer than 31 UTF-16 code units")
    if _BAD_NAME_CHARS & set(name) or "\x00" in name:
        raise ValueError(f"name {name!r} in {path!r} holds a character MS-CFB forbids")


def _storage(root: _Entry, parts: list[str], path: str) -> _Entry:
    """The storage at ``parts`` under ``root``, created on the way; a stream there is a conflict."""
    node = root
    for part in parts:
        _check_name(part, path)
        found = node.children.get(name_key(part))
        if found is None:
            found = node.children[name_key(part)] = _Entry(part, _STORAGE, start=0)
        elif found.kind != _STORAGE:
            raise ValueError(f"{path!r} needs {part!r} to be a storage, it is a stream")
        node = found
    return node


def _build_tree(streams: Mapping[str, bytes], storages_clsid: Mapping[str, bytes] | None) -> _Entry:
    """The storage/stream hierarchy from ``/``-separated paths (2.6 Compound File Directory Sectors)."""
    root = _Entry("Root Entry", _ROOT)
    for path in sorted(storages_clsid or {}):
        clsid = bytes((storages_clsid or {})[path])
        if len(clsid) != 16:
            raise ValueError(f"the CLSID of storage {path!r} must be 16 bytes")
        node = _storage(root, path.split("/") if path else [], path)
        node.clsid = clsid
    for path in sorted(streams):
        parts = path.split("/")
        parent = _storage(root, parts[:-1], path)
        _check_name(parts[-1], path)
        key = name_key(parts[-1])
        if key in parent.children:
            raise ValueError(f"{path!r} names an entry that already exists (names compare case-insensitively)")
        parent.children[key] = _Entry(parts[-1], _STREAM, bytes(streams[path]))
    return root


def _link_children(ordered: list[_Entry], depth: int, deepest: int) -> int:
    """Link a sorted sibling list as a balanced binary search tree; returns the subtree root's id.

    2.6.4 Red-Black Tree: median-split trees have every empty link at depth ``deepest`` or ``deepest + 1``, so
    colouring the nodes at ``deepest`` red (never the root) and all others black satisfies the red-black rules.
    """
    if not ordered:
        return NOSTREAM
    mid = len(ordered) // 2
    top = ordered[mid]
    top.color = _RED if depth == deepest and depth > 0 else _BLACK
    top.left = _link_children(ordered[:mid], depth + 1, deepest)
    top.right = _link_children(ordered[mid + 1 :], depth + 1, deepest)
    return top.sid


def _number(root: _Entry) -> list[_Entry]:
    """Directory ids in breadth-first order, siblings by name, and each storage's tree linked."""
    entries = [root]
    queue = deque([root])
    while queue:
        node = queue.popleft()
        ordered = [node.children[key] for key in sorted(node.children)]
        for child in ordered:
            child.sid = len(entries)
            entries.append(child)
            queue.append(child)
        deepest = len(ordered).bit_length() - 1  # depth of the last level of a median-split tree
        node.child = _link_children(ordered, 0, deepest)
    return entries


def _chain(fat: list[int], start: int, count: int) -> None:
    """Chain ``count`` consecutive sectors from ``start`` in a FAT or miniFAT (2.3 Compound File FAT Sectors)."""
    if count:
        fat[start : start + count] = [*range(start + 1, start + count), ENDOFCHAIN]


def _sectors(data: bytes, size: int = SECTOR) -> int:
    """Number of ``size``-byte sectors ``data`` occupies."""
    return -(-len(data) // size)


def _pad(data: bytes, size: int = SECTOR) -> bytes:
    """``data`` padded with zeros to a whole number of sectors."""
    return data + bytes(-len(data) % size)


def _dir_entry(entry: _Entry) -> bytes:
    """The 128 bytes of one directory entry (2.6.1 Compound File Directory Entry), timestamps zero.

    A storage records no start sector and no size; the root records the mini stream's.
    """
    encoded = entry.name.encode("utf-16-le") + b"\x00\x00"
    size = 0 if entry.kind == _STORAGE else len(entry.data)
    fixed = (entry.kind, entry.color, entry.left, entry.right, entry.child, entry.clsid, 0, 0, 0)
    return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), *fixed, entry.start, size)


def _mini_stream(small: list[_Entry]) -> tuple[bytes, bytes]:
    """Pack small streams into the mini stream; returns it and the miniFAT sectors (2.4 Mini FAT Sectors).

    Each stream starts on a 64-byte mini sector boundary; sets each entry's start to its first mini sector.
    """
    mini_fat: list[int] = []
    parts = []
    for entry in small:
        entry.start = len(mini_fat)
        count = _sectors(entry.data, MINI_SECTOR)
        mini_fat += [FREESECT] * count
        _chain(mini_fat, entry.start, count)
        parts.append(_pad(entry.data, MINI_SECTOR))
    mini_fat += [FREESECT] * (-len(mini_fat) % _IDS_PER_SECTOR)
    return b"".join(parts), struct.pack(f"<{len(mini_fat)}I", *mini_fat)


def _fat_counts(n_data: int) -> tuple[int, int]:
    """Numbers of FAT and DIFAT sectors for ``n_data`` other sectors (2.3 FAT Sectors, 2.5 DIFAT Sectors).

    The FAT also maps its own sectors and the DIFAT sectors, and more than 109 FAT sectors need DIFAT sectors of
    127 entries each: iterate to the fixed point (counts only grow, so this ends).
    """
    n_fat = n_difat = 0
    while True:
        need_fat = -(-(n_data + n_fat + n_difat) // _IDS_PER_SECTOR)
        need_difat = max(0, -(-(need_fat - _HEADER_DIFAT) // _DIFAT_PER_SECTOR))
        if (need_fat, need_difat) == (n_fat, n_difat):
            return n_fat, n_difat
        n_fat, n_difat = need_fat, need_difat


def _header(n_fat: int, n_difat: int, dir_start: int, minifat_start: int, n_minifat: int) -> bytes:
    """The 512-byte header of a version 3 file (2.2 Compound File Header) with the first 109 DIFAT entries.

    FAT sectors are numbered 0 .. n_fat - 1 and DIFAT sectors follow them.
    """
    difat = [*range(min(n_fat, _HEADER_DIFAT)), *[FREESECT] * (_HEADER_DIFAT - min(n_fat, _HEADER_DIFAT))]
    fields = (
        *(0x003E, 0x0003, 0xFFFE, 9, 6),  # minor and major version, byte order, sector shifts (512 and 64 bytes)
        bytes(6),
        *(0, n_fat, dir_start, 0, MINI_STREAM_CUTOFF),  # directory sector count is 0 in version 3
        *(minifat_start, n_minifat, n_fat if n_difat else ENDOFCHAIN, n_difat),
    )
    return struct.pack("<8s16sHHHHH6sIIIIIIIII", _MAGIC, bytes(16), *fields) + struct.pack(f"<{_HEADER_DIFAT}I", *difat)


def _difat_sectors(n_fat: int, n_difat: int) -> list[bytes]:
    """DIFAT sectors listing FAT sectors 109 onward, 127 per sector plus the next DIFAT sector (2.5)."""
    blocks = []
    for i in range(n_difat):
        listed = list(
            range(_HEADER_DIFAT + i * _DIFAT_PER_SECTOR, min(n_fat, _HEADER_DIFAT + (i + 1) * _DIFAT_PER_SECTOR))
        )
        listed += [FREESECT] * (_DIFAT_PER_SECTOR - len(listed))
        following = n_fat + i + 1 if i + 1 < n_difat else ENDOFCHAIN
        blocks.append(struct.pack(f"<{_IDS_PER_SECTOR}I", *listed, following))
    return blocks


def write(streams: Mapping[str, bytes], storages_clsid: Mapping[str, bytes] | None = None) -> bytes:
    """A compound file (MS-CFB version 3) holding ``streams``, keyed by ``/``-separated paths such as ``VBA/dir``.

    Storages are created from the paths; ``storages_clsid`` maps a storage path (``""`` for the root) to its
    16-byte CLSID and can declare empty storages. Raises ValueError for names MS-CFB forbids or for clashes.
    Sector order: FAT, DIFAT, directory, miniFAT, mini stream, then each large stream in directory order.
    """
    entries = _number(_build_tree(streams, storages_clsid))
    root = entries[0]
    small = [e for e in entries if e.kind == _STREAM and 0 < len(e.data) < MINI_STREAM_CUTOFF]
    large = [e for e in entries if e.kind == _STREAM and len(e.data) >= MINI_STREAM_CUTOFF]
    root.data, mini_fat = _mini_stream(small)
    n_minifat = len(mini_fat) // SECTOR if small else 0
    n_dir = -(-len(entries) // (SECTOR // 128))
    runs = [n_dir, n_minifat, _sectors(root.data), *(_sectors(e.data) for e in large)]
    n_fat, n_difat = _fat_counts(sum(runs))

    fat = [FATSECT] * n_fat + [DIFSECT] * n_difat
    fat += [FREESECT] * (n_fat * _IDS_PER_SECTOR - len(fat))
    starts = []
    at = n_fat + n_difat
    for count in runs:
        starts.append(at if count else ENDOFCHAIN)
        _chain(fat, at, count)
        at += count
    dir_start, minifat_start, root.start = starts[:3]
    for entry, start in zip(large, starts[3:], strict=True):
        entry.start = start

    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _UNUSED_ENTRY * ((-len(directory) % SECTOR) // 128)
    body = [
        _header(n_fat, n_difat, dir_start, minifat_start, n_minifat),
        struct.pack(f"<{len(fat)}I", *fat),
        *_difat_sectors(n_fat, n_difat),
        directory,
        mini_fat if small else b"",
        _pad(root.data),
        *(_pad(e.data) for e in large),
    ]
    return b"".join(body)
