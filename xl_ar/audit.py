"""The audit trail: who did what, when, on which files, with what result (HIPAA 45 CFR 164.312(b)).

Events live in the store (`Store.audit` appends one). Each records the OS user, the UTC time, the
action, its detail (counts, file names with their SHA-256, dates: never a patient identifier or any
value from a claims, patients or remittance table) and the result ("ok", or "error" with the error's
message, which names no patient: input errors mask values, other failures are named by type only).

Tamper evidence. The events form a hash chain: each stores the hash of the event before it
(`prev_hash`, "" for the first) and its own hash, the SHA-256 of a canonical JSON of its fields and
that previous hash (`event_hash`). The store also keeps the number of chained events and the last
hash (`meta.audit_head`), written with each event. `verify` recomputes everything: an edited event
no longer matches its hash, a deleted or moved one breaks the link of the next, a deleted last event
leaves the chain short of the recorded head. Someone able to write the database can still rebuild
the whole chain: keep the head `verify` prints somewhere else to compare later (`--head`).

Events written before the trail was chained (stores from before schema 4) have no hash; they are
counted, listed and reported as unchained, and allowed only before the first chained event.

Entry points record through `record` (opens the store by its setting) or `Store.audit` (a store
already open); the ribbon through `udfs.ribbon`'s one helper.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xl_ar.store import Store

RESULTS = ("ok", "error")
"""An event's result."""

MESSAGE_LIMIT = 500
"""Characters of an error message kept in an event."""

HASHED_FIELDS = ("at", "actor", "action", "detail", "result", "message", "prev_hash")
"""The fields an event's hash covers, in the canonical JSON (its id is not: the chain orders events)."""


def os_user() -> str:
    """Who runs xl-ar: the OS user name ("unknown" when the system cannot say)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name in the environment and none in the password database
        return "unknown"


DB_USER = "db_user"
"""The database login that wrote an event (a team store on PostgreSQL fills it, the client cannot choose it; an
embedded SQLite store has none). Hashed when present, so events without it keep the hash they were written with."""


def event_hash(fields: dict[str, object]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's hashed fields (sorted keys, no spaces, ASCII), with its
    database user when it has one."""
    canonical = {k: "" if fields.get(k) is None else str(fields[k]) for k in HASHED_FIELDS}
    if fields.get(DB_USER):
        canonical[DB_USER] = str(fields[DB_USER])
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hashes(paths: Iterable[Path], base: Path | None = None) -> dict[str, str]:
    """{file name (relative to `base` when given): SHA-256} of the files that exist."""
    out: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        if p.is_file():
            name = p.relative_to(base).as_posix() if base is not None and p.is_relative_to(base) else p.name
            out[name] = file_sha256(p)
    return out


def practice_inputs(practice: object) -> dict[str, str]:
    """The files a command read from a practice folder (its exports, practice.json, era/), with their SHA-256."""
    folder = Path(getattr(practice, "folder", "."))
    files = [folder / name for name in getattr(practice, "files", {}).values()]
    files += [folder / "practice.json", *getattr(practice, "era_files", [])]
    return hashes(files, folder)


def failure_message(error: BaseException) -> str:
    """What an error event says of a failure: an input error's message (its values are masked where it
    is made), any other failure by its type only (its text may hold anything)."""
    from xl_ar.errors import XlArError

    if isinstance(error, XlArError):
        return str(error)[:MESSAGE_LIMIT]
    return f"unexpected {type(error).__name__}"


def record(action: str, store: str | Path | None = None, *, result: str = "ok", message: str = "",
           create: bool = True, **detail: object) -> str:
    """Append an event to the store at `store` (default: the `store` setting); returns its hash.

    With `create=False` a store file that does not exist yet is left uncreated and nothing is recorded
    (returns ""): a command refused for its input writes nothing, not even a new store to say so."""
    from xl_ar import settings
    from xl_ar.store import Store

    where = settings.resolve().store if store is None else str(store)
    if not create and "://" not in where and not Path(where).exists():
        return ""
    with Store.open(where) as s:
        return s.audit(action, result=result, message=message, **detail)


def record_button(button: str, store: str | Path | None, result: str = "ok", message: str = "") -> None:
    """Record a ribbon button press (action `addin`, the button's label); an error's message is kept,
    a success's is not (the event's detail says what was pressed). A refused press records into an
    existing store only (it creates nothing). Never raises: a store that cannot
    be written is logged, and the button's own result stands."""
    try:
        record("addin", store, result=result, message=message[:MESSAGE_LIMIT] if result == "error" else "",
               create=result == "ok", button=button)
    except Exception as e:
        logging.getLogger(__name__).warning("the %s button could not be recorded in the audit trail (%s)",
                                            button, type(e).__name__)


# -- verification -----------------------------------------------------------------------------------

@dataclass
class Verification:
    """What `verify` found: counts, the head of the chain and the first problem (None: intact)."""

    events: int
    chained: int
    head: str
    problem: str | None = None
    bad_event: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def text(self) -> str:
        unchained = self.events - self.chained
        older = f", {unchained} older events without a hash (before the chain)" if unchained else ""
        if self.ok:
            return (f"audit trail intact: {self.chained} chained events{older}; "
                    f"head {self.chained}:{self.head or '-'}")
        return f"audit trail broken: {self.problem}"


def verify(store: Store, head: str | None = None) -> Verification:
    """Recompute the chain of a store's audit trail; the first problem names the event (its id).

    `head` ("count:hash" or a hash), when given, is a head noted earlier: the chain must contain it
    (the events up to it unchanged)."""
    events = store.audit_events()
    prev, chained, previous_id = "", 0, None
    hashes_seen: dict[str, int] = {}
    for row in events.itertuples(index=False):
        event_id = int(row.event_id)
        if not isinstance(row.event_hash, str):  # NULL: an event from before the chain
            if chained:
                return _broken(events, chained, prev, f"event {event_id} has no hash but comes after chained "
                               "events: it was inserted or its hash was removed", event_id)
            continue
        fields = {k: _text(getattr(row, k)) for k in (*HASHED_FIELDS, DB_USER)}
        if event_hash(fields) != row.event_hash:
            return _broken(events, chained, prev, f"event {event_id} ({row.action}, {row.at}) was edited: its "
                           "content does not match its hash", event_id)
        if _text(row.prev_hash) != prev:
            after = f"event {previous_id}" if previous_id is not None else "the start of the chain"
            return _broken(events, chained, prev, f"event {event_id} ({row.action}, {row.at}) does not follow "
                           f"{after}: an event before it was deleted, or events were reordered", event_id)
        prev, previous_id = str(row.event_hash), event_id
        chained += 1
        hashes_seen[prev] = chained
    recorded = store.audit_head()
    if recorded is not None or chained:
        count, _, last = (recorded or "0:").partition(":")
        if recorded is None or count != str(chained) or last != prev:
            said = f"{count} events ending in {last[:12] or '-'}" if recorded else "no events"
            return _broken(events, chained, prev, f"the chain ends after {chained} events ({prev[:12] or '-'}) but "
                           f"the store recorded {said}: the latest events were deleted, or the head was edited",
                           None)
    if head:
        count, sep, wanted = head.partition(":")
        wanted = wanted if sep else count
        if wanted not in hashes_seen or (sep and str(hashes_seen[wanted]) != count):
            return _broken(events, chained, prev, f"the head noted earlier ({head[:24]}...) is not in the chain: "
                           "the trail was rebuilt or cut before it", None)
    return Verification(len(events), chained, prev)


def _text(value: object) -> str:
    """A field as read back: text, "" for NULL (a database NULL may come back as None or NaN)."""
    return value if isinstance(value, str) else ""


def _broken(events, chained: int, prev: str, problem: str, event_id: int | None) -> Verification:
    return Verification(len(events), chained, prev, problem, event_id)


def show_lines(store: Store, since: dt.date | None = None) -> list[str]:
    """The events as lines for people: id, UTC time, user (and database login on a team store), action, result,
    detail (and an error's message)."""
    lines = []
    for row in store.audit_events(since).itertuples(index=False):
        result = row.result or "-"
        said = f" {row.message}" if row.message else ""
        who = f"{row.actor} (database {row.db_user})" if _text(row.db_user) else row.actor
        lines.append(f"{int(row.event_id):>6}  {row.at}  {who}  {row.action}  {result}{said}  {row.detail}")
    return lines
