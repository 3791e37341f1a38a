"""The security audit script (benchmarks/security_audit.py, issue 13's closing numbers) runs, and its formula part,
the quickest, finds what the issue demands: text starting with =, +, -, @ in an 835, the exports and the practice
name reaches every workbook xl-ar writes as text, never as a live formula."""

from benchmarks import security_audit


def test_the_audit_s_formula_part_finds_no_injected_formula_in_any_workbook(tmp_path, monkeypatch):
    monkeypatch.setenv("XL_AR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XL_AR_TOKEN_KEY", "ab" * 32)
    monkeypatch.chdir(tmp_path)
    part = security_audit.part_formulas(tmp_path, quick=True)
    assert part.crashes == 0, part.notes
    # reconciliation workbook, report, report with --phi, the add-in's workbook: all four written and scanned
    assert part.figure.startswith("injected live formulas 0 ") and " in 4 workbooks" in part.figure, part.figure


def test_the_audit_counts_an_injected_formula_it_is_shown(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = f"={security_audit.MARK}(1)+1"  # injected and live
    book.active["A2"] = "=SUM(1,2)"  # a formula xl-ar builds
    book.active["A3"] = f"'+{security_audit.MARK}"  # a payload kept as text
    book.save(tmp_path / "b.xlsx")
    assert security_audit.formula_cells(tmp_path / "b.xlsx") == (1, 2, 1)  # (injected, formulas, texts)
