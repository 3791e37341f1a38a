"""Importing remittances: folder, zip and SFTP sources, once and only once, all of a file or none."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.era_builder import Claim, Line, era
from xl_ar import credentials, remittances, sources
from xl_ar.cli import main
from xl_ar.errors import InputError
from xl_ar.practice import load_practice
from xl_ar.sources import SourceFile
from xl_ar.store import Store


@pytest.fixture
def era_folder(tmp_path, practice_small) -> Path:
    target = tmp_path / "era"
    shutil.copytree(practice_small / "era", target)
    return target


def originals(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.835") if "_resent" not in p.name)


def import_source(source, store_path) -> remittances.ImportReport:
    listing = sources.read_source(source)
    with Store.open(store_path) as store:
        report = remittances.import_files(listing.files, store)
    report.skipped = listing.skipped
    return report


def test_importing_the_same_folder_twice_imports_nothing_the_second_time(era_folder, store_at):
    first = import_source(era_folder, store_at)
    n_resent = len(list(era_folder.glob("*_resent*.835")))
    assert first.payments == len(originals(era_folder)) and first.duplicates == n_resent > 0
    with Store.open(store_at) as store:
        counts = {t: store.count(t) for t in ("payments", "claim_payments", "adjustments", "duplicate_payments")}
    second = import_source(era_folder, store_at)
    assert second.payments == 0 and second.duplicates == len(list(era_folder.glob("*.835")))
    # each file is already imported, or (a byte-identical copy under another name) a re-delivered copy
    # of the file first imported with its bytes; nothing is recorded again
    copies = [f for f in first.files if f.status.startswith("re-delivered copy of ")]
    assert {f.status for f in second.files} == {"already imported"} | {f.status for f in copies}
    with Store.open(store_at) as store:
        assert {t: store.count(t) for t in counts} == counts


def test_a_zip_of_the_same_files_is_recognised_as_already_imported(era_folder, tmp_path):
    import_source(era_folder, tmp_path / "s.sqlite")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in originals(era_folder)[:5]:
            z.write(p, f"inbox/{p.name}")
        z.writestr("inbox/readme.txt", "not a remittance")
    report = import_source(archive, tmp_path / "s.sqlite")
    assert report.payments == 0 and report.duplicates == 5
    assert report.skipped == ["download.zip/inbox/readme.txt"]


def test_a_resent_era_in_the_same_run_is_a_duplicate_with_its_trace_number(era_folder, store_at):
    # a re-send in a new envelope that has a trace number (a byte-identical copy is "already imported")
    copies = {p.read_bytes() for p in originals(era_folder)}
    resent = next(p for p in sorted(era_folder.glob("*_resent*.835"))
                  if "NOTRACE" not in p.name and p.read_bytes() not in copies)
    report = import_source(era_folder, store_at)
    result = next(f for f in report.files if f.name == resent.name)
    trace = resent.name.split("_")[2].split(".")[0]  # <date>_<payer>_<trace>_resentN.835
    assert result.status == "duplicate" and result.duplicates == [trace]
    # kept aside so a reconciliation from the store reports it, never counted as a payment
    with Store.open(store_at) as store:
        assert trace in set(store.read_table("duplicate_payments").trace_number)
        assert store.remittances()["payments"].trace_number.tolist().count(trace) == 2


def test_import_is_all_of_a_file_or_none(era_folder, monkeypatch, store_at):
    files = sources.read_source(era_folder).files[:3]
    calls = {"n": 0}
    original = Store.insert_table

    def failing(self, name, frame, import_id):
        calls["n"] += 1
        if calls["n"] == 8:  # in the middle of the second file's tables
            raise OSError("disk full")
        return original(self, name, frame, import_id)

    monkeypatch.setattr(Store, "insert_table", failing)
    with Store.open(store_at) as store, pytest.raises(OSError):
        remittances.import_files(files, store)
    monkeypatch.setattr(Store, "insert_table", original)
    with Store.open(store_at) as store:
        assert store.count("imports") == 1 and store.count("payments") == 1  # the first file only
        ids = store.read_table("payments").payment_id
        assert (store.read_table("claim_payments").payment_id.isin(ids)).all()


def test_an_unreadable_file_is_rejected_and_the_rest_imported(era_folder, tmp_path):
    good = len(originals(era_folder))
    (era_folder / "broken.835").write_bytes(b"ISA*00*garbage")
    report = import_source(era_folder, tmp_path / "s.sqlite")
    broken = next(f for f in report.files if f.name == "broken.835")
    assert broken.status == "rejected" and broken.findings[0].severity == "error"
    assert report.payments == good


def test_non_x12_files_in_a_folder_are_listed_not_imported(era_folder, tmp_path):
    (era_folder / "notes.docx").write_bytes(b"PK\x03\x04 not x12")
    (era_folder / "sub").mkdir()
    shutil.copy(originals(era_folder)[0], era_folder / "sub" / "copy.835")
    listing = sources.read_source(era_folder)
    assert "notes.docx" in listing.skipped
    assert "sub/copy.835" in [f.name for f in listing.files]


def test_payers_are_mapped_from_the_practice_payer_list(practice_small, store_at):
    payers = load_practice(practice_small).table("payers")
    listing = sources.read_source(practice_small / "era")
    with Store.open(store_at) as store:
        remittances.import_files(listing.files[:20], store, payers=payers)
        mapped = store.read_table("payments")
    assert mapped.payer_id.notna().all()
    assert set(mapped.payer_id) <= {"MCR", "MCD", "SMH", "KCA", "HVI"}


def test_reversals_are_kept_and_linked_to_original_and_correction(practice_5k):
    from xl_ar.x12 import read_835

    rems = [read_835(p.read_bytes(), p.name) for p in sorted((practice_5k / "era").glob("*.835"))
            if "_resent" not in p.name]
    claims = pd.concat([r.claim_payments for r in rems], ignore_index=True)
    payments = pd.concat([r.payments for r in rems], ignore_index=True)
    links = remittances.link_reversals(claims, payments)
    truth = json.loads((practice_5k / "truth.json").read_text())["exceptions"]
    reversed_ids = {e["claim_id"] for e in truth if e["kind"] == "reversal"}
    assert set(links.claim_id) == reversed_ids
    assert links.original_payment_id.notna().all() and links.correction_payment_id.notna().all()
    # a reversal takes back exactly what the original paid
    assert (links.reversal_paid == -links.original_paid).all()


# -- SFTP: a real server on 127.0.0.1 -------------------------------------------------------------

@pytest.fixture
def mailbox(sftp_server, practice_small, monkeypatch):
    root, port, known_hosts, client_key = sftp_server
    for p in root.rglob("*"):
        if p.is_file():
            p.unlink()
    (root / "outbound" / "2026").mkdir(parents=True, exist_ok=True)
    for p in originals(practice_small / "era")[:12]:
        shutil.copy(p, root / "outbound" / "2026" / p.name)
    monkeypatch.setenv("XL_AR_SFTP_KNOWN_HOSTS", str(known_hosts))
    monkeypatch.delenv("XL_AR_SFTP_TRUST_NEW_HOST", raising=False)
    monkeypatch.delenv("XL_AR_SFTP_KEY", raising=False)
    return f"sftp://clinic@127.0.0.1:{port}/outbound", client_key


def test_sftp_mailbox_import_is_idempotent(mailbox, tmp_path, monkeypatch):
    url, _ = mailbox
    credentials.save(url, "mailbox-pass")  # the OS keyring (an in-memory one in tests)
    first = import_source(url, tmp_path / "s.sqlite")
    assert first.payments == 12 and first.duplicates == 0
    assert first.files[0].name.startswith("2026/")
    second = import_source(url, tmp_path / "s.sqlite")
    assert second.payments == 0 and second.duplicates == 12


def test_sftp_login_with_a_key_file(mailbox, tmp_path, monkeypatch):
    url, client_key = mailbox
    monkeypatch.setenv("XL_AR_SFTP_KEY", str(client_key))
    assert import_source(url, tmp_path / "s.sqlite").payments == 12


def test_sftp_wrong_password_is_a_clear_error(mailbox, tmp_path, monkeypatch):
    url, _ = mailbox
    credentials.save(url, "wrong")
    with pytest.raises(InputError, match="refused the login"):
        import_source(url, tmp_path / "s.sqlite")


def test_sftp_without_a_kept_password_says_how_to_keep_one(mailbox, tmp_path):
    url, _ = mailbox
    with pytest.raises(InputError, match=r"refused the login \(keep its password with `xl-ar credentials set "
                                         r"sftp://clinic@127.0.0.1`"):
        import_source(url, tmp_path / "s.sqlite")
    assert not (tmp_path / "s.sqlite").exists()  # the mailbox is read before the store is opened


def test_sftp_unknown_host_is_refused(mailbox, tmp_path, monkeypatch):
    url, _ = mailbox
    credentials.save(url, "mailbox-pass")  # the OS keyring (an in-memory one in tests)
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    monkeypatch.setenv("XL_AR_SFTP_KNOWN_HOSTS", str(empty))
    with pytest.raises(InputError, match="XL_AR_SFTP_TRUST_NEW_HOST"):
        import_source(url, tmp_path / "s.sqlite")


def test_a_password_in_the_address_is_refused():
    with pytest.raises(InputError, match="do not put a password"):
        sources.SftpAddress.parse("sftp://clinic:secret@host/inbox")


def test_import_command_over_sftp(mailbox, tmp_path, monkeypatch, capsys):
    url, _ = mailbox
    credentials.save(url, "mailbox-pass")  # the OS keyring (an in-memory one in tests)
    assert main(["import", "--quiet", "--store", str(tmp_path / "s.sqlite"), url]) == 0
    assert "12 payments imported; 0 duplicates skipped" in capsys.readouterr().out
    assert main(["import", "--quiet", "--store", str(tmp_path / "s.sqlite"), url]) == 0
    assert "0 payments imported; 12 duplicates skipped" in capsys.readouterr().out


# -- trace-less payments and the unique key (hand-built 835s) ---------------------------------------

def traceless(control: int) -> SourceFile:
    """A payment of $80.00 from ACME01 with an empty TRN02, in interchange `control` (one claim)."""
    claims = [Claim("CL1", "1", "100", "80", [Line("99213", "100", "80", [("CO", "45", "20")])])]
    return SourceFile(f"acme_{control}.835", era("", "80", claims, control=control).encode())


def test_a_traceless_era_resent_in_a_later_import_is_a_duplicate(store_at):
    with Store.open(store_at) as store:
        first = remittances.import_files([traceless(1)], store)
        again = remittances.import_files([traceless(2)], store)  # new interchange, same payment
        counts = {t: store.count(t) for t in ("payments", "duplicate_payments", "claim_payments", "adjustments")}
    assert first.payments == 1 and first.files[0].status == "imported"
    # the key is (ACME01, "", 8000) both times: the re-send is refused and reported, its trace ""
    assert again.payments == 0 and [(f.status, f.duplicates) for f in again.files] == [("duplicate", [""])]
    assert counts == {"payments": 1, "duplicate_payments": 1, "claim_payments": 1, "adjustments": 1}


def test_two_traceless_resends_in_one_folder_import_once(tmp_path, store_at):
    folder = tmp_path / "era"
    folder.mkdir()
    for file in (traceless(1), traceless(2)):
        (folder / file.name).write_bytes(file.data)
    report = import_source(folder, store_at)  # one call, no crash
    assert [(f.name, f.status, f.payments, f.duplicates) for f in report.files] == [
        ("acme_1.835", "imported", 1, []), ("acme_2.835", "duplicate", 0, [""])]
    with Store.open(store_at) as store:
        assert store.count("payments") == 1 and store.count("claim_payments") == 1
        assert store.read_table("duplicate_payments").source_file.tolist() == ["acme_2.835"]


def test_the_same_transaction_in_a_file_with_other_bytes_is_a_duplicate(store_at):
    original = traceless(1)
    copy = SourceFile("copy.835", original.data + b"\n")  # another SHA-256, the same payment_id
    with Store.open(store_at) as store:
        report = remittances.import_files([original, copy], store)
        assert store.count("payments") == 1 and store.count("imports") == 2
    assert [f.status for f in report.files] == ["imported", "duplicate"]


def test_an_already_imported_file_reports_its_stored_payments_as_duplicates(store_at):
    with Store.open(store_at) as store:
        remittances.import_files([traceless(1)], store)
        report = remittances.import_files([traceless(1)], store)
        assert store.count("imports") == 1 and store.count("duplicate_payments") == 0  # nothing written
    assert [(f.status, f.payments, f.duplicates) for f in report.files] == [("already imported", 0, [""])]


def test_the_sqlalchemy_backend_runs_the_importer(tmp_path):
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    with Store.open(url) as store:
        report = remittances.import_files([traceless(1), traceless(2)], store)
        again = remittances.import_files([traceless(1)], store)
        assert store.count("payments") == 1 and store.count("duplicate_payments") == 1
        assert store.read_table("claim_payments").paid.tolist() == [8000]
    assert [f.status for f in report.files] == ["imported", "duplicate"]
    assert [f.status for f in again.files] == ["already imported"]
