"""The front end of the synthetic practice's revenue cycle: what a claim needs to go out on an 837P.

Patients' sex, each claim's place of service and rendering clinician, each line's diagnosis pointers,
and the secondary coverage of patients whose primary leaves a share the secondary pays. Drawn from a
random stream of their own, so the claims, remittances and books of a seed are the same bytes as
before these details existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_ar.practice import npi_check_digit
from xl_ar.synth import reference as ref
from xl_ar.synth.books import Books, standing_events
from xl_ar.synth.practice import Practice
from xl_ar.synth.remit import Remits

PLACES_OF_SERVICE: tuple[tuple[str, float], ...] = (("11", 0.90), ("02", 0.06), ("12", 0.04))
"""CMS place-of-service codes of the practice's visits and their shares: office, telehealth, home."""

SECONDARY_SHARE = 0.3
"""Share of the patients of a payer with secondaries (`ref.SECONDARY_PAYERS`) who hold secondary coverage."""


CLINICIANS: tuple[str, ...] = tuple(b + npi_check_digit(b) for b in ("123456780", "198765430", "155512340"))
"""The rendering clinicians' NPIs (invented, with valid check digits)."""


@dataclass
class FrontEnd:
    """The 837P details of every claim, patient and line."""

    patient_sex: pd.Series
    """Per patient (index account_id): F or M."""
    place_of_service: np.ndarray
    """Per claim."""
    rendering_npi: np.ndarray
    """Per claim."""
    secondary_payer_id: np.ndarray
    """Per claim: the payer after the primary ('' when none)."""
    secondary_member_id: np.ndarray
    """Per claim."""
    diagnosis_pointers: np.ndarray
    """Per line: `1`, or `1:2` for a later line of a claim with two diagnoses."""
    frequency_code: np.ndarray
    """Per claim: '' (an original), 7 (a replacement being sent) or 8 (a void being sent)."""
    original_payer_claim_id: np.ndarray
    """Per claim: the payer's claim number a replacement or void corrects ('' for an original)."""


CORRECTED_SHARE = (0.01, 0.003)
"""Shares of the adjudicated claims the practice is correcting (frequency 7) and voiding (8)."""


def _standing(practice: Practice, remits: Remits) -> pd.DataFrame:
    """Each claim's adjudication by its own payer that stands: the latest loop that is neither a reversal nor
    an original a reversal cancels."""
    ev = remits.events[remits.events.kind != "foreign"]
    primary = practice.claims.set_index("claim_id").payer_id
    return standing_events(ev[ev.payer_id.to_numpy() == primary.reindex(ev.claim_id).to_numpy()])


def build(practice: Practice, remits: Remits, seed: int) -> FrontEnd:
    """Draw the front-end details of a generated practice (its own random stream)."""
    rng = np.random.default_rng([seed, 14])
    patients, claims, lines = practice.patients, practice.claims, practice.lines
    sex = pd.Series(np.where(rng.random(len(patients)) < 0.52, "F", "M"), index=patients.account_id.to_numpy())
    codes, shares = zip(*PLACES_OF_SERVICE, strict=True)
    pos = rng.choice(np.array(codes, dtype=object), size=len(claims), p=np.array(shares) / sum(shares))
    rendering = rng.choice(np.array(CLINICIANS, dtype=object), size=len(claims))

    # patient-level secondary coverage behind the payers that have secondaries; a claim the primary
    # forwarded (a crossover) keeps the secondary it was forwarded to
    has_secondary = np.zeros(len(patients), dtype=bool)
    secondary_of = np.full(len(patients), "", dtype=object)
    member_of = np.full(len(patients), "", dtype=object)
    for primary, choices in ref.SECONDARY_PAYERS.items():
        m = (patients.payer_id.to_numpy() == primary) & (rng.random(len(patients)) < SECONDARY_SHARE)
        has_secondary |= m
        secondary_of[m] = rng.choice(np.array(choices, dtype=object), size=int(m.sum()))
        member_of[m] = [f"S{n:011d}" for n in rng.integers(10**9, 10**11, int(m.sum()))]
    pat = claims.patient.to_numpy()
    forwarded = claims.secondary_payer_id.to_numpy() != ""
    secondary = np.where(forwarded, claims.secondary_payer_id.to_numpy(), secondary_of[pat])
    secondary_member = np.where(forwarded, claims.secondary_member_id.to_numpy(), member_of[pat])

    two_dx = claims.diagnosis_codes.str.contains(",").to_numpy()[lines.claim.to_numpy()]
    later = lines.line_no.to_numpy() > 1
    pointers = np.where(two_dx & later & (rng.random(len(lines)) < 0.5), "1:2", "1").astype(object)

    # corrections and voids the practice is sending for claims the payer adjudicated (CLP07 is the number)
    standing = _standing(practice, remits)
    standing = standing[standing.payer_claim_id.astype(str).str.len() > 0]
    row = pd.Series(np.arange(len(claims)), index=claims.claim_id.to_numpy()).reindex(standing.claim_id).to_numpy()
    r = rng.random(len(row))
    frequency = np.full(len(claims), "", dtype=object)
    original = np.full(len(claims), "", dtype=object)
    frequency[row[r < CORRECTED_SHARE[0]]] = "7"
    frequency[row[(r >= CORRECTED_SHARE[0]) & (r < sum(CORRECTED_SHARE))]] = "8"
    corrected = row[r < sum(CORRECTED_SHARE)]
    original[corrected] = standing.payer_claim_id.to_numpy()[r < sum(CORRECTED_SHARE)]
    return FrontEnd(sex, pos, rendering, secondary, secondary_member, pointers, frequency, original)


def secondary_truth(practice: Practice, remits: Remits, books: Books, front: FrontEnd) -> list[dict]:
    """`secondary_ready`: claims with secondary coverage whose primary's adjudication that stands was processed
    as primary (CLP02 1, not forwarded) with a patient share, still open, and no 835 from the secondary."""
    claims = practice.claims
    secondary = pd.Series(front.secondary_payer_id, index=claims.claim_id.to_numpy())
    ev = remits.events[remits.events.kind != "foreign"]
    answered = set(ev.claim_id[ev.payer_id.to_numpy() == secondary.reindex(ev.claim_id).to_numpy()])
    standing = _standing(practice, remits)
    balance = books.ledger.set_index("claim_id").balance
    ready = standing[(standing.status == "1").to_numpy() & (standing.patient_resp > 0).to_numpy()
                     & (secondary.reindex(standing.claim_id).to_numpy() != "")
                     & (balance.reindex(standing.claim_id).to_numpy() > 0)
                     & ~standing.claim_id.isin(answered).to_numpy()]
    return [{"kind": "secondary_ready", "claim_id": c, "trace_number": None} for c in ready.claim_id]
