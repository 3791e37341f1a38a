"""Patients, claims, service lines and how each payer adjudicates them (vectorised, seeded).

The model is a timeline: a claim is billed a few days after the service, its payer adjudicates it
after a payer-specific lag and pays on its weekly payment day. Each insurance claim gets one
outcome (paid at contract, denied, partially denied, underpaid, overpaid, reversed and corrected,
never answered), drawn once; every amount follows from the fee schedule and the patient's share,
so every remittance balances by construction. All draws come from one `numpy.random.Generator`
in a fixed order, so a seed gives the same practice byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.synth import reference as ref

DAY = np.timedelta64(1, "D")

PREVENTIVE = {"99396", "G0438", "G0439", "90471", "90686"}
"""Codes paid without patient share (preventive services)."""


@dataclass
class Practice:
    """Everything generated before it is written out: plain frames, amounts in cents."""

    as_of: np.datetime64
    payers: pd.DataFrame
    fee_schedule: pd.DataFrame
    patients: pd.DataFrame
    claims: pd.DataFrame
    lines: pd.DataFrame
    """One row per claim line with the adjudicated amounts of its (first) adjudication."""


def _weekday_shift(days: np.ndarray) -> np.ndarray:
    """Move Saturdays to Friday and Sundays to Monday."""
    wd = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday (3)
    return days + np.where(wd == 5, -1, np.where(wd == 6, 1, 0)) * DAY


def next_payday(days: np.ndarray, pay_days: np.ndarray) -> np.ndarray:
    """The first date on or after `days` whose weekday is set in the payer's `pay_days` mask."""
    wd = (days.astype("datetime64[D]").view("int64") - 4) % 7
    mask = np.array([[c == "1" for c in m] for m in pay_days], dtype=bool).reshape(len(days), 7)
    offset = np.full(len(days), 7)
    for k in range(6, -1, -1):
        offset = np.where(mask[np.arange(len(days)), (wd + k) % 7], k, offset)
    return days + np.minimum(offset, 6) * DAY


def _pick(rng: np.random.Generator, n: int, choices: tuple, weights=None) -> np.ndarray:
    idx = rng.choice(len(choices), size=n, p=None if weights is None else np.asarray(weights) / np.sum(weights))
    return np.asarray(choices, dtype=object)[idx]


def _member_ids(rng: np.random.Generator, payer_class: np.ndarray) -> np.ndarray:
    """Medicare-style MBIs (11 characters) for Medicare, 3 letters + 9 digits for the others."""
    n = len(payer_class)
    letters = np.array(list("ACDEFGHJKMNPQRTUVWXY"))
    digits = np.array(list("0123456789"))
    alnum = np.concatenate([letters, digits])
    pattern = ["d1", "L", "A", "d", "L", "A", "d", "L", "L", "d", "d"]
    cols = []
    for p in pattern:
        if p == "d1":
            cols.append(digits[rng.integers(1, 10, n)])
        elif p == "d":
            cols.append(digits[rng.integers(0, 10, n)])
        elif p == "L":
            cols.append(letters[rng.integers(0, len(letters), n)])
        else:
            cols.append(alnum[rng.integers(0, len(alnum), n)])
    mbi = np.array(["".join(t) for t in zip(*cols, strict=True)], dtype=object)
    other = np.array(
        [f"{a}{b}{c}{d:09d}" for a, b, c, d in zip(letters[rng.integers(0, 20, n)], letters[rng.integers(0, 20, n)],
                                                     letters[rng.integers(0, 20, n)],
                                                     rng.integers(0, 10**9, n), strict=True)], dtype=object)
    return np.where(payer_class == "medicare", mbi, other)


def build(n_claims: int, months: int, seed: int, as_of: dt.date) -> Practice:
    """Generate the practice's people, claims and adjudications."""
    rng = np.random.default_rng(seed)
    A = np.datetime64(as_of, "D")
    payers = pd.DataFrame([p.__dict__ for p in ref.PAYERS])

    # ---- fee schedule: payer x procedure (+ modifier-specific rows) ---------------------------
    procs = pd.DataFrame(ref.PROCEDURES, columns=["code", "base", "charge_unit", "freq", "max_units", "em"])
    ins = payers[payers.payer_class != "self_pay"]
    fee = ins[["payer_id", "fee_factor"]].merge(procs[["code", "base"]], how="cross")
    fee["modifier"] = ""
    fee["allowed"] = np.round(fee.base.to_numpy() * fee.fee_factor.to_numpy()).astype("int64")
    mods = pd.DataFrame(ref.MODIFIER_RATES, columns=["code", "modifier", "share"])
    fee_mod = ins[["payer_id", "fee_factor"]].merge(mods.merge(procs[["code", "base"]], on="code"), how="cross")
    fee_mod["allowed"] = np.round(fee_mod.base * fee_mod.fee_factor * fee_mod.share).astype("int64")
    fee_schedule = pd.concat(
        [fee[["payer_id", "code", "modifier", "allowed"]], fee_mod[["payer_id", "code", "modifier", "allowed"]]],
        ignore_index=True,
    ).sort_values(["payer_id", "code", "modifier"], kind="stable", ignore_index=True)

    # ---- patients ------------------------------------------------------------------------------
    n_pat = max(1, n_claims // 3)
    pat_payer = _pick(rng, n_pat, tuple(payers.payer_id), payers.share.to_numpy())
    pclass = payers.set_index("payer_id").payer_class.reindex(pat_payer).to_numpy()
    first = _pick(rng, n_pat, ref.FIRST_NAMES)
    last = _pick(rng, n_pat, ref.LAST_NAMES)
    dob = np.datetime64("1935-01-01") + rng.integers(0, 365 * 70, n_pat) * DAY
    # Medicare patients are 65 or older
    dob = np.where(pclass == "medicare", np.datetime64("1935-01-01") + rng.integers(0, 365 * 24, n_pat) * DAY, dob)
    city = rng.integers(0, len(ref.CITIES), n_pat)
    street = _pick(rng, n_pat, ref.STREETS)
    house = rng.integers(10, 9999, n_pat)
    cities = np.array([", ".join(c) for c in ref.CITIES], dtype=object)
    patients = pd.DataFrame(
        {
            "account_id": [f"PA{i:06d}" for i in range(100001, 100001 + n_pat)],
            "first_name": first,
            "last_name": last,
            "date_of_birth": dob.astype("datetime64[D]"),
            "member_id": np.where(pclass == "self_pay", "", _member_ids(rng, pclass)),
            "address": [f"{h} {s}, {c}" for h, s, c in zip(house, street, cities[city], strict=True)],
            "payer_id": pat_payer,
        }
    )

    # ---- claims --------------------------------------------------------------------------------
    start = A - round(months * 30.44) * DAY
    span = int((A - start) / DAY)
    svc = np.sort(_weekday_shift(start + rng.integers(0, span + 1, n_claims) * DAY))
    svc = np.minimum(svc, A)
    pat_idx = rng.integers(0, n_pat, n_claims)
    claims = pd.DataFrame(
        {
            "claim_id": [f"CL{i:07d}" for i in range(1, n_claims + 1)],
            "patient": pat_idx,
            "account_id": patients.account_id.to_numpy()[pat_idx],
            "payer_id": patients.payer_id.to_numpy()[pat_idx],
            "service_date": svc.astype("datetime64[D]"),
        }
    )
    p = payers.set_index("payer_id")
    claims["payer_class"] = p.payer_class.reindex(claims.payer_id).to_numpy()
    insured = (claims.payer_class != "self_pay").to_numpy()

    # ---- lines ---------------------------------------------------------------------------------
    n_lines = rng.choice([1, 2, 3, 4], size=n_claims, p=[0.5, 0.3, 0.15, 0.05])
    claim_of_line = np.repeat(np.arange(n_claims), n_lines)
    line_no = np.arange(len(claim_of_line)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    em_codes = procs[procs.em]
    other_codes = procs[~procs.em]
    is_first = line_no == 1
    first_em = is_first & (rng.random(len(line_no)) < 0.85)
    code_idx = np.where(
        first_em,
        em_codes.index.to_numpy()[rng.choice(len(em_codes), len(line_no), p=em_codes.freq / em_codes.freq.sum())],
        other_codes.index.to_numpy()[
            rng.choice(len(other_codes), len(line_no), p=other_codes.freq / other_codes.freq.sum())],
    )
    # No code twice on one claim (keeps line matching unambiguous): redraw the few repeats.
    for _ in range(20):
        key = claim_of_line * 1000 + code_idx
        dup = pd.Series(key).duplicated().to_numpy()
        if not dup.any():
            break
        code_idx[dup] = other_codes.index.to_numpy()[rng.integers(0, len(other_codes), dup.sum())]
    else:  # pragma: no cover - practically unreachable; keep every line unique anyway
        raise RuntimeError("could not draw unique procedure codes per claim")
    code = procs.code.to_numpy()[code_idx]
    max_units = procs.max_units.to_numpy()[code_idx]
    units = np.where(max_units > 1, rng.integers(1, np.maximum(max_units, 1) + 1), 1)
    em_line = procs.em.to_numpy()[code_idx]
    multi = np.repeat(n_lines > 1, n_lines)
    modifiers = np.full(len(code), "", dtype=object)
    r = rng.random(len(code))
    modifiers[(code == "99213") & multi] = "25"
    modifiers[(code == "99214") & multi] = "25"
    modifiers[code == "20610"] = np.where(r[code == "20610"] < 0.5, "RT", "LT")
    modifiers[code == "97110"] = "GP"
    modifiers[(code == "97110") & (r < 0.3)] = "GP:59"
    modifiers[(code == "71046") & (r < 0.5)] = "26"
    modifiers[(code == "93000") & (r < 0.3)] = "26"
    charge = procs.charge_unit.to_numpy()[code_idx] * units
    lines = pd.DataFrame(
        {
            "claim": claim_of_line,
            "claim_id": claims.claim_id.to_numpy()[claim_of_line],
            "line_no": line_no,
            "code": code,
            "modifiers": modifiers,
            "units": units,
            "charge": charge.astype("int64"),
            "service_date": claims.service_date.to_numpy()[claim_of_line],
            "em": em_line,
        }
    )
    lines["line_control"] = lines.claim_id + "-" + lines.line_no.astype(str)
    claims["charge"] = np.bincount(claim_of_line, weights=charge, minlength=n_claims).astype("int64")
    claims["n_lines"] = n_lines
    claims["diagnosis_codes"] = [
        ",".join(ref.DIAGNOSES[j] for j in sorted(set(row)))
        for row in rng.integers(0, len(ref.DIAGNOSES), (n_claims, 2))
    ]

    # ---- expected allowed per line (fee schedule; modifier-specific rate when it applies) -------
    first_mod = lines.modifiers.str.split(":").str[0].to_numpy()
    payer_of_line = claims.payer_id.to_numpy()[claim_of_line]
    fee_key = pd.MultiIndex.from_frame(fee_schedule[["payer_id", "code", "modifier"]])
    fee_vals = pd.Series(fee_schedule.allowed.to_numpy(), index=fee_key)
    mod_rate = fee_vals.reindex(pd.MultiIndex.from_arrays([payer_of_line, code, first_mod])).to_numpy()
    base_rate = fee_vals.reindex(pd.MultiIndex.from_arrays([payer_of_line, code, np.full(len(code), "")])).to_numpy()
    rate = np.where(np.isnan(mod_rate), base_rate, mod_rate)
    lines["expected"] = np.where(np.isnan(rate), 0, rate * units).astype("int64")

    # ---- billing and adjudication timeline -------------------------------------------------------
    bill_lag = rng.integers(1, 6, n_claims)
    billed = claims.service_date.to_numpy() + bill_lag * DAY
    unbilled = (claims.service_date.to_numpy() > A - 4 * DAY) & (rng.random(n_claims) < 0.6)
    unbilled |= billed > A
    lag_lo = p.lag_days.map(lambda t: t[0]).reindex(claims.payer_id).to_numpy()
    lag_hi = p.lag_days.map(lambda t: t[1]).reindex(claims.payer_id).to_numpy()
    pay_days = p.pay_days.reindex(claims.payer_id).to_numpy()
    outcome = np.where(insured, "paid", "self_pay").astype(object)
    outcome[unbilled] = "unbilled"

    # outcomes drawn in a fixed order from one permutation of eligible claims
    exp_total = np.bincount(claim_of_line, weights=lines.expected.to_numpy(), minlength=n_claims)
    order = rng.permutation(n_claims)

    def assign(name: str, share: float, eligible: np.ndarray) -> np.ndarray:
        pool = order[(outcome[order] == "paid") & eligible[order]]
        k = round(share * insured.sum())
        chosen = pool[:k]
        outcome[chosen] = name
        return chosen

    bill_ok = ~unbilled
    assign("lost", 0.025, bill_ok)
    assign("denied", 0.065, bill_ok)
    assign("partial", 0.025, bill_ok & (n_lines > 1))
    assign("underpaid", 0.03, bill_ok & (exp_total >= 6000))
    assign("overpaid", 0.007, bill_ok & (exp_total >= 6000))
    reversal_ok = bill_ok & (claims.service_date.to_numpy() <= A - 120 * DAY) & (exp_total >= 6000)
    assign("reversed", 0.01, reversal_ok)

    # denial category per denied claim; timely filing needs a claim old enough to be billed late
    cats = tuple(ref.DENIAL_MIX)
    denial_cat = np.full(n_claims, "", dtype=object)
    is_denied = outcome == "denied"
    denial_cat[is_denied] = _pick(rng, int(is_denied.sum()), cats, tuple(ref.DENIAL_MIX.values()))
    tf_days = p.timely_filing_days.reindex(claims.payer_id).to_numpy()
    late_lag = tf_days + rng.integers(5, 40, n_claims)
    tf = denial_cat == "timely_filing"
    feasible = claims.service_date.to_numpy() + (late_lag + lag_hi + 7) * DAY <= A
    denial_cat[tf & ~feasible] = "missing_information"
    tf = denial_cat == "timely_filing"
    billed = np.where(tf, claims.service_date.to_numpy() + late_lag * DAY, billed)
    # which reason within the category
    reason_idx = rng.integers(0, 3, n_claims)

    adjudicated = billed + rng.integers(lag_lo, lag_hi + 1) * DAY
    # most claims the payer never received are found by follow-up and billed again after 45-90
    # days, then paid as usual; the rest stay unanswered
    rebilled = (outcome == "lost") & (rng.random(n_claims) < 0.8)
    adjudicated = np.where(rebilled, adjudicated + rng.integers(45, 91, n_claims) * DAY, adjudicated)
    outcome[rebilled] = "paid"
    pay_date = next_payday(adjudicated, pay_days)
    claims["billed_date"] = np.where(unbilled, np.datetime64("NaT"), billed).astype("datetime64[D]")
    claims["pay_date"] = np.where(insured & ~unbilled & (outcome != "lost"), pay_date,
                                  np.datetime64("NaT")).astype("datetime64[D]")
    claims["outcome"] = outcome
    claims["denial_category"] = denial_cat
    claims["reason_idx"] = reason_idx

    # ---- patient share -------------------------------------------------------------------------
    pay = p.reindex(claims.payer_id)
    has_deductible = insured & (rng.random(n_claims) < 0.15) & (claims.payer_class != "medicaid").to_numpy()
    deductible = np.where(has_deductible, rng.integers(20, 251, n_claims) * 100, 0)
    copay_lo = pay.copay.map(lambda t: t[0]).to_numpy()
    copay_hi = pay.copay.map(lambda t: t[1]).to_numpy()
    copay = np.where(copay_hi > 0, rng.integers(copay_lo, np.maximum(copay_hi, copay_lo) + 1) * 100, 0)
    claims["deductible"] = deductible
    claims["copay"] = copay
    claims["coinsurance"] = pay.coinsurance.to_numpy()
    claims["sequestration"] = pay.sequestration.to_numpy()
    claims["prepay"] = 0
    # 70% of insured patients with an office visit and a copay plan pay the copay at the visit
    first_line_em = lines.em.to_numpy()[np.cumsum(n_lines) - n_lines]
    # (rarely for preventive visits, which carry no copay: those prepayments become credit balances)
    first_code = lines.code.to_numpy()[np.cumsum(n_lines) - n_lines]
    prepay_rate = np.where(np.isin(first_code, list(PREVENTIVE)), 0.15, 0.7)
    prepays = insured & first_line_em & (copay > 0) & (rng.random(n_claims) < prepay_rate)
    claims.loc[prepays, "prepay"] = copay[prepays]

    adjudicate(lines, claims, rng)
    return Practice(A, payers, fee_schedule, patients, claims, lines)


def adjudicate(lines: pd.DataFrame, claims: pd.DataFrame, rng: np.random.Generator) -> None:
    """Add the adjudicated amounts of each line (cents): allowed, deductible, copay, coinsurance,
    sequestration, paid, contractual adjustment, and the denial (group, CARC, RARC) if any."""
    c = lines.claim.to_numpy()
    outcome = claims.outcome.to_numpy()[c]
    n = len(lines)
    expected = lines.expected.to_numpy()
    charge = lines.charge.to_numpy()
    factor = np.ones(n)
    factor[outcome == "underpaid"] = rng.uniform(0.78, 0.90, n)[outcome == "underpaid"]
    over = (outcome == "overpaid") | (outcome == "reversed")  # reversed: first paid too much, then corrected
    factor[over] = rng.uniform(1.12, 1.28, n)[over]
    allowed = np.minimum(np.round(expected * factor).astype("int64"), charge)

    # denials: whole claim, or one non-first line of a partially denied claim
    cat = claims.denial_category.to_numpy()[c].copy()
    partial_line = (outcome == "partial") & (lines.line_no.to_numpy() == claims.n_lines.to_numpy()[c])
    line_cats = np.array(["bundling", "coding", "medical_necessity"], dtype=object)
    cat[partial_line] = line_cats[rng.integers(0, 3, n)][partial_line]
    denied = (outcome == "denied") | partial_line
    cat[~denied] = ""
    group = np.full(n, "", dtype=object)
    carc = np.full(n, "", dtype=object)
    rarc = np.full(n, "", dtype=object)
    ridx = claims.reason_idx.to_numpy()[c]
    for name, reasons in ref.DENIAL_REASONS.items():
        m = cat == name
        if m.any():
            pick = np.array(reasons, dtype=object)[ridx[m] % len(reasons)]
            group[m] = [r[0] for r in pick]
            carc[m] = [r[1] for r in pick]
            rarc[m] = [r[2] for r in pick]
    allowed = np.where(denied, 0, allowed)
    insured = outcome != "self_pay"
    allowed = np.where(insured, allowed, 0)

    # patient share: deductible across the claim's lines in order, copay on the first office visit
    # line, then coinsurance on what is left; preventive services carry none
    preventive = np.isin(lines.code.to_numpy(), list(PREVENTIVE))
    em_first = lines.em.to_numpy() & (pd.Series(lines.em.to_numpy()).groupby(c).cumsum().to_numpy() == 1)

    def amounts(allowed: np.ndarray, no_share: np.ndarray, no_contract: np.ndarray) -> dict[str, np.ndarray]:
        share_base = np.where(no_share, 0, allowed)
        before = pd.Series(share_base).groupby(c).cumsum().to_numpy() - share_base
        ded = np.clip(claims.deductible.to_numpy()[c] - before, 0, share_base)
        copay = np.where(em_first & ~no_share, np.minimum(claims.copay.to_numpy()[c], share_base - ded), 0)
        coins = np.round((share_base - ded - copay) * claims.coinsurance.to_numpy()[c]).astype("int64")
        pr = ded + copay + coins
        seq = np.where(claims.sequestration.to_numpy()[c], np.round((allowed - pr) * 0.02), 0).astype("int64")
        return {"allowed": allowed.astype("int64"), "deductible": ded.astype("int64"),
                "copay": copay.astype("int64"), "coinsurance": coins, "sequestration": seq,
                "paid": (allowed - pr - seq).astype("int64"),
                "contractual": np.where(no_contract, 0, charge - allowed).astype("int64")}

    for name, values in amounts(allowed, preventive | denied | ~insured, denied | ~insured).items():
        lines[name] = values
    lines["denied"] = denied
    lines["denial_category"] = cat
    lines["denial_group"] = group
    lines["denial_carc"] = carc
    lines["denial_rarc"] = rarc
    # what the payer pays when it adjudicates at contract: the correction of a reversed claim and
    # the resubmission of a corrected denied claim
    contract = np.where(insured, np.minimum(expected, charge), 0)
    for name, values in amounts(contract, preventive | ~insured, ~insured).items():
        lines["contract_" + name] = values
