"""The synthetic practice's claim acknowledgements: 277CA files (005010X214) from each payer, weekly.

Every insured claim billed by the as-of date is acknowledged the day after it was billed: accepted for
adjudication (A2:20), or, for a share of the claims the payer never adjudicated, rejected (A6 / A7, a
reason the claim carries) so that it never reaches the payer. Another share of those claims is never
acknowledged at all: the specialist finds it as `unacknowledged`. The rest are accepted and then never
answered (`no_response`). Drawn from a random stream of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.money import cents_text
from xl_ar.synth import reference as ref
from xl_ar.synth.books import Books
from xl_ar.synth.practice import DAY, Practice
from xl_ar.synth.remit import Remits
from xl_ar.x12.writer import Party, X12Writer

ACKNOWLEDGEMENT_DAYS = 7
"""A claim billed this many days ago with no acknowledgement is `unacknowledged` (reconcile's rule)."""

REJECTIONS: tuple[tuple[str, str, str], ...] = (
    ("A7", "164", "IL"),  # member id invalid (subscriber)
    ("A7", "158", "QC"),  # date of birth invalid (patient)
    ("A6", "254", ""),  # principal diagnosis missing
    ("A7", "562", "85"),  # billing provider NPI invalid
    ("A3", "400", ""),  # claim totals do not add up
)
"""(category, status, entity) of the rejections the synthetic payers send."""

_WRITER = X12Writer()


@dataclass
class Acks:
    """Which claims got which acknowledgement."""

    claims: pd.DataFrame
    """One row per acknowledged claim: claim_id, payer_id, ack_date, category, status, entity."""
    unacknowledged: np.ndarray
    """Claim ids billed and never acknowledged."""


def build(practice: Practice, books: Books, remits: Remits, seed: int) -> Acks:
    """Decide the acknowledgement of every billed insured claim."""
    rng = np.random.default_rng([seed, 277])
    A = practice.as_of
    ledger = books.ledger
    claims = practice.claims
    insured = (claims.payer_class != "self_pay").to_numpy()
    billed = ledger.billed_date.to_numpy().astype("datetime64[D]")
    ack_date = billed + DAY
    acked = insured & ~np.isnat(billed) & (ack_date <= A)
    # claims the payer never adjudicated (no 835 ever mentions them) that are still open
    answered = ledger.claim_id.isin(set(remits.events.claim_id)).to_numpy()
    never = acked & ~answered & (ledger.balance.to_numpy() > 0)
    idx = np.flatnonzero(never)
    r = rng.random(len(idx))
    if len(idx) >= 3:  # at least one of each, whatever the size
        r[:3] = rng.permutation([0.1, 0.5, 0.9])
    rejected, silent = idx[r < 1 / 3], idx[(r >= 1 / 3) & (r < 2 / 3)]
    take = np.ones(len(claims), dtype=bool)
    take[silent] = False
    rows = np.flatnonzero(acked & take)
    category = np.full(len(claims), "A2", dtype=object)
    status = np.full(len(claims), "20", dtype=object)
    entity = np.full(len(claims), "", dtype=object)
    which = rng.integers(0, len(REJECTIONS), len(rejected))
    category[rejected] = np.array([REJECTIONS[w][0] for w in which], dtype=object)
    status[rejected] = np.array([REJECTIONS[w][1] for w in which], dtype=object)
    entity[rejected] = np.array([REJECTIONS[w][2] for w in which], dtype=object)
    out = pd.DataFrame({
        "claim": rows,
        "claim_id": ledger.claim_id.to_numpy()[rows],
        "payer_id": ledger.payer_id.to_numpy()[rows],
        "ack_date": ack_date[rows],
        "billed_date": billed[rows],
        "charge": ledger.charge.to_numpy()[rows],
        "category": category[rows],
        "status": status[rows],
        "entity": entity[rows],
    })
    return Acks(out, ledger.claim_id.to_numpy()[silent])


def truth(practice: Practice, acks: Acks) -> list[dict]:
    """The claims-out exceptions of the acknowledgements: `rejected` and `unacknowledged` (billed at least
    `ACKNOWLEDGEMENT_DAYS` before the as-of date, after the first acknowledgement)."""
    out = [{"kind": "rejected", "claim_id": c, "trace_number": None}
           for c in acks.claims.claim_id[acks.claims.category != "A2"]]
    if len(acks.claims):
        first = acks.claims.ack_date.min()
        billed = practice.claims.set_index("claim_id").billed_date.reindex(acks.unacknowledged).to_numpy()
        due = (billed >= first - DAY) & (billed <= practice.as_of - ACKNOWLEDGEMENT_DAYS * DAY)
        out += [{"kind": "unacknowledged", "claim_id": c, "trace_number": None} for c in acks.unacknowledged[due]]
    return out


def _d8(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).dt.strftime("%Y%m%d").to_numpy(dtype=object)


def files(practice: Practice, acks: Acks) -> Iterator[tuple[str, str]]:
    """One 277CA per payer and week of acknowledgement: (file name, text), control numbers from 1."""
    c = acks.claims
    if c.empty:
        return
    patients = practice.patients.set_index("account_id")
    account = practice.claims.account_id.to_numpy()[c.claim.to_numpy()]
    pat = patients.reindex(account)
    rejected = (c.category != "A2").to_numpy()
    stc = np.where(rejected, c.category + ":" + c.status + np.where(c.entity != "", ":" + c.entity, ""),
                   "A2:20:PR")
    d = _d8(c.ack_date.to_numpy())
    svc = _d8(practice.claims.service_date.to_numpy()[c.claim.to_numpy()])
    amounts = cents_text(c.charge.to_numpy())
    patient_loop = ("NM1*QC*1*" + pat.last_name.to_numpy() + "*" + pat.first_name.to_numpy() + "****MI*"
                    + pat.member_id.to_numpy() + "~\nTRN*2*" + c.claim_id.to_numpy() + "~\nSTC*" + stc + "*" + d
                    + np.where(rejected, "*U*", "*WQ*") + amounts + "~\nDTP*472*D8*" + svc + "~\n")
    week = pd.Series(c.ack_date.to_numpy()).dt.to_period("W-SUN").dt.start_time.to_numpy()
    frame = pd.DataFrame({"payer_id": c.payer_id.to_numpy(), "week": week, "text": patient_loop,
                          "date": c.ack_date.to_numpy(), "charge": c.charge.to_numpy(), "rejected": rejected})
    payers = {p.payer_id: p for p in ref.PAYERS}
    for control, ((payer_id, _week), g) in enumerate(frame.groupby(["payer_id", "week"], sort=True), start=1):
        payer = payers[payer_id]
        produced = pd.Timestamp(g.date.max()).date()
        yield f"{produced:%Y%m%d}_{payer_id}_277CA_{control:05d}.277", _file(payer, g, produced, control)


def _file(payer: ref.SynthPayer, g: pd.DataFrame, produced: dt.date, control: int) -> str:
    w = _WRITER
    ok, bad = g[~g.rejected], g[g.rejected]
    day = f"{produced:%Y%m%d}"
    body = [
        w.segment("BHT", "0085", "08", f"SYN{control:09d}", day, "1200", "TH"),
        w.segment("HL", 1, None, 20, 1),
        w.segment("NM1", "PR", 2, payer.name.upper(), None, None, None, None, "PI", f"SYN{payer.payer_id}"),
        w.segment("TRN", 1, f"{control:09d}"),
        w.segment("DTP", "050", "D8", day),
        w.segment("DTP", "009", "D8", day),
        w.segment("HL", 2, 1, 21, 1),
        w.segment("NM1", "41", 2, ref.PRACTICE["name"].upper().replace("(", "").replace(")", ""), None, None, None,
                  None, "46", ref.PRACTICE["tax_id"]),
        w.segment("TRN", 2, f"B{control:09d}"),
        w.segment("STC", ["A1", "19", "PR"], day, "WQ", cents_text(np.array([g.charge.sum()]))[0]),
        w.segment("QTY", "90", len(ok)) if len(ok) else "",
        w.segment("QTY", "AA", len(bad)) if len(bad) else "",
        w.segment("AMT", "YU", cents_text(np.array([ok.charge.sum()]))[0]) if len(ok) else "",
        w.segment("AMT", "YY", cents_text(np.array([bad.charge.sum()]))[0]) if len(bad) else "",
        w.segment("HL", 3, 2, 19, 1),
        w.segment("NM1", "85", 2, ref.PRACTICE["name"].upper().replace("(", "").replace(")", ""), None, None, None,
                  None, "XX", ref.PRACTICE["npi"]),
        w.segment("TRN", 1, "0"),
        w.segment("STC", ["A1", "19", "PR"], None, "WQ", cents_text(np.array([g.charge.sum()]))[0]),
        w.segment("QTY", "QA", len(ok)) if len(ok) else "",
        w.segment("QTY", "QC", len(bad)) if len(bad) else "",
        w.segment("AMT", "YU", cents_text(np.array([ok.charge.sum()]))[0]) if len(ok) else "",
        w.segment("AMT", "YY", cents_text(np.array([bad.charge.sum()]))[0]) if len(bad) else "",
    ]
    hl = 3 + np.arange(1, len(g) + 1)
    patients = ("HL*" + hl.astype(str) + "*3*PT~\n" + g.text.to_numpy(dtype=object))
    st = w.transaction("277", "0001", "".join(body) + "".join(patients), "005010X214")
    sender, receiver = Party(f"SYN{payer.payer_id}"), Party(ref.PRACTICE["tax_id"])
    when = dt.datetime.combine(produced, dt.time(12, 0))
    group = w.group("HN", sender, receiver, when, control, "005010X214", [st])
    return w.interchange(sender, receiver, when, control, [group])
