"""Patients, claims, service lines and how each payer adjudicates them (vectorised, seeded).

The model is a timeline: a claim is billed a few days after the service, its payer adjudicates it
after a payer-specific lag and pays on its weekly payment day. Each insurance claim gets one
outcome (paid at contract, denied, partially denied, underpaid, overpaid, reversed and corrected,
never answered, forwarded to a secondary payer, paid twice, a multiple-procedure claim reduced
correctly or on the wrong line), drawn once; every amount follows from the fee schedule and the
patient's share, so every remittance balances by construction. A few claims are never billed
(charges on hold) and a few are dated after the as-of date (appointments entered ahead). All
draws come from one `numpy.random.Generator` in a fixed order, so a seed gives the same practice
byte for byte.
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
FORWARDED_DAYS = 30
"""The follow-up window of a claim forwarded to a secondary payer: still open this many days after
the primary paid, it is a `forwarded_unpaid` (the truth's rule)."""


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


def _count(rate: float, n: int, pool: int, floor: int = 3) -> int:
    """How many claims get a situation: `rate` x `n`, at least `floor`, at most the `pool` available."""
    return int(min(pool, max(floor, round(rate * n))))


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
    # appointments entered ahead: a few claims dated up to 45 days after the as-of date, never billed
    k_future = min(n_claims // 50, max(3, round(0.002 * n_claims)))
    if k_future:
        svc[-k_future:] = np.maximum(np.sort(_weekday_shift(A + rng.integers(1, 46, k_future) * DAY)), A + DAY)
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
    drawn = procs.freq.to_numpy() > 0  # the surgical codes appear only on multiple-procedure claims
    em_codes = procs[procs.em & drawn]
    other_codes = procs[~procs.em & drawn]
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
    mpr_kind, mpr_lines, mpr_top = _multiple_procedures(rng, claims, n_lines, code_idx, procs, insured, A)
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
    modifiers[mpr_lines] = np.where(mpr_top, "", "51")  # 51 marks every procedure but the primary
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
    # expected allowed = the lesser of the billed charge and the contract rate x units
    lines["expected"] = np.minimum(np.where(np.isnan(rate), 0, rate * units), charge).astype("int64")

    # ---- billing and adjudication timeline -------------------------------------------------------
    bill_lag = rng.integers(1, 6, n_claims)
    billed = claims.service_date.to_numpy() + bill_lag * DAY
    unbilled = (claims.service_date.to_numpy() > A - 4 * DAY) & (rng.random(n_claims) < 0.6)
    unbilled |= billed > A
    # charges on hold: a few insured claims never billed, some near or past the payer's filing limit
    filing_limit = claims.service_date.to_numpy() + p.timely_filing_days.reindex(claims.payer_id).to_numpy() * DAY
    hold_ok = insured & ~unbilled & (mpr_kind == "") & (claims.service_date.to_numpy() <= A - 30 * DAY)
    near = np.flatnonzero(hold_ok & (filing_limit <= A + 25 * DAY))
    far = np.flatnonzero(hold_ok & (filing_limit >= A + 45 * DAY))
    held = np.concatenate([
        rng.permutation(near)[:_count(0.0012, n_claims, len(near))],
        rng.permutation(far)[:_count(0.0008, n_claims, len(far), 2)],
    ]).astype(int)
    unbilled[held] = True
    lag_lo = p.lag_days.map(lambda t: t[0]).reindex(claims.payer_id).to_numpy()
    lag_hi = p.lag_days.map(lambda t: t[1]).reindex(claims.payer_id).to_numpy()
    pay_days = p.pay_days.reindex(claims.payer_id).to_numpy()
    outcome = np.where(insured, "paid", "self_pay").astype(object)
    outcome[unbilled] = "unbilled"
    outcome[mpr_kind != ""] = mpr_kind[mpr_kind != ""]

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
    # claims the payer forwards to the patient's secondary payer (CLP02=19): most are paid by the
    # secondary some weeks later, a few never are
    has_share = np.bincount(claim_of_line, weights=~np.isin(code, list(PREVENTIVE)), minlength=n_claims) > 0
    forwards = np.isin(claims.payer_id.to_numpy(), list(ref.SECONDARY_PAYERS)) & has_share
    assign("crossover", 0.006, bill_ok & forwards)
    assign("crossover_open", 0.004, bill_ok & forwards)

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
    # some payers send part of their full denials as CLP02=1 with nothing paid rather than CLP02=4
    zero_paid_denial = is_denied & (rng.random(n_claims) < p.zero_paid_denials.reindex(claims.payer_id).to_numpy())
    # in the take-back 835 of a reversed claim, half the payers write the correction before the reversal
    correction_first = rng.random(n_claims) < 0.5
    crossover = np.isin(outcome, ["crossover", "crossover_open"])
    secondary = np.full(n_claims, "", dtype=object)
    secondary_member = np.full(n_claims, "", dtype=object)
    for primary, choices in ref.SECONDARY_PAYERS.items():
        m = crossover & (claims.payer_id.to_numpy() == primary)
        secondary[m] = _pick(rng, int(m.sum()), choices)
    if crossover.any():
        sec_class = p.payer_class.reindex(secondary[crossover]).to_numpy()
        secondary_member[crossover] = _member_ids(rng, sec_class)

    adjudicated = billed + rng.integers(lag_lo, lag_hi + 1) * DAY
    # most claims the payer never received are found by follow-up and billed again after 45-90
    # days, then paid as usual; the rest stay unanswered
    rebilled = (outcome == "lost") & (rng.random(n_claims) < 0.8)
    adjudicated = np.where(rebilled, adjudicated + rng.integers(45, 91, n_claims) * DAY, adjudicated)
    outcome[rebilled] = "paid"
    pay_date = next_payday(adjudicated, pay_days)
    # no forwarded claim is paid exactly on the last day of the follow-up window (the rule's edge)
    edge = np.isin(outcome, ["crossover", "crossover_open"]) & (pay_date == A - FORWARDED_DAYS * DAY)
    outcome[edge] = "paid"
    secondary[edge] = ""
    secondary_member[edge] = ""
    claims["billed_date"] = np.where(unbilled, np.datetime64("NaT"), billed).astype("datetime64[D]")
    claims["pay_date"] = np.where(insured & ~unbilled & (outcome != "lost"), pay_date,
                                  np.datetime64("NaT")).astype("datetime64[D]")
    claims["outcome"] = outcome
    claims["denial_category"] = denial_cat
    claims["reason_idx"] = reason_idx
    claims["zero_paid_denial"] = zero_paid_denial
    claims["correction_first"] = correction_first
    claims["secondary_payer_id"] = secondary
    claims["secondary_member_id"] = secondary_member
    claims["mpr_kind"] = mpr_kind
    claims["on_hold"] = np.isin(np.arange(n_claims), held)

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
    # no prepayment where the visit has not happened, the claim is on hold, a secondary pays the
    # patient's share, or the payer will take money back (keeps those balances about the payer)
    prepays &= (claims.service_date.to_numpy() <= A) & ~np.isin(outcome, ["crossover", "crossover_open", "overpaid"])
    prepays[held] = False
    claims.loc[prepays, "prepay"] = copay[prepays]

    adjudicate(lines, claims, rng)

    # paid twice: a few claims with no patient share that the payer pays again in a later payment
    # (the practice then holds a credit the payer recoups); chosen after adjudication, which is the
    # same for them as for any claim paid at contract
    share = np.bincount(claim_of_line, weights=(lines.deductible + lines.copay + lines.coinsurance).to_numpy(),
                        minlength=n_claims)
    paid = np.bincount(claim_of_line, weights=lines.paid.to_numpy(), minlength=n_claims)
    twice_ok = np.flatnonzero((outcome == "paid") & (share == 0) & (paid > 0) & (claims.prepay.to_numpy() == 0)
                              & (claims.service_date.to_numpy() <= A - 150 * DAY))
    twice = rng.permutation(twice_ok)[:_count(0.003, int(insured.sum()), len(twice_ok))]
    outcome[twice] = "paid_twice"
    claims["outcome"] = outcome
    return Practice(A, payers, fee_schedule, patients, claims, lines)


def _multiple_procedures(rng: np.random.Generator, claims: pd.DataFrame, n_lines: np.ndarray, code_idx: np.ndarray,
                         procs: pd.DataFrame, insured: np.ndarray, A: np.datetime64,
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn a few claims of 2-3 lines into minor surgical procedures billed together: modifier 51
    on every procedure but the one with the highest fee. Most payers reduce them correctly
    (`mpr`), a few rank them the wrong way round (`mpr_wrong`). Changes `code_idx` in place and
    returns the kind per claim, the rows of their lines and which of those lines is the primary."""
    n_claims = len(n_lines)
    mpr_kind = np.full(n_claims, "", dtype=object)
    eligible = np.flatnonzero(insured & np.isin(n_lines, [2, 3]) & (claims.service_date.to_numpy() <= A - 75 * DAY))
    pool = rng.permutation(eligible)
    k_right = _count(0.003, n_claims, len(pool))
    k_wrong = _count(0.001, n_claims, len(pool) - k_right)
    mpr_kind[pool[:k_right]] = "mpr"
    mpr_kind[pool[k_right:k_right + k_wrong]] = "mpr_wrong"
    chosen = np.flatnonzero(mpr_kind != "")
    codes = np.array(ref.MPR_CODES, dtype=object)
    proc_of = pd.Series(procs.index.to_numpy(), index=procs.code.to_numpy())
    base = procs.set_index("code").base.reindex(codes).to_numpy()
    picks = np.argsort(rng.random((len(chosen), len(codes))), axis=1)[:, :3]  # distinct codes per claim
    nl = n_lines[chosen]
    cols = np.arange(3)
    valid = cols[None, :] < nl[:, None]
    # most claims list the primary (highest fee) procedure first; the others in any order
    by_fee = np.take_along_axis(picks, np.argsort(np.where(valid, -base[picks], np.inf), axis=1, kind="stable"), 1)
    picks = np.where((rng.random(len(chosen)) < 0.7)[:, None], by_fee, picks)
    fee = np.where(valid, base[picks], -1)
    top = cols[None, :] == np.argmax(fee, axis=1)[:, None]
    rows = (np.cumsum(n_lines) - n_lines)[chosen][:, None] + cols[None, :]
    code_idx[rows[valid]] = proc_of.reindex(codes[picks[valid]]).to_numpy()
    return mpr_kind, rows[valid], top[valid]


def adjudicate(lines: pd.DataFrame, claims: pd.DataFrame, rng: np.random.Generator) -> None:
    """Add the adjudicated amounts of each line (cents): allowed, deductible, copay, coinsurance,
    sequestration, paid, contractual adjustment (of which `mpr_reduction`, CO-59), and the denial
    (group, CARC, RARC) if any.

    Multiple procedures: the payer ranks the claim's procedures by fee (expected allowed, ties by
    line order), allows the first at 100% and the others at 50% (`ref.MPR_RATES`); a payer that
    gets it wrong (`mpr_wrong`) ranks them the wrong way round, so the highest fee is cut."""
    c = lines.claim.to_numpy()
    outcome = claims.outcome.to_numpy()[c]
    n = len(lines)
    expected = lines.expected.to_numpy()
    charge = lines.charge.to_numpy()
    factor = np.ones(n)
    factor[outcome == "underpaid"] = rng.uniform(0.78, 0.90, n)[outcome == "underpaid"]
    over = (outcome == "overpaid") | (outcome == "reversed")  # reversed: first paid too much, then corrected
    factor[over] = rng.uniform(1.12, 1.28, n)[over]
    mpr = claims.mpr_kind.to_numpy()[c]
    right = _mpr_factor(c, expected, mpr != "", descending=True)
    wrong = _mpr_factor(c, expected, mpr != "", descending=False)
    factor = factor * np.where(mpr == "mpr_wrong", wrong, right)
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
    # what the contract allows for the line: the lesser of charge and rate x units, reduced as the
    # multiple-procedure rule says (the truth's expected allowed amount)
    lines["expected_allowed"] = np.round(np.minimum(expected, charge) * right).astype("int64")
    lines["mpr_reduction"] = np.where(denied, 0, np.minimum(expected, charge) - allowed) * (mpr != "")
    lines["prior_payer"] = 0
    lines["denied"] = denied
    lines["denial_category"] = cat
    lines["denial_group"] = group
    lines["denial_carc"] = carc
    lines["denial_rarc"] = rarc
    # what the payer pays when it adjudicates at contract: the correction of a reversed claim and
    # the resubmission of a corrected denied claim
    contract = np.where(insured, np.round(np.minimum(expected, charge) * right).astype("int64"), 0)
    for name, values in amounts(contract, preventive | ~insured, ~insured).items():
        lines["contract_" + name] = values
    lines["contract_mpr_reduction"] = np.where(insured, np.minimum(expected, charge) - contract, 0)
    lines["contract_prior_payer"] = 0


def _mpr_factor(claim: np.ndarray, fee: np.ndarray, subject: np.ndarray, descending: bool) -> np.ndarray:
    """Per line, the multiple-procedure factor (`ref.MPR_RATES` by the line's rank by fee within its
    claim, ties by line order); 1 for lines not subject to the reduction."""
    out = np.ones(len(fee))
    if subject.any():
        rank = pd.Series(fee[subject]).groupby(claim[subject]).rank(method="first", ascending=not descending)
        rates = np.asarray(ref.MPR_RATES)
        out[subject] = rates[np.minimum(rank.to_numpy().astype(int) - 1, len(rates) - 1)]
    return out
