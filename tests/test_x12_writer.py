"""The X12 writer base: segments, trailers with computed counts, control numbers; what it writes
reads back with the reader without a finding."""

from __future__ import annotations

import datetime as dt

import pytest

from xl_ar.x12 import ControlNumbers, Delimiters, Party, TransactionSet, X12Writer, read_document

WHEN = dt.datetime(2026, 11, 2, 9, 5)
CLINIC = Party("CLINIC01")
PAYER = Party("123456789", qualifier="30", application="PAYERAPP")
STATUS = TransactionSet("276", "276 claim status request", ("BHT", "HL", "NM1", "TRN", "REF", "AMT", "DTP"))


def request(w: X12Writer, numbers: ControlNumbers) -> str:
    body = [w.segment("BHT", "0010", "13", "REQ1", "20261102", "0905"),
            w.segment("HL", 1, None, 20, 1),
            w.segment("NM1", "PR", 2, "ACME HEALTH", None, None, None, None, "PI", "12345")]
    st = w.transaction("276", numbers.transaction(), body, convention="005010X212")
    gs = w.group("HR", CLINIC, PAYER, WHEN, numbers.group(), "005010X212", [st])
    return w.interchange(CLINIC, PAYER, WHEN, numbers.interchange(), [gs])


def test_a_segment_drops_trailing_empty_elements_and_joins_composites():
    w = X12Writer()
    assert w.segment("SVC", ("HC", "99213", "25"), 100, "80", None, None) == "SVC*HC:99213:25*100*80~\n"
    assert w.segment("HL", 1, None, 20, 1) == "HL*1**20*1~\n"


def test_a_value_holding_a_delimiter_is_refused_naming_the_element():
    with pytest.raises(ValueError, match=r"NM103 holds the delimiter '\*'"):
        X12Writer().segment("NM1", "PR", 2, "ACME*HEALTH")


def test_trailers_count_what_they_close():
    text = request(X12Writer(), ControlNumbers())
    lines = text.splitlines()
    assert lines[2] == "ST*276*0001*005010X212~"
    assert lines[6] == "SE*5*0001~"  # ST, BHT, HL, NM1, SE
    assert lines[7] == "GE*1*1~" and lines[8] == "IEA*1*000000001~"


def test_the_isa_has_its_fixed_widths():
    isa = request(X12Writer(), ControlNumbers(interchange=42)).splitlines()[0]
    assert len(isa) == 106  # 105 characters and the terminator
    assert isa.split("*")[6] == "CLINIC01       " and isa.split("*")[7] == "30"
    assert isa.split("*")[13] == "000000042" and isa.endswith("*P*:~")


def test_what_it_writes_reads_back_without_a_finding():
    doc = read_document(request(X12Writer(), ControlNumbers()), "out.276", STATUS)
    assert doc.findings.result() == []
    assert doc.envelope.st01 == ("276",) and doc.envelope.convention == ("005010X212",)
    assert doc.texts(doc.rows("NM1"), 3).tolist() == ["ACME HEALTH"]


def test_other_delimiters_read_back_too():
    w = X12Writer(Delimiters(element="|", component="^", segment="\n", repetition="~"), line_break="")
    doc = read_document(request(w, ControlNumbers()), "out.276", STATUS)
    assert doc.findings.result() == []
    assert doc.segs.blocks[0].delimiters == w.delimiters


def test_control_numbers_count_up():
    numbers = ControlNumbers(interchange=7, transaction=9)
    assert [numbers.interchange(), numbers.interchange()] == [7, 8]
    assert [numbers.transaction(), numbers.transaction()] == ["0009", "0010"]
    assert numbers.group() == 1


def test_a_4010_interchange_writes_u_in_isa11():
    isa = X12Writer().interchange(CLINIC, PAYER, WHEN, 1, [], version="00401").split("*")
    assert isa[11] == "U" and isa[12] == "00401"


def test_delimiters_must_differ():
    with pytest.raises(ValueError, match="must differ"):
        X12Writer(Delimiters(element="*", component="*", segment="~"))
