"""The xl-ar Excel add-in `xl_ar.xlam`, assembled from text sources on any OS (issue 11, items 1-4).

Sources (a change to the add-in is a readable diff, never a binary edited by hand):

- `workbooks/addin/customUI/customUI.xml`: the "Medical A/R" ribbon tab;
- `workbooks/addin/vba/RibbonXlAr.bas`: the ribbon callbacks (`RunPython` on `udfs.ribbon`);
- the UDF wrappers xlwings' own generator (`xlwings.udfs.generate_vba_wrapper`) writes for `udfs.functions`, made at
  build time with the module header "Import Functions" writes, and the functions' names in upper case;
- `ThisWorkbook`: registers each function's description, category and argument help on open, from the same
  `@xw.func` / `@xw.arg` metadata;
- the config sheet `xl_ar.conf` (xlwings reads `<PROJECT_NAME>.conf`): `UDF MODULES` and xl-ar's settings keys.

The VBA project starts from xlwings' shipped ribbon add-in (its references, PROJECT lines and `Dictionary`), with
xlwings' module renamed to our project (`PROJECT_NAME = "xl_ar"`) and its sample ribbon module dropped. The package is
deterministic: fixed zip timestamps and attributes, entries sorted, no dates in docProps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import io
import re
import sys
import types
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from xl_ar import outputs, settings
from xl_ar.addin import project

ADDIN_FILE = "xl_ar.xlam"
"""The file name; it also gives xlwings' default UDF module and the MacroOptions target `'xl_ar.xlam'!NAME`."""
PROJECT_NAME = "xl_ar"
"""The VBA project name, and xlwings' `PROJECT_NAME`: the config sheet and user file are `xl_ar.conf`."""
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
UDF_MODULE = "udfs.functions"
UDF_VBA_MODULE = "XlArFunctions"
"""The VBA module holding the UDF wrappers (xlwings' "Import Functions" would call it `xlwings_udfs`)."""
RIBBON_MODULE = "RibbonXlAr.bas"
"""The ribbon callbacks; ribbon module names must be unique across the add-ins Excel has loaded."""
DROPPED_BASE_MODULES = ("RibbonMyAddin",)
"""xlwings' sample ribbon module in the base project."""

SOURCE_FILES = ("customUI/customUI.xml", f"vba/{RIBBON_MODULE}")
"""The text sources, relative to the sources folder (pyproject.toml ships the same files in the wheel)."""


def default_sources() -> Path:
    """`workbooks/addin` of a checkout, else the copy an installed wheel keeps in `<prefix>/share/xl-ar/addin`
    (the prefix of the environment, of a user install, or the one above this file's site-packages)."""
    import site

    here = Path(__file__).resolve()
    shared = [Path(p) / "share" / "xl-ar" / "addin"
              for p in (sys.prefix, site.USER_BASE or sys.prefix, *here.parents[4:6])]
    for folder in (here.parents[2] / "workbooks" / "addin", *shared):
        if all((folder / f).is_file() for f in SOURCE_FILES):
            return folder
    return shared[0]


SOURCES = default_sources()

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MAX_HELP = 255  # Application.MacroOptions: Description and each ArgumentDescriptions entry at most 255 characters
MAX_CONTINUATIONS = 24  # VBA: at most 24 line continuations in one logical line

# --- the functions' metadata, from classic xlwings' decorators --------------------------------------------------------


@dataclass(frozen=True)
class FunctionHelp:
    """What the function wizard shows for one function: Excel name, description, category, argument help."""

    name: str
    python_name: str
    description: str
    category: str
    arguments: tuple[tuple[str, str], ...]


@contextlib.contextmanager
def _classic_xlwings() -> Iterator[types.ModuleType]:
    """`xlwings.udfs` (classic, COM) importable on any OS: the Windows modules it imports at top level are stood in
    for while it is imported (only those missing; removed afterwards). Its VBA generator and decorators need none."""
    names = ("pythoncom", "pywintypes", "win32com", "win32com.client")
    missing = [n for n in names if n not in sys.modules and importlib.util.find_spec(n.split(".")[0]) is None]
    for name in missing:
        stub = types.ModuleType(name)
        stub.com_error = type("com_error", (Exception,), {})  # pywintypes
        stub.Dispatch = lambda *a, **k: None  # win32com.client
        stub.CoInitialize = lambda: None  # pythoncom (an executor initializer, never run here)
        sys.modules[name] = stub
    if "win32com.client" in missing:
        sys.modules["win32com"].client = sys.modules["win32com.client"]
    try:
        import xlwings.udfs

        yield xlwings.udfs
    finally:
        for name in missing:
            sys.modules.pop(name, None)


def classic_udf_module(module_name: str = UDF_MODULE) -> types.ModuleType:
    """A fresh copy of the UDF module loaded with classic xlwings' `func`/`arg`/`ret` (as on Windows), so that each
    function carries the `__xlfunc__` metadata the VBA generator reads, whatever OS builds the add-in."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(module_name)
    import xlwings as xw

    with _classic_xlwings() as udfs:
        saved = (xw.func, xw.arg, xw.ret)
        xw.func, xw.arg, xw.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
        try:
            copy_spec = importlib.util.spec_from_file_location(f"_xl_ar_classic_{module_name.replace('.', '_')}",
                                                               spec.origin)
            module = importlib.util.module_from_spec(copy_spec)
            copy_spec.loader.exec_module(module)
        finally:
            xw.func, xw.arg, xw.ret = saved
    return module


def _one_line(text: str | None) -> str:
    """A docstring as one line for the wizard: dedented, whitespace collapsed, cut to 255 characters."""
    line = " ".join(inspect.cleandoc(text or "").split())
    return line if len(line) <= MAX_HELP else line[:MAX_HELP - 3].rstrip() + "..."


def _functions(module: types.ModuleType) -> list[dict]:
    """The `__xlfunc__` metadata of every UDF of the module, by name (the order is the generator's, `dir`)."""
    return [getattr(module, a).__xlfunc__ for a in dir(module) if hasattr(getattr(module, a), "__xlfunc__")]


def function_help(module: types.ModuleType) -> list[FunctionHelp]:
    """Each function's wizard help from its decorators: name in upper case, docstring, category, `@xw.arg` docs."""
    return [FunctionHelp(name=f["name"].upper(), python_name=f["name"], description=_one_line(f["ret"]["doc"]),
                         category=f["category"],
                         arguments=tuple((a["name"], _one_line(a["doc"])) for a in f["args"] if not a["vba"]))
            for f in _functions(module)]


# --- the VBA modules ----------------------------------------------------------------------------------------------


def _vba_string(text: str) -> str:
    """A VBA string literal (quotes doubled); refuses line breaks, which a literal cannot hold."""
    if "\r" in text or "\n" in text:
        raise ValueError(f"a line break in VBA string text: {text!r}")
    return '"' + text.replace('"', '""') + '"'


def udf_wrappers(module: types.ModuleType, module_name: str = UDF_MODULE) -> project.Module:
    """The UDF wrapper module: xlwings' generated VBA for the module, with the header "Import Functions" writes
    (`Attribute VB_Name`, `#Const App = "Microsoft Excel"`, without which every wrapper compiles its `#Else`
    branch) and each function declared in upper case (`Function AR_AGING(...)`; the Python name passed to
    `CallUDF` stays as it is)."""
    out = io.StringIO()
    with _classic_xlwings() as udfs:
        udfs.generate_vba_wrapper(module_name, module, out, types.SimpleNamespace(Name=ADDIN_FILE))
    body = out.getvalue().replace("\r\n", "\n")
    for f in _functions(module):
        body = re.sub(rf'(?<!")\b{re.escape(f["name"])}\b(?!")', f["name"].upper(), body)
    text = f'Attribute VB_Name = "{UDF_VBA_MODULE}"\n#Const App = "Microsoft Excel"\n{body}'
    return project.Module(UDF_VBA_MODULE, "module", text.replace("\n", "\r\n"))


def _register_call(function: FunctionHelp) -> list[str]:
    """One `Describe` call of ThisWorkbook's `RegisterFunctions`, an argument's help per continued line."""
    head = f"    Describe {_vba_string(function.name)}, {_vba_string(function.description)}, " \
           f"{_vba_string(function.category)}"
    if not function.arguments:
        return [head]
    if len(function.arguments) + 1 > MAX_CONTINUATIONS:
        raise ValueError(f"{function.name}: too many arguments for one VBA statement")
    docs = [f"        {_vba_string(doc)}" for _, doc in function.arguments]
    return [head + ", Array( _", *(d + ", _" for d in docs[:-1]), docs[-1] + ")"]


def this_workbook(base: project.Module, functions: Sequence[FunctionHelp]) -> project.Module:
    """ThisWorkbook: the base's document attributes, then `Workbook_Open` registering every function's help.

    `Application.MacroOptions` refuses to edit a macro of a hidden workbook (an add-in), so `IsAddin` is turned off
    around the calls and restored even on an error; `Saved` is restored so that closing Excel asks nothing.
    """
    attributes = [line for line in base.source.split("\r\n") if line.startswith("Attribute ")]
    lines = [
        *attributes,
        "' Generated by xl_ar.addin.package from the @xw.func / @xw.arg metadata of udfs.functions: do not edit.",
        "Option Explicit",
        "",
        "Private Sub Workbook_Open()",
        "    RegisterFunctions",
        "End Sub",
        "",
        "Private Sub Describe(functionName As String, helpText As String, categoryName As String, "
        "Optional argumentHelp As Variant)",
        "    Dim target As String",
        "    target = \"'\" & ThisWorkbook.Name & \"'!\" & functionName",
        "    If IsMissing(argumentHelp) Then",
        "        Application.MacroOptions Macro:=target, Description:=helpText, Category:=categoryName",
        "    Else",
        "        Application.MacroOptions Macro:=target, Description:=helpText, Category:=categoryName, "
        "ArgumentDescriptions:=argumentHelp",
        "    End If",
        "End Sub",
        "",
        "Private Sub RegisterFunctions()",
        "    Dim wasAddin As Boolean, wasSaved As Boolean",
        "    wasAddin = ThisWorkbook.IsAddin",
        "    wasSaved = ThisWorkbook.Saved",
        "    On Error GoTo done",
        "    ThisWorkbook.IsAddin = False",
    ]
    for function in functions:
        lines += _register_call(function)
    lines += [
        "done:",
        "    ThisWorkbook.IsAddin = wasAddin",
        "    ThisWorkbook.Saved = wasSaved",
        "End Sub",
        "",
    ]
    return project.Module(base.name, "document", "\r\n".join(lines))


def xlwings_module(base: project.Module) -> project.Module:
    """xlwings' module of the base project with `PROJECT_NAME` set to ours (the config sheet and file it reads)."""
    pattern = r'^Public Const PROJECT_NAME As String = "[^"]*"'
    source, count = re.subn(pattern, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"', base.source,
                            flags=re.MULTILINE)
    if count != 1:
        raise ValueError("xlwings' module: no single PROJECT_NAME constant")
    return dataclasses.replace(base, source=source)


def vba_modules(sources: Path = SOURCES, module_name: str = UDF_MODULE) -> tuple[project.Project, list[project.Module]]:
    """The base project (sample ribbon module dropped) and the modules the add-in adds or replaces."""
    base = project.read_xlam_project(project.xlwings_ribbon_addin())
    base = dataclasses.replace(base, modules=tuple(m for m in base.modules if m.name not in DROPPED_BASE_MODULES))
    udf_module = classic_udf_module(module_name)
    modules = [
        xlwings_module(base.module("xlwings")),
        this_workbook(base.module("ThisWorkbook"), function_help(udf_module)),
        project.load_module(sources / "vba" / RIBBON_MODULE),
        udf_wrappers(udf_module, module_name),
    ]
    return base, modules


# --- the package parts ---------------------------------------------------------------------------------------------

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT_ADDIN = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CONTENT_TYPES = {
    "/xl/workbook.xml": CT_ADDIN,
    "/xl/worksheets/sheet1.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
    "/xl/styles.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
    "/xl/vbaProject.bin": "application/vnd.ms-office.vbaProject",
    "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
    "/docProps/app.xml": "application/vnd.openxmlformats-officedocument.extended-properties+xml",
}
SHEET_CODE_NAME = "Sheet2"
"""The document module of the config sheet, kept from the base project (codeName in the sheet XML)."""


def _relationships(rels: Sequence[tuple[str, str, str]]) -> bytes:
    body = "".join(f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>' for rid, kind, target in rels)
    return (XML_HEAD + f'<Relationships xmlns="{NS_PKG_REL}">{body}</Relationships>').encode()


def config_rows() -> list[tuple[str, str, str]]:
    """The config sheet's rows (key, value, note): xlwings' `UDF MODULES`, then every xl-ar setting key with an
    empty value and, in column C (which xlwings does not read), what it is for and its default."""
    return [("UDF MODULES", UDF_MODULE, "xlwings: the Python module of the =AR_ functions"),
            *((key, "", note) for key, note in settings.sheet_rows())]


def _cell(ref: str, text: str) -> str:
    """A text cell as an inline string: never a formula, whatever the text starts with."""
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def _sheet_xml(rows: Sequence[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f'<row r="{i}">' + _cell(f"A{i}", key) + (_cell(f"B{i}", value) if value else "")
        + (_cell(f"C{i}", note) if note else "") + "</row>"
        for i, (key, value, note) in enumerate(rows, start=1))
    return (XML_HEAD + f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}"><sheetPr codeName="{SHEET_CODE_NAME}"/>'
            '<cols><col min="1" max="1" width="28" customWidth="1"/><col min="2" max="2" width="48" customWidth="1"/>'
            '<col min="3" max="3" width="100" customWidth="1"/>'
            f"</cols><sheetData>{body}</sheetData></worksheet>").encode()


def package_parts(vba_project_bin: bytes, custom_ui: bytes) -> dict[str, bytes]:
    """Every part of the .xlam by zip name (the workbook, one config sheet, styles, docProps, VBA, ribbon)."""
    overrides = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in CONTENT_TYPES.items())
    return {
        "[Content_Types].xml": (
            XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>').encode(),
        "_rels/.rels": _relationships([
            ("rId1", f"{REL_DOC}/officeDocument", "xl/workbook.xml"),
            ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
             "docProps/core.xml"),
            ("rId3", f"{REL_DOC}/extended-properties", "docProps/app.xml"),
            ("rId4", "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility",
             "customUI/customUI.xml"),
        ]),
        "docProps/core.xml": (
            XML_HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>xl-ar: Medical A/R</dc:title>'
            "<dc:creator>xl-ar</dc:creator></cp:coreProperties>").encode(),
        "docProps/app.xml": (
            XML_HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>Microsoft Excel</Application></Properties>").encode(),
        "xl/workbook.xml": (
            XML_HEAD + f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_R}"><workbookPr codeName="ThisWorkbook"/>'
            '<bookViews><workbookView visibility="hidden"/></bookViews>'
            f'<sheets><sheet name="{CONFIG_SHEET}" sheetId="1" r:id="rId1"/></sheets></workbook>').encode(),
        "xl/_rels/workbook.xml.rels": _relationships([
            ("rId1", f"{REL_DOC}/worksheet", "worksheets/sheet1.xml"),
            ("rId2", f"{REL_DOC}/styles", "styles.xml"),
            ("rId3", "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin"),
        ]),
        "xl/styles.xml": (
            XML_HEAD + f'<styleSheet xmlns="{NS_MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>").encode(),
        "xl/worksheets/sheet1.xml": _sheet_xml(config_rows()),
        "xl/vbaProject.bin": vba_project_bin,
        "customUI/customUI.xml": custom_ui,
    }


def write_zip(parts: dict[str, bytes]) -> bytes:
    """A zip of the parts with entries sorted by name and fixed timestamps and attributes: same parts, same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(parts):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            archive.writestr(info, parts[name], compresslevel=9)
    return out.getvalue()


def addin_bytes(sources: Path = SOURCES, module_name: str = UDF_MODULE) -> bytes:
    """The bytes of `xl_ar.xlam` built from the text sources."""
    base, modules = vba_modules(sources, module_name)
    vba = project.build_project(base, modules, PROJECT_NAME)
    return write_zip(package_parts(vba, (sources / "customUI" / "customUI.xml").read_bytes()))


def build(out_dir: Path, sources: Path = SOURCES) -> Path:
    """Write `xl_ar.xlam` into `out_dir` (made if missing) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ADDIN_FILE
    outputs.write_bytes(path, addin_bytes(sources))  # whole or not at all
    return path


__all__ = [
    "ADDIN_FILE",
    "CONFIG_SHEET",
    "PROJECT_NAME",
    "FunctionHelp",
    "addin_bytes",
    "build",
    "classic_udf_module",
    "config_rows",
    "function_help",
    "package_parts",
    "this_workbook",
    "udf_wrappers",
    "vba_modules",
    "write_zip",
    "xlwings_module",
]
