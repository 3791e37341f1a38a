"""Pathological 835s (issue 13, defect 5): linear time and bounded memory whatever the input.

Each test builds a small hostile file and checks the property that failed before: no header parse
per `~ISA*`, no list of every `:` in a long element, no row per empty segment, no Python loop over
leading blanks. `benchmarks/bench_hostile.py` measures the same inputs at 100 MB.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._table import peak_mb
from xl_ar.x12 import envelope, read_835, tokens

HEAD = ("ISA*00*          *00*          *ZZ*PAYERID        *ZZ*PROVIDERID     *240120*1200*^*00501*"
        "000000001*0*P*:~GS*HP*PAYERID*PROVIDERID*20240120*1200*1*X*005010X221A1~ST*835*0001~")
TAIL = "~SE*3*0001~GE*1*1~IEA*1*000000001~"


def test_repeated_isa_fragments_are_not_parsed_one_by_one(monkeypatch):
    calls = {"isa": 0, "on_isa": 0}
    real_isa, real_on = tokens.isa_delimiters, envelope._Check.on_isa

    def counting_isa(*args):
        calls["isa"] += 1
        return real_isa(*args)

    def counting_on(self, *args):
        calls["on_isa"] += 1
        return real_on(self, *args)

    monkeypatch.setattr(tokens, "isa_delimiters", counting_isa)
    monkeypatch.setattr(envelope._Check, "on_isa", counting_on)
    rem = read_835(HEAD + "~ISA*" * 20_000, "x.835")
    # 20,000 fragments: the first ISA is read once by find_blocks, none of the fragments passes the screen
    assert calls == {"isa": 1, "on_isa": 1}
    assert any("fewer than 16 elements" in f.message for f in rem.findings)


def test_a_real_second_isa_is_still_found_after_the_screen():
    second = HEAD.replace("*", "|").replace("P|:", "P|>")  # another interchange, other delimiters
    segs = tokens.tokenize(HEAD + TAIL + second + TAIL.replace("*", "|"), "x.835")
    assert [b.delimiters.element for b in segs.blocks] == ["*", "|"]


def test_components_of_a_long_element_do_not_list_every_separator():
    raw = b"HC" + b":" * 2_000_000
    buf = np.frombuffer(raw, dtype=np.uint8)
    a, b = np.array([0]), np.array([len(raw)])
    peak = peak_mb(lambda: tokens.components(buf, raw, a, b, ord(":"), 6))
    _starts, ends = tokens.components(buf, raw, a, b, ord(":"), 6)
    assert ends[0].tolist() == [2, 3, 4, 5, 6, 7]  # "HC" then five empty components, each ending at the next ':'
    assert peak < 5  # a list of 2 million positions would be tens of MB


def test_a_file_of_empty_segments_keeps_no_row_per_terminator():
    data = (HEAD + "~" * 8_000_000 + TAIL).encode()
    peak = peak_mb(lambda: tokens.tokenize(data, "x.835"))
    assert len(tokens.tokenize(data, "x.835")) == 6  # ISA GS ST SE GE IEA: the 8 million empty ones are dropped
    assert peak < 120  # 8 million rows of positions were about 300 MB


def test_segments_with_long_blank_runs_are_trimmed():
    data = HEAD + "".join(f"~{' ' * 100}LX*{i}{' ' * 100}" for i in range(200)) + TAIL
    segs = tokens.tokenize(data, "x.835")
    lx = [segs.segment_text(i) for i in range(len(segs)) if segs.segment_text(i).startswith("LX")]
    assert lx[:2] == ["LX*0", "LX*1"] and len(lx) == 200


def test_leading_blanks_are_skipped_in_linear_time():
    data = b" " * 10_000_000 + (HEAD + TAIL).encode()
    start = time.perf_counter()
    segs = tokens.tokenize(data, "x.835")
    assert time.perf_counter() - start < 0.6  # a byte-by-byte Python loop took 1.4 s here; a regex, 0.05 s
    assert segs.segment_id(0) == "ISA"


def test_millions_of_bad_segments_are_counted_without_a_list_of_all_of_them():
    from xl_ar.findings import Collector, Location
    mask = np.ones(10_000_000, dtype=bool)
    collector = Collector("x.835")
    peak = peak_mb(lambda: collector.add_mask("envelope", "error", mask, lambda r: Location(segment=r + 1), "bad"))
    # the rows as int64 would be 10 million * 8 bytes = 76 MB; the first 64K rows are 0.5 MB
    assert peak < 5
    assert f"{10_000_000 - collector.limit} more findings" in collector.result()[-1].message


def test_loop_membership_of_a_file_of_tiny_segments_keeps_small_temporaries():
    from xl_ar.x12.era import REMITTANCE, _loops
    from xl_ar.x12.reader import read_document
    head = ("ISA*00*          *00*          *ZZ*P              *ZZ*R              *240120*1200*^*00501*"
            "000000001*0*P*:~GS*HP*P*R*20240120*1200*1*X*005010X221A1~ST*835*0001~")
    doc = read_document((head + "~ISA*" * 6_000_000).encode(), "x.835", REMITTANCE)
    peak = peak_mb(lambda: _loops(doc))
    # kept: in_claim (1 byte), claim_of and line_of (4 bytes each) per row: 6 million * 9 bytes = 51 MB;
    # the temporaries of a 1-million-row slice add about 30 MB. Whole-file temporaries were 24 bytes a row (137 MB).
    assert peak < 100


def test_a_huge_procedure_composite_is_never_split_into_a_list():
    data = (HEAD + "LX*1~CLP*A*1*1*1**12~SVC*HC" + ":" * 5_000_000 + "*1*1" + TAIL).encode()
    peak = peak_mb(lambda: read_835(data, "x.835"))
    # split as text, 5 million empty components would be a 40 MB list (plus a 5 MB copy of the text)
    assert peak < 15
