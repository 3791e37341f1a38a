"""Element ranges of read-only row sets (each row's bounds looked up once, consecutive elements sharing
the separator between them) are exactly the ranges computed element by element."""

from __future__ import annotations

import numpy as np

from xl_ar.x12.tokens import tokenize

# segments with 0 to 5 elements, empty ones in the middle and at the end
TEXT = ("ISA*00*          *00*          *ZZ*S              *ZZ*R              *240120*1200*^*00501*000000001*0*P*:~"
        "GS*HP*S*R*20240120*1200*1*X*005010X221A1~ST*835*0001~BPR~TRN*1~REF*2U**X~N1*PR*ACME**XX*12~"
        "DTM*405*20240118*~SE*7*0001~GE*1*1~IEA*1*000000001~")


def texts(segs, ranges):
    a, b = ranges
    return [segs.raw[x:y].decode() for x, y in zip(a.tolist(), b.tolist(), strict=True)]


def test_read_only_rows_give_the_ranges_of_each_element_asked_alone():
    segs = tokenize(TEXT, "t.835")
    rows = np.arange(len(segs))
    frozen = rows.copy()
    frozen.setflags(write=False)
    together = segs.element_ranges(frozen, (5, 1, 2, 3, 7, 3))  # any order, gaps, a repeat
    for k in (1, 2, 3, 5, 7):
        alone = segs.element_ranges(rows.copy(), (k,))[k]
        assert texts(segs, together[k]) == texts(segs, alone)
        assert np.array_equal(together[k][0], alone[0]) and np.array_equal(together[k][1], alone[1])


def test_elements_of_a_segment_read_in_turn_from_shared_bounds():
    # N1*PR*ACME**XX*12: elements 1..6 are PR, ACME, '', XX, 12 and absent ('' at the segment's end)
    segs = tokenize(TEXT, "t.835")
    n1 = np.array([int(np.flatnonzero(segs.code == 0)[3])])  # BPR, TRN, REF, N1: the fourth unlisted id is N1
    n1.setflags(write=False)
    got = [texts(segs, segs.element(n1, k))[0] for k in range(1, 7)]
    assert got == ["PR", "ACME", "", "XX", "12", ""]
