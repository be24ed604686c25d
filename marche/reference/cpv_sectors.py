"""CPV → sectors: our own table `data/cpv_secteurs.csv`, read once per process (data/README.md says how it
was written). A rule names a CPV division, group, class or finer code and the sectors it belongs to; a code
takes the sectors of its most precise rule (a class rule replaces its division's), so a precise rule never
has to repeat the broad one's exceptions.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from ..extensions import db
from .models import Sector

TABLE = Path(__file__).resolve().parents[2] / "data" / "cpv_secteurs.csv"


def rule_prefix(code: str) -> str:
    """The digits a rule's code covers: "90910000-9" → "9091" (a division keeps its two digits)."""
    digits = code.split("-")[0]
    return digits.rstrip("0").ljust(2, "0")


@lru_cache(maxsize=1)  # reference data, fixed while a process runs
def rules() -> dict[str, tuple[int, ...]]:
    """Prefix of the code's digits → sector ids, in the table's order."""
    table: dict[str, tuple[int, ...]] = {}
    with TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            prefix = rule_prefix(row["cpv_code"])
            table[prefix] = table.get(prefix, ()) + (int(row["secteur_id"]),)
    return table


def sector_ids(code: str) -> tuple[int, ...]:
    """The sectors of one CPV code ("90911200-8" or "90911200"): those of its most precise rule."""
    digits = "".join(char for char in (code or "").split("-")[0] if char.isdigit())[:8]
    table = rules()
    for length in range(len(digits), 1, -1):
        found = table.get(digits[:length])
        if found:
            return found
    return ()


def suggest_sectors(cpv_codes: list[str]) -> list[Sector]:
    """The sectors suggested for these CPV codes, the first code's first, without repeats."""
    ordered: list[int] = []
    for code in cpv_codes:
        ordered += [sector_id for sector_id in sector_ids(code) if sector_id not in ordered]
    if not ordered:
        return []
    found = {sector.id: sector for sector in db.session.scalars(select(Sector).where(Sector.id.in_(ordered)))}
    return [found[sector_id] for sector_id in ordered if sector_id in found]
