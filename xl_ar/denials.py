"""Denials and underpayments: expected allowed amounts, payer deadlines, and the worklist order.

- Expected allowed of a line = the lesser of its billed charge and the payer's contracted rate for
  the procedure (and modifier) x units from the `fee_schedule`, after the payer's multiple-procedure
  reduction (docs/pricing.md: the rules, and where each payer's are set).
- Deadlines: timely filing counts from the date of service, appeals from the remittance date,
  per payer (`payers`), else the payer class default; a refund is due within `REFUND_DAYS` (60) of
  identification to Medicare and Medicaid, else within the practice's refund days (`Policy.refund_days`).
- Priority of an exception = dollars at stake x recoverability of its kind (`xl_ar.kinds`) or of
  its denial category (here) x urgency of its deadline. The top of the worklist is what a
  specialist should do first today.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from xl_ar.errors import InputError
from xl_ar.policy import GOVERNMENT_REFUND_DAYS

TIMELY_FILING_DAYS = {"medicare": 365, "medicaid": 180, "commercial": 90, "other": 90}
"""Default days from the date of service to file a claim, by payer class (Medicare: 12 months)."""
APPEAL_DAYS = {"medicare": 120, "medicaid": 90, "commercial": 180, "other": 180}
"""Default days from the remittance date to appeal, by payer class (Medicare redetermination: 120)."""
REFUND_DAYS = GOVERNMENT_REFUND_DAYS
"""Days to return an identified Medicare or Medicaid overpayment (the 60-day rule, fixed by law)."""
GOVERNMENT_CLASSES = ("medicare", "medicaid")
"""Payer classes whose overpayments fall under the 60-day rule."""

CATEGORY_RECOVERABILITY: dict[str, float] = {
    "missing_information": 0.85, "coding": 0.8, "coordination_of_benefits": 0.7, "eligibility": 0.5,
    "medical_necessity": 0.45, "authorization": 0.4, "bundling": 0.3, "duplicate": 0.1, "timely_filing": 0.1,
    "patient_responsibility": 0.5, "contractual": 0.0,
}
"""Share of a denial's dollars that working it brings in, by denial category (the other kinds of
exception carry their own in `xl_ar.kinds`)."""
DEFAULT_RECOVERABILITY = 0.5
"""Recoverability of a denial whose category is unknown."""


URGENCY_OVERDUE = 2.5
"""Weight of a deadline already passed: above any deadline still ahead, so an overdue item rises to
the top of the worklist (a late appeal, a claim past its filing limit or a late refund needs a person
today: proof of timely filing, a good-cause request, the refund) instead of sinking below new work."""


def urgency(days_left: np.ndarray) -> np.ndarray:
    """Weight of a deadline by the days left: `URGENCY_OVERDUE` (2.5) once passed, 2 within 14 days,
    1.5 within 30, 1 within 90, 0.8 beyond; 1 when there is no deadline (NaN)."""
    d = np.asarray(days_left, dtype="float64")
    out = np.select([d < 0, d <= 14, d <= 30, d <= 90], [URGENCY_OVERDUE, 2.0, 1.5, 1.0], default=0.8)
    return np.where(np.isnan(d), 1.0, out)


def priority(dollars_cents: np.ndarray, recoverability: np.ndarray, days_left: np.ndarray) -> np.ndarray:
    """Priority score in dollars: |dollars at stake| x recoverability x urgency."""
    return np.abs(np.asarray(dollars_cents, dtype="float64")) / 100 * np.asarray(recoverability) * urgency(days_left)


_NO_REDUCTION = ("none", "off", "no", "n/a", "na")
"""`mpr_rates` values of a payer that does not apply a multiple-procedure reduction."""


def parse_mpr(text: str) -> tuple[float, ...]:
    """A payer's `mpr_rates` as shares of the fee, first procedure first: `100/50/25` or
    `1, 0.5, 0.25` (percentages when any value is above 1 or has a % sign; separators / , ; or
    spaces); one value alone (`50%`) is the rate of the second and later procedures, the first being
    paid in full; `none` or `off` is (1.0,), no reduction. Raises ValueError on anything else."""
    words = str(text).strip().lower()
    if words in _NO_REDUCTION:
        return (1.0,)
    parts = [p for p in re.split(r"[/,;\s]+", words) if p]
    if not parts or not all(re.fullmatch(r"\d+(\.\d+)?%?|\.\d+%?", p) for p in parts):
        raise ValueError(f"'{text}' is not a list of rates such as 100/50 (or none)")
    values = [float(p.rstrip("%")) for p in parts]
    if any(p.endswith("%") for p in parts) or any(v > 1 for v in values):
        values = [v / 100 for v in values]
    if any(v > 1 for v in values):
        raise ValueError(f"'{text}': a rate above 100%")
    return (1.0, values[0]) if len(values) == 1 else tuple(values)


def payer_mpr(payers: pd.DataFrame | None, default: Sequence[float] | None) -> pd.Series:
    """Per payer id, its multiple-procedure reduction (shares of the fee for the first, second, ...
    procedure; the last repeats): its own `mpr_rates`, else `default` (the practice's `Rules.mpr`),
    (1.0,) when neither applies one. A value that is not a list of rates is an `InputError` naming the
    payer, never silently the default."""
    fallback = tuple(default) if default else (1.0,)
    if payers is None or payers.empty:
        return pd.Series(dtype=object)
    own = payers["mpr_rates"] if "mpr_rates" in payers else pd.Series(pd.NA, index=payers.index)
    out = {}
    for payer_id, text in zip(payers.payer_id, own, strict=True):  # one per payer, not per claim
        if pd.isna(text) or not str(text).strip():
            out[payer_id] = fallback
            continue
        try:
            out[payer_id] = parse_mpr(text)
        except ValueError as e:
            raise InputError(f"payer {payer_id}: mpr_rates {e}", source="payers") from None
    return pd.Series(out, dtype=object)


def payer_terms(payers: pd.DataFrame) -> pd.DataFrame:
    """Per payer: class, timely filing days and appeal days (the payer's own, else its class default)."""
    if payers is None or payers.empty:
        return pd.DataFrame(columns=["payer_class", "timely_filing_days", "appeal_days"])
    out = payers.set_index("payer_id")[["payer_class"]].copy()
    tf = payers.set_index("payer_id")["timely_filing_days"] if "timely_filing_days" in payers else None
    ap = payers.set_index("payer_id")["appeal_days"] if "appeal_days" in payers else None
    out["timely_filing_days"] = (tf if tf is not None else pd.Series(index=out.index, dtype="Float64")).astype(
        "Float64").fillna(out.payer_class.map(TIMELY_FILING_DAYS).astype("Float64"))
    out["appeal_days"] = (ap if ap is not None else pd.Series(index=out.index, dtype="Float64")).astype(
        "Float64").fillna(out.payer_class.map(APPEAL_DAYS).astype("Float64"))
    return out


def deadline(payer_ids: pd.Series, dates: pd.Series, kind: str, payers: pd.DataFrame | None,
             refund_days: int = REFUND_DAYS) -> pd.Series:
    """The deadline of each row: `timely_filing` (date of service + the payer's filing limit),
    `appeal` (remittance date + its appeal limit), NaT where the payer has no limit; or `refund`
    (the date + `REFUND_DAYS` for a Medicare or Medicaid payer, + `refund_days` for any other payer
    and where the payer id is empty: a refund to the patient)."""
    if kind == "refund":
        terms = payer_terms(payers)
        ids = pd.Series(payer_ids).reset_index(drop=True)
        government = ids.map(terms["payer_class"]).isin(GOVERNMENT_CLASSES).to_numpy(dtype=bool)
        days = np.where(government, REFUND_DAYS, refund_days)
        out = pd.to_datetime(pd.Series(dates)).reset_index(drop=True) + pd.to_timedelta(days, unit="D")
        return out.set_axis(pd.Series(dates).index)
    terms = payer_terms(payers)
    column = {"timely_filing": "timely_filing_days", "appeal": "appeal_days"}.get(kind)
    if column is None:
        raise ValueError("kind must be timely_filing, appeal or refund")
    days = payer_ids.map(terms[column]).astype("Float64")
    return pd.to_datetime(dates) + pd.to_timedelta(days.astype("float64"), unit="D")


def days_left(deadlines: pd.Series, as_of: dt.date) -> np.ndarray:
    """Days from the as-of date to each deadline (negative once passed, NaN when none)."""
    d = pd.to_datetime(deadlines).to_numpy(dtype="datetime64[D]")
    out = (d - np.datetime64(as_of, "D")).astype("timedelta64[D]").astype("float64")
    out[np.isnat(d)] = np.nan
    return out


def fee_lookup(fee_schedule: pd.DataFrame, payer_ids: pd.Series, codes: pd.Series,
               modifiers: pd.Series) -> np.ndarray:
    """The contracted rate per unit (cents, NaN when none) of each line: the rate for the first of
    its modifiers that has one, else the base rate (no modifier).

    Keys are turned into integers against the fee schedule's own values (categorical codes), so
    the lookup is one integer hash per line.
    """
    fs = fee_schedule.assign(modifier=fee_schedule["modifier"].fillna(""))
    payers = pd.Index(fs["payer_id"].astype("str").unique())
    procs = pd.Index(fs["procedure_code"].astype("str").unique())
    mods = pd.Index(fs["modifier"].astype("str").unique())
    n_proc, n_mod = len(procs) + 1, len(mods) + 1

    def key(p: np.ndarray, c: np.ndarray, m: np.ndarray) -> np.ndarray:
        return (p.astype(np.int64) * n_proc + c) * n_mod + m

    rates = pd.Series(fs["allowed"].to_numpy(dtype="float64"), index=key(
        payers.get_indexer(fs["payer_id"].astype("str")), procs.get_indexer(fs["procedure_code"].astype("str")),
        mods.get_indexer(fs["modifier"].astype("str"))))
    rates = rates[~rates.index.duplicated(keep="first")]
    p = payers.get_indexer(payer_ids.astype("str"))
    c = procs.get_indexer(codes.astype("str"))
    known = (p >= 0) & (c >= 0)
    result = np.full(len(c), np.nan)
    # a few distinct modifier strings: split each once, then index the lines by it
    line_mods, distinct = pd.factorize(modifiers.fillna("").astype("str"), use_na_sentinel=False)
    split = pd.Series(np.asarray(distinct, dtype=object), dtype=object).str.split(":", expand=True)
    for k in range(split.shape[1] if len(distinct) else 0):  # the first modifier with a rate wins
        text = split[k].fillna("").astype("str")
        m = mods.get_indexer(text)[line_mods]
        has = known & (m >= 0) & (text != "").to_numpy()[line_mods] & np.isnan(result)
        if has.any():
            result[has] = rates.reindex(key(p[has], c[has], m[has])).to_numpy()
    base = known & np.isnan(result)
    empty = mods.get_indexer([""])[0]
    if base.any() and empty >= 0:
        result[base] = rates.reindex(key(p[base], c[base], np.full(base.sum(), empty))).to_numpy()
    return result


_EM_CODE = r"99[2-4]\d\d"
"""Evaluation and management codes (99202-99499): never part of a multiple-procedure reduction."""
_EM_MODIFIERS = ("25", "57")
"""Modifiers of an E/M service on the day of a procedure: never part of the reduction either."""


def _per_distinct(values: pd.Series, test) -> np.ndarray:
    """`test` (text Series -> bool array) applied once per distinct value, spread to every row: lines
    carry few distinct codes and modifier strings, so this is one hash per line."""
    rows, distinct = pd.factorize(values.fillna("").astype("str"), use_na_sentinel=False)
    return np.asarray(test(pd.Series(np.asarray(distinct, dtype=object), dtype="str")), dtype=bool)[rows]


def _has_modifier(modifiers: pd.Series, codes: Sequence[str]) -> np.ndarray:
    """Whether each line's colon-separated modifiers include one of `codes` (vectorised)."""
    pattern = r"(?:^|:)(?:" + "|".join(codes) + r")(?::|$)"
    return _per_distinct(modifiers, lambda text: text.str.contains(pattern, regex=True).to_numpy(dtype=bool))


def mpr_factors(lines: pd.DataFrame, fees: np.ndarray, mpr: Sequence[float] | None = None,
                payers: pd.DataFrame | None = None) -> np.ndarray:
    """The share of its fee each line is expected to be paid under the multiple-procedure reduction.

    The lines of a claim subject to it are those billed with modifier 51 or reduced by the payer
    with CARC 59 (`reduced`), plus the claim's primary procedure: its highest-fee other line when
    that fee is at least theirs (modifier 51 marks the additional procedures, not the first). E/M
    services (99202-99499, modifiers 25 and 57) and lines without a rate never are. They are ranked
    by fee (rate x units, highest first; ties by line order); the first is paid at the payer's first
    rate, the second at its second, and so on, the last rate repeating: (1.0, 0.5) is 100% then 50%.
    Rates come from `payer_mpr` (the payer's own, else `mpr`). Other lines get 1.0.
    """
    n = len(lines)
    factor = np.ones(n)
    if n == 0:
        return factor
    fees = np.asarray(fees, dtype="float64")
    reduced = lines["reduced"].fillna(False).to_numpy(dtype=bool) if "reduced" in lines else np.zeros(n, bool)
    marked = _has_modifier(lines["modifiers"], ("51",)) | reduced
    if not marked.any():
        return factor
    em = (_per_distinct(lines["procedure_code"], lambda text: text.str.fullmatch(_EM_CODE).to_numpy(dtype=bool))
          | _has_modifier(lines["modifiers"], _EM_MODIFIERS))
    eligible = ~em & ~np.isnan(fees)
    marked &= eligible
    if not marked.any():
        return factor
    frame = pd.DataFrame({"claim": lines["claim_id"].to_numpy(), "fee": fees, "pos": np.arange(n)})
    top_marked = frame[marked].groupby("claim").fee.max()
    others = frame[eligible & ~marked & frame.claim.isin(top_marked.index).to_numpy()]
    best_other = others.groupby("claim").fee.max()
    has_primary = (best_other >= top_marked.reindex(best_other.index)).reindex(top_marked.index, fill_value=False)
    ranked = frame[marked].sort_values(["claim", "fee", "pos"], ascending=[True, False, True], kind="stable")
    rank = ranked.groupby("claim").cumcount().to_numpy() + has_primary.reindex(ranked.claim).to_numpy(dtype=int)
    schedules = payer_mpr(payers, mpr)
    table = [*schedules.tolist(), tuple(mpr) if mpr else (1.0,)]
    width = max(len(t) for t in table)
    rates = np.array([[*t, *[t[-1]] * (width - len(t))] for t in table], dtype="float64")
    which = pd.Index(schedules.index).get_indexer(lines["payer_id"].astype("str").to_numpy()[ranked.pos])
    which[which < 0] = len(table) - 1
    factor[ranked.pos.to_numpy()] = rates[which, np.minimum(rank, width - 1)]
    return factor


def expected_allowed(lines: pd.DataFrame, fee_schedule: pd.DataFrame, mpr: Sequence[float] | None = None,
                     payers: pd.DataFrame | None = None) -> np.ndarray:
    """Expected allowed amount of each line (cents, NaN when the fee schedule has no rate): the lesser
    of its billed `charge` (when the column is there) and its fee (contracted rate x units) times its
    multiple-procedure factor (`mpr_factors`: the practice default `mpr`, each payer's own `mpr_rates`).

    `lines` has payer_id, procedure_code, modifiers, units; for the reduction also claim_id and,
    optionally, `reduced` (the payer applied CARC 59 to the line). Docs: docs/pricing.md.
    """
    rate = fee_lookup(fee_schedule, lines["payer_id"], lines["procedure_code"], lines["modifiers"])
    fees = np.round(rate * lines["units"].astype("float64").fillna(1).to_numpy())
    reduce = bool(mpr) or (payers is not None and "mpr_rates" in payers and payers["mpr_rates"].notna().any())
    expected = np.round(fees * mpr_factors(lines, fees, mpr, payers)) if reduce and "claim_id" in lines else fees
    if "charge" in lines:
        charge = pd.to_numeric(lines["charge"], errors="coerce").astype("float64").to_numpy()
        expected = np.where(np.isnan(charge), expected, np.minimum(expected, charge))
    return expected
