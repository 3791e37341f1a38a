"""Claims ready to bill, and the scrubber violations a billing specialist must catch before they leave.

The practice's export ends with a batch of claims of its insured patients, rendered in the last
`READY_DAYS` days before the as-of date and not yet billed (no 835, no acknowledgement, no balance near a
filing limit): the claims the scrubber looks at before the 837P goes out. Most of them are clean; on a
seeded share, one violation each of every scrubber rule that a single claim can carry (`INJECTED`) is
injected, so that money-changing violations (charges) never touch a claim the reconciliation's truth
depends on. The practice-level rules (the billing NPI, a payer without an EDI id, an unknown payer, a
repeated claim id, a line of no claim, ICD-9-era dates) are not injected: each would break every claim or the
practice folder itself.

`truth` lists what the scrubber must find on the whole practice: the injected violations, and the findings
that follow from the generated history (claims billed after their payer's timely-filing limit, unbilled
claims whose limit is past or within the warning window, dates of service after the as-of date).

The payer rules are written as `scrub_rules.csv` (`RULES_CSV`): an authorization, a modifier and a frequency
rule on procedures only the ready-to-bill batch uses, so the history is judged by the core rules alone.
Drawn from a random stream of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.money import cents_text
from xl_ar.synth import reference as ref
from xl_ar.synth.books import Books
from xl_ar.synth.front_end import CLINICIANS, FrontEnd
from xl_ar.synth.practice import DAY, Practice

READY_DAYS = 5
"""The ready-to-bill claims were rendered in the last this-many days before the as-of date."""

TIMELY_WARNING_DAYS = 30
"""The scrubber's timely-filing warning window (`xl_ar.scrub.TIMELY_WARNING_DAYS`)."""

RULES_CSV = (
    "payer_id,rule,procedure_code,modifier,max_units,period_days,note\n"
    "*,authorization,72148,,,,MRI of the lumbar spine needs a prior authorization\n"
    "*,modifier,97161,GP,,,therapy evaluations carry the GP plan-of-care modifier\n"
    "*,frequency,97140,,4,7,manual therapy: at most 4 units a week\n"
)
"""The practice's payer rules file (`scrub_rules.csv`, docs/scrubber.md)."""

INJECTED: tuple[str, ...] = (
    "SCR-REQ-MEMBER", "SCR-REQ-PATIENT-NAME", "SCR-REQ-DOB", "SCR-REQ-SEX", "SCR-REQ-ADDRESS", "SCR-REQ-DX",
    "SCR-REQ-LINES", "SCR-REQ-POS", "SCR-REQ-SECONDARY-MEMBER", "SCR-NPI-RENDERING", "SCR-DX-VALID",
    "SCR-DX-BILLABLE", "SCR-DX-COUNT", "SCR-DX-POINTER", "SCR-PROC-FORMAT", "SCR-MOD-FORMAT", "SCR-MOD-ORDER",
    "SCR-UNITS", "SCR-LINE-CHARGE", "SCR-LINE-DUPLICATE", "SCR-CHARGE", "SCR-CHARGE-SUM", "SCR-DATE-ORDER",
    "SCR-DATE-LINE", "SCR-DATE-FUTURE", "SCR-DATE-DOB", "SCR-FREQ-CODE", "SCR-FREQ-ORIGINAL", "SCR-PAYER-AUTH",
    "SCR-PAYER-MODIFIER", "SCR-PAYER-FREQUENCY",
)
"""The scrubber rules injected into the ready-to-bill batch, one violation per claim."""

LINE_LEVEL: frozenset[str] = frozenset({
    "SCR-DX-POINTER", "SCR-PROC-FORMAT", "SCR-MOD-FORMAT", "SCR-MOD-ORDER", "SCR-UNITS", "SCR-LINE-CHARGE",
    "SCR-LINE-DUPLICATE", "SCR-DATE-LINE", "SCR-PAYER-AUTH", "SCR-PAYER-MODIFIER", "SCR-PAYER-FREQUENCY"})
"""The injected rules whose finding names a line (the line the violation is on)."""

# the payer-rule procedures (charge per unit in cents) a clean ready-to-bill claim may carry, done right
_RULE_LINES: tuple[tuple[str, str, int, int], ...] = (
    ("72148", "", 1, 90000), ("97161", "GP", 1, 15000), ("97140", "GP", 2, 6500))
_VISITS: tuple[tuple[str, int], ...] = (("99213", 18500), ("99214", 26000), ("99212", 12000))
_LABS: tuple[tuple[str, int], ...] = (("36415", 1500), ("85025", 3500), ("80053", 4500), ("93000", 6000))
_NOT_ICD10 = "250.00"
"""An ICD-9-CM code keyed as if it were ICD-10 (diabetes, 250.00): not in the ICD-10-CM code set."""
_HEADER_ICD10 = "E11"
"""An ICD-10-CM category (type 2 diabetes) that needs more characters to be billable."""

PROVIDERS: dict[str, str] = dict(zip(CLINICIANS, ("OKAFOR, AMARA", "LINDQVIST, PETER", "RAMIREZ, SOFIA"),
                                     strict=True))
"""The rendering clinicians' names by NPI (invented), for practice.json `providers`."""


@dataclass
class ScrubCases:
    """The ready-to-bill batch in the practice's export shapes, and what the scrubber must find in it."""

    claims: pd.DataFrame
    """Rows of claims.csv (its headers)."""
    lines: pd.DataFrame
    """Rows of claim_lines.csv (its headers)."""
    injected: pd.DataFrame
    """claim_id, line_no (None for a claim-level rule), rule_id: one row per injected violation."""


def _us(days: np.ndarray) -> np.ndarray:
    s = pd.Series(np.asarray(days, dtype="datetime64[D]")).astype("datetime64[s]")
    return np.where(s.isna(), "", s.dt.strftime("%m/%d/%Y").fillna("")).astype(object)


def _dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def build(practice: Practice, front: FrontEnd, seed: int) -> ScrubCases:
    """Draw the ready-to-bill batch: `k` claims per injected rule (k grows with the practice) and twice as many
    clean ones, each for another insured patient."""
    rng = np.random.default_rng([seed, 837])
    A = np.datetime64(practice.as_of, "D")
    n_claims = len(practice.claims)
    k = max(1, n_claims // 2500)
    cases = np.repeat(np.array(("", *INJECTED), dtype=object), [2 * k * len(INJECTED)] + [k] * len(INJECTED))
    cases = rng.permutation(cases)
    n = len(cases)
    patients = practice.patients
    insured = patients[patients.payer_id.map({p.payer_id: p.payer_class for p in ref.PAYERS}) != "self_pay"]
    pat = insured.iloc[rng.choice(len(insured), size=n, replace=n > len(insured))].reset_index(drop=True)
    claim_id = np.array([f"CL{n_claims + i:07d}" for i in range(1, n + 1)], dtype=object)
    service = A - rng.integers(1, READY_DAYS + 1, n) * DAY
    dx_pool = np.array([_dotted(c) for c in ref.DIAGNOSES], dtype=object)
    dx1 = rng.choice(dx_pool, n)
    dx2 = rng.choice(dx_pool, n)
    two_dx = (rng.random(n) < 0.5) & (dx1 != dx2)
    dx = np.where(two_dx, dx1 + "," + dx2, dx1).astype(object)

    # two lines per claim: a visit, then a lab test or (a third of the clean claims) a payer-rule procedure
    visit = rng.integers(0, len(_VISITS), n)
    lab = rng.integers(0, len(_LABS), n)
    l1_code = np.array([_VISITS[i][0] for i in visit], dtype=object)
    l1_charge = np.array([_VISITS[i][1] for i in visit], dtype=np.int64)
    l2_code = np.array([_LABS[i][0] for i in lab], dtype=object)
    l2_mods = np.full(n, "", dtype=object)
    l2_units = np.ones(n, dtype=np.int64)
    l2_charge = np.array([_LABS[i][1] for i in lab], dtype=np.int64)
    auth = np.full(n, "", dtype=object)
    special = (cases == "") & (rng.random(n) < 1 / 3)
    which = rng.integers(0, len(_RULE_LINES), n)
    for j, (code, mod, units, per_unit) in enumerate(_RULE_LINES):
        m = special & (which == j)
        l2_code[m], l2_mods[m], l2_units[m], l2_charge[m] = code, mod, units, units * per_unit
        if code == "72148":
            auth[m] = [f"PA{v:08d}" for v in rng.integers(10**7, 10**8, int(m.sum()))]
    l2_date = service.copy()
    l2_ptr = np.where(two_dx & (rng.random(n) < 0.5), "1:2", "1").astype(object)
    l1_units = np.ones(n, dtype=np.int64)
    l1_mods = np.full(n, "", dtype=object)
    l1_ptr = np.full(n, "1", dtype=object)

    name = (pat.last_name + ", " + pat.first_name).to_numpy(dtype=object)
    dob = _us(pat.date_of_birth.to_numpy())
    member = pat.member_id.to_numpy(dtype=object)
    address = pat.address.to_numpy(dtype=object)
    sex = front.patient_sex.reindex(pat.account_id).to_numpy(dtype=object)
    pos = np.full(n, "11", dtype=object)
    rendering = rng.choice(np.array(CLINICIANS, dtype=object), n)
    payer = pat.payer_id.to_numpy(dtype=object)
    sec_payer = np.full(n, "", dtype=object)
    sec_member = np.full(n, "", dtype=object)
    billed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    freq = np.full(n, "", dtype=object)
    original = np.full(n, "", dtype=object)
    has_lines = np.ones(n, dtype=bool)
    charge_delta = np.zeros(n, dtype=np.int64)
    zero_charge = np.zeros(n, dtype=bool)
    bad_line = np.zeros(n, dtype=np.int64)  # the line an injected line-level violation is on

    def case(rule_id: str) -> np.ndarray:
        return cases == rule_id

    member[case("SCR-REQ-MEMBER")] = ""
    name[case("SCR-REQ-PATIENT-NAME")] = ""
    dob[case("SCR-REQ-DOB")] = ""
    sex[case("SCR-REQ-SEX")] = ""
    m = case("SCR-REQ-ADDRESS")  # the street alone: no city, state or ZIP code
    address[m] = pd.Series(address[m], dtype=object).str.split(",").str[0].to_numpy(dtype=object)
    m = case("SCR-REQ-DX")
    dx[m], l2_ptr[m] = "", "1"
    has_lines[case("SCR-REQ-LINES")] = False
    pos[case("SCR-REQ-POS")] = "O1"  # a letter O keyed for the zero of 01
    m = case("SCR-REQ-SECONDARY-MEMBER")
    sec_payer[m] = np.where(payer[m] == "SMH", "HVI", "SMH")
    m = case("SCR-NPI-RENDERING")  # the check digit off by one
    rendering[m] = [v[:9] + str((int(v[9]) + 1) % 10) for v in rendering[m]]
    m = case("SCR-DX-VALID")
    dx[m], l2_ptr[m] = _NOT_ICD10, "1"
    m = case("SCR-DX-BILLABLE")
    dx[m], l2_ptr[m] = _HEADER_ICD10, "1"
    dx[case("SCR-DX-COUNT")] = ",".join(dx_pool[:13])
    m = case("SCR-DX-POINTER")  # a pointer to a fifth code on a claim with one or two
    l2_ptr[m], bad_line[m] = "5", 2
    m = case("SCR-PROC-FORMAT")  # a digit dropped
    l1_code[m] = pd.Series(l1_code[m], dtype=object).str[:4].to_numpy(dtype=object)
    bad_line[m] = 1
    m = case("SCR-MOD-FORMAT")
    l1_mods[m], bad_line[m] = "2", 1
    m = case("SCR-MOD-ORDER")  # the informational 59 before the professional component 26
    l2_code[m], l2_mods[m], l2_charge[m], bad_line[m] = "93000", "59:26", 2400, 2
    m = case("SCR-UNITS")
    l1_units[m], bad_line[m] = 0, 1
    m = case("SCR-LINE-CHARGE")
    l2_charge[m], bad_line[m] = 0, 2
    m = case("SCR-LINE-DUPLICATE")  # the visit keyed twice
    l2_code[m], l2_mods[m], l2_units[m], l2_charge[m], l2_ptr[m] = l1_code[m], "", 1, l1_charge[m], "1"
    bad_line[m] = 2
    zero_charge[case("SCR-CHARGE")] = True
    charge_delta[case("SCR-CHARGE-SUM")] = 1000  # $10.00 more than the lines
    m = case("SCR-DATE-ORDER")  # billed two days before the service: billed within the acknowledgement window
    service[m] = A - DAY
    billed[m] = service[m] - 2 * DAY
    l2_date[m] = service[m]
    m = case("SCR-DATE-LINE")
    l2_date[m], bad_line[m] = service[m] - DAY, 2
    l2_date[case("SCR-DATE-FUTURE")] = A + 3 * DAY  # a follow-up test keyed on the day it is booked for
    m = case("SCR-DATE-DOB")
    dob[m] = _us(service[m] + 10 * DAY)
    freq[case("SCR-FREQ-CODE")] = "3"
    freq[case("SCR-FREQ-ORIGINAL")] = "7"
    m = case("SCR-PAYER-AUTH")
    l2_code[m], l2_charge[m], bad_line[m] = "72148", 90000, 2
    m = case("SCR-PAYER-MODIFIER")
    l2_code[m], l2_mods[m], l2_charge[m], bad_line[m] = "97161", "", 15000, 2
    m = case("SCR-PAYER-FREQUENCY")  # five units of a code allowed four a week
    l2_code[m], l2_mods[m], l2_units[m], l2_charge[m], bad_line[m] = "97140", "GP", 5, 5 * 6500, 2

    line_sum = l1_charge + l2_charge
    charge = np.where(zero_charge, 0, line_sum + charge_delta)
    status = np.where(np.isnat(billed), "unbilled", "submitted")
    claims = pd.DataFrame({
        "Claim #": claim_id, "Pat Acct": pat.account_id.to_numpy(dtype=object), "Patient Name": name, "DOB": dob,
        "Member ID": member, "Patient Address": address, "Ins Code": payer, "DOS": _us(service),
        "Billed Date": _us(billed), "Charges": cents_text(charge), "Payments": cents_text(np.zeros(n, np.int64)),
        "Adjustments": cents_text(np.zeros(n, np.int64)), "Write Offs": cents_text(np.zeros(n, np.int64)),
        "Ins Bal": cents_text(charge), "Pat Bal": cents_text(np.zeros(n, np.int64)), "Claim Status": status,
        "Last Activity": _us(np.where(np.isnat(billed), service, billed)), "Dx Codes": dx, "Sex": sex,
        "POS": pos, "Rendering NPI": rendering, "Secondary Ins": sec_payer, "Secondary Member ID": sec_member,
        "Frequency": freq, "Original Claim #": original, "Prior Auth": auth,
    })
    iso = pd.Series
    first = pd.DataFrame({
        "claim_id": claim_id, "line_no": 1, "line_control": claim_id + "-1", "procedure_code": l1_code,
        "modifiers": l1_mods, "units": l1_units, "charge": cents_text(l1_charge),
        "service_date": iso(service.astype("datetime64[s]")).dt.strftime("%Y-%m-%d").to_numpy(),
        "diagnosis_pointers": l1_ptr})
    second = pd.DataFrame({
        "claim_id": claim_id, "line_no": 2, "line_control": claim_id + "-2", "procedure_code": l2_code,
        "modifiers": l2_mods, "units": l2_units, "charge": cents_text(l2_charge),
        "service_date": iso(l2_date.astype("datetime64[s]")).dt.strftime("%Y-%m-%d").to_numpy(),
        "diagnosis_pointers": l2_ptr})
    lines = pd.concat([first[has_lines], second[has_lines]]).sort_values(["claim_id", "line_no"], kind="stable")
    hit = cases != ""
    line_no = pd.array(np.where(bad_line[hit] > 0, bad_line[hit], 0), dtype="Int64")
    line_no[bad_line[hit] == 0] = pd.NA
    injected = pd.DataFrame({"claim_id": claim_id[hit], "line_no": line_no, "rule_id": cases[hit]})
    return ScrubCases(claims, lines.reset_index(drop=True), injected.sort_values("claim_id").reset_index(drop=True))


def truth(practice: Practice, books: Books, front: FrontEnd, cases: ScrubCases) -> list[dict]:
    """What the scrubber must report on the practice: the injected violations, and, on the generated history
    (insured claims), `SCR-TIMELY-PAST` (billed after the payer's filing limit, or unbilled past it),
    `SCR-TIMELY-RISK` (unbilled, the limit within `TIMELY_WARNING_DAYS`), both on originals only (a replacement
    or void is not judged by the limit), and `SCR-DATE-FUTURE` (a date of service after the as-of date)."""
    A = np.datetime64(practice.as_of, "D")
    ledger = books.ledger
    classes = {p.payer_id: p.payer_class for p in ref.PAYERS}
    limits = {p.payer_id: p.timely_filing_days for p in ref.PAYERS}
    insured = ledger.payer_id.map(classes).to_numpy() != "self_pay"
    original = ~np.isin(front.frequency_code, ["7", "8"])  # a replacement or void is not judged by the limit
    service = ledger.service_date.to_numpy().astype("datetime64[D]")
    billed = ledger.billed_date.to_numpy().astype("datetime64[D]")
    limit = service + ledger.payer_id.map(limits).fillna(0).to_numpy().astype(np.int64) * DAY
    filed = np.where(np.isnat(billed), A, billed)
    left = (limit - filed).astype(np.int64)
    line_latest = pd.Series(practice.lines.service_date.to_numpy().astype("datetime64[D]")).groupby(
        practice.lines.claim_id.to_numpy()).max()
    latest = np.maximum(service, line_latest.reindex(ledger.claim_id).to_numpy().astype("datetime64[D]"))
    out = pd.concat([
        pd.DataFrame({"claim_id": ledger.claim_id[insured & original & (left < 0)], "rule_id": "SCR-TIMELY-PAST"}),
        pd.DataFrame({"claim_id": ledger.claim_id[insured & original & np.isnat(billed) & (left >= 0)
                                                  & (left <= TIMELY_WARNING_DAYS)], "rule_id": "SCR-TIMELY-RISK"}),
        pd.DataFrame({"claim_id": ledger.claim_id[insured & (latest > A)], "rule_id": "SCR-DATE-FUTURE"}),
    ], ignore_index=True)
    rows = [{"claim_id": c, "line_no": None, "rule_id": r} for c, r in zip(out.claim_id, out.rule_id, strict=True)]
    rows += [{"claim_id": c, "line_no": None if pd.isna(ln) else int(ln), "rule_id": r}
             for c, ln, r in zip(cases.injected.claim_id, cases.injected.line_no, cases.injected.rule_id, strict=True)]
    rows.sort(key=lambda e: (e["claim_id"], e["line_no"] or 0, e["rule_id"]))
    return rows
