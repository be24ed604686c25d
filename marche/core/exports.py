"""The one tabular export helper: CSV (UTF-8 with BOM, « ; » separator, as French spreadsheets expect)
and XLSX (openpyxl), from a header row and rows of plain values."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def _safe_text(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text that came from users (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


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
        sheet.append([_safe_text(_cell(v)) for v in row])
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
