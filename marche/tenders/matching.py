"""Who can answer a lot: the directory query a lot stands for, and the structures it finds.

A lot is answered by the structures the directory finds with its filters in « peut intervenir à » mode: the
kinds its reservation allows (L2113-12, L2113-13, L2113-14), the tender's sectors (or those its CPV codes
suggest), an intervention area that covers the place of execution, and the environmental commitments the lot
requires, still valid. Asking the directory itself (`search.service`, Meilisearch with its SQL fallback) keeps
the market depth, the relay and the directory's count one and the same figure.
"""
from __future__ import annotations

from dataclasses import replace

from ..reference.cpv_sectors import suggest_sectors
from ..search import service as search_service
from ..search.query import StructureQuery
from ..suppliers.models import SIAE_KINDS, StructureKind
from .models import TenderLot

DISABILITY_KINDS = {StructureKind.EA, StructureKind.EATT, StructureKind.ESAT}
#: reservation → the kinds that may answer (None: every kind)
RESERVED_KINDS: dict[str | None, frozenset[str] | None] = {
    None: None,
    "siae": frozenset(SIAE_KINDS),
    "disability": frozenset(DISABILITY_KINDS),
    "both": frozenset(SIAE_KINDS | DISABILITY_KINDS),
}
#: the most structures a lot's matching reads (a national lot of a common sector may match thousands)
MAX_MATCHES = 20_000


def lot_place(lot: TenderLot) -> str | None:
    """The lot's place of execution as a directory territory; None for the whole country or no place."""
    place = lot.place_ref or lot.tender.place_ref
    if not place or place.startswith("country:"):
        return None
    return place


def lot_sector_ids(lot: TenderLot) -> tuple[int, ...]:
    """The tender's sectors; when it has none, those its lot's (or else its own) CPV codes suggest."""
    if lot.tender.sectors:
        return tuple(sector.id for sector in lot.tender.sectors)
    codes = lot.cpv_codes or lot.tender.cpv_codes or []
    return tuple(sector.id for sector in suggest_sectors(list(codes)))


def lot_kinds(lot: TenderLot) -> tuple[str, ...]:
    allowed = RESERVED_KINDS.get((lot.clauses or {}).get("reservation"))
    return tuple(sorted(str(kind) for kind in allowed)) if allowed else ()


def lot_query(lot: TenderLot, **overrides) -> StructureQuery:
    """The directory query of the structures that can answer this lot (`overrides` replace its fields: the
    levers of the market depth are such replacements)."""
    query = StructureQuery(kinds=lot_kinds(lot), sectors=lot_sector_ids(lot), territory=lot_place(lot),
                           territory_mode="covers", env=tuple(lot.required_env or ()), facets=False, literal=True)
    return replace(query, **overrides) if overrides else query


def matching_ids(lot: TenderLot, claimed_only: bool = False, limit: int = MAX_MATCHES) -> list[int]:
    """Ids of the structures that can answer the lot, in the directory's order (claimed ones only: those the
    relay may mail)."""
    query = lot_query(lot, claimed=True) if claimed_only else lot_query(lot)
    return search_service.search_all_ids(query, limit)
