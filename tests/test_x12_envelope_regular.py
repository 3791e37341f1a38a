"""The column-wise reading of a complete, correct envelope (`envelope._regular`) gives exactly what the
segment-by-segment walk gives: transactions, identifiers, control numbers and conventions."""

from __future__ import annotations

import numpy as np
import pytest

from xl_ar.findings import Collector
from xl_ar.x12 import envelope
from xl_ar.x12.tokens import tokenize

ISA = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240120*1200*^*00501*"
       "{n:09d}*0*P*:~")


def interchange(n: int, gs08: str, sets: list[tuple[str, str]]) -> str:
    """One ISA..IEA with one group (GS08 `gs08`) of transactions given as (ST01, ST03)."""
    body = ""
    for k, (st01, st03) in enumerate(sets, start=1):
        st = f"ST*{st01}*{n}{k:03d}" + (f"*{st03}" if st03 else "")
        body += f"{st}~BHT*0019~SE*3*{n}{k:03d}~"
    return ISA.format(n=n) + f"GS*HP*S*R*20240120*1200*{n}*X*{gs08}~{body}GE*{len(sets)}*{n}~IEA*1*{n:09d}~"


def both(text: str) -> tuple[envelope.Envelope, envelope.Envelope | None]:
    """The walked envelope and the column-wise one (None when it declines) of a file."""
    segs = tokenize(text, "t.x12")
    rows = np.flatnonzero((segs.code >= 1) & (segs.code <= 6))
    fast = envelope._regular(segs, rows)
    walked = envelope._Check(segs, Collector("t.x12"))
    handlers = {1: walked.on_isa, 2: walked.on_gs, 3: walked.on_st, 4: walked.on_se, 5: walked.on_ge, 6: walked.on_iea}
    for r, c in zip(rows.tolist(), segs.code[rows].tolist(), strict=True):
        handlers[c](r, segs.elements(r))
    return walked.at_end(len(segs)), fast


def same(a: envelope.Envelope, b: envelope.Envelope) -> bool:
    return (np.array_equal(a.st_row, b.st_row) and np.array_equal(a.end_row, b.end_row) and a.st01 == b.st01
            and a.st02 == b.st02 and a.convention == b.convention)


@pytest.mark.parametrize("sets", [
    [("835", ""), ("835", "")],  # no ST03: every transaction takes its group's GS08
    [("835", "005010X221A1"), ("835", "005010X221A1")],  # ST03 everywhere
    [("835", "004010X091A1"), ("835", "")],  # ST03 on some transactions only
])
def test_the_column_wise_envelope_equals_the_walked_one(sets):
    text = interchange(1, "005010X221A1", sets) + interchange(2, "004010X091A1", sets)
    walked, fast = both(text)
    assert fast is not None and same(walked, fast)


def test_a_repeated_st01_is_read_once_and_a_mixed_one_value_by_value():
    # 835 in every transaction, then 835 and 837 mixed: both read as written, transaction by transaction
    uniform = interchange(1, "005010X221A1", [("835", "")] * 3)
    mixed = interchange(1, "005010X221A1", [("835", ""), ("837", ""), ("835", "")])
    for text, st01 in ((uniform, ("835", "835", "835")), (mixed, ("835", "837", "835"))):
        walked, fast = both(text)
        assert fast is not None and fast.st01 == st01 and same(walked, fast)


def test_conventions_follow_each_group_when_st03_is_absent():
    # interchange 1 is 5010, interchange 2 is 4010: each transaction takes the GS08 of its own group
    text = interchange(1, "005010X221A1", [("835", "")]) + interchange(2, "004010X091A1", [("835", "")] * 2)
    _, fast = both(text)
    assert fast is not None and fast.convention == ("005010X221A1", "004010X091A1", "004010X091A1")
