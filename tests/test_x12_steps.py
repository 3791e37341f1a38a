"""The 835 mapper's steps: any order that respects their inputs gives the same tables and findings;
an order that does not is refused; no step can change what another one computed."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CORPUS
from tests.test_x12_era import CLAIM, HEADER, envelope
from xl_ar.tables import from_columns
from xl_ar.x12 import era
from xl_ar.x12.reader import read_document

SAMPLES = [
    "azoner__pyx12/835_simple.txt",  # 4010, reversal, PLB, does not balance
    "LinuxForHealth__x12/medicare-part-a.835",  # MIA/MOA, composite PLB, no service lines
    "affect-therapeutics__edi-835-parser/sample_835_with_interests.txt",  # 2 ST, LQ, interest PLB, bad SE counts
    "jaymd96__pyedi/835-all-fields.dat",  # 6 CAS triplets, SVC06
    "imsweb__x12-parser/x12_segments_out_of_order.txt",  # not an 835: every finding of the envelope kind
]
# A claim without DTM*232 whose service line has DTM*472: the claim's date comes from its line.
NO_CLAIM_DATE = [s for s in CLAIM if not s.startswith("DTM*232")]


def orders(seed: int, count: int) -> list[list[str]]:
    """`count` random orders of the steps in which every step comes after the steps it takes."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        done: list[str] = []
        while len(done) < len(era.STEPS):
            ready = [s for s, (_, needs) in era.STEPS.items() if s not in done and all(n in done for n in needs)]
            done.append(rng.choice(ready))
        out.append(done)
    return out


def mapped(data: bytes | str, order: list[str] | None) -> tuple[dict[str, pd.DataFrame], list, dict]:
    doc = read_document(data, "f.835", era.REMITTANCE)
    columns = era.map_835(doc, order)
    tables = {name: from_columns(name, cols) for name, cols in columns.tables.items()}
    return tables, doc.findings.result(), columns.decimals


def assert_same(a, b) -> None:
    for name in a[0]:
        pd.testing.assert_frame_equal(a[0][name], b[0][name], obj=name)
    assert a[1] == b[1]
    for key in a[2]:
        np.testing.assert_array_equal(a[2][key], b[2][key])


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_valid_step_order_gives_the_same_tables_and_findings(sample):
    data = (CORPUS / sample).read_bytes()
    first = mapped(data, None)
    for order in orders(seed=len(sample), count=12):
        assert_same(first, mapped(data, order))


def test_the_claim_date_falls_back_to_its_first_line_whatever_the_order():
    text = envelope(HEADER + NO_CLAIM_DATE)
    for order in [None, *orders(seed=3, count=12)]:
        claims = mapped(text, order)[0]["claim_payments"]
        assert claims.service_date.tolist() == [pd.Timestamp("2024-01-02")]  # DTM*472 of its only line


def test_the_reverse_order_is_refused_naming_what_is_missing():
    doc = read_document(envelope(HEADER + CLAIM), "f.835", era.REMITTANCE)
    with pytest.raises(ValueError, match="step 'tables' needs 'payments', 'claims'"):
        era.run_steps(doc, list(reversed(era.STEPS)))


def test_each_step_runs_exactly_once():
    doc = read_document(envelope(HEADER + CLAIM), "f.835", era.REMITTANCE)
    with pytest.raises(ValueError, match="each once"):
        era.run_steps(doc, [*era.STEPS, "claims"])


def test_a_step_cannot_change_what_another_step_computed(monkeypatch):
    function, needs = era.STEPS["claims"]

    def meddling(doc, loops):
        loops.claim_of[:] = 0  # would silently move every segment into the first claim
        return function(doc, loops)

    monkeypatch.setitem(era.STEPS, "claims", (meddling, needs))
    doc = read_document(envelope(HEADER + CLAIM), "f.835", era.REMITTANCE)
    with pytest.raises(ValueError, match="read-only"):
        era.run_steps(doc)


def test_results_are_writable_again_once_the_steps_have_run():
    doc = read_document(envelope(HEADER + CLAIM), "f.835", era.REMITTANCE)
    results = era.run_steps(doc)
    assert results["loops"].claim_of.flags.writeable
    assert results["tables"].tables["claim_payments"]["charge"].flags.writeable
