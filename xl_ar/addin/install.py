"""`xl-ar addin install | remove`: put the add-in where Excel loads it, with the user config xlwings reads.

Follows xlwings' own conventions (shared/FACTS.md, "Custom xlwings add-ins in Excel"):

- Windows: the add-in goes to the user XLSTART folder (`%APPDATA%\\Microsoft\\Excel\\XLSTART`, a default
  trusted location, loaded at every start) and the user config to `%USERPROFILE%\\.xl_ar\\xl_ar.conf`
  with `INTERPRETER_WIN` (this Python's `pythonw.exe`, so no console window flashes) and `UDF MODULES`.
- macOS: the add-in goes to Excel's startup folder in the Office group container and the config to
  `~/Library/Containers/com.microsoft.Excel/Data/xl_ar.conf` with `INTERPRETER_MAC`.
- The config file has one `"KEY","VALUE"` per line and no blank line: the VBA reads it with `Input #`
  and a blank line ends the reading. It is also xl-ar's user settings file (`xl_ar.settings`): install and
  remove change only xlwings' lines in it and keep the settings.

Elsewhere (Linux) there is no Excel: both commands say so and change nothing. The pure parts (`places`,
`config_text`, `interpreter`) take the platform and folders as arguments, so tests run the Windows and
macOS paths anywhere, in a temporary folder.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

from xl_ar import outputs, settings

ADDIN_NAME = "xl_ar.xlam"
"""The add-in's file name: a Python identifier plus `.xlam`, as xlwings needs (its UDF module and MacroOptions)."""
PROJECT = "xl_ar"
"""The xlwings PROJECT_NAME: the user config is `.xl_ar/xl_ar.conf` (Windows) or `xl_ar.conf` (macOS)."""
SHIPPED = Path(__file__).with_name(ADDIN_NAME)
"""The add-in built from this release's sources, shipped in the package (regenerated with
`xl-ar addin build --out xl_ar/addin`; a test checks it against a fresh build)."""
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
    """The add-in folder and user config file for `system` (`platform.system()`), or None without Excel.

    The user config is the settings user file (`xl_ar.settings.user_file`): xlwings reads the interpreter there,
    xl-ar its settings.
    """
    env = {k: v for k, v in env.items() if k != settings.HOME_ENV}  # where Excel looks, whatever XL_AR_HOME says
    if system == "Windows":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return Places(system, appdata / "Microsoft" / "Excel" / "XLSTART", settings.user_file(env, system, home))
    if system == "Darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized"
        return Places(system, office / "Startup.localized" / "Excel", settings.user_file(env, system, home))
    return None


def interpreter(executable: str, system: str) -> str:
    """The interpreter Excel should start: on Windows `pythonw.exe` beside `python.exe` (no console window)."""
    if system == "Windows":
        path = PureWindowsPath(executable)
        if path.name.lower() == "python.exe":
            return str(path.with_name("pythonw.exe"))
        return str(path)
    return str(PurePath(executable))


def config_lines(system: str, python: str) -> dict[str, str]:
    """What xlwings needs in the user config: the interpreter Excel starts and the module of the functions."""
    return {"INTERPRETER_WIN" if system == "Windows" else "INTERPRETER_MAC": python, "UDF MODULES": UDF_MODULES}


def config_text(system: str, python: str) -> str:
    """The user config xlwings reads: one `"KEY","VALUE"` line each, no blank line (a blank line stops `Input #`)."""
    return settings.conf_text(config_lines(system, python).items(), _newline(system))


def _newline(system: str) -> str:
    return "\r\n" if system == "Windows" else "\n"


def install(addin: Path | None = None, *, system: str | None = None, env: Mapping[str, str] | None = None,
            home: Path | None = None, executable: str | None = None) -> str:
    """Copy the add-in (`addin`, else the one shipped in the package) to Excel's start-up folder and write the user
    config.

    Returns a message for people; on a system without Excel it changes nothing and says so.
    """
    system = system or platform.system()
    where = places(system, os.environ if env is None else env, Path.home() if home is None else home)
    if where is None:
        return NO_EXCEL
    python = interpreter(executable or sys.executable, system)
    source = Path(addin) if addin is not None else SHIPPED
    if not source.is_file():
        return (f"No add-in to install: {source} does not exist." if addin is not None else
                "No add-in in this installation: build one with `xl-ar addin build` and give its path with --addin.")
    where.addin_folder.mkdir(parents=True, exist_ok=True)
    outputs.write_bytes(where.addin, source.read_bytes())  # whole or not at all (Excel may hold the old one open)
    settings.update_conf(where.config_file, config_lines(system, python), _newline(system))  # settings kept
    return (f"Installed the Medical A/R add-in: {where.addin}\n"
            f"Wrote the user config {where.config_file} (interpreter {python}, functions from {UDF_MODULES}).\n"
            "Restart Excel: the Medical A/R tab appears and the =AR_ functions are available.")


def remove(*, system: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None) -> str:
    """Undo `install`: delete the add-in from Excel's start-up folder and xlwings' lines of the user config (the
    file, and its empty folder, when nothing else is in them; xl-ar settings written there stay)."""
    system = system or platform.system()
    where = places(system, os.environ if env is None else env, Path.home() if home is None else home)
    if where is None:
        return NO_EXCEL
    removed = []
    if where.addin.is_file():
        where.addin.unlink()
        removed.append(str(where.addin))
    if where.config_file.is_file():
        xlwings_lines = {key: None for key in (*config_lines("Windows", ""), *config_lines("Darwin", ""))}
        settings.update_conf(where.config_file, xlwings_lines, _newline(system))  # the user's settings stay
        kept = where.config_file.is_file()
        removed.append(f"the interpreter lines of {where.config_file} (your settings there are kept)" if kept
                       else str(where.config_file))
    folder = where.config_file.parent
    if system == "Windows" and folder.name == f".{PROJECT}" and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    if not removed:
        return "The Medical A/R add-in was not installed; nothing to remove."
    return "Removed " + " and ".join(removed) + ". Restart Excel to unload the add-in."
