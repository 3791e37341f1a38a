"""The management report: verified in LibreOffice Calc, de-identified, printable, encrypted on request."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xl_ar import kpi
from xl_ar.cli import main
from xl_ar.practice import load_practice
from xl_ar.report import build_report
from xl_ar.store import Store

ERRORS = ("#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "Err:")
SHEETS = ["Summary", "Aging by payer", "Aging trend", "Rollforward", "Write-offs", "Denials", "Appeals",
          "Payer scorecard", "Patient AR", "Worklist", "Follow-up", "Guide"]


def workbook(path, **kw) -> openpyxl.Workbook:
    with warnings.catch_warnings():  # openpyxl does not read every chart / format extension; values are fine
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, **kw)


@pytest.fixture(scope="module")
def reports(practice_5k, tmp_path_factory):
    """Three reports of the 5,000-claim practice: as of a month earlier, then de-identified and with PHI."""
    out = tmp_path_factory.mktemp("reports")
    practice = load_practice(practice_5k)
    remitted, _ = practice.remittances()
    with Store.open(out / "store.sqlite") as store:
        earlier = build_report(practice, store, out / "earlier.xlsx", as_of=dt.date(2026, 8, 31), remittances=remitted)
        plain = build_report(practice, store, out / "report.xlsx", remittances=remitted)
        phi = build_report(practice, store, out / "phi.xlsx", phi=True, remittances=remitted)
        snapshots = store.snapshots(practice.info.name)
    return {"out": out, "practice": practice, "earlier": earlier, "plain": plain, "phi": phi, "snapshots": snapshots}


@pytest.fixture(scope="module")
def recalculated(reports, libreoffice):
    """The reports opened in LibreOffice Calc, every formula recalculated, saved again (one run)."""
    files = [reports["plain"].path, reports["phi"].path]
    return dict(zip(("plain", "phi"), libreoffice.convert(files, "xlsx", reports["out"] / "recalculated"),
                    strict=True))


def formula_cells(path: Path) -> list[tuple[str, str, str]]:
    wb = workbook(path)
    return [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.startswith("=")]


@pytest.mark.parametrize("which", ["plain", "phi"])
def test_libreoffice_recalculation_agrees_with_the_core_on_every_formula(reports, recalculated, which):
    path = reports[which].path
    cached = workbook(path, data_only=True)
    again = workbook(recalculated[which], data_only=True)
    formulas = formula_cells(path)
    assert len(formulas) > 80
    mismatches = []
    for sheet, coordinate, formula in formulas:
        a, b = cached[sheet][coordinate].value, again[sheet][coordinate].value
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            # money to the cent, ratios and days to 1e-9
            ok = round(a, 2) == round(b, 2) and abs(a - b) <= 1e-9 * max(1.0, abs(a))
        else:
            ok = (a in (None, "")) == (b in (None, "")) and (a in (None, "") or a == b)
        if not ok:
            mismatches.append((sheet, coordinate, formula, a, b))
    assert mismatches == []


@pytest.mark.parametrize("which", ["plain", "phi"])
def test_no_error_value_anywhere_after_recalculation(recalculated, which):
    wb = workbook(recalculated[which], data_only=True)
    errors = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith(ERRORS)]
    assert errors == []


def test_the_summary_shows_the_core_kpis(reports):
    practice = reports["practice"]
    values = kpi.kpis(practice.table("claims"), practice.as_of())
    wb = workbook(reports["plain"].path, data_only=True)
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names}
    assert {"TotalAR", "DaysInAR", "PctAROver90", "NetCollectionRate", "CreditBalances", "AsOfDate"} <= set(names)

    def named(name):
        sheet, ref = names[name].split("!")
        return wb[sheet.strip("'")][ref.replace("$", "")].value

    assert named("TotalAR") == values["total_ar"] / 100
    assert named("DaysInAR") == pytest.approx(values["days_in_ar"])
    assert named("PctAROver90") == pytest.approx(values["pct_over_90"])
    assert named("CreditBalances") == values["credit_balances"] / 100


def test_the_rollforward_explains_every_dollar_of_the_synthetic_ledger(reports):
    roll = reports["plain"].data.rollforward
    # the ending balance rebuilt from the dated flows equals the ledger's balances of the claims serviced by
    # the as-of date: nothing unexplained; future-dated claims (no charge in any month yet) are left out
    assert roll.table.unexplained.tolist() == [0] * len(roll.table)
    claims = reports["practice"].table("claims")
    served = claims.service_date <= pd.Timestamp(reports["plain"].data.as_of)
    assert int(roll.table.ending.iloc[-1]) == roll.ledger_ar == int(claims.balance[served].sum())
    assert (~served).any()  # the synthetic practice has future-dated claims with open balances


def test_changes_against_the_previous_snapshot(reports):
    # the report as of 2026-08-31 was built first: its figures are the previous ones
    tiles = {t.key: t for t in reports["plain"].data.tiles}
    earlier = {t.key: t for t in reports["earlier"].data.tiles}
    assert tiles["days_in_ar"].previous == pytest.approx(earlier["days_in_ar"].value)
    assert tiles["days_in_ar"].change == pytest.approx(tiles["days_in_ar"].value - earlier["days_in_ar"].value)
    snapshots = reports["snapshots"]
    assert snapshots.as_of.tolist() == [dt.date(2026, 8, 31), dt.date(2026, 9, 30)]


def identifiers(practice) -> set[str]:
    claims = practice.table("claims")
    dob = pd.to_datetime(claims.date_of_birth.dropna())
    found = set(claims.patient_name.dropna()) | set(claims.member_id.dropna()) | set(claims.account_id)
    found |= set(claims.claim_id) | set(claims.patient_address.dropna())
    found |= set(dob.dt.strftime("%m/%d/%Y")) | set(dob.dt.strftime("%Y-%m-%d"))
    return {x for x in found if len(x) >= 6}


def package_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_the_de_identified_report_holds_no_patient_identifier(reports):
    text = package_text(reports["plain"].path)  # every cell, chart, sheet name and document property
    found = sorted(x for x in identifiers(reports["practice"]) if x in text)
    assert found == []
    # the worklist shows claim tokens instead of claim ids
    wb = workbook(reports["plain"].path, data_only=True)
    claims = [c.value for c in wb["Worklist"]["C"][5:] if c.value]
    assert claims and all(re.fullmatch(r"C-[0-9A-F]{12}", c) for c in claims)


def test_the_phi_report_shows_identifiers_and_says_so_on_every_page(reports):
    text = package_text(reports["phi"].path)
    assert any(x in text for x in identifiers(reports["practice"]))
    wb = workbook(reports["phi"].path)
    for ws in wb.worksheets:
        assert "Contains PHI" in ws.oddHeader.center.text, ws.title
        assert ws["A3"].value.startswith("Contains PHI"), ws.title


def test_every_sheet_is_ready_to_print(reports):
    wb = workbook(reports["plain"].path)
    assert wb.sheetnames == SHEETS
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        # fit to one page wide (fitToWidth absent means its default, 1), as many pages tall as needed
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows, ws.title
        assert "Confidential" in ws.oddFooter.left.text and "&P" in ws.oddFooter.center.text, ws.title
        assert ws.freeze_panes, ws.title
        assert ws.print_area, ws.title


def test_fonts_are_named_everywhere(reports):
    with zipfile.ZipFile(reports["plain"].path) as z:
        styles = z.read("xl/styles.xml").decode()
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/")]
    cell_fonts = re.search(r"<fonts[^>]*>(.*?)</fonts>", styles, re.S).group(1)  # not the conditional formats
    fonts = re.findall(r"<font>(.*?)</font>", cell_fonts, re.S)
    assert fonts and all('<name val="Calibri"/>' in f for f in fonts)
    assert charts and all('typeface="Calibri"' in c for c in charts)


def test_the_report_renders_to_pdf_and_png_pages(reports, libreoffice, tmp_path):
    pages = libreoffice.render(reports["plain"].path, tmp_path / "pages")
    assert len(pages) >= len(SHEETS)
    assert all(p.stat().st_size > 5000 for p in pages)


def test_password_protected_report(reports, tmp_path):
    import msoffcrypto

    path = tmp_path / "locked.xlsx"
    assert main(["report", "--practice", str(reports["practice"].folder), "--out", str(path), "--password", "s3cret!",
                 "--store", str(tmp_path / "s.sqlite"), "--quiet"]) == 0
    data = path.read_bytes()
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # an encrypted OOXML package is an OLE container
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    assert office.is_encrypted()
    plain = io.BytesIO()
    office.load_key(password="s3cret!")
    office.decrypt(plain)
    wb = workbook(plain, data_only=True)
    assert wb.sheetnames == SHEETS and wb["Summary"]["A1"].value == "A/R management report"


def test_report_command_writes_the_workbook(reports, tmp_path, capsys):
    path = tmp_path / "cli.xlsx"
    assert main(["report", "--practice", str(reports["practice"].folder), "--out", str(path),
                 "--store", str(tmp_path / "s.sqlite"), "--quiet"]) == 0
    assert path.exists() and "de-identified" in capsys.readouterr().out
    with Store.open(tmp_path / "s.sqlite") as store:
        assert json.loads(store.audit_events().detail.iloc[-1])["phi"] is False


def test_render_command_without_libreoffice_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["render", str(tmp_path / "x.xlsx"), "--out", str(tmp_path)]) == 2
    assert "LibreOffice is not installed" in capsys.readouterr().err
