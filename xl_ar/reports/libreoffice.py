"""LibreOffice Calc as a real spreadsheet application, headless: recalculate and render workbooks.

There is no Excel on Linux, so reports are checked by opening them in LibreOffice: converting
.xlsx to .xlsx with a private profile that makes it recalculate every formula on load (by default
it trusts the cached values), and to PDF, then to PNG pages with pdftoppm, for a person to look at.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xl_ar.errors import ToolError

PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
"""Calc settings: always recalculate formulas when loading OOXML and ODF files."""


def soffice() -> str:
    """The path of `soffice` (LibreOffice), or a clear error saying how to get it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise ToolError("LibreOffice is not installed (Debian/Ubuntu: apt-get install libreoffice-calc)")
    return found


def make_profile(folder: Path) -> Path:
    """A private LibreOffice profile that recalculates on load; returns its folder."""
    user = Path(folder) / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(PROFILE_SETTINGS, encoding="utf-8")
    return Path(folder)


def convert(files: Sequence[Path], to: str, out: Path, timeout: float = 300) -> list[Path]:
    """Convert files in one LibreOffice run (`to`: xlsx, pdf, ...), recalculating every formula.

    LibreOffice can exit 0 without writing its output, so each output file is checked.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xl-ar-lo-") as tmp:
        profile = make_profile(Path(tmp))
        command = [soffice(), "--headless", "--norestore", "--nolockcheck", "--nodefault",
                   f"-env:UserInstallation={profile.resolve().as_uri()}", "--convert-to", to, "--outdir", str(out),
                   *[str(f) for f in files]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    results = [out / (Path(f).stem + "." + to.split(":")[0]) for f in files]
    missing = [r.name for r in results if not r.exists() or r.stat().st_size == 0]
    if missing:
        raise ToolError(f"LibreOffice did not write {', '.join(missing)} (exit {done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[:300]}")
    return results


def render(workbook: Path, out: Path, dpi: int = 70) -> list[Path]:
    """PNG pictures of a workbook's printed pages (LibreOffice to PDF, then pdftoppm), one per page:
    `<name>-<page>.png` beside `<name>.pdf` in `out`. Pictures of an earlier rendering of the same
    workbook there are removed first, so the folder holds this rendering's pages only."""
    pdf = convert([workbook], "pdf", out)[0]
    tool = shutil.which("pdftoppm")
    if not tool:
        raise ToolError("pdftoppm is not installed (Debian/Ubuntu: apt-get install poppler-utils)")
    stem = Path(workbook).stem
    page = re.compile(re.escape(stem) + r"-\d+\.png")
    for old in Path(out).glob(f"{glob.escape(stem)}-*.png"):
        if page.fullmatch(old.name):
            old.unlink()
    subprocess.run([tool, "-r", str(dpi), "-png", str(pdf), str(Path(out) / stem)], check=True, capture_output=True)
    return sorted(p for p in Path(out).glob(f"{glob.escape(stem)}-*.png") if page.fullmatch(p.name))
