"""The management report workbook: laid out with xlsxwriter from `content.ReportData`.

Figures a manager may want to trace are live formulas over the cells next to them (totals as
SUM, shares as divisions, the rollforward's ending as beginning + charges - payments -
adjustments - refunds), each written with its computed value cached, because previews, phones and
readers such as calamine show the stored value and never recalculate. Only functions both Excel
2016+ and LibreOffice compute (SUM, IF), no structured references, fonts set explicitly,
charts inside the print area, and every page headed, footed and numbered for printing.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell as cell_ref

from xl_ar import aging, guide, kpi, money, outputs
from xl_ar.kinds import BY_CODE
from xl_ar.reports import printing, safety
from xl_ar.reports.content import AppealsSection, ReportData, Targets

FONT = "Calibri"
SIZE = 10
STATE_COLORS = {"green": "#C6EFCE", "amber": "#FFEB9C", "red": "#FFC7CE"}
KEY_NAMES = {
    "total_ar": "TotalAR", "unbilled_ar": "UnbilledAR", "future_dated": "FutureDatedBalances",
    "days_in_ar": "DaysInAR", "pct_over_90": "PctAROver90", "pct_over_120": "PctAROver120",
    "net_collection_rate": "NetCollectionRate", "gross_collection_rate": "GrossCollectionRate",
    "denial_rate_count": "InitialDenialRateClaims", "denial_rate_dollars": "InitialDenialRateDollars",
    "clean_claim_rate": "CleanClaimRate", "credit_balances": "CreditBalances",
}
"""Defined names of the key figures (Summary sheet)."""


def _targets_note(targets: Targets) -> str:
    """The targets the tiles are judged against, in words (the defaults are MGMA / HFMA benchmarks)."""
    def pct(share: float) -> str:
        return f"{share * 100:g}%"

    source = ("MGMA / HFMA benchmarks" if targets == Targets() else
              "the practice's targets (settings target_*)")
    return (f"Targets: days in A/R {targets.days_in_ar:g}, A/R over 90 days {pct(targets.pct_over_90)} and over 120 "
            f"days {pct(targets.pct_over_120)} of billed A/R, net collection rate {pct(targets.net_collection_rate)}, "
            f"initial denial rate {pct(targets.denial_rate)} ({source}); amber within "
            f"{pct(targets.amber_margin)} of the target.")


def _dollars(cents) -> float | None:
    if cents is None or cents is pd.NA or (isinstance(cents, float) and np.isnan(cents)):
        return None
    return int(cents) / 100


def _num(value) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value)


class _Writer:
    """A workbook being written: formats, sheet setup, cells with cached formula values, and the
    printed pages of each sheet (row heights, blocks kept on one page, charts sized to the room left)."""

    def __init__(self, target, data: ReportData):
        self.data = data
        self.book = safety.workbook(target, {"default_date_format": "yyyy-mm-dd", "remove_timezone": True,
                                             "in_memory": True})
        self.book.formats[0].set_font_name(FONT)
        self.book.formats[0].set_font_size(SIZE)
        base = {"font_name": FONT, "font_size": SIZE}
        money = "#,##0.00;[Red]-#,##0.00"
        styles = {
            "text": base, "title": {**base, "bold": True, "font_size": 15},
            "subtitle": {**base, "italic": True, "font_color": "#595959"},
            "warning": {**base, "bold": True, "font_color": "#C00000"},
            "section": {**base, "bold": True, "font_size": 12},
            "header": {**base, "bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "text_wrap": True,
                       "valign": "top", "border": 1},
            "money": {**base, "num_format": money},
            "money_total": {**base, "num_format": money, "bold": True, "top": 1},
            "pct": {**base, "num_format": "0.0%"}, "pct_total": {**base, "num_format": "0.0%", "bold": True, "top": 1},
            "days": {**base, "num_format": "0.0"}, "int": {**base, "num_format": "#,##0"},
            "int_total": {**base, "num_format": "#,##0", "bold": True, "top": 1},
            "date": {**base, "num_format": "yyyy-mm-dd"}, "month": {**base, "num_format": "mmm yyyy"},
            "bold": {**base, "bold": True}, "total_label": {**base, "bold": True, "top": 1},
            "wrap": {**base, "text_wrap": True, "valign": "top"},
            "cell": {**base, "text_wrap": True},  # text in a table row: wrapped, on the line of the row's figures
            "note": {**base, "italic": True, "font_color": "#595959", "text_wrap": True, "valign": "top"},
            "guide_header": {**base, "bold": True, "bottom": 1, "text_wrap": True, "valign": "top"},
            "link": {**base, "font_color": "#0563C1", "underline": 1, "valign": "top"},
        }
        f = self.book.add_format
        self.fmt = {name: f(props) for name, props in styles.items()}
        for name in ("int", "money", "date", "text"):  # rows of wrapped text read from their top line
            self.fmt["top_" + name] = f({**styles[name], "valign": "top"})
        for state, color in STATE_COLORS.items():
            self.fmt[state] = f({**base, "bg_color": color, "bold": True})
        self._widths: dict[str, list[float]] = {}
        self._heights: dict[str, dict[int, float]] = {}
        self._keep: dict[str, list[tuple[int, int]]] = {}
        self._repeat: dict[str, tuple[int, int]] = {}

    # -- sheet setup ---------------------------------------------------------------------------------
    def sheet(self, name: str, title: str, widths: list[float]):
        ws = self.book.add_worksheet(name)
        ws.hide_gridlines(2)
        self._widths[name], self._heights[name], self._keep[name] = list(widths), {}, []
        ws.write_string(0, 0, title, self.fmt["title"])
        self.row_height(ws, 0, 21)
        sub = f"{self.data.practice} - as of {self.data.as_of:%Y-%m-%d}" if self.data.practice else \
            f"As of {self.data.as_of:%Y-%m-%d}"
        ws.write_string(1, 0, sub, self.fmt["subtitle"])
        if self.data.phi:
            ws.write_string(2, 0, "Contains PHI (patient identifiers): internal use only", self.fmt["warning"])
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        footer = f"&L&\"{FONT}\"&8Confidential&C&\"{FONT}\"&8Page &P of &N&R&\"{FONT}\"&8As of {self.data.as_of}"
        printing.page_setup(ws, footer, f"&C&\"{FONT},Bold\"&10&KC00000Contains PHI - internal use only"
                            if self.data.phi else "")
        return ws

    def header(self, ws, row: int, names: list[str]) -> None:
        for j, name in enumerate(names):
            ws.write_string(row, j, name, self.fmt["header"])
        self.row_height(ws, row, 30)

    def row_height(self, ws, row: int, height: float) -> None:
        """A row's own height, remembered for planning the pages."""
        ws.set_row(row, height)
        self._heights[ws.name][row] = float(height)

    def fit_row(self, ws, row: int, texts: dict[int, str]) -> None:
        """The height of a row whose cells (column: text) wrap: the most lines any of them needs."""
        widths = self._widths[ws.name]
        lines = max((int(printing.wrapped_lines([t], widths[j], SIZE)[0]) for j, t in texts.items()), default=1)
        if lines > 1:
            self.row_height(ws, row, float(printing.rows_height(lines, SIZE)))

    def note(self, ws, row: int, text: str, last_col: int, fmt: str = "note") -> int:
        """A note across the columns 0..`last_col`, wrapped, its row as tall as its lines (a merged cell
        is never fitted by the program); returns the next row."""
        ws.merge_range(row, 0, row, last_col, "", self.fmt[fmt])
        ws.write_string(row, 0, text, self.fmt[fmt])
        width = sum(self._widths[ws.name][: last_col + 1]) + (5 / printing.EXCEL_DIGIT) * last_col
        self.row_height(ws, row, float(printing.rows_height(printing.wrapped_lines([text], width, SIZE)[0], SIZE)))
        return row + 1

    def keep(self, ws, first: int, last: int) -> None:
        """Print rows first..last on one page when they fit on one."""
        self._keep[ws.name].append((first, last))

    def title_rows(self) -> tuple[int, int]:
        """The rows of a sheet's title (and its PHI warning), with the blank row below them."""
        return (0, 3 if self.data.phi else 2)

    def charts(self, ws, row: int, charts: list, last_col: int, header: int, last_data: int,
               titles_only: bool = False, tallest: int = 320, lowest: int = 220) -> int:
        """Charts side by side from `row` across columns 0..`last_col`, below a table whose header row is
        `header` and last data row `last_data`; returns the first row below them.

        No page holds charts alone under a repeated table header: when everything above the charts
        fits on the first page (or `titles_only`: a sheet of several tables), the sheet's title rows
        head every page and the charts may take a page of their own; otherwise the table's header is
        repeated and the charts print with its last two rows. Charts are as tall as the room left on
        their page, between `lowest` and `tallest` pixels (less when a page holds no more).
        """
        name = ws.name
        widths = self._widths[name]
        heights = self._heights[name]
        above = printing.paginate(heights, row - 1, widths, self._keep[name], self._rows_height(ws, header, header))
        titles = titles_only or above.count == 1
        repeat = self.title_rows() if titles else (header, header)
        self._repeat[name] = repeat
        repeated = self._rows_height(ws, *repeat)
        here = printing.paginate(heights, row - 1, widths, self._keep[name], repeated)
        keep_from = row if titles else max(header + 1, last_data - 1)
        fits_here = int((here.page - here.used) // printing.ROW_HEIGHT) - 1  # chart rows, and a blank row below
        fits_new = int((here.page - repeated - self._rows_height(ws, keep_from, row - 1)) // printing.ROW_HEIGHT) - 1
        low, high = (math.ceil(px / printing.CHART_ROW_PIXELS) for px in (lowest, tallest))
        rows = min(high, fits_here) if fits_here >= low else max(1, min(high, fits_new))  # here, else a new page
        height = rows * printing.CHART_ROW_PIXELS - 4
        across = sum(printing.column_pixels(w) for w in widths[: last_col + 1])
        gap = 16
        each = int((across - gap * (len(charts) - 1)) / len(charts))
        for k, chart in enumerate(charts):
            chart.set_size({"width": each, "height": height})
            ws.insert_chart(row, 0, chart, {"x_offset": k * (each + gap)})
        below = row + rows + 1
        self.keep(ws, keep_from, below - 1)
        return below

    def formula(self, ws, row: int, col: int, formula: str, fmt: str, value) -> None:
        """A live formula with its value cached (empty text for a value that cannot be computed)."""
        cached = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        ws.write_formula(row, col, formula, self.fmt[fmt], cached)

    def value(self, ws, row: int, col: int, value, fmt: str) -> None:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            ws.write_blank(row, col, None, self.fmt[fmt])
        elif fmt in ("date", "month"):
            ws.write_datetime(row, col, dt.datetime.combine(value, dt.time()), self.fmt[fmt])
        elif isinstance(value, str):
            ws.write_string(row, col, value, self.fmt[fmt])
        else:
            ws.write_number(row, col, value, self.fmt[fmt])

    def finish(self, ws, header_row: int, last_row: int, last_col: int,
               repeat: tuple[int, int] | None = None) -> None:
        """Freeze the panes below the header, repeat the header (or the rows `repeat`) on every printed
        page, set the print area and the page breaks that keep each block on one page."""
        first, last = repeat or self._repeat.get(ws.name, (header_row, header_row))
        ws.freeze_panes(header_row + 1, 0)
        ws.repeat_rows(first, last)
        ws.print_area(0, 0, last_row, last_col)
        pages = printing.paginate(self._heights[ws.name], last_row, self._widths[ws.name][: last_col + 1],
                                  self._keep[ws.name], self._rows_height(ws, first, last))
        if pages.breaks:
            ws.set_h_pagebreaks(pages.breaks)

    def _rows_height(self, ws, first: int, last: int) -> float:
        heights = self._heights[ws.name]
        return sum(heights.get(r, printing.ROW_HEIGHT) for r in range(first, last + 1))

    def chart_font(self) -> dict:
        return {"name": FONT, "size": 9}


def write(path: Path | None, data: ReportData, password: str | None = None) -> bytes:
    """Write the report to `path` (and return its bytes); encrypted with `password` when given."""
    buffer = io.BytesIO()
    w = _Writer(buffer, data)
    w.book.set_properties({
        "title": "A/R management report", "subject": f"Accounts receivable as of {data.as_of}",
        "author": "xl-ar", "company": data.practice, "created": dt.datetime.combine(data.as_of, dt.time()),
        "comments": "Contains PHI: internal use only" if data.phi else "De-identified (HIPAA Safe Harbor)",
    })
    summary = w.sheet("Summary", "A/R management report", [38, 16, 12, 10, 16, 14])  # first tab, filled last
    aging_cells = _aging(w, data)
    _summary(w, data, aging_cells, summary)
    _trend(w, data)
    _rollforward(w, data)
    if data.write_offs is not None:
        _write_offs(w, data)
    _denials(w, data)
    if data.appeals is not None:
        _appeals(w, data.appeals)
    _scorecard(w, data)
    if data.patient_ar is not None:
        _patient_ar(w, data)
    _worklist(w, data)
    _followup(w, data)
    _guide(w)
    summary.activate()
    w.book.close()
    content = buffer.getvalue()
    if password:
        content = _encrypt(content, password)
    if path is not None:  # whole or not at all; with patient identifiers, owner-only
        outputs.write_bytes(Path(path), content, private=data.phi)
    return content


def _encrypt(content: bytes, password: str) -> bytes:
    """The workbook encrypted with a password (ECMA-376 agile encryption, as Excel writes it)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(content)).encrypt(password, out)
    return out.getvalue()


def _summary(w: _Writer, data: ReportData, aging_cells: dict[str, str], ws) -> None:
    ws.write_string(3, 0, f"Period: {data.period[0]:%Y-%m-%d} to {data.period[1]:%Y-%m-%d}; "
                          + ("de-identified (HIPAA Safe Harbor)" if not data.phi else "identifiers included"),
                    w.fmt["subtitle"])
    top = 5
    w.header(ws, top, ["KPI", "Value", "Target", "State", "Previous report", "Change"])
    fmt_of = {"money": "money", "pct": "pct", "days": "days"}
    for i, t in enumerate(data.tiles):
        r = top + 1 + i
        ws.write_string(r, 0, t.label, w.fmt["cell"])
        w.fit_row(ws, r, {0: t.label})
        value = _dollars(t.value) if t.unit == "money" else _num(t.value)
        if t.key == "total_ar":
            w.formula(ws, r, 1, "=" + aging_cells["ar"], "money", value)
        elif t.key == "credit_balances":
            w.formula(ws, r, 1, f"=-{aging_cells['credit']}", "money", value)
        elif value is None:
            ws.write_string(r, 1, "n/a", w.fmt["text"])
        else:
            w.value(ws, r, 1, value, fmt_of[t.unit])
        w.book.define_name(KEY_NAMES[t.key], f"=Summary!{cell_ref(r, 1, True, True)}")
        if t.target is not None:
            w.value(ws, r, 2, t.target, fmt_of[t.unit])
            v, c = cell_ref(r, 1), cell_ref(r, 2)
            test = (f'IF({v}<={c},"green",IF({v}<={c}*{1 + t.margin:g},"amber","red"))' if t.lower_is_better
                    else f'IF({v}>={c},"green",IF({v}>={c}*{1 - t.margin:g},"amber","red"))')
            w.formula(ws, r, 3, f'=IF(ISNUMBER({v}),{test},"")', "text", t.state)
        previous = t.previous
        if previous is not None:
            w.value(ws, r, 4, _dollars(previous) if t.unit == "money" else _num(previous), fmt_of[t.unit])
            change = t.change
            w.formula(ws, r, 5, f'=IF(AND(ISNUMBER({cell_ref(r, 1)}),ISNUMBER({cell_ref(r, 4)})),'
                                f'{cell_ref(r, 1)}-{cell_ref(r, 4)},"")', fmt_of[t.unit],
                      None if change is None else (_dollars(change) if t.unit == "money" else change))
    last = top + len(data.tiles)
    for state, color in STATE_COLORS.items():
        ws.conditional_format(top + 1, 3, last, 3, {"type": "cell", "criteria": "==", "value": f'"{state}"',
                                                    "format": w.book.add_format({"bg_color": color, "bold": True})})
    r = last + 2
    ws.write_string(r, 0, "Dollars at risk in open denials", w.fmt["bold"])
    w.value(ws, r, 1, _dollars(data.dollars_at_risk), "money")
    w.book.define_name("DollarsAtRisk", f"=Summary!{cell_ref(r, 1, True, True)}")
    ws.write_string(r + 1, 0, "As-of date", w.fmt["bold"])
    w.value(ws, r + 1, 1, data.as_of, "date")
    w.book.define_name("AsOfDate", f"=Summary!{cell_ref(r + 1, 1, True, True)}")
    notes = [
        _targets_note(data.targets),
        *data.notes,
    ]
    for k, note in enumerate(notes):
        w.note(ws, r + 3 + k, note, 5, "wrap")
    w.keep(ws, max(top + 1, last - 1), r + 2 + len(notes))  # the notes print with the last KPIs
    w.finish(ws, top, r + 2 + len(notes), 5)


def _aging(w: _Writer, data: ReportData) -> dict[str, str]:
    a = data.aging
    labels = a.labels
    ws = w.sheet("Aging by payer", "Aging by payer (days from date of service)",
                 [26, 9, *[13] * len(labels), 14, 11])
    top = 4
    ncol = 2 + len(labels)
    w.header(ws, top, ["Payer", "Claims", *labels, "Total", "% of billed A/R over 90"])
    rows = a.table.to_dict("records")
    first = top + 1
    over_cols = [2 + i for i, label in enumerate(labels) if int(label.split("-")[0].rstrip("+")) > 90]
    for i, row in enumerate(rows):
        r = first + i
        payer = data.payer_names.get(row["group"], str(row["group"]))
        ws.write_string(r, 0, payer, w.fmt["cell"])
        w.fit_row(ws, r, {0: payer})
        w.value(ws, r, 1, int(row["claims"]), "int")
        for j, label in enumerate(labels):
            w.value(ws, r, 2 + j, _dollars(row[label]), "money")
        w.formula(ws, r, ncol, f"=SUM({cell_ref(r, 2)}:{cell_ref(r, ncol - 1)})", "money", _dollars(row["total"]))
        over = "+".join(cell_ref(r, c) for c in over_cols) or "0"
        w.formula(ws, r, ncol + 1, f'=IF({cell_ref(r, ncol)}=0,"",({over})/{cell_ref(r, ncol)})', "pct",
                  _num(row["pct_over_90"]))
    last = first + len(rows) - 1
    total_row = last + 1
    extra = a.extra.set_index("group")
    total = extra.loc["Total"]
    ws.write_string(total_row, 0, "Total", w.fmt["total_label"])
    span = (first, last) if rows else (total_row, total_row)
    w.formula(ws, total_row, 1, f"=SUM({cell_ref(span[0], 1)}:{cell_ref(span[1], 1)})", "int_total",
              int(total.claims))
    for j, label in enumerate(labels):
        w.formula(ws, total_row, 2 + j, f"=SUM({cell_ref(span[0], 2 + j)}:{cell_ref(span[1], 2 + j)})",
                  "money_total", _dollars(total[label]))
    w.formula(ws, total_row, ncol, f"=SUM({cell_ref(total_row, 2)}:{cell_ref(total_row, ncol - 1)})", "money_total",
              _dollars(total.total))
    over = "+".join(cell_ref(total_row, c) for c in over_cols) or "0"
    w.formula(ws, total_row, ncol + 1, f'=IF({cell_ref(total_row, ncol)}=0,"",({over})/{cell_ref(total_row, ncol)})',
              "pct_total", _num(total.pct_over_90))
    cells = {}
    in_ar = [cell_ref(total_row, ncol)]
    r = total_row + 1
    for name in aging.EXTRA_ROWS[1:]:
        if name not in extra.index:
            continue
        row = extra.loc[name]
        ws.write_string(r, 0, name, w.fmt["bold" if name == aging.AR else "text"])
        w.value(ws, r, 1, int(row.claims), "int")
        if name == "Credit balances":
            for j, label in enumerate(labels):
                w.value(ws, r, 2 + j, _dollars(row[label]), "money")
            undated = int(row.total) - int(sum(int(row[label]) for label in labels))
            formula = f"=SUM({cell_ref(r, 2)}:{cell_ref(r, ncol - 1)})" + (f"+{undated / 100}" if undated else "")
            w.formula(ws, r, ncol, formula, "money", _dollars(row.total))
            cells["credit"] = f"'Aging by payer'!{cell_ref(r, ncol, True, True)}"
        elif name == aging.AR:  # A/R = billed A/R in the buckets + billed A/R not aged + unbilled A/R
            w.formula(ws, r, ncol, "=" + "+".join(in_ar), "money_total", _dollars(row.total))
            cells["ar"] = f"'Aging by payer'!{cell_ref(r, ncol, True, True)}"
        else:
            w.value(ws, r, ncol, _dollars(row.total), "money")
            if name in (aging.NOT_AGED, aging.UNBILLED):
                in_ar.append(cell_ref(r, ncol))
        r += 1
    cells.setdefault("credit", "0")
    if rows:
        ws.autofilter(top, 0, last, ncol + 1)
        ws.conditional_format(first, ncol + 1, last, ncol + 1, {
            "type": "3_color_scale", "min_color": "#63BE7B", "mid_color": "#FFEB84", "max_color": "#F8696B",
            "min_type": "num", "min_value": 0, "mid_type": "num", "mid_value": 0.15, "max_type": "num",
            "max_value": 0.5})
        ws.conditional_format(first, ncol, last, ncol, {"type": "data_bar", "bar_color": "#9BC2E6",
                                                          "bar_solid": True})
    # data bars and colour scales cover the payers' rows only, never the total row
    r = w.note(ws, r + 1, "The buckets hold billed A/R by date of service; unbilled A/R, future-dated and credit "
                          "balances are on rows of their own, never netted. % of billed A/R over 90 days: billed "
                          "A/R more than 90 days from the date of service / billed A/R (HFMA MAP Key AR-1).", ncol + 1)
    end = r - 1
    if rows:
        chart = w.book.add_chart({"type": "bar", "subtype": "stacked"})
        palette = ["#5B9BD5", "#A5A5A5", "#FFC000", "#ED7D31", "#C00000", "#7030A0", "#264478"]
        for j in range(len(labels)):
            chart.add_series({
                "name": ["Aging by payer", top, 2 + j], "categories": ["Aging by payer", first, 0, last, 0],
                "values": ["Aging by payer", first, 2 + j, last, 2 + j],
                "fill": {"color": palette[j % len(palette)]}, "gap": 60})
        chart.set_title({"name": "Open A/R by payer and age", "name_font": {**w.chart_font(), "size": 11}})
        chart.set_x_axis({"num_format": "#,##0", "num_font": w.chart_font(), "major_gridlines": {"visible": True}})
        chart.set_y_axis({"num_font": w.chart_font(), "reverse": True})
        chart.set_legend({"position": "bottom", "font": w.chart_font()})
        end = w.charts(ws, r + 1, [chart], ncol + 1, top, last, tallest=max(320, 100 + 22 * len(rows)),
                       lowest=max(220, 60 + 16 * len(rows))) - 1  # room for every payer's bar and name
    w.finish(ws, top, end, ncol + 1)
    return cells


def _trend(w: _Writer, data: ReportData) -> None:
    ws = w.sheet("Aging trend", "Aging trend (month ends)", [14, 16, 14, 14, 12, 48])
    top = 4
    w.header(ws, top, ["Month end", "A/R (excl. credits)", "Credit balances", "% billed A/R over 90",
                       "Days in A/R", "Source"])
    rows = [dict(r, source="rebuilt from the exports") for r in data.history.to_dict("records")]
    if data.snapshots is not None and len(data.snapshots):
        for s in data.snapshots.to_dict("records"):
            if s["as_of"] >= data.as_of:
                continue
            rows.append({"month_end": s["as_of"], "ar": s.get("total_ar"), "credit_balances": s.get("credit_balances"),
                         "pct_over_90": s.get("pct_over_90"), "days_in_ar": s.get("days_in_ar"),
                         "source": f"report of {s['as_of']:%Y-%m-%d}"})
    rows.sort(key=lambda r: (r["month_end"], r["source"]))
    for i, row in enumerate(rows):
        r = top + 1 + i
        w.value(ws, r, 0, row["month_end"], "date")
        w.value(ws, r, 1, _dollars(row["ar"]), "money")
        w.value(ws, r, 2, _dollars(row["credit_balances"]), "money")
        w.value(ws, r, 3, _num(row["pct_over_90"]), "pct")
        w.value(ws, r, 4, _num(row["days_in_ar"]), "days")
        ws.write_string(r, 5, row["source"], w.fmt["text"])
    last = top + len(rows)
    ws.autofilter(top, 0, last, 5)
    r = w.note(ws, last + 1, "Month ends are rebuilt from the dated charges, postings and "
               "adjustments of the exports; earlier reports' figures come from the store.", 5)
    end = r - 1
    if rows:
        ar = w.book.add_chart({"type": "line"})
        ar.add_series({"name": "A/R (excl. credits)", "categories": ["Aging trend", top + 1, 0, last, 0],
                       "values": ["Aging trend", top + 1, 1, last, 1], "line": {"color": "#1F4E78", "width": 2.25},
                       "marker": {"type": "circle", "size": 4}})
        ar.set_title({"name": "A/R at month end", "name_font": {**w.chart_font(), "size": 11}})
        ar.set_x_axis({"date_axis": True, "num_format": "mmm yy", "num_font": w.chart_font()})
        ar.set_y_axis({"num_format": "#,##0", "num_font": w.chart_font()})
        ar.set_legend({"none": True})
        kpis = w.book.add_chart({"type": "line"})
        kpis.add_series({"name": "Days in A/R", "categories": ["Aging trend", top + 1, 0, last, 0],
                         "values": ["Aging trend", top + 1, 4, last, 4], "line": {"color": "#ED7D31"}})
        kpis.add_series({"name": "% billed A/R over 90", "categories": ["Aging trend", top + 1, 0, last, 0],
                         "values": ["Aging trend", top + 1, 3, last, 3], "y2_axis": True,
                         "line": {"color": "#C00000", "dash_type": "dash"}})
        kpis.set_title({"name": "Days in A/R and A/R over 90 days", "name_font": {**w.chart_font(), "size": 11}})
        kpis.set_x_axis({"date_axis": True, "num_format": "mmm yy", "num_font": w.chart_font()})
        kpis.set_y_axis({"num_font": w.chart_font(), "name": "days", "name_font": w.chart_font()})
        kpis.set_y2_axis({"num_format": "0%", "num_font": w.chart_font()})
        kpis.set_legend({"position": "bottom", "font": w.chart_font()})
        end = w.charts(ws, r + 1, [ar, kpis], 5, top, last, tallest=300) - 1
    w.finish(ws, top, end, 5)

def _rollforward(w: _Writer, data: ReportData) -> None:
    t = data.rollforward.table
    ws = w.sheet("Rollforward", "Collections and A/R rollforward", [11, 15, 14, 14, 14, 12, 15, 14, 11, 13])
    top = 4
    w.header(ws, top, ["Month", "Beginning balance", "Charges", "Payments", "Adjustments", "Refunds",
                       "Ending balance", "Contractual adj.", "Cash collection ratio", "Unexplained"])
    first = top + 1
    ledger_row = first + len(t) + 2
    for i, row in enumerate(t.to_dict("records")):
        r = first + i
        w.value(ws, r, 0, row["month"], "month")
        if i == 0:
            w.value(ws, r, 1, _dollars(row["beginning"]), "money")
        else:
            w.formula(ws, r, 1, f"={cell_ref(r - 1, 6)}", "money", _dollars(row["beginning"]))
        for j, key in ((2, "charges"), (3, "payments"), (4, "adjustments"), (5, "refunds"), (7, "contractual")):
            w.value(ws, r, j, _dollars(row[key]), "money")
        b, c, p, a, f = (cell_ref(r, j) for j in (1, 2, 3, 4, 5))
        w.formula(ws, r, 6, f"={b}+{c}-{p}-{a}-{f}", "money", _dollars(row["ending"]))
        w.formula(ws, r, 8, f'=IF({c}-{cell_ref(r, 7)}<=0,"",{p}/({c}-{cell_ref(r, 7)}))', "pct",
                  _num(row["cash_collection_ratio"]))
        if i == len(t) - 1:
            w.formula(ws, r, 9, f"={cell_ref(ledger_row, 6)}-{cell_ref(r, 6)}", "money", _dollars(row["unexplained"]))
        else:
            w.value(ws, r, 9, 0.0, "money")
    last = first + len(t) - 1
    total = last + 1
    ws.write_string(total, 0, "Total", w.fmt["total_label"])
    for j, key in ((2, "charges"), (3, "payments"), (4, "adjustments"), (5, "refunds"), (7, "contractual")):
        w.formula(ws, total, j, f"=SUM({cell_ref(first, j)}:{cell_ref(last, j)})", "money_total",
                  _dollars(int(t[key].sum())))
    net = int(t.charges.sum()) - int(t.contractual.sum())
    w.formula(ws, total, 8, f'=IF({cell_ref(total, 2)}-{cell_ref(total, 7)}<=0,"",'
                            f'{cell_ref(total, 3)}/({cell_ref(total, 2)}-{cell_ref(total, 7)}))', "pct_total",
              int(t.payments.sum()) / net if net > 0 else None)
    ws.merge_range(ledger_row, 0, ledger_row, 5, "Ledger balance at the as-of date (sum of the claims' balances)",
                   w.fmt["bold"])
    w.value(ws, ledger_row, 6, _dollars(data.rollforward.ledger_ar), "money")
    w.book.define_name("LedgerAR", f"=Rollforward!{cell_ref(ledger_row, 6, True, True)}")
    r = w.note(ws, ledger_row + 1, "Ending balance = beginning + charges - payments - adjustments - refunds (refunds "
               "are negative). Ledger balance = the sum of the balances of the claims serviced by the as-of date "
               "(future-dated claims are not in the rollforward). Unexplained = ledger "
               "balance - ending balance: it should be 0; otherwise the postings "
               "and the claims exports disagree. Cash collection ratio = payments posted in the month / (charges - "
               "contractual adjustments dated in the month): a cash basis, not the net collection rate of the Summary "
               "(a cohort of claims by date of service); above 100% the month collected charges of earlier months.",
               9, "wrap")
    ws.autofilter(top, 0, last, 9)
    chart = w.book.add_chart({"type": "column"})
    for j, name, color in ((2, "Charges", "#A5A5A5"), (3, "Payments", "#5B9BD5")):
        chart.add_series({"name": name, "categories": ["Rollforward", first, 0, last, 0],
                          "values": ["Rollforward", first, j, last, j], "fill": {"color": color}})
    line = w.book.add_chart({"type": "line"})
    line.add_series({"name": "Cash collection ratio", "categories": ["Rollforward", first, 0, last, 0],
                     "values": ["Rollforward", first, 8, last, 8], "y2_axis": True,
                     "line": {"color": "#C00000", "width": 2}})
    chart.combine(line)
    chart.set_title({"name": "Charges, payments and cash collection ratio by month",
                     "name_font": {**w.chart_font(), "size": 11}})
    chart.set_x_axis({"num_format": "mmm yy", "num_font": w.chart_font()})
    chart.set_y_axis({"num_format": "#,##0", "num_font": w.chart_font()})
    line.set_y2_axis({"num_format": "0%", "num_font": w.chart_font()})
    chart.set_legend({"position": "bottom", "font": w.chart_font()})
    end = w.charts(ws, r + 1, [chart], 9, top, last) - 1
    w.finish(ws, top, end, 9)


def _count_amount_rows(w: _Writer, ws, first: int, frame: pd.DataFrame, label: str, count: str) -> int:
    """One row per row of `frame` from sheet row `first`: its `label`, its `count` and its `amount` (cents, shown
    as dollars). The last row written."""
    for i, row in enumerate(frame.to_dict("records")):
        ws.write_string(first + i, 0, str(row[label]), w.fmt["cell"])
        w.value(ws, first + i, 1, int(row[count]), "int")
        w.value(ws, first + i, 2, _dollars(row["amount"]), "money")
    return first + len(frame) - 1


def _write_offs(w: _Writer, data: ReportData) -> None:
    """Write-offs by kind: bad debt apart from contractual adjustments (MGMA); dollars and counts only."""
    t = data.write_offs
    ws = w.sheet("Write-offs", "Write-offs: bad debt apart from contractual adjustments", [46, 12, 16])
    top = 4
    w.header(ws, top, ["Write-off", "Count", "Amount"])
    first = top + 1
    last = _count_amount_rows(w, ws, first, t, "label", "count")
    r = w.note(ws, last + 2, "Contractual adjustments: CO adjustments on the remittances (what the contracts do "
               "not let the practice bill). Bad debt: patient balances written off on placement with the collection "
               "agency, less what the agency recovered. Small balances: patient balances under the practice's "
               "threshold, not billed. MGMA reports bad debt apart from contractual adjustments.", 2, "wrap")
    w.finish(ws, top, r, 2)


def _denials(w: _Writer, data: ReportData) -> None:
    ws = w.sheet("Denials", "Denials (claims billed in the period, denied in full on first adjudication)",
                 [26, 15, 15, 22, 44, 28])
    top = 4
    w.header(ws, top, ["Category", "Claims denied", "Dollars denied", "Share of dollars"])
    cat = data.denials_by_category
    first = top + 1
    last = first + len(cat) - 1
    total_row = last + 1
    for i, row in enumerate(cat.to_dict("records")):
        r = first + i
        ws.write_string(r, 0, row["category"].replace("_", " "), w.fmt["text"])
        w.value(ws, r, 1, int(row["claims"]), "int")
        w.value(ws, r, 2, _dollars(row["dollars"]), "money")
        total_dollars = int(cat.dollars.sum())
        w.formula(ws, r, 3, f'=IF({cell_ref(total_row, 2, True, True)}=0,"",{cell_ref(r, 2)}/'
                            f'{cell_ref(total_row, 2, True, True)})', "pct",
                  int(row["dollars"]) / total_dollars if total_dollars else None)
    ws.write_string(total_row, 0, "Total", w.fmt["total_label"])
    span = (first, last) if len(cat) else (total_row, total_row)
    w.formula(ws, total_row, 1, f"=SUM({cell_ref(span[0], 1)}:{cell_ref(span[1], 1)})", "int_total",
              int(cat.claims.sum()))
    w.formula(ws, total_row, 2, f"=SUM({cell_ref(span[0], 2)}:{cell_ref(span[1], 2)})", "money_total",
              _dollars(int(cat.dollars.sum())))
    if len(cat):
        ws.autofilter(top, 0, last, 3)
    r = total_row + 2
    ws.write_string(r, 0, "Dollars at risk in open denials", w.fmt["bold"])
    w.value(ws, r, 2, _dollars(data.dollars_at_risk), "money")

    r += 2
    w.keep(ws, r, r + 1 + len(data.denials_by_payer))  # each section prints on one page with its header
    ws.write_string(r, 0, "By payer", w.fmt["section"])
    w.header(ws, r + 1, ["Payer", "Claims billed", "Claims denied", "Initial denial rate", "Dollars denied"])
    for i, row in enumerate(data.denials_by_payer.to_dict("records")):
        rr = r + 2 + i
        ws.write_string(rr, 0, str(row["payer_id"]), w.fmt["text"])
        w.value(ws, rr, 1, int(row["billed"]), "int")
        w.value(ws, rr, 2, int(row["denied"]), "int")
        w.formula(ws, rr, 3, f'=IF({cell_ref(rr, 1)}=0,"",{cell_ref(rr, 2)}/{cell_ref(rr, 1)})', "pct",
                  row["denied"] / row["billed"] if row["billed"] else None)
        w.value(ws, rr, 4, _dollars(row["dollars"]), "money")
    r = r + 2 + len(data.denials_by_payer) + 1
    w.keep(ws, r, r + 1 + len(data.top_reasons))
    ws.write_string(r, 0, "Top reason codes (xl-ar labels; official texts are X12's)", w.fmt["section"])
    w.header(ws, r + 1, ["Code", "Claims", "Dollars", "Category", "Label", "Next action"])
    for i, row in enumerate(data.top_reasons.to_dict("records")):
        rr = r + 2 + i
        ws.write_string(rr, 0, f"{row['group_code']}-{row['reason_code']}", w.fmt["text"])
        w.value(ws, rr, 1, int(row["claims"]), "int")
        w.value(ws, rr, 2, _dollars(row["dollars"]), "money")
        texts = {3: row["category"].replace("_", " "), 4: row["label"], 5: row["action"]}
        for j, text in texts.items():
            ws.write_string(rr, j, text, w.fmt["cell"])
        w.fit_row(ws, rr, texts)
    r = r + 2 + len(data.top_reasons) + 1
    w.keep(ws, r, r + 1 + len(data.denial_trend))
    ws.write_string(r, 0, "Initial denial rate by month", w.fmt["section"])
    w.header(ws, r + 1, ["Month billed", "Claims billed", "Claims denied", "Initial denial rate"])
    trend_first = r + 2
    for i, row in enumerate(data.denial_trend.to_dict("records")):
        rr = trend_first + i
        w.value(ws, rr, 0, row["month"], "month")
        w.value(ws, rr, 1, int(row["billed"]), "int")
        w.value(ws, rr, 2, int(row["denied"]), "int")
        w.formula(ws, rr, 3, f'=IF({cell_ref(rr, 1)}=0,"",{cell_ref(rr, 2)}/{cell_ref(rr, 1)})', "pct",
                  row["denied"] / row["billed"] if row["billed"] else None)
    trend_last = trend_first + len(data.denial_trend) - 1
    charts = []
    if len(cat):
        chart = w.book.add_chart({"type": "bar"})
        chart.add_series({"name": "Dollars denied", "categories": ["Denials", first, 0, last, 0],
                          "values": ["Denials", first, 2, last, 2], "fill": {"color": "#ED7D31"}})
        chart.set_title({"name": "Denied dollars by category", "name_font": {**w.chart_font(), "size": 11}})
        chart.set_x_axis({"num_format": "#,##0", "num_font": w.chart_font()})
        chart.set_y_axis({"num_font": w.chart_font(), "reverse": True})
        chart.set_legend({"none": True})
        charts.append(chart)
    if len(data.denial_trend):
        line = w.book.add_chart({"type": "line"})
        line.add_series({"name": "Initial denial rate", "categories": ["Denials", trend_first, 0, trend_last, 0],
                         "values": ["Denials", trend_first, 3, trend_last, 3], "line": {"color": "#C00000"},
                         "marker": {"type": "circle", "size": 4}})
        line.set_title({"name": "Initial denial rate by month", "name_font": {**w.chart_font(), "size": 11}})
        line.set_x_axis({"num_format": "mmm yy", "num_font": w.chart_font()})
        line.set_y_axis({"num_format": "0%", "num_font": w.chart_font()})
        line.set_legend({"none": True})
        charts.append(line)
    # several tables: every page is headed by the sheet's title rows, each table keeps its own header
    end = max(trend_last, r + 1)
    if charts:
        end = w.charts(ws, end + 2, charts, 5, r + 1, trend_last, titles_only=True,
                       lowest=max(260, 120 + 22 * len(cat))) - 1  # room for every category label
    w.finish(ws, top, end, 5, repeat=w.title_rows())


_APPEAL_ROWS = (
    ("appeals_filed", "Appeals filed", "int"),
    ("appeals_resolved", "Appeals resolved (won, partially won, lost)", "int"),
    ("overturn_rate", "Overturn rate", "pct"),
    ("days_denial_to_appeal", "Average days from denial to appeal", "days"),
    ("days_appeal_to_resolution", "Average days from appeal to resolution", "days"),
    ("dollars_recovered", "Dollars recovered", "money"),
)
"""The appeal KPIs as the Appeals sheet lists them: key, label, format."""


def _appeal_value(value, fmt: str):
    return _dollars(value) if fmt == "money" else _num(value)


def _appeals(w: _Writer, section: AppealsSection) -> None:
    """The Appeals sheet: the appeal KPIs of the period, the denial write-offs over net revenue, then the same
    KPIs by payer and by denial category (counts and dollars only)."""
    start, end = w.data.period
    ws = w.sheet("Appeals", f"Appeals filed {start:%Y-%m-%d} to {end:%Y-%m-%d}", [44, 14, 14, 14, 14, 14, 16])
    top = 4
    w.header(ws, top, ["Figure", "Value"])
    r = top + 1
    for key, label, fmt in _APPEAL_ROWS:
        ws.write_string(r, 0, label, w.fmt["text"])
        w.value(ws, r, 1, _appeal_value(section.overall[key], fmt), fmt)
        r += 1
    ws.write_string(r, 0, "Denial write-offs", w.fmt["text"])
    w.value(ws, r, 1, _dollars(section.writeoffs.written_off), "money")
    ws.write_string(r + 1, 0, "Net revenue (payments in the period)", w.fmt["text"])
    w.value(ws, r + 1, 1, _dollars(section.writeoffs.net_revenue), "money")
    ws.write_string(r + 2, 0, "Denial write-offs as % of net revenue", w.fmt["text"])
    w.formula(ws, r + 2, 1, f'=IF({cell_ref(r + 1, 1)}=0,"",{cell_ref(r, 1)}/{cell_ref(r + 1, 1)})', "pct",
              _num(section.writeoffs.pct))
    r = w.note(ws, r + 4, "Overturn rate: " + kpi.DEFINITIONS["overturn_rate"] + ". Denial write-offs: "
               + kpi.DEFINITIONS["denial_writeoff_pct"] + ".", 6)
    for title, column, frame in (("By payer", "payer_id", section.by_payer),
                                 ("By denial category", "category", section.by_category)):
        r += 1
        w.keep(ws, r, r + 1 + len(frame))
        ws.write_string(r, 0, title, w.fmt["section"])
        w.header(ws, r + 1, ["Payer" if column == "payer_id" else "Category", "Filed", "Resolved", "Overturn rate",
                             "Days to appeal", "Days to resolution", "Dollars recovered"])
        for i, row in enumerate(frame.to_dict("records")):
            rr = r + 2 + i
            ws.write_string(rr, 0, str(row[column]).replace("_", " "), w.fmt["text"])
            for j, (key, _, fmt) in enumerate(_APPEAL_ROWS):
                w.value(ws, rr, j + 1, _appeal_value(row[key], fmt), fmt)
        r = r + 2 + len(frame)
    w.finish(ws, top, r, 6, repeat=w.title_rows())


def _scorecard(w: _Writer, data: ReportData) -> None:
    s = data.scorecard
    ws = w.sheet("Payer scorecard", "Payer scorecard", [10, 26, 12, 12, 12, 11, 12, 14, 15, 15, 11])
    top = 4
    w.header(ws, top, ["Payer id", "Payer", "Avg days to pay", "Claims billed", "Claims denied",
                       "Initial denial rate", "Underpaid claims", "Underpaid dollars", "Billed A/R", "A/R over 90 days",
                       "% of billed A/R over 90"])
    first = top + 1
    for i, row in enumerate(s.to_dict("records")):
        r = first + i
        ws.write_string(r, 0, str(row["payer_id"]), w.fmt["text"])
        ws.write_string(r, 1, str(row["payer"]), w.fmt["cell"])
        w.fit_row(ws, r, {1: str(row["payer"])})
        w.value(ws, r, 2, _num(row["avg_days_to_pay"]), "days")
        w.value(ws, r, 3, int(row["claims_billed"]), "int")
        w.value(ws, r, 4, int(row["claims_denied"]), "int")
        w.formula(ws, r, 5, f'=IF({cell_ref(r, 3)}=0,"",{cell_ref(r, 4)}/{cell_ref(r, 3)})', "pct",
                  row["claims_denied"] / row["claims_billed"] if row["claims_billed"] else None)
        w.value(ws, r, 6, int(row["underpaid_claims"]), "int")
        w.value(ws, r, 7, _dollars(row["underpaid_dollars"]), "money")
        w.value(ws, r, 8, _dollars(row["open_ar"]), "money")
        w.value(ws, r, 9, _dollars(row["ar_over_90"]), "money")
        w.formula(ws, r, 10, f'=IF({cell_ref(r, 8)}=0,"",{cell_ref(r, 9)}/{cell_ref(r, 8)})', "pct",
                  row["ar_over_90"] / row["open_ar"] if row["open_ar"] else None)
    last = first + len(s) - 1
    total = last + 1
    ws.write_string(total, 0, "Total", w.fmt["total_label"])
    ws.write_blank(total, 1, None, w.fmt["total_label"])
    span = (first, last) if len(s) else (total, total)
    for j, key, fmt in ((3, "claims_billed", "int_total"), (4, "claims_denied", "int_total"),
                        (6, "underpaid_claims", "int_total"), (7, "underpaid_dollars", "money_total"),
                        (8, "open_ar", "money_total"), (9, "ar_over_90", "money_total")):
        value = int(s[key].sum())
        w.formula(ws, total, j, f"=SUM({cell_ref(span[0], j)}:{cell_ref(span[1], j)})", fmt,
                  _dollars(value) if fmt == "money_total" else value)
    billed, denied = int(s.claims_billed.sum()), int(s.claims_denied.sum())
    w.formula(ws, total, 5, f'=IF({cell_ref(total, 3)}=0,"",{cell_ref(total, 4)}/{cell_ref(total, 3)})', "pct_total",
              denied / billed if billed else None)
    open_ar, over = int(s.open_ar.sum()), int(s.ar_over_90.sum())
    w.formula(ws, total, 10, f'=IF({cell_ref(total, 8)}=0,"",{cell_ref(total, 9)}/{cell_ref(total, 8)})',
              "pct_total", over / open_ar if open_ar else None)
    if len(s):
        ws.autofilter(top, 0, last, 10)
    w.note(ws, total + 2, "Claims billed in the period. Days to pay: from billing to the first remittance. "
                          "Initial denial rate: claims denied in full on first adjudication / claims billed. "
                          "% of billed A/R over 90: of the payer's billed A/R, by date of service (AR-1).", 10)
    w.keep(ws, max(first, last - 1), total + 2)
    w.finish(ws, top, total + 2, 10)


def _patient_ar(w: _Writer, data: ReportData) -> None:
    """Patient A/R aged from each account's first statement (docs/statements.md): accounts and dollars per bucket,
    de-identified by nature (no account appears)."""
    rows = data.patient_ar
    ws = w.sheet("Patient AR", "Patient A/R (days from the first statement)", [32, 12, 16])
    top = 4
    w.header(ws, top, ["Days since the first statement", "Accounts", "Patient balance"])
    first = top + 1
    last = _count_amount_rows(w, ws, first, rows, "bucket", "accounts")
    total = last + 1
    ws.write_string(total, 0, "Total", w.fmt["total_label"])
    w.formula(ws, total, 1, f"=SUM({cell_ref(first, 1)}:{cell_ref(last, 1)})", "int_total",
              int(rows["accounts"].sum()))
    w.formula(ws, total, 2, f"=SUM({cell_ref(first, 2)}:{cell_ref(last, 2)})", "money_total",
              _dollars(int(rows["amount"].sum())))
    w.note(ws, total + 2, "Each account's patient balance (patient parts of its claims, credits applied as the "
                          "policy says; placed accounts left out), aged from the first statement of its current "
                          "dunning cycle; balances no statement has asked for yet on the last row.", 2)
    w.keep(ws, first, total + 2)
    w.finish(ws, top, total + 2, 2)


WORKLIST_COLUMNS = [
    # key, header, width (None: wrapped text sharing the rest of the page), weight of a shared width, format
    ("rank", "Rank", 5, 0, "int"), ("kind", "Kind", None, 2.2, "wrap"), ("claim_id", "Claim", 15, 0, "text"),
    ("trace_number", "Check / EFT", 13, 0, "text"), ("payer_id", "Payer", 7, 0, "text"),
    ("expected", "Expected", 10, 0, "money"), ("actual", "Actual", 10, 0, "money"),
    ("variance", "Variance", 10, 0, "money"), ("category", "Category", None, 2, "wrap"),
    ("reason", "Reason", None, 5, "wrap"), ("next_action", "Next action", None, 3, "wrap"),
    ("deadline", "Deadline", 10.5, 0, "date"), ("days_left", "Days left", 6, 0, "int"),
    ("priority", "Priority", 9, 0, "money"),
]
"""Columns of the printed worklist: numbers, dates and ids keep their width, text wraps in what is left of a
page that prints the worklist at `printing.MIN_PRINTED_SIZE` or more."""


HOW_TO_COLUMN = (guide.KEY, guide.HEADER, 7, 0, "link")
"""The link from a worklist row to its kind's row of the Guide sheet (after the kind)."""
ASSIGNED_COLUMN = ("assigned_to", "Assigned to", 11, 0, "text")
"""Who works the row, when the worklist is split among specialists (`xl_ar.assignments`)."""
GUIDE_HEADER_ROW = 4
"""The Guide sheet's header row (0-based, below the title rows); the kinds follow it."""


def _worklist(w: _Writer, data: ReportData) -> None:
    work = data.worklist
    columns = list(WORKLIST_COLUMNS)
    columns.insert(3, HOW_TO_COLUMN)  # after the claim (its token)
    if "assigned_to" in work.columns:
        columns.append(ASSIGNED_COLUMN)
    if data.phi and "patient_name" in work.columns:
        columns.insert(3, ("patient_name", "Patient", None, 2.4, "wrap"))
    wrapped = [j for j, c in enumerate(columns) if c[4] == "wrap"]
    texts = {}
    for j in wrapped:
        key = columns[j][0]
        values = work[key] if key in work.columns else pd.Series([None] * len(work), index=work.index)
        if key == "kind":
            values = values.map(lambda code: BY_CODE[code].label)
        elif key == "category":
            values = values.astype("string").str.replace("_", " ", regex=False)
        texts[j] = values.astype(object).where(values.notna(), None).tolist()
    # a wrapped column is as wide as its longest word (a long file name or trace may still break)
    mins = [max(6.0, printing.word_width(texts[j], SIZE, cap=14)) if j in texts else 0.0 for j in range(len(columns))]
    widths = printing.fit_widths([c[2] for c in columns], [c[3] for c in columns], SIZE, mins)
    ws = w.sheet("Worklist", f"Worklist: the top {len(work)} exceptions by priority", widths)
    top = 4
    note = ("Claim ids are tokens: look them up with the key kept outside this workbook." if not data.phi
            else "Identifiers shown: internal use only.")
    if data.specialists is not None and len(data.specialists):  # names of staff and counts only, no patient data
        note += " Per specialist (whole worklist): " + "; ".join(
            f"{r.assigned_to} {r.rows:,} rows, {money.dollars(int(r.dollars))}"
            for r in data.specialists.itertuples()) + "."
    ws.write_string(3, 0, note, w.fmt["subtitle"])
    guide_rows = guide.positions(GUIDE_HEADER_ROW + 2)
    w.header(ws, top, [c[1] for c in columns])
    lines = np.ones(len(work), dtype=np.int64)
    for j in wrapped:
        lines = np.maximum(lines, printing.wrapped_lines(texts[j], widths[j], SIZE))
    for i, row in enumerate(work.to_dict("records")):
        r = top + 1 + i
        for j, (key, _, _, _, fmt) in enumerate(columns):
            v = texts[j][i] if j in texts else row.get(key) if fmt != "link" else guide.KEY
            top_fmt = "wrap" if fmt == "wrap" else "top_" + fmt
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                ws.write_blank(r, j, None, w.fmt[top_fmt])
            elif fmt == "money":
                w.value(ws, r, j, _dollars(v) if key != "priority" else float(v), top_fmt)
            elif fmt == "date":
                ws.write_datetime(r, j, dt.datetime.combine(pd.Timestamp(v).date(), dt.time()), w.fmt[top_fmt])
            elif fmt == "int":
                w.value(ws, r, j, int(v), top_fmt)
            elif fmt == "link":  # to the kind's row of the Guide sheet: built from the validated kind code
                where = guide.location(row.get("kind"), "Guide", guide_rows)
                if where is None:
                    ws.write_blank(r, j, None, w.fmt["top_text"])
                else:
                    ws.write_url(r, j, "internal:" + where, w.fmt["link"], guide.HEADER)
            else:
                ws.write_string(r, j, str(v), w.fmt[top_fmt])
        if lines[i] > 1:
            w.row_height(ws, r, float(printing.rows_height(int(lines[i]), SIZE)))
    last = top + max(len(work), 1)
    ws.autofilter(top, 0, last, len(columns) - 1)
    w.finish(ws, top, last, len(columns) - 1)


FOLLOWUP_GROUPS = {"payer": "By payer", "kind": "By worklist kind", "total": "All open claims"}
"""The blocks of the Follow-up sheet, in order (`xl_ar.notes.touch_summary` groups)."""


def _followup(w: _Writer, data: ReportData) -> None:
    """Touches per claim and days since the last touch of the open claims, by payer and by worklist kind: counts
    and medians only (the notes' text and the claims never appear)."""
    from xl_ar.notes import STALE_DAYS

    t = data.touches
    ws = w.sheet("Follow-up", "Follow-up: touches of the open claims", [26, 10, 10, 12, 14, 10, 14])
    top = 4
    w.header(ws, top, ["Payer / worklist kind", "Open claims", "Touched", "Median touches",
                       "Median days since last touch", "Never touched", f"Not touched in {STALE_DAYS}+ days"])
    r = top + 1
    for group, title in FOLLOWUP_GROUPS.items():
        rows = t[t["group"] == group] if len(t) else t
        if not len(rows):
            continue
        if group != "total":
            ws.write_string(r, 0, title, w.fmt["section"])
            r += 1
        for row in rows.to_dict("records"):
            label = "Total" if group == "total" else str(row["value"])
            if group == "kind":
                label = BY_CODE[label].label if label in BY_CODE else label
            elif group == "payer":
                label = data.payer_names.get(label, label)
            total = group == "total"
            ws.write_string(r, 0, label, w.fmt["total_label" if total else "cell"])
            w.fit_row(ws, r, {0: label})  # a long payer name wraps: the row is as tall as its lines
            for j, key in enumerate(("claims", "touched"), start=1):
                w.value(ws, r, j, int(row[key]), "int_total" if total else "int")
            w.value(ws, r, 3, _num(row["median_touches"]), "days")
            w.value(ws, r, 4, _num(row["median_days_since_touch"]), "days")
            for j, key in ((5, "never_touched"), (6, "stale")):
                w.value(ws, r, j, int(row[key]), "int_total" if total else "int")
            r += 1
    last = max(r - 1, top + 1)
    w.note(ws, last + 2, "A touch is a follow-up note (call, portal, letter, email, fax) on a claim with a balance. "
                         "Median touches: of all open claims of the row; median days since the last touch: of those "
                         "touched. Counts only: the notes themselves stay with the specialists.", 6)
    w.finish(ws, top, last + 2, 6)


GUIDE_WIDTHS = [20, 11, 24, 28, 60]
"""Widths of the Guide sheet's columns: kind, group, next action, deadline rule, how to work it."""


def _guide(w: _Writer) -> None:
    """Sheet `Guide`: how to work each kind of the worklist (`xl_ar.guide.rows`), one row per kind in
    `kinds.KINDS` order; the Worklist's "How to" links land on a kind's label in column A."""
    ws = w.sheet("Guide", guide.HEADING, GUIDE_WIDTHS)
    for j, name in enumerate(guide.COLUMNS):  # a text page, not a table of figures: a bold header, no band
        ws.write_string(GUIDE_HEADER_ROW, j, name, w.fmt["guide_header"])
    for i, cells in enumerate(guide.rows(), start=GUIDE_HEADER_ROW + 1):
        for j, text in enumerate(cells):
            ws.write_string(i, j, text, w.fmt["wrap"])
        w.fit_row(ws, i, dict(enumerate(cells)))
    last = GUIDE_HEADER_ROW + len(guide.rows())
    w.finish(ws, GUIDE_HEADER_ROW, last, len(GUIDE_WIDTHS) - 1)
