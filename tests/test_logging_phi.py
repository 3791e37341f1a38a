"""Safeguard 2 (issue 13): structured logging (standard `logging`, level from --log-level or XL_AR_LOG_LEVEL)
through a filter that hides identifier fields. The whole demo at DEBUG, a malformed import and a failed reconcile
print no patient name, member id or birth date of the synthetic practice, in any log line, error or printed line."""

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from xl_ar import privacy
from xl_ar.cli import main


@pytest.fixture(autouse=True)
def key(monkeypatch, tmp_path):
    monkeypatch.setenv(privacy.KEY_ENV, "ab" * 32)
    monkeypatch.setenv("XL_AR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XL_AR_LOG_LEVEL", raising=False)
    yield
    package = logging.getLogger("xl_ar")  # leave no CLI handler (bound to this test's captured stderr) behind
    for handler in [h for h in package.handlers if getattr(h, "xl_ar_cli", False)]:
        package.removeHandler(handler)
    package.setLevel(logging.NOTSET)


def identifiers(claims_csv: Path) -> dict[str, set[str]]:
    """The synthetic patients' names, member ids and birth dates, as the export writes them and as xl-ar would."""
    claims = pd.read_csv(claims_csv, dtype=str, keep_default_na=False)
    names = set(claims["Patient Name"])
    names |= {" ".join(reversed(n.split(", "))) for n in names}  # `Doe, Jane` and `Jane Doe`
    names |= {n.split(", ")[0] for n in names if ", " in n and len(n.split(", ")[0]) >= 5}  # surnames alone
    births = pd.to_datetime(claims["DOB"], format="%m/%d/%Y")
    births = births[births.dt.year < 2020]  # a birth date that cannot also be a date of service or the as-of date
    dates = {d for form in ("%m/%d/%Y", "%Y-%m-%d", "%Y%m%d") for d in births.dt.strftime(form)}
    found = {"name": names, "member id": set(claims["Member ID"]), "birth date": dates}
    return {what: {v for v in values if v.strip()} for what, values in found.items()}  # self-pay: no member id


def hits(text: str, found: dict[str, set[str]]) -> list[str]:
    return [f"{what} {value!r}" for what, values in found.items() for value in values
            if re.search(rf"(?<![\w/-]){re.escape(value)}(?![\w/-])", text)]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["--log-level", "DEBUG", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_demo_at_debug_a_malformed_import_and_a_failed_reconcile_show_no_patient_data(tmp_path, capsys):
    demo = tmp_path / "demo"
    code, text = run(capsys, "demo", "--out", str(demo), "--claims", "200")
    assert code == 0
    assert "DEBUG xl_ar." in text and "INFO xl_ar." in text  # the log lines are there to be scanned
    found = identifiers(demo / "practice" / "claims.csv")
    assert min(len(v) for v in found.values()) > 50  # enough to look for

    # a malformed import: an ERA cut in the middle of a patient's NM1, another with a name where an amount goes
    era = sorted((demo / "practice" / "era").glob("*.835"))
    bad = tmp_path / "bad_era"
    bad.mkdir()
    first = era[0].read_text(encoding="ascii")
    (bad / "cut.835").write_text(first[: first.index("NM1*QC") + 20], encoding="ascii")
    name = next(iter(found["name"]))
    (bad / "name_as_amount.835").write_text(re.sub(r"(CLP\*[^*]*\*[^*]*\*)[^*]*", rf"\g<1>{name}", first, count=1),
                                            encoding="ascii")
    (bad / "garbage.835").write_bytes(b"\x00\xff not an 835")
    code, imported = run(capsys, "import", str(bad), "--store", str(tmp_path / "s.db"))
    assert code != 0 or "error" in imported

    # a failed reconcile: patient names under the date-of-service header, birth dates under the charges header
    broken = tmp_path / "broken"
    shutil.copytree(demo / "practice", broken)
    claims = pd.read_csv(broken / "claims.csv", dtype=str, keep_default_na=False)
    claims["DOS"], claims["Charges"] = claims["Patient Name"], claims["DOB"]
    claims.to_csv(broken / "claims.csv", index=False)
    code, reconciled = run(capsys, "reconcile", "--practice", str(broken))
    assert code == 2
    code, checked = run(capsys, "check", "--practice", str(broken))
    assert code == 2

    assert hits(text + imported + reconciled + checked, found) == []


# -- the filter ------------------------------------------------------------------------------------------------------


def record(msg: object = "x", args: object = None, **extra: object) -> logging.LogRecord:
    r = logging.LogRecord("xl_ar.test", logging.INFO, __file__, 1, msg, args, None)
    r.__dict__.update(extra)
    return r


def test_an_extra_field_named_like_an_identifier_is_hidden():
    r = record(member_id="GNR063792705", patientName="Doe, Jane", DOB="01/30/1956", rows=12)
    privacy.IdentifierFilter().filter(r)
    assert (r.member_id, r.patientName, r.DOB) == (privacy.HIDDEN,) * 3
    assert r.rows == 12  # a count is kept


def test_identifying_keys_of_a_mapping_argument_are_hidden():
    r = record("%(claim_id)s %(paid)s", {"claim_id": "CL0000001", "paid": "86.60"})
    privacy.IdentifierFilter().filter(r)
    assert r.getMessage() == f"{privacy.HIDDEN} 86.60"


def test_a_table_passed_as_an_argument_shows_only_its_size():
    frame = pd.DataFrame({"patient_name": ["Doe, Jane", "Roe, Rich"], "paid": [1, 2]})
    r = record("claims: %s", (frame,))
    privacy.IdentifierFilter().filter(r)
    assert r.getMessage() == "claims: (a table of 2 rows and 2 columns)"


def test_the_record_s_own_fields_are_kept():
    r = record()
    privacy.IdentifierFilter().filter(r)
    assert (r.name, r.filename) == ("xl_ar.test", Path(__file__).name)


# -- the level --------------------------------------------------------------------------------------------------------


def test_the_default_level_is_warning(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "p"), "--claims", "10", "--quiet"]) == 0
    assert " INFO " not in capsys.readouterr().err


def test_the_level_comes_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XL_AR_LOG_LEVEL", "info")
    assert main(["synth", "--out", str(tmp_path / "p"), "--claims", "10", "--quiet"]) == 0
    assert "INFO xl_ar.cli: xl-ar" in capsys.readouterr().err


def test_the_flag_wins_over_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XL_AR_LOG_LEVEL", "debug")
    assert main(["--log-level", "error", "synth", "--out", str(tmp_path / "p"), "--claims", "10", "--quiet"]) == 0
    assert " INFO " not in capsys.readouterr().err


def test_a_bad_level_in_the_environment_is_an_input_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XL_AR_LOG_LEVEL", "loud")
    assert main(["synth", "--out", str(tmp_path / "p"), "--claims", "10", "--quiet"]) == 2
    assert "XL_AR_LOG_LEVEL: 'loud' is not a log level" in capsys.readouterr().err


def test_the_cli_handler_hides_an_identifier_a_module_logs_by_mistake(tmp_path, capsys, monkeypatch):
    from xl_ar import synth

    real = synth.generate

    def careless(*args, **kwargs):
        logging.getLogger("xl_ar.synth").info("row %(patient_name)s", {"patient_name": "Sandoval, Quinn"})
        return real(*args, **kwargs)
    monkeypatch.setattr(synth, "generate", careless)
    main(["--log-level", "info", "synth", "--out", str(tmp_path / "p"), "--claims", "10", "--quiet"])
    err = capsys.readouterr().err
    assert "Sandoval" not in err and f"row {privacy.HIDDEN}" in err
