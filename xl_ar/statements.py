"""Patient statements: who gets one as of a date, which notice of the dunning cycle, what it says, and patient
A/R aged from the first statement (docs/statements.md).

Core only: tables in, tables out. Writing the PDFs is `xl_ar.reports.statements`; recording what was sent is
`Store.record_statements`; the command is `xl-ar statements`.

The rules, in the order they apply to an account (`account_id`, its patient parts summed over its claims):

1. an account placed with collections (`placements`) gets no statement;
2. the amount due is the sum of the patient parts (`balances.open_parts`, never the insurance part); with
   `Policy.apply_patient_credits` a patient credit on one claim lowers the amount due of the others. An account
   whose amount due is zero or less (a credit) is not billed;
3. an amount due under `Policy.small_balance_cents` is not billed: it is listed for a small-balance write-off;
4. an account with an active payment plan gets a plan statement (the installment due) every
   `statement_interval_days`; a plan never escalates to notice 2 or the final notice;
5. otherwise the dunning cycle: no statement in the current cycle -> notice 1; the last was 1 and
   `statement_interval_days` have passed -> 2; the last was 2 and the interval passed -> final; after the final
   notice no more statements (collections takes over); before the interval has passed nothing this run.

The current cycle of an account is its statements dated on or after the date of service of its oldest claim with
an open patient balance. A statement dated before that was about balances since paid off: a balance all newer than
the last statement starts a new cycle at notice 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.balances import open_parts
from xl_ar.policy import Policy

NOTICES = ("1", "2", "final")
"""The dunning cycle's notices, in order."""
NEXT_NOTICE = {"1": "2", "2": "final"}
PLAN_EVERY_DAYS = 30
"""A payment plan's period when `every_days` is empty (monthly)."""
AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "over 120")
NOT_BILLED = "not yet billed to the patient"
"""The aging row of patient balances no statement has asked for yet."""

_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class StatementRun:
    """What a run as of a date sends, and what it leaves out."""

    as_of: dt.date
    statements: pd.DataFrame
    """One row per statement to send, ordered by account: account_id, notice ("1", "2", "final"), plan (bool),
    amount_due, installment (cents, 0 unless plan), balance (the account's patient balance), statement_date,
    due_date, first_date (the cycle's first statement; the statement date for a first notice), patient_name,
    patient_address."""
    lines: pd.DataFrame
    """One row per claim on a statement: account_id, claim_id, service_date, codes, charge, insurance_paid,
    adjusted, patient_paid, amount_due (the claim's patient part)."""
    small_balances: pd.DataFrame
    """Accounts not billed because their amount due is under the threshold: account_id, amount, claims."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Accounts with a patient balance that get no statement this run, by reason: placed, credit,
    after_final, not_due."""


def _date64(value: dt.date) -> np.datetime64:
    return np.datetime64(value, "D")


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """`values` (indexed by key) looked up for each of `keys`, aligned with `keys` (missing keys give NA)."""
    found = values.reindex(keys.to_numpy())
    found.index = keys.index
    return found


def _days(dates: pd.Series) -> np.ndarray:
    return pd.to_datetime(dates).to_numpy().astype("datetime64[D]")


def self_pay_ids(payers: pd.DataFrame | None) -> set[str]:
    """The payer ids of the self-pay payers (`payer_class` self_pay): who a patient's own payment is posted to."""
    if payers is None or payers.empty:
        return set()
    return set(payers.loc[payers["payer_class"] == "self_pay", "payer_id"])


def patient_payments(postings: pd.DataFrame, payers: pd.DataFrame) -> pd.Series:
    """Cents the patients paid, by claim_id: postings whose payer is a self-pay payer (`payer_class`)."""
    if postings.empty:
        return pd.Series(dtype="int64")
    own = postings[postings["payer_id"].isin(self_pay_ids(payers))]
    return own.groupby("claim_id")["amount"].sum().astype("int64")


def patient_parts(claims: pd.DataFrame) -> pd.DataFrame:
    """Each claim's patient part (cents, negative is a credit), claims without one left out: the claims table's
    rows with a column `patient_part`."""
    parts = open_parts(claims)
    parts = parts[parts["responsibility"] == "patient"]
    amount = parts.groupby("row")["amount"].sum()
    out = claims.iloc[amount.index.to_numpy()].copy()
    out["patient_part"] = amount.to_numpy().astype(np.int64)
    return out.reset_index(drop=True)


def cycle_history(history: pd.DataFrame, oldest_service: pd.Series) -> pd.DataFrame:
    """The dunning notices (not plan statements) of each account's current cycle: those dated on or after the
    date of service of its oldest open patient claim (`oldest_service`, by account_id)."""
    h = history
    if "plan_installment" in h.columns:
        h = h[h["plan_installment"].isna()]
    start = _lookup(h["account_id"], oldest_service)
    keep = start.notna() & (h["statement_date"] >= start)
    return h[keep]


def accounts(claims: pd.DataFrame, policy: Policy, parts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accounts with an open patient balance: account_id, amount (the amount due per the credit rule),
    oldest_service, claims; plus patient_name and patient_address of the account's latest claim. `parts`: the
    claims' `patient_parts` when computed already."""
    parts = patient_parts(claims) if parts is None else parts
    counted = parts["patient_part"] if policy.apply_patient_credits else parts["patient_part"].clip(lower=0)
    parts = parts.assign(counted=counted, open_service=parts["service_date"].where(parts["patient_part"] > 0))
    g = parts.groupby("account_id", sort=True)
    out = pd.DataFrame({"amount": g["counted"].sum().astype("int64"),
                        "oldest_service": g["open_service"].min(), "claims": g.size().astype("int64")})
    latest = parts.sort_values(["service_date", "claim_id"], kind="stable").groupby("account_id").tail(1)
    latest = latest.set_index("account_id")
    for column in ("patient_name", "patient_address"):
        out[column] = latest[column].reindex(out.index) if column in latest.columns else pd.NA
    return out.reset_index()


def active_plans(plans: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The payment plans running on the as-of date (started, not ended), the latest start per account:
    account_id, start_date, installment, every_days (filled with 30)."""
    if plans.empty:
        return pd.DataFrame({"account_id": pd.Series(dtype="str"), "start_date": pd.Series(dtype=tables.DATE_DTYPE),
                             "installment": pd.Series(dtype="int64"), "every_days": pd.Series(dtype="int64")})
    day = pd.Timestamp(as_of)
    running = plans[(plans["start_date"] <= day + pd.Timedelta(days=PLAN_EVERY_DAYS))
                    & (plans["end_date"].isna() | (plans["end_date"] > day))].copy()
    running["every_days"] = running["every_days"].fillna(PLAN_EVERY_DAYS).astype("int64")
    running = running.sort_values("start_date", kind="stable").groupby("account_id").tail(1)
    return running[["account_id", "start_date", "installment", "every_days"]].reset_index(drop=True)


def next_installment(start: pd.Series, every: pd.Series, as_of: dt.date) -> np.ndarray:
    """The first installment date on or after the as-of date of each plan (datetime64[D])."""
    s, e = _days(start), every.to_numpy(dtype=np.int64)
    behind = (_date64(as_of) - s) / _DAY
    periods = np.where(behind > 0, -(-behind.astype(np.int64) // e), 0)
    return s + (periods * e) * _DAY


def plan(claims: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, policy: Policy,
         placements: pd.DataFrame | None = None, plans: pd.DataFrame | None = None,
         postings: pd.DataFrame | None = None, payers: pd.DataFrame | None = None,
         claim_lines: pd.DataFrame | None = None, parts: pd.DataFrame | None = None) -> StatementRun:
    """The statements to send as of `as_of` (module docstring), from the claims, the store's statement history
    (`statements` table, with the optional `plan_installment` column), the placements and the payment plans.
    `parts`: the claims' `patient_parts` when computed already."""
    parts = patient_parts(claims) if parts is None else parts
    acc = accounts(claims, policy, parts)
    skipped = {"placed": 0, "credit": 0, "after_final": 0, "not_due": 0}
    placed = set(placements["account_id"]) if placements is not None and len(placements) else set()
    is_placed = acc["account_id"].isin(placed).to_numpy()
    skipped["placed"] = int(is_placed.sum())
    acc = acc[~is_placed]
    credit = (acc["amount"] <= 0).to_numpy()
    skipped["credit"] = int(credit.sum())
    acc = acc[~credit]
    small = (acc["amount"] < policy.small_balance_cents).to_numpy()
    small_balances = acc.loc[small, ["account_id", "amount", "claims"]].reset_index(drop=True)
    acc = acc[~small].reset_index(drop=True)

    today = pd.Timestamp(as_of)
    interval = pd.Timedelta(days=policy.statement_interval_days)
    hist = history if history is not None else tables.empty("statements")
    oldest = acc.set_index("account_id")["oldest_service"]
    cycle = cycle_history(hist, oldest).sort_values(["statement_date", "statement_id"], kind="stable")
    last = cycle.groupby("account_id").tail(1).set_index("account_id")
    first = cycle.groupby("account_id")["statement_date"].min()

    running = active_plans(plans if plans is not None else tables.empty("payment_plans"), as_of)
    on_plan = acc["account_id"].isin(set(running["account_id"])).to_numpy()

    # dunning notices
    last_notice = _lookup(acc["account_id"], last["notice"]) if len(last) else pd.Series(pd.NA, index=acc.index)
    last_date = _lookup(acc["account_id"], last["statement_date"]) if len(last) else pd.Series(pd.NaT, index=acc.index)
    waited = (today - pd.to_datetime(last_date)) >= interval
    notice = pd.Series(pd.NA, index=acc.index, dtype="object")
    notice[last_notice.isna()] = "1"
    notice[(last_notice == "1") & waited] = "2"
    notice[(last_notice == "2") & waited] = "final"
    after_final = (last_notice == "final").fillna(False).to_numpy() & ~on_plan
    not_due = notice.isna().to_numpy() & ~after_final & ~on_plan

    # plan statements: every interval since the last plan statement
    plan_hist = hist[hist["plan_installment"].notna()] if "plan_installment" in hist.columns else hist.iloc[:0]
    last_plan = plan_hist.groupby("account_id")["statement_date"].max()
    plan_last = pd.to_datetime(_lookup(acc["account_id"], last_plan))
    plan_due = on_plan & (plan_last.isna() | ((today - plan_last) >= interval)).to_numpy()
    not_due |= on_plan & ~plan_due
    skipped["after_final"] = int(after_final.sum())
    skipped["not_due"] = int(not_due.sum())

    send = (notice.notna().to_numpy() & ~on_plan) | plan_due
    out = acc[send].copy()
    out["plan"] = plan_due[send]
    out["notice"] = np.where(out["plan"], "1", notice[send].to_numpy(dtype=object))
    plans_by = running.set_index("account_id")
    installment = _lookup(out["account_id"], plans_by["installment"]).fillna(0).astype("int64")
    out["installment"] = np.where(out["plan"], np.minimum(installment, out["amount"]), 0).astype("int64")
    due_plain = today + pd.Timedelta(days=policy.statement_due_days)
    every = _lookup(out["account_id"], plans_by["every_days"]).fillna(PLAN_EVERY_DAYS).astype("int64")
    start = _lookup(out["account_id"], plans_by["start_date"]).fillna(today)
    plan_date = pd.Series(next_installment(start, every, as_of), index=out.index).astype(tables.DATE_DTYPE)
    out["statement_date"] = pd.Series(today, index=out.index).astype(tables.DATE_DTYPE)
    out["due_date"] = plan_date.where(out["plan"], due_plain).astype(tables.DATE_DTYPE)
    out["amount_due"] = np.where(out["plan"], out["installment"], out["amount"]).astype("int64")
    out["first_date"] = _lookup(out["account_id"], first).fillna(today).astype(tables.DATE_DTYPE)
    out["balance"] = out["amount"]
    statements = out[["account_id", "notice", "plan", "amount_due", "installment", "balance", "statement_date",
                      "due_date", "first_date", "patient_name", "patient_address"]].reset_index(drop=True)
    lines = statement_lines(claims, statements["account_id"], policy, postings, payers, claim_lines, parts)
    return StatementRun(as_of, statements, lines, small_balances, skipped)


def statement_lines(claims: pd.DataFrame, billed: pd.Series, policy: Policy, postings: pd.DataFrame | None = None,
                    payers: pd.DataFrame | None = None, claim_lines: pd.DataFrame | None = None,
                    parts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The claims each statement lists (the account's claims with a patient part counted in its amount due),
    ordered by account and date of service: what was charged, what insurance paid, the adjustments, what the
    patient paid, and the patient's part. Procedure codes only (no descriptions). `parts`: the claims'
    `patient_parts` when computed already."""
    parts = patient_parts(claims) if parts is None else parts
    parts = parts[parts["account_id"].isin(set(billed))]
    if not policy.apply_patient_credits:
        parts = parts[parts["patient_part"] > 0]
    paid_by_patient = patient_payments(postings if postings is not None else tables.empty("postings"),
                                       payers if payers is not None else tables.empty("payers"))
    patient_paid = _lookup(parts["claim_id"], paid_by_patient).fillna(0).astype("int64")
    codes = pd.Series("", index=parts.index, dtype="object")
    if claim_lines is not None and len(claim_lines):
        own = claim_lines[claim_lines["claim_id"].isin(set(parts["claim_id"]))].sort_values(["claim_id", "line_no"])
        joined = own.groupby("claim_id")["procedure_code"].agg(lambda c: ", ".join(dict.fromkeys(c)))
        codes = _lookup(parts["claim_id"], joined).fillna("")
    out = pd.DataFrame({
        "account_id": parts["account_id"].to_numpy(), "claim_id": parts["claim_id"].to_numpy(),
        "service_date": parts["service_date"].to_numpy(), "codes": codes.to_numpy(dtype=object),
        "charge": parts["charge"].to_numpy(dtype=np.int64),
        "insurance_paid": (parts["paid"] - patient_paid).to_numpy(dtype=np.int64),
        "adjusted": parts["adjusted"].to_numpy(dtype=np.int64),
        "patient_paid": patient_paid.to_numpy(dtype=np.int64),
        "amount_due": parts["patient_part"].to_numpy(dtype=np.int64)})
    return out.sort_values(["account_id", "service_date", "claim_id"], kind="stable").reset_index(drop=True)


def to_record(run: StatementRun, batch: str) -> pd.DataFrame:
    """The run's statements as rows of the `statements` table to store (without ids), with `plan_installment`
    (the installment of a plan statement, NA on a dunning notice)."""
    s = run.statements
    frame = tables.from_columns("statements", {
        "statement_id": [None] * len(s), "account_id": s["account_id"], "statement_date": s["statement_date"],
        "notice": s["notice"], "amount_due": s["amount_due"], "due_date": s["due_date"], "batch": [batch] * len(s),
        "plan_installment": s["installment"].astype("Int64").where(s["plan"].astype(bool), pd.NA)})
    return frame


def patient_aging(claims: pd.DataFrame, history: pd.DataFrame, as_of: dt.date, policy: Policy,
                  placements: pd.DataFrame | None = None, parts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Patient A/R aged from the FIRST statement date of each account's current cycle: one row per bucket
    (0-30, 31-60, 61-90, 91-120, over 120 days, then `NOT_BILLED`), with accounts and amount (cents). The amount
    is each account's amount due (credit rule applied; accounts with a credit and placed accounts left out).
    `parts`: the claims' `patient_parts` when computed already."""
    acc = accounts(claims, policy, parts)
    placed = set(placements["account_id"]) if placements is not None and len(placements) else set()
    acc = acc[~acc["account_id"].isin(placed) & (acc["amount"] > 0)]
    cycle = cycle_history(history, acc.set_index("account_id")["oldest_service"])
    first = _lookup(acc["account_id"], cycle.groupby("account_id")["statement_date"].min())
    days = (pd.Timestamp(as_of) - pd.to_datetime(first)).dt.days
    edges = [-np.inf, 30, 60, 90, 120, np.inf]
    bucket = pd.cut(days, edges, labels=list(AGING_BUCKETS)).astype("object")
    bucket[first.isna().to_numpy()] = NOT_BILLED
    labels = [*AGING_BUCKETS, NOT_BILLED]
    g = acc.groupby(bucket.to_numpy())["amount"]
    return pd.DataFrame({"bucket": labels,
                         "accounts": [int(g.size().get(b, 0)) for b in labels],
                         "amount": [int(g.sum().get(b, 0)) for b in labels]})


def counts(run: StatementRun) -> dict[str, int]:
    """Counts of a run without identifiers (the CLI's output and the audit event)."""
    s = run.statements
    dunning = s[~s["plan"]]
    return {"statements": len(s), **{f"notice_{n}": int((dunning["notice"] == n).sum()) for n in NOTICES},
            "plan_statements": int(s["plan"].sum()), "amount_due_cents": int(s["amount_due"].sum()),
            "small_balances": len(run.small_balances),
            "small_balance_cents": int(run.small_balances["amount"].sum()),
            **{f"skipped_{k}": v for k, v in run.skipped.items()}}


def for_practice(practice_tables: dict[str, pd.DataFrame], history: pd.DataFrame, placements: pd.DataFrame,
                 as_of: dt.date, policy: Policy) -> tuple[StatementRun, pd.DataFrame]:
    """The run of a practice (its export tables: claims, claim_lines, postings, payers, payment_plans) with the
    store's statement history and placements, and the patient aging once the run is sent (its statements counted
    as sent on the as-of date: a first notice starts its account's aging at 0 days)."""
    def table(name: str) -> pd.DataFrame:
        return practice_tables.get(name, tables.empty(name))

    claims = table("claims")
    parts = patient_parts(claims)  # once, for the run, its lines and the aging
    run = plan(claims, history, as_of, policy, placements, table("payment_plans"), table("postings"),
               table("payers"), table("claim_lines"), parts)
    sent = to_record(run, "")
    after = pd.concat([history, sent], ignore_index=True) if len(history) else sent
    return run, patient_aging(claims, after, as_of, policy, placements, parts)
