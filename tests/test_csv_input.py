"""Minor input handling of text exports (issue 13, defect 9).

A row of spaces is a blank row (skipped, row numbers unchanged); a NUL character anywhere in a CSV
is an error naming the file and the line; UTF-16 text (Excel's "Unicode text": BOM, tabs) is read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xl_ar import ledger
from xl_ar.errors import InputError

HEADER = "claim_id,account_id,payer_id,service_date,charge,paid,adjusted,balance,responsibility"
ROW_1 = "C1,A1,P1,2026-01-05,100.00,60.00,40.00,0.00,insurance"
ROW_2 = "C2,A2,P1,2026-01-06,50.00,0.00,0.00,50.00,insurance"


def write(tmp_path: Path, data: bytes, name: str = "claims.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- rows of spaces --------------------------------------------------------------------------------------

def test_a_row_of_spaces_between_rows_is_blank(tmp_path: Path):
    text = f"{HEADER}\n{ROW_1}\n   ,  , ,\t, , , ,  , \n{ROW_2}\n"
    frame, findings = ledger.read_table(write(tmp_path, text.encode()), "claims")
    assert findings == []
    assert frame.claim_id.tolist() == ["C1", "C2"]


def test_a_line_of_only_spaces_at_the_end_is_blank(tmp_path: Path):
    text = f"{HEADER}\n{ROW_1}\n          \n"
    frame, findings = ledger.read_table(write(tmp_path, text.encode()), "claims")
    assert findings == [] and frame.claim_id.tolist() == ["C1"]


def test_rows_after_a_row_of_spaces_keep_their_spreadsheet_numbers(tmp_path: Path):
    # header row 1, C1 row 2, spaces row 3, C2 row 4: the bad date is reported on row 4
    text = f"{HEADER}\n{ROW_1}\n , , , , , , , , \n{ROW_2.replace('2026-01-06', 'someday')}\n"
    _, findings = ledger.read_table(write(tmp_path, text.encode()), "claims")
    assert [f.location for f in findings] == ["row 4, column 'service_date'"]


def test_a_spreadsheet_row_of_spaces_and_empty_cells_is_blank():
    raw = pd.DataFrame({"a": ["x", "  ", None, "\u00a0"], "b": [1.0, None, None, None]}, dtype=object)
    # row 0 has values; row 1 spaces; row 2 nothing; row 3 a non-breaking space
    assert ledger._blank_rows(raw).tolist() == [False, True, True, True]


def test_a_zero_is_a_value_not_a_blank():
    raw = pd.DataFrame({"a": [0, None], "b": ["", " "]}, dtype=object)
    assert ledger._blank_rows(raw).tolist() == [False, True]


# -- NUL characters -----------------------------------------------------------------------------------------

def test_a_nul_byte_after_the_first_4_kb_is_an_error_naming_the_file_and_line(tmp_path: Path):
    rows = "".join(f"C{i},A{i},P1,2026-01-05,100.00,60.00,40.00,0.00,insurance\n" for i in range(200))  # ~10 KB
    # header on line 1, 200 rows on lines 2-201, the damaged row on line 202
    data = f"{HEADER}\n{rows}".encode() + b"C999,A9\x00,P1,2026-01-05,1.00,0,0,1.00,insurance\n"
    with pytest.raises(InputError, match=r"^claims.csv: not a text CSV file: line 202 holds a NUL character"):
        ledger.read_sheet(write(tmp_path, data))


def test_a_nul_in_the_last_byte_of_a_large_file_is_an_error(tmp_path: Path):
    data = f"{HEADER}\n".encode() + f"{ROW_1}\n".encode() * 100 + b"\x00"  # ~5 KB, the NUL on line 102
    with pytest.raises(InputError, match="line 102 holds a NUL character"):
        ledger.read_sheet(write(tmp_path, data))


def test_a_nul_character_in_a_utf16_file_is_an_error(tmp_path: Path):
    data = f"{HEADER}\n{ROW_1}\x00\n".replace(",", "\t").encode("utf-16")
    with pytest.raises(InputError, match=r"line 2 holds a NUL character"):
        ledger.read_sheet(write(tmp_path, data))


# -- UTF-16 ("Unicode text") --------------------------------------------------------------------------------

def test_excel_unicode_text_utf16_with_bom_and_tabs_is_read(tmp_path: Path):
    text = f"{HEADER}\r\n{ROW_1}\r\n{ROW_2}\r\n".replace(",", "\t")
    frame, findings = ledger.read_table(write(tmp_path, text.encode("utf-16"), "claims.txt"), "claims")
    assert findings == []
    assert frame.claim_id.tolist() == ["C1", "C2"] and frame.charge.tolist() == [10000, 5000]


def test_utf16_big_endian_with_bom_is_read(tmp_path: Path):
    text = f"{HEADER}\n{ROW_1}\n".replace(",", "\t")
    frame, _ = ledger.read_table(write(tmp_path, b"\xfe\xff" + text.encode("utf-16-be")), "claims")
    assert frame.claim_id.tolist() == ["C1"]


def test_utf16_little_endian_without_bom_is_read(tmp_path: Path):
    text = f"{HEADER}\n{ROW_1}\n"
    frame, _ = ledger.read_table(write(tmp_path, text.encode("utf-16-le")), "claims")
    assert frame.claim_id.tolist() == ["C1"]


def test_non_ascii_text_in_utf16_survives(tmp_path: Path):
    text = f"{HEADER},payer_name\n{ROW_1},Aseguradora Peña\n".replace(",", "\t")
    sheet = ledger.read_sheet(write(tmp_path, text.encode("utf-16")))
    assert sheet.frame["payer_name"].tolist() == ["Aseguradora Peña"]


# -- very long cells --------------------------------------------------------------------------------------


def test_a_cell_longer_than_the_csv_module_s_field_limit_is_read_as_a_value(tmp_path: Path):
    # 200,000 characters: over Python's csv field limit (131,072), which the header search once raised as an
    # "unexpected error"; pandas reads the cell, so the row is there with its value
    long = "x" * 200_000
    text = f"{HEADER},note\n{ROW_1},{long}\n{ROW_2},short\n"
    frame, _ = ledger.read_table(write(tmp_path, text.encode()), "claims")
    assert frame.claim_id.tolist() == ["C1", "C2"]
