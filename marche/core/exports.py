"""The one tabular export helper: CSV (UTF-8 with BOM, « ; » separator, as French spreadsheets expect)
and XLSX (openpyxl), from a header row and rows of plain values.

User text never becomes a formula: in CSV a value starting with =, +, -, @, TAB or CR gets a leading
apostrophe (the OWASP advice; spreadsheets then read text); in XLSX such a value is written as an
explicit string cell with the "quote prefix" style, so it shows as typed, without a stray apostrophe.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: first characters that make a spreadsheet evaluate a cell (formula, DDE, or hidden by TAB/CR)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text that came from users (CSV/formula injection)."""
    return "'" + value if is_formula_like(value) else value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_safe_text(_cell(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Export") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        values = [_cell(v) for v in row]
        sheet.append(values)
        for cell, value in zip(sheet[sheet.max_row], values):
            if is_formula_like(value):
                # openpyxl stores a text starting with "=" as a formula: force a string cell instead
                cell.value = value
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in list(column)[:200])
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def tabular_response(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """`fmt` is "csv" or "xlsx"; `filename` without extension."""
    if fmt == "xlsx":
        body, mime = xlsx_bytes(headers, rows), XLSX_MIME
    else:
        body, mime, fmt = csv_bytes(headers, rows), CSV_MIME, "csv"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
