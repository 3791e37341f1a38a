"""Many small 835 files read together (`read_835_files`) give exactly what reading each alone gives."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.era_builder import Claim, Line, era
from xl_ar.errors import X12Error
from xl_ar.remittances import read_remittances
from xl_ar.sources import SourceFile
from xl_ar.tables import from_columns
from xl_ar.x12.era import read_835_columns, read_835_files


def _payment(n: int, paid: str = "80", trace: str | None = None, control: int | None = None) -> bytes:
    """One balanced payment: a $100 charge, `paid` paid, the rest a CO-45 write-off."""
    off = f"{100 - int(paid)}"
    claim = Claim(f"PCN{n}", "1", "100", paid, [Line("99213", "100", paid, [("CO", "45", off)])])
    return era(trace or f"TRACE{n}", paid, [claim], control=control or n).encode()


def _alone(files: list[tuple[str, bytes]]) -> list:
    out = []
    for name, data in files:
        try:
            out.append(read_835_columns(data, name))
        except X12Error as e:
            out.append(e)
    return out


def _same(together, alone) -> None:
    """Both readings give equal tables (built as `read_remittances` builds them) and equal findings."""
    assert len(together) == len(alone)
    for got, want in zip(together, alone, strict=True):
        if isinstance(want, X12Error):
            assert isinstance(got, X12Error) and got.reason == want.reason
            continue
        assert got[1] == want[1]
        for name in want[0]:
            pd.testing.assert_frame_equal(from_columns(name, got[0][name]), from_columns(name, want[0][name]))


def test_clean_small_files_read_together_equal_each_read_alone():
    files = [(f"era_{n}.835", _payment(n)) for n in range(1, 6)]
    _same(read_835_files(files), _alone(files))


def test_each_payment_names_the_file_it_came_from():
    files = [(f"era_{n}.835", _payment(n)) for n in range(1, 4)]
    names = [got[0]["payments"]["source_file"].tolist() for got in read_835_files(files)]
    assert names == [["era_1.835"], ["era_2.835"], ["era_3.835"]]


def test_a_file_with_a_finding_keeps_its_own_finding_and_position():
    bad = _payment(2).replace(b"CLP*PCN2*1*100*80", b"CLP*PCN2*1*100*81")  # claim paid 81 but lines pay 80
    files = [("era_1.835", _payment(1)), ("era_2.835", bad), ("era_3.835", _payment(3))]
    together = read_835_files(files)
    _same(together, _alone(files))
    assert [f.source for f in together[1][1]] and all(f.source == "era_2.835" for f in together[1][1])


def test_the_same_transaction_in_two_files_gets_the_ids_it_gets_alone():
    same = _payment(1, control=7)
    files = [("a.835", same), ("b.835", same), ("c.835", _payment(3))]
    together = read_835_files(files)
    _same(together, _alone(files))
    assert together[0][0]["payments"]["payment_id"][0] == together[1][0]["payments"]["payment_id"][0]


def test_a_file_without_its_final_terminator_is_read_alone_with_the_same_result():
    cut = _payment(2).rstrip().removesuffix(b"~")
    files = [("era_1.835", _payment(1)), ("era_2.835", cut), ("era_3.835", _payment(3))]
    _same(read_835_files(files), _alone(files))


def test_an_unreadable_file_among_small_ones_is_its_own_error():
    files = [("era_1.835", _payment(1)), ("empty.835", b""), ("junk.835", b"ISA nothing"), ("era_3.835", _payment(3))]
    together = read_835_files(files)
    assert isinstance(together[1], X12Error) and isinstance(together[2], X12Error)
    _same(together, _alone(files))


def test_a_file_without_an_835_keeps_its_warning():
    no_835 = _payment(2).replace(b"ST*835*", b"ST*277*")
    files = [("era_1.835", _payment(1)), ("status.835", no_835), ("era_3.835", _payment(3))]
    together = read_835_files(files)
    _same(together, _alone(files))
    assert any("holds no 835" in f.message for f in together[1][1])


def test_a_folder_of_small_files_reads_into_the_same_tables_as_one_by_one():
    files = [SourceFile(f"era_{n}.835", _payment(n, paid=str(50 + n))) for n in range(1, 40)]
    tables, findings = read_remittances(files)
    assert findings == []
    # paid 51 + 52 + ... + 89 = 39 * (51 + 89) / 2 = 2730 dollars
    assert int(tables["payments"]["amount"].sum()) == 273000
    assert tables["payments"]["source_file"].tolist() == [f"era_{n}.835" for n in range(1, 40)]
    assert np.array_equal(tables["claim_payments"]["paid"].to_numpy(), np.arange(51, 90) * 100)
