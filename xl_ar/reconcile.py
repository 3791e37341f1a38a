"""Three-way reconciliation: what the payer says it paid (835), what was posted (PM), what arrived
(bank), plus every claim that was denied, paid wrong or never answered.

Matching rules:
- 835 -> claims ledger: CLP01 is the claim id (the patient control number of the 837). A
  remitted claim not in the ledger is `unmatched_remit`. Service lines match the billed lines by
  REF*6R line control number, else by procedure code and date of service (then units), so a payer
  that drops or reorders modifiers still matches; the billed modifiers then price the line.
- 835 -> postings: per claim and check (TRN02 trace number), amounts equal to the cent:
  `unposted_payment`, `posting_variance`, `posted_without_era`. Patient (self-pay) postings are
  not payer money and are left out. A payment dated within `posting_grace_days` of the as-of date
  may simply not be posted yet.
- 835 -> bank: BPR02 to the deposit line with the same trace number; a deposit line without a
  trace matches a payment of the same amount dated from 2 days before to `deposit_window_days`
  after the payment. Only payer EFTs and check deposits are expected to match (card batches and
  transfers are other money). `era_without_deposit`, `deposit_without_era`, `deposit_variance`.
- A payment seen twice (same payer, trace number and amount) is one payment: the later copies are
  `duplicate_era` and are not counted again. Reversals (CLP02 = 22) net against their original and
  correction: the latest adjudication of a claim decides its outcome.

Outcomes of the latest adjudication: `denied` (CLP02 = 4, or nothing paid and all of it denied),
`partially_denied` (paid, with denial adjustments), both while the ledger still shows a balance;
`underpaid` / `overpaid` (allowed vs the fee schedule beyond $5 and 2%); `reversal`. From the
ledger: `credit_balance`, `no_response` (billed more than `no_response_days` ago, no remittance).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xl_ar import bank, codes, denials
from xl_ar.remittances import assign_payers, duplicate_payments, link_reversals, payment_keys

EXCEPTION_KINDS = (
    "unposted_payment", "posting_variance", "posted_without_era", "era_without_deposit", "deposit_without_era",
    "deposit_variance", "duplicate_era", "unmatched_remit", "no_response", "denied", "partially_denied",
    "underpaid", "overpaid", "reversal", "credit_balance",
)
"""Every kind of exception, in the order reports list them."""

COLUMNS = ("kind", "claim_id", "payment_id", "trace_number", "payer_id", "expected", "actual", "variance",
           "reason", "category", "next_action", "deadline", "days_left", "priority")
"""Columns of the exceptions table (amounts in cents; variance = actual - expected)."""

ACTION = {
    "unposted_payment": "post the payment", "posting_variance": "correct the posting",
    "posted_without_era": "find the remittance or reverse the posting", "era_without_deposit": "find the deposit",
    "deposit_without_era": "request the remittance from the payer", "deposit_variance": "ask the payer or bank",
    "duplicate_era": "make sure it was posted once", "unmatched_remit": "identify the claim or return the money",
    "no_response": "check claim status and resubmit", "underpaid": "appeal the underpayment",
    "overpaid": "refund or confirm the rate", "reversal": "post the reversal and its correction",
    "credit_balance": "refund the credit",
}
"""Suggested next action of the exceptions that are not denials (denials take their CARC's action)."""


@dataclass(frozen=True)
class Rules:
    """Tolerances and defaults of the reconciliation (all configurable)."""

    posting_grace_days: int = 3
    """A payment this recent may not be posted yet."""
    deposit_grace_days: int = 7
    """A payment (or deposit) this recent may not have its deposit (or remittance) yet."""
    deposit_window_days: int = 10
    """A deposit without a trace number matches a payment of its amount up to this many days later."""
    no_response_days: int = 30
    """Days after billing without any remittance that make a claim a `no_response`."""
    variance_min_cents: int = 500
    """Under- and overpayments are reported beyond this amount ($5) ..."""
    variance_min_share: float = 0.02
    """... and beyond this share of the expected allowed amount (2%)."""
    mpr: tuple[float, ...] | None = None
    """Multiple-procedure reduction for lines with modifier 51, e.g. (1.0, 0.5); off by default."""


@dataclass
class Reconciliation:
    """The exceptions found, one row each (see `COLUMNS`), and counts by kind."""

    exceptions: pd.DataFrame
    as_of: dt.date
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, int]:
        counts = self.exceptions["kind"].value_counts()
        return {k: int(counts.get(k, 0)) for k in EXCEPTION_KINDS}

    def worklist(self) -> pd.DataFrame:
        """Every exception that needs work, highest priority first, with its rank."""
        work = self.exceptions[self.exceptions["priority"] > 0]
        work = work.sort_values(["priority", "kind", "claim_id", "trace_number"], ascending=[False, True, True, True],
                                kind="stable", na_position="last").reset_index(drop=True)
        work.insert(0, "rank", np.arange(1, len(work) + 1))
        return work


def reconcile_tables(tables: Mapping[str, pd.DataFrame], remittances: dict[str, pd.DataFrame], as_of: dt.date,
                     rules: Rules | None = None) -> Reconciliation:
    """`reconcile` with the practice's tables by name (claims, postings, deposits, payers,
    claim_lines, fee_schedule), as a practice folder or a workbook provides them."""
    return reconcile(tables["claims"], remittances, tables["postings"], tables["deposits"], as_of,
                     tables.get("payers"), tables.get("claim_lines"), tables.get("fee_schedule"), rules)


def _frame(kind: str, n: int, **columns) -> pd.DataFrame:
    data = {c: columns.get(c, [None] * n) for c in COLUMNS}
    data["kind"] = [kind] * n
    return pd.DataFrame(data)


def _amount_text(cents: float) -> str:
    return f"{cents / 100:,.2f}"


def _self_pay_ids(payers: pd.DataFrame | None) -> set[str]:
    if payers is None or payers.empty:
        return {"SELF"}
    return set(payers.payer_id[payers.payer_class == "self_pay"])


def reconcile(claims: pd.DataFrame, remittances: dict[str, pd.DataFrame], postings: pd.DataFrame,
              deposits: pd.DataFrame, as_of: dt.date, payers: pd.DataFrame | None = None,
              claim_lines: pd.DataFrame | None = None, fee_schedule: pd.DataFrame | None = None,
              rules: Rules | None = None) -> Reconciliation:
    """Every exception as of `as_of` (canonical tables in, exceptions table out)."""
    rules = rules or Rules()
    A = pd.Timestamp(as_of)
    payments = assign_payers(remittances["payments"], payers)
    parts: list[pd.DataFrame] = []

    # -- duplicates: one payment per (payer, trace, amount); later copies are flagged, not counted --
    ordered = payments.sort_values(["payment_date", "source_file", "payment_id"], kind="stable", na_position="last")
    keys = pd.Series(payment_keys(ordered), index=ordered.index, dtype=object)
    dup_mask = pd.Series(duplicate_payments(payments), index=payments.index).reindex(ordered.index)
    first_file = ordered.loc[~dup_mask].assign(_k=keys[~dup_mask]).set_index("_k")["source_file"]
    dups = ordered[dup_mask]
    if len(dups):
        parts.append(_frame(
            "duplicate_era", len(dups), payment_id=dups.payment_id.tolist(), trace_number=dups.trace_number.tolist(),
            payer_id=dups.payer_id.tolist(), expected=[0] * len(dups), actual=dups.amount.tolist(),
            variance=dups.amount.tolist(),
            reason=[f"same payer, trace number and amount as {first_file.get(k, 'an earlier file')}"
                    for k in keys[dup_mask]],
            category=[None] * len(dups), next_action=[ACTION["duplicate_era"]] * len(dups)))
    keep = set(ordered.payment_id[~dup_mask])
    kept = ordered[~dup_mask].reset_index(drop=True)
    pay = kept.set_index(kept.payment_id.rename(None))
    cp = remittances["claim_payments"]
    cp = cp[cp.payment_id.isin(keep)].merge(
        kept[["payment_id", "trace_number", "payment_date", "payer_id"]].rename(columns={"payer_id": "payment_payer"}),
        on="payment_id", how="left")
    lp = remittances["line_payments"]
    lp = lp[lp.payment_id.isin(keep)]
    adj = remittances["adjustments"]
    adj = adj[adj.payment_id.isin(keep)]

    ledger = claims.set_index("claim_id", drop=False)
    known = cp.claim_id.isin(ledger.index)

    # -- 835 -> ledger ------------------------------------------------------------------------------
    um = cp[~known]
    if len(um):
        parts.append(_frame(
            "unmatched_remit", len(um), claim_id=um.claim_id.tolist(), payment_id=um.payment_id.tolist(),
            trace_number=um.trace_number.tolist(), payer_id=um.payment_payer.tolist(), expected=[0] * len(um),
            actual=um.paid.tolist(), variance=um.paid.tolist(),
            reason=[f"paid {_amount_text(p)} for a claim id that is not in the ledger" for p in um.paid],
            next_action=[ACTION["unmatched_remit"]] * len(um)))
    cp = cp[known]

    parts.append(_postings(cp, postings, payers, A, rules))
    parts.append(_deposits(pay, deposits, remittances["provider_adjustments"], cp, A, rules))
    parts.append(_outcomes(cp, lp, adj, ledger, claim_lines, fee_schedule, pay, A, rules))
    parts.append(_ledger_exceptions(ledger, remittances["claim_payments"], payers, A, rules))

    exceptions = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=list(COLUMNS))
    exceptions = _prioritize(exceptions, ledger, pay, payers, A)
    stats = {"payments": len(payments), "duplicate_payments": int(dup_mask.sum()), "claims_remitted": len(cp),
             "postings": len(postings), "deposits": len(deposits)}
    return Reconciliation(exceptions, as_of, stats)


def _postings(cp: pd.DataFrame, postings: pd.DataFrame, payers: pd.DataFrame | None, A: pd.Timestamp,
              rules: Rules) -> pd.DataFrame:
    """835 claim payments vs PM postings, per claim and trace number."""
    era = cp.groupby(["claim_id", "trace_number"], dropna=False).agg(
        paid=("paid", "sum"), payment_date=("payment_date", "min"), payment_id=("payment_id", "first"),
        payer_id=("payment_payer", "first"))
    ins = postings[~postings.payer_id.isin(_self_pay_ids(payers))]
    no_trace = ins[ins.trace_number.isna()]
    posted = ins[ins.trace_number.notna()].groupby(["claim_id", "trace_number"]).agg(
        posted=("amount", "sum"), posting_payer=("payer_id", "first"))
    posted.index = posted.index.set_names(["claim_id", "trace_number"])
    both = era.join(posted, how="outer").reset_index()
    grace = A - pd.Timedelta(days=rules.posting_grace_days)
    unposted = both.paid.notna() & both.posted.isna() & (both.paid != 0) & (both.payment_date <= grace)
    variance = both.paid.notna() & both.posted.notna() & (both.paid != both.posted)
    without = both.paid.isna()
    out = []
    u = both[unposted]
    out.append(_frame("unposted_payment", len(u), claim_id=u.claim_id.tolist(), payment_id=u.payment_id.tolist(),
                      trace_number=u.trace_number.tolist(), payer_id=u.payer_id.tolist(),
                      expected=u.paid.astype("int64").tolist(), actual=[0] * len(u),
                      variance=(-u.paid).astype("int64").tolist(),
                      reason=[f"the 835 paid {_amount_text(p)} on {t}; nothing posted" for p, t in
                              zip(u.paid, u.trace_number, strict=True)],
                      next_action=[ACTION["unposted_payment"]] * len(u)))
    v = both[variance]
    out.append(_frame("posting_variance", len(v), claim_id=v.claim_id.tolist(), payment_id=v.payment_id.tolist(),
                      trace_number=v.trace_number.tolist(), payer_id=v.payer_id.tolist(),
                      expected=v.paid.astype("int64").tolist(), actual=v.posted.astype("int64").tolist(),
                      variance=(v.posted - v.paid).astype("int64").tolist(),
                      reason=[f"posted {_amount_text(a)}, the 835 paid {_amount_text(p)} on {t}" for a, p, t in
                              zip(v.posted, v.paid, v.trace_number, strict=True)],
                      next_action=[ACTION["posting_variance"]] * len(v)))
    w = both[without]
    out.append(_frame("posted_without_era", len(w), claim_id=w.claim_id.tolist(), trace_number=w.trace_number.tolist(),
                      payer_id=w.posting_payer.tolist(), expected=[0] * len(w),
                      actual=w.posted.astype("int64").tolist(), variance=w.posted.astype("int64").tolist(),
                      reason=[f"posted {_amount_text(a)} on {t}; no 835 pays this claim on that check" for a, t in
                              zip(w.posted, w.trace_number, strict=True)],
                      next_action=[ACTION["posted_without_era"]] * len(w)))
    nt = no_trace.groupby("claim_id").agg(posted=("amount", "sum"), payer_id=("payer_id", "first")).reset_index()
    out.append(_frame("posted_without_era", len(nt), claim_id=nt.claim_id.tolist(), payer_id=nt.payer_id.tolist(),
                      expected=[0] * len(nt), actual=nt.posted.tolist(), variance=nt.posted.tolist(),
                      reason=[f"payer posting of {_amount_text(a)} with no check or EFT number" for a in nt.posted],
                      next_action=[ACTION["posted_without_era"]] * len(nt)))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _frame("", 0)


def _deposits(pay: pd.DataFrame, deposits: pd.DataFrame, plb: pd.DataFrame, cp: pd.DataFrame,
              A: pd.Timestamp, rules: Rules) -> pd.DataFrame:
    """Payments (BPR02) vs bank deposit lines: by trace number, else by amount within a window."""
    payments = pay[(pay.amount > 0) & (pay.method != "NON")].reset_index(drop=True)
    kinds = bank.classify(deposits.description) if len(deposits) else np.array([], dtype=object)
    cand = deposits[(kinds != "other") & (deposits.amount > 0)].reset_index(drop=True)
    by_trace = payments.reset_index().merge(
        cand.reset_index().rename(columns={"index": "dep", "trace_number": "dep_trace"}),
        left_on="trace_number", right_on="dep_trace", how="inner", suffixes=("", "_bank"))
    by_trace = by_trace.drop_duplicates("index", keep="first").drop_duplicates("dep", keep="first")
    matched_pay = set(by_trace["index"])
    matched_dep = set(by_trace["dep"])
    # fallback: deposit lines that show no trace number, by amount and date
    rest_pay = payments[~payments.index.isin(matched_pay)].reset_index()
    rest_dep = cand[~cand.index.isin(matched_dep) & cand.trace_number.isna()].reset_index().rename(
        columns={"index": "dep"})
    pairs = rest_pay.merge(rest_dep, on="amount", suffixes=("", "_bank"))
    if len(pairs):
        delta = (pairs.deposit_date - pairs.payment_date).dt.days
        pairs = pairs[(delta >= -2) & (delta <= rules.deposit_window_days)].assign(_gap=delta.abs())
        pairs = pairs.sort_values(["_gap", "index", "dep"], kind="stable")
        chosen_pay: set = set()
        chosen_dep: set = set()
        for p, d in zip(pairs["index"], pairs["dep"], strict=True):  # one-to-one, nearest dates first
            if p not in chosen_pay and d not in chosen_dep:
                chosen_pay.add(p)
                chosen_dep.add(d)
        matched_pay |= chosen_pay
        matched_dep |= chosen_dep
    out = []
    var = by_trace[by_trace.amount != by_trace.amount_bank]
    if len(var):
        plb_sum = plb.groupby("payment_id").amount.sum()
        clp_sum = cp.groupby("payment_id").paid.sum()
        reasons = []
        for pid, expected, actual in zip(var.payment_id, var.amount, var.amount_bank, strict=True):
            text = f"bank credited {_amount_text(actual)}, the 835 pays {_amount_text(expected)}"
            if plb_sum.get(pid, 0) and clp_sum.get(pid, 0) == actual:
                text += " (the bank amount is the claims total before the provider-level adjustments)"
            reasons.append(text)
        out.append(_frame("deposit_variance", len(var), payment_id=var.payment_id.tolist(),
                          trace_number=var.trace_number.tolist(), payer_id=var.payer_id.tolist(),
                          expected=var.amount.tolist(), actual=var.amount_bank.tolist(),
                          variance=(var.amount_bank - var.amount).tolist(), reason=reasons,
                          next_action=[ACTION["deposit_variance"]] * len(var)))
    grace = A - pd.Timedelta(days=rules.deposit_grace_days)
    missing = payments[~payments.index.isin(matched_pay) & (payments.payment_date <= grace)]
    out.append(_frame("era_without_deposit", len(missing), payment_id=missing.payment_id.tolist(),
                      trace_number=missing.trace_number.tolist(), payer_id=missing.payer_id.tolist(),
                      expected=missing.amount.tolist(), actual=[0] * len(missing),
                      variance=(-missing.amount).tolist(),
                      reason=[f"{m} of {_amount_text(a)} dated {d:%Y-%m-%d}: no bank deposit found" for m, a, d in
                              zip(missing.method, missing.amount, missing.payment_date, strict=True)],
                      next_action=[ACTION["era_without_deposit"]] * len(missing)))
    extra = cand[~cand.index.isin(matched_dep) & (cand.deposit_date <= grace)]
    out.append(_frame("deposit_without_era", len(extra), trace_number=extra.trace_number.tolist(),
                      payment_id=[None] * len(extra), expected=[0] * len(extra), actual=extra.amount.tolist(),
                      variance=extra.amount.tolist(),
                      reason=[f"bank line {i} of {_amount_text(a)} on {d:%Y-%m-%d}: no 835 for it" for i, a, d in
                              zip(extra.deposit_id, extra.amount, extra.deposit_date, strict=True)],
                      next_action=[ACTION["deposit_without_era"]] * len(extra)))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _frame("", 0)


def match_lines(lines: pd.DataFrame, claim_lines: pd.DataFrame) -> np.ndarray:
    """For each remitted line, the index of its billed line in `claim_lines` (-1 when none).

    By REF*6R line control number first; else by claim, procedure code and date of service; else by
    claim and procedure code; ties broken by units. Modifiers are not used to match, so a payer
    that drops or reorders them still matches (the billed modifiers are then the ones to price).
    """
    result = np.full(len(lines), -1, dtype=np.int64)
    if claim_lines is None or claim_lines.empty or lines.empty:
        return result
    billed = claim_lines.reset_index(drop=True).assign(_billed=np.arange(len(claim_lines)))
    remitted = lines.reset_index(drop=True).assign(_remitted=np.arange(len(lines)))
    used: set[int] = set()
    with_control = remitted[remitted.line_control.notna()]
    found = with_control.merge(billed[billed.line_control.notna()][["line_control", "claim_id", "_billed"]],
                               on=["line_control", "claim_id"], how="inner")
    found = found.drop_duplicates("_remitted").drop_duplicates("_billed")
    result[found._remitted.to_numpy()] = found._billed.to_numpy()
    used |= set(found._billed)
    for keys in (["claim_id", "procedure_code", "service_date"], ["claim_id", "procedure_code"]):
        todo = remitted[result[remitted._remitted.to_numpy()] < 0]
        if todo.empty:
            break
        free = billed[~billed._billed.isin(used)]
        cand = todo[[*keys, "_remitted", "units"]].merge(free[[*keys, "_billed", "units"]], on=keys,
                                                          suffixes=("", "_b"))
        cand = cand.assign(_same_units=(cand.units == cand.units_b)).sort_values(
            ["_remitted", "_same_units", "_billed"], ascending=[True, False, True], kind="stable")
        cand = cand.drop_duplicates("_remitted").drop_duplicates("_billed")
        result[cand._remitted.to_numpy()] = cand._billed.to_numpy()
        used |= set(cand._billed)
    return result


def _outcomes(cp: pd.DataFrame, lp: pd.DataFrame, adj: pd.DataFrame, ledger: pd.DataFrame,
              claim_lines: pd.DataFrame | None, fee_schedule: pd.DataFrame | None, pay: pd.DataFrame,
              A: pd.Timestamp, rules: Rules) -> pd.DataFrame:
    """Denials, partial denials, under- and overpayments of each claim's latest adjudication; reversals."""
    out = []
    if cp.empty:
        return _frame("", 0)
    adj = adj.assign(_category=codes.categorize(adj.group_code, adj.reason_code)[0])
    adj["_denial"] = adj._category.isin(codes.DENIAL_CATEGORIES) & (adj.group_code != "PR")
    loop = ["payment_id", "claim_seq"]
    denial_amount = adj[adj._denial].groupby(loop).amount.sum()
    main = adj[adj._denial].sort_values("amount", ascending=False, kind="stable").groupby(loop).head(1).set_index(loop)

    ordered = cp.sort_values(["payment_date", "payment_id", "claim_seq"], kind="stable")
    latest = ordered.groupby("claim_id").tail(1).set_index(loop, drop=False)
    latest["_denied_amount"] = denial_amount.reindex(latest.index).fillna(0).to_numpy()
    balance = ledger.balance.reindex(latest.claim_id).to_numpy()
    status = latest.status_code.astype(str).to_numpy()
    paid_status = np.isin(status, ["1", "2", "3", "19", "20", "21"])
    fully = (status == "4") | (paid_status & (latest.paid.to_numpy() == 0) & (latest.charge.to_numpy() > 0)
                               & (latest._denied_amount.to_numpy() >= latest.charge.to_numpy()))
    partly = paid_status & ~fully & (latest._denied_amount.to_numpy() > 0)
    open_ = balance > 0
    for kind, mask in (("denied", fully & open_), ("partially_denied", partly & open_)):
        rows = latest[mask]
        top = main.reindex(rows.index)
        category = top._category.fillna(codes.UNKNOWN[1]).to_numpy()
        label, _, action = codes.describe(top.reason_code)
        reasons = [(f"{g}-{r} {t}" if isinstance(r, str) else "no reason code on the 835")
                   for g, r, t in zip(top.group_code, top.reason_code, label, strict=True)]
        action = list(action)
        expected = (ledger.balance.reindex(rows.claim_id).to_numpy() if kind == "denied"
                    else rows._denied_amount.to_numpy())
        out.append(_frame(kind, len(rows), claim_id=rows.claim_id.tolist(), payment_id=rows.payment_id.tolist(),
                          trace_number=rows.trace_number.tolist(), payer_id=rows.payment_payer.tolist(),
                          expected=[int(x) for x in expected], actual=[0] * len(rows),
                          variance=[-int(x) for x in expected],
                          reason=[f"{'denied' if kind == 'denied' else 'lines denied'}: {t}" for t in reasons],
                          category=list(category), next_action=action))

    if fee_schedule is not None and not fee_schedule.empty:
        out.append(_pricing(latest[paid_status & ~fully], lp, adj, ledger, claim_lines, fee_schedule, rules))

    reversed_claims = cp[cp.status_code.astype(str) == "22"]
    if len(reversed_claims):
        links = link_reversals(cp, pay.reset_index(drop=True)).drop_duplicates("claim_id")
        net = cp.groupby("claim_id").paid.sum()
        trace = pay.trace_number
        original = links.original_paid.fillna(0).astype("int64")
        actual = net.reindex(links.claim_id).to_numpy()
        out.append(_frame("reversal", len(links), claim_id=links.claim_id.tolist(),
                          payment_id=links.reversal_payment_id.tolist(),
                          trace_number=trace.reindex(links.reversal_payment_id).tolist(),
                          payer_id=pay.payer_id.reindex(links.reversal_payment_id).tolist(),
                          expected=original.tolist(), actual=[int(a) for a in actual],
                          variance=[int(a - o) for a, o in zip(actual, original, strict=True)],
                          reason=[f"paid {_amount_text(o)}, reversed, "
                                  + (f"corrected to {_amount_text(c)}" if c == c else "no correction yet")
                                  for o, c in zip(original, links.correction_paid.astype("float64"), strict=True)],
                          next_action=[ACTION["reversal"]] * len(links)))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _frame("", 0)


def _pricing(latest: pd.DataFrame, lp: pd.DataFrame, adj: pd.DataFrame, ledger: pd.DataFrame,
             claim_lines: pd.DataFrame | None, fee_schedule: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Allowed amounts of paid lines against the fee schedule, summed per claim."""
    lines = lp.merge(latest[["payment_id", "claim_seq", "trace_number", "payment_payer"]].reset_index(drop=True),
                     on=["payment_id", "claim_seq"], how="inner")
    if lines.empty:
        return _frame("", 0)
    key = ["payment_id", "claim_seq", "line_seq"]
    line_adj = adj[adj.line_seq.notna()]
    denied_lines = line_adj[line_adj._denial].set_index(key).index.unique()
    lines = lines[~pd.MultiIndex.from_frame(lines[key]).isin(denied_lines)]
    # actual allowed: AMT*B6, else charge - CO adjustments (sequestration, 253, reduces payment, not allowed)
    co = line_adj[(line_adj.group_code == "CO") & (line_adj.reason_code != "253")].groupby(key).amount.sum()
    fallback = lines.charge.to_numpy() - co.reindex(pd.MultiIndex.from_frame(lines[key])).fillna(0).to_numpy()
    actual = lines.allowed.astype("Float64").fillna(pd.Series(fallback, index=lines.index)).to_numpy(dtype="float64")
    billed_idx = match_lines(lines, claim_lines) if claim_lines is not None else np.full(len(lines), -1)
    has = billed_idx >= 0
    billed = claim_lines.reset_index(drop=True) if claim_lines is not None else None
    modifiers = lines.modifiers.astype(object).to_numpy().copy()
    units = lines.units.astype("float64").fillna(1).to_numpy().copy()
    if billed is not None and has.any():
        modifiers[has] = billed.modifiers.astype(object).to_numpy()[billed_idx[has]]
        units[has] = billed.units.astype("float64").to_numpy()[billed_idx[has]]
    priced = pd.DataFrame({"claim_id": lines.claim_id.to_numpy(),
                           "payer_id": ledger.payer_id.reindex(lines.claim_id).to_numpy(),
                           "procedure_code": lines.procedure_code.to_numpy(), "modifiers": modifiers, "units": units})
    priced["expected"] = denials.expected_allowed(priced, fee_schedule, rules.mpr)
    priced["actual"] = actual
    priced = priced[priced.expected.notna()]
    sums = priced.groupby("claim_id")[["expected", "actual"]].sum()
    diff = sums.expected - sums.actual
    threshold = np.maximum(rules.variance_min_cents, sums.expected * rules.variance_min_share)
    info = latest.set_index("claim_id")
    out = []
    for kind, mask in (("underpaid", diff > threshold), ("overpaid", -diff > threshold)):
        s = sums[mask]
        ids = s.index
        out.append(_frame(kind, len(s), claim_id=list(ids), payment_id=info.payment_id.reindex(ids).tolist(),
                          trace_number=info.trace_number.reindex(ids).tolist(),
                          payer_id=info.payment_payer.reindex(ids).tolist(),
                          expected=s.expected.round().astype("int64").tolist(),
                          actual=s.actual.round().astype("int64").tolist(),
                          variance=(s.actual - s.expected).round().astype("int64").tolist(),
                          reason=[f"allowed {_amount_text(a)}, the fee schedule allows {_amount_text(e)}"
                                  for a, e in zip(s.actual, s.expected, strict=True)],
                          category=["contractual"] * len(s), next_action=[ACTION[kind]] * len(s)))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _frame("", 0)


def _ledger_exceptions(ledger: pd.DataFrame, all_remitted: pd.DataFrame, payers: pd.DataFrame | None,
                       A: pd.Timestamp, rules: Rules) -> pd.DataFrame:
    """Credit balances, and claims billed long ago that no 835 ever mentioned."""
    out = []
    credit = ledger[ledger.balance < 0]
    out.append(_frame("credit_balance", len(credit), claim_id=credit.claim_id.tolist(),
                      payer_id=credit.payer_id.tolist(), expected=[0] * len(credit),
                      actual=credit.balance.tolist(), variance=credit.balance.tolist(),
                      reason=[f"credit balance of {_amount_text(-b)}" for b in credit.balance],
                      next_action=[ACTION["credit_balance"]] * len(credit)))
    waiting = (
        ~ledger.payer_id.isin(_self_pay_ids(payers))
        & ledger.billed_date.notna()
        & (ledger.billed_date <= A - pd.Timedelta(days=rules.no_response_days))
        & ~ledger.claim_id.isin(all_remitted.claim_id)
        & (ledger.balance > 0)
    )
    w = ledger[waiting]
    out.append(_frame("no_response", len(w), claim_id=w.claim_id.tolist(), payer_id=w.payer_id.tolist(),
                      expected=w.balance.tolist(), actual=[0] * len(w), variance=(-w.balance).tolist(),
                      reason=[f"billed {d:%Y-%m-%d}, {(A - d).days} days without a remittance" for d in w.billed_date],
                      next_action=[ACTION["no_response"]] * len(w)))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _frame("", 0)


def _prioritize(ex: pd.DataFrame, ledger: pd.DataFrame, pay: pd.DataFrame, payers: pd.DataFrame | None,
                A: pd.Timestamp) -> pd.DataFrame:
    """Payer, deadline, days left and priority of each exception (formula in `xl_ar.denials`).

    Deadlines: appeals of denials and underpayments from the remittance date; timely filing of an
    unanswered claim from its date of service; refunds of credit balances and overpayments within
    60 days.
    """
    if ex.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    ex = ex.copy()
    for col in ("expected", "actual", "variance"):
        ex[col] = pd.array([None if v is None or v != v else int(v) for v in ex[col]], dtype="Int64")
    claim_payer = ledger.payer_id.reindex(ex.claim_id).to_numpy()
    payer = pd.Series(np.where(pd.isna(claim_payer), ex.payer_id.to_numpy(), claim_payer), index=ex.index)
    ex["payer_id"] = payer.where(payer.notna(), None)
    paid_on = pd.Series(pd.to_datetime(pay.payment_date.reindex(ex.payment_id).to_numpy()), index=ex.index)
    service = pd.Series(ledger.service_date.reindex(ex.claim_id).to_numpy(), index=ex.index)
    activity = pd.Series(ledger.last_activity_date.reindex(ex.claim_id).to_numpy(), index=ex.index)
    kind = ex.kind
    deadline = pd.Series(pd.NaT, index=ex.index, dtype="datetime64[us]")
    terms = payers if payers is not None else pd.DataFrame(columns=["payer_id", "payer_class"])
    appeal = kind.isin(["denied", "partially_denied", "underpaid"])
    if appeal.any() and len(terms):
        deadline[appeal] = denials.deadline(payer[appeal], paid_on[appeal], "appeal", terms)
    filing = kind == "no_response"
    if filing.any() and len(terms):
        deadline[filing] = denials.deadline(payer[filing], service[filing], "timely_filing", terms)
    refund = pd.Timedelta(days=denials.REFUND_DAYS)
    credit = kind == "credit_balance"
    deadline[credit] = activity[credit].fillna(A) + refund
    over = kind == "overpaid"
    deadline[over] = paid_on[over] + refund
    ex["deadline"] = deadline
    ex["days_left"] = denials.days_left(deadline, A.date())
    recover = np.where(kind.isin(["denied", "partially_denied"]), ex.category.fillna(""), kind)
    recoverability = pd.Series(recover).map(denials.RECOVERABILITY).fillna(0.5).to_numpy()
    dollars = np.where(kind.isin(["denied", "no_response"]), ex.expected.astype("float64"),
                       ex.variance.astype("float64"))
    ex["priority"] = np.round(denials.priority(np.nan_to_num(dollars), recoverability, ex.days_left.to_numpy()), 2)
    return ex
