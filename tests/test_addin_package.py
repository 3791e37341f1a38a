"""The add-in package `xl_ar.xlam` (xl_ar.addin.package): built from text sources, deterministic, self-consistent.

Independent judges: the zip and XML parsers of the standard library for the package, olevba for the VBA modules,
LibreOffice for importing the project, and xlwings' own generator and decorators for the UDF wrappers and help.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath

import pytest
import xlwings

from tests.test_addin_project import basic_text, libreoffice_modules, olevba_modules
from xl_ar import settings
from xl_ar.addin import package, project

ROOT = Path(__file__).resolve().parents[1]
NS = {"ct": "http://schemas.openxmlformats.org/package/2006/content-types",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
      "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "ui": "http://schemas.microsoft.com/office/2006/01/customui"}
BUTTONS = ["Import remittances", "Reconcile", "Worklist", "Add note", "Import notes", "Mark appealed", "Take claim",
           "Build report", "Patient statements", "Verify eligibility", "Scrub claims", "Settings", "Help"]


@pytest.fixture(scope="module")
def xlam(tmp_path_factory) -> Path:
    return package.build(tmp_path_factory.mktemp("addin"))


@pytest.fixture(scope="module")
def parts(xlam) -> dict[str, bytes]:
    with zipfile.ZipFile(xlam) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def vba(parts) -> project.Project:
    return project.read_project(parts["xl/vbaProject.bin"])


@pytest.fixture(scope="module")
def classic():
    return package.classic_udf_module("udfs.functions")


def xlfuncs(module) -> dict[str, dict]:
    return {f["name"]: f for f in (getattr(module, a).__xlfunc__ for a in dir(module)
                                   if hasattr(getattr(module, a), "__xlfunc__"))}


# --- the package -------------------------------------------------------------------------------------------------


def test_building_twice_gives_the_same_bytes(xlam, tmp_path):
    again = package.build(tmp_path / "again")
    assert again.name == "xl_ar.xlam"
    assert again.read_bytes() == xlam.read_bytes()


def test_entries_are_sorted_with_fixed_timestamps(xlam):
    with zipfile.ZipFile(xlam) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_every_xml_part_is_well_formed(parts):
    xml_parts = [n for n in parts if n.endswith((".xml", ".rels"))]
    assert len(xml_parts) == 9
    for name in xml_parts:
        ET.fromstring(parts[name])  # raises ParseError on a malformed part


def test_content_types_cover_every_part_and_name_only_existing_ones(parts):
    types = ET.fromstring(parts["[Content_Types].xml"])
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.findall("ct:Default", NS)}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.findall("ct:Override", NS)}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    assert {p.lstrip("/") for p in overrides} <= set(parts)
    for name in parts:
        if name != "[Content_Types].xml":
            assert f"/{name}" in overrides or name.rpartition(".")[2] in defaults, name


def relationships(parts: dict[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """{source part: [(type, target part)]} of every .rels part, targets resolved against the source's folder."""
    found = {}
    for name, data in parts.items():
        if not name.endswith(".rels"):
            continue
        folder = PurePosixPath(name).parents[1]  # xl/_rels/workbook.xml.rels -> xl
        source = str(folder / PurePosixPath(name).name.removesuffix(".rels")).lstrip("./")
        found[source] = [(r.get("Type").rsplit("/", 1)[1], str(folder / r.get("Target")).lstrip("./"))
                         for r in ET.fromstring(data).findall("rel:Relationship", NS)]
    return found


def test_relationships_point_at_existing_parts_and_reach_every_part(parts):
    rels = relationships(parts)
    targets = {target for links in rels.values() for _, target in links}
    assert targets <= set(parts)
    assert targets | {"[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"} == set(parts)
    assert ("extensibility", "customUI/customUI.xml") in rels[""]  # the ribbon, from the package's root
    assert sorted(kind for kind, _ in rels["xl/workbook.xml"]) == ["styles", "vbaProject", "worksheet"]


def test_code_names_match_the_vba_document_modules(parts, vba):
    documents = {m.name for m in vba.modules if m.kind == "document"}
    workbook = ET.fromstring(parts["xl/workbook.xml"])
    sheet = ET.fromstring(parts["xl/worksheets/sheet1.xml"])
    code_names = {workbook.find("main:workbookPr", NS).get("codeName"), sheet.find("main:sheetPr", NS).get("codeName")}
    assert code_names == documents == {"ThisWorkbook", "Sheet2"}


def test_the_config_sheet_holds_the_udf_module_and_every_setting_key_as_text(parts):
    workbook = ET.fromstring(parts["xl/workbook.xml"])
    assert [s.get("name") for s in workbook.iter(f"{{{NS['main']}}}sheet")] == ["xl_ar.conf"]
    sheet = ET.fromstring(parts["xl/worksheets/sheet1.xml"])
    assert sheet.find(".//main:f", NS) is None  # no formula: every cell is an inline string
    cells = {c.get("r"): c.find("main:is/main:t", NS).text for c in sheet.iter(f"{{{NS['main']}}}c")}
    assert cells["A1"] == "UDF MODULES" and cells["B1"] == "udfs.functions"
    keys = [cells[f"A{i}"] for i in range(2, 2 + len(settings.SETTINGS))]
    assert keys == list(settings.SETTINGS)
    rows = range(1, 2 + len(settings.SETTINGS))
    assert set(cells) == {"B1", *(f"{c}{i}" for i in rows for c in "AC")}  # every value but xlwings' own is empty
    assert cells["C3"].startswith("where remittances (835) come from")  # column C (not read by xlwings) says why
    notes = dict(zip(keys, (cells[f"C{i}"] for i in range(2, 2 + len(keys))), strict=True))
    assert notes["variance_min"].endswith("(default: 5.00)")  # Rules().variance_min_cents = 500
    assert notes["target_denial_rate"].endswith("(default: 5%)")  # Targets().denial_rate = 0.05


def test_a_setting_text_that_looks_like_a_formula_stays_text():
    sheet = ET.fromstring(package.package_parts(b"", b"<customUI/>")["xl/worksheets/sheet1.xml"])
    assert sheet.find(".//main:f", NS) is None
    cell = ET.fromstring(package._cell("A1", '=HYPERLINK("x") & "<b>"').replace("<c ", f'<c xmlns="{NS["main"]}" '))
    assert cell.get("t") == "inlineStr" and cell.find("main:f", NS) is None
    assert cell.find("main:is/main:t", NS).text == '=HYPERLINK("x") & "<b>"'


# --- the ribbon --------------------------------------------------------------------------------------------------


def test_the_ribbon_tab_has_its_buttons_with_icons_and_tips(parts):
    ui = ET.fromstring(parts["customUI/customUI.xml"])
    assert ui.tag == f"{{{NS['ui']}}}customUI"  # the 2006/01 namespace of customUI.xml
    (tab,) = ui.iter(f"{{{NS['ui']}}}tab")
    assert tab.get("label") == "Medical A/R"
    buttons = list(tab.iter(f"{{{NS['ui']}}}button"))
    assert [b.get("label") for b in buttons] == BUTTONS
    for b in buttons:
        assert b.get("imageMso") and b.get("screentip") and b.get("supertip"), b.get("id")
        assert b.get("getLabel") is None  # label and getLabel together make the ribbon vanish
    assert len({b.get("id") for b in buttons}) == len(buttons)


def ribbon_subs(source: str) -> dict[str, str]:
    """{Sub name: its body} of the public Subs taking `(control As IRibbonControl)`."""
    return {m.group(1): m.group(2) for m in re.finditer(
        r"^Sub (\w+)\(control As IRibbonControl\)\r\n(.*?)^End Sub", source, re.MULTILINE | re.DOTALL)}


def test_every_on_action_names_a_ribbon_sub_with_the_control_signature(parts, vba):
    ui = ET.fromstring(parts["customUI/customUI.xml"])
    actions = [b.get("onAction") for b in ui.iter(f"{{{NS['ui']}}}button")]
    subs = ribbon_subs(vba.module("RibbonXlAr").source)
    assert len(actions) == len(BUTTONS)
    for action in actions:
        module, _, sub = action.partition(".")
        assert module == "RibbonXlAr" and sub in subs, action
    assert sorted(subs) == sorted(a.partition(".")[2] for a in actions)  # no Sub without a button


def test_every_ribbon_sub_checks_for_a_workbook_and_runs_an_importable_entry_point(vba):
    subs = ribbon_subs(vba.module("RibbonXlAr").source)
    targets = []
    for name, body in subs.items():
        match = re.fullmatch(r'    If HasWorkbook Then RunPython "import (\w+(?:\.\w+)*); \1\.(\w+)\(\)"\r\n', body)
        assert match, name
        targets.append((match.group(1), match.group(2)))
    for module, function in targets:
        assert callable(getattr(importlib.import_module(module), function)), f"{module}.{function}"
    assert sorted(f for _, f in targets) == ["add_note", "build_report", "help", "import_notes", "import_remittances",
                                             "mark_appealed", "patient_statements", "reconcile", "scrub_claims",
                                             "settings", "take_claim", "verify_eligibility", "worklist"]


# --- the VBA project ---------------------------------------------------------------------------------------------


def test_the_project_holds_xlwings_dictionary_ribbon_wrappers_and_this_workbook(vba):
    assert vba.name == "xl_ar"
    assert [(m.name, m.kind) for m in vba.modules] == [
        ("ThisWorkbook", "document"), ("Dictionary", "class"), ("Sheet2", "document"), ("xlwings", "module"),
        ("RibbonXlAr", "module"), ("XlArFunctions", "module")]


def test_xlwings_module_differs_from_the_shipped_one_only_in_the_project_name(vba):
    shipped = project.read_xlam_project(project.xlwings_ribbon_addin()).module("xlwings").source
    ours = vba.module("xlwings").source
    assert ours == shipped.replace('PROJECT_NAME As String = "myaddin"', 'PROJECT_NAME As String = "xl_ar"')
    assert ours != shipped
    # the DLL the VBA declares is the installed xlwings' version (pinned together)
    assert f'"xlwings64-{xlwings.__version__}.dll"' in ours


def test_the_wrappers_are_xlwings_generated_vba_with_the_import_header_and_upper_case_names(vba, classic):
    source = vba.module("XlArFunctions").source
    header, body = source.split("\r\n", 2)[:2], source.split("\r\n", 2)[2]
    assert header == ['Attribute VB_Name = "XlArFunctions"', '#Const App = "Microsoft Excel"']
    # the snapshot is xlwings' generator output checked by tests/test_udfs.py; only the declared names differ
    snapshot = (ROOT / "workbooks" / "vba" / "udfs_functions.bas").read_text().replace("\r\n", "\n")
    lower = re.sub(r'(?<!")\bAR_\w+\b(?!")', lambda m: m.group(0).lower(), body.replace("\r\n", "\n"))
    assert lower == snapshot
    for name in xlfuncs(classic):
        assert f"Function {name.upper()}(" in body
        assert f'XLPy.CallUDF("udfs.functions", "{name}", ' in body  # the Python name is what xlwings calls


def describe_calls(source: str) -> dict[str, tuple[str, str, list[str]]]:
    """{name: (description, category, argument help)} of ThisWorkbook's `Describe` calls."""
    calls = {}
    for m in re.finditer(r'^    Describe "(\w+)", "((?:[^"]|"")*)", "([^"]*)"(?:, Array\( _\r\n(.*?)\))?\r\n',
                         source, re.MULTILINE | re.DOTALL):
        args = re.findall(r'"((?:[^"]|"")*)"', m.group(4) or "")
        calls[m.group(1)] = (m.group(2).replace('""', '"'), m.group(3), [a.replace('""', '"') for a in args])
    return calls


def test_this_workbook_registers_every_functions_help_from_its_decorators(vba, classic):
    source = vba.module("ThisWorkbook").source
    calls = describe_calls(source)
    funcs = xlfuncs(classic)
    assert sorted(calls) == sorted(name.upper() for name in funcs) and len(funcs) == 13
    for name, f in funcs.items():
        description, category, arguments = calls[name.upper()]
        assert category == "Medical A/R" == f["category"]
        full = " ".join(f["ret"]["doc"].split())
        assert description == full or (len(description) <= 255 and description.endswith("...")
                                        and full.startswith(description[:-3])), name
        assert arguments == [a["doc"] for a in f["args"]]
    assert "Private Sub Workbook_Open()\r\n    RegisterFunctions\r\n" in source
    # MacroOptions refuses a hidden workbook: IsAddin off around the calls, restored on the way out, also on error
    assert re.search(r"On Error GoTo done\r\n    ThisWorkbook.IsAddin = False\r\n(.|\r\n)*done:\r\n"
                     r"    ThisWorkbook.IsAddin = wasAddin\r\n", source)


def test_help_text_is_one_line_and_quotes_are_doubled():
    assert package._one_line("  First line\n    second   line. ") == "First line second line."
    cut = package._one_line("word " * 100)
    assert len(cut) <= 255 and cut.endswith("...") and ("word " * 100).startswith(cut[:-3])
    assert package._vba_string('say "hi"') == '"say ""hi"""'
    with pytest.raises(ValueError, match="line break"):
        package._vba_string("a\nb")


def test_olevba_reads_every_module_back_with_its_exact_source(parts, vba):
    _, modules = package.vba_modules()
    extracted = {stream.removeprefix("VBA/"): code for stream, (_, code) in
                 olevba_modules(parts["xl/vbaProject.bin"]).items()}
    assert extracted == {m.name: m.source for m in vba.modules}
    for module in modules:
        assert extracted[module.name] == module.source


def test_a_garbled_module_is_seen_by_olevba(vba):
    from xl_ar.addin import cfb, ovba

    base, modules = package.vba_modules()
    streams = project.project_streams(base, modules, "xl_ar")
    source = vba.module("XlArFunctions").source.encode("cp1252")
    streams["VBA/XlArFunctions"] = ovba.compress(source.replace(b"AR_AGING", b"AR_AGINK", 1))
    extracted = olevba_modules(cfb.write(streams))
    garbled = vba.module("XlArFunctions").source.replace("AR_AGING", "AR_AGINK", 1)
    assert extracted["VBA/XlArFunctions"][1] == garbled != vba.module("XlArFunctions").source


@pytest.mark.slow
def test_libreoffice_imports_every_module(libreoffice, xlam, vba):
    modules = libreoffice_modules(libreoffice.soffice(), xlam, "xl_ar")
    assert sorted(modules) == sorted(m.name for m in vba.modules)
    assert "Private Sub RegisterFunctions()" in modules["ThisWorkbook"][1]
    for module in (m for m in vba.modules if m.kind != "document"):
        # xlwings' own module is stored with LF line ends: LibreOffice shows lines either way
        crlf = dataclasses.replace(module, source=module.source.replace("\r\n", "\n").replace("\n", "\r\n"))
        expected = ("normal" if module.kind == "module" else "class", basic_text(crlf))
        assert modules[module.name] == expected, module.name


# --- the command line --------------------------------------------------------------------------------------------


def test_xl_ar_addin_build_writes_the_same_add_in(xlam, tmp_path, capsys):
    from xl_ar.cli import main

    assert main(["addin", "build", "--out", str(tmp_path / "dist")]) == 0
    built = tmp_path / "dist" / "xl_ar.xlam"
    assert capsys.readouterr().out == f"Built {built} ({built.stat().st_size:,} bytes)\n"
    assert built.read_bytes() == xlam.read_bytes()


def test_xl_ar_addin_install_and_remove_print_what_the_installer_says(monkeypatch, tmp_path, capsys):
    from xl_ar.addin import install
    from xl_ar.cli import main

    calls = []
    monkeypatch.setattr(install, "install", lambda addin=None: calls.append(("install", addin)) or "installed")
    monkeypatch.setattr(install, "remove", lambda: calls.append(("remove",)) or "removed")
    assert main(["addin", "install"]) == 0
    assert main(["addin", "install", "--addin", str(tmp_path / "x.xlam")]) == 0
    assert main(["addin", "remove"]) == 0
    assert calls == [("install", None), ("install", tmp_path / "x.xlam"), ("remove",)]
    assert capsys.readouterr().out == "installed\ninstalled\nremoved\n"


# --- the sources in the wheel ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> dict[str, bytes]:
    """The files of the wheel `pip wheel` builds from this checkout, by name."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(out)],
                   check=True, capture_output=True, timeout=600)
    (built,) = out.glob("xl_ar-*.whl")
    with zipfile.ZipFile(built) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.slow
def test_the_wheel_carries_the_add_in_so_pip_install_brings_it(wheel):
    from xl_ar.addin import install

    assert wheel["xl_ar/addin/xl_ar.xlam"] == install.SHIPPED.read_bytes()


@pytest.mark.slow
def test_the_wheel_ships_every_source_file_where_the_builder_looks(wheel):
    shipped = {name.split("/data/", 1)[1]: data for name, data in wheel.items() if "/data/share/xl-ar/" in name}
    assert shipped == {f"share/xl-ar/addin/{f}": (package.SOURCES / f).read_bytes() for f in package.SOURCE_FILES}
    assert package.SOURCES == ROOT / "workbooks" / "addin"  # in a checkout, the checkout's sources


def test_the_shipped_add_in_is_what_the_sources_build(xlam):
    # part by part, not byte for byte: the zip's compressed bytes depend on the machine's zlib
    from xl_ar.addin import install

    def unpacked(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    assert unpacked(install.SHIPPED) == unpacked(xlam), "regenerate: xl-ar addin build --out xl_ar/addin"


def test_the_sources_copied_elsewhere_build_the_same_add_in(xlam, tmp_path):
    copy = tmp_path / "share" / "xl-ar" / "addin"
    for file in package.SOURCE_FILES:
        (copy / file).parent.mkdir(parents=True, exist_ok=True)
        (copy / file).write_bytes((package.SOURCES / file).read_bytes())
    assert package.build(tmp_path / "out", sources=copy).read_bytes() == xlam.read_bytes()


def test_xlwings_is_pinned_to_the_version_whose_dll_the_vba_declares(vba):
    import tomllib

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in dependencies if d.startswith("xlwings")]
    version = pin.removeprefix("xlwings==")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f'Lib "xlwings64-{version}.dll"' in vba.module("xlwings").source


def test_vba_lines_and_help_texts_stay_within_excels_limits(vba):
    for module in vba.modules:
        for line in module.source.replace("\r\n", "\n").split("\n"):
            assert len(line) <= 1023, module.name  # the VBA editor's longest physical line
    for description, _, arguments in describe_calls(vba.module("ThisWorkbook").source).values():
        assert 0 < len(description) <= 255 and all(0 < len(a) <= 255 for a in arguments)  # MacroOptions limits


def test_xl_ar_addin_build_refuses_a_file_where_its_folder_should_be(tmp_path, capsys):
    from xl_ar.cli import main

    # `--out dist/xl_ar.xlam` (the file itself) instead of `--out dist`: an input error, the file untouched
    target = tmp_path / "xl_ar.xlam"
    target.write_bytes(b"an older build")
    assert main(["addin", "build", "--out", str(target)]) == 2
    said = capsys.readouterr().err
    assert "--out xl_ar.xlam is a file" in said and "unexpected" not in said
    assert target.read_bytes() == b"an older build"
