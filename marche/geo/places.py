"""Places named inside a text: communes by folded name, postcode or INSEE code, departments by name or
number, looked up in bulk through the commune table's indexes; and the centre a territory is ranked around.

`named(names, numbers)` answers, for every folded name and every number asked, the territories it can
name (several for "saint martin"). One statement for the communes whatever the number of names (equality
on `search_name` uses its btree index, postcodes their GIN index): ~1 ms, never a scan of the 35 000
communes in Python. Departments (101 rows) are held in memory once per process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import or_, select, type_coerce

from ..extensions import db
from .models import Commune, Department
from .services import Territory, _commune_territory, _department_territory

#: a department number as people write it: 01-95, 2A/2B, 971-976
DEPARTMENT_NUMBER = re.compile(r"(0[1-9]|[1-8][0-9]|9[0-5]|2[ab]|97[1-6])")
POSTCODE = re.compile(r"[0-9]{5}")


@dataclass(frozen=True)
class Found:
    """What each name or number may name, most populous commune first."""

    by_name: dict[str, list[Territory]] = field(default_factory=dict)
    by_number: dict[str, list[Territory]] = field(default_factory=dict)
    #: the department of every commune found (to tell "Saint-Martin 67" apart)
    department_of: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)  # 101 departments, reference data fixed while a process runs
def _departments() -> dict[str, tuple[Territory, ...]]:
    """Folded name and lower-case code → the department."""
    table: dict[str, tuple[Territory, ...]] = {}
    for code, name, search_name in db.session.execute(select(Department.code, Department.name,
                                                             Department.search_name)):
        territory = _department_territory(code, name)
        table[search_name] = table.get(search_name, ()) + (territory,)
        table[code.lower()] = (territory,)
    return table


def named(names: set[str], numbers: set[str]) -> Found:
    """Territories named by these folded names ("villeneuve d ascq", "nord") and numbers ("59", "2a",
    "59650": a postcode, or an INSEE code when no commune has that postcode)."""
    found = Found()
    departments = _departments()
    for name in names:
        if name in departments:
            found.by_name[name] = list(departments[name])
    for number in numbers:
        if DEPARTMENT_NUMBER.fullmatch(number) and number in departments:
            found.by_number[number] = list(departments[number])
    postcodes = sorted(n for n in numbers if POSTCODE.fullmatch(n))
    conditions = []
    if names:
        conditions.append(Commune.search_name.in_(sorted(names)))
    if postcodes:
        conditions += [Commune.postcodes.op("&&")(type_coerce(postcodes, Commune.postcodes.type)),
                       Commune.code.in_(postcodes)]
    if not conditions:
        return found
    rows = db.session.execute(
        select(Commune.code, Commune.name, Commune.search_name, Commune.department_code, Commune.postcodes)
        .where(Commune.kind == "commune-actuelle", or_(*conditions))
        .order_by(Commune.population.desc().nulls_last(), Commune.code)).all()
    by_code: dict[str, list[Territory]] = {}
    for row in rows:
        territory = _commune_territory(row.code, row.name, row.department_code)
        found.department_of[row.code] = row.department_code
        if row.search_name in names:
            found.by_name.setdefault(row.search_name, []).append(territory)
        for postcode in set(row.postcodes or []) & set(postcodes):
            found.by_number.setdefault(postcode, []).append(territory)
        if row.code in postcodes:
            by_code.setdefault(row.code, []).append(territory)
    for code, territories in by_code.items():
        found.by_number.setdefault(code, territories)  # an INSEE code only when no commune has that postcode
    return found


@lru_cache(maxsize=512)  # reference data, fixed while a process runs
def centre(ref: str) -> tuple[float, float] | None:
    """(latitude, longitude) a territory is ranked around: a commune's centre, the centroid of a department
    or region outline (the centre of its most populous commune when it has no outline); None for France."""
    from .coverage import place
    from .services import parse_ref, shape_of

    kind, code = parse_ref(ref)
    if kind == "commune":
        return place(code).point
    if kind not in {"dep", "reg"}:
        return None
    outline = shape_of(ref)
    if outline is not None:
        point = outline.centroid
        return (point.y, point.x)
    column = Commune.department_code if kind == "dep" else Commune.region_code
    row = db.session.execute(select(Commune.latitude, Commune.longitude)
                             .where(column == code, Commune.latitude.is_not(None))
                             .order_by(Commune.population.desc().nulls_last()).limit(1)).first()
    return (row.latitude, row.longitude) if row else None
