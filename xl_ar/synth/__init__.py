"""The synthetic practice: a realistic, seeded A/R test bed written as a practice folder.

`xl-ar synth --out DIR --claims N --months M --seed S` writes what a practice exports (payers,
claims, claim lines, postings, bank deposits, fee schedule, 835 ERA files, practice.json) and
`truth.json`, the exceptions a correct reconciliation must report. The same seed gives the same
bytes. Patients are invented; procedure codes are code numbers only.

Besides the everyday flow, a practice holds the situations a reconciliation must get right:
claims forwarded to a secondary payer (CLP02=19, then CLP02=2 with OA-23) or left open there, full
denials sent as CLP02=1 with nothing paid, multiple procedures reduced correctly (CO-59) or on the
wrong line, claims paid twice and recouped through PLB WO/72 (posted or not yet), ERAs re-sent in a
new envelope, byte for byte, or without a trace number, bank credits nobody can identify,
corrections written before their reversal, claims never billed near their filing limit, and
balances dated after the as-of date.

Before the money (issue 14): `status/` holds the payers' 277CA acknowledgements (`acks`); the claims
export ends with a batch of claims ready to bill (rendered in the last days before the as-of date, never
billed) that carries, on a seeded share, one violation each of every scrubber rule a claim can carry
(`scrub_cases`), with the payer rules the practice keeps in `scrub_rules.csv`; `eligibility/` holds the
payers' 271 answers about the members of the unbilled claims: covered, inactive, coverage ended before the
date of service, inquiry rejected (AAA), prior authorization required (`eligibility`). practice.json carries
what an 837P needs (billing address, submitter and receiver, the rendering clinicians' names).

truth.json: `exceptions` (kind, claim_id, trace_number; `amount` in cents for a payment- or
bank-level entry that has no trace number), the `rules` they follow, and `situations`: where each
of the situations above is, whether it must be reported or not; `scrub` (claim_id, line_no or null,
rule_id): every finding `xl_ar.scrub.scrub` must report with the practice's `scrub_rules.csv`, the injected
violations and those of the history (billed after the filing limit, unbilled near or past it, dates of
service after the as-of date); `eligibility` (claim_id, line_no or null, problem): every gap
`xl_ar.eligibility.coverage_problems` must report for the unbilled insured claims.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xl_ar import outputs
from xl_ar.kinds import CODES
from xl_ar.money import cents_text
from xl_ar.progress import step
from xl_ar.synth import acks as _acks
from xl_ar.synth import books as _books
from xl_ar.synth import eligibility as _eligibility
from xl_ar.synth import era as _era
from xl_ar.synth import front_end as _front_end
from xl_ar.synth import practice as _practice
from xl_ar.synth import reference as ref
from xl_ar.synth import remit as _remit
from xl_ar.synth import scrub_cases as _scrub_cases

DEFAULT_AS_OF = dt.date(2026, 9, 30)
"""As-of date of a generated practice when none is given (fixed, so output does not depend on today)."""


@dataclass
class SynthResult:
    """What `generate` wrote, with counts for the summary."""

    folder: Path
    as_of: dt.date
    counts: dict[str, int] = field(default_factory=dict)
    truth_counts: dict[str, int] = field(default_factory=dict)


def _us_date(values) -> np.ndarray:
    s = pd.Series(values).astype("datetime64[s]")
    return np.where(s.isna(), "", s.dt.strftime("%m/%d/%Y").fillna(""))


def _iso_date(values) -> np.ndarray:
    s = pd.Series(values).astype("datetime64[s]")
    return np.where(s.isna(), "", s.dt.strftime("%Y-%m-%d").fillna(""))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    outputs.write_text(path, frame.to_csv(index=False, lineterminator="\n"))  # whole or not at all


def _dotted(icd: str) -> str:
    return ",".join(c if len(c) <= 3 else f"{c[:3]}.{c[3:]}" for c in icd.split(","))


def generate(out: Path, claims: int = 5000, months: int = 12, seed: int = 7, as_of: dt.date = DEFAULT_AS_OF,
             show_progress: bool = False) -> SynthResult:
    """Generate a practice of `claims` claims over `months` months and write it to `out`."""
    if claims < 1:
        raise ValueError("claims must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    out = Path(out)
    era_dir = out / "era"
    era_dir.mkdir(parents=True, exist_ok=True)
    for old in era_dir.glob("*.835"):
        old.unlink()
    rng = np.random.default_rng([seed, 20260101])
    with step(f"Generating {claims:,} claims", show_progress):
        practice = _practice.build(claims, months, seed, as_of)
        remits = _remit.build(practice, rng)
        books = _books.build(practice, remits, rng)
        front = _front_end.build(practice, remits, seed)
        acks = _acks.build(practice, books, remits, seed)
        ready = _scrub_cases.build(practice, front, seed)
        scrub_truth = _scrub_cases.truth(practice, books, front, ready)
        asked = _eligibility.build(practice, books, ready, seed)
        truth = _claims_out_truth(_books.truth(practice, remits, books),
                                  _acks.truth(practice, acks) + _front_end.secondary_truth(practice, remits, books,
                                                                                          front))
        situations = _books.situations(practice, remits, books)

    result = SynthResult(out, as_of)
    with step("Writing 835 files", show_progress) as tick:
        n_files = 0
        resend_at = dict(zip(books.resent.payment, books.resent.days_later, strict=True))
        originals = []
        total = len(remits.payments)
        for f in _era.files(practice, remits):
            (era_dir / f.name).write_text(f.text, encoding="ascii", newline="\n")
            if f.payment in resend_at:
                originals.append(f)
            n_files += 1
            tick(n_files, total)
        identical = set(books.resent.payment[books.resent.identical])
        for i, f in enumerate(originals):
            dup = _era.resend(f, total + i + 1, int(resend_at[f.payment]))
            if f.payment in identical:  # the same bytes delivered again under another name
                dup = _era.EraFile(dup.name, f.text, f.payment, f.control_number)
            (era_dir / dup.name).write_text(dup.text, encoding="ascii", newline="\n")
            n_files += 1

    status_dir = out / "status"
    status_dir.mkdir(exist_ok=True)
    for old in status_dir.glob("*.277"):
        old.unlink()
    n_status = 0
    for name, text in _acks.files(practice, acks):
        (status_dir / name).write_text(text, encoding="ascii", newline="\n")
        n_status += 1

    eligibility_dir = out / "eligibility"
    eligibility_dir.mkdir(exist_ok=True)
    for old in eligibility_dir.glob("*.271"):
        old.unlink()
    n_eligibility = 0
    for name, text in _eligibility.files(practice, asked, front):
        (eligibility_dir / name).write_text(text, encoding="ascii", newline="\n")
        n_eligibility += 1

    with step("Writing practice exports", show_progress):
        _write_exports(out, practice, books, front, ready)
        outputs.write_text(out / "scrub_rules.csv", _scrub_cases.RULES_CSV)
        street, city, state, zip_code = ref.PRACTICE["address"]
        info = {
            "name": ref.PRACTICE["name"],
            "npi": ref.PRACTICE["npi"],
            "tax_id": ref.PRACTICE["tax_id"],
            "as_of": as_of.isoformat(),
            "address": street,
            "city": city,
            "state": state,
            "zip": zip_code + "0100",  # ZIP+4: the billing provider's N403 is 9 digits
            "submitter_id": "SYNLAKESIDE01",
            "contact_name": "BILLING OFFICE",
            "contact_phone": "6145550100",
            "receiver_name": "SYNTHETIC CLEARINGHOUSE",
            "receiver_id": "SYNCLEAR",
            "providers": _scrub_cases.PROVIDERS,
            "generator": {"program": "xl-ar synth", "claims": claims, "months": months, "seed": seed},
        }
        outputs.write_text(out / "practice.json", json.dumps(info, indent=2) + "\n")
        outputs.write_text(out / "truth.json", json.dumps({
            "as_of": as_of.isoformat(),
            "rules": {
                "posting_grace_days": _books.POSTING_GRACE_DAYS,
                "deposit_grace_days": _books.DEPOSIT_GRACE_DAYS,
                "deposit_window_days": _books.DEPOSIT_WINDOW_DAYS,
                "no_response_days": _books.NO_RESPONSE_DAYS,
                "forwarded_days": _practice.FORWARDED_DAYS,
                "unbilled_warning_days": _books.UNBILLED_WARNING_DAYS,
                "acknowledgement_days": _acks.ACKNOWLEDGEMENT_DAYS,
                "expected_allowed": "min(charge, rate x units)",
                "mpr": list(ref.MPR_RATES),
                "variance_min": "5.00",
                "variance_min_share": _books.VARIANCE_MIN_SHARE,
                "denials_open_only": True,
            },
            "exceptions": truth,
            "situations": situations,
            "scrub": scrub_truth,
            "eligibility": _eligibility.truth(asked),
        }, indent=1, allow_nan=False) + "\n", encoding="utf-8")

    result.counts = {
        "claims": len(practice.claims) + len(ready.claims),
        "claim_lines": len(practice.lines) + len(ready.lines),
        "patients": len(practice.patients),
        "era_files": n_files,
        "status_files": n_status,
        "eligibility_files": n_eligibility,
        "payments": len(remits.payments),
        "postings": len(books.postings),
        "deposits": len(books.deposits),
    }
    kinds: dict[str, int] = {}
    for e in truth:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    result.truth_counts = {k: kinds.get(k, 0) for k in CODES}
    return result


def _claims_out_truth(truth: list[dict], claims_out: list[dict]) -> list[dict]:
    """The reconciliation's truth with the acknowledgements' exceptions: a claim rejected or never
    acknowledged is reported as that, no longer as `no_response`."""
    told = {e["claim_id"] for e in claims_out}
    kept = [e for e in truth if not (e["kind"] == "no_response" and e["claim_id"] in told)]
    out = kept + claims_out
    out.sort(key=lambda e: (e["kind"], e["claim_id"] or "", e["trace_number"] or "", e.get("amount", 0)))
    return out


def _write_exports(out: Path, practice: _practice.Practice, books: _books.Books, front: _front_end.FrontEnd,
                   ready: _scrub_cases.ScrubCases) -> None:
    payers = practice.payers
    _write_csv(pd.DataFrame({
        "payer_id": payers.payer_id,
        "name": payers.name,
        "payer_class": payers.payer_class,
        "timely_filing_days": payers.timely_filing_days.where(payers.payer_class != "self_pay", None).astype("Int64"),
        "appeal_days": payers.appeal_days.where(payers.payer_class != "self_pay", None).astype("Int64"),
        "payer_ref": np.where(payers.payer_class != "self_pay", "SYN" + payers.payer_id, ""),
    }), out / "payers.csv")
    fs = practice.fee_schedule
    _write_csv(pd.DataFrame({
        "payer_id": fs.payer_id, "procedure_code": fs.code, "modifier": fs.modifier,
        "allowed": cents_text(fs.allowed)}), out / "fee_schedule.csv")

    # claims export in the shape of a PM system report (its own headers, US dates)
    ledger = books.ledger
    pat = practice.patients.set_index("account_id").reindex(ledger.account_id)
    history = pd.DataFrame({
        "Claim #": ledger.claim_id,
        "Pat Acct": ledger.account_id,
        "Patient Name": (pat.last_name + ", " + pat.first_name).to_numpy(),
        "DOB": _us_date(pat.date_of_birth.to_numpy()),
        "Member ID": pat.member_id.to_numpy(),
        "Patient Address": pat.address.to_numpy(),
        "Ins Code": ledger.payer_id,
        "DOS": _us_date(ledger.service_date),
        "Billed Date": _us_date(ledger.billed_date),
        "Charges": cents_text(ledger.charge),
        "Payments": cents_text(ledger.paid),
        "Adjustments": cents_text(ledger.adjusted),
        "Write Offs": cents_text(ledger.written_off),
        "Ins Bal": cents_text(ledger.ins_balance),
        "Pat Bal": cents_text(ledger.patient_balance),
        "Claim Status": ledger.status,
        "Last Activity": _us_date(ledger.last_activity_date),
        "Dx Codes": practice.claims.diagnosis_codes.map(_dotted).to_numpy(),
        "Sex": front.patient_sex.reindex(ledger.account_id).to_numpy(),
        "POS": front.place_of_service,
        "Rendering NPI": front.rendering_npi,
        "Secondary Ins": front.secondary_payer_id,
        "Secondary Member ID": front.secondary_member_id,
        "Frequency": front.frequency_code,
        "Original Claim #": front.original_payer_claim_id,
        "Prior Auth": "",
    })
    _write_csv(pd.concat([history, ready.claims], ignore_index=True), out / "claims.csv")  # ready to bill last

    lines = practice.lines
    _write_csv(pd.concat([pd.DataFrame({
        "claim_id": lines.claim_id, "line_no": lines.line_no, "line_control": lines.line_control,
        "procedure_code": lines.code, "modifiers": lines.modifiers, "units": lines.units,
        "charge": cents_text(lines.charge), "service_date": _iso_date(lines.service_date),
        "diagnosis_pointers": front.diagnosis_pointers,
    }), ready.lines], ignore_index=True), out / "claim_lines.csv")

    p = books.postings
    _write_csv(pd.DataFrame({
        "Trans #": p.posting_id, "Claim #": p.claim_id, "Ins Code": p.payer_id,
        "Pmt Amt": cents_text(p.amount), "Post Date": _us_date(p.posted_date),
        "Check/EFT #": p.trace_number.fillna(""),
    }), out / "postings.csv")

    d = books.deposits
    _write_csv(pd.DataFrame({
        "Posting Date": _us_date(d.deposit_date), "Description": d.description,
        "Amount": cents_text(d.amount), "Bank Reference": d.bank_reference,
    }), out / "deposits.csv")
