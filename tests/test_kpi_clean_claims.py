"""The clean claim rate (HFMA): claims that pass the edits with no manual intervention / claims scrubbed."""

from __future__ import annotations

import math

import pandas as pd

from xl_ar import kpi


def findings(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["claim_id", "severity"])


def statuses(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame({"claim_id": [r[0] for r in rows], "category_code": [r[1] for r in rows],
                         "status_date": pd.to_datetime([r[2] for r in rows])})


CLAIMS = pd.DataFrame({"claim_id": ["C1", "C2", "C3", "C4"]})


def test_held_by_the_scrubber_and_rejected_on_first_acknowledgement_are_not_clean():
    scrubbed = findings(("C2", "error"), ("C4", "warning"))
    acks = statuses(("C1", "A2", "2026-03-02"), ("C3", "A7", "2026-03-02"), ("C3", "A2", "2026-03-09"))
    rate = kpi.clean_claim_rate(CLAIMS, scrubbed, acks)
    # C2 held (an error), C3 rejected first (accepted only after a correction); C1 and C4 clean: 2 / 4
    assert (rate.claims, rate.held, rate.rejected, rate.clean) == (4, 1, 1, 2)
    assert rate.rate == 0.5


def test_a_warning_does_not_hold_a_claim_and_no_acknowledgement_counts_as_clean():
    rate = kpi.clean_claim_rate(CLAIMS, findings(("C1", "warning")), None)
    assert (rate.held, rate.rejected, rate.rate) == (0, 0, 1.0)  # 4 / 4


def test_a_claim_held_and_rejected_is_counted_once_as_held():
    rate = kpi.clean_claim_rate(CLAIMS, findings(("C1", "error")), statuses(("C1", "A6", "2026-03-02")))
    assert (rate.held, rate.rejected, rate.clean) == (1, 0, 3)


def test_the_first_acknowledgement_decides_even_when_listed_last():
    acks = statuses(("C1", "A2", "2026-03-09"), ("C1", "A3", "2026-03-02"))  # the rejection came first
    assert kpi.clean_claim_rate(CLAIMS, findings(), acks).rejected == 1


def test_no_claims_has_no_rate():
    assert math.isnan(kpi.clean_claim_rate(CLAIMS.iloc[:0], findings(), None).rate)
