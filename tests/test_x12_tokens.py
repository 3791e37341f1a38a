"""The X12 tokenizer: delimiters from the ISA (or a bare ST), segment byte ranges, value parsers."""

from __future__ import annotations

import numpy as np
import pytest

from xl_ar.x12.tokens import (
    Delimiters,
    TokenError,
    components,
    isa_delimiters,
    parse_date,
    parse_decimal,
    split_segments,
    to_cents,
    to_float,
    tokenize,
)

ISA_5010 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*P*:"
ISA_4010 = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*U*00401*000000001*0*P*:"
ISA_UNPADDED = "ISA*00* *00* *ZZ*NVMED *ZZ*99999999*180613*1230*^*00501*100000300*0*P*:"


def _ranges(values: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A buffer holding the values back to back, and each value's byte range."""
    raw = "".join(values).encode("latin-1")
    lengths = np.array([len(v) for v in values], dtype=np.int64)
    b = np.cumsum(lengths)
    return np.frombuffer(raw, dtype=np.uint8), b - lengths, b


# ---- delimiters


def test_isa_5010_gives_element_component_terminator_and_repetition():
    got = isa_delimiters(ISA_5010 + "~GS*HP", 0)
    assert not isinstance(got, str)
    assert got[0] == Delimiters("*", ":", "~", "^")


def test_isa_4010_u_is_not_a_repetition_separator():
    delimiters, _ = isa_delimiters(ISA_4010 + "~GS*HP", 0)
    assert delimiters.repetition is None


def test_unpadded_isa_is_read_by_counting_separators():
    delimiters, elements = isa_delimiters(ISA_UNPADDED + "~GS*HP", 0)
    assert delimiters == Delimiters("*", ":", "~", "^")
    assert elements[13] == "100000300"  # ISA13, the interchange control number


def test_newline_after_isa16_followed_by_a_segment_means_newline_terminator():
    delimiters, _ = isa_delimiters(ISA_5010 + "\nGS*HP", 0)
    assert delimiters.segment == "\n"


def test_terminator_written_at_the_start_of_the_next_line_is_found():
    delimiters, _ = isa_delimiters(ISA_4010.replace("*", "|").replace("|:", "|^") + "\n~GS|HP", 0)
    assert delimiters == Delimiters("|", "^", "~", None)


def test_isa_with_too_few_elements_is_unreadable():
    assert isinstance(isa_delimiters("ISA*00*01~GS*HP~", 0), str)


# ---- segments


def test_segments_are_trimmed_of_line_breaks_and_blank_lines_are_skipped():
    text = ISA_5010 + "~\r\nGS*HP*A*B~\r\n\r\nST*835*0001~\r\n"
    assert [s[0] for s in split_segments(text)] == ["ISA", "GS", "ST"]
    assert split_segments(text)[2] == ["ST", "835", "0001"]


@pytest.mark.parametrize("sep", ["~", "~\n", "~\r\n", "\n~"])
def test_same_segments_whatever_the_line_layout_around_the_terminator(sep):
    body = ["GS*HP*A*B", "ST*835*0001", "BPR*I*1.5*C*CHK", "SE*3*0001"]
    if sep == "\n~":  # terminator at the start of each line
        text = ISA_5010 + "".join(sep + s for s in body) + "\n"
        assert text.count("\n~") == 4
    else:
        text = ISA_5010 + sep + sep.join(body) + sep
    assert [s[0] for s in split_segments(text)] == ["ISA", "GS", "ST", "BPR", "SE"]


def test_newline_terminated_file_strips_carriage_returns():
    text = ISA_5010 + "\r\nGS*HP*A*B\r\nST*835*0001\r\n"
    assert split_segments(text)[2] == ["ST", "835", "0001"]


def test_underscore_terminator_with_tilde_element_separator():
    isa = ISA_5010.replace("*", "~").replace("~^~", "~!~")
    text = isa + "_GS~HP~A~B_ST~835~0001_"
    segs = tokenize(text, "f")
    assert segs.blocks[0].delimiters == Delimiters("~", ":", "_", "!")
    assert split_segments(text)[2] == ["ST", "835", "0001"]


def test_several_interchanges_with_different_delimiters_become_blocks():
    first = ISA_5010 + "~GS*HP*A*B~IEA*1*000000001~\n"
    second = ISA_4010.replace("*", "|").replace("|:", "|^") + "\nGS|HP|C|D\nIEA|1|000000001\n"
    segs = tokenize(first + second, "f")
    assert [b.delimiters.element for b in segs.blocks] == ["*", "|"]
    assert [segs.elements(i)[:2] for i in range(len(segs))] == [
        ["ISA", "00"], ["GS", "HP"], ["IEA", "1"], ["ISA", "00"], ["GS", "HP"], ["IEA", "1"]]


def test_isa_inside_data_is_not_an_interchange_boundary():
    text = ISA_5010 + "~GS*HP*A*B~NM1*QC*1*LISA*X~IEA*1*000000001~"
    segs = tokenize(text, "f")
    assert len(segs.blocks) == 1
    assert segs.elements(2) == ["NM1", "QC", "1", "LISA", "X"]


def test_bare_transaction_set_is_read_with_a_warning():
    segs = tokenize("ST*835*0001~BPR*I*10*C*CHK~SE*3*0001~", "bare.835")
    assert segs.blocks[0].delimiters == Delimiters("*", ":", "~", None)
    assert not segs.envelope
    assert [f.severity for f in segs.findings] == ["warning"]
    assert "no ISA/GS envelope" in segs.findings[0].message


def test_bare_transaction_set_after_blank_lines():
    segs = tokenize("\n\r\n  ST*835*0001~BPR*I*10*C*CHK~SE*3*0001~", "bare.835")
    assert segs.elements(0) == ["ST", "835", "0001"]
    assert len(segs.findings) == 1  # only the missing-envelope warning


def test_bare_newline_terminated_transaction_set():
    segs = tokenize("ST*835*0001\nBPR*I*10*C*CHK\nSE*3*0001\n", "bare.835")
    assert segs.blocks[0].delimiters.segment == "\n"
    assert segs.elements(1) == ["BPR", "I", "10", "C", "CHK"]


def test_text_before_the_isa_is_skipped_with_a_warning():
    segs = tokenize("garbage\n" + ISA_5010 + "~GS*HP~", "f")
    assert segs.elements(1) == ["GS", "HP"]
    assert "before the ISA" in segs.findings[0].message


def test_element_access_by_position():
    segs = tokenize(ISA_5010 + "~CLP*A*1*100**12~", "f")
    rows = np.array([1])
    a, b = segs.element(rows, 3)
    assert segs.texts(a, b) == ["100"]
    a, b = segs.element(rows, 4)  # present but empty
    assert b[0] == a[0]
    a, b = segs.element(rows, 9)  # absent
    assert b[0] == a[0]
    assert segs.count(rows).tolist() == [5]  # CLP01..CLP05


def test_codes_decode_repeated_values_and_long_values():
    segs = tokenize(ISA_5010 + "~CAS*CO*45~CAS*CO*45~CAS*PR*ALONGREASON~", "f")
    rows = np.array([1, 2, 3])
    assert segs.codes(*segs.element(rows, 1)).tolist() == ["CO", "CO", "PR"]
    assert segs.codes(*segs.element(rows, 2)).tolist() == ["45", "45", "ALONGREASON"]


@pytest.mark.parametrize("data", [b"", b"   \n\t ", b"\x00\x01\x02\x03binary", b"hello world", "PDF-1.4 no x12"])
def test_input_without_isa_or_st_raises_token_error(data):
    with pytest.raises(TokenError):
        tokenize(data, "f")


def test_utf8_text_is_decoded_in_extracted_values():
    segs = tokenize((ISA_5010 + "~N1*PR*CAFÉ SANTÉ~").encode("utf-8"), "f")
    assert segs.texts(*segs.element(np.array([1]), 2)) == ["CAFÉ SANTÉ"]


# ---- values


def test_decimals_keep_the_number_of_digits_written():
    buf, a, b = _ranges(["12.50", "-3", ".5", "7.", "0000"])
    mant, dec, ok = parse_decimal(buf, a, b)
    assert mant.tolist() == [1250, -3, 5, 7, 0]
    assert dec.tolist() == [2, 0, 1, 0, 0]
    assert ok.all()


@pytest.mark.parametrize("bad", ["", "-", ".", "1.2.3", "1e5", "+5", " 5", "5-", "--5", "1,000", "abc"])
def test_unreadable_decimals_are_not_ok(bad):
    buf, a, b = _ranges([bad])
    assert not parse_decimal(buf, a, b)[2][0]


def test_cents_are_exact_and_a_third_nonzero_decimal_is_rounded():
    buf, a, b = _ranges(["12.500", "12.501", "-0.01", "977.94"])
    cents, ok, rounded = to_cents(*parse_decimal(buf, a, b))
    assert cents.tolist() == [1250, 1250, -1, 97794]  # 1250.1 cents -> 1250
    assert ok.all()
    assert rounded.tolist() == [False, True, False, False]  # 12.500 is exact


def test_quantities_as_floats():
    buf, a, b = _ranges(["3.1", "x"])
    values = to_float(*parse_decimal(buf, a, b))
    assert values[0] == pytest.approx(3.1)
    assert np.isnan(values[1])


def test_dates_ccyymmdd_with_calendar_check():
    buf, a, b = _ranges(["20240229", "20230229", "20241301", "2024010", "abcdefgh"])
    dates, ok = parse_date(buf, a, b)
    assert ok.tolist() == [True, False, False, False, False]
    assert str(dates[0]) == "2024-02-29"


def test_components_of_composites():
    buf, a, b = _ranges(["HC:99213:25:59", "HC", "AD:D0120"])
    starts, ends = components(buf, b"", a, b, ord(":"), 4)
    text = "HC:99213:25:59HCAD:D0120"
    got = [[text[s:e] for s, e in zip(starts[i], ends[i], strict=True)] for i in range(3)]
    assert got == [["HC", "99213", "25", "59"], ["HC", "", "", ""], ["AD", "D0120", "", ""]]


def test_equal_hashes_of_different_texts_are_told_apart_by_their_bytes(monkeypatch):
    import numpy as np

    from xl_ar.x12 import tokens as tk
    monkeypatch.setattr(tk, "_MIX", np.zeros(3, dtype=np.uint64))  # the hash is then the first 8 bytes only
    values = ["ABCDEFGH1", "ABCDEFGH2", "ABCDEFGH1", "ABCDEFGH2", "XY"]
    segs = tk.tokenize("ST*" + "*".join(values) + "~", "x.835")
    a, b = segs.element(np.array([0] * 5), 1)
    a, b = np.array([segs.element(np.array([0]), k)[0][0] for k in range(1, 6)]), \
        np.array([segs.element(np.array([0]), k)[1][0] for k in range(1, 6)])
    group, first = segs.distinct(a, b)
    assert group[0] == group[2] and group[1] == group[3] and group[0] != group[1]
    assert [segs.texts(a[first], b[first])[g] for g in group] == values
