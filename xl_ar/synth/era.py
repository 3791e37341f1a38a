"""Write the synthetic remittances as X12 5010 835 files (005010X221A1).

Segments are assembled column-wise (one string operation per segment type over all lines), so a
million claims turn into text in seconds. Every file has one ISA / GS / ST envelope; the counts
(SE01, GE01, IEA01) and control numbers are exact and every amount balances at line, claim and
payment level by construction (checked by the reader and pyx12 in the tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.synth import reference as ref
from xl_ar.synth.practice import Practice
from xl_ar.synth.remit import Remits
from xl_ar.x12.writer import Party, X12Writer

_FRACTIONS = np.array([""] + [f".{i:02d}".rstrip("0") for i in range(1, 100)], dtype=object)


def amounts(cents: np.ndarray) -> np.ndarray:
    """X12 R amounts of integer cents (`1250` -> `'12.5'`, `-7` -> `'-0.07'`), vectorised."""
    c = np.asarray(cents, dtype=np.int64)
    a = np.abs(c)
    whole = (a // 100).astype(str).astype(object)
    return np.where(c < 0, "-", "").astype(object) + whole + _FRACTIONS[a % 100]


def _dates(values: np.ndarray) -> np.ndarray:
    """CCYYMMDD of datetime64 values, formatting each distinct date once."""
    days = np.asarray(values, dtype="datetime64[D]")
    uniq, inverse = np.unique(days, return_inverse=True)
    text = np.array([str(d).replace("-", "") for d in uniq], dtype=object)
    return text[inverse]


def _join(parts: list[np.ndarray], sep: str = "**") -> np.ndarray:
    """Join non-empty strings of several columns with `sep` (CAS triplets)."""
    acc = parts[0]
    for p in parts[1:]:
        both = (acc != "") & (p != "")
        acc = np.where(both, acc + sep + p, acc + p)
    return acc


def _triplet(code: str | np.ndarray, cents: np.ndarray) -> np.ndarray:
    return np.where(cents != 0, code + ("*" + amounts(cents)), "").astype(object)


@dataclass(frozen=True)
class EraFile:
    """One 835 file: its name, bytes and the payment it carries."""

    name: str
    text: str
    payment: int
    control_number: int


def _line_blocks(lines: pd.DataFrame, payers: pd.DataFrame) -> np.ndarray:
    charge = lines.charge.to_numpy()
    denied = lines.denied.to_numpy().astype(bool)
    payer = payers.reindex(lines.payer_id.to_numpy())
    reorder = payer.reorders_modifiers.fillna(False).to_numpy().astype(bool)
    mods = lines.modifiers.to_numpy().astype(object)
    # a payer that reorders two modifiers and drops a single informational one
    two = np.char.count(mods.astype(str), ":") == 1
    swapped = np.array([":".join(m.split(":")[::-1]) for m in mods[reorder & two]], dtype=object)
    mods_sent = mods.copy()
    mods_sent[reorder & two] = swapped
    drop = reorder & ~two & np.isin(mods, ["25", "GP"])
    mods_sent[drop] = ""
    svc01 = "HC:" + lines.code.to_numpy().astype(object) + np.where(mods_sent != "", ":", "") + mods_sent
    units = lines.units.to_numpy().astype(int).astype(str).astype(object)
    svc = "SVC*" + svc01 + "*" + amounts(charge) + "*" + amounts(lines.paid.to_numpy()) + "**" + units + "~\n"
    dtm = "DTM*472*" + _dates(lines.service_date.to_numpy()) + "~\n"
    group = lines.denial_group.to_numpy().astype(object)
    carc = lines.denial_carc.to_numpy().astype(object)
    reduction = lines.mpr_reduction.to_numpy()
    co = _join([_triplet("45", lines.contractual.to_numpy() - reduction), _triplet("59", reduction),
                _triplet("253", lines.sequestration.to_numpy())])
    co = np.where(denied & (group == "CO"), carc + "*" + amounts(charge), co)
    oa = np.where(denied & (group == "OA"), carc + "*" + amounts(charge), _triplet("23", lines.prior_payer.to_numpy()))
    pr = _join([_triplet("1", lines.deductible.to_numpy()), _triplet("3", lines.copay.to_numpy()),
                _triplet("2", lines.coinsurance.to_numpy())])
    cas = (np.where(co != "", "CAS*CO*" + co + "~\n", "") + np.where(pr != "", "CAS*PR*" + pr + "~\n", "")
           + np.where(oa != "", "CAS*OA*" + oa + "~\n", ""))
    echoes = payer.echoes_line_control.fillna(True).to_numpy().astype(bool)
    control = lines.line_control.fillna("").to_numpy().astype(object)
    ref6r = np.where(echoes & (control != ""), "REF*6R*" + control + "~\n", "")
    amt = np.where(~denied, "AMT*B6*" + amounts(lines.allowed.to_numpy()) + "~\n", "")
    rarc = lines.denial_rarc.to_numpy().astype(object)
    lq = np.where(rarc != "", "LQ*HE*" + rarc + "~\n", "")
    return svc + dtm + cas + ref6r + amt + lq


def _claim_heads(events: pd.DataFrame, practice: Practice) -> np.ndarray:
    claims = practice.claims
    patients = practice.patients
    idx = events.claim.to_numpy()
    known = idx >= 0
    pat = np.where(known, claims.patient.to_numpy()[np.clip(idx, 0, None)], 0)
    last = np.where(known, patients.last_name.to_numpy()[pat], "DOE").astype(object)
    first = np.where(known, patients.first_name.to_numpy()[pat], "JORDAN").astype(object)
    member = np.where(known, patients.member_id.to_numpy()[pat], "ZZZ000000000").astype(object)
    secondary = (events.kind == "secondary").to_numpy()
    member[secondary] = claims.secondary_member_id.to_numpy()[idx[secondary]]
    fi = practice.payers.set_index("payer_id").filing_indicator.reindex(events.payer_id).to_numpy().astype(object)
    clp = ("CLP*" + events.claim_id.to_numpy().astype(object) + "*" + events.status.to_numpy().astype(object)
           + "*" + amounts(events.charge.to_numpy()) + "*" + amounts(events.paid.to_numpy())
           + "*" + amounts(events.patient_resp.to_numpy()) + "*" + fi
           + "*" + events.payer_claim_id.to_numpy().astype(object) + "*11*1~\n")
    nm1 = "NM1*QC*1*" + np.char.upper(last.astype(str)).astype(object) + "*" + np.char.upper(
        first.astype(str)).astype(object) + "****MI*" + member + "~\n"
    return clp + nm1


def _header(payment: pd.Series, payer: ref.SynthPayer, produced: dt.date) -> str:
    npi = ref.PRACTICE["npi"]
    street, city, state, zipc = ref.PRACTICE["address"]
    amount = amounts(np.array([payment.amount]))[0]
    paid_on = str(payment.pay_date.date()).replace("-", "") if hasattr(payment.pay_date, "date") else str(
        payment.pay_date)[:10].replace("-", "")
    if payment.method == "ACH":
        bpr = (f"BPR*I*{amount}*C*ACH*CCP*01*123456780*DA*{payer.tin[-6:]}001*{payer.tin}**01*987654320*DA*"
               f"55500{npi[-4:]}*{paid_on}~\n")
    elif payment.method == "CHK":
        bpr = f"BPR*C*{amount}*C*CHK************{paid_on}~\n"
    else:
        bpr = f"BPR*H*{amount}*C*NON************{paid_on}~\n"
    return (
        bpr
        + f"TRN*1*{payment.trace}*{payer.tin}~\n"
        + f"DTM*405*{produced:%Y%m%d}~\n"
        + f"N1*PR*{payer.name.upper()}~\n"
        + "N3*PO BOX 4000~\n"
        + "N4*COLUMBUS*OH*43216~\n"
        + f"REF*2U*SYN{payer.payer_id}~\n"
        + "PER*BL*EDI SUPPORT*TE*8005550100~\n"
        + f"N1*PE*{ref.PRACTICE['name'].upper().replace(' (SYNTHETIC)', '')}*XX*{npi}~\n"
        + f"N3*{street.upper()}~\n"
        + f"N4*{city.upper()}*{state}*{zipc}~\n"
        + f"REF*TJ*{ref.PRACTICE['tax_id']}~\n"
        + "LX*1~\n"
    )


def _plb(plb: pd.DataFrame, fiscal_year_end: str) -> str:
    """PLB segments of one payment: up to six reason/amount pairs per segment."""
    pairs = [f"{r}:{ref_}*{amounts(np.array([a]))[0]}" for r, ref_, a in zip(plb.reason, plb.reference, plb.amount,
                                                                           strict=True)]
    segs = []
    for i in range(0, len(pairs), 6):
        segs.append(f"PLB*{ref.PRACTICE['npi']}*{fiscal_year_end}*" + "*".join(pairs[i:i + 6]) + "~\n")
    return "".join(segs)


_WRITER = X12Writer()
"""The synthetic payers write `*`, `:`, `~` and `^`, one segment per line."""


def envelope(st_text: str, sender: str, control: int, produced: dt.date) -> str:
    """Wrap one ST..SE transaction in ISA / GS (interchange and group control number `control`)."""
    payer, practice = Party(sender), Party(ref.PRACTICE["tax_id"])
    when = dt.datetime.combine(produced, dt.time(12, 0))
    group = _WRITER.group("HP", payer, practice, when, control, "005010X221A1", [st_text])
    return _WRITER.interchange(payer, practice, when, control, [group])


def files(practice: Practice, remits: Remits, chunk_events: int = 50_000) -> Iterator[EraFile]:
    """The 835 file of every payment, in payment order (control numbers from 1).

    Text is built for a chunk of payments at a time, so memory stays bounded for any size.
    """
    events = remits.events.reset_index(drop=True)
    events["order"] = np.arange(len(events))
    lines = remits.lines.merge(events[["event", "order"]], on="event").sort_values(
        ["order", "line_no"], kind="stable", ignore_index=True)
    payers = practice.payers.set_index("payer_id")
    line_end = np.searchsorted(lines.order.to_numpy(), np.arange(len(events)), side="right")
    line_start = np.concatenate([[0], line_end[:-1]]).astype(int)
    ev_end = np.searchsorted(events.payment.to_numpy(), remits.payments.payment.to_numpy(), side="right")
    ev_start = np.concatenate([[0], ev_end[:-1]]).astype(int) if len(ev_end) else ev_end
    plb_by_payment = {k: g for k, g in remits.plb.groupby("payment")}
    synth_payers = {p.payer_id: p for p in ref.PAYERS}
    n_pay = len(remits.payments)
    k = 0
    while k < n_pay:
        k_end = k + 1
        while k_end < n_pay and ev_end[k_end] - ev_start[k] <= chunk_events:
            k_end += 1
        e0, e1 = ev_start[k], ev_end[k_end - 1]
        l0, l1 = (line_start[e0], line_end[e1 - 1]) if e1 > e0 else (0, 0)
        blocks = _line_blocks(lines.iloc[l0:l1], payers)
        heads = _claim_heads(events.iloc[e0:e1], practice)
        claim_text = [heads[i - e0] + "".join(blocks[line_start[i] - l0:line_end[i] - l0]) for i in range(e0, e1)]
        for j in range(k, k_end):
            payment = remits.payments.iloc[j]
            payer = synth_payers[payment.payer_id]
            produced = pd.Timestamp(payment.pay_date).date() - dt.timedelta(days=1)
            body = _header(payment, payer, produced) + "".join(claim_text[ev_start[j] - e0:ev_end[j] - e0])
            if payment.payment in plb_by_payment:
                body += _plb(plb_by_payment[payment.payment], f"{produced.year}1231")
            st = _WRITER.transaction("835", "0001", body)
            control = j + 1
            name = f"{produced:%Y%m%d}_{payer.payer_id}_{payment.trace or f'NOTRACE{control:05d}'}.835"
            yield EraFile(name, envelope(st, f"SYN{payer.payer_id}", control, produced), int(payment.payment),
                          control)
        k = k_end


def resend(original: EraFile, control: int, days_later: int) -> EraFile:
    """The same payment sent again by the payer in a new envelope (a duplicate ERA)."""
    lines = original.text.split("~\n")
    isa = lines[0]
    produced_text = isa.split("*")[9]
    produced = dt.datetime.strptime(produced_text, "%y%m%d").date() + dt.timedelta(days=days_later)
    sender = isa.split("*")[6].strip()
    st_start = original.text.index("ST*835*")
    st_end = original.text.index("GE*")
    st_text = original.text[st_start:st_end]
    name = original.name.replace(".835", f"_resent{control}.835")
    return EraFile(name, envelope(st_text, sender, control, produced), original.payment, control)
