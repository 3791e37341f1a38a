"""Precision and recall of a finder against a synthetic practice's truth.json (claim, line, what was found)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def key(claim_id: str, line_no, what: str) -> tuple:
    """One finding as compared with the truth: claim, line (None for the claim) and rule or problem."""
    return claim_id, None if line_no is None or pd.isna(line_no) else int(line_no), what


def score(found: Iterable[tuple], folder: Path, section: str, what: str) -> tuple[float, float, Counter, Counter]:
    """Precision and recall of `found` (keys) against truth.json's `section` (`what` names the key's third part),
    with the counts per rule or problem in the truth and in what was found."""
    found = set(found)
    truth = {key(e["claim_id"], e["line_no"], e[what])
             for e in json.loads((folder / "truth.json").read_text())[section]}
    hits = len(truth & found)
    return hits / len(found), hits / len(truth), Counter(k[2] for k in truth), Counter(k[2] for k in found)
