"""XLSX workbooks with the same figures as the PDFs (openpyxl).

Every string cell passes through ``neutralise`` (formula injection: a value starting with
= + - @ tab or CR is prefixed with a quote), header rows are styled and frozen, numbers carry
number formats (percentages are stored as fractions with format 0.00%).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from complaints.safe_cells import neutralise

PCT = "0.00%"
INT = "#,##0"
DEC2 = "0.00"
DEC1 = "0.0"
DATE = "dd/mm/yyyy"
TEXT = "@"

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
TITLE_FONT = Font(bold=True, size=13, color="1F4E79")
LABEL_FONT = Font(bold=True)


@dataclass(frozen=True)
class Col:
    header: str
    key: str
    fmt: str | None = None
    width: int = 14
    scale: float | None = None  # e.g. 0.01 to store a 0-100 percentage as a fraction


def cell_value(value, scale: float | None = None):
    """A value as openpyxl should store it: NaN/None -> empty, strings neutralised."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime().date()
    if isinstance(value, str):
        return neutralise(value)
    if scale is not None and isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * scale, 6)
    return value


def _header(ws, row: int, headers: Sequence[str]) -> None:
    for i, text in enumerate(headers, start=1):
        c = ws.cell(row=row, column=i, value=neutralise(text))
        c.font = HEADER_FONT
        c.fill = HEADER_FILL
        c.alignment = Alignment(vertical="center", wrap_text=True)


def add_title(ws, title: str, subtitle: str) -> int:
    """Two title lines; returns the next free row."""
    ws.cell(row=1, column=1, value=neutralise(title)).font = TITLE_FONT
    ws.cell(row=2, column=1, value=neutralise(subtitle))
    return 4


def add_table(ws, cols: Sequence[Col], rows: Iterable[dict], start: int = 1) -> int:
    """A header row at ``start``, then the rows; freezes panes below the header."""
    _header(ws, start, [c.header for c in cols])
    r = start
    for r, row in enumerate(rows, start=start + 1):
        for i, col in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=i, value=cell_value(row.get(col.key), col.scale))
            if col.fmt:
                cell.number_format = col.fmt
    for i, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    ws.auto_filter.ref = f"A{start}:{get_column_letter(len(cols))}{max(r, start)}"
    return r + 1


def add_pairs(ws, pairs: Sequence[tuple[str, object, str | None]], start: int) -> int:
    """Label / value rows (the summary sheet)."""
    _header(ws, start, ["Ukuran", "Nilai"])
    r = start
    for r, (label, value, fmt) in enumerate(pairs, start=start + 1):
        ws.cell(row=r, column=1, value=neutralise(label)).font = LABEL_FONT
        cell = ws.cell(row=r, column=2, value=cell_value(value))
        if fmt:
            cell.number_format = fmt
    ws.column_dimensions["A"].width = 46
    ws.column_dimensions["B"].width = 60
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    return r + 1


def new_workbook(first_sheet: str) -> Workbook:
    wb = Workbook()
    wb.active.title = first_sheet
    return wb


def save(wb: Workbook, path: Path, title: str) -> Path:
    wb.properties.title = title
    wb.properties.creator = "SP4N-LAPOR!"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xlsx.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path


def pct_fraction(value):
    """95.07 -> 0.9507 (None stays None)."""
    v = cell_value(value)
    return None if v is None else round(float(v) / 100, 6)


def as_date(value) -> date | None:
    return cell_value(value)


def share_rows(m: dict) -> list[tuple]:
    """The seed's headline figures as summary-sheet rows: the three shares and the rating."""
    return [
        ("Ditindaklanjuti", pct_fraction(m.get("followed_up_pct")), PCT),
        ("Belum ditindaklanjuti", pct_fraction(m.get("not_followed_up_pct")), PCT),
        ("Dalam proses", pct_fraction(m.get("in_process_pct")), PCT),
        ("Rating rata-rata (1-5)", m.get("rating_avg"), DEC2),
        ("Jumlah penilaian", m.get("rating_count"), INT),
    ]
