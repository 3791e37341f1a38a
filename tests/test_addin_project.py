"""The add-in's VBA project (xl_ar.addin.project): read xlwings' shipped project, write ours from it.

The independent judges are olefile (the compound file's streams) and oletools' olevba (the modules' names and source
as malware analysts read them, with its own MS-OVBA decompressor).
"""

from __future__ import annotations

import dataclasses
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import VBA_Parser

from xl_ar.addin import ovba
from xl_ar.addin.project import (
    MODULEOFFSET,
    Module,
    build_project,
    load_module,
    parse_records,
    project_streams,
    read_project,
    serialize_records,
    xlwings_ribbon_addin,
)

VBA_SOURCES = Path(__file__).resolve().parents[1] / "workbooks" / "addin" / "vba"

# a class module as the VBA editor stores it (the exported file's VERSION/BEGIN header is not part of the source)
COUNTER_CLASS = Module("Counter", "class", "\r\n".join([
    'Attribute VB_Name = "Counter"',
    'Attribute VB_GlobalNameSpace = False',
    'Attribute VB_Creatable = False',
    'Attribute VB_PredeclaredId = False',
    'Attribute VB_Exposed = False',
    "Private n As Long",
    "Public Function NextValue() As Long",
    "    n = n + 1",
    "    NextValue = n",
    "End Function",
    "",
]))


@pytest.fixture(scope="module")
def base_bin() -> bytes:
    """xlwings' shipped ribbon quickstart add-in's vbaProject.bin (saved by Excel, modules rewritten by xlwings)."""
    with zipfile.ZipFile(xlwings_ribbon_addin()) as archive:
        return archive.read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def base(base_bin):
    return read_project(base_bin)


@pytest.fixture(scope="module")
def ribbon() -> Module:
    return load_module(VBA_SOURCES / "RibbonXlAr.bas")


def olevba_modules(vba_project_bin: bytes) -> dict[str, tuple[str, str]]:
    """{stream path: (olevba's file name for the module, its source)} as olevba extracts them."""
    parser = VBA_Parser("vbaProject.bin", data=vba_project_bin)
    try:
        return {stream: (filename, code) for _, stream, filename, code in parser.extract_macros()}
    finally:
        parser.close()


def streams_of(vba_project_bin: bytes) -> dict[str, bytes]:
    """Every stream of a compound file by `/`-joined path, read with olefile."""
    ole = olefile.OleFileIO(vba_project_bin)
    try:
        return {"/".join(path): ole.openstream(path).read() for path in ole.listdir()}
    finally:
        ole.close()


# --- reading xlwings' project -------------------------------------------------------------------------------------


def test_reads_the_name_codepage_and_modules_of_xlwings_project(base):
    # PROJECT stream: Document=ThisWorkbook, Class=Dictionary, Module=RibbonMyAddin, Document=Sheet2, Module=xlwings
    assert base.name == "MyAddin"
    assert base.codepage == 1252
    assert [(m.name, m.kind) for m in base.modules] == [
        ("ThisWorkbook", "document"), ("Dictionary", "class"), ("RibbonMyAddin", "module"),
        ("Sheet2", "document"), ("xlwings", "module")]


def test_module_sources_agree_with_olevba(base, base_bin):
    # Some of these modules hold p-code before the source (text offsets 0x325, 0x4673, ...): the source starts there
    extracted = olevba_modules(base_bin)
    assert {m.name: m.source for m in base.modules} == {
        stream.removeprefix("VBA/"): code for stream, (_, code) in extracted.items()}
    assert base.module("ribbonmyaddin").source.startswith('Attribute VB_Name = "RibbonMyAddin"\r\n')


def test_dir_records_serialize_back_to_the_same_bytes(base_bin):
    # unknown records (references, docstrings, cookies) are kept raw; PROJECTVERSION's Size 4 + 6 bytes survives
    dir_stream = ovba.decompress(streams_of(base_bin)["VBA/dir"])
    records = parse_records(dir_stream)
    assert records[0] == (0x0001, b"\x01\x00\x00\x00")  # PROJECTSYSKIND: 1 = 64-bit Windows
    assert records[-1] == (0x0010, b"")  # the dir stream's terminator
    assert serialize_records(records) == dir_stream


def test_a_truncated_dir_stream_is_an_error(base_bin):
    dir_stream = ovba.decompress(streams_of(base_bin)["VBA/dir"])
    # the stream ends with the last MODULE's terminator (2B 00 00000000) and the dir terminator (10 00 00000000):
    # 7 bytes fewer cuts the last 6-byte record header after 5 bytes
    with pytest.raises(ValueError, match="truncated record header"):
        parse_records(dir_stream[:-7])
    with pytest.raises(ValueError, match=r"no terminator record \(0x0010\)"):
        parse_records(dir_stream[:-6])


# --- rebuilding it with the same modules ---------------------------------------------------------------------------


def test_round_trip_olevba_reads_every_module_with_the_same_name_and_source(base, base_bin):
    rebuilt = build_project(base, [m for m in base.modules if m.kind != "document"], "MyAddin")
    assert olevba_modules(rebuilt) == olevba_modules(base_bin)  # same streams, file names (.cls/.bas), sources


def test_round_trip_our_reader_gives_the_same_project(base):
    again = read_project(build_project(base, [], "MyAddin"))
    assert again.modules == base.modules
    assert again.name == base.name and again.project_lines == base.project_lines


def test_rebuilt_dir_stream_differs_only_in_text_offsets_now_zero(base, base_bin):
    # the modules are written as source only, so each MODULEOFFSET (0x0031) becomes 0; every other record is kept
    old = parse_records(ovba.decompress(streams_of(base_bin)["VBA/dir"]))
    new = parse_records(ovba.decompress(project_streams(base, [], "MyAddin")["VBA/dir"]))
    assert len(new) == len(old)
    assert [r for r in new if r[0] == MODULEOFFSET] == [(MODULEOFFSET, b"\0\0\0\0")] * 5
    assert [r for r in new if r[0] != MODULEOFFSET] == [r for r in old if r[0] != MODULEOFFSET]


def test_rebuilt_project_keeps_project_and_projectwm_streams_and_has_no_pcode(base, base_bin):
    old, new = streams_of(base_bin), streams_of(build_project(base, [], "MyAddin"))
    assert new["PROJECT"] == old["PROJECT"]  # ID, module lines, CMG/DPB/GC, [Workspace] as Excel wrote them
    assert new["PROJECTwm"] == old["PROJECTwm"]
    assert new["VBA/_VBA_PROJECT"] == bytes.fromhex("cc61ffff000100")  # version 0xFFFF: compile from source
    assert sorted(new) == sorted(old)


# --- our modules ---------------------------------------------------------------------------------------------------


def test_load_module_reads_the_name_and_makes_line_ends_crlf(tmp_path, ribbon):
    assert (ribbon.name, ribbon.kind) == ("RibbonXlAr", "module")
    assert ribbon.source.startswith('Attribute VB_Name = "RibbonXlAr"\r\n')
    assert 'RunPython "import udfs.ribbon; udfs.ribbon.import_remittances()"' in ribbon.source
    (tmp_path / "Lf.bas").write_bytes(b'Attribute VB_Name = "Lf"\nSub A()\nEnd Sub\n')
    expected = 'Attribute VB_Name = "Lf"\r\nSub A()\r\nEnd Sub\r\n'
    assert load_module(tmp_path / "Lf.bas") == Module("Lf", "module", expected)


def test_load_module_drops_the_exported_class_header(tmp_path):
    exported = "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n" + COUNTER_CLASS.source
    (tmp_path / "Counter.cls").write_text(exported, newline="")
    assert load_module(tmp_path / "Counter.cls") == COUNTER_CLASS


def test_added_modules_appear_in_olevba_with_their_exact_source(base, ribbon):
    built = build_project(base, [ribbon, COUNTER_CLASS], "XlAr")
    extracted = olevba_modules(built)
    assert extracted["VBA/RibbonXlAr"] == ("RibbonXlAr.bas", ribbon.source)
    assert extracted["VBA/Counter"] == ("Counter.cls", COUNTER_CLASS.source)
    assert len(extracted) == 7  # the 5 modules of xlwings' project + 2


def test_added_modules_have_their_own_streams_and_project_lines(base, ribbon):
    streams = streams_of(build_project(base, [ribbon, COUNTER_CLASS], "XlAr"))
    assert "VBA/RibbonXlAr" in streams and "VBA/Counter" in streams
    lines = streams["PROJECT"].decode("cp1252").split("\r\n")
    # module lines in project order, the new ones after xlwings' five
    assert lines[1:8] == ["Document=ThisWorkbook/&H00000000", "Class=Dictionary", "Module=RibbonMyAddin",
                          "Document=Sheet2/&H00000000", "Module=xlwings", "Module=RibbonXlAr", "Class=Counter"]
    # PROJECTwm ends with each new name in MBCS + NUL, UTF-16LE + NUL NUL, then the final NUL NUL
    assert streams["PROJECTwm"].endswith(b"Counter\0C\0o\0u\0n\0t\0e\0r\0\0\0\0\0")


def test_added_modules_are_read_back_with_their_kind(base, ribbon):
    again = read_project(build_project(base, [ribbon, COUNTER_CLASS], "XlAr"))
    assert again.modules[-2:] == (ribbon, COUNTER_CLASS)


def test_a_given_module_replaces_the_same_named_one_in_place(base):
    new = Module("ribbonmyaddin", "module", 'Attribute VB_Name = "RibbonMyAddin"\r\nSub RunMain()\r\nEnd Sub\r\n')
    again = read_project(build_project(base, [new], "XlAr"))
    # names are case-insensitive: the base's record (and name spelling) is kept, the source is the new one
    assert [m.name for m in again.modules] == ["ThisWorkbook", "Dictionary", "RibbonMyAddin", "Sheet2", "xlwings"]
    assert again.module("RibbonMyAddin").source == new.source


def test_a_base_module_left_out_of_the_base_is_dropped(base, ribbon):
    trimmed = dataclasses.replace(base, modules=tuple(m for m in base.modules if m.name != "RibbonMyAddin"))
    built = build_project(trimmed, [ribbon], "XlAr")
    assert "VBA/RibbonMyAddin" not in streams_of(built)
    project = streams_of(built)["PROJECT"].decode("cp1252")
    assert "RibbonMyAddin" not in project  # neither its Module= line nor its [Workspace] line
    assert [m.name for m in read_project(built).modules] == ["ThisWorkbook", "Dictionary", "Sheet2", "xlwings",
                                                              "RibbonXlAr"]


def test_a_document_module_cannot_be_replaced_by_a_standard_module(base):
    with pytest.raises(ValueError, match="document"):
        build_project(base, [Module("Sheet2", "module", 'Attribute VB_Name = "Sheet2"\r\n')], "XlAr")


def test_source_is_written_in_the_projects_codepage_1252(base):
    euro = Module("Euro", "module", 'Attribute VB_Name = "Euro"\r\n\' 5 \u20ac\r\n')  # the euro sign is 0x80
    assert read_project(build_project(base, [euro], "XlAr")).module("Euro") == euro
    arrow = Module("Arrow", "module", 'Attribute VB_Name = "Arrow"\r\n\' a \u2192 b\r\n')  # no arrow in cp1252
    with pytest.raises(UnicodeEncodeError):
        build_project(base, [arrow], "XlAr")


@pytest.mark.parametrize("name", ["1st", "has space", "x" * 32, "Ribbon-2", ""])
def test_names_that_are_not_vba_identifiers_are_refused(base, name):
    with pytest.raises(ValueError, match="identifier"):
        build_project(base, [Module(name, "module", "")], "XlAr")
    with pytest.raises(ValueError, match="identifier"):
        build_project(base, [], name)


# --- the project name ---------------------------------------------------------------------------------------------


def test_the_project_name_is_replaced_in_the_dir_and_project_streams(base):
    built = build_project(base, [], "XlAr")
    assert read_project(built).name == "XlAr"
    records = parse_records(ovba.decompress(streams_of(built)["VBA/dir"]))
    assert (0x0004, b"XlAr") in records  # PROJECTNAME, MBCS
    lines = streams_of(built)["PROJECT"].decode("cp1252").split("\r\n")
    assert 'Name="XlAr"' in lines and 'Name="MyAddin"' not in lines


# --- negative controls: a damaged module is noticed ----------------------------------------------------------------


def test_a_flipped_compressed_byte_changes_the_source_that_olevba_and_our_reader_see(base, ribbon):
    from xl_ar.addin import cfb

    streams = project_streams(base, [ribbon], "XlAr")
    damaged = bytearray(streams["VBA/RibbonXlAr"])
    # byte 0 signature 0x01, bytes 1-2 chunk header, byte 3 flag byte (first token is always a literal),
    # byte 4 the first literal 'A' of "Attribute"; 'A' (0x41) XOR 0x01 = '@' (0x40)
    assert damaged[4] == ord("A")
    damaged[4] ^= 0x01
    streams["VBA/RibbonXlAr"] = bytes(damaged)
    built = cfb.write(streams)
    assert olevba_modules(built)["VBA/RibbonXlAr"][1] == "@" + ribbon.source[1:]
    assert read_project(built).module("RibbonXlAr").source == "@" + ribbon.source[1:]


def test_a_module_stream_shorter_than_its_text_offset_is_an_error(base, base_bin):
    from xl_ar.addin import cfb

    streams = streams_of(base_bin)  # RibbonMyAddin's source starts at offset 0x3D2 = 978
    streams["VBA/RibbonMyAddin"] = streams["VBA/RibbonMyAddin"][:900]
    with pytest.raises(ValueError, match="offset 978"):
        read_project(cfb.write(streams))


def test_a_module_count_that_disagrees_with_the_modules_is_an_error(base_bin):
    from xl_ar.addin import cfb

    streams = streams_of(base_bin)
    records = parse_records(ovba.decompress(streams["VBA/dir"]))
    records = [(0x000F, struct.pack("<H", 6)) if rid == 0x000F else (rid, data) for rid, data in records]
    streams["VBA/dir"] = ovba.compress(serialize_records(records))
    with pytest.raises(ValueError, match="6 modules, found 5"):
        read_project(cfb.write(streams))


# --- LibreOffice imports the project -------------------------------------------------------------------------------


def xlam_with(vba_project_bin: bytes, out: Path) -> Path:
    """xlwings' ribbon quickstart .xlam with its vbaProject.bin replaced (every other part copied as is)."""
    with zipfile.ZipFile(xlwings_ribbon_addin()) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, vba_project_bin if info.filename == "xl/vbaProject.bin" else src.read(info))
    return out


def libreoffice_modules(soffice: str, xlam: Path, project: str) -> dict[str, tuple[str, str]]:
    """{module: (LibreOffice's module type, its Basic text)} from `Basic/<project>/<module>.xml` of the .ods that
    LibreOffice converts the .xlam to (the .xlam filter must be forced: shared/FACTS.md)."""
    import subprocess
    import xml.etree.ElementTree as ET

    out = xlam.parent / "ods"
    subprocess.run([soffice, "--headless", "--norestore", "--nolockcheck", "--nodefault",
                    f"-env:UserInstallation={(xlam.parent / 'profile').resolve().as_uri()}",
                    '--infilter=Calc MS Excel 2007 VBA XML', "--convert-to", "ods", "--outdir", str(out), str(xlam)],
                   capture_output=True, timeout=300, check=True)
    modules = {}
    with zipfile.ZipFile(out / (xlam.stem + ".ods")) as ods:
        for name in ods.namelist():
            folder, _, file = name.rpartition("/")
            if folder == f"Basic/{project}" and file != "script-lb.xml":
                root = ET.fromstring(ods.read(name))
                modules[file.removesuffix(".xml")] = (root.get("{http://openoffice.org/2000/script}moduleType"),
                                                      root.text or "")
    return modules


def basic_text(module: Module) -> str:
    """The text LibreOffice shows for a VBA module: a header for its type, then the source without Attribute lines."""
    header = {"module": ["Rem Attribute VBA_ModuleType=VBAModule", "Option VBASupport 1"],
              "class": ["Rem Attribute VBA_ModuleType=VBAClassModule", "Option VBASupport 1", "Option ClassModule"]}
    lines = [line for line in module.source.split("\r\n") if not line.startswith("Attribute ")]
    return "\n".join(header[module.kind] + lines) + "\n"


@pytest.mark.slow
def test_libreoffice_imports_every_module_of_the_built_project(libreoffice, base, ribbon, tmp_path):
    built = build_project(base, [ribbon, COUNTER_CLASS], "XlAr")
    modules = libreoffice_modules(libreoffice.soffice(), xlam_with(built, tmp_path / "xl_ar.xlam"), "XlAr")
    assert sorted(modules) == sorted([*(m.name for m in base.modules), "Counter", "RibbonXlAr"])
    assert modules["RibbonXlAr"] == ("normal", basic_text(ribbon))
    assert modules["Counter"] == ("class", basic_text(COUNTER_CLASS))


@pytest.mark.slow
def test_libreoffice_sees_a_damaged_module_differently(libreoffice, base, ribbon, tmp_path):
    from xl_ar.addin import cfb

    streams = project_streams(base, [ribbon], "XlAr")
    damaged = bytearray(streams["VBA/RibbonXlAr"])
    damaged[4] ^= 0x01  # the first literal: 'A' of "Attribute VB_Name" becomes '@' (see the olevba control above)
    streams["VBA/RibbonXlAr"] = bytes(damaged)
    modules = libreoffice_modules(libreoffice.soffice(), xlam_with(cfb.write(streams), tmp_path / "bad.xlam"), "XlAr")
    # no longer an Attribute line: LibreOffice keeps it as code, so the module's text differs from the source's
    assert modules["RibbonXlAr"][1] != basic_text(ribbon)
    assert '\n@ttribute VB_Name = "RibbonXlAr"\n' in modules["RibbonXlAr"][1]
