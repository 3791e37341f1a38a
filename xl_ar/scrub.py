"""The claim scrubber: the checks a claim passes before it leaves as an 837P (docs/scrubber.md).

`scrub` takes the canonical `claims`, `claim_lines` and `payers` tables and returns the
`scrub_findings` table: one row per problem, naming the claim, the line (empty for a claim-level
problem), the rule, its severity, a message in a billing specialist's words and the fix. Every
check is one `Rule` in `RULES`, whose text is what docs/scrubber.md and the Instructions sheet show.
`clean_claims` keeps the claims with no error finding: those the 837P export sends.

Rules run over whole columns (no Python loop over claims or lines); only the distinct values of a
column (NPIs, codes) are ever looked at one by one. The result is deterministic: the findings come
in the claims' order, claim-level first, then by line, then in the order of `RULES`.

Payer rules (authorization, modifier and frequency requirements) come from a CSV file the practice
edits without code (`read_rules`, `rules_from_frame`).

Claims whose payer is self-pay (payer class `self_pay`) are not scrubbed and are never clean: no
claim goes to a payer for them.

ICD-10-CM: the CMS code set of fiscal year 2026 (April 1, 2026 update) is shipped as
`xl_ar/data/icd10cm.csv` (code without the dot, and whether it is billable); see
`xl_ar/data/SOURCES.md`. Only that one edition is shipped, so a code deleted or added in another
fiscal year is judged by the FY2026 list whatever the date of service.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from xl_ar import tables
from xl_ar.findings import Finding, Location
from xl_ar.practice import npi_is_valid
from xl_ar.privacy import shown

Severity = Literal["error", "warning"]
Level = Literal["claim", "line"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One scrubber check: what it finds, why payers care, and how to fix it."""

    rule_id: str
    level: Level
    severity: Severity
    column: str
    check: str
    """What the rule finds."""
    why: str
    """Why it matters (what the payer or clearinghouse does with such a claim)."""
    fix: str
    """What to change (the `fix` of every finding of this rule)."""


RULES: tuple[Rule, ...] = (
    Rule("SCR-CLAIM-ID-DUPLICATE", "claim", "error", "claim_id",
         "Two claim rows have the same claim id (patient control number, CLM01).",
         "The 835 is matched to the claim by CLM01; two claims with one number cannot both be matched.",
         "Give each claim its own claim id, or remove the repeated row."),
    Rule("SCR-REQ-MEMBER", "claim", "error", "member_id",
         "The subscriber's member id is missing.",
         "Loop 2010BA NM109 is required; the payer rejects the claim at the front end.",
         "Enter the member id from the insurance card (or the eligibility response)."),
    Rule("SCR-REQ-PATIENT-NAME", "claim", "error", "patient_name",
         "The patient's name is missing.",
         "Loop 2010BA NM103 (last name) is required.",
         "Enter the patient's name as it is on the insurance card."),
    Rule("SCR-REQ-DOB", "claim", "error", "date_of_birth",
         "The patient's date of birth is missing.",
         "DMG02 is required for the subscriber who is the patient; payers match members by it.",
         "Enter the date of birth from the registration."),
    Rule("SCR-REQ-SEX", "claim", "error", "patient_sex",
         "The patient's sex is missing or not F, M or U.",
         "DMG03 is required and takes only F, M or U.",
         "Enter F, M or U as the payer records it."),
    Rule("SCR-REQ-ADDRESS", "claim", "error", "patient_address",
         "The patient's address is missing or not written 'street, city, ST, zip'.",
         "Loops 2010BA N3/N4 need street, city, a two-letter state and a 5- or 9-digit ZIP code.",
         "Enter the address as 'street, city, ST, zip' (for example '12 Main St, Springfield, IL, 62701')."),
    Rule("SCR-REQ-DX", "claim", "error", "diagnosis_codes",
         "The claim has no diagnosis code.",
         "HI*ABK (the principal diagnosis) is required on every professional claim.",
         "Code the diagnoses from the visit note, principal first."),
    Rule("SCR-REQ-PAYER", "claim", "error", "payer_id",
         "The claim's payer is not in the payer list.",
         "Without the payer there is no payer id for loop 2010BB and no filing limit.",
         "Add the payer to payers (with its EDI payer id) or correct the claim's payer."),
    Rule("SCR-REQ-PAYER-EDI", "claim", "error", "payer_ref",
         "The claim's payer has no EDI payer id.",
         "Loop 2010BB NM109 (the payer id) routes the claim through the clearinghouse; without it the claim "
         "cannot be sent.",
         "Enter the payer's EDI id (payer_ref) in the payer list, from the clearinghouse's payer list."),
    Rule("SCR-REQ-BILLING-NPI", "claim", "error", "npi",
         "The billing provider's NPI is missing.",
         "Loop 2010AA NM109 (the billing provider's NPI) is required.",
         "Enter the practice's NPI in practice.json."),
    Rule("SCR-REQ-LINES", "claim", "error", "claim_lines",
         "The claim has no service line.",
         "An 837P claim needs at least one service line (loop 2400).",
         "Enter the claim's services (procedure, units, charge, date) in claim_lines."),
    Rule("SCR-REQ-POS", "claim", "error", "place_of_service",
         "The place of service is not a two-digit CMS code.",
         "CLM05-1 takes a two-digit place-of-service code (11 office, 22 outpatient hospital, ...).",
         "Enter the two-digit place-of-service code (leave it empty for 11, office)."),
    Rule("SCR-REQ-SECONDARY-MEMBER", "claim", "error", "secondary_member_id",
         "The claim names a secondary payer but no member id with it.",
         "A claim that names other coverage carries it in loops 2320/2330A, where the member id with that payer "
         "is required; the secondary claim needs it too.",
         "Enter the member id from the secondary insurance card."),
    Rule("SCR-NPI-BILLING", "claim", "error", "npi",
         "The billing provider's NPI fails the NPI check digit.",
         "An NPI is 10 digits whose last digit is the Luhn check digit of 80840 and the first nine; "
         "a wrong one is rejected at the front end.",
         "Correct the practice's NPI in practice.json (from NPPES)."),
    Rule("SCR-NPI-RENDERING", "claim", "error", "rendering_npi",
         "The rendering provider's NPI is not 10 digits or fails the NPI check digit.",
         "Loop 2310B NM109 must be a valid NPI; a wrong one is rejected at the front end.",
         "Correct the clinician's NPI (from NPPES), or leave it empty when the billing provider rendered."),
    Rule("SCR-DX-DATE", "claim", "error", "diagnosis_codes",
         "The date of service is before October 1, 2015, when ICD-10-CM took effect.",
         "Services before that date are coded in ICD-9-CM; an ICD-10 code on them is rejected.",
         "Check the date of service."),
    Rule("SCR-DX-VALID", "claim", "error", "diagnosis_codes",
         "A diagnosis code is not an ICD-10-CM code.",
         "The payer rejects a claim with a code that is not in the code set for the date of service.",
         "Correct the code (check for a typo, a letter O for a zero, or an ICD-9 code)."),
    Rule("SCR-DX-BILLABLE", "claim", "error", "diagnosis_codes",
         "A diagnosis code is a category or subcategory header, not a billable code.",
         "Only the codes at the last level (with every required character, including a 7th character) "
         "are billable; a header is rejected.",
         "Code to the highest specificity the note supports (add the missing characters)."),
    Rule("SCR-DX-COUNT", "claim", "error", "diagnosis_codes",
         "The claim has more than 12 diagnosis codes.",
         "An 837P carries at most 12 diagnosis codes (HI01-HI12).",
         "Keep the 12 that the services treat (principal first), or split the claim."),
    Rule("SCR-DX-POINTER", "line", "error", "diagnosis_pointers",
         "A line's diagnosis pointers are not 1-12, more than 4, or point past the claim's diagnosis codes.",
         "SV107 points at up to 4 of the claim's codes; a pointer to no code is rejected.",
         "Point the line at the positions of the diagnoses it treats (1 = the first code)."),
    Rule("SCR-PROC-FORMAT", "line", "error", "procedure_code",
         "The procedure code is not a CPT or HCPCS code.",
         "CPT is 5 digits or 4 digits and F, T or U (Category II, III; PLA); HCPCS Level II is a letter A-V "
         "and 4 digits. Anything else is rejected.",
         "Correct the procedure code (5 characters, no description, no modifier)."),
    Rule("SCR-MOD-FORMAT", "line", "error", "modifiers",
         "A modifier is not two letters or digits, or the line has more than four.",
         "SV101-3 to SV101-6 hold at most four two-character modifiers.",
         "Keep at most four modifiers, two characters each, separated by ':'."),
    Rule("SCR-MOD-ORDER", "line", "error", "modifiers",
         "An informational modifier comes before a pricing modifier.",
         "Payers price by the first modifier: pricing modifiers (26, TC, 50, 52, 80, ...) go first, "
         "informational ones (25, 59, GP, LT, ...) after; in the wrong order the line is mispriced or denied.",
         "Put the pricing modifiers first."),
    Rule("SCR-UNITS", "line", "error", "units",
         "The line's units are not above zero.",
         "SV104 (units) must be positive.",
         "Enter the units of service (1 for most services)."),
    Rule("SCR-LINE-CHARGE", "line", "error", "charge",
         "The line's charge is not above zero.",
         "SV102 (line charge) must be positive; a zero line is rejected.",
         "Enter the fee schedule charge for the service."),
    Rule("SCR-LINE-DUPLICATE", "line", "error", "procedure_code",
         "The line repeats an earlier line of the claim (same procedure, modifiers and date).",
         "A repeated line is denied as a duplicate (CARC 18).",
         "Bill the service once with its total units, or add the modifier that explains the repeat (76, 77, 91, "
         "59 or X{EPSU})."),
    Rule("SCR-LINE-CLAIM", "line", "error", "claim_id",
         "A service line's claim is not in the claims table.",
         "A line without its claim cannot be sent.",
         "Correct the line's claim id or add the claim."),
    Rule("SCR-CHARGE", "claim", "error", "charge",
         "The claim's charge is not above zero.",
         "CLM02 (total charge) must be positive.",
         "Enter the charges of the services."),
    Rule("SCR-CHARGE-SUM", "claim", "error", "charge",
         "The claim's charge is not the sum of its line charges.",
         "CLM02 must equal the sum of SV102; the clearinghouse rejects a claim whose total does not add up.",
         "Correct the claim total or the line charges."),
    Rule("SCR-DATE-ORDER", "claim", "error", "billed_date",
         "The date of service is after the billed date.",
         "A claim cannot be billed before the service; one of the dates is wrong.",
         "Correct the date of service or the billed date."),
    Rule("SCR-DATE-LINE", "line", "error", "service_date",
         "A line's date of service is before the claim's first date of service.",
         "The claim's service date is its first date of service; a line before it means one date is wrong.",
         "Correct the line's or the claim's date of service."),
    Rule("SCR-DATE-FUTURE", "claim", "error", "service_date",
         "A date of service is after the as-of date.",
         "Services are billed after they are rendered; payers reject future dates.",
         "Hold the claim until the service is rendered, or correct the date."),
    Rule("SCR-DATE-DOB", "claim", "error", "date_of_birth",
         "The patient's date of birth is after the date of service.",
         "A birth date after the service is a keying error; the payer cannot match the member.",
         "Correct the date of birth or the date of service."),
    Rule("SCR-TIMELY-PAST", "claim", "error", "service_date",
         "The payer's timely-filing limit has passed (counted from the date of service to the billed date, "
         "or to the as-of date when not yet billed).",
         "A claim filed after the limit is denied (CARC 29) and the provider cannot bill the patient.",
         "File at once with proof of timely filing or a good-cause reason, or write the balance off."),
    Rule("SCR-TIMELY-RISK", "claim", "warning", "service_date",
         "The payer's timely-filing limit ends within the warning window (30 days by default).",
         "Once the limit passes the claim is denied (CARC 29).",
         "Send the claim now."),
    Rule("SCR-FREQ-CODE", "claim", "error", "frequency_code",
         "The claim frequency code is not 1, 7 or 8.",
         "CLM05-3 for a professional claim is 1 (original), 7 (replacement) or 8 (void).",
         "Enter 1 (or leave it empty) for an original claim, 7 to replace, 8 to void."),
    Rule("SCR-FREQ-ORIGINAL", "claim", "error", "original_payer_claim_id",
         "A replacement (7) or void (8) has no payer claim number of the claim it corrects.",
         "REF*F8 (the payer's claim control number from the 835) is required on a replacement or void.",
         "Enter the payer's claim number (CLP07 of the original's 835)."),
    Rule("SCR-PAYER-AUTH", "line", "error", "prior_authorization",
         "The payer requires a prior authorization for this procedure and the claim has none.",
         "The practice's payer rules list the code as needing authorization; without REF*G1 it is denied "
         "(CARC 197).",
         "Enter the authorization number, or obtain a retro-authorization before sending."),
    Rule("SCR-PAYER-MODIFIER", "line", "error", "modifiers",
         "The payer requires a modifier on this procedure and the line does not have it.",
         "The practice's payer rules require the modifier for the code (for example GP on therapy codes).",
         "Add the modifier if the documentation supports it."),
    Rule("SCR-PAYER-FREQUENCY", "line", "error", "units",
         "The procedure exceeds the payer's frequency limit for the patient in the period.",
         "The practice's payer rules allow at most N units of the code per patient per period; the excess is "
         "denied (CARC 119).",
         "Check the earlier services; bill only what the limit allows or get an exception from the payer."),
)
"""Every scrubber check, in the order its findings are listed."""

RULE_IDS: tuple[str, ...] = tuple(r.rule_id for r in RULES)
_RULE = {r.rule_id: r for r in RULES}

MAX_DIAGNOSES = 12
"""HI01-HI12: the most diagnosis codes an 837P claim carries."""
MAX_POINTERS = 4
"""SV107-1 to SV107-4."""
MAX_MODIFIERS = 4
"""SV101-3 to SV101-6."""
ICD10_EFFECTIVE = dt.date(2015, 10, 1)
"""ICD-10-CM took effect for dates of service on or after this day."""
TIMELY_WARNING_DAYS = 30
"""Days before the timely-filing limit from which a claim not yet filed is a risk."""

PRICING_MODIFIERS: frozenset[str] = frozenset({
    "22", "26", "50", "51", "52", "53", "54", "55", "56", "62", "66", "73", "74", "78", "80", "81", "82",
    "AA", "AD", "AS", "CT", "FX", "FY", "QK", "QW", "QX", "QY", "QZ", "TC"})
"""Modifiers that change the payment (professional / technical part, bilateral, reduced, assistant, anesthesia
by whom): they go before informational modifiers (CMS Claims Processing Manual, ch. 12 and 26)."""

CPT_HCPCS = r"^(?:\d{5}|\d{4}[FTU]|[A-V]\d{4})$"
"""A CPT code (5 digits; 4 digits + F Category II, T Category III, U PLA) or a HCPCS Level II code."""
ICD10_SHAPE = r"^[A-Z]\d[0-9A-Z]{1,5}$"
"""The shape of an ICD-10-CM code without its dot."""
ADDRESS_SHAPE = r"^[^,]+,[^,]+,\s*[A-Za-z]{2}\s*,\s*\d{5}(?:-?\d{4})?$"
"""'street, city, ST, zip' (the street may not hold a comma: write 'Apt 4' after the street without one)."""

RULE_KINDS = ("authorization", "modifier", "frequency")
"""The kinds of rows a payer rules file has."""
RULES_COLUMNS = ("payer_id", "rule", "procedure_code", "modifier", "max_units", "period_days", "note")
"""The columns of a payer rules file (docs/scrubber.md)."""
ALL_PAYERS = "*"


# --- the ICD-10-CM code set ---------------------------------------------------------------------------------

@functools.cache
def icd10cm() -> pd.Series:
    """The shipped ICD-10-CM code set: billable (bool) by code without the dot."""
    with importlib.resources.files("xl_ar").joinpath("data/icd10cm.csv").open("r", encoding="ascii") as f:
        data = pd.read_csv(f, dtype={"code": str, "billable": np.int8}, keep_default_na=False)
    data = data.drop_duplicates("code")
    return pd.Series(data["billable"].to_numpy() == 1, index=pd.Index(data["code"].to_numpy()), name="billable")


def npi_valid(values: pd.Series) -> np.ndarray:
    """Whether each value is a valid NPI (10 digits, Luhn check digit over 80840 + the first nine digits);
    each distinct value is checked once."""
    text = values.astype("string").str.strip()
    uniques = text.dropna().unique()
    valid = [v for v in uniques if npi_is_valid(v)]
    return text.isin(valid).fillna(False).to_numpy(dtype=bool)


# --- payer rules file ---------------------------------------------------------------------------------------

def rules_from_frame(frame: pd.DataFrame, source: str = "scrub_rules.csv") -> tuple[pd.DataFrame, list[Finding]]:
    """The payer rules in a frame of text cells (header row: `RULES_COLUMNS`, in any order; `modifier`,
    `max_units`, `period_days` and `note` may be absent). A row that cannot be used is left out and
    reported at its row (row 2 is the first data row); the rules are returned as a frame of typed columns."""
    findings: list[Finding] = []
    frame = frame.rename(columns=lambda c: str(c).strip().lower().replace(" ", "_"))
    missing = [c for c in ("payer_id", "rule", "procedure_code") if c not in frame.columns]
    if missing:
        findings.append(Finding("error", source, Location(part="header row"),
                                f"missing column {', '.join(missing)} (columns: {', '.join(RULES_COLUMNS)})",
                                "missing column"))
        return _empty_rules(), findings
    text = pd.DataFrame({c: (frame[c].astype("string").str.strip().replace("", pd.NA) if c in frame.columns
                             else pd.Series(pd.NA, index=frame.index, dtype="string")) for c in RULES_COLUMNS})
    text["rule"] = text["rule"].str.lower()
    text["procedure_code"] = text["procedure_code"].str.upper()
    text["modifier"] = text["modifier"].str.upper()
    max_units = pd.to_numeric(text["max_units"], errors="coerce")
    period = pd.to_numeric(text["period_days"], errors="coerce")
    blank = text[["payer_id", "rule", "procedure_code"]].isna().all(axis=1) & text["note"].isna()
    problems = [
        (text["payer_id"].isna(), "payer_id", "no payer (use * for every payer)"),
        (~text["rule"].isin(RULE_KINDS).fillna(False), "rule", f"rule is not one of {', '.join(RULE_KINDS)}"),
        (~text["procedure_code"].str.match(CPT_HCPCS).fillna(False), "procedure_code",
         "procedure_code is not a CPT or HCPCS code"),
        ((text["rule"] == "modifier").fillna(False) & ~text["modifier"].str.fullmatch(r"[0-9A-Z]{2}").fillna(False),
         "modifier", "a modifier rule needs the two-character modifier"),
        ((text["rule"] == "frequency").fillna(False)
         & ~((max_units >= 0) & (period >= 1) & (max_units % 1 == 0) & (period % 1 == 0)).fillna(False),
         "max_units", "a frequency rule needs max_units (0 or more) and period_days (1 or more), whole numbers"),
    ]
    bad = np.zeros(len(text), dtype=bool)
    for mask, column, message in problems:
        mask = mask.to_numpy(dtype=bool) & ~blank.to_numpy(dtype=bool) & ~bad
        for r in np.flatnonzero(mask):
            findings.append(Finding("error", source, Location(row=int(r) + 2, column=column),
                                    f"{message}; the row is not used", "bad rule"))
        bad |= mask
    keep = ~bad & ~blank.to_numpy(dtype=bool)
    out = pd.DataFrame({
        "payer_id": text["payer_id"][keep].to_numpy(dtype=object),
        "rule": text["rule"][keep].to_numpy(dtype=object),
        "procedure_code": text["procedure_code"][keep].to_numpy(dtype=object),
        "modifier": text["modifier"][keep].astype(object).where(text["modifier"][keep].notna(), None).to_numpy(),
        "max_units": max_units[keep].to_numpy(dtype=float),
        "period_days": period[keep].to_numpy(dtype=float),
        "note": text["note"][keep].fillna("").to_numpy(dtype=object),
    })
    return out, findings


def read_rules(path: Path) -> tuple[pd.DataFrame, list[Finding]]:
    """Read a payer rules CSV file (UTF-8, comma separated; docs/scrubber.md)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return rules_from_frame(frame, path.name)


def _empty_rules() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("max_units", "period_days") else object)
                         for c in RULES_COLUMNS})


# --- the scrubber -------------------------------------------------------------------------------------------

def _col(frame: pd.DataFrame, name: str, dtype: str = "string") -> pd.Series:
    if name in frame.columns:
        return frame[name]
    if dtype.startswith("datetime"):
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    return pd.Series(pd.NA, index=frame.index, dtype=dtype)


def _text(frame: pd.DataFrame, name: str, upper: bool = False) -> pd.Series:
    """A text column stripped (and upper-cased), blank as NA; each distinct value is looked at once."""
    codes, uniques = pd.factorize(_col(frame, name).astype("string"))
    clean = pd.Series(uniques, dtype="string").str.strip()
    if upper:
        clean = clean.str.upper()
    clean = clean.mask(clean == "").to_numpy(dtype=object, na_value=None)
    out = np.full(len(codes), None, dtype=object)
    out[codes >= 0] = clean[codes[codes >= 0]]
    return pd.Series(out, index=frame.index, dtype="string")


def _explode(values: pd.Series, sep: str) -> pd.Series:
    """The non-blank items of each value split at `sep` (a pattern), stripped, indexed by the value's row
    position, in order; each distinct value is split once."""
    codes, uniques = pd.factorize(values)
    parts = pd.Series(uniques, dtype="string").str.split(sep, regex=True).explode().str.strip()
    parts = parts[parts.notna() & (parts != "")]
    counts = np.bincount(parts.index.to_numpy(dtype=np.int64), minlength=len(uniques))
    row_counts = np.where(codes >= 0, counts[np.maximum(codes, 0)] if len(uniques) else 0, 0)
    rows = np.repeat(np.arange(len(values)), row_counts)
    starts = np.cumsum(counts) - counts
    within = np.arange(len(rows)) - np.repeat(np.cumsum(row_counts) - row_counts, row_counts)
    items = parts.to_numpy(dtype=object)[starts[codes[rows]] + within] if len(rows) else np.array([], dtype=object)
    return pd.Series(items, index=rows, dtype="string")


def _days(values: pd.Series) -> np.ndarray:
    """Dates as day numbers (float, NaN when missing)."""
    d = pd.to_datetime(values).to_numpy(dtype="datetime64[D]")
    out = d.astype(np.int64).astype(float)
    out[np.isnat(d)] = np.nan
    return out


def _shown(column: str, values: pd.Series) -> pd.Series:
    """Each value as a message may show it (`privacy.shown`), computed once per distinct value."""
    uniques = values.dropna().unique()
    return values.map({v: shown(column, v) for v in uniques}).astype(object)


class _Out:
    """The findings being gathered: one block of arrays per rule."""

    def __init__(self) -> None:
        self.blocks: list[pd.DataFrame] = []

    def add(self, rule_id: str, claim_pos: np.ndarray, message: str | pd.Series | np.ndarray,
            line_no: np.ndarray | None = None, item: np.ndarray | None = None) -> None:
        n = len(claim_pos)
        if n == 0:
            return
        rule = _RULE[rule_id]
        msg = np.asarray(message, dtype=object) if not isinstance(message, str) else np.full(n, message, object)
        self.blocks.append(pd.DataFrame({
            "claim_pos": np.asarray(claim_pos, dtype=np.int64),
            "line_no": np.full(n, -1.0) if line_no is None else np.asarray(line_no, dtype=float),
            "rule_pos": RULE_IDS.index(rule_id),
            "item": np.zeros(n, dtype=np.int64) if item is None else np.asarray(item, dtype=np.int64),
            "rule_id": rule_id, "severity": rule.severity, "column": rule.column, "message": msg,
            "fix": rule.fix,
        }))


def scrub(claims: pd.DataFrame, claim_lines: pd.DataFrame, payers: pd.DataFrame, practice_npi: str,
          as_of: dt.date, rules: pd.DataFrame | None = None,
          timely_warning_days: int = TIMELY_WARNING_DAYS) -> pd.DataFrame:
    """Check every claim (and its lines) billed to a payer, as an 837P would need it; the `scrub_findings` table.

    `claims`, `claim_lines` and `payers` are canonical tables; `practice_npi` is the billing provider's
    NPI; `as_of` is the day the claims would be sent; `rules` are the practice's payer rules
    (`read_rules`), none when empty. Claims of self-pay payers are not scrubbed. Deterministic: findings
    in the claims' order, claim-level first, then by line number, then in `RULES` order.
    """
    from xl_ar.denials import payer_terms

    out = _Out()
    claims = claims.reset_index(drop=True)
    lines_all = claim_lines.reset_index(drop=True) if claim_lines is not None else tables.empty("claim_lines")
    payers = payers if payers is not None else tables.empty("payers")

    claim_id = _text(claims, "claim_id")
    payer_id = _text(claims, "payer_id")
    payer_table = payers.drop_duplicates("payer_id").set_index("payer_id") if len(payers) else None
    payer_known = payer_id.isin(payer_table.index).to_numpy(dtype=bool) if payer_table is not None \
        else np.zeros(len(claims), dtype=bool)
    payer_class = (payer_id.map(payer_table["payer_class"]) if payer_table is not None
                   else pd.Series(pd.NA, index=claims.index, dtype=object)).astype("string")
    own_class = _text(claims, "payer_class")
    payer_class = own_class.fillna(payer_class) if payer_table is None else payer_class.fillna(own_class)
    self_pay = (payer_class == "self_pay").fillna(False).to_numpy(dtype=bool)
    scrubbed = ~self_pay
    pos = np.arange(len(claims))

    def claim_rule(rule_id: str, mask: np.ndarray | pd.Series,
                   message: Callable[[np.ndarray], pd.Series] | None = None) -> None:
        """The claims of `mask` (self-pay left out) have the rule's finding; `message` words it for them."""
        m = np.asarray(mask, dtype=bool) & scrubbed
        if not m.any():
            return
        msg = _RULE[rule_id].check if message is None else np.asarray(message(m), dtype=object)
        out.add(rule_id, pos[m], msg)

    # claim identity
    dup_id = claim_id.duplicated(keep="first").to_numpy() & claim_id.notna().to_numpy()
    claim_rule("SCR-CLAIM-ID-DUPLICATE", dup_id)

    # required fields
    claim_rule("SCR-REQ-MEMBER", _text(claims, "member_id").isna())
    claim_rule("SCR-REQ-PATIENT-NAME", _text(claims, "patient_name").isna())
    dob = _col(claims, "date_of_birth", "datetime64[us]")
    claim_rule("SCR-REQ-DOB", pd.to_datetime(dob).isna())
    sex = _text(claims, "patient_sex", upper=True)
    claim_rule("SCR-REQ-SEX", ~sex.isin(["F", "M", "U"]).fillna(False))
    address = _text(claims, "patient_address")
    claim_rule("SCR-REQ-ADDRESS", ~address.str.match(ADDRESS_SHAPE).fillna(False))
    dx_text = _text(claims, "diagnosis_codes")
    claim_rule("SCR-REQ-DX", dx_text.str.replace(r"[\s,]", "", regex=True).replace("", pd.NA).isna())
    claim_rule("SCR-REQ-PAYER", ~payer_known)
    if payer_table is not None and "payer_ref" in payer_table.columns:
        ref = payer_id.map(payer_table["payer_ref"].astype("string").str.strip().replace("", pd.NA))
    else:
        ref = pd.Series(pd.NA, index=claims.index, dtype="string")
    claim_rule("SCR-REQ-PAYER-EDI", payer_known & ref.isna().to_numpy())
    npi = (practice_npi or "").strip()
    claim_rule("SCR-REQ-BILLING-NPI", np.full(len(claims), npi == ""))

    line_claim = _text(lines_all, "claim_id")
    unique_ids = claim_id.mask(pd.Series(dup_id)).dropna()
    index = pd.Index(unique_ids.to_numpy(dtype=object))
    lpos = np.full(len(lines_all), -1, dtype=np.int64)
    if len(lines_all):
        found = index.get_indexer(line_claim.fillna("").to_numpy(dtype=object))
        lpos = np.where(found >= 0, unique_ids.index.to_numpy()[np.maximum(found, 0)], -1)
    has_lines = np.zeros(len(claims), dtype=bool)
    has_lines[lpos[lpos >= 0]] = True
    claim_rule("SCR-REQ-LINES", ~has_lines & ~dup_id)
    pos_code = _text(claims, "place_of_service")
    claim_rule("SCR-REQ-POS", pos_code.notna().to_numpy() & ~pos_code.str.fullmatch(r"\d{2}").fillna(False).to_numpy())
    sec_payer = _text(claims, "secondary_payer_id")
    claim_rule("SCR-REQ-SECONDARY-MEMBER", sec_payer.notna().to_numpy() & _text(
        claims, "secondary_member_id").isna().to_numpy())

    # NPIs
    claim_rule("SCR-NPI-BILLING", np.full(len(claims), npi != "" and not npi_is_valid(npi)))
    rendering = _text(claims, "rendering_npi")
    claim_rule("SCR-NPI-RENDERING", rendering.notna().to_numpy() & ~npi_valid(rendering))

    # diagnoses
    service = pd.to_datetime(_col(claims, "service_date", "datetime64[us]"))
    service_day = _days(service)
    pre_icd10 = (service_day < _days(pd.Series([pd.Timestamp(ICD10_EFFECTIVE)]))[0])
    claim_rule("SCR-DX-DATE", pre_icd10 & dx_text.notna().to_numpy())
    dx = _explode(dx_text, ",")
    dx_pos = dx.index.to_numpy()
    dx_item = dx.groupby(level=0).cumcount().to_numpy()
    n_dx = np.bincount(dx_pos, minlength=len(claims)) if len(dx) else np.zeros(len(claims), dtype=np.int64)
    code = dx.str.upper().str.replace(".", "", regex=False)
    codes = icd10cm()
    known = code.isin(codes.index).to_numpy()
    billable = code.isin(codes.index[codes.to_numpy()]).to_numpy(dtype=bool)
    checked = scrubbed[dx_pos] & ~pre_icd10[dx_pos]
    if len(dx):
        shown_dx = _shown("diagnosis_codes", dx)
        m = checked & ~known
        out.add("SCR-DX-VALID", dx_pos[m], ("Diagnosis code " + shown_dx[m]
                                            + " is not an ICD-10-CM code.").to_numpy(), item=dx_item[m])
        m = checked & known & ~billable
        out.add("SCR-DX-BILLABLE", dx_pos[m], ("Diagnosis code " + shown_dx[m] + " is a category header, not a "
                                               "billable ICD-10-CM code: it needs more characters.").to_numpy(),
                item=dx_item[m])
    over = n_dx > MAX_DIAGNOSES
    claim_rule("SCR-DX-COUNT", over, lambda m: "The claim has " + pd.Series(n_dx[m]).astype(str)
               + f" diagnosis codes; an 837P carries at most {MAX_DIAGNOSES}.")

    # charges
    charge = pd.to_numeric(_col(claims, "charge", "Int64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    claim_rule("SCR-CHARGE", ~(charge > 0))

    # dates
    billed_day = _days(pd.to_datetime(_col(claims, "billed_date", "datetime64[us]")))
    as_of_day = float(np.datetime64(as_of, "D").astype(np.int64))
    claim_rule("SCR-DATE-ORDER", service_day > billed_day)
    dob_day = _days(pd.to_datetime(dob))
    claim_rule("SCR-DATE-DOB", dob_day > service_day)

    # lines
    lines = lines_all
    lmask_known = lpos >= 0
    lscrub = lmask_known & (scrubbed[np.maximum(lpos, 0)] if len(lines) else np.zeros(0, dtype=bool))
    line_no = pd.to_numeric(_col(lines, "line_no", "Int64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    line_no_out = np.where(np.isnan(line_no), np.arange(len(lines)) + 1.0, line_no)
    orphan = ~lmask_known
    if orphan.any():  # a line of no claim: reported under its own claim id, which is not in claims
        orphan_ids = line_claim[orphan].fillna("").to_numpy(dtype=object)
        extra = pd.DataFrame({"claim_pos": len(claims) + np.arange(orphan.sum()),
                              "line_no": line_no_out[orphan], "rule_pos": RULE_IDS.index("SCR-LINE-CLAIM"),
                              "item": 0, "rule_id": "SCR-LINE-CLAIM", "severity": "error", "column": "claim_id",
                              "message": _RULE["SCR-LINE-CLAIM"].check, "fix": _RULE["SCR-LINE-CLAIM"].fix,
                              "orphan_id": orphan_ids})
        out.blocks.append(extra)

    def line_rule(rule_id: str, mask: np.ndarray | pd.Series, message: str | pd.Series | np.ndarray | None = None,
                  ) -> None:
        m = np.asarray(mask, dtype=bool) & lscrub
        msg = _RULE[rule_id].check if message is None else np.asarray(message, dtype=object)[m]
        out.add(rule_id, lpos[m], msg, line_no=line_no_out[m])

    proc = _text(lines, "procedure_code", upper=True)
    mods = _text(lines, "modifiers", upper=True)
    units = pd.to_numeric(_col(lines, "units", "float64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lcharge = pd.to_numeric(_col(lines, "charge", "Int64"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lservice = pd.to_datetime(_col(lines, "service_date", "datetime64[us]"))
    lday = _days(lservice)

    # diagnosis pointers
    pointers = _text(lines, "diagnosis_pointers").fillna("1")
    ptr = _explode(pointers, r"[:,\s]+")
    ptr_num = pd.to_numeric(ptr, errors="coerce")
    ptr_line = ptr.index.to_numpy()
    ptr_count = np.bincount(ptr_line, minlength=len(lines)) if len(ptr) else np.zeros(len(lines), dtype=np.int64)
    claim_dx = n_dx[np.maximum(lpos, 0)] if len(lines) else np.zeros(0, dtype=np.int64)
    ptr_bad = ~((ptr_num >= 1) & (ptr_num <= MAX_DIAGNOSES) & (ptr_num % 1 == 0)).fillna(False).to_numpy()
    ptr_past = (ptr_num.to_numpy(dtype=float, na_value=np.nan) > claim_dx[ptr_line]) if len(ptr) else np.zeros(
        0, dtype=bool)
    bad_line = np.zeros(len(lines), dtype=bool)
    past_line = np.zeros(len(lines), dtype=bool)
    bad_line[ptr_line[ptr_bad]] = True
    past_line[ptr_line[~ptr_bad & ptr_past]] = True
    has_dx = claim_dx > 0  # no code at all is SCR-REQ-DX
    ptr_msg = np.where(bad_line, "A diagnosis pointer is not a number from 1 to 12.",
                       np.where(ptr_count > MAX_POINTERS,
                                f"The line has more than {MAX_POINTERS} diagnosis pointers.",
                                "A diagnosis pointer points past the claim's diagnosis codes (the claim has "
                                + pd.Series(claim_dx).astype(str).to_numpy(dtype=object) + ")."))
    line_rule("SCR-DX-POINTER", bad_line | (ptr_count > MAX_POINTERS) | (past_line & has_dx), ptr_msg)

    # procedure and modifiers
    proc_ok = proc.str.match(CPT_HCPCS).fillna(False).to_numpy()
    line_rule("SCR-PROC-FORMAT", ~proc_ok, ("Procedure code " + _shown("procedure_code", proc).fillna("(empty)")
                                            + " is not a CPT or HCPCS code.").to_numpy())
    mod_list = _explode(mods, r"[:,\s]+")
    mod_line = mod_list.index.to_numpy()
    mod_count = np.bincount(mod_line, minlength=len(lines)) if len(mod_list) else np.zeros(len(lines), np.int64)
    mod_shape_bad = np.zeros(len(lines), dtype=bool)
    mod_shape_bad[mod_line[~mod_list.str.fullmatch(r"[0-9A-Z]{2}").fillna(False).to_numpy()]] = True
    line_rule("SCR-MOD-FORMAT", mod_shape_bad | (mod_count > MAX_MODIFIERS))
    pricing = mod_list.isin(PRICING_MODIFIERS).to_numpy()
    order_bad = np.zeros(len(lines), dtype=bool)
    if len(mod_list):
        seq = mod_list.groupby(level=0).cumcount().to_numpy()
        first_info = pd.Series(np.where(~pricing, seq, 99)).groupby(mod_line).min()
        last_pricing = pd.Series(np.where(pricing, seq, -1)).groupby(mod_line).max()
        wrong = (first_info < last_pricing)
        order_bad[wrong.index[wrong.to_numpy()].to_numpy()] = True
    line_rule("SCR-MOD-ORDER", order_bad & ~mod_shape_bad)
    line_rule("SCR-UNITS", ~(units > 0))
    line_rule("SCR-LINE-CHARGE", ~(lcharge > 0))
    key = pd.DataFrame({"c": lpos, "p": proc.fillna(""), "m": mods.fillna("").str.replace(r"[,\s]+", ":", regex=True),
                        "d": np.nan_to_num(lday, nan=-1e9)})
    line_rule("SCR-LINE-DUPLICATE", key.duplicated(keep="first").to_numpy() & lmask_known)
    claim_first = service_day[np.maximum(lpos, 0)] if len(lines) else np.zeros(0)
    line_rule("SCR-DATE-LINE", lday < claim_first)

    # claim charge = sum of line charges; future dates over claim and line dates
    line_sum = np.bincount(lpos[lmask_known], weights=np.nan_to_num(lcharge[lmask_known]), minlength=len(claims))
    sum_bad = has_lines & (charge > 0) & (np.round(line_sum) != charge)
    claim_rule("SCR-CHARGE-SUM", sum_bad, lambda m: (
        "The claim's charge (" + pd.Series(charge[m]).map(_dollars) + ") is not the sum of its line charges ("
        + pd.Series(line_sum[m]).map(_dollars) + ")."))
    latest = service_day.copy()
    if len(lines):
        line_max = pd.Series(lday[lmask_known]).groupby(lpos[lmask_known]).max()
        latest[line_max.index.to_numpy()] = np.fmax(latest[line_max.index.to_numpy()], line_max.to_numpy())
    claim_rule("SCR-DATE-FUTURE", latest > as_of_day)

    # timely filing: from the date of service to the billed date (or today when not billed)
    freq = _text(claims, "frequency_code")
    original = freq.isna().to_numpy() | (freq == "1").fillna(False).to_numpy()
    if payer_table is not None:
        limit = payer_id.map(payer_terms(payers.drop_duplicates("payer_id"))["timely_filing_days"]).astype(
            "Float64").to_numpy(dtype=float, na_value=np.nan)
    else:
        limit = np.full(len(claims), np.nan)
    filed = np.where(np.isnan(billed_day), as_of_day, billed_day)
    left = service_day + limit - filed
    past = original & (left < 0)
    claim_rule("SCR-TIMELY-PAST", past, lambda m: "The payer's timely-filing limit passed " + pd.Series(
        -left[m]).map("{:.0f}".format) + " days before the claim was filed.")
    risk = original & np.isnan(billed_day) & (left >= 0) & (left <= timely_warning_days)
    claim_rule("SCR-TIMELY-RISK", risk, lambda m: "The payer's timely-filing limit ends in " + pd.Series(
        left[m]).map("{:.0f}".format) + " days.")

    # frequency
    claim_rule("SCR-FREQ-CODE", freq.notna().to_numpy() & ~freq.isin(["1", "7", "8"]).fillna(False).to_numpy())
    correction = freq.isin(["7", "8"]).fillna(False).to_numpy()
    claim_rule("SCR-FREQ-ORIGINAL", correction & _text(claims, "original_payer_claim_id").isna().to_numpy())

    # payer rules
    if rules is not None and len(rules) and len(lines):
        _payer_rules(out, rules, claims, payer_id, lines, lpos, lscrub, line_no_out, proc, mod_list, units, lday)

    return _finish(out, claim_id)


def _dollars(cents: float) -> str:
    if np.isnan(cents):
        return "empty"
    return f"${cents / 100:,.2f}"


def _payer_rules(out: _Out, rules: pd.DataFrame, claims: pd.DataFrame, payer_id: pd.Series, lines: pd.DataFrame,
                 lpos: np.ndarray, lscrub: np.ndarray, line_no: np.ndarray, proc: pd.Series, mod_list: pd.Series,
                 units: np.ndarray, lday: np.ndarray) -> None:
    """The practice's payer rules, joined to the lines by procedure code and payer (`*`: every payer)."""
    idx = np.flatnonzero(lscrub)
    base = pd.DataFrame({"li": idx, "procedure_code": proc.to_numpy(dtype=object)[idx],
                         "payer": payer_id.to_numpy(dtype=object)[lpos[idx]]})
    rules = rules.reset_index(drop=True).assign(rule_no=lambda r: np.arange(len(r)))
    joined = base.merge(rules, on="procedure_code", how="inner")
    joined = joined[(joined["payer_id"] == ALL_PAYERS) | (joined["payer_id"] == joined["payer"])]
    if joined.empty:
        return
    shown_code = _shown("procedure_code", joined["procedure_code"])
    note = joined["note"].fillna("").astype(str)
    note = np.where(note != "", " (" + note + ")", "")

    auth = joined[(joined["rule"] == "authorization").to_numpy()].drop_duplicates("li")
    if len(auth):
        lacks = _text(claims, "prior_authorization").isna().to_numpy()[lpos[auth["li"].to_numpy()]]
        a = auth[lacks]
        msg = ("The payer requires a prior authorization for " + shown_code[a.index] + " and the claim has none"
               + pd.Series(note, index=joined.index)[a.index] + ".")
        out.add("SCR-PAYER-AUTH", lpos[a["li"].to_numpy()], msg.to_numpy(), line_no=line_no[a["li"].to_numpy()])

    need = joined[(joined["rule"] == "modifier").to_numpy()]
    if len(need):
        have = pd.DataFrame({"li": mod_list.index.to_numpy(), "modifier": mod_list.to_numpy(dtype=object)})
        have["has"] = True
        m = need.merge(have.drop_duplicates(), on=["li", "modifier"], how="left")
        m.index = need.index
        m = m[m["has"].isna()].sort_values(["li", "rule_no"], kind="stable")
        msg = ("The payer requires modifier " + _shown("modifier", m["modifier"]) + " on "
               + shown_code[m.index] + pd.Series(note, index=joined.index)[m.index] + ".")
        out.add("SCR-PAYER-MODIFIER", lpos[m["li"].to_numpy()], msg.to_numpy(), line_no=line_no[m["li"].to_numpy()],
                item=m["rule_no"].to_numpy())

    freq = joined[(joined["rule"] == "frequency").to_numpy()]
    if len(freq):
        account = _text(claims, "account_id").fillna("").to_numpy(dtype=object)
        f = freq.assign(account=account[lpos[freq["li"].to_numpy()]], day=lday[freq["li"].to_numpy()],
                        units=np.nan_to_num(units[freq["li"].to_numpy()]), claim=lpos[freq["li"].to_numpy()],
                        line=line_no[freq["li"].to_numpy()])
        f = f[~np.isnan(f["day"].to_numpy())]
        # one window per (rule, patient): lines in date order; the units in the `period_days` up to each line
        f = f.sort_values(["rule_no", "account", "day", "claim", "line"], kind="stable")
        group = pd.factorize(pd.MultiIndex.from_frame(f[["rule_no", "account"]]))[0].astype(np.int64)
        span = 1 << 32
        key = group * span + f["day"].to_numpy().astype(np.int64)
        start = np.searchsorted(key, key - f["period_days"].to_numpy().astype(np.int64) + 1, side="left")
        total = np.concatenate([[0.0], np.cumsum(f["units"].to_numpy())])
        in_window = total[np.arange(len(f)) + 1] - total[start]
        over = in_window > f["max_units"].to_numpy()
        o = f[over]
        if o.empty:
            return
        msg = ("The payer allows at most " + o["max_units"].map(lambda u: f"{u:g}") + " unit(s) of "
               + _shown("procedure_code", o["procedure_code"]) + " per patient in " + o["period_days"].map(
                   lambda d: f"{d:g}") + " days; with this line the patient has " + pd.Series(
                   in_window[over], index=o.index).map(lambda u: f"{u:g}") + "."
               + pd.Series(note, index=joined.index)[o.index])
        out.add("SCR-PAYER-FREQUENCY", o["claim"].to_numpy(), msg.to_numpy(), line_no=o["line"].to_numpy(),
                item=o["rule_no"].to_numpy())


def _finish(out: _Out, claim_id: pd.Series) -> pd.DataFrame:
    if not out.blocks:
        return tables.empty("scrub_findings")
    found = pd.concat(out.blocks, ignore_index=True)
    found = found.sort_values(["claim_pos", "line_no", "rule_pos", "item"], kind="stable").reset_index(drop=True)
    ids = claim_id.to_numpy(dtype=object)
    cp = found["claim_pos"].to_numpy()
    inside = cp < len(ids)
    claim_ids = np.empty(len(found), dtype=object)
    claim_ids[inside] = ids[cp[inside]]
    if "orphan_id" in found.columns:
        claim_ids[~inside] = found["orphan_id"].to_numpy(dtype=object)[~inside]
    claim_ids = np.where(pd.isna(claim_ids), "", claim_ids)
    line = found["line_no"].to_numpy()
    line_no = pd.array(np.where(line < 0, 0, line).astype(np.int64), dtype="Int64")
    line_no[line < 0] = pd.NA
    return tables.from_columns("scrub_findings", {
        "claim_id": claim_ids, "line_no": line_no, "rule_id": found["rule_id"].to_numpy(dtype=object),
        "severity": found["severity"].to_numpy(dtype=object), "column": found["column"].to_numpy(dtype=object),
        "message": found["message"].to_numpy(dtype=object), "fix": found["fix"].to_numpy(dtype=object),
    })


def clean_claims(claims: pd.DataFrame, findings: pd.DataFrame, payers: pd.DataFrame | None = None) -> pd.DataFrame:
    """The claims with no error finding (warnings do not hold a claim back), in their order: those the 837P
    export sends. With `payers`, claims of self-pay payers are left out too (they are not scrubbed)."""
    errors = findings.loc[findings["severity"] == "error", "claim_id"]
    keep = ~claims["claim_id"].isin(errors)
    if payers is not None and len(payers):
        cls = claims["payer_id"].map(payers.drop_duplicates("payer_id").set_index("payer_id")["payer_class"])
        keep &= ~(cls == "self_pay").fillna(False)
    return claims[keep.to_numpy(dtype=bool)]


def rules_table() -> pd.DataFrame:
    """Every rule as a table (rule_id, level, severity, column, check, why, fix): docs and the Instructions sheet."""
    return pd.DataFrame([{"rule_id": r.rule_id, "level": r.level, "severity": r.severity, "column": r.column,
                          "check": r.check, "why": r.why, "fix": r.fix} for r in RULES])

