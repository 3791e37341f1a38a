"""Defect 7 (issue 13): what holds patient data or keys is created owner-only on POSIX (files 0600, the folders
xl-ar creates for them 0700), never readable by other users even for an instant."""

import os
import stat

import pytest

from xl_ar import privacy
from xl_ar.cli import main

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask(monkeypatch, tmp_path):
    old = os.umask(0o022)  # the usual umask: without care, files are 0644 and folders 0755
    monkeypatch.setenv(privacy.KEY_ENV, "ab" * 32)
    monkeypatch.setenv("XL_AR_HOME", str(tmp_path / "home"))
    yield
    os.umask(old)


@pytest.fixture
def practice(tmp_path):
    assert main(["synth", "--out", str(tmp_path / "p"), "--claims", "20", "--seed", "1", "--quiet"]) == 0
    return tmp_path / "p"


def test_the_store_and_its_new_folder_are_owner_only(tmp_path, practice):
    store = tmp_path / "data" / "ar.sqlite"
    assert main(["import", str(practice / "era"), "--store", str(store), "--quiet"]) in (0, 2)
    assert mode(store) == 0o600 and mode(tmp_path / "data") == 0o700


def test_the_store_journal_files_are_owner_only(tmp_path):
    from xl_ar.store import Store
    with Store.open(tmp_path / "ar.sqlite") as store:
        store.audit("test")  # a write: SQLite's write-ahead log and shared-memory files exist while it is open
        journals = [p for p in tmp_path.iterdir() if p.name.startswith("ar.sqlite-")]
        assert journals and all(mode(p) == 0o600 for p in journals)


def test_the_reconciliation_workbook_is_owner_only(tmp_path, practice):
    out = tmp_path / "out" / "reconciliation.xlsx"
    main(["reconcile", "--practice", str(practice), "--out", str(out), "--quiet"])
    assert mode(out) == 0o600 and mode(tmp_path / "out") == 0o700


def test_a_report_with_patient_identifiers_is_owner_only(tmp_path, practice):
    out = tmp_path / "phi.xlsx"
    assert main(["report", "--practice", str(practice), "--out", str(out), "--phi",
                 "--store", str(tmp_path / "s.db"), "--quiet"]) == 0
    assert mode(out) == 0o600


def test_an_existing_workbook_is_made_owner_only_before_patient_data_goes_in(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"old")  # 0644 from an earlier version
    privacy.private_file(path)
    assert mode(path) == 0o600


def test_a_folder_the_user_made_keeps_its_mode(tmp_path):
    chosen = tmp_path / "chosen"
    chosen.mkdir(mode=0o755)
    privacy.private_folder(chosen / "new" / "deeper")
    assert mode(chosen) == 0o755 and mode(chosen / "new") == 0o700 and mode(chosen / "new" / "deeper") == 0o700


def test_write_private_replaces_a_file_whole(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"previous")
    privacy.write_private(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o600 and list(tmp_path.iterdir()) == [path]


def test_a_failure_while_writing_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"previous")

    def disk_full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        privacy.write_private(path, b"new")
    assert path.read_bytes() == b"previous" and list(tmp_path.iterdir()) == [path]
