"""`xl-ar claims scrub` and `xl-ar claims export-837` (issue 14): which claims go, what is held back, the files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.cli14_practice import no_identifiers, run, tiny_practice
from tests.test_x12_837p import pyx12_errors
from xl_ar.cli import main
from xl_ar.x12.claims_in import read_837p


@pytest.fixture
def practice(tmp_path) -> Path:
    return tiny_practice(tmp_path / "practice")


# -- scrub ------------------------------------------------------------------------------------------

def test_scrub_checks_the_unbilled_claims_and_the_corrections_and_counts_by_rule(practice, tmp_path, capsys):
    code, out, err = run(capsys, "claims", "scrub", "--practice", str(practice), "--store", str(tmp_path / "s.db"))
    assert code == 0  # findings are results, not errors
    # to send: C1, C2 (no billed date) + C4 (frequency 7) = 3; C2 has 0 units -> 3 - 1 = 2 clean
    assert "Scrubbed 3 claims" in out and "2 clean, 1 held back by errors" in out
    assert "SCR-UNITS" in out
    assert no_identifiers(out + err)


def test_scrub_all_checks_every_claim(practice, capsys):
    code, out, _ = run(capsys, "claims", "scrub", "--practice", str(practice), "--all", "--json")
    figures = json.loads(out)
    # 4 claims; only C2 has an error: 4 - 1 = 3 clean
    assert (code, figures["claims"], figures["clean"], figures["held"]) == (0, 4, 3, 1)
    assert figures["rules"] == [{"rule_id": "SCR-UNITS", "severity": "error", "findings": 1, "claims": 1}]


def test_scrub_writes_the_findings_as_csv_with_claim_line_rule_message_and_fix(practice, store_at, tmp_path, capsys):
    target = tmp_path / "findings.csv"
    assert main(["claims", "scrub", "--practice", str(practice), "--out", str(target),
                 "--store", store_at]) == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["claim_id"], r["line_no"], r["rule_id"]) for r in rows] == [("C2", "1", "SCR-UNITS")]
    assert rows[0]["message"] and rows[0]["fix"]


def test_scrub_writes_the_findings_as_xlsx_with_the_claim_id_as_text(practice, tmp_path):
    target = tmp_path / "findings.xlsx"
    assert main(["claims", "scrub", "--practice", str(practice), "--out", str(target),
                 "--store", str(tmp_path / "s.db")]) == 0
    sheet = openpyxl.load_workbook(target).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert (row["claim_id"], row["line_no"], row["rule_id"]) == ("C2", 1, "SCR-UNITS")
    assert sheet.max_row == 2  # the header and the one finding


def test_a_csv_cell_that_would_run_as_a_formula_is_written_as_text(tmp_path):
    from xl_ar import tables
    from xl_ar.claims import write_findings

    found = tables.from_columns("scrub_findings", {"claim_id": ["=HYPERLINK(1)"], "line_no": [1],
                                                   "rule_id": ["SCR-UNITS"], "severity": ["error"],
                                                   "column": ["units"], "message": ["m"], "fix": ["f"]})
    write_findings(tmp_path / "f.csv", found)
    assert next(csv.DictReader((tmp_path / "f.csv").open()))["claim_id"] == "'=HYPERLINK(1)"


def test_scrub_uses_the_practice_payer_rules_file(practice, capsys):
    # P1 requires an authorization for 99213: C1 and C2 (P1, 99213, no authorization) get the finding
    (practice / "scrub_rules.csv").write_text("payer_id,rule,procedure_code,modifier,max_units,period_days,note\n"
                                              "P1,authorization,99213,,,,\n", encoding="utf-8")
    code, out, _ = run(capsys, "claims", "scrub", "--practice", str(practice), "--json")
    rules = {r["rule_id"]: r["claims"] for r in json.loads(out)["rules"]}
    assert code == 0 and rules.get("SCR-PAYER-AUTH") == 2


def test_a_bad_output_name_is_refused_and_nothing_is_written(practice, tmp_path, capsys):
    code, _, err = run(capsys, "claims", "scrub", "--practice", str(practice), "--out", str(tmp_path / "f.txt"))
    assert code == 2 and not (tmp_path / "f.txt").exists() and ".xlsx or .csv" in err


# -- export-837 -------------------------------------------------------------------------------------

def test_export_writes_the_clean_claims_to_send_and_reads_back(practice, tmp_path, capsys):
    target = tmp_path / "out.837"
    code, out, err = run(capsys, "claims", "export-837", "--practice", str(practice), "--out", str(target),
                         "--store", str(tmp_path / "s.db"))
    assert code == 0
    found, _ = read_837p(target.read_bytes(), target.name, pd.read_csv(practice / "payers.csv"))
    claims = found["claims"].set_index("claim_id")
    # sent: C1 (unbilled, clean) and C4 (replacement); C2 held back by the scrubber, C3 already billed
    assert sorted(claims.index) == ["C1", "C4"]
    assert claims.loc["C4", "frequency_code"] == "7" and claims.loc["C4", "original_payer_claim_id"] == "PCN4"
    assert int(claims.loc["C1", "charge"]) == 10000  # 100.00 in cents
    assert "2 claims" in out and no_identifiers(out + err)


def test_the_exported_837p_validates_with_pyx12(practice, tmp_path):
    target = tmp_path / "out.837"
    assert main(["claims", "export-837", "--practice", str(practice), "--out", str(target),
                 "--store", str(tmp_path / "s.db")]) == 0
    assert pyx12_errors(target.read_text(), tmp_path) == []


def test_two_exports_never_reuse_a_control_number(practice, store_at, tmp_path):
    store = store_at  # a SQLite file, then a PostgreSQL database: the control numbers count alike
    for name in ("a.837", "b.837"):
        assert main(["claims", "export-837", "--practice", str(practice), "--out", str(tmp_path / name),
                     "--store", store]) == 0
    heads = [(tmp_path / n).read_text().split("~")[:2] for n in ("a.837", "b.837")]
    isa13 = [isa.split("*")[13] for isa, _ in heads]
    gs06 = [gs.strip().split("*")[6] for _, gs in heads]
    assert isa13 == ["000000001", "000000002"]  # the first file takes 1, the next 1 + 1
    assert gs06 == ["1", "2"]


def test_export_refuses_without_the_edi_keys_naming_them_and_writes_nothing(tmp_path, capsys):
    practice = tiny_practice(tmp_path / "practice", edi=False)
    target = tmp_path / "out.837"
    code, _, err = run(capsys, "claims", "export-837", "--practice", str(practice), "--out", str(target),
                       "--store", str(tmp_path / "s.db"))
    assert code == 2 and not target.exists()
    for key in ("submitter_id", "receiver_id", "address"):
        assert key in err


def test_export_with_nothing_clean_writes_nothing(tmp_path, capsys):
    from tests.cli14_practice import CLAIMS

    practice = tiny_practice(tmp_path / "practice", claims=[CLAIMS[1], CLAIMS[2]])  # C2 (0 units), C3 (billed)
    target = tmp_path / "out.837"
    code, _, _ = run(capsys, "claims", "export-837", "--practice", str(practice), "--out", str(target),
                     "--store", str(tmp_path / "s.db"))
    assert code == 2 and not target.exists()


def test_a_claim_the_837p_format_refuses_is_named_by_its_row_in_the_claims_file(tmp_path, capsys):
    from tests.cli14_practice import CLAIMS

    # C4 (file row 5: header, C1, C2, C3, C4) names a rendering NPI practice.json has no name for
    c4 = CLAIMS[3].replace(",11,,7,", ",11,1245319599,7,")
    practice = tiny_practice(tmp_path / "practice", claims=[*CLAIMS[:3], c4])
    code, out, err = run(capsys, "claims", "export-837", "--practice", str(practice), "--out",
                         str(tmp_path / "out.837"), "--store", str(tmp_path / "s.db"))
    assert code == 0 and "1 claims (interchange 1); 1 clean claims the 837P format refused" in out
    assert "claims.csv row 5, column 'rendering_npi'" in err  # not row 3, its place among the claims sent


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A small synthetic practice with the 837P keys and its clinicians' names in practice.json."""
    from tests.cli14_practice import EDI
    from xl_ar.synth import generate

    folder = tmp_path_factory.mktemp("cli14") / "practice"
    generate(folder, claims=300, seed=3, show_progress=False)
    claims = pd.read_csv(folder / "claims.csv", dtype=str)
    info = json.loads((folder / "practice.json").read_text())
    npis = sorted(set(claims["Rendering NPI"].dropna()))
    info.update(EDI, providers={npi: f"CLINICIAN, NUMBER{i}" for i, npi in enumerate(npis)})
    (folder / "practice.json").write_text(json.dumps(info))
    return folder


def test_secondary_claims_go_to_a_second_file_with_their_cob_and_validate(synthetic, tmp_path, capsys):
    from xl_ar import secondary
    from xl_ar.practice import load_practice

    target = tmp_path / "out.837"
    code, out, err = run(capsys, "claims", "export-837", "--practice", str(synthetic), "--out", str(target),
                         "--secondary", "--quiet", "--store", str(tmp_path / "s.db"))
    assert code == 0 and no_identifiers(out + err)
    second = tmp_path / "out.secondary.837"
    practice = load_practice(synthetic)
    due = secondary.due(practice.table("claims"), practice.remittances()[0])
    found, _ = read_837p(second.read_bytes(), second.name, practice.table("payers"))
    # every claim secondary.due lists is built (the synthetic primaries balance): one COB row per claim
    assert sorted(found["cob_claims"]["claim_id"]) == sorted(due["claim_id"])
    assert (found["claims"]["claim_id"].sort_values().tolist() == sorted(due["claim_id"]))
    assert pyx12_errors(second.read_text(), tmp_path) == []
    assert pyx12_errors(target.read_text(), tmp_path) == []


def test_the_demo_step_scrubs_and_writes_the_837p_of_the_clean_claims(practice, tmp_path):
    from xl_ar import demo
    from xl_ar.practice import load_practice

    loaded = load_practice(practice)
    said = demo._claims_out(loaded, loaded.as_of(), tmp_path, tmp_path / "s.db")
    # 3 claims to send (C1, C2, C4), C2 held back by its one finding: 2 clean
    assert said.startswith("Scrubbed 3 claims to send: 2 clean, 1 held back by 1 findings; wrote claims.837")
    found, _ = read_837p((tmp_path / "claims.837").read_bytes(), "claims.837")
    assert sorted(found["claims"]["claim_id"]) == ["C1", "C4"]


def test_the_demo_step_says_which_837p_keys_practice_json_lacks(tmp_path):
    from xl_ar import demo
    from xl_ar.practice import load_practice

    loaded = load_practice(tiny_practice(tmp_path / "practice", edi=False))
    said = demo._claims_out(loaded, loaded.as_of(), tmp_path, tmp_path / "s.db")
    assert "no 837P (practice.json lacks" in said and "submitter_id" in said
    assert not (tmp_path / "claims.837").exists()


def test_the_clean_claim_rate_counts_scrubber_holds_and_first_acknowledgement_rejections(synthetic, capsys):
    code, out, _ = run(capsys, "claims", "scrub", "--practice", str(synthetic), "--all", "--json")
    assert code == 0
    got = json.loads(out)
    sent = got["clean"] + got["held"]  # self-pay claims are not sent, so not in the rate
    rejected = got["rejected_on_first_acknowledgement"]
    assert rejected > 0  # the synthetic 277CAs reject some billed claims the scrubber passes
    # rate = (sent - held - rejected) / sent
    assert got["clean_claim_rate"] == round((sent - got["held"] - rejected) / sent, 4)
