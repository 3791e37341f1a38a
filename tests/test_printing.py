"""Reports a director can print (issue 10, section 11).

The management report and reconciliation.xlsx print landscape on US Letter, one page wide, with
a header on every page; no table header band is repeated above a page of charts alone, no note is
cut off, data bars stay off total rows, the worklist prints at 8 pt or more with wrapped text, and
the kinds of exception carry their names beside their codes. Checked on the workbooks' structure
(openpyxl), on the page geometry (`xl_ar.reports.printing`), and on pages rendered by LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from tests.test_kinds import AS_OF, PAYERS, claim
from xl_ar import tables
from xl_ar.cli import main
from xl_ar.kinds import BY_CODE
from xl_ar.practice import load_practice
from xl_ar.reconcile import reconcile, reconcile_tables
from xl_ar.report import build_report
from xl_ar.reports import printing, reconciliation
from xl_ar.store import Store

LETTER_LANDSCAPE = (11 * 72, 8.5 * 72)
HEADER_FILL = "1F4E78"


def load(path, **kw) -> openpyxl.Workbook:
    with warnings.catch_warnings():  # openpyxl does not read every chart / format extension
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path, **kw)


# -- what a page holds, read from the workbook alone (Excel's rules, independent of the writer) ----------

def print_columns(ws) -> list[str]:
    first, _, last, _ = range_boundaries(str(ws.print_area).split("!")[-1].replace("$", ""))
    return [get_column_letter(j) for j in range(first, last + 1)]


def column_pixels(ws, letter: str) -> int:
    """Excel's pixels of a column: its stored width (which includes 5 px of padding) x 7 px per character."""
    width = ws.column_dimensions[letter].width if letter in ws.column_dimensions else 8.43
    return int(width * 7 + 0.5)


def printed_scale(ws) -> float:
    """How much fitting the print area to one page wide shrinks it."""
    printable = (LETTER_LANDSCAPE[0] - 72 * (ws.page_margins.left + ws.page_margins.right))
    return min(1.0, printable / (0.75 * sum(column_pixels(ws, c) for c in print_columns(ws))))


def row_height(ws, row: int) -> float:
    return ws.row_dimensions[row].height or 15.0


def lines_at_least(text: str, pixels: float) -> int:
    """The fewest lines a text can take in a cell of these pixels (5.5 px a character: narrow for Calibri 10)."""
    return max(1, math.ceil(len(text) * 5.5 / max(1.0, pixels - 4)))


# -- page geometry ------------------------------------------------------------------------------------

def test_a_sheet_narrower_than_the_page_prints_at_full_size():
    # five columns of 10 characters: (10 x 7 + 5) px x 5 x 0.75 = 281.25 pt, less than 734.4 pt
    assert printing.fit_scale([10] * 5) == 1.0
    assert printing.printed_size(10, [10] * 5) == 10


def test_a_wider_sheet_shrinks_to_one_page_wide():
    # (100 x 7 + 5) px x 2 x 0.75 = 1057.5 pt on 734.4 pt: 10 pt text prints at 6.94 pt
    assert printing.printed_size(10, [100, 100]) == pytest.approx(10 * 734.4 / 1057.5)


def test_flexible_columns_share_what_keeps_text_at_eight_points():
    widths = printing.fit_widths([20, None, 10, None], [0, 1, 0, 3], font_size=10)
    assert widths[0] == 20 and widths[2] == 10
    assert widths[3] == pytest.approx(3 * widths[1], abs=1)  # shared 1:3
    assert 8 <= printing.printed_size(10, widths) < 8.1  # about as wide as 8 pt allows


def test_a_column_never_gets_narrower_than_its_minimum():
    widths = printing.fit_widths([20, None, None], [0, 1, 9], font_size=10, min_width=[0, 30, 8])
    assert widths[1] == 30 and printing.printed_size(10, widths) >= 8


def test_wrapped_lines_follow_a_greedy_word_wrap():
    room = (10 * printing.NARROW_DIGIT + 1) * 0.97  # 66.9 px in a column 10 characters wide
    n = 525 * (10 * 96 / 72) / 1000  # an 'n' of Calibri 10 is 7.0 px, a space 3.0 px
    assert 3 * 4 * n + 2 * 3.0 > room > 2 * 4 * n + 3.0  # so two 4-letter words fit on a line, three do not
    assert printing.wrapped_lines(["nnnn nnnn nnnn", "nnnn nnnn", "nnnn\nnnnn", ""], 10).tolist() == [2, 1, 2, 1]


def test_a_word_longer_than_the_column_is_broken_across_lines():
    # 20 x 7.0 px = 140 px in 66.9 px: three lines
    assert printing.wrapped_lines(["n" * 20], 10).tolist() == [3]


def test_a_column_as_wide_as_the_longest_word_keeps_it_whole():
    words = ["coordination of benefits", "missing information"]
    width = printing.word_width(words)
    assert printing.wrapped_lines(["coordination"], width).tolist() == [1]
    assert printing.wrapped_lines(["coordination"], width - 2).tolist() == [2]


def test_a_block_that_would_cross_a_page_starts_a_new_one():
    # 15 pt rows on a 525.6 pt page: 35 rows a page; rows 30..40 (165 pt) cannot follow 450 pt
    assert printing.paginate({}, 60, [10], keep=[(30, 40)]).breaks == [30]
    assert printing.paginate({}, 60, [10], keep=[(10, 20)]).breaks == []  # it fits where it is


def test_a_block_taller_than_a_page_is_left_to_the_program():
    assert printing.paginate({}, 120, [10], keep=[(30, 80)]).breaks == []


def test_repeated_rows_take_room_on_every_later_page():
    # page 2 starts at row 35 with 45 pt of repeated rows: 32 rows fit (45 + 32 x 15 = 525), the 33rd breaks
    pages = printing.paginate({}, 35 + 32, [10], repeated=45)
    assert pages.count == 3 and pages.used == pytest.approx(45 + 15)


# -- the management report --------------------------------------------------------------------------

def with_many_payers(folder: Path, out: Path, payers: int = 34) -> Path:
    """A copy of a practice where half the insured claims go to `payers` more payers with long names: an
    aging table that runs over a page."""
    shutil.copytree(folder, out)
    rng = np.random.default_rng(3)
    claims = pd.read_csv(out / "claims.csv", dtype=str, keep_default_na=False)
    table = pd.read_csv(out / "payers.csv", dtype=str, keep_default_na=False)
    more = pd.DataFrame({"payer_id": [f"P{i:02d}" for i in range(payers)],
                         "name": [f"Regional Health Plan of the Northern Valley, District {i}" for i in range(payers)],
                         "payer_class": "commercial", "timely_filing_days": "90", "appeal_days": "180",
                         "payer_ref": [f"SYNP{i:02d}" for i in range(payers)]})
    pd.concat([table, more]).to_csv(out / "payers.csv", index=False)
    moved = (claims["Ins Code"] != "SELF") & (rng.random(len(claims)) < 0.5)
    claims.loc[moved, "Ins Code"] = more.payer_id.to_numpy()[rng.integers(0, payers, int(moved.sum()))]
    claims.to_csv(out / "claims.csv", index=False)
    return out


@pytest.fixture(scope="module")
def reports(practice_5k, tmp_path_factory):
    out = tmp_path_factory.mktemp("printed")
    practice = load_practice(practice_5k)
    remitted, _ = practice.remittances()
    many = load_practice(with_many_payers(practice_5k, out / "many"))
    with Store.open(out / "store.sqlite") as store:
        plain = build_report(practice, store, out / "report.xlsx", remittances=remitted)
        phi = build_report(practice, store, out / "phi.xlsx", phi=True, remittances=remitted)
        crowded = build_report(many, store, out / "many.xlsx", remittances=remitted)
    result = reconcile_tables(practice.all_tables(), remitted, practice.as_of())
    rec = reconciliation.write(out / "reconciliation.xlsx", result, practice.info.name)
    return {"out": out, "plain": plain.path, "phi": phi.path, "many": crowded.path, "reconciliation": rec}


@pytest.mark.parametrize("which", ["plain", "phi"])
def test_the_worklist_prints_at_eight_points_or_more(reports, which):
    ws = load(reports[which])["Worklist"]
    sizes = {c.font.sz for row in ws.iter_rows(min_row=5) for c in row if c.value is not None}
    # the smallest font times the shrink that fits the sheet on one page wide
    assert min(sizes) * printed_scale(ws) >= 8.0


@pytest.mark.parametrize("which", ["plain", "phi"])
def test_the_worklist_wraps_its_text_in_rows_tall_enough(reports, which):
    ws = load(reports[which])["Worklist"]
    headers = {c.value: c.column_letter for c in ws[5]}
    wrapped = [headers[h] for h in ("Kind", "Category", "Reason", "Next action")]
    assert ws.max_row > 50
    for r in range(6, ws.max_row + 1):
        for letter in wrapped:
            cell = ws[f"{letter}{r}"]
            if cell.value:
                assert cell.alignment.wrap_text, cell.coordinate
                need = lines_at_least(str(cell.value), column_pixels(ws, letter))
                assert row_height(ws, r) >= need * 12, (cell.coordinate, cell.value)


@pytest.mark.parametrize("which", ["plain", "phi"])
def test_no_note_is_cut_off(reports, which):
    for ws in load(reports[which]).worksheets:
        for merged in ws.merged_cells.ranges:
            cell = ws.cell(merged.min_row, merged.min_col)
            if not cell.value:
                continue
            pixels = sum(column_pixels(ws, get_column_letter(j)) for j in range(merged.min_col, merged.max_col + 1))
            need = lines_at_least(str(cell.value), pixels)
            assert need == 1 or cell.alignment.wrap_text, (ws.title, cell.coordinate)
            assert row_height(ws, merged.min_row) >= need * 12, (ws.title, cell.coordinate)


def test_no_data_bar_covers_a_total_row(reports):
    found = 0
    for ws in load(reports["plain"]).worksheets:
        totals = {c.row for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Total")}
        for cf in ws.conditional_formatting:
            if any(rule.type == "dataBar" for rule in cf.rules):
                found += 1
                rows = {r for cells in cf.sqref.ranges for r in range(cells.min_row, cells.max_row + 1)}
                assert not rows & totals, (ws.title, str(cf.sqref))
    assert found  # the aging's totals by payer carry bars


def header_rows(ws) -> set[int]:
    """Rows holding a table header band (cells filled with the header colour)."""
    return {c.row for row in ws.iter_rows() for c in row
            if c.fill is not None and c.fill.fgColor is not None and str(c.fill.fgColor.rgb).endswith(HEADER_FILL)}


def repeated_rows(ws) -> range:
    first, last = (int(x) for x in re.findall(r"\d+", ws.print_title_rows))
    return range(first, last + 1)


def pages_of_rows(ws) -> dict[int, int]:
    """The printed page of each row (1-based) as Excel lays them out: page height at the sheet's shrink, row
    heights, the repeated rows on every later page, manual breaks."""
    page = (LETTER_LANDSCAPE[1] - 72 * (ws.page_margins.top + ws.page_margins.bottom)) / printed_scale(ws)
    repeated = sum(row_height(ws, r) for r in repeated_rows(ws))
    starts = {b.id + 1 for b in ws.row_breaks.brk}  # a break after row id: the next page starts below it
    last = range_boundaries(str(ws.print_area).split("!")[-1].replace("$", ""))[3]
    number, used, pages = 1, 0.0, {}
    for r in range(1, last + 1):
        h = row_height(ws, r)
        top = repeated if number > 1 else 0.0
        if (r in starts or used + h > page) and used > top:
            number, used = number + 1, repeated
        used += h
        pages[r] = number
    return pages


@pytest.mark.parametrize("which", ["plain", "phi", "many"])
def test_a_table_header_is_repeated_only_above_pages_that_hold_its_rows(reports, which):
    book = load(reports[which])
    charted = [ws for ws in book.worksheets if ws._charts]
    assert len(charted) == 4  # aging, trend, rollforward, denials
    banded = 0
    for ws in charted:
        bands = header_rows(ws)
        if not set(repeated_rows(ws)) & bands:
            continue  # the sheet's title rows head every page: a page of charts alone is headed by them
        banded += 1
        pages = pages_of_rows(ws)
        for chart in ws._charts:
            top, bottom = chart.anchor._from.row + 1, chart.anchor.to.row + 1
            assert pages[top] == pages[bottom], ws.title  # never cut by a page break
            band = max(r for r in bands if r < top)
            table_rows = [r for r in range(band + 1, top)
                          if pages[r] == pages[top] and isinstance(ws.cell(r, 2).value, (int, float))]
            assert table_rows, f"{ws.title}: a chart on a page of its own under the repeated header"
    if which == "many":
        assert banded  # forty payers: the aging runs over a page, its header repeated


def test_every_sheet_of_the_report_prints_landscape_letter_one_page_wide(reports):
    for ws in load(reports["plain"]).worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 1, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows, ws.title


# -- reconciliation.xlsx ------------------------------------------------------------------------------

FORMULA_ID = '=HYPERLINK("http://example.test","open")'


@pytest.fixture
def small_workbook(tmp_path) -> openpyxl.Workbook:
    """A credit balance on a claim whose id looks like a formula (-5.00) and a claim billed with no answer."""
    claims = tables.to_frame("claims", [claim(FORMULA_ID, -500, dt.date(2026, 8, 1)),
                                        claim("C2", 20000, dt.date(2026, 6, 1))])
    result = reconcile(claims, {n: tables.empty(n) for n in tables.REMITTANCE_TABLES}, tables.empty("postings"),
                       tables.empty("deposits"), AS_OF, PAYERS)
    return load(reconciliation.write(tmp_path / "r.xlsx", result, "Test"))


def headers(ws) -> dict[str, str]:
    return {c.value: c.column_letter for c in ws[3] if c.value}


def test_reconciliation_sheets_print_landscape_one_page_wide_with_their_header_on_every_page(small_workbook):
    for ws in small_workbook.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 1, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows == "$3:$3", ws.title  # the header row


def test_reconciliation_header_rows_are_styled(small_workbook):
    for ws in small_workbook.worksheets:
        for cell in ws[3]:
            assert cell.font.b and str(cell.fill.fgColor.rgb).endswith(HEADER_FILL), (ws.title, cell.coordinate)
            assert str(cell.font.color.rgb).endswith("FFFFFF") and cell.alignment.wrap_text, (ws.title, cell.coordinate)


@pytest.mark.parametrize("sheet", ["Reconciliation", "Worklist"])
def test_each_kind_code_has_its_name_beside_it(small_workbook, sheet):
    ws = small_workbook[sheet]
    h = headers(ws)
    assert column_index_from_string(h["Kind code"]) == column_index_from_string(h["Kind"]) + 1
    rows = [(ws[f"{h['Kind']}{r}"].value, ws[f"{h['Kind code']}{r}"].value) for r in range(4, ws.max_row + 1)]
    assert sorted(rows) == [("Credit balance", "credit_balance"), ("No response", "no_response")]
    assert all(BY_CODE[code].label == label for label, code in rows)


def test_text_from_the_data_stays_text_and_numbers_stay_numbers(small_workbook):
    ws = small_workbook["Reconciliation"]
    h = headers(ws)
    row = next(r for r in range(4, ws.max_row + 1) if ws[f"{h['Kind code']}{r}"].value == "credit_balance")
    claim_cell = ws[f"{h['Claim']}{row}"]
    assert claim_cell.data_type == "s" and claim_cell.value == FORMULA_ID  # not a formula
    actual = ws[f"{h['Actual']}{row}"]
    assert actual.data_type == "n" and actual.value == -5.0  # -500 cents
    assert isinstance(ws[f"{h['Deadline']}{row}"].value, dt.datetime)


def test_the_reconcile_command_prints_each_kind_by_its_name(practice_small, capsys):
    assert main(["reconcile", "--practice", str(practice_small), "--quiet", "--top", "5"]) == 0
    out = capsys.readouterr().out
    summary = [line for line in out.splitlines() if line.startswith("  ") and line.rstrip().endswith(")")]
    assert summary
    for line in summary:
        code = line.rstrip()[:-1].rsplit("(", 1)[1]
        assert line.strip().startswith(BY_CODE[code].label), line
    worklist = [line for line in out.splitlines() if re.match(r"\s+\d+\. ", line)]
    assert len(worklist) == 5
    assert all(any(f". {k.label} " in line for k in BY_CODE.values()) for line in worklist)


# -- the printed pages, as LibreOffice renders them ---------------------------------------------------

def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])  # the IHDR chunk
    return width, height


def page_lines(pdf: Path) -> list[list[str]]:
    """Each page's lines of text, top to bottom (pdftotext word boxes grouped by their top)."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in xml.split("<page ")[1:]:
        rows: dict[int, list[tuple[float, str]]] = {}
        for x, y, word in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', page):
            rows.setdefault(round(float(y)), []).append((float(x), word))
        pages.append([" ".join(w for _, w in sorted(rows[y])) for y in sorted(rows)])
    return pages


@pytest.fixture(scope="module")
def rendered(reports, libreoffice):
    out = reports["out"] / "pages"
    return {which: libreoffice.render(reports[which], out / which) for which in ("plain", "many", "reconciliation")}


def test_rendered_pages_are_landscape_letter(rendered):
    for which, pages in rendered.items():
        assert pages, which
        # 11 x 8.5 in at 70 dpi
        assert {png_size(p) for p in pages} == {(770, 595)}, which


@pytest.mark.parametrize("which", ["plain", "many"])
def test_no_rendered_page_shows_a_table_header_over_charts_alone(reports, rendered, which):
    book = load(reports[which])
    bands = {}
    for ws in book.worksheets:
        repeated = repeated_rows(ws)
        for r in set(repeated) & header_rows(ws):
            bands[ws.title] = " ".join(str(c.value) for c in ws[r][:2] if c.value)
    lines = page_lines(Path(rendered[which][0]).with_name(Path(reports[which]).stem + ".pdf"))
    assert 7 <= len(lines) == len(rendered[which]) <= 40
    # table rows show cents, tenths of a percent or tenths of a day (the Follow-up sheet's medians); chart axes do not
    money = re.compile(r"\d\.\d\d?\b|\d\.\d%")
    for number, page in enumerate(lines, start=1):
        top = [line for line in page[:3] if not line.startswith("Contains PHI")][:1]
        if top and any(top[0].startswith(band) for band in bands.values()):
            assert any(money.search(line) for line in page[1:]), f"page {number}: a header band over charts alone"


def test_rendering_again_replaces_the_pictures_of_the_last_rendering(tmp_path, libreoffice):
    book = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "one page"
    wb.save(book)
    out = tmp_path / "pages"
    out.mkdir()
    (out / "book-001.png").write_bytes(b"from a 100-page rendering")  # pdftoppm pads to the page count
    (out / "book-cover.png").write_bytes(b"not a page")
    pages = libreoffice.render(book, out)
    assert [p.name for p in pages] == ["book-1.png"]
    assert sorted(p.name for p in out.glob("*.png")) == ["book-1.png", "book-cover.png"]
