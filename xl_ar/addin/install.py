"""`xl-ar addin install | remove`: put the add-in where Excel loads it, with the user config xlwings reads.

Follows xlwings' own conventions (shared/FACTS.md, "Custom xlwings add-ins in Excel"):

- Windows: the add-in goes to the user XLSTART folder (`%APPDATA%\\Microsoft\\Excel\\XLSTART`, a default
  trusted location, loaded at every start) and the user config to `%USERPROFILE%\\.xl_ar\\xl_ar.conf`
  with `INTERPRETER_WIN` (this Python's `pythonw.exe`, so no console window flashes) and `UDF MODULES`.
- macOS: the add-in goes to Excel's startup folder in the Office group container and the config to
  `~/Library/Containers/com.microsoft.Excel/Data/xl_ar.conf` with `INTERPRETER_MAC`.
- The config file has one `"KEY","VALUE"` per line and no blank line: the VBA reads it with `Input #`
  and a blank line ends the reading.

Elsewhere (Linux) there is no Excel: both commands say so and change nothing. The pure parts (`places`,
`config_text`, `interpreter`) take the platform and folders as arguments, so tests run the Windows and
macOS paths anywhere, in a temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

ADDIN_NAME = "xl_ar.xlam"
"""The add-in's file name: a Python identifier plus `.xlam`, as xlwings needs (its UDF module and MacroOptions)."""
PROJECT = "xl_ar"
"""The xlwings PROJECT_NAME: the user config is `.xl_ar/xl_ar.conf` (Windows) or `xl_ar.conf` (macOS)."""
UDF_MODULES = "udfs.functions"
"""The Python module of the `=AR_*` worksheet functions."""
NO_EXCEL = ("Excel is needed for the add-in: `xl-ar addin install` works on Windows and macOS. "
            "Nothing was changed on this computer.")


@dataclass(frozen=True, slots=True)
class Places:
    """Where the add-in and the user config go on one platform."""

    system: str
    """`Windows` or `Darwin`."""
    addin_folder: Path
    """The folder Excel loads add-ins from at start (XLSTART on Windows)."""
    config_file: Path
    """The user config file xlwings' VBA reads last."""

    @property
    def addin(self) -> Path:
        return self.addin_folder / ADDIN_NAME


def places(system: str, env: Mapping[str, str], home: Path) -> Places | None:
    """The add-in folder and user config file for `system` (`platform.system()`), or None without Excel."""
    if system == "Windows":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(env.get("USERPROFILE") or home)
        return Places(system, appdata / "Microsoft" / "Excel" / "XLSTART", profile / f".{PROJECT}" / f"{PROJECT}.conf")
    if system == "Darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized"
        return Places(system, office / "Startup.localized" / "Excel",
                      home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / f"{PROJECT}.conf")
    return None


def interpreter(executable: str, system: str) -> str:
    """The interpreter Excel should start: on Windows `pythonw.exe` beside `python.exe` (no console window)."""
    if system == "Windows":
        path = PureWindowsPath(executable)
        if path.name.lower() == "python.exe":
            return str(path.with_name("pythonw.exe"))
        return str(path)
    return str(PurePath(executable))


def config_text(system: str, python: str) -> str:
    """The user config xlwings reads: one `"KEY","VALUE"` line each, no blank line (a blank line stops `Input #`)."""
    key = "INTERPRETER_WIN" if system == "Windows" else "INTERPRETER_MAC"
    newline = "\r\n" if system == "Windows" else "\n"
    lines = [(key, python), ("UDF MODULES", UDF_MODULES)]
    return "".join(f'"{k}","{v}"{newline}' for k, v in lines)


def _built_addin(folder: Path) -> Path | None:
    """The add-in built into `folder` by `xl_ar.addin.package.build`, when that module exists."""
    if importlib.util.find_spec("xl_ar.addin.package") is None:
        return None
    from xl_ar.addin import package  # the builder (issue 11, item 1)

    built = package.build(folder)
    if isinstance(built, (str, os.PathLike)) and Path(built).is_file():
        return Path(built)
    found = folder / ADDIN_NAME
    return found if found.is_file() else None


def install(addin: Path | None = None, *, system: str | None = None, env: Mapping[str, str] | None = None,
            home: Path | None = None, executable: str | None = None) -> str:
    """Copy the add-in (`addin`, else a freshly built one) to Excel's start-up folder and write the user config.

    Returns a message for people; on a system without Excel it changes nothing and says so.
    """
    system = system or platform.system()
    where = places(system, os.environ if env is None else env, Path.home() if home is None else home)
    if where is None:
        return NO_EXCEL
    python = interpreter(executable or sys.executable, system)
    with tempfile.TemporaryDirectory(prefix="xl-ar-addin-") as tmp:
        source = Path(addin) if addin is not None else _built_addin(Path(tmp))
        if source is None or not source.is_file():
            return (f"No add-in to install: {source} does not exist." if source is not None else
                    "No add-in to install: build it with `xl-ar addin build` and give its path.")
        where.addin_folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, where.addin)
    where.config_file.parent.mkdir(parents=True, exist_ok=True)
    where.config_file.write_bytes(config_text(system, python).encode("utf-8"))
    return (f"Installed the Medical A/R add-in: {where.addin}\n"
            f"Wrote the user config {where.config_file} (interpreter {python}, functions from {UDF_MODULES}).\n"
            "Restart Excel: the Medical A/R tab appears and the =AR_ functions are available.")


def remove(*, system: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """Undo `install`: delete the add-in from Excel's start-up folder and the user config (and its empty folder)."""
    system = system or platform.system()
    where = places(system, os.environ if env is None else env, Path.home() if home is None else home)
    if where is None:
        return NO_EXCEL
    removed = []
    for path in (where.addin, where.config_file):
        if path.is_file():
            path.unlink()
            removed.append(str(path))
    folder = where.config_file.parent
    if system == "Windows" and folder.name == f".{PROJECT}" and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    if not removed:
        return "The Medical A/R add-in was not installed; nothing to remove."
    return "Removed " + " and ".join(removed) + ". Restart Excel to unload the add-in."
