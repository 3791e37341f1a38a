"""The xlwings Lite example (workbooks/lite/main.py) exposes every =AR_* function of udfs.functions."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path

import udfs.functions

ROOT = Path(__file__).resolve().parents[1]
MAIN = ROOT / "workbooks" / "lite" / "main.py"


def load_main():
    spec = importlib.util.spec_from_file_location("lite_main", MAIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shipped() -> dict[str, object]:
    return {name: f for name, f in vars(udfs.functions).items()
            if name.startswith("ar_") and inspect.isfunction(f) and f.__module__ == "udfs.functions"}


def test_main_exposes_every_function_of_the_add_in_as_the_same_object():
    main = load_main()
    functions = shipped()
    assert sorted(main.__all__) == sorted(functions)
    for name, function in functions.items():
        assert getattr(main, name) is function


def test_main_only_imports_and_defines_nothing_of_its_own():
    tree = ast.parse(MAIN.read_text(encoding="utf-8"))
    assert not [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [n.module for n in imports] == ["udfs.functions"]


def test_a_function_called_with_office_js_arguments_answers_in_the_cell():
    main = load_main()
    label, category, action = main.ar_carc("CO-45")[0]
    assert label and category and action
    as_of = 46295  # 2026-09-30 as Office.js sends a date: its serial number
    header = ["claim_id", "account_id", "payer_id", "service_date", "charge", "paid", "adjusted", "balance",
              "responsibility"]
    claims = [header, ["C1", "A1", "P1", 46285, 200, 0, 0, 200, "insurance"]]
    rows = main.ar_aging(claims, as_of)
    assert rows[0][0] == "group"
    assert isinstance(main.ar_kpis(claims, as_of), list)
