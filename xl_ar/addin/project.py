"""The VBA project of the add-in: read an Excel-saved `vbaProject.bin` and write one with our own modules.

A VBA project (MS-OVBA 2.2 "File Structure") is a compound file (MS-CFB) holding:

- `VBA/dir`: compressed (MS-OVBA 2.4.1) list of records (2.3.4.2 "dir Stream: Version Independent Project
  Information"): PROJECTINFORMATION (name, codepage, ...), PROJECTREFERENCES (type libraries such as stdole, Office)
  and PROJECTMODULES (per module: name, stream name, text offset, procedural or class/document type). Each record is
  `Id` (u16), `Size` (u32) and `Size` bytes, except PROJECTVERSION whose Size field is 4 and is followed by 6 bytes.
- `VBA/<module>`: optional compiled p-code, then from the module's text offset the compressed source (2.3.4.3).
- `VBA/_VBA_PROJECT`: `cc 61 ff ff 00 01 00` = version 0xFFFF, no p-code cache, so Excel compiles from source (2.3.4.1).
- `PROJECT`: text lines `Key=Value` (2.3.1 "PROJECT Stream: Project Information"): ID, one Document=/Module=/Class=
  line per module, Name, HelpContextID, VersionCompatible32, CMG, DPB, GC, then `[Host Extender Info]` and
  `[Workspace]` sections.
- `PROJECTwm`: module names in MBCS and UTF-16 (2.3.3 "PROJECTwm Stream: Module Name Information").

`read_project` keeps every record it does not need to understand as raw bytes, so that a project rebuilt from it with
the same modules has the same `dir` records; `build_project` starts from such a base (xlwings' shipped add-in, whose
CMG/DPB/GC lines and references Excel wrote) and writes modules as source only, as xlwings' own add-ins are.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import olefile

from xl_ar.addin import cfb, ovba

ModuleKind = Literal["module", "class", "document", "designer"]
Record = tuple[int, bytes]  # (Id, the bytes after the Size field)

VBA_PROJECT_STREAM = bytes.fromhex("cc61ffff000100")  # MS-OVBA 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF, 0x00, 0x0001

# dir stream record ids (MS-OVBA 2.3.4.2)
PROJECTCODEPAGE = 0x0003
PROJECTNAME = 0x0004
PROJECTVERSION = 0x0009
PROJECTMODULES = 0x000F
DIR_TERMINATOR = 0x0010
MODULENAME = 0x0019
MODULESTREAMNAME = 0x001A
MODULESTREAMNAME_UNICODE = 0x0032
MODULEDOCSTRING = 0x001C
MODULEDOCSTRING_UNICODE = 0x0048
MODULEHELPCONTEXT = 0x001E
MODULETYPE_PROCEDURAL = 0x0021
MODULETYPE_OTHER = 0x0022  # document, class or designer module
MODULECOOKIE = 0x002C
MODULE_TERMINATOR = 0x002B
MODULEOFFSET = 0x0031
MODULENAMEUNICODE = 0x0047

# PROJECT stream keys of module lines (MS-OVBA 2.3.1.3 ProjectModules) and the kinds they give
_KIND_OF_KEY: dict[str, ModuleKind] = {"Module": "module", "Class": "class", "Document": "document",
                                      "BaseClass": "designer"}
_KEY_OF_KIND = {kind: key for key, kind in _KIND_OF_KEY.items()}


@dataclass(frozen=True)
class Module:
    """One VBA module: its name, kind and source text (as the VBA editor exports it, `Attribute` lines included)."""

    name: str
    kind: ModuleKind
    source: str


@dataclass(frozen=True)
class Project:
    """A VBA project as read from a `vbaProject.bin`, with the records needed to write it back.

    `information` holds the PROJECTINFORMATION and PROJECTREFERENCES records, `modules_header` the PROJECTMODULES
    count and PROJECTCOOKIE records, `module_records` each module's records by lower-cased name, `project_lines`
    the PROJECT stream lines (module lines are `Document=ThisWorkbook/&H00000000`-style as Excel wrote them).
    """

    name: str
    codepage: int
    modules: tuple[Module, ...]
    information: tuple[Record, ...] = field(repr=False)
    modules_header: tuple[Record, ...] = field(repr=False)
    module_records: Mapping[str, tuple[Record, ...]] = field(repr=False)
    project_lines: tuple[str, ...] = field(repr=False)

    def module(self, name: str) -> Module:
        """The module of that name (VBA names are case-insensitive); KeyError if there is none."""
        for module in self.modules:
            if module.name.lower() == name.lower():
                return module
        raise KeyError(name)


def parse_records(data: bytes) -> list[Record]:
    """Split a decompressed dir stream into (Id, data) records (MS-OVBA 2.3.4.2); PROJECTVERSION carries 6 bytes."""
    records: list[Record] = []
    pos = 0
    while pos < len(data):
        if pos + 6 > len(data):
            raise ValueError(f"dir stream: truncated record header at byte {pos}")
        record_id, size = struct.unpack_from("<HI", data, pos)
        if record_id == PROJECTVERSION:  # 2.3.4.2.1.11: Reserved (always 4), VersionMajor u32, VersionMinor u16
            size = 6
        end = pos + 6 + size
        if end > len(data):
            raise ValueError(f"dir stream: record 0x{record_id:04X} at byte {pos} runs past the end")
        records.append((record_id, data[pos + 6:end]))
        pos = end
        if record_id == DIR_TERMINATOR:
            break
    if not records or records[-1][0] != DIR_TERMINATOR:
        raise ValueError("dir stream: no terminator record (0x0010)")
    return records


def serialize_records(records: Sequence[Record]) -> bytes:
    """The bytes of dir stream records (inverse of `parse_records`): Id u16, Size u32 (4 for PROJECTVERSION), data."""
    out = io.BytesIO()
    for record_id, data in records:
        size = 4 if record_id == PROJECTVERSION else len(data)
        out.write(struct.pack("<HI", record_id, size))
        out.write(data)
    return out.getvalue()


def _record(records: Sequence[Record], record_id: int) -> bytes:
    """The data of the first record with that Id in a group of records; ValueError if it is missing."""
    for rid, data in records:
        if rid == record_id:
            return data
    raise ValueError(f"dir stream: record 0x{record_id:04X} missing")


def _split_modules(records: Sequence[Record]) -> tuple[list[Record], list[Record], list[list[Record]]]:
    """PROJECTINFORMATION+PROJECTREFERENCES, the PROJECTMODULES header, and each MODULE's records (2.3.4.2.3)."""
    try:
        start = next(i for i, (rid, _) in enumerate(records) if rid == PROJECTMODULES)
    except StopIteration:
        raise ValueError("dir stream: no PROJECTMODULES record (0x000F)") from None
    information = list(records[:start])
    pos = start
    header: list[Record] = []
    while records[pos][0] not in (MODULENAME, DIR_TERMINATOR):
        header.append(records[pos])
        pos += 1
    modules: list[list[Record]] = []
    while records[pos][0] == MODULENAME:
        end = next((i for i in range(pos, len(records)) if records[i][0] == MODULE_TERMINATOR), None)
        if end is None:
            raise ValueError("dir stream: a MODULE without its terminator (0x002B)")
        modules.append(list(records[pos:end + 1]))
        pos = end + 1
    if records[pos][0] != DIR_TERMINATOR:
        raise ValueError(f"dir stream: unexpected record 0x{records[pos][0]:04X} after the modules")
    (count,) = struct.unpack("<H", _record(header, PROJECTMODULES))
    if count != len(modules):
        raise ValueError(f"dir stream: PROJECTMODULES says {count} modules, found {len(modules)}")
    return information, header, modules


def _module_kinds(project_lines: Sequence[str]) -> dict[str, tuple[ModuleKind, str]]:
    """Kind and PROJECT line of each module, by lower-cased name, from the Document=/Module=/Class= lines (2.3.1)."""
    kinds: dict[str, tuple[ModuleKind, str]] = {}
    for line in project_lines:
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        if key in _KIND_OF_KEY:
            kinds[value.split("/")[0].lower()] = (_KIND_OF_KEY[key], line)
    return kinds


def read_project(vba_project_bin: bytes) -> Project:
    """Parse a `vbaProject.bin`: dir records, PROJECT lines and every module's source (decompressed at its offset)."""
    ole = olefile.OleFileIO(vba_project_bin)
    try:
        dir_records = parse_records(ovba.decompress(ole.openstream("VBA/dir").read()))
        information, header, module_groups = _split_modules(dir_records)
        codepage = struct.unpack("<H", _record(information, PROJECTCODEPAGE))[0]
        encoding = f"cp{codepage}"
        project_lines = tuple(ole.openstream("PROJECT").read().decode(encoding).split("\r\n"))
        kinds = _module_kinds(project_lines)
        modules: list[Module] = []
        module_records: dict[str, tuple[Record, ...]] = {}
        for group in module_groups:
            name = _record(group, MODULENAME).decode(encoding)
            stream = _record(group, MODULESTREAMNAME).decode(encoding)
            (offset,) = struct.unpack("<I", _record(group, MODULEOFFSET))
            compressed = ole.openstream(f"VBA/{stream}").read()
            if offset > len(compressed):
                raise ValueError(f"module {name}: text offset {offset} past the stream's {len(compressed)} bytes")
            source = ovba.decompress(compressed[offset:]).decode(encoding)
            # the PROJECT line tells class from document; without one, MODULETYPE tells procedural from class
            default: ModuleKind = "class" if any(rid == MODULETYPE_OTHER for rid, _ in group) else "module"
            kind = kinds[name.lower()][0] if name.lower() in kinds else default
            modules.append(Module(name, kind, source))
            module_records[name.lower()] = tuple(group)
    finally:
        ole.close()
    return Project(
        name=_record(information, PROJECTNAME).decode(encoding),
        codepage=codepage,
        modules=tuple(modules),
        information=tuple(information),
        modules_header=tuple(header),
        module_records=module_records,
        project_lines=project_lines,
    )


def read_xlam_project(xlam: Path | bytes) -> Project:
    """The VBA project of an .xlam/.xlsm file (its `xl/vbaProject.bin` part)."""
    with zipfile.ZipFile(io.BytesIO(xlam) if isinstance(xlam, bytes) else xlam) as archive:
        return read_project(archive.read("xl/vbaProject.bin"))


def xlwings_ribbon_addin() -> Path:
    """The path of xlwings' shipped `quickstart_addin_ribbon.xlam`, the base project of our add-in."""
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def load_module(path: Path) -> Module:
    """A module from an exported `.bas` / `.cls` file: name from `Attribute VB_Name`, line ends made CRLF.

    `.bas` gives a standard module, `.cls` a class module; the VBA editor's `VERSION 1.0 CLASS` / `BEGIN`...`END`
    header of an exported class is dropped (it is not part of the stored source).
    """
    text = path.read_text(encoding="cp1252").replace("\r\n", "\n")
    match = re.search(r'^Attribute VB_Name = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise ValueError(f"{path.name}: no Attribute VB_Name line")
    text = text[match.start():]
    kind: ModuleKind = "class" if path.suffix.lower() == ".cls" else "module"
    return Module(match.group(1), kind, text.replace("\n", "\r\n"))


def _mbcs_unicode(mbcs_id: int, unicode_id: int, text: str, encoding: str) -> list[Record]:
    """A name record in the project's codepage followed by its UTF-16LE twin (e.g. MODULENAME + MODULENAMEUNICODE)."""
    return [(mbcs_id, text.encode(encoding)), (unicode_id, text.encode("utf-16-le"))]


def _new_module_records(module: Module, encoding: str) -> list[Record]:
    """MODULE records (2.3.4.2.3.2) of a module stored as source at offset 0, no docstring, help context 0."""
    return [
        *_mbcs_unicode(MODULENAME, MODULENAMEUNICODE, module.name, encoding),
        *_mbcs_unicode(MODULESTREAMNAME, MODULESTREAMNAME_UNICODE, module.name, encoding),
        (MODULEDOCSTRING, b""), (MODULEDOCSTRING_UNICODE, b""),
        (MODULEOFFSET, struct.pack("<I", 0)),
        (MODULEHELPCONTEXT, struct.pack("<I", 0)),
        (MODULECOOKIE, struct.pack("<H", 0xFFFF)),
        (MODULETYPE_PROCEDURAL if module.kind == "module" else MODULETYPE_OTHER, b""),
        (MODULE_TERMINATOR, b""),
    ]


def _kept_module_records(records: Sequence[Record], module: Module) -> list[Record]:
    """A base module's records with MODULEOFFSET 0 (source-only stream) and MODULETYPE following the module's kind."""
    kept: list[Record] = []
    for record_id, data in records:
        if record_id == MODULEOFFSET:
            data = struct.pack("<I", 0)
        elif record_id in (MODULETYPE_PROCEDURAL, MODULETYPE_OTHER):
            record_id = MODULETYPE_PROCEDURAL if module.kind == "module" else MODULETYPE_OTHER
        kept.append((record_id, data))
    return kept


def _check_name(name: str) -> None:
    """VBA identifiers: a letter, then letters, digits or underscores, at most 31 characters."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", name):
        raise ValueError(f"not a VBA identifier: {name!r}")


def _merge_modules(base: Project, modules: Sequence[Module]) -> list[Module]:
    """Base modules in their order, each replaced by a given module of the same name, then the new ones appended."""
    given = {m.name.lower(): m for m in modules}
    if len(given) != len(modules):
        raise ValueError("two given modules have the same name")
    merged: list[Module] = []
    for old in base.modules:
        new = given.pop(old.name.lower(), None)
        if new is not None and (old.kind == "document") != (new.kind == "document"):
            raise ValueError(f"module {new.name}: cannot turn a {old.kind} module into a {new.kind} module")
        merged.append(new or old)
    merged.extend(m for m in modules if m.name.lower() in given)
    return merged


def _project_stream(base: Project, modules: Sequence[Module], project_name: str) -> list[str]:
    """PROJECT lines (2.3.1): the base's lines with the module lines and Name replaced, [Workspace] for kept modules."""
    base_lines = _module_kinds(base.project_lines)
    module_lines = []
    for module in modules:
        old = base_lines.get(module.name.lower())
        if old is not None and old[0] == module.kind:
            module_lines.append(old[1])  # e.g. Document=ThisWorkbook/&H00000000 as Excel wrote it
        elif module.kind == "document":
            module_lines.append(f"Document={module.name}/&H00000000")
        else:
            module_lines.append(f"{_KEY_OF_KIND[module.kind]}={module.name}")
    names = {m.name.lower() for m in modules}
    lines: list[str] = []
    section = ""
    for line in base.project_lines:
        key = line.partition("=")[0]
        if line.startswith("["):
            section = line
        elif not section and key in _KIND_OF_KEY:
            if module_lines:
                lines.extend(module_lines)
                module_lines = []
            continue
        elif not section and key == "Name":
            line = f'Name="{project_name}"'
        elif section == "[Workspace]" and line and key.lower() not in names:
            continue
        lines.append(line)
    return lines


def _project_wm(modules: Sequence[Module], encoding: str) -> bytes:
    """PROJECTwm (2.3.3): per module its MBCS name + NUL and UTF-16LE name + NUL NUL, then a final NUL NUL."""
    parts = [m.name.encode(encoding) + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules]
    return b"".join(parts) + b"\0\0"


def project_streams(base: Project, modules: Sequence[Module], project_name: str) -> dict[str, bytes]:
    """The streams of the new project by CFB path (`VBA/dir`, `VBA/<module>`, `PROJECT`, ...), ready for `cfb.write`."""
    _check_name(project_name)
    for module in modules:
        _check_name(module.name)
    encoding = f"cp{base.codepage}"
    merged = _merge_modules(base, modules)

    information = [
        (PROJECTNAME, project_name.encode(encoding)) if rid == PROJECTNAME else (rid, data)
        for rid, data in base.information
    ]
    header = [
        (PROJECTMODULES, struct.pack("<H", len(merged))) if rid == PROJECTMODULES else (rid, data)
        for rid, data in base.modules_header
    ]
    records = information + header
    streams: dict[str, bytes] = {}
    for module in merged:
        old = base.module_records.get(module.name.lower())
        if old is not None:
            module_records = _kept_module_records(old, module)
            stream = _record(old, MODULESTREAMNAME).decode(encoding)
        else:
            module_records = _new_module_records(module, encoding)
            stream = module.name
        records += module_records
        # written as given (load_module gives CRLF; xlwings' own module is stored with LF and Excel accepts it);
        # UnicodeEncodeError for a character the codepage lacks
        source = module.source.encode(encoding)
        streams[f"VBA/{stream}"] = ovba.compress(source)
    records.append((DIR_TERMINATOR, b""))

    streams["VBA/dir"] = ovba.compress(serialize_records(records))
    streams["VBA/_VBA_PROJECT"] = VBA_PROJECT_STREAM
    streams["PROJECT"] = "\r\n".join(_project_stream(base, merged, project_name)).encode(encoding)
    streams["PROJECTwm"] = _project_wm(merged, encoding)
    return streams


def build_project(base: Project, modules: Sequence[Module], project_name: str) -> bytes:
    """A `vbaProject.bin`: the base's information, references and modules, the given modules added or replacing
    same-named ones, the project renamed; to drop a base module pass `dataclasses.replace(base, modules=...)`."""
    return cfb.write(project_streams(base, modules, project_name))


__all__ = [
    "Module",
    "Project",
    "build_project",
    "load_module",
    "parse_records",
    "project_streams",
    "read_project",
    "read_xlam_project",
    "serialize_records",
    "xlwings_ribbon_addin",
]
