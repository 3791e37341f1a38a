"""Who works which worklist row: the worklist split among the practice's specialists.

The `specialists` setting names them, each optionally with a share after `=`: payer ids (`ana=MCR,MCD`) when
the worklist is split by payer, letter ranges of the patient's last name (`ben=A-L`) when it is split by
alphabet; `assign_by` says how (`xl_ar.policy.Policy`):

- `payer`: each listed payer's rows go to its specialist; the payers nobody lists are shared out, one payer to
  one person, in payer-id order, round-robin among the specialists without a list (all of them when everyone has
  a list); rows without a payer go round-robin by rank.
- `alphabet`: by the initial of the patient's last name (`Last, First`); a row without a patient (a bank or
  payment exception) by the initial of its payer's name; an initial no range covers goes round-robin by rank among
  the specialists without a range (all of them when everyone has one).
- `round_robin`: by rank, first to the first specialist, second to the second, ...: each gets a similar share of
  the priority.
- `off`: no assignment (no `assigned_to` column).

A claim a specialist took (`xl-ar assign`, the ribbon's Take claim) is stored with a version (`Store.assign`,
optimistic locking): `with_stored` puts the taker in `assigned_to` over the computed split, and the version in
`assignment_version`, so a sheet or a later command states which version its user saw.

The same input always gives the same assignment. Only the specialist's name is added: the patient name is read
to pick the letter and never leaves this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.errors import SettingsError
from xl_ar.policy import Policy

COLUMN = "assigned_to"
"""The column `assign` adds: the specialist's name."""
VERSION = "assignment_version"
"""The column `with_stored` adds: the stored assignment's version (0: nobody took the claim)."""
SOURCE = "setting specialists"
"""Where a bad `specialists` entry was found (errors name it)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
"""A specialist's name as an OS user name is spelled: letters, digits, `.`, `_`, `@`, `-`."""
_RANGE = re.compile(r"([A-Za-z])(?:\s*-\s*([A-Za-z]))?")
"""A letter (`M`) or a range of letters (`A-L`) of the alphabet."""
_PAYER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")
"""A payer id as the payers table spells it."""


@dataclass(frozen=True)
class Specialist:
    """One person who works the worklist, and their share of it."""

    name: str
    """The person's name as the OS knows them (the ribbon shows them their own rows)."""
    payers: tuple[str, ...] = ()
    """Payer ids whose rows are theirs (`assign_by` payer)."""
    letters: tuple[tuple[str, str], ...] = ()
    """Ranges of last-name initials, first and last letter upper case (`assign_by` alphabet)."""


def is_name(text: str) -> bool:
    """Whether `text` is spelled as a person's name is here (an OS user name: letters, digits, `.`, `_`, `@`, `-`,
    at most 64): what a worklist claim may be given to."""
    return bool(_NAME.fullmatch(str(text)))


def specialists(text: str, assign_by: str = "round_robin") -> tuple[Specialist, ...]:
    """The `specialists` setting read for `assign_by`: entries separated by `;`, each `name` or `name=share`.

    The share is a comma list of payer ids (payer) or of letters and letter ranges (alphabet); round_robin
    ignores shares. Raises `SettingsError` naming the entry that cannot be used: an empty or badly spelled name,
    a name given twice, a share that is not payer ids or letter ranges, a payer or a letter given to two people.
    """
    out: list[Specialist] = []
    owner: dict[str, str] = {}
    for raw in str(text or "").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        name, has_share, share = (part.strip() for part in entry.partition("="))
        shown = entry[:40]

        def bad(why: str, shown: str = shown) -> SettingsError:
            return SettingsError(f"entry '{shown}': {why}", source=SOURCE)

        if not _NAME.fullmatch(name):
            raise bad("a specialist's name is letters, digits, '.', '_', '@' or '-' (a user name)")
        if any(s.name.lower() == name.lower() for s in out):
            raise bad(f"{name} is listed twice")
        items = [i.strip() for i in share.split(",")] if has_share else []
        if has_share and not all(items):
            raise bad("an empty item after '=' (items are separated by ',')")
        payers: tuple[str, ...] = ()
        letters: tuple[tuple[str, str], ...] = ()
        if assign_by == "payer" and items:
            for item in items:
                if not _PAYER.fullmatch(item):
                    raise bad(f"'{item[:20]}' is not a payer id")
                if item.upper() in owner:
                    raise bad(f"payer {item} is already {owner[item.upper()]}'s")
                owner[item.upper()] = name
            payers = tuple(items)
        elif assign_by == "alphabet" and items:
            ranges = []
            for item in items:
                m = _RANGE.fullmatch(item)
                if not m:
                    raise bad(f"'{item[:20]}' is not a letter or a range of letters such as A-L")
                first, last = m.group(1).upper(), (m.group(2) or m.group(1)).upper()
                if first > last:
                    raise bad(f"the range {item} runs backwards")
                for letter in map(chr, range(ord(first), ord(last) + 1)):
                    if letter in owner:
                        raise bad(f"the letter {letter} is already {owner[letter]}'s")
                    owner[letter] = name
                ranges.append((first, last))
            letters = tuple(ranges)
        out.append(Specialist(name, payers, letters))
    return tuple(out)


def configured(policy: Policy) -> tuple[Specialist, ...]:
    """The policy's specialists (empty when the worklist is not split: `assign_by` off). Raises `SettingsError`
    when the worklist is to be split but nobody is listed."""
    if policy.assign_by == "off":
        return ()
    people = specialists(policy.specialists, policy.assign_by)
    if not people:
        raise SettingsError(f"assign_by is {policy.assign_by} but no specialist is listed (setting specialists, "
                            "e.g. ana=MCR,MCD; ben=A-L; carla)", source=SOURCE)
    return people


def find(policy: Policy, user: str) -> str | None:
    """The configured specialist named `user` (as spelled in the setting; case does not matter), else None."""
    return next((s.name for s in configured(policy) if s.name.lower() == str(user).strip().lower()), None)


def assign(worklist: pd.DataFrame, claims: pd.DataFrame | None, policy: Policy,
           payers: pd.DataFrame | None = None) -> pd.DataFrame:
    """`worklist` (or any exceptions table) with `assigned_to`, the specialist who works each row; unchanged when
    `assign_by` is off. Rows are taken in rank order (the `rank` column, else the worklist's order: priority
    first). `claims` give the patient's last name (alphabet), `payers` the payer names of rows without one."""
    people = configured(policy)
    if not people:
        return worklist
    order = _rank_order(worklist)
    names = np.array([s.name for s in people], dtype=object)
    who = np.full(len(worklist), None, dtype=object)
    if policy.assign_by == "payer":
        payer = worklist["payer_id"].astype("string").str.upper().fillna("").to_numpy(dtype=object) \
            if "payer_id" in worklist.columns else np.full(len(worklist), "", dtype=object)
        for s in people:
            who[np.isin(payer, [p.upper() for p in s.payers])] = s.name
        free = np.array([s.name for s in people if not s.payers] or names.tolist(), dtype=object)
        unlisted = (who == None) & (payer != "")  # noqa: E711 (elementwise)
        others = np.unique(payer[unlisted].astype(str))  # sorted: the same payer goes to the same person
        who[unlisted] = free[np.searchsorted(others, payer[unlisted].astype(str)) % len(free)]
    elif policy.assign_by == "alphabet":
        initial = _initials(worklist, claims, payers)
        for s in people:
            for first, last in s.letters:
                who[(initial >= first) & (initial <= last) & (initial != "")] = s.name
        free = np.array([s.name for s in people if not s.letters] or names.tolist(), dtype=object)
    else:
        free = names
    rest = who == None  # noqa: E711 (elementwise)
    if rest.any():  # round-robin by rank among `free`
        ranked = order[rest[order]]
        who[ranked] = free[np.arange(len(ranked)) % len(free)]
    out = worklist.copy()
    out[COLUMN] = who
    return out


def with_stored(worklist: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """`worklist` with `assigned_to` the person a claim was stored as taken by or handed to (`Store.assignments`),
    else the computed split already in `assigned_to` (`assign`), else empty (`assign_by` off), and
    `assignment_version` the stored version, 0 for a claim nobody took.

    Why: a stored assignment is a person's decision (took the claim, handed it over), which the computed split
    must not undo; the version is what the user saw, so their next change is refused if someone changed the
    claim since (`Store.assign`). Rows without a claim (bank or payment items) keep the split and version 0."""
    out = worklist.copy()
    n = len(out)
    split = out[COLUMN].to_numpy(dtype=object) if COLUMN in out.columns else np.full(n, None, dtype=object)
    if "claim_id" in out.columns and len(stored):
        by_claim = stored.drop_duplicates("claim_id").set_index("claim_id")
        claim = out["claim_id"].astype("string").to_numpy(dtype=object)
        taker = by_claim["assigned_to"].reindex(claim).to_numpy(dtype=object)
        version = pd.to_numeric(by_claim["version"].reindex(claim), errors="coerce").fillna(0).to_numpy("int64")
    else:
        taker = np.full(n, None, dtype=object)
        version = np.zeros(n, dtype="int64")
    taken = pd.notna(taker)
    out[COLUMN] = pd.Series(np.where(taken, taker, split), index=out.index, dtype=object)  # None: nobody's
    out[VERSION] = pd.Series(version, index=out.index, dtype="int64")
    return out


def assigned(work: pd.DataFrame, stored: pd.DataFrame, claims: pd.DataFrame | None, payers: pd.DataFrame | None,
             policy: Policy) -> pd.DataFrame:
    """`work` with `assigned_to` (the stored taker, else the policy's split: `assign`, `with_stored`) and
    `assignment_version`."""
    if policy.assign_by != "off":
        work = assign(work, claims, policy, payers)
    return with_stored(work, stored)


def mine(assigned_work: pd.DataFrame, stored: pd.DataFrame, policy: Policy,
         user: str | None) -> tuple[pd.DataFrame, str | None]:
    """The rows of `assigned_work` (`assigned`) that are `user`'s, and `user` as the setting or the store spells
    them, when `user` is a configured specialist or took a claim (`stored`); else all rows and None.

    Why both: a person who took claims (`xl-ar assign`, Take claim) sees them even when not configured."""
    if not user:
        return assigned_work, None
    takers = {str(t).lower(): str(t) for t in stored["assigned_to"]} if len(stored) else {}
    whose = find(policy, user) or takers.get(str(user).strip().lower())
    if whose is None:
        return assigned_work, None
    return assigned_work[assigned_work[COLUMN] == whose], whose


def for_user(work: pd.DataFrame, stored: pd.DataFrame, claims: pd.DataFrame | None, payers: pd.DataFrame | None,
             policy: Policy, user: str | None) -> tuple[pd.DataFrame, str | None]:
    """`work` assigned (`assigned`), then only `user`'s rows when they are someone's (`mine`): (rows, whose)."""
    return mine(assigned(work, stored, claims, payers, policy), stored, policy, user)


def _rank_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of the rows in rank order (the `rank` column, else priority first, as `Reconciliation.worklist`
    sorts)."""
    if "rank" in frame.columns:
        return np.argsort(frame["rank"].to_numpy(dtype="float64"), kind="stable")
    keys = [c for c in ("priority", "kind", "claim_id", "trace_number") if c in frame.columns]
    if not keys:
        return np.arange(len(frame))
    position = frame.reset_index(drop=True)[keys].assign(_pos=np.arange(len(frame)))
    ranked = position.sort_values(keys, ascending=[k != "priority" for k in keys], kind="stable",
                                  na_position="last")
    return ranked["_pos"].to_numpy()


def _initials(worklist: pd.DataFrame, claims: pd.DataFrame | None, payers: pd.DataFrame | None) -> np.ndarray:
    """Each row's letter, upper case: the initial of the patient's last name (`Last, First`), else of the payer's
    name (else its id); empty when neither starts with a letter."""
    n = len(worklist)
    text = pd.Series([None] * n, dtype="string")
    if claims is not None and "patient_name" in claims.columns and "claim_id" in worklist.columns:
        names = claims.drop_duplicates("claim_id").set_index("claim_id")["patient_name"].astype("string")
        text = pd.Series(names.reindex(worklist["claim_id"].to_numpy()).to_numpy(), dtype="string")
    text = text.str.strip().replace("", pd.NA)
    if "payer_id" in worklist.columns:
        payer = pd.Series(worklist["payer_id"].to_numpy(), dtype="string")
        if payers is not None and len(payers):
            by_id = payers.drop_duplicates("payer_id").set_index("payer_id")["name"].astype("string")
            payer = pd.Series(by_id.reindex(payer.to_numpy()).to_numpy(), dtype="string").fillna(payer)
        text = text.fillna(payer.str.strip())
    first = text.str[:1].str.upper().fillna("")
    return first.where(first.str.fullmatch(r"[A-Z]").fillna(False), "").to_numpy(dtype=object)


def summary(assigned: pd.DataFrame) -> pd.DataFrame:
    """Per specialist, in name order: `rows` and `dollars` at stake (cents: the expected amount of a kind whose
    whole amount is open, else the variance, as the priority weighs it). Empty without `assigned_to`."""
    from xl_ar.kinds import KINDS

    if COLUMN not in assigned.columns:
        return pd.DataFrame({COLUMN: pd.Series(dtype=object), "rows": pd.Series(dtype="int64"),
                             "dollars": pd.Series(dtype="int64")})
    whole = assigned["kind"].map({k.code: k.at_stake == "expected" for k in KINDS}).fillna(False).to_numpy(bool)
    expected = pd.to_numeric(assigned.get("expected"), errors="coerce").fillna(0).to_numpy(dtype="int64") \
        if "expected" in assigned.columns else np.zeros(len(assigned), dtype="int64")
    variance = pd.to_numeric(assigned.get("variance"), errors="coerce").fillna(0).to_numpy(dtype="int64") \
        if "variance" in assigned.columns else np.zeros(len(assigned), dtype="int64")
    frame = pd.DataFrame({COLUMN: assigned[COLUMN].to_numpy(dtype=object),
                          "dollars": np.abs(np.where(whole, expected, variance))})
    out = frame.groupby(COLUMN, sort=True).agg(rows=("dollars", "size"), dollars=("dollars", "sum")).reset_index()
    return out.astype({"rows": "int64", "dollars": "int64"})
