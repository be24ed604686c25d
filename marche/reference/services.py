"""Questions on the catalogues: CPV check digit, validity, ancestors and search; sectors by group."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ..core.identifiers import is_digits
from ..core.text import normalize_search
from ..extensions import db
from .models import CpvCode, NafCode, Sector, SectorGroup

#: ASCII digits ([0-9], not \d, which also takes « ４ »); fullmatch, so no trailing newline slips through
CPV_RE = re.compile(r"([0-9]{8})-([0-9])")
#: weights 3-7-1 repeated from the first digit; the check digit is the weighted sum modulo 10
CPV_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7)
MAX_QUERY_LENGTH = 100


def cpv_check_digit(code8: str) -> str:
    """The 7-3-1 check digit of an eight-digit CPV code.

    532 of the 9 454 official CPV 2008 codes print another digit: the 2008 revision renumbered them
    without recomputing it (acknowledged by the Commission, OP-TED/ePO discussion #589), so the
    catalogue, not this function, says whether a code exists (see `is_valid_cpv`).
    """
    if len(code8) != 8 or not code8.isascii() or not code8.isdigit():
        raise ValueError(f"Code CPV invalide : {code8!r} (huit chiffres attendus)")
    return str(sum(weight * int(digit) for weight, digit in zip(CPV_WEIGHTS, code8)) % 10)


def is_valid_cpv(code: str) -> bool:
    """True for an official CPV 2008 code written `########-#` with its published check digit."""
    code = (code or "").strip()
    if not CPV_RE.fullmatch(code):
        return False
    return db.session.get(CpvCode, code) is not None


def cpv_ancestors(code: str) -> list[CpvCode]:
    """The ancestors of `code`, from its division down to its direct parent ([] for a division)."""
    ancestors: list[CpvCode] = []
    current = db.session.get(CpvCode, code)
    while current is not None and current.parent_code:
        current = db.session.get(CpvCode, current.parent_code)
        if current is not None:
            ancestors.append(current)
    return list(reversed(ancestors))


@dataclass(frozen=True)
class SectorGroupEntry:
    """A sector group as the lists read it (a snapshot, not a row: kept for the life of the process)."""

    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class SectorEntry:
    id: int
    name: str
    slug: str
    group_id: int


_SectorTree = tuple[tuple[SectorGroupEntry, tuple[SectorEntry, ...]], ...]
#: the sector taxonomy is reference data, fixed while a process runs (once loaded: an empty one is read again)
_sector_tree_cache: list[_SectorTree] = []


def _sector_tree() -> _SectorTree:
    if _sector_tree_cache:
        return _sector_tree_cache[0]
    groups = sorted(db.session.scalars(select(SectorGroup)), key=lambda group: normalize_search(group.name))
    by_group: dict[int, list[SectorEntry]] = {group.id: [] for group in groups}
    for sector in db.session.scalars(select(Sector)):
        by_group[sector.group_id].append(SectorEntry(sector.id, sector.name, sector.slug, sector.group_id))

    def order(sector: SectorEntry) -> tuple[bool, str]:
        return sector.name.startswith("Autre"), normalize_search(sector.name)

    tree = tuple((SectorGroupEntry(group.id, group.name, group.slug), tuple(sorted(by_group[group.id], key=order)))
                 for group in groups)
    if tree:
        _sector_tree_cache.append(tree)
    return tree


def sectors_by_group() -> list[tuple[SectorGroupEntry, list[SectorEntry]]]:
    """Groups by name, each with its sectors by name and its "Autre (…)" sector last. Read once per
    process: the search page lists all 154 on every load."""
    return [(group, list(sectors)) for group, sectors in _sector_tree()]


def _cpv_by_code(digits: str, limit: int) -> list[CpvCode]:
    query = select(CpvCode).where(CpvCode.code8.startswith(digits[:8])).order_by(CpvCode.code8).limit(limit)
    return list(db.session.scalars(query))


def _cpv_by_words(folded: str, limit: int) -> list[CpvCode]:
    """Every word of the query in the label (trigram index), labels that start with it first."""
    words = folded.split()
    label = func.substr(CpvCode.search_label, 10)  # after "code8 "
    starts = case((label.startswith(folded), 0), else_=1)
    query = (select(CpvCode)
             .where(*[CpvCode.search_label.contains(word, autoescape=True) for word in words])
             .order_by(starts, func.length(CpvCode.label_fr), CpvCode.code8).limit(limit))
    return list(db.session.scalars(query))


def _cpv_fuzzy(folded: str, limit: int) -> list[CpvCode]:
    """Typo tolerance: trigram word similarity when no label contains every word."""
    score = func.word_similarity(folded, CpvCode.search_label)
    query = (select(CpvCode).where(CpvCode.search_label.op("%>")(folded))
             .order_by(score.desc(), CpvCode.code8).limit(limit))
    return list(db.session.scalars(query))


def search_cpv(q: str, limit: int = 10) -> list[CpvCode]:
    """CPV codes for an autocomplete: by code prefix ("4521", "45210000-2") or by words of the label."""
    folded = normalize_search((q or "")[:MAX_QUERY_LENGTH])
    if not folded:
        return []
    digits = folded.replace(" ", "")  # "45210000-2" was folded to "45210000 2"
    if is_digits(digits) and len(digits) >= 2:
        return _cpv_by_code(digits[:8], limit)
    return _cpv_by_words(folded, limit) or _cpv_fuzzy(folded, limit)


def naf_label(code: str | None) -> str | None:
    """The NAF rev. 2 label of an APE code (« 8899B » → « Action sociale sans hébergement n.c.a. »)."""
    if not code:
        return None
    return db.session.execute(select(NafCode.label).where(NafCode.code_ape == code)).scalar()
