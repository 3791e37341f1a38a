"""Printed pages of the workbooks xl-ar writes: page setup, how small a sheet prints, how tall
wrapped rows are, and where pages break.

Every sheet prints on US Letter, landscape, fitted to one page wide and as many pages tall as
needed. Excel and LibreOffice shrink a sheet wider than the page to fit it, so text prints at its
font size times that shrink. These estimates let a writer choose column widths that keep text at
`MIN_PRINTED_SIZE` or more, give wrapped rows the height of their lines (no program fits the
height of a merged cell, and previews fit none), and keep a block (a chart, a section with its
header, a table's last rows with their footnote) on one page.

Widths are in Excel's unit: characters of the maximum digit width of the default font (7 pixels
for Calibri 10 or 11 at 96 dpi).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

PAPER_LETTER = 1
"""xlsxwriter's paper code for US Letter (8.5 x 11 in)."""
MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}
"""Page margins in inches; the header and footer print in the top and bottom margins."""
HEADER_MARGIN = 0.3
PRINTABLE_WIDTH = (11 - MARGINS["left"] - MARGINS["right"]) * 72
"""Points across a landscape Letter page inside the margins (734.4)."""
PRINTABLE_HEIGHT = (8.5 - MARGINS["top"] - MARGINS["bottom"]) * 72
"""Points down a landscape Letter page inside the margins (525.6)."""
MIN_PRINTED_SIZE = 8.0
"""The smallest text size (points, on paper) a report may print: below it a page is hard to read."""
ROW_HEIGHT = 15.0
"""Height of a row with no height of its own (points): xlsxwriter's default, which programs may draw lower, never
higher."""
CHART_ROW_PIXELS = 20
"""Pixels of a default row, as xlsxwriter places charts."""
EXCEL_DIGIT = 7.0
NARROW_DIGIT = 6.8
"""Pixels per width unit: Excel's (the widest sheet, so the smallest print), and a lower bound of what
LibreOffice draws (measured there: about 7; the narrower the sheet, the less it shrinks, so the fewer rows a page
holds and the more lines a wrapped text takes)."""


def page_setup(ws, footer: str, header: str = "") -> None:
    """Landscape Letter, one page wide and as many tall as needed, the margins above, and a footer
    (and header) in the margins."""
    ws.set_landscape()
    ws.set_paper(PAPER_LETTER)
    ws.fit_to_pages(1, 0)
    ws.set_margins(**MARGINS)
    ws.set_footer(footer, {"margin": HEADER_MARGIN})
    if header:
        ws.set_header(header, {"margin": HEADER_MARGIN})


def column_pixels(width: float, digit: float = EXCEL_DIGIT) -> float:
    """Pixels of a column `width` characters wide: width x the digit width, plus 5 pixels of padding."""
    return width * digit + 5 if width > 0 else 0.0


def sheet_points(widths: Sequence[float], digit: float = EXCEL_DIGIT) -> float:
    """Printed width (points, before any shrink) of columns of these widths."""
    return sum(column_pixels(w, digit) for w in widths) * 0.75


def fit_scale(widths: Sequence[float], digit: float = EXCEL_DIGIT) -> float:
    """The shrink that fits columns of these widths on one page wide (1 when they fit as they are)."""
    return min(1.0, PRINTABLE_WIDTH / sheet_points(widths, digit))


def printed_size(font_size: float, widths: Sequence[float]) -> float:
    """The size `font_size` text prints at on a sheet of these widths fitted to one page wide (Excel's
    widths: the widest sheet, so the smallest print of the two programs)."""
    return font_size * fit_scale(widths)


def fit_widths(fixed: Sequence[float | None], weights: Sequence[float], font_size: float,
               min_width: float | Sequence[float] = 8.0, min_size: float = MIN_PRINTED_SIZE) -> list[float]:
    """Column widths that print `font_size` text at `min_size` or more.

    Fixed columns (a number in `fixed`) keep their width; the flexible ones (None) share, in
    proportion to `weights`, what is left of the widest sheet that still prints at `min_size`, each
    at least its `min_width` (one for all, or one per column: e.g. its longest word, `word_width`).
    When the fixed columns and the minimums leave too little, the minimums win and the sheet
    prints smaller.
    """
    n = len(fixed)
    mins = [float(min_width)] * n if isinstance(min_width, (int, float)) else [float(m) for m in min_width]
    widest = PRINTABLE_WIDTH * font_size / min_size / 0.75 * 0.995  # pixels, with half a percent to spare
    flexible = [j for j, w in enumerate(fixed) if w is None]
    left = (widest - sum(column_pixels(w) for w in fixed if w is not None) - 5 * len(flexible)) / EXCEL_DIGIT
    widths = [float(w) if w is not None else 0.0 for w in fixed]
    free = list(flexible)
    while free:  # share by weight; a column below its minimum takes its minimum and leaves the rest to the others
        unit = max(0.0, left) / (sum(weights[j] for j in free) or 1.0)
        below = [j for j in free if weights[j] * unit < mins[j]]
        if not below:
            for j in free:
                widths[j] = weights[j] * unit
            break
        for j in below:
            widths[j] = mins[j]
            left -= mins[j]
            free.remove(j)
    return [w if fixed[j] is not None else math.floor(w * 2) / 2 for j, w in enumerate(widths)]


def line_height(font_size: float) -> float:
    """Points per line of wrapped text (Calibri's line spacing with a little leading)."""
    return font_size * 1.3


_ADVANCE = (
    226, 326, 401, 498, 507, 715, 682, 221, 303, 303, 498, 498, 250, 306, 252, 386, 507, 507, 507, 507, 507, 507, 507,
    507, 507, 507, 268, 268, 498, 498, 498, 463, 894, 579, 544, 533, 615, 488, 459, 631, 623, 252, 319, 520, 420, 855,
    646, 662, 517, 673, 543, 459, 487, 642, 567, 890, 519, 487, 468, 307, 386, 307, 498, 498, 291, 479, 525, 423, 525,
    498, 305, 471, 525, 229, 239, 455, 229, 799, 525, 527, 525, 525, 349, 391, 335, 525, 452, 715, 433, 453, 395, 314,
    460, 314, 498,
)
"""Advance widths (thousandths of an em) of the printable ASCII characters, space to `~`, in Calibri (and
Carlito, its metric twin that LibreOffice draws it with)."""
_WIDE = 650
"""Width assumed for any other character (accented letters, symbols): a wide letter's."""
_PIECES = re.compile(r"[^\s-]*-+|[^\s-]+|\s+")
"""Pieces a line may break after: a word up to and with its hyphen, a word, a run of spaces."""


def _line_count(text: str, room: float, em: float) -> int:
    """Lines a greedy word wrap gives `text` in `room` pixels (a piece longer than a line is broken
    across lines, as the programs break a long word)."""
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = pending = 0.0
        for piece in _PIECES.findall(paragraph):
            width = _pixels(piece, em)
            if piece.isspace():
                pending += width
            elif used and used + pending + width > room:
                lines += 1 + int(width // room)
                used, pending = width % room, 0.0
            elif not used and width > room:
                lines += int(width // room)
                used, pending = width % room, 0.0
            else:
                used, pending = used + pending + width, 0.0
    return max(1, lines)


def _pixels(piece: str, em: float) -> float:
    return sum(_ADVANCE[c - 32] if 32 <= c < 127 else _WIDE for c in map(ord, piece)) * em / 1000


def word_width(texts: Sequence | pd.Series | np.ndarray, font_size: float = 10, cap: float = 30.0) -> float:
    """The width (characters) of a column in which the longest word of these texts fits unbroken, at
    most `cap`: the narrowest a wrapped column should be."""
    text = pd.Series(np.asarray(texts, dtype=object)).dropna().astype(str)
    words = text.str.split().explode().dropna()
    if not len(words):
        return 0.0
    em = font_size * 96 / 72
    widest = max(_pixels(w, em) for w in words.unique().tolist())
    return min(cap, math.ceil((widest / 0.97 - 1) / NARROW_DIGIT * 2) / 2)


def wrapped_lines(texts: Sequence | pd.Series | np.ndarray, width: float, font_size: float = 10) -> np.ndarray:
    """Lines each text needs when wrapped in a column (or merged range) `width` characters wide.

    A greedy word wrap, as both programs wrap (at spaces and after hyphens), measured with
    Calibri's character widths in the narrower of the two programs' cells and with 3% to spare, so
    a row is never drawn shorter than its text. Each distinct text is measured once.
    """
    text = pd.Series(np.asarray(texts, dtype=object)).fillna("").astype(str)
    room = (width * NARROW_DIGIT + 5 - 4) * 0.97  # pixels inside the cell's padding, 3% to spare
    em = font_size * 96 / 72
    counts = {t: _line_count(t, room, em) for t in text.unique().tolist()}
    return text.map(counts).to_numpy(dtype=np.int64)


def rows_height(lines: np.ndarray | int, font_size: float = 10) -> np.ndarray | float:
    """Row heights (points) for rows of wrapped text with these many lines, never below `ROW_HEIGHT`."""
    return np.maximum(ROW_HEIGHT, np.asarray(lines) * line_height(font_size) + 2)


class Pages(NamedTuple):
    """Where the rows of a sheet fall on printed pages."""

    breaks: list[int]
    """Rows that must start a new page (manual page breaks)."""
    used: float
    """Height taken on the last page (points, at the sheet's own scale)."""
    page: float
    """Height of a page (points, at the sheet's own scale)."""
    count: int
    """Pages."""


def paginate(heights: Mapping[int, float], last_row: int, widths: Sequence[float],
             keep: Sequence[tuple[int, int]] = (), repeated: float = 0.0) -> Pages:
    """Where rows 0..`last_row` fall on pages.

    The breaks are the rows that must start a new page so that each block of `keep` (first row,
    last row) prints on one page, when it fits on one. `heights` are the rows' own
    heights (the others are `ROW_HEIGHT`); `repeated` is the height of the rows printed again at the top
    of every later page. The estimate is on the safe side: the page is as short as the
    least-shrinking program makes it, rows as tall as they can be drawn.
    """
    page = PRINTABLE_HEIGHT / fit_scale(widths, NARROW_DIGIT)
    ends: dict[int, int] = {}
    for first, last in keep:
        ends[first] = max(ends.get(first, first), last)
    breaks: list[int] = []
    count = 1
    used = top = 0.0  # top: the height of the repeated rows at the top of the current page
    for row in range(last_row + 1):
        h = heights.get(row, ROW_HEIGHT)
        if row in ends:
            block = sum(heights.get(r, ROW_HEIGHT) for r in range(row, ends[row] + 1))
            if used + block > page and used > top and repeated + block <= page:
                breaks.append(row)
                count += 1
                used = top = repeated
        if used + h > page and used > top:  # the program breaks by itself before a row that does not fit
            count += 1
            used = top = repeated
        used += h
    return Pages(breaks, used, page, count)
