"""Appeals of denied and underpaid claims: opened from the worklist, filed, closed by the payer's next 835.

The rules (docs/appeals.md):

- **Opening.** A worklist row of kind `denied`, `partially_denied` or `underpaid` opens an appeal of its claim
  (`open_from_worklist`); any other kind is refused with its reason. The level is the next one after the claim's
  latest appeal: 1, then 2 (only after level 1 was lost or partially won), then external (only after level 2
  was). What is appealed comes from the row: the payer, the denial category, the deadline, the payment whose
  adjudication is appealed and the amount at stake (the denied amount, or the contracted amount not paid: the
  row's `expected - actual`); the denial date is that payment's date.
- **Status.** drafted -> filed -> won, partially_won or lost; withdrawn from drafted or filed; a closed appeal
  (won, partially won, lost, withdrawn) never reopens (`transition`).
- **Closing by remittances.** A filed appeal is closed by its claim's adjudication that stands
  (`remittances.standing_adjudications`: a reversal and its correction count as the correction) when that
  adjudication was paid on or after the filing date and is not the payment appealed (`closures`).
  recovered = what it pays - what the appealed adjudication paid (cents, never below 0); recovered >= the
  amount appealed: won; 0 < recovered < amount appealed: partially won; otherwise lost.
- **KPIs** (`kpis`; definitions in `xl_ar.kpi.DEFINITIONS`): overturn rate, days from denial to appeal and from
  appeal to resolution, dollars recovered, denial write-offs as a share of net revenue.

Core functions take tables and return tables; `close_stored` is the one call the importer and `xl-ar appeals
close` make (it reads and writes the store).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from xl_ar import codes, tables
from xl_ar.errors import ArgumentError, InputError, StoreError
from xl_ar.remittances import counted_once, standing_adjudications

if TYPE_CHECKING:
    from xl_ar.store import Store

LEVELS: tuple[str, ...] = ("1", "2", "external")
"""The appeal levels in order: first-level reconsideration, second level, external (independent) review."""
APPEALABLE_KINDS: tuple[str, ...] = ("denied", "partially_denied", "underpaid")
"""The worklist kinds an appeal can be opened from."""
METHODS: tuple[str, ...] = ("portal", "mail", "fax", "email", "phone")
"""How an appeal is sent."""
OPEN_STATUSES: tuple[str, ...] = ("drafted", "filed")
RESOLVED_STATUSES: tuple[str, ...] = ("won", "partially_won", "lost")
"""The outcomes the payer decides (the overturn rate's denominator)."""
CLOSED_STATUSES: tuple[str, ...] = (*RESOLVED_STATUSES, "withdrawn")
NEXT_LEVEL_AFTER: tuple[str, ...] = ("lost", "partially_won")
"""The outcomes of a level after which the next level may be opened."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "drafted": ("filed", "withdrawn"),
    "filed": ("won", "partially_won", "lost", "withdrawn"),
}
"""Which status each open status may change to; a closed status changes to nothing."""

REFUSED_COLUMNS = ["claim_id", "kind", "reason"]


@dataclass(frozen=True)
class Opening:
    """What `open_from_worklist` decided: the appeals to open and the rows refused, each with its reason."""

    appeals: pd.DataFrame
    """Canonical `appeals` rows (appeal_id empty: the store numbers them)."""
    refused: pd.DataFrame
    """claim_id, kind, reason of each row not opened (the reason never names the claim)."""


def next_levels(claim_ids: pd.Series, existing: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The next appeal level of each claim after its latest appeal in `existing`, and why there is none (the
    level is None then): no appeal gives 1; a level lost or partially won gives the next; anything else
    (an appeal still open, won, withdrawn, or external review done) gives none."""
    n = len(claim_ids)
    if existing.empty:
        return np.full(n, "1", dtype=object), np.full(n, "", dtype=object)
    rank = existing.level.map({lv: i for i, lv in enumerate(LEVELS)}).astype("int64")
    latest = existing.assign(_rank=rank.to_numpy()).sort_values("_rank", kind="stable").drop_duplicates(
        "claim_id", keep="last").set_index("claim_id")
    status = latest.status.reindex(claim_ids.to_numpy()).to_numpy(dtype=object)
    last = latest._rank.reindex(claim_ids.to_numpy()).to_numpy(dtype="float64")
    has = ~np.isnan(last)
    can_go_on = np.isin(status, NEXT_LEVEL_AFTER) & (np.nan_to_num(last) < len(LEVELS) - 1)
    level = np.full(n, None, dtype=object)
    level[~has] = "1"
    nxt = np.nan_to_num(last).astype(int) + 1
    level[has & can_go_on] = np.array((*LEVELS, ""), dtype=object)[nxt[has & can_go_on]]
    shown_level = np.array(LEVELS, dtype=object)[np.clip(np.nan_to_num(last).astype(int), 0, len(LEVELS) - 1)]
    reason = np.where(
        ~has | can_go_on, "",
        np.where(np.isin(status, OPEN_STATUSES),
                 "an appeal at level " + shown_level.astype(str) + " is still open (" + status.astype(str) + ")",
                 np.where(np.isin(status, NEXT_LEVEL_AFTER), "external review was the last level",
                          "the level " + shown_level.astype(str) + " appeal was " + status.astype(str)
                          + ": the next level needs it lost or partially won")))
    return level, reason.astype(object)


def row_of(worklist: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """The claim's worklist row to appeal: its highest-ranked appealable row, else its highest-ranked row (which
    `open_from_worklist` refuses with the reason); empty when the claim is not on the worklist."""
    rows = worklist[worklist["claim_id"] == claim_id]
    appealable = rows["kind"].isin(APPEALABLE_KINDS).to_numpy()
    return pd.concat([rows[appealable], rows[~appealable]]).head(1)


def open_from_worklist(rows: pd.DataFrame, existing: pd.DataFrame, payments: pd.DataFrame | None, *,
                       level: str | None = None, filed_date: dt.date | None = None,
                       method: str | None = None) -> Opening:
    """Appeals opened from worklist rows (the exceptions table's columns), one per claim: status `filed` with
    `filed_date` and `method` when a filing date is given, else `drafted`.

    `existing` is the store's appeals (the level follows the claim's latest), `payments` gives the denial date
    (the payment date of the adjudication appealed). `level`, when given, must be the claim's next level.
    """
    if filed_date is not None and method not in METHODS:
        raise ArgumentError(f"a filed appeal needs its method: one of {', '.join(METHODS)}")
    if method is not None and method not in METHODS:
        raise ArgumentError(f"unknown method {method!r}: one of {', '.join(METHODS)}")
    if level is not None and level not in LEVELS:
        raise ArgumentError(f"unknown level {level!r}: one of {', '.join(LEVELS)}")
    rows = rows.drop_duplicates("claim_id").reset_index(drop=True)
    kind = rows.kind.astype(str).to_numpy(dtype=object)
    appealable = np.isin(kind, APPEALABLE_KINDS)
    nxt, why = next_levels(rows.claim_id, existing)
    reason = np.where(appealable, why, "the row is " + pd.Series(kind).str.replace("_", " ").to_numpy(dtype=object)
                      + ": only denied, partially denied or underpaid rows are appealed")
    if level is not None:
        wrong = appealable & (why == "") & (nxt != level)
        reason = np.where(wrong, "the next level for this claim is " + nxt.astype(str) + ", not " + level, reason)
    ok = reason == ""
    refused = pd.DataFrame({"claim_id": rows.claim_id[~ok].to_numpy(), "kind": kind[~ok], "reason": reason[~ok]},
                           columns=REFUSED_COLUMNS)
    chosen = rows[ok]
    dates = pd.Series(dtype="datetime64[us]")
    if payments is not None and not payments.empty:
        dates = payments.drop_duplicates("payment_id").set_index("payment_id").payment_date
    at_stake = (-chosen.variance.astype("Int64")).clip(lower=0)
    n = len(chosen)
    filed = filed_date is not None
    data = {
        "appeal_id": np.full(n, "", dtype=object), "claim_id": chosen.claim_id.to_numpy(dtype=object),
        "payer_id": chosen.payer_id.astype(object).fillna("").to_numpy(dtype=object),
        "level": nxt[ok], "status": np.full(n, "filed" if filed else "drafted", dtype=object),
        "category": chosen.category.to_numpy(dtype=object),
        "denial_date": dates.reindex(chosen.payment_id.to_numpy()).to_numpy(dtype="datetime64[us]"),
        "filed_date": np.full(n, np.datetime64(filed_date, "us") if filed else np.datetime64("NaT"),
                              dtype="datetime64[us]"),
        "deadline": chosen.deadline.to_numpy(dtype="datetime64[us]"),
        "method": np.full(n, method if filed else None, dtype=object),
        "amount_appealed": at_stake.array, "payment_id": chosen.payment_id.to_numpy(dtype=object),
    }
    return Opening(tables.from_columns("appeals", data), refused)


def open_one(store: Store, worklist: pd.DataFrame, claim_id: str, payments: pd.DataFrame | None, as_of: dt.date,
             *, level: str | None = None, filed_date: dt.date | None = None, method: str | None = None,
             **audit: object) -> pd.Series:
    """Open (and store) the appeal of one claim from its worklist row (`row_of`, `open_from_worklist`) and record
    an `appeals` audit event (`audit` adds to it, e.g. `via`); returns the stored appeal's row. Raises
    `InputError`, nothing opened, when the claim has no worklist row, the arguments cannot be used, the row
    cannot be appealed, or the claim has an appeal at that level already."""
    rows = row_of(worklist, claim_id)
    if rows.empty:
        raise InputError(f"the claim has no row on the worklist as of {as_of}; nothing was opened")
    existing = store.appeals()
    try:
        opening = open_from_worklist(rows, existing[existing["claim_id"] == claim_id], payments, level=level,
                                     filed_date=filed_date, method=method)
    except ArgumentError as e:
        raise InputError(f"{e}; nothing was opened") from None
    if len(opening.refused):
        raise InputError(f"Not opened: {opening.refused['reason'].iloc[0]}.")
    opened, already = store.open_appeals(opening.appeals)
    if len(already):
        raise InputError(f"this claim has a level {already['level'].iloc[0]} appeal already; nothing was opened")
    row = opened.iloc[0]
    store.audit("appeals", command="open", as_of=as_of.isoformat(), opened=1, level=str(row["level"]),
                status=str(row["status"]), kind=str(rows["kind"].iloc[0]), **audit)
    return row


def transition(appeal: Mapping[str, object], status: str, day: dt.date, method: str | None = None) -> dict:
    """The changes that move one appeal (a row of `appeals`) to `status` on `day`; refused (`ArgumentError`, the
    message says why) when the rules do not allow it: drafted -> filed (with a method) -> won, partially_won or
    lost; withdrawn from drafted or filed; a closed appeal does not reopen."""
    current = str(appeal["status"])
    if current in CLOSED_STATUSES:
        raise ArgumentError(f"appeal {appeal['appeal_id']} is {current.replace('_', ' ')}: a closed appeal does "
                            "not reopen (open the next level instead)")
    if status not in TRANSITIONS[current]:
        allowed = " or ".join(s.replace("_", " ") for s in TRANSITIONS[current])
        raise ArgumentError(f"appeal {appeal['appeal_id']} is {current}: it can become {allowed}, "
                            f"not {status.replace('_', ' ')}")
    if status == "filed":
        if method not in METHODS:
            raise ArgumentError(f"filing an appeal needs its method: one of {', '.join(METHODS)}")
        return {"status": "filed", "filed_date": day, "method": method}
    return {"status": status, "resolved_date": day}


def outcome(recovered: np.ndarray, amount_appealed: np.ndarray) -> np.ndarray:
    """won when the recovered cents reach the amount appealed, partially_won when some came, else lost (an
    amount appealed that is missing counts as 0: anything recovered wins)."""
    recovered = np.asarray(recovered, dtype=np.int64)
    wanted = np.asarray(amount_appealed, dtype=np.int64)
    return np.where((recovered > 0) & (recovered >= wanted), "won",
                    np.where(recovered > 0, "partially_won", "lost")).astype(object)


CLOSURE_COLUMNS = ["appeal_id", "version", "status", "recovered", "resolved_date", "resolved_by"]


def closures(appeals: pd.DataFrame, claim_payments: pd.DataFrame, payments: pd.DataFrame | None = None) -> pd.DataFrame:
    """The filed appeals the remittances close, with their outcome (columns `CLOSURE_COLUMNS`).

    Each filed appeal's claim is looked up in its adjudication that stands (`standing_adjudications` over
    `claim_payments`, dated from `payments` when they lack `payment_date`): it closes the appeal when it was
    paid on or after the filing date and is another payment than the one appealed. Drafted, withdrawn and
    decided appeals are never touched. One merge, no loop over appeals.
    """
    filed = appeals[(appeals.status == "filed") & appeals.filed_date.notna()]
    if filed.empty or claim_payments.empty:
        return pd.DataFrame(columns=CLOSURE_COLUMNS)
    mine = claim_payments[claim_payments.claim_id.isin(filed.claim_id)]
    if mine.empty:
        return pd.DataFrame(columns=CLOSURE_COLUMNS)
    standing = standing_adjudications(mine, payments)
    dated = mine if "payment_date" in mine else mine.merge(
        payments.drop_duplicates("payment_id")[["payment_id", "payment_date"]], on="payment_id", how="left")
    appealed_paid = dated.groupby(["claim_id", "payment_id"]).paid.sum()
    now = filed.merge(standing[["claim_id", "payment_id", "paid", "payment_date"]].rename(
        columns={"payment_id": "_new_payment", "paid": "_new_paid", "payment_date": "_new_date"}),
        on="claim_id", how="inner")
    now = now[(pd.to_datetime(now._new_date) >= pd.to_datetime(now.filed_date))
              & (now._new_payment.astype(str) != now.payment_id.astype(object).fillna("").astype(str))]
    if now.empty:
        return pd.DataFrame(columns=CLOSURE_COLUMNS)
    key = pd.MultiIndex.from_arrays([now.claim_id.to_numpy(), now.payment_id.astype(object).to_numpy()])
    before = appealed_paid.reindex(key).fillna(0).to_numpy(dtype=np.int64)  # an unknown payment counts as 0
    recovered = np.maximum(now._new_paid.to_numpy(dtype=np.int64) - before, 0)
    wanted = now.amount_appealed.astype("Int64").fillna(0).to_numpy(dtype=np.int64)
    return pd.DataFrame({
        "appeal_id": now.appeal_id.to_numpy(), "version": now.version.to_numpy(),
        "status": outcome(recovered, wanted), "recovered": recovered,
        "resolved_date": pd.to_datetime(now._new_date).dt.date.to_numpy(),
        "resolved_by": now._new_payment.to_numpy(),
    }, columns=CLOSURE_COLUMNS).reset_index(drop=True)


@dataclass(frozen=True)
class Closed:
    """What a closing run did: each closure written, and the appeals changed by someone else meanwhile."""

    closed: pd.DataFrame
    """`CLOSURE_COLUMNS` of the appeals closed now."""
    conflicts: int = 0
    """Appeals left as they were because someone changed them since they were read (closed on the next run)."""

    def counts(self) -> dict[str, int]:
        """Appeals closed per outcome (won, partially_won, lost), only those with any."""
        found = self.closed.status.value_counts()
        return {s: int(found[s]) for s in RESOLVED_STATUSES if s in found}

    def summary(self) -> str:
        """e.g. "2 appeals closed (1 won, 1 lost)"."""
        n = len(self.closed)
        parts = ", ".join(f"{k} {s.replace('_', ' ')}" for s, k in self.counts().items())
        text = f"{n} appeal{'s' if n != 1 else ''} closed" + (f" ({parts})" if parts else "")
        if self.conflicts:
            text += f"; {self.conflicts} changed meanwhile, left for the next run"
        return text


def close_stored(store: Store, claim_ids: Iterable[str] | None = None) -> Closed:
    """Close the store's filed appeals (of `claim_ids`, else all) that its remittances decide (`closures`),
    each written with the version read (an appeal changed since is left for the next run)."""
    appeals = store.appeals()
    filed = appeals[appeals.status == "filed"]
    if claim_ids is not None:
        filed = filed[filed.claim_id.isin(set(claim_ids))]
    if filed.empty:
        return Closed(pd.DataFrame(columns=CLOSURE_COLUMNS))
    found = closures(filed, store.adjudications(filed.claim_id.unique().tolist()))
    done, conflicts = [], 0
    for row in found.to_dict("records"):  # one optimistic write per appeal closed (the decision is above)
        try:
            store.change_appeal(row["appeal_id"], int(row["version"]), status=row["status"],
                                recovered=int(row["recovered"]), resolved_date=row["resolved_date"],
                                resolved_by=row["resolved_by"])
            done.append(row)
        except StoreError:
            conflicts += 1
    return Closed(pd.DataFrame(done, columns=CLOSURE_COLUMNS), conflicts)


# -- KPIs -------------------------------------------------------------------------------------------------------

KPI_NAMES: tuple[str, ...] = ("appeals_filed", "appeals_resolved", "overturn_rate", "days_denial_to_appeal",
                              "days_appeal_to_resolution", "dollars_recovered")
"""The appeal figures of `kpis` (`denial_writeoff_pct` is `denial_writeoffs`' share)."""


def kpis(appeals: pd.DataFrame) -> dict[str, float | int]:
    """The appeal KPIs of a set of appeals (definitions in `xl_ar.kpi.DEFINITIONS`): appeals filed (ever
    filed: status filed or later, withdrawn after filing included), resolved (won, partially won, lost), the
    overturn rate (won + partially won) / resolved, the average days from denial to appeal (filed_date -
    denial_date) and from appeal to resolution (resolved_date - filed_date, resolved appeals), dollars recovered
    (cents). Averages and the rate are NaN when nothing counts."""
    filed = appeals.filed_date.notna()
    resolved = appeals.status.isin(RESOLVED_STATUSES)
    overturned = appeals.status.isin(("won", "partially_won"))
    to_appeal = (pd.to_datetime(appeals.filed_date) - pd.to_datetime(appeals.denial_date)).dt.days[filed]
    to_resolution = (pd.to_datetime(appeals.resolved_date) - pd.to_datetime(appeals.filed_date)).dt.days[resolved]
    n_resolved = int(resolved.sum())
    return {
        "appeals_filed": int(filed.sum()),
        "appeals_resolved": n_resolved,
        "overturn_rate": int(overturned.sum()) / n_resolved if n_resolved else float("nan"),
        "days_denial_to_appeal": float(to_appeal.mean()) if to_appeal.notna().any() else float("nan"),
        "days_appeal_to_resolution": float(to_resolution.mean()) if to_resolution.notna().any() else float("nan"),
        "dollars_recovered": int(appeals.recovered.astype("Int64").fillna(0)[resolved].sum()),
    }


def kpis_by(appeals: pd.DataFrame, column: str) -> pd.DataFrame:
    """`kpis` per value of `column` (payer_id or category; a missing value is "(none)"), one row each, sorted."""
    keys = appeals[column].astype(object).fillna("(none)")
    rows = [{column: k, **kpis(appeals[keys == k])} for k in sorted(keys.unique())]
    return pd.DataFrame(rows, columns=[column, *KPI_NAMES])


@dataclass(frozen=True)
class DenialWriteoffs:
    """Denial write-offs over net revenue in a period (`denial_writeoffs`)."""

    written_off: int
    """Cents of denial-category CO/PI/OA adjustments on claims now closed with no balance."""
    net_revenue: int
    """Cents paid by the payments dated in the period (the payers' payments; the net revenue collected)."""

    @property
    def pct(self) -> float:
        return self.written_off / self.net_revenue if self.net_revenue else float("nan")


def denial_writeoffs(claims: pd.DataFrame, remittances: Mapping[str, pd.DataFrame], start: dt.date,
                     end: dt.date) -> DenialWriteoffs:
    """Denial write-offs as a share of net revenue, for payments dated from `start` to `end` (inclusive).

    Written off: the adjustments with group CO, PI or OA whose reason is in a denial category
    (`codes.DENIAL_CATEGORIES`), on the adjudications that stand, paid in the period, of claims the ledger shows
    closed with no balance (balance 0: the denial was written off, not overturned). Net revenue: the claim
    payments (CLP04) of the payments dated in the period. Each payment counted once: a re-sent remittance's later
    copies are taken out here (`remittances.counted_once`), as the KPIs do."""
    if remittances["claim_payments"].empty or remittances["payments"].empty:
        return DenialWriteoffs(0, 0)
    once = counted_once(remittances)
    cp, adj, pay = once["claim_payments"], once["adjustments"], once["payments"]
    dated = cp.merge(pay.drop_duplicates("payment_id")[["payment_id", "payment_date"]], on="payment_id", how="left")
    when = pd.to_datetime(dated.payment_date)
    in_period = ((when >= pd.Timestamp(start)) & (when <= pd.Timestamp(end))).to_numpy()
    net = int(dated.paid[in_period].astype("int64").sum())
    standing = standing_adjudications(dated[in_period])
    closed_ids = claims.claim_id[claims.balance.astype("int64") == 0]
    standing = standing[standing.claim_id.isin(closed_ids)]
    category = codes.categorize(adj.group_code, adj.reason_code)[0]
    denial = adj[np.isin(category, list(codes.DENIAL_CATEGORIES)) & adj.group_code.isin(("CO", "PI", "OA")).to_numpy()]
    hit = denial.merge(standing[["payment_id", "claim_seq"]], on=["payment_id", "claim_seq"], how="inner")
    return DenialWriteoffs(int(hit.amount.astype("int64").sum()), net)
