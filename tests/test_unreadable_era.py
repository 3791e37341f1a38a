"""Unreadable ERA files (issue 13, defect 4).

A file in a practice's `era/` that cannot be read at all (0 bytes, garbage, no readable ISA) makes
`xl-ar reconcile` and `xl-ar report` exit 2 naming the file, and write nothing: a reconciliation
without the payments of one of the ERAs would show them as missing without saying why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.era_builder import Claim, Line, era
from xl_ar.cli import main
from xl_ar.errors import InputError
from xl_ar.practice import load_practice


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A practice of one claim, paid in full by one readable 835."""
    practice = tmp_path / "practice"
    (practice / "era").mkdir(parents=True)
    (practice / "practice.json").write_text(json.dumps({"name": "Lakeside", "as_of": "2026-09-30"}))
    (practice / "claims.csv").write_text(
        "claim_id,account_id,payer_id,service_date,billed_date,charge,paid,adjusted,balance,responsibility\n"
        "C1,A1,ACME,2026-08-01,2026-08-02,100.00,100.00,0,0,insurance\n", encoding="utf-8")
    (practice / "era" / "good.835").write_text(
        era("TRN1", "100", [Claim("C1", "1", "100", "100", [Line("99213", "100", "100")])]))
    return practice


def run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def test_a_readable_folder_reconciles(folder: Path, tmp_path: Path, capsys):
    code, _ = run(["reconcile", "--practice", str(folder), "--out", str(tmp_path / "rec.xlsx"), "--quiet"], capsys)
    assert code == 0 and (tmp_path / "rec.xlsx").exists()


def test_reconcile_with_an_empty_era_file_exits_2_naming_it_and_writes_nothing(folder: Path, tmp_path: Path,
                                                                               capsys):
    (folder / "era" / "empty.835").write_bytes(b"")
    code, err = run(["reconcile", "--practice", str(folder), "--out", str(tmp_path / "rec.xlsx"), "--quiet"], capsys)
    assert code == 2
    assert "era/empty.835" in err.splitlines()[0] and "the file is empty" in err
    assert not (tmp_path / "rec.xlsx").exists()


def test_reconcile_with_a_garbage_era_file_exits_2_naming_it(folder: Path, tmp_path: Path, capsys):
    (folder / "era" / "sub").mkdir()
    (folder / "era" / "sub" / "noise.edi").write_bytes(b"\x00\x9f\xffnot x12 at all\n" * 20)
    code, err = run(["reconcile", "--practice", str(folder), "--out", str(tmp_path / "rec.xlsx"), "--quiet"], capsys)
    assert code == 2 and "era/sub/noise.edi" in err.splitlines()[0]
    assert not (tmp_path / "rec.xlsx").exists()


def test_report_with_an_unreadable_era_file_exits_2_and_writes_neither_report_nor_store(folder: Path,
                                                                                         tmp_path: Path, capsys):
    (folder / "era" / "broken.835").write_text("ISA*only a few elements~")
    out, store = tmp_path / "report.xlsx", tmp_path / "store.sqlite"
    code, err = run(["report", "--practice", str(folder), "--out", str(out), "--store", str(store), "--quiet"],
                    capsys)
    assert code == 2 and "era/broken.835" in err.splitlines()[0]
    assert not out.exists() and not store.exists()


def test_every_unreadable_file_is_named_at_once(folder: Path):
    (folder / "era" / "a.835").write_bytes(b"")
    (folder / "era" / "b.835").write_bytes(b"garbage")
    with pytest.raises(InputError) as raised:
        load_practice(folder).remittances()
    assert str(raised.value).startswith("2 files in era/: cannot be read as an 835 remittance")
    assert [f.source for f in raised.value.findings] == ["era/a.835", "era/b.835"]


def test_the_message_says_nothing_was_written(folder: Path):
    (folder / "era" / "empty.835").write_bytes(b"")
    with pytest.raises(InputError, match=r"^era/empty.835: cannot be read as an 835 remittance; fix or remove it "
                                         r"\(nothing was written\)$"):
        load_practice(folder).remittances()
