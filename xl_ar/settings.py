"""Settings: every configurable value, where it may be set, and which place wins, in one place.

A value is looked up in this order; the first place that has it wins:

1. a command-line flag (`--store`, `--practice`, `--as-of`, ...);
2. the workbook's `_xl-ar.conf` sheet (`key | value` rows; the ribbon macros read it);
3. the user file `settings.toml` in the xl-ar folder (`~/.xl-ar/`, or `$XL_AR_HOME`);
4. the environment: `XL_AR_<KEY>` (`XL_AR_STORE`, `XL_AR_ERA_SOURCE`, ...);
5. the default.

The xl-ar folder itself comes from `$XL_AR_HOME` only (it says where the user file is). It also holds
the default store, the tokenization key (`xl_ar.privacy`) and official code lists (`xl_ar.codes`).

Credentials are never settings: SFTP passwords and keys come from the environment or the OS keyring
(`xl_ar.sources`), a database password from the password file or the environment; a store address
holding a password is refused wherever it is set. `resolve` validates every value and names the place
it came from in its message (`SettingsError`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from xl_ar.errors import SettingsError

SHEET = "_xl-ar.conf"
"""The workbook sheet of settings (hidden; `key | value` rows from A1)."""
USER_FILE = "settings.toml"
"""The user file of settings, in the xl-ar folder."""
HOME_ENV = "XL_AR_HOME"


def home(environ: Mapping[str, str] | None = None) -> Path:
    """The xl-ar folder: `$XL_AR_HOME`, else `~/.xl-ar`."""
    environ = os.environ if environ is None else environ
    value = environ.get(HOME_ENV)
    return Path(value) if value else Path.home() / ".xl-ar"


def _text(value: object, key: str) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("is empty")
    return text


def _sources(value: object, key: str) -> tuple[str, ...]:
    """Several remittance sources: a list, or text with `;` between them."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(";")
    found = tuple(str(s).strip() for s in items if str(s).strip())
    if not found:
        raise ValueError("names no source")
    return found


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S")


def _date(value: object, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text[:40]}' is not a date (YYYY-MM-DD)")


def _folder(value: object, key: str) -> Path:
    return Path(_text(value, key)).expanduser()


def _store(value: object, key: str) -> str:
    """A SQLite file path or a database URL (`postgresql://user@host/db`)."""
    text = _text(value, key)
    if "://" in text and urlsplit(text).password:
        raise ValueError("holds a password; keep the password in the database password file (~/.pgpass or "
                         "PGPASSFILE) or the environment, never in a setting")
    return text


@dataclass(frozen=True)
class Setting:
    """One setting: its key, what it is for, how its text is read, and its default."""

    key: str
    doc: str
    parse: Callable[[object, str], object]
    kind: str = "text"
    """text, date, folder, store or sources: how a spreadsheet cell holding it is read."""
    default: Callable[[Mapping[str, str]], object] = lambda environ: None
    """The default, from the environment's xl-ar folder when it needs one (None: not set)."""

    @property
    def env(self) -> str:
        return "XL_AR_" + self.key.upper()


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("store", "where imported remittances, audit events and report snapshots are kept: a SQLite file, "
            "or a database URL for a team", _store, "store", lambda environ: str(home(environ) / "xl-ar.sqlite")),
    Setting("era_source", "where remittances (835) come from: folders, .zip files or sftp:// mailboxes "
            "(several separated by ';')", _sources, "sources"),
    Setting("practice", "the practice folder (exports, era/, practice.json)", _folder, "folder"),
    Setting("as_of", "the as-of date of every figure (default: the practice's, else today in Excel)", _date, "date"),
    Setting("practice_name", "the practice name shown on reports (default: practice.json's)", _text),
    Setting("report_folder", "where Build report writes the management report (default: beside the workbook)",
            _folder, "folder"),
)}
"""Every setting by key."""


@dataclass(frozen=True)
class Settings:
    """The resolved settings; `origin` says where each value came from (for `xl-ar settings` and messages)."""

    store: str
    era_source: tuple[str, ...] = ()
    practice: Path | None = None
    as_of: dt.date | None = None
    practice_name: str | None = None
    report_folder: Path | None = None
    home: Path = field(default_factory=home)
    origin: dict[str, str] = field(default_factory=dict)

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, value, where it came from) of every setting, for people."""
        out = []
        for key in SETTINGS:
            value = getattr(self, key)
            shown = "; ".join(value) if isinstance(value, tuple) else "" if value is None else str(value)
            out.append((key, shown, self.origin.get(key, "not set")))
        return out


def read_user_file(path: Path) -> dict[str, object]:
    """The settings of a user file (empty when there is none); a file that cannot be read is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise SettingsError(f"cannot be read ({e})", source=path.name) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"not valid TOML ({e})", source=path.name) from None


def resolve(flags: Mapping[str, object] | None = None, sheet: Mapping[str, object] | None = None,
            environ: Mapping[str, str] | None = None, user_file: Path | None = None) -> Settings:
    """The settings, each from the first place that has it: flags, sheet, user file, environment, default.

    `flags` are the command line's values (None: not given); `sheet` the `_xl-ar.conf` rows; the user
    file defaults to `settings.toml` in the xl-ar folder. Unknown keys in the sheet or the user file
    are errors (a misspelled key would otherwise be ignored without a word).
    """
    environ = os.environ if environ is None else environ
    folder = home(environ)
    path = user_file if user_file is not None else folder / USER_FILE
    places: list[tuple[str, Mapping[str, object]]] = [
        ("command line", {k: v for k, v in (flags or {}).items() if v is not None}),
        (f"{SHEET} sheet", {str(k).strip().lower(): v for k, v in (sheet or {}).items()}),
        (path.name, read_user_file(path)),
    ]
    for where, values in places[1:]:
        unknown = sorted(k for k in values if k not in SETTINGS)
        if unknown:
            hints = [difflib.get_close_matches(k, SETTINGS, n=1) for k in unknown]
            said = ", ".join(f"'{k}'" + (f" (did you mean '{h[0]}'?)" if h else "") for k, h in zip(unknown, hints,
                                                                                                    strict=True))
            raise SettingsError(f"unknown setting {said}; the settings are {', '.join(SETTINGS)}", source=where)
    values: dict[str, object] = {}
    origin: dict[str, str] = {}
    for key, setting in SETTINGS.items():
        found = next(((where, v[key]) for where, v in places if _given(v.get(key))), None)
        if found is None and _given(environ.get(setting.env)):
            found = (setting.env, environ[setting.env])
        if found is None:
            default = setting.default(environ)
            if default is not None:
                values[key], origin[key] = default, "default"
            continue
        where, raw = found
        try:
            values[key] = setting.parse(raw, key)
        except ValueError as e:
            raise SettingsError(f"{key}: {e}", source=where) from None
        origin[key] = where
    return Settings(**values, home=folder, origin=origin)


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
