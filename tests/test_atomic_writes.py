"""Safeguard 3 (issue 13): every output is written whole or not at all. A failure part-way through a writer (a bug,
a kill, a full disk) leaves the previous file byte-identical and no temporary file behind; a workbook Excel holds
open gives a clear message and exit 2."""

import errno
import os
from pathlib import Path

import pytest

from xl_ar import outputs, privacy
from xl_ar.addin import template
from xl_ar.cli import main
from xl_ar.reports import management, reconciliation
from xl_ar.store import Store

PREVIOUS = b"the previous file"


@pytest.fixture(autouse=True)
def key(monkeypatch, tmp_path):
    monkeypatch.setenv(privacy.KEY_ENV, "ab" * 32)
    monkeypatch.setenv("XL_AR_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("atomic") / "p"
    assert main(["synth", "--out", str(folder), "--claims", "20", "--seed", "1", "--quiet"]) == 0
    return folder


def previous(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(PREVIOUS)
    return path


def only(path: Path) -> bool:
    """`path` is the only file in its folder: no temporary file was left beside it."""
    return sorted(p.name for p in path.parent.iterdir()) == [path.name]


def fail(*args, **kwargs):
    raise RuntimeError("injected failure")


def disk_full(fd):
    raise OSError(errno.ENOSPC, "No space left on device")


# -- the shared mechanism ------------------------------------------------------------------------------------------


def test_a_failure_inside_the_block_leaves_the_previous_file(tmp_path):
    path = previous(tmp_path, "out.bin")
    with pytest.raises(RuntimeError), outputs.whole_file(path) as tmp:
        tmp.write_bytes(b"half of the new")
        fail()
    assert path.read_bytes() == PREVIOUS and only(path)


def test_a_full_disk_at_fsync_leaves_the_previous_file(tmp_path, monkeypatch):
    path = previous(tmp_path, "out.bin")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        outputs.write_bytes(path, b"new")
    assert path.read_bytes() == PREVIOUS and only(path)


def test_the_new_file_replaces_the_old_one_whole(tmp_path):
    path = previous(tmp_path, "out.bin")
    outputs.write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and only(path)


def test_a_target_that_cannot_be_replaced_is_said_to_be_locked(tmp_path, monkeypatch):
    path = previous(tmp_path, "report.xlsx")

    def locked(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")  # what Windows says of a file Excel holds open
    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(outputs.OutputLockedError, match="close it in Excel and try again"):
        outputs.write_bytes(path, b"new")
    assert path.read_bytes() == PREVIOUS and only(path)


# -- each writer ---------------------------------------------------------------------------------------------------


def test_a_failing_management_report_leaves_the_previous_report(tmp_path, practice, monkeypatch):
    out = previous(tmp_path / "out", "report.xlsx")
    monkeypatch.setattr(management, "_worklist", fail)  # the last sheet: the others are written by then
    assert main(["report", "--practice", str(practice), "--out", str(out), "--store", str(tmp_path / "s.db"),
                 "--quiet"]) == 1
    assert out.read_bytes() == PREVIOUS and only(out)


def test_a_full_disk_while_writing_the_report_leaves_the_previous_report(tmp_path, practice, monkeypatch):
    out = previous(tmp_path / "out", "report.xlsx")
    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["report", "--practice", str(practice), "--out", str(out), "--store", str(tmp_path / "s.db"),
                 "--quiet"]) == 2
    assert out.read_bytes() == PREVIOUS and only(out)


def test_a_full_disk_is_said_in_words_with_what_to_do(tmp_path, practice, monkeypatch, capsys):
    out = previous(tmp_path / "out", "reconciliation.xlsx")
    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "reconciliation.xlsx: cannot be written, the disk is full" in err and "unexpected" not in err


def test_a_failing_reconciliation_workbook_leaves_the_previous_workbook(tmp_path, practice, monkeypatch):
    out = previous(tmp_path / "out", "reconciliation.xlsx")
    monkeypatch.setattr(reconciliation, "_guide", fail)  # after both exceptions sheets
    assert main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"]) == 1
    assert out.read_bytes() == PREVIOUS and only(out)


@pytest.fixture
def closing_fails(monkeypatch):
    """xlsxwriter's `close` writes the workbook by name, then something fails (a kill, a bug, a full disk)."""
    import xlsxwriter

    real_close = xlsxwriter.Workbook.close

    def close_then_fail(book):
        real_close(book)  # the whole zip is in the file xlsxwriter was given by now
        fail()
    monkeypatch.setattr(xlsxwriter.Workbook, "close", close_then_fail)


def test_a_failure_after_the_reconciliation_workbook_is_closed_leaves_the_previous_one(tmp_path, practice,
                                                                                       closing_fails):
    out = previous(tmp_path / "out", "reconciliation.xlsx")
    assert main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"]) == 1
    assert out.read_bytes() == PREVIOUS and only(out)


def test_a_failing_template_workbook_leaves_the_previous_workbook(tmp_path, monkeypatch):
    out = previous(tmp_path, "AR_Workbook.xlsx")
    monkeypatch.setattr(template, "_settings_sheet", fail)  # the last sheet
    with pytest.raises(RuntimeError):
        template.write(out)
    assert out.read_bytes() == PREVIOUS and only(out)


def test_a_failure_after_the_template_workbook_is_closed_leaves_the_previous_one(tmp_path, closing_fails):
    out = previous(tmp_path, "AR_Workbook.xlsx")
    with pytest.raises(RuntimeError):
        template.write(out)
    assert out.read_bytes() == PREVIOUS and only(out)


def test_the_template_workbook_is_written_when_nothing_fails(tmp_path):
    out = previous(tmp_path, "AR_Workbook.xlsx")
    template.write(out)
    assert out.read_bytes()[:2] == b"PK" and only(out)  # an xlsx is a zip


def test_a_failing_key_file_leaves_no_key_and_no_temporary_file(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV)
    path = tmp_path / "keys" / "token.key"
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        privacy.load_key(path)
    assert list(path.parent.iterdir()) == []  # a later run makes a whole key, never reads half of one


def test_a_failing_store_import_keeps_none_of_the_file(tmp_path, practice, monkeypatch):
    store_path = tmp_path / "s.db"
    monkeypatch.setattr(Store, "insert_table", fail)  # after the file's import record and payments went in
    assert main(["import", str(practice / "era"), "--store", str(store_path), "--quiet"]) == 1
    with Store.open(store_path) as store:
        assert (store.count("payments"), store.count("imports")) == (0, 0)


# -- a workbook open in Excel --------------------------------------------------------------------------------------


def test_a_report_open_in_excel_exits_2_with_a_clear_message(tmp_path, practice, monkeypatch, capsys):
    out = previous(tmp_path / "out", "report.xlsx")

    def locked(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(os, "replace", locked)
    assert main(["report", "--practice", str(practice), "--out", str(out), "--store", str(tmp_path / "s.db"),
                 "--quiet"]) == 2
    assert "close it in Excel and try again" in capsys.readouterr().err
    assert out.read_bytes() == PREVIOUS and only(out)


def test_a_reconciliation_target_that_is_a_folder_exits_2_with_a_clear_message(tmp_path, practice, capsys):
    out = tmp_path / "out" / "reconciliation.xlsx"
    out.mkdir(parents=True)
    assert main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "reconciliation.xlsx" in err and "close it in Excel and try again" in err
    assert out.is_dir() and list(out.parent.iterdir()) == [out]


def test_installing_over_an_addin_excel_holds_open_keeps_it_and_says_to_close_excel(tmp_path, monkeypatch):
    from xl_ar.addin import install

    build = previous(tmp_path / "build", "xl_ar.xlam")
    where = {"system": "Windows", "home": tmp_path / "home",
             "env": {"APPDATA": str(tmp_path / "Roaming"), "USERPROFILE": str(tmp_path / "profile")}}
    install.install(build, executable="python", **where)
    installed = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "xl_ar.xlam"
    build.write_bytes(b"a newer build")

    def locked(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(outputs.OutputLockedError, match="close it in Excel and try again"):
        install.install(build, executable="python", **where)
    assert installed.read_bytes() == PREVIOUS and only(installed)
