"""`xl-ar aging` and `xl-ar kpi` print the same numbers as the Excel functions."""

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest

from tests.test_udfs import AS_OF, CLAIMS
from udfs import functions
from xl_ar.cli import main


@pytest.fixture
def claims_csv(tmp_path):
    path = tmp_path / "claims.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        for row in CLAIMS:
            w.writerow([v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime) else ("" if v is None else v)
                        for v in row])
    return path


def test_aging_json_equals_the_function(claims_csv, capsys):
    assert main(["aging", "--claims", str(claims_csv), "--as-of", "2026-09-30", "--by", "payer", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    grid = functions.ar_aging(CLAIMS, AS_OF, "payer")
    labels = grid[0][2:-2]
    assert printed["buckets"] == labels
    for row, cli in zip(grid[1:], printed["rows"], strict=True):
        assert cli["group"] == row[0] and cli["claims"] == row[1]
        for label, value in zip(labels, row[2:-2], strict=True):
            assert (cli["buckets"][label] is None and value == "") or Decimal(cli["buckets"][label]) == Decimal(
                str(value))
        assert Decimal(cli["total"]) == Decimal(str(row[-2]))
        assert (cli["pct_over_90"] is None and row[-1] == "") or cli["pct_over_90"] == pytest.approx(row[-1])


def test_kpi_json_equals_the_function(claims_csv, capsys):
    assert main(["kpi", "--claims", str(claims_csv), "--as-of", "2026-09-30", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)["kpis"]
    table = dict(functions.ar_kpis(CLAIMS, AS_OF)[1:])
    assert Decimal(printed["total_ar"]) == Decimal("900.00") == Decimal(str(table["A/R (excluding credit balances)"]))
    assert printed["days_in_ar"] == pytest.approx(table["Days in A/R"], abs=1e-6)
    assert printed["pct_over_90"] == pytest.approx(table["% of billed A/R over 90 days"], abs=1e-6)
    assert Decimal(printed["credit_balances"]) == Decimal("50.00")


def test_aging_of_a_practice_folder_uses_its_as_of_date(practice_small, capsys):
    assert main(["aging", "--practice", str(practice_small), "--by", "payer_class"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A/R aging as of 2026-09-30 by service_date (payer_class)")
    assert "medicare" in out and "Credit balances" in out


def test_aging_needs_an_as_of_date_with_a_claims_file(claims_csv, capsys):
    assert main(["aging", "--claims", str(claims_csv)]) == 2
    assert "give --as-of" in capsys.readouterr().err


def test_kpi_text_output(claims_csv, capsys):
    assert main(["kpi", "--claims", str(claims_csv), "--as-of", "2026-09-30"]) == 0
    out = capsys.readouterr().out
    # 500 / 800 = 62.5%
    assert "% of billed A/R over 90 days" in out and "62.5%" in out
