"""A small stand-in for an xlwings Book, enough to run ribbon macros without Excel.

It follows the xlwings calls the macros use (`book.sheets[...]`, `.add`, `sheet.clear()`,
`sheet.range(addr).options(...).value = ...`, `app.alert`) and keeps what was written as a grid of
cells, converting DataFrames the way xlwings does (header row, then rows; `index=False`). Like Excel, it
takes a leading `'` as the mark of text and keeps apart the cells that text would make formulas
(`Sheet.formulas`).
"""

from __future__ import annotations

import re

import pandas as pd


def _cell(address: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", address.upper())
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


class Range:
    def __init__(self, sheet: Sheet, address: str):
        first, _, last = address.partition(":")
        self.sheet, self.row, self.col = sheet, *_cell(first)
        self.last = _cell(last) if last else None
        """The bottom-right cell of a block address (`A1:B200`): its value is the whole block, empty cells None."""
        self._options: dict = {}

    def options(self, **kw) -> Range:
        self._options = kw
        return self

    def select(self) -> None:
        """Excel's selection moves to this cell (kept as `Sheet.selected`: (row, column))."""
        self.sheet.selected = (self.row, self.col)

    def expand(self, mode: str = "table") -> Range:
        self._expand = True
        return self

    @property
    def value(self):
        if self.last is not None:
            return [[self.sheet.cells.get((r, c)) for c in range(self.col, self.last[1] + 1)]
                    for r in range(self.row, self.last[0] + 1)]
        rows = []
        r = self.row
        while (r, self.col) in self.sheet.cells:
            row, c = [], self.col
            while (r, c) in self.sheet.cells:
                row.append(self.sheet.cells[(r, c)])
                c += 1
            rows.append(row)
            r += 1
        return rows

    @value.setter
    def value(self, data) -> None:
        if isinstance(data, pd.DataFrame):
            grid = [list(data.columns), *data.astype(object).where(data.notna(), None).values.tolist()]
        elif self._options.get("transpose"):
            grid = [[v] for v in data]
        elif data and isinstance(data[0], list):
            grid = data
        else:
            grid = [list(data)]
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                self.sheet.put((self.row + i, self.col + j), v)


def _read_as_formula(text: str) -> bool:
    """Whether Excel makes a formula of `text` written to a cell's value, as it does with typed input: text
    starting with `=`, `+`, `-` or `@` that is not a plain number (`-5` is the number -5)."""
    if len(text) < 2 or text[0] not in "=+-@":
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


class Sheet:
    def __init__(self, name: str):
        self.name = name
        self.cells: dict[tuple[int, int], object] = {}
        self.formulas: set[tuple[int, int]] = set()
        """The cells Excel would hold as formulas (their text is in `cells`)."""
        self.selected: tuple[int, int] | None = None
        """The cell a macro selected (`Range.select`), if any."""

    def range(self, address: str) -> Range:
        return Range(self, address)

    def put(self, at: tuple[int, int], value: object) -> None:
        """A value written to a cell, as Excel takes it: a leading `'` only says "text" (it is not part of the
        value), and text that reads as a formula becomes one."""
        self.formulas.discard(at)
        if isinstance(value, str) and value.startswith("'"):
            value = value[1:]
        elif isinstance(value, str) and _read_as_formula(value):
            self.formulas.add(at)
        self.cells[at] = value

    def clear(self) -> None:
        self.cells.clear()
        self.formulas.clear()

    def frame(self, header_row: int) -> pd.DataFrame:
        """The table whose header is on `header_row` (for assertions)."""
        width = max(c for (r, c) in self.cells if r == header_row)
        rows = sorted({r for (r, _) in self.cells if r >= header_row})
        grid = [[self.cells.get((r, c)) for c in range(1, width + 1)] for r in rows]
        return pd.DataFrame(grid[1:], columns=grid[0])


class Sheets:
    def __init__(self, book: Book):
        self._list: list[Sheet] = []

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._list[key]
        return next(s for s in self._list if s.name == key)

    def __iter__(self):
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def add(self, name: str, before=None, after=None) -> Sheet:
        if any(s.name == name for s in self._list):
            raise ValueError(f"sheet {name} exists")
        sheet = Sheet(name)
        self._list.append(sheet)
        return sheet


class App:
    def __init__(self):
        self.alerts: list[str] = []
        """The messages shown (`buttons="ok"`, xlwings' default)."""
        self.questions: list[str] = []
        """The questions asked (`buttons="yes_no"` and the like), kept apart from the messages."""
        self.answer = "yes"
        """What the person at the stand-in answers to every question, as xlwings returns it ("yes", "no")."""
        self.books: dict[str, Book] = {}
        """Other open workbooks by name, as `app.books[name]` finds them (an add-in among them)."""

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", **kw) -> str:
        if buttons == "ok":
            self.alerts.append(prompt)
            return "ok"
        self.questions.append(prompt)
        return self.answer


class Book:
    def __init__(self, *sheet_names: str, fullname: str = ""):
        self.sheets = Sheets(self)
        self.app = App()
        self.fullname = fullname
        for name in sheet_names:
            self.sheets.add(name)
