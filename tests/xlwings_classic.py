"""Classic xlwings (COM) without Excel: its UDF machinery driven with stand-ins for Windows modules.

`xlwings.udfs` (decorator metadata, argument conversion, VBA wrapper generation) imports once
`pythoncom`, `pywintypes` and `win32com.client` exist; the converters need an engine named
`excel`, here a stand-in mirroring `_xlwindows.Engine` (`clean_value_data`,
`prepare_xl_data_element`). A UDF module is then loaded with the real decorators, and called the
way `xlwings.udfs.call_udf` calls it: every argument through `conversion.read` with its options,
missing optional arguments replaced by their defaults, the result through `conversion.write`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd

MISSING = -2147352572
"""What VBA passes for an omitted optional argument (call_udf replaces it by the default)."""


class _ExcelEngine:
    """Mirror of `xlwings._xlwindows.Engine` for values (what COM hands over for a range)."""

    name = "excel"
    type = "desktop"

    @staticmethod
    def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):
        def one(value):
            if value in ("", None):
                return empty_as
            if isinstance(value, dt.datetime):  # pywintypes.TimeType becomes a naive datetime
                return datetime_builder(value.year, value.month, value.day, value.hour, value.minute,
                                        value.second, value.microsecond)
            if number_builder is not None and isinstance(value, float):
                return number_builder(value)
            return value

        return [[one(c) for c in row] for row in data]

    @staticmethod
    def prepare_xl_data_element(x, date_format):
        if isinstance(x, (dt.date, dt.datetime)):
            return x
        if pd.isna(x):
            return ""
        if isinstance(x, np.number):
            return float(x)
        return "" if x is None else x


def install() -> types.ModuleType:
    """Make `xlwings.udfs` importable and give the converters an `excel` engine; returns xlwings.udfs."""
    if "pythoncom" not in sys.modules:
        pythoncom = types.ModuleType("pythoncom")
        pythoncom.CoInitialize = lambda: None
        sys.modules["pythoncom"] = pythoncom
    if "pywintypes" not in sys.modules:
        pywintypes = types.ModuleType("pywintypes")
        pywintypes.com_error = type("com_error", (Exception,), {})
        pywintypes.TimeType = dt.datetime
        sys.modules["pywintypes"] = pywintypes
    if "win32com.client" not in sys.modules:
        win32com = types.ModuleType("win32com")
        client = types.ModuleType("win32com.client")
        client.Dispatch = lambda *a, **k: None
        win32com.client = client
        sys.modules["win32com"] = win32com
        sys.modules["win32com.client"] = client
    import xlwings
    import xlwings.main
    import xlwings.udfs

    if "excel" not in xlwings.engines.engines_by_name:
        xlwings.engines.add(xlwings.main.Engine(impl=_ExcelEngine()))
    return xlwings.udfs


def load_with_classic_decorators(path: Path, name: str) -> types.ModuleType:
    """Load a UDF module with `xw.func/arg/ret` being classic xlwings' (as on Windows)."""
    udfs = install()
    import xlwings as xw

    saved = (xw.func, xw.arg, xw.ret)
    xw.func, xw.arg, xw.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        xw.func, xw.arg, xw.ret = saved
    return module


def call(module: types.ModuleType, func_name: str, *args):
    """Call a UDF the way `xlwings.udfs.call_udf` does for values passed from a worksheet."""
    from xlwings import conversion

    func = getattr(module, func_name)
    info = func.__xlfunc__
    converted = []
    for i, arg_info in enumerate(info["args"]):
        value = args[i] if i < len(args) else MISSING
        if isinstance(value, int) and value == MISSING:
            converted.append(arg_info.get("optional", None))
        else:
            converted.append(conversion.read(None, value, arg_info["options"]))
    result = func(*converted)
    return conversion.write(result, None, info["ret"]["options"])


def vba_wrappers(module: types.ModuleType, module_name: str, addin_name: str = "xl-ar.xlam") -> str:
    """The VBA that "Import Functions" writes for the module (as in the add-in)."""
    udfs = install()
    out = io.StringIO()
    udfs.generate_vba_wrapper(module_name, module, out, types.SimpleNamespace(Name=addin_name))
    return out.getvalue()
