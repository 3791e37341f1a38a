"""Hand-built 835 files for tests: a few lines of Python per scenario, real X12 text out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Line:
    code: str
    charge: str
    paid: str
    cas: list[tuple[str, str, str]] = field(default_factory=list)  # (group, reason, amount)
    modifiers: str = ""
    units: str = "1"
    control: str | None = None  # REF*6R
    allowed: str | None = None  # AMT*B6
    date: str = "20260801"


@dataclass
class Claim:
    claim_id: str
    status: str
    charge: str
    paid: str
    lines: list[Line] = field(default_factory=list)
    patient_resp: str = "0"
    payer_claim_id: str = "PCN1"
    cas: list[tuple[str, str, str]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # claim-level RARCs (MOA03-07)


def era(trace: str, amount: str, claims: list[Claim], plb: list[tuple[str, str]] = (), payer: str = "ACME HEALTH",
        payer_ref: str = "ACME01", date: str = "20260901", method: str = "ACH", control: int = 1) -> str:
    """One interchange with one 835 payment; PLB pairs are (reason[:reference], amount).

    `trace=""` writes an empty TRN02 (a trace-less payment); `control` is the interchange and group
    control number, so the same payment with another `control` is a re-send in a new interchange.
    """
    bpr = (f"BPR*I*{amount}*C*ACH*CCP*01*123456780*DA*1001*1999999999**01*987654320*DA*2002*{date}"
           if method == "ACH" else f"BPR*C*{amount}*C*CHK************{date}")
    segs = ["ST*835*0001", bpr, f"TRN*1*{trace}*1999999999", f"DTM*405*{date}", f"N1*PR*{payer}",
            "N3*PO BOX 1", "N4*COLUMBUS*OH*43216", f"REF*2U*{payer_ref}", "PER*BL*EDI*TE*8005550100",
            "N1*PE*LAKESIDE FAMILY MEDICINE*XX*1234567893", "LX*1"]
    for c in claims:
        segs.append(f"CLP*{c.claim_id}*{c.status}*{c.charge}*{c.paid}*{c.patient_resp}*12*{c.payer_claim_id}*11*1")
        segs += [f"CAS*{g}*{r}*{a}" for g, r, a in c.cas]
        segs.append("NM1*QC*1*DOE*JORDAN****MI*XYZ123456789")
        if c.remarks:
            segs.append("MOA***" + "*".join(c.remarks))
        for ln in c.lines:
            svc01 = f"HC:{ln.code}" + (f":{ln.modifiers}" if ln.modifiers else "")
            segs.append(f"SVC*{svc01}*{ln.charge}*{ln.paid}**{ln.units}")
            segs.append(f"DTM*472*{ln.date}")
            segs += [f"CAS*{g}*{r}*{a}" for g, r, a in ln.cas]
            if ln.control:
                segs.append(f"REF*6R*{ln.control}")
            if ln.allowed:
                segs.append(f"AMT*B6*{ln.allowed}")
    for reason, value in plb:
        segs.append(f"PLB*1234567893*20261231*{reason}*{value}")
    segs.append(f"SE*{len(segs) + 1}*0001")
    isa = (f"ISA*00*          *00*          *ZZ*{payer_ref:<15}*ZZ*990000001      *{date[2:]}*1200*^*00501*"
           f"{control:09d}*0*P*:")
    return "~\n".join([isa, f"GS*HP*{payer_ref}*990000001*{date}*1200*{control}*X*005010X221A1", *segs,
                       f"GE*1*{control}", f"IEA*1*{control:09d}"]) + "~\n"


def practice_with_eras(folder: Path, payers: str, claims: str, eras: dict[str, str], name: str = "Tiny Clinic",
                       as_of: str = "2026-09-30") -> Path:
    """A practice folder: `payers.csv` and `claims.csv` (CSV text), practice.json, and `era/` holding `eras`
    (file name -> 835 text)."""
    import json

    (folder / "era").mkdir(parents=True)
    (folder / "payers.csv").write_text(payers, encoding="utf-8")
    (folder / "claims.csv").write_text(claims, encoding="utf-8")
    for file, text in eras.items():
        (folder / "era" / file).write_text(text, encoding="utf-8")
    (folder / "practice.json").write_text(json.dumps({"name": name, "as_of": as_of}), encoding="utf-8")
    return folder
