"""Writing output files whole or not at all.

Every file xl-ar writes (reports, the reconciliation workbook, the add-in's template, the demo's workbooks,
settings, the key file) is first written to a temporary file in the same folder, flushed to disk (fsync),
then renamed over the target in one step. A crash, a kill or a full disk part-way leaves the previous file
as it was (or no file), never half of one, and no temporary file behind when Python could still clean up.

A target Excel holds open (Windows locks it) or a folder in the target's place cannot be replaced: that is
`OutputLockedError`, an input error whose message says to close the workbook and try again (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path

from xl_ar.errors import InputError

log = logging.getLogger(__name__)

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)


class OutputLockedError(InputError):
    """The target of an output cannot be replaced: open in Excel (locked), read-only, or a folder."""


class DiskFullError(InputError, OSError):
    """An output did not fit on the disk (or in the user's quota); the previous file is unchanged. Still an
    `OSError` for callers that catch those."""


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}


def locked_message(path: Path) -> str:
    return (f"cannot replace {path.name}: it is open in another program (Excel?), read-only or a folder; "
            f"close it in Excel and try again (nothing was written)")


def private_folder(path: Path) -> Path:
    """`path` as a folder, the folders created for it owner-only (0700 on POSIX); folders that exist are left as
    they are (the user chose them)."""
    path = Path(path)
    missing: list[Path] = []
    at = path
    while not at.exists() and at != at.parent:
        missing.append(at)
        at = at.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    return path


def temporary_name(path: Path) -> Path:
    """The temporary file beside `path` an output is written to before it takes `path`'s name (hidden, random)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


@contextlib.contextmanager
def whole_file(path: Path, private: bool = False, replace: bool = True) -> Iterator[Path]:
    """A temporary file beside `path` for a writer that opens files by name (xlsxwriter): yielded empty, and
    when the block ends without an exception, fsynced and renamed over `path`. On an exception it is removed
    and `path` is left as it was.

    `private`: the file (and the folders made for it) is owner-only (0600 / 0700 on POSIX) from its creation;
    otherwise it gets the usual mode (0666 less the umask). `replace=False`: `path` is given the file only if
    it does not exist yet (`FileExistsError` otherwise), as for a key another process may create at once. A full
    disk is `DiskFullError`, a target open in Excel `OutputLockedError`: both say what to do."""
    path = Path(path)
    if private:
        private_folder(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise OutputLockedError(locked_message(path), source=path.name)
    tmp = temporary_name(path)
    os.close(os.open(tmp, _OPEN_FLAGS, 0o600 if private else 0o666))
    try:
        yield tmp
        _fsync_file(tmp)
        if replace:
            _replace(tmp, path)
        else:
            _link_new(tmp, path)
    except OSError as e:
        if e.errno not in _FULL:
            raise
        raise DiskFullError(f"cannot be written, the disk is full ({e.strerror or e}); free some space and try "
                            f"again (the previous file is unchanged)", source=path.name) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _sync_folder(path.parent)
    log.debug("wrote %s (%d bytes)", path.name, path.stat().st_size)


def write_bytes(path: Path, data: bytes, private: bool = False, replace: bool = True) -> None:
    """Write `data` to `path` whole or not at all (see `whole_file`)."""
    with whole_file(path, private=private, replace=replace) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_many(files: Sequence[tuple[Path, bytes]], private: bool = False) -> None:
    """Write a batch of files (thousands of statements), each whole or not at all as `write_bytes` does, with one
    flush to disk for the batch instead of one per file: every file is written to its temporary name, all are
    flushed together (`os.sync` where the system has it, else fsync per file), then each takes its name and each
    folder is synced once. On any failure no temporary file is left, and the files not yet renamed are not
    written. `private`: owner-only files and created folders, as in `whole_file`."""
    temps: list[tuple[Path, Path]] = []
    folders: set[Path] = set()
    try:
        for path, data in files:
            path = Path(path)
            if path.parent not in folders:
                private_folder(path.parent) if private else path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            if path.is_dir():
                raise OutputLockedError(locked_message(path), source=path.name)
            tmp = temporary_name(path)
            fd = os.open(tmp, _OPEN_FLAGS, 0o600 if private else 0o666)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        if hasattr(os, "sync"):
            os.sync()
        else:  # pragma: no cover - Windows
            for tmp, _ in temps:
                _fsync_file(tmp)
        for tmp, path in temps:
            _replace(tmp, path)
    except OSError as e:
        if e.errno not in _FULL:
            raise
        raise DiskFullError(f"cannot be written, the disk is full ({e.strerror or e}); free some space and try "
                            "again (nothing of this batch was written)", source=Path(files[0][0]).name) from e
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for folder in folders:
        _sync_folder(folder)
    log.debug("wrote %d files", len(temps))


def write_text(path: Path, text: str, private: bool = False, encoding: str = "utf-8") -> None:
    """Write `text` to `path` whole or not at all, newlines as given."""
    write_bytes(path, text.encode(encoding), private=private)


def _fsync_file(tmp: Path) -> None:
    """Push the file's bytes to the disk before it takes the target's name (a full disk shows up here)."""
    fd = os.open(tmp, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except (PermissionError, IsADirectoryError) as e:
        raise OutputLockedError(locked_message(path), source=path.name) from e
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EBUSY, errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
            raise OutputLockedError(locked_message(path), source=path.name) from e
        raise


def _link_new(tmp: Path, path: Path) -> None:
    """Give `tmp` the name `path` only if no file has it (atomic where hard links exist)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: rename refuses an existing name on Windows only
        if path.exists():
            raise FileExistsError(str(path)) from None
        os.rename(tmp, path)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no folder handles to sync)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
