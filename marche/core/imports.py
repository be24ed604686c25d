"""The one CSV import helper: parse → validate every line → all-or-nothing → per-line French report."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import DomainError


@dataclass
class LineError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line}, {self.field} : {self.message}"


class ImportRejected(DomainError):
    """At least one line is invalid: nothing was written."""

    def __init__(self, errors: list[LineError]):
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (et {len(errors) - 20} autres)" if len(errors) > 20 else ""
        super().__init__(f"Import refusé, aucune ligne enregistrée : {shown}{more}.")
        self.errors = errors


class RowError(ValueError):
    """Raised by a row parser: the field and a French message."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"créées : {self.created}", f"mises à jour : {self.updated}", f"inchangées : {self.unchanged}",
               f"signalées : {len(self.flagged)}"]
        out += [f"  - {flag}" for flag in self.flagged[:50]]
        return out


def read_csv(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    """Rows with their line number in the file (the header is line 1)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for index, row in enumerate(csv.DictReader(handle), start=2):
            yield index, {k: (v or "").strip() for k, v in row.items() if k is not None}


def parse_all(rows: Iterable[tuple[int, dict[str, str]]], parse: Callable[[int, dict[str, str]], Any]) -> list[Any]:
    """Parse every row; raise ImportRejected listing every bad line, so nothing is half-imported."""
    parsed, errors = [], []
    for line, row in rows:
        try:
            parsed.append(parse(line, row))
        except RowError as error:
            errors.append(LineError(line, error.field, error.message))
    if errors:
        raise ImportRejected(errors)
    return parsed
