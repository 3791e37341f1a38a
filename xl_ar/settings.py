"""Settings: every configurable value, where it may be set, and which place wins, in one place.

A value is looked up in this order; the first place that has it wins. Places 2-5 are xlwings' own order for
its config (`xl_ar` is the add-in's xlwings PROJECT_NAME, so its config is called `xl_ar.conf` everywhere):

1. a command-line flag (`--store`, `--practice`, `--as-of`, ...);
2. the workbook's `xl_ar.conf` sheet (`key | value` rows from A1; the ribbon macros read it);
3. the add-in's own `xl_ar.conf` sheet (settings for everyone who uses this copy of the add-in);
4. the file `xl_ar.conf` beside the workbook (settings for every workbook in that folder);
5. the user file `xl_ar.conf` (`~/.xl_ar/xl_ar.conf`, on macOS in Excel's container; `$XL_AR_HOME/xl_ar.conf`
   when that is set): the same file in which `xl-ar addin install` writes the interpreter for xlwings;
6. the environment: `XL_AR_<KEY>` (`XL_AR_STORE`, `XL_AR_ERA_SOURCE`, ...);
7. the default.

A file holds one `"key","value"` line per setting, the format xlwings' VBA reads with `Input #`. Keys are
case-insensitive; xlwings' own keys (`INTERPRETER_WIN`, `UDF MODULES`, ...) share the sheets and files and are
left to xlwings. The xl-ar folder (`$XL_AR_HOME`, else `~/.xl_ar`) also holds the default store, the
tokenization key (`xl_ar.privacy`) and official code lists (`xl_ar.codes`).

Credentials are never settings: passwords come only from the OS keyring (`xl-ar credentials set`,
`xl_ar.sources`); a store address or mailbox address holding a password is refused wherever it is set.
`resolve` validates every value and names the place it came from in its message (`SettingsError`).

Places 2 and 4 travel with a workbook (a workbook mailed to the practice, a zip holding it and an `xl_ar.conf`):
they are *untrusted*. Everything else is set by the user on this computer (the command line, the add-in they
installed, their user file, their environment) and is *trusted*. A `store` from an untrusted place that differs
from the trusted one (any store: it receives patient data, and a network path, `//host/share`, sends the Windows
login to that host), and an `era_source` entry from an untrusted place naming a host (sftp://, `//host/share`)
that the trusted places do not name, is a `Redirect`: it is used only once the user confirmed it
(`Settings.redirects` lists those not confirmed yet; the ribbon asks, the command line refuses). A confirmation
is kept in the user file (`confirmed_redirects`), which an untrusted place cannot set.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from xl_ar import outputs
from xl_ar.errors import SettingsError

if TYPE_CHECKING:
    from xl_ar.policy import Policy
    from xl_ar.reconcile import Rules
    from xl_ar.reports.content import Targets

PROJECT = "xl_ar"
"""The add-in's xlwings PROJECT_NAME: its config sheet and files are `xl_ar.conf`."""
SHEET = f"{PROJECT}.conf"
"""The settings sheet of a workbook or of the add-in (`key | value` rows from A1)."""
FILE = f"{PROJECT}.conf"
"""The settings file beside a workbook, and the user file."""
HOME_ENV = "XL_AR_HOME"
MAX_FILE_BYTES = 64 * 1024
"""A settings file is a few lines; anything bigger is not one (and is not read into memory)."""

XLWINGS_KEYS = frozenset({
    "ADD_WORKBOOK_TO_PYTHONPATH", "API_KEY", "AUTH", "CLI_PATH", "CONDA ENV", "CONDA PATH", "DEBUG UDFS",
    "ENABLE_AUTO_PROXY", "EXCLUDE", "FOLLOW_REDIRECTS", "INCLUDE", "INSECURE", "INTERPRETER", "INTERPRETER_MAC",
    "INTERPRETER_WIN", "LICENSE_KEY", "ONEDRIVE_COMMERCIAL_MAC", "ONEDRIVE_COMMERCIAL_WIN", "ONEDRIVE_CONSUMER_MAC",
    "ONEDRIVE_CONSUMER_WIN", "PROXY_BYPASS_LIST", "PROXY_PASSWORD", "PROXY_SERVER", "PROXY_USERNAME", "PYTHONPATH",
    "SHAREPOINT_MAC", "SHAREPOINT_WIN", "SHOW CONSOLE", "SHOW_ERROR_POPUPS", "TEMP DIR", "TIMEOUT", "UDF MODULES",
    "USE UDF SERVER", "RELEASE_EMBED_CODE", "RELEASE_HIDE_CONFIG_SHEET", "RELEASE_NO_ADDIN",
})
"""The keys xlwings' VBA reads from the same sheets and files (xlwings 0.37.8); xl-ar leaves them alone."""
_XLWINGS_PREFIXES = ("AZUREAD_", "RELEASE_")


def home(environ: Mapping[str, str] | None = None) -> Path:
    """The xl-ar folder: `$XL_AR_HOME`, else `~/.xl_ar` (the folder of xlwings' user config on Windows)."""
    environ = os.environ if environ is None else environ
    value = environ.get(HOME_ENV)
    return Path(value) if value else Path.home() / f".{PROJECT}"


def user_file(environ: Mapping[str, str] | None = None, system: str | None = None, user_home: Path | None = None
              ) -> Path:
    """The user settings file, where xlwings' VBA looks for its user config (`$XL_AR_HOME/xl_ar.conf` when set).

    Windows: `%USERPROFILE%\\.xl_ar\\xl_ar.conf`; macOS: `~/Library/Containers/com.microsoft.Excel/Data/xl_ar.conf`
    (Excel is sandboxed there); elsewhere `~/.xl_ar/xl_ar.conf`.
    """
    environ = os.environ if environ is None else environ
    system = system or {"win32": "Windows", "darwin": "Darwin"}.get(sys.platform, "Linux")
    if environ.get(HOME_ENV):
        return Path(environ[HOME_ENV]) / FILE
    if system == "Windows":
        return Path(environ.get("USERPROFILE") or user_home or Path.home()) / f".{PROJECT}" / FILE
    base = user_home or Path.home()
    if system == "Darwin":
        return base / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / FILE
    return base / f".{PROJECT}" / FILE


# --- how each kind of value is read from text or a cell -------------------------------------------------------------


def _text(value: object) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("is empty")
    return text


def _no_password(text: str, what: str) -> str:
    if "://" in text and urlsplit(text).password:
        raise ValueError(f"holds a password; keep passwords in the OS keyring ({what}), never in a setting")
    return text


def _sources(value: object) -> tuple[str, ...]:
    """Several remittance sources: a list, or text with `;` between them; no password in an sftp:// address."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(";")
    found = tuple(str(s).strip() for s in items if str(s).strip())
    if not found:
        raise ValueError("names no source")
    for source in found:
        _no_password(source, "xl-ar credentials set <the sftp:// address>")
    return found


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S")


def _date(value: object) -> dt.date:
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


def _folder(value: object) -> Path:
    return Path(_text(value)).expanduser()


def _store(value: object) -> str:
    """A SQLite file path or a database URL (`postgresql://user@host/db`)."""
    return _no_password(_text(value), "xl-ar credentials set <the database address>")


def _confirmed(value: object) -> tuple[str, ...]:
    """Addresses the user allowed a workbook to use: a list, or text with `;` between them; no password."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(";")
    return tuple(_no_password(str(s).strip(), "xl-ar credentials set <the address>") for s in items if str(s).strip())


def _decimal(value: object) -> Decimal:
    """A number from a cell (int or float) or text; short text only (a setting is never 5,000 digits)."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a number")
    text = (repr(value) if isinstance(value, float) else str(value)).strip().replace(",", "")
    if len(text) > 20:
        raise ValueError(f"'{text[:20]}...' is not a number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not number.is_finite():
        raise ValueError(f"'{text}' is not a number")
    return number


def _days(value: object) -> int:
    """A whole number of days, 0 to 3650."""
    number = _decimal(value)
    if number != number.to_integral_value() or not 0 <= number <= 3650:
        raise ValueError(f"'{value}' is not a whole number of days from 0 to 3650")
    return int(number)


def _money(value: object) -> int:
    """An amount in dollars (`5`, `5.00`, `$5`), as integer cents; whole cents only, not negative."""
    from xl_ar.money import MAX_CENTS  # here: money -> privacy -> settings would be a cycle at import

    text = str(value).strip().replace("$", "") if not isinstance(value, (int, float)) else value
    number = _decimal(text)
    if number.copy_abs() >= Decimal(MAX_CENTS) / 100:  # checked before any arithmetic: '1e999999999' overflows
        raise ValueError(f"'{str(value)[:24]}' is beyond the largest amount xl-ar reads")
    cents = number * 100
    if cents != cents.to_integral_value() or number < 0:
        raise ValueError(f"'{value}' is not an amount in dollars and whole cents (like 5.00)")
    return int(cents)


def _share(value: object) -> float:
    """A share: `2%` or 0.02 (a cell formatted as a percentage holds 0.02); 0% to 100%."""
    text = str(value).strip() if not isinstance(value, (int, float)) else value
    percent = isinstance(text, str) and text.endswith("%")
    number = _decimal(text[:-1] if percent else text)
    share = number / 100 if percent else number
    if not 0 <= share <= 1:
        hint = f" (write {number}% or {number / 100})" if not percent and 1 < number <= 100 else ""
        raise ValueError(f"'{value}' is not a share from 0% to 100%{hint}")
    return float(share)


def _days_target(value: object) -> float:
    number = _decimal(value)
    if not 0 < number <= 3650:
        raise ValueError(f"'{value}' is not a number of days above 0")
    return float(number)


def _shares(value: object) -> tuple[float, ...] | None:
    """The multiple-procedure reduction: shares for the 1st, 2nd, ... procedure (`100%; 50%`), or `off`."""
    if str(value).strip().lower() in ("off", "none", "no"):
        return None
    items = [s for s in re.split(r"[;,]", str(value)) if s.strip()] if isinstance(value, str) else [value]
    if not items or len(items) > 20:
        raise ValueError(f"'{str(value)[:40]}' is not a list of shares like 100%; 50% (or off)")
    shares = tuple(_share(s) for s in items)
    if any(s == 0 for s in shares):
        raise ValueError(f"'{value}': a procedure's share cannot be 0%")
    return shares


def _show(value: object, kind: str) -> str:
    """A value as people write it in a setting (dollars, percentages, `;`-lists)."""
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(int(value)) / 100:.2f}"
    if kind == "yes_no":
        return "yes" if value else "no"
    if kind == "share":
        return f"{Decimal(repr(value)) * 100:f}".rstrip("0").rstrip(".") + "%"
    if kind == "shares":
        return "; ".join(_show(v, "share") for v in value)
    if isinstance(value, tuple):
        return "; ".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Setting:
    """One setting: its key, what it is for, how its text is read, and its default."""

    key: str
    doc: str
    parse: Callable[[object], object]
    kind: str = "text"
    """text, date, folder, store, sources, days, money, share, shares, yes_no or number: how a value is read and
    shown."""
    default: Callable[[Mapping[str, str]], object] = lambda environ: None
    """The default, from the environment's xl-ar folder when it needs one (None: not set)."""
    group: str = "place"
    """`place` (where things are), `threshold` (reconciliation's tolerances), `target` (the report's KPI targets),
    `policy` (the follow-up policy: statements, collections, refunds, assignments) or `trust` (what the user
    confirmed: kept by the ribbon in the user file; a workbook cannot set it)."""
    field: str = ""
    """The `reconcile.Rules` or `reports.content.Targets` field a threshold or target sets."""

    @property
    def env(self) -> str:
        return "XL_AR_" + self.key.upper()


def _rule(name: str):
    def default(environ: Mapping[str, str]) -> object:
        from xl_ar.reconcile import Rules

        return getattr(Rules(), name)
    return default


def _target(name: str):
    def default(environ: Mapping[str, str]) -> object:
        from xl_ar.reports.content import Targets

        return getattr(Targets(), name)
    return default


def _threshold(key: str, doc: str, parse, kind: str, name: str | None = None) -> Setting:
    return Setting(key, doc, parse, kind, _rule(name or key), "threshold", name or key)


def _goal(key: str, doc: str, parse, kind: str, name: str | None = None) -> Setting:
    return Setting(key, doc, parse, kind, _target(name or key), "target", name or key)


def _practice_policy(name: str):
    def default(environ: Mapping[str, str]) -> object:
        from xl_ar.policy import Policy

        return getattr(Policy(), name)
    return default


def _policy(key: str, doc: str, parse, kind: str, name: str | None = None) -> Setting:
    return Setting(key, doc, parse, kind, _practice_policy(name or key), "policy", name or key)


def _yes_no(value: object) -> bool:
    """yes/no, true/false, 1/0 (a cell may hold TRUE)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "y", "true", "1", "on"):
        return True
    if text in ("no", "n", "false", "0", "off"):
        return False
    raise ValueError(f"'{str(value)[:24]}' is not yes or no")


def _assign_by(value: object) -> str:
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    choices = ("off", "payer", "alphabet", "round_robin")
    if text not in choices:
        raise ValueError(f"'{str(value)[:24]}' is not one of {', '.join(choices)}")
    return text


def _short_text(value: object) -> str:
    text = _text(value)
    if len(text) > 1000:
        raise ValueError("is longer than 1,000 characters")
    return text


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
    Setting("documents_folder", "where Patient statements (and letters) are written: patient data, so only to a "
            "folder you choose (no default)", _folder, "folder"),
    Setting("confirmed_redirects", "store addresses and remittance mailboxes you allowed a workbook's xl_ar.conf "
            "sheet or file to use (the ribbon asks once and keeps your answer here; only your user file, the "
            "add-in's sheet or XL_AR_CONFIRMED_REDIRECTS may set it)", _confirmed, "sources", group="trust"),
    _threshold("posting_grace_days", "days a remittance may wait to be posted before it is an exception", _days,
               "days"),
    _threshold("deposit_grace_days", "days a payment may wait for its deposit (and a deposit for its remittance)",
               _days, "days"),
    _threshold("deposit_window_days", "days after a payment in which a deposit without a trace number may match "
               "it by amount", _days, "days"),
    _threshold("no_response_days", "days after billing without any remittance that make a claim a no-response",
               _days, "days"),
    _threshold("variance_min", "underpayments and overpayments are reported beyond this many dollars ...",
               _money, "money", "variance_min_cents"),
    _threshold("variance_min_share", "... and beyond this share of the expected allowed amount", _share, "share"),
    _threshold("mpr", "the practice's multiple-procedure reduction: the share of the fee for the 1st, 2nd, ... "
               "procedure (the last repeats), or off", _shares, "shares"),
    _threshold("forwarded_days", "days after a payer forwarded a claim to the next payer that make it unpaid "
               "follow-up", _days, "days"),
    _threshold("unbilled_warning_days", "days before its filing limit that a claim never billed becomes an "
               "exception", _days, "days"),
    _policy("statement_interval_days", "days between patient statements: statement 1, then 2, then the final "
            "notice", _days, "days"),
    _policy("statement_due_days", "days after its date that a patient statement is due", _days, "days"),
    _policy("small_balance", "patient balances under this many dollars are not billed but written off", _money,
            "money", "small_balance_cents"),
    _policy("collection_days", "days after the final notice before an unpaid account may go to collections",
            _days, "days"),
    _policy("collection_minimum", "the smallest patient balance placed with the collection agency (dollars)",
            _money, "money", "collection_minimum_cents"),
    _policy("collection_agency", "the collection agency's name (placement files)", _short_text, "text"),
    _policy("refund_days", "days to refund a credit to a commercial payer or a patient (Medicare and Medicaid: "
            "always 60)", _days, "days"),
    _policy("apply_patient_credits", "apply a patient credit to the same patient's other balances before "
            "refunding it (yes or no)", _yes_no, "yes_no"),
    _policy("assign_by", "how the worklist is split among the specialists: off, payer, alphabet or round_robin",
            _assign_by, "text"),
    _policy("specialists", "who works the worklist: names separated by ';', each with its payers or letters "
            "after '=' (ana=MCR,MCD; ben=A-L; carla)", _short_text, "text"),
    _goal("target_days_in_ar", "report target: days in A/R (lower is better)", _days_target, "number",
          "days_in_ar"),
    _goal("target_pct_over_90", "report target: share of billed A/R over 90 days", _share, "share", "pct_over_90"),
    _goal("target_pct_over_120", "report target: share of billed A/R over 120 days", _share, "share",
          "pct_over_120"),
    _goal("target_net_collection_rate", "report target: net collection rate (higher is better)", _share, "share",
          "net_collection_rate"),
    _goal("target_denial_rate", "report target: initial denial rate", _share, "share", "denial_rate"),
    _goal("target_amber_margin", "report: a KPI within this share of its target is amber, beyond it red", _share,
          "share", "amber_margin"),
)}
"""Every setting by key."""


def default_text(key: str) -> str:
    """A setting's default as people write it, without machine paths (for the add-in's config sheet)."""
    spec = SETTINGS[key]
    if key == "store":
        return "xl-ar.sqlite in the xl-ar folder"
    if spec.group in ("place", "trust"):
        return ""
    return _show(spec.default({}), spec.kind) or "off"


def sheet_rows() -> list[tuple[str, str]]:
    """Every setting key with what it is for and its default: the rows of an `xl_ar.conf` sheet (values empty)."""
    rows = []
    for key, spec in SETTINGS.items():
        default = default_text(key)
        rows.append((key, spec.doc + (f" (default: {default})" if default else "")))
    return rows


@dataclass(frozen=True)
class Settings:
    """The resolved settings; `origin` says where each value came from (for `xl-ar settings` and messages)."""

    store: str
    era_source: tuple[str, ...] = ()
    practice: Path | None = None
    as_of: dt.date | None = None
    practice_name: str | None = None
    report_folder: Path | None = None
    documents_folder: Path | None = None
    home: Path = field(default_factory=home)
    origin: dict[str, str] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)
    """Every resolved value by key (thresholds and targets included)."""
    redirects: tuple[Redirect, ...] = ()
    """The store and remittance sources set by a workbook that the user has not confirmed yet (module docstring):
    nothing may look up a password for them or open them before they are."""
    trusted_store: str = ""
    """The store the trusted places give: where an action stopped on an unconfirmed store may still be recorded."""

    @property
    def usable_store(self) -> str:
        """The store, or the trusted one while the store is an unconfirmed redirect (for the audit trail)."""
        return self.trusted_store if any(r.key == "store" for r in self.redirects) else self.store

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, value as written in a setting, where it came from) of every setting, for people."""
        return [(key, _show(self.values.get(key), s.kind), self.origin.get(key, "not set"))
                for key, s in SETTINGS.items()]

    def rules(self) -> Rules:
        """The reconciliation's tolerances: `reconcile.Rules` with every threshold setting applied, and the
        policy's refund days (the worklist's refund deadlines for payers other than Medicare and Medicaid)."""
        from xl_ar.reconcile import Rules

        return Rules(**self._fields("threshold"), refund_days=self.policy().refund_days)

    def targets(self) -> Targets:
        """The report's KPI targets: `reports.content.Targets` with every target setting applied."""
        from xl_ar.reports.content import Targets

        return Targets(**self._fields("target"))

    def policy(self) -> Policy:
        """The practice's follow-up policy: `policy.Policy` with every policy setting applied."""
        from xl_ar.policy import Policy

        return Policy(**self._fields("policy"))

    def _fields(self, group: str) -> dict[str, object]:
        return {s.field: self.values[key] for key, s in SETTINGS.items() if s.group == group and key in self.values}


# --- the files: `"key","value"` lines, as xlwings' VBA reads them --------------------------------------------------


def normal_key(key: object) -> str:
    """A key as xl-ar compares it: trimmed, lower case."""
    return str(key).strip().lower()


def is_xlwings_key(key: str) -> bool:
    upper = str(key).strip().upper()
    return upper in XLWINGS_KEYS or upper.startswith(_XLWINGS_PREFIXES)


def parse_conf(text: str, source: str) -> dict[str, str]:
    """The `"key","value"` lines of a settings file, by key as written; a line of another shape is an error.

    Blank lines are skipped (xlwings' VBA stops reading at one, so `write_conf` never writes one).
    """
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line], skipinitialspace=True, strict=True))
        except csv.Error as e:
            raise SettingsError(f"line {number}: {e}; write \"key\",\"value\"", source=source) from None
        if len(fields) != 2 or not fields[0].strip():
            raise SettingsError(f"line {number}: write one \"key\",\"value\" pair per line (found {len(fields)} "
                                "value(s))", source=source)
        key = normal_key(fields[0])
        if key in seen:
            raise SettingsError(f"line {number}: '{fields[0].strip()}' is set twice (also line {seen[key]})",
                                source=source)
        seen[key] = number
        out[fields[0].strip()] = fields[1].strip()
    return out


def read_conf(path: Path, source: str | None = None) -> dict[str, str]:
    """The settings of a file (empty when there is none); a file that cannot be read is an error."""
    source = source or str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as e:
        raise SettingsError(f"cannot be read ({e.strerror or e})", source=source) from None
    if len(data) > MAX_FILE_BYTES:
        raise SettingsError(f"is larger than {MAX_FILE_BYTES // 1024} KB; a settings file is a few lines",
                            source=source)
    for encoding in ("utf-8-sig", "cp1252"):  # Notepad may save either; xlwings writes the system code page
        try:
            return parse_conf(data.decode(encoding), source)
        except UnicodeDecodeError:
            continue
    raise SettingsError("is not text", source=source)


def conf_text(rows: Iterable[tuple[str, str]], newline: str = "\n") -> str:
    """`"key","value"` lines for xlwings' VBA, which cannot read a quote or a line break inside a value."""
    lines = []
    for key, value in rows:
        for text in (key, value):
            if '"' in text or "\n" in text or "\r" in text:
                raise SettingsError("a setting cannot hold a double quote or a line break", source=str(key))
        lines.append(f'"{key}","{value}"{newline}')
    return "".join(lines)


def update_conf(path: Path, changes: Mapping[str, str | None], newline: str = "\n") -> None:
    """Set (or, for None, remove) keys of a settings file, keeping its other lines and their order."""
    rows = read_conf(path)
    by_key = {normal_key(k): k for k in rows}
    for key, value in changes.items():
        written = by_key.pop(normal_key(key), None)
        if written is not None:
            rows.pop(written)
        if value is not None:
            rows[key] = value
            by_key[normal_key(key)] = key
    if not rows:
        path.unlink(missing_ok=True)
        return
    outputs.write_bytes(path, conf_text(rows.items(), newline).encode("utf-8"))  # whole or not at all


# --- trust: what a workbook may redirect ---------------------------------------------------------------------------

UNTRUSTED = (f"workbook's {SHEET} sheet", f"{FILE} beside the workbook")
"""The places a workbook brings with it (by the names `resolve` gives them in `Settings.origin`)."""
CONFIRM_KEY = "confirmed_redirects"
_UNC = re.compile(r"^(?:\\\\|//)([^\\/]+)")


def host(address: str) -> str:
    """The host an address makes xl-ar talk to: an sftp:// or database URL's host, a `\\\\host\\share` (or
    `//host/share`) path's host, lower case; "" for a local file or folder (or a URL without a host)."""
    text = str(address).strip()
    unc = _UNC.match(text)
    if unc:
        return unc.group(1).lower()
    if "://" in text:
        try:
            return (urlsplit(text).hostname or "").lower()
        except ValueError:
            return text.split("://", 1)[1][:40]
    return ""


def _endpoint(address: str) -> tuple[str, str, int | None]:
    """What a password or a Windows login is sent to: the kind of address, its host and port."""
    text = str(address).strip()
    if _UNC.match(text):
        return ("unc", host(text), None)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        port = None
        parts = urlsplit("")
    return (parts.scheme.split("+")[0].lower(), host(text), port)


@dataclass(frozen=True)
class Redirect:
    """A store or remittance source set by a workbook that the user has not confirmed."""

    key: str
    """`store` or `era_source`."""
    value: str
    """The address as written (never holds a password: those are refused)."""
    origin: str
    """The untrusted place it came from."""
    trusted: str
    """What the trusted places give instead ("" when they give nothing)."""

    @property
    def host(self) -> str:
        return host(self.value)

    def question(self) -> str:
        """The question the ribbon asks."""
        what = _WHAT.get(self.key, "use")
        on = f", on the host {self.host}" if self.host else ""
        sent = " It would be sent any password kept for that host (and, for a network folder, your Windows " \
            "login)." if self.host else ""
        instead = f" instead of {self.trusted}" if self.trusted else ""
        return (f"The {self.origin} sets {self.key} to {self.value}{on}: xl-ar would {what} it{instead}.{sent} "
                "Use it? Answer No unless you expected this workbook to do that.")

    def refusal(self) -> str:
        """Why an action stopped, and how to allow the value."""
        on = f" on {self.host}" if self.host else ""
        return (f"{self.key} {self.value}{on} comes from the {self.origin} and was not confirmed: nothing was read "
                f"or written. If you trust it, allow it once with `xl-ar settings confirm {self.value}` (or answer Yes "
                f"when the ribbon asks), or set {self.key} in your user file")


HOSTED = ("era_source", "practice", "report_folder", "documents_folder")
"""The settings that may name a folder on another host (`//host/share`, sftp://): a workbook may set a local one
without asking, a host the trusted places do not name only once confirmed (the store: any other one)."""
_WHAT = {"store": "keep imported remittances and audit events (patient data) in",
         "era_source": "read remittances (835) from", "practice": "read the practice's exports from",
         "report_folder": "write the management report to",
         "documents_folder": "write patient statements and letters (patient data) to"}


def _listed(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def find_redirects(values: Mapping[str, object], origin: Mapping[str, str], trusted: Mapping[str, object],
                   confirmed: Iterable[str]) -> tuple[Redirect, ...]:
    """The store and the `HOSTED` settings' entries from an untrusted place that need the user's confirmation.

    `values`/`origin` are the resolved settings, `trusted` the values the trusted places give, `confirmed` the
    addresses the user allowed. A store needs it when it differs from the trusted store; a source or folder when
    it names a host (with its kind and port) that neither the trusted places nor a confirmed address name. Local
    folders from a workbook are used without asking: nothing travels.
    """
    allowed = {str(c).strip() for c in confirmed}
    found: list[Redirect] = []
    store = str(values.get("store", ""))
    trusted_store = str(trusted.get("store") or "")
    if origin.get("store") in UNTRUSTED and store.strip() != trusted_store.strip() and store.strip() not in allowed:
        found.append(Redirect("store", store, origin["store"], trusted_store))
    known = [*allowed, trusted_store, *(a for key in HOSTED for a in _listed(trusted.get(key)))]
    reachable = {_endpoint(a) for a in known if host(a)}
    for key in HOSTED:
        if origin.get(key) not in UNTRUSTED:
            continue
        for address in _listed(values.get(key)):
            if host(address) and address.strip() not in allowed and _endpoint(address) not in reachable:
                found.append(Redirect(key, address, origin[key], "; ".join(_listed(trusted.get(key)))))
    return tuple(found)


def require_confirmed(settings: Settings) -> Settings:
    """The settings when nothing in them needs the user's confirmation; else a `SettingsError` saying what and how
    to allow it (for the command line, which cannot ask)."""
    if settings.redirects:
        raise SettingsError("; ".join(r.refusal() for r in settings.redirects))
    return settings


def confirm(addresses: Iterable[str], user: Path | None = None, newline: str | None = None) -> Path:
    """Keep `addresses` in the user file's `confirmed_redirects` (after those already there); returns the file."""
    user = user if user is not None else user_file()
    rows = read_conf(user, f"user file {user}")
    kept = next((v for k, v in rows.items() if normal_key(k) == CONFIRM_KEY), "")
    merged = [*_parsed(CONFIRM_KEY, kept, f"user file {user}")]
    for address in _parsed(CONFIRM_KEY, list(addresses), "the confirmed address"):
        if address not in merged:
            merged.append(address)
    update_conf(user, {CONFIRM_KEY: "; ".join(merged)}, newline or ("\r\n" if sys.platform == "win32" else "\n"))
    return user


# --- resolution ---------------------------------------------------------------------------------------------------


def _ours(values: Mapping[object, object], where: str) -> dict[str, object]:
    """The xl-ar keys of one place (xlwings' keys dropped); an unknown or repeated key is an error."""
    out: dict[str, object] = {}
    unknown = []
    for raw, value in values.items():
        if is_xlwings_key(str(raw)):
            continue
        key = normal_key(raw)
        if key in out:
            raise SettingsError(f"'{key}' is set twice", source=where)
        if key not in SETTINGS:
            unknown.append(key)
        out[key] = value
    if unknown:
        hints = [difflib.get_close_matches(k, SETTINGS, n=1) for k in sorted(unknown)]
        said = ", ".join(f"'{k}'" + (f" (did you mean '{h[0]}'?)" if h else "")
                         for k, h in zip(sorted(unknown), hints, strict=True))
        raise SettingsError(f"unknown setting {said}; the settings are {', '.join(SETTINGS)}", source=where)
    return out


def check(key: str, value: object) -> object:
    """The value of one setting as xl-ar reads it (ValueError with the reason when it cannot be used)."""
    spec = SETTINGS.get(normal_key(key))
    if spec is None:
        close = difflib.get_close_matches(normal_key(key), SETTINGS, n=1)
        raise ValueError(f"unknown setting '{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return spec.parse(value)


def resolve(flags: Mapping[str, object] | None = None, sheet: Mapping[str, object] | None = None,
            addin: Mapping[str, object] | None = None, folder: Path | None = None,
            environ: Mapping[str, str] | None = None, user: Path | None = None) -> Settings:
    """The settings, each from the first place that has it (see the module's docstring for the order).

    `flags` are the command line's values (None: not given); `sheet` the workbook's `xl_ar.conf` rows,
    `addin` the add-in's; `folder` the workbook's folder (its `xl_ar.conf` file); `user` the user file
    (default `user_file()`). Unknown keys are errors (a misspelled key would otherwise be ignored).
    """
    environ = os.environ if environ is None else environ
    user = user if user is not None else user_file(environ)
    places: list[tuple[str, Mapping[str, object]]] = [
        ("command line", {k: v for k, v in (flags or {}).items() if v is not None}),
        (f"workbook's {SHEET} sheet", _ours(sheet or {}, f"workbook's {SHEET} sheet")),
        (f"add-in's {SHEET} sheet", _ours(addin or {}, f"add-in's {SHEET} sheet")),
    ]
    if folder is not None:
        where = f"{FILE} beside the workbook"
        places.append((where, _ours(read_conf(folder / FILE, where), where)))
    places.append((f"user file {user}", _ours(read_conf(user, f"user file {user}"), f"user file {user}")))
    for where, given in places:
        if where in UNTRUSTED and _given(given.get(CONFIRM_KEY)):
            raise SettingsError(f"{CONFIRM_KEY} can only be set in your user file (a workbook cannot confirm its own "
                                "addresses)", source=where)
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
            values[key] = setting.parse(raw)
        except ValueError as e:
            raise SettingsError(f"{key}: {e}", source=where) from None
        origin[key] = where
    trusted = _trusted(places, environ)
    confirmed = [a for where, given in places if where not in UNTRUSTED and _given(given.get(CONFIRM_KEY))
                 for a in _parsed(CONFIRM_KEY, given[CONFIRM_KEY], where)]
    if _given(environ.get(SETTINGS[CONFIRM_KEY].env)):
        confirmed += _parsed(CONFIRM_KEY, environ[SETTINGS[CONFIRM_KEY].env], SETTINGS[CONFIRM_KEY].env)
    named = {k: values.get(k) for k in ("era_source", "practice", "as_of", "practice_name", "report_folder",
                                       "documents_folder")}
    return Settings(store=str(values["store"]), **{k: v for k, v in named.items() if v is not None},
                    home=home(environ), origin=origin, values=values,
                    redirects=find_redirects(values, origin, trusted, confirmed), trusted_store=str(trusted["store"]))


def _parsed(key: str, raw: object, where: str):
    """A setting's value as read from `raw`; a bad one is an error naming where it was set."""
    try:
        return SETTINGS[key].parse(raw)
    except ValueError as e:
        raise SettingsError(f"{key}: {e}", source=where) from None


def _trusted(places: list[tuple[str, Mapping[str, object]]], environ: Mapping[str, str]) -> dict[str, object]:
    """The store and the `HOSTED` settings as the trusted places alone give them (the store's default included)."""
    out: dict[str, object] = {}
    for key in ("store", *HOSTED):
        setting = SETTINGS[key]
        found = next(((where, v[key]) for where, v in places if where not in UNTRUSTED and _given(v.get(key))), None)
        if found is None and _given(environ.get(setting.env)):
            found = (setting.env, environ[setting.env])
        out[key] = _parsed(key, found[1], found[0]) if found is not None else setting.default(environ)
        if key == "store" and out[key] is not None:
            out[key] = str(out[key])
    return out


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
