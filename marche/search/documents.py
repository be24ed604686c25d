"""The one serializer: a structure as the document both backends answer with (and Meilisearch indexes)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from ..suppliers.models import SizeBand, Structure, StructureKind


def structure_document(structure: Structure, today: date, in_zrr: bool = False) -> dict[str, Any]:
    """Only commitments still valid `today` count; an expired one no longer appears anywhere."""
    size = SizeBand.of(structure.employees_count)
    has_point = structure.latitude is not None and structure.longitude is not None
    document: dict[str, Any] = {
        "id": structure.id,
        "siret": structure.siret,
        "siren": structure.siren,
        "siret_status": structure.siret_status,
        "finess": list(structure.finess_numbers or []),
        "name": structure.name,
        "brand": structure.brand,
        "display_name": structure.display_name,
        "kinds": list(structure.kinds),
        "kind_labels": [StructureKind(k).label for k in structure.kinds],
        "sectors": [s.id for s in structure.sectors],
        "sector_names": [s.name for s in structure.sectors],
        "sector_groups": sorted({s.group_id for s in structure.sectors}),
        #: the sectors the structure declared; the others in `sectors` were deduced by the import
        "declared_sectors": [s.id for s in structure.declared_sectors],
        #: 1 when the sectors are declared: a search by sector ranks these first (0: deduced or none)
        "sector_rank": 1 if structure.declared_sectors else 0,
        "services": list(structure.service_kinds or []),
        "env": sorted({c.label for c in structure.env_commitments if c.is_current(today)}),
        "address": structure.address,
        "city": structure.city,
        "postcode": structure.postcode,
        "commune": structure.commune_code,
        "department": structure.department_code,
        "region": structure.region_code,
        "latitude": structure.latitude,
        "longitude": structure.longitude,
        "area_kind": structure.area_kind,
        "area_radius_km": structure.area_radius_km,
        "area_refs": list(structure.area_refs or []),
        "area_departments": list(structure.area_departments or []),
        "area_regions": list(structure.area_regions or []),
        "size_band": size.value if size else None,
        "employees": structure.employees_count,
        "in_zrr": in_zrr,
        "has_references": bool(structure.references),
        "claimed": structure.claimed,
        "naf": structure.naf_code,
        "website": structure.website,
        #: the same first 500 characters as `structure.search_text`, so both backends search the same words
        "description": (structure.description or "")[:500],
        #: the row's version: reconciliation compares it with the database (indexer.stale_structures)
        "updated_at": version_of(structure.updated_at),
    }
    if has_point:
        document["_geo"] = {"lat": structure.latitude, "lng": structure.longitude}
    return document


def version_of(updated_at: datetime | None) -> str | None:
    """`updated_at` as one canonical string (UTC, microseconds), whatever the session's time zone."""
    if updated_at is None:
        return None
    return updated_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
