"""A tiny hand-built practice folder for the issue 14 command tests (canonical headers, invented people)."""

from __future__ import annotations

import json
from pathlib import Path

from xl_ar.cli import main

PAYERS = """payer_id,name,payer_class,timely_filing_days,appeal_days,payer_ref
P1,Summit Mutual Health,commercial,180,180,SMH01
P2,Keystone Care,commercial,180,180,KCA02
"""

CLAIM_HEADER = ("claim_id,account_id,payer_id,service_date,billed_date,charge,paid,adjusted,balance,patient_name,"
                "date_of_birth,member_id,patient_address,diagnosis_codes,patient_sex,place_of_service,rendering_npi,"
                "frequency_code,original_payer_claim_id,secondary_payer_id,secondary_member_id")
CLAIMS = [
    # C1: not yet billed, clean
    'C1,A1,P1,2026-09-01,,100.00,0,0,100.00,"DOE, JANE",1980-02-03,M100,"1 Elm St, Springfield, IL, 62701",'
    'J06.9,F,11,,1,,,',
    # C2: not yet billed, its line has 0 units (SCR-UNITS, an error)
    'C2,A2,P1,2026-09-02,,80.00,0,0,80.00,"ROE, RICH",1975-05-06,M200,"2 Oak St, Springfield, IL, 62701",'
    'J06.9,M,11,,1,,,',
    # C3: billed, original: already sent
    'C3,A3,P1,2026-08-01,2026-08-02,50.00,0,0,50.00,"POE, ANNA",1990-07-08,M300,"3 Ash St, Springfield, IL, 62701",'
    'J06.9,F,11,,1,,,',
    # C4: billed, replacement (7) of the payer's claim PCN4: sent again
    'C4,A4,P2,2026-08-03,2026-08-04,60.00,0,0,60.00,"LOE, MARK",1960-09-10,M400,"4 Fir St, Springfield, IL, 62701",'
    'J06.9,M,11,,7,PCN4,,',
]
LINES = """claim_id,line_no,procedure_code,modifiers,units,charge,service_date,diagnosis_pointers
C1,1,99213,,1,100.00,2026-09-01,1
C2,1,99213,,0,80.00,2026-09-02,1
C3,1,99212,,1,50.00,2026-08-01,1
C4,1,99212,,1,60.00,2026-08-03,1
"""
IDENTIFIERS = ("C1", "C2", "C3", "C4", "DOE", "ROE", "POE", "LOE", "M100", "M200", "M300", "M400", "PCN4")
"""Claim ids, names, member ids and payer claim numbers: never in printed output."""

EDI = {"address": "100 Main St", "city": "Springfield", "state": "IL", "zip": "62701", "submitter_id": "TINY01",
       "contact_name": "Billing", "contact_phone": "2175550100", "receiver_name": "Clearing House",
       "receiver_id": "CLEAR01"}


def tiny_practice(folder: Path, edi: bool = True, claims: list[str] | None = None) -> Path:
    """Write the folder: payers, claims C1-C4 and their lines, practice.json (with the 837P keys when `edi`)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "payers.csv").write_text(PAYERS, encoding="utf-8")
    (folder / "claims.csv").write_text("\n".join([CLAIM_HEADER, *(claims or CLAIMS)]) + "\n", encoding="utf-8")
    (folder / "claim_lines.csv").write_text(LINES, encoding="utf-8")
    info = {"name": "Tiny Clinic", "npi": "1234567893", "tax_id": "990000001", "as_of": "2026-09-30"}
    (folder / "practice.json").write_text(json.dumps({**info, **(EDI if edi else {})}), encoding="utf-8")
    return folder


def no_identifiers(text: str) -> bool:
    return not any(i in text for i in IDENTIFIERS)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`xl-ar ARGV`: its exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def segments(path: Path) -> list[list[str]]:
    """The segments of an X12 file written with `*` and `~`, as lists of elements."""
    return [s.strip().split("*") for s in path.read_text().split("~") if s.strip()]
