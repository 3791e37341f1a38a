"""A CSV whose first data rows have more cells than its header (found by tests/test_fuzz.py): pandas would
take the extra leading cells as a row index and the reader crashed with a TypeError. It is an input error
that names the row."""

from __future__ import annotations

import pytest

from xl_ar.errors import InputError
from xl_ar.practice import read_export


def test_more_cells_than_headers_is_an_input_error_naming_the_row(tmp_path):
    path = tmp_path / "payers.csv"
    path.write_text("Ins Code,Payer Name\nMCR,Medicare,extra\n")  # header: 2 cells; row 2: 3 cells
    with pytest.raises(InputError, match=r"payers.csv: not a readable CSV file: row 2 has more cells than the "
                                         r"header row \(2\)"):
        read_export(path, "payers")


def test_the_message_shows_no_cell_value(tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text("Claim #,Patient Name\nCL1,\"Doe, Jane\",1939-12-20\n")
    with pytest.raises(InputError) as caught:
        read_export(path, "claims")
    assert "Doe" not in str(caught.value) and "1939" not in str(caught.value)
