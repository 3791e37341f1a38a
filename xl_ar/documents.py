"""Letters from templates: a practice's text template (Jinja2) filled with a claim's facts, written as .docx.

Templates are text files a practice adapts without code. The shipped ones live in `xl_ar/templates/`; a file of
the same name in the practice folder's `letters/` replaces it. They run in Jinja2's sandbox (a template can read
the facts it is given, nothing else) with undefined names as errors, so a misspelled field stops the batch with
the template's name and line instead of printing an empty gap in a letter.

The rendered text has a small layout language, read line by line:
- `# text` is a heading, `## text` a smaller one;
- `- text` is a bullet;
- `| a | b | c` is a table row (the first row of a table is its header, shown bold);
- a blank line ends a paragraph; lines of one paragraph keep their line breaks (address blocks).

Values from data never become layout: every `{{ value }}` is escaped (a leading `#`, `-` or `|` and any `|` are
written as themselves, a line break as a space), so a payer name starting with `#` stays text.

Filters for the facts: `dollars` (cents as $1,234.56), `date` (MM/DD/YYYY), `codes` (a list joined with ", ").
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from xl_ar.errors import InputError
from xl_ar.money import dollars

SHIPPED = "templates"
"""The package folder (`xl_ar/templates/`) of the shipped templates."""
PRACTICE_FOLDER = "letters"
"""The practice folder's subfolder whose templates replace the shipped ones of the same name."""
MAX_TEMPLATE_BYTES = 256 * 1024
"""A template is a letter, not a book: larger files are refused unread."""

_ESCAPE = "\\"
_MARKUP = re.compile(r"^(#{1,2}) (.*)$|^- (.*)$|^\|(.*)$")


class TemplateError(InputError):
    """A template that cannot be used: unreadable, not valid Jinja2, or naming a field the facts do not have."""


@dataclass(frozen=True)
class Template:
    """A template's text and where it came from (the shipped package or the practice's `letters/` folder)."""

    name: str
    text: str
    source: str
    """`xl-ar` for a shipped template, else the file's name under the practice folder."""


def find(name: str, practice_folder: Path | None = None) -> Template:
    """The template `name`: the practice's `letters/<name>` when it exists, else the shipped one."""
    if practice_folder is not None:
        own = Path(practice_folder) / PRACTICE_FOLDER / name
        if own.is_file():
            size = own.stat().st_size
            if size > MAX_TEMPLATE_BYTES:
                raise TemplateError(f"{PRACTICE_FOLDER}/{name}: {size:,} bytes; a template is at most "
                                    f"{MAX_TEMPLATE_BYTES // 1024} KB")
            try:
                return Template(name, own.read_text(encoding="utf-8-sig"), f"{PRACTICE_FOLDER}/{name}")
            except UnicodeDecodeError:
                raise TemplateError(f"{PRACTICE_FOLDER}/{name}: not UTF-8 text; save the template as UTF-8") from None
    shipped = resources.files("xl_ar").joinpath(SHIPPED, name)
    if not shipped.is_file():
        raise TemplateError(f"no template named {name} (shipped templates: {', '.join(shipped_names())})")
    return Template(name, shipped.read_text(encoding="utf-8"), "xl-ar")


def shipped_names() -> list[str]:
    """The shipped templates' file names."""
    folder = resources.files("xl_ar").joinpath(SHIPPED)
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))


# -- rendering ------------------------------------------------------------------------------------------------------

def us_date(value: object) -> str:
    """A date as MM/DD/YYYY (US letters); empty -> ''."""
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


def codes(values: object) -> str:
    """A list of codes joined with ', ' (text as it is)."""
    if values is None:
        return ""
    if isinstance(values, str):
        return values
    return ", ".join(str(v) for v in values if v is not None and str(v) != "")


def _escape(value: object) -> str:
    """A value from data as literal text of the layout language (see the module docstring)."""
    text = "" if value is None else str(value)
    text = text.replace(_ESCAPE, _ESCAPE * 2).replace("|", _ESCAPE + "|")
    text = " ".join(text.splitlines())
    if text[:1] in ("#", "-"):
        text = _ESCAPE + text
    return text


@functools.cache
def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=False, finalize=_escape)
    env.filters.update(dollars=dollars, date=us_date, codes=codes)
    return env


def compile_template(template: Template):
    """The template compiled once for a batch; a syntax error names the template and its line."""
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().from_string(template.text)
    except TemplateSyntaxError as e:
        raise TemplateError(f"{template.source} line {e.lineno}: {e.message}") from None


def render(template: Template, facts: Mapping[str, object], compiled=None) -> str:
    """The template filled with `facts` (a field the facts lack, or anything the sandbox forbids, is an error
    naming the template and line)."""
    from jinja2 import TemplateError as JinjaError
    from jinja2 import UndefinedError
    from jinja2.sandbox import SecurityError

    compiled = compiled if compiled is not None else compile_template(template)
    try:
        return compiled.render(**facts)
    except UndefinedError as e:
        raise TemplateError(f"{template.source}{_line(e)}: {e.message} (the fields a letter has are listed in "
                            "docs/letters.md)") from None
    except SecurityError as e:
        raise TemplateError(f"{template.source}{_line(e)}: not allowed in a template ({e})") from None
    except JinjaError as e:
        raise TemplateError(f"{template.source}{_line(e)}: {e}") from None


def _line(error: BaseException) -> str:
    """' line N' of a template error raised while rendering, from the template's frame in the traceback."""
    tb = error.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" line {line}" if line else ""


# -- layout ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """One block of a rendered letter: a heading, a paragraph (its lines), a bullet or a table (its rows)."""

    kind: str
    """heading1, heading2, paragraph, bullet or table."""
    lines: tuple[tuple[str, ...], ...]
    """A paragraph's lines (one cell each), a table's rows (cells), a heading's or bullet's one line."""


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _cells(row: str) -> tuple[str, ...]:
    """A table row's cells: split on `|` that is not escaped, trimmed; a trailing `|` ends the row."""
    parts = re.split(r"(?<!\\)\|", row)
    if parts and parts[-1].strip() == "":
        parts = parts[:-1]
    return tuple(_unescape(p.strip()) for p in parts)


def blocks(text: str) -> list[Block]:
    """The rendered text read as blocks (the layout language of the module docstring)."""
    out: list[Block] = []
    paragraph: list[str] = []
    table: list[tuple[str, ...]] = []

    def flush() -> None:
        if paragraph:
            out.append(Block("paragraph", tuple((line,) for line in paragraph)))
            paragraph.clear()
        if table:
            out.append(Block("table", tuple(table)))
            table.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        markup = _MARKUP.match(line)
        if markup and markup.group(4) is not None:
            if paragraph:
                flush()
            table.append(_cells(markup.group(4)))
            continue
        if table:
            flush()
        if not line.strip():
            flush()
        elif markup and markup.group(1):
            flush()
            out.append(Block("heading1" if markup.group(1) == "#" else "heading2", ((_unescape(markup.group(2)),),)))
        elif markup and markup.group(3) is not None:
            flush()
            out.append(Block("bullet", ((_unescape(markup.group(3)),),)))
        else:
            paragraph.append(_unescape(line))
    flush()
    return out


def docx_bytes(text: str, title: str = "") -> bytes:
    """A rendered letter as a Word document (.docx): Calibri 11, one-inch margins, tables in a grid."""
    import docx
    from docx.shared import Inches, Pt

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "xl-ar"
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    for section in document.sections:
        section.left_margin = section.right_margin = Inches(1)
        section.top_margin = section.bottom_margin = Inches(1)
    for block in blocks(text):
        if block.kind in ("heading1", "heading2"):
            document.add_heading(block.lines[0][0], level=1 if block.kind == "heading1" else 2)
        elif block.kind == "bullet":
            document.add_paragraph(block.lines[0][0], style="List Bullet")
        elif block.kind == "paragraph":
            paragraph = document.add_paragraph()
            for i, (line,) in enumerate(block.lines):
                run = paragraph.add_run(line)
                if i < len(block.lines) - 1:
                    run.add_break()
        else:
            width = max(len(r) for r in block.lines)
            table = document.add_table(rows=0, cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(block.lines):
                cells = table.add_row().cells
                for c in range(width):
                    value = row[c] if c < len(row) else ""
                    run = cells[c].paragraphs[0].add_run(value)
                    run.bold = r == 0
            document.add_paragraph()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_text(data: bytes) -> list[str]:
    """The paragraphs and table cells of a .docx, in document order (what tests and reviewers read back)."""
    import docx

    document = docx.Document(io.BytesIO(data))
    body = document.element.body
    out: list[str] = []
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(docx.text.paragraph.Paragraph(child, document).text)
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            out.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return out


def file_stem(number: int, kind: str, width: int = 5) -> str:
    """A letter's file name without patient identifiers: `appeal_00042`, `refund_00007`."""
    return f"{kind}_{number:0{width}d}"

