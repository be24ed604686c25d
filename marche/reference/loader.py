"""Load the sector taxonomy, CPV 2008 and NAF rév. 2 from `data/` (idempotent upserts, no commit)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.reference_data import load_if_changed, read_csv, upsert
from ..core.text import normalize_search
from ..core.models import ReferenceDataset
from .models import CpvCode, NafCode, Sector, SectorGroup

SECTOR_GROUPS = "groupes de secteurs"
SECTORS = "secteurs"
CPV = "cpv"
NAF = "naf"


def sector_rows(data_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(groups, sectors) from the flat file, where each line repeats its group."""
    groups: dict[int, dict[str, Any]] = {}
    sectors = []
    for row in read_csv(data_dir / "secteurs_lemarche.csv"):
        group_id = int(row["groupe_id"])
        groups[group_id] = {"id": group_id, "name": row["groupe_nom"], "slug": row["groupe_slug"]}
        sectors.append({"id": int(row["secteur_id"]), "name": row["secteur_nom"], "slug": row["secteur_slug"],
                        "group_id": group_id})
    return list(groups.values()), sectors


def cpv_rows(data_dir: Path) -> list[dict[str, Any]]:
    return [{
        "code": row["code"], "code8": row["code8"], "label_fr": row["libelle_fr"], "label_en": row["libelle_en"],
        "parent_code": row["code_parent"] or None, "level": row["niveau"], "division": row["division"],
        "nature": row["nature"], "search_label": normalize_search(f"{row['code8']} {row['libelle_fr']}"),
    } for row in read_csv(data_dir / "cpv_2008.csv")]


def naf_rows(data_dir: Path) -> list[dict[str, Any]]:
    return [{
        "code": row["code"], "code_ape": row["code_ape"], "label": row["libelle"],
        "class_code": row["classe"], "class_label": row["classe_libelle"],
        "group_code": row["groupe"], "group_label": row["groupe_libelle"],
        "division_code": row["division"], "division_label": row["division_libelle"],
        "section_code": row["section"], "section_label": row["section_libelle"],
    } for row in read_csv(data_dir / "naf_rev2.csv")]


def _load_sectors(data_dir: Path) -> tuple[int, int]:
    groups, sectors = sector_rows(data_dir)
    upsert(SectorGroup, groups, key=("id",))  # groups first: sector.group_id is a foreign key
    upsert(Sector, sectors, key=("id",))
    return len(groups), len(sectors)


def load_catalogues(data_dir: Path, force: bool = False) -> dict[str, int]:
    """Load sectors, CPV and NAF; returns the rows loaded per dataset (0 when skipped as unchanged)."""
    counts = {SECTOR_GROUPS: 0}

    def load_sectors() -> int:
        counts[SECTOR_GROUPS], sectors = _load_sectors(data_dir)
        return sectors

    counts[SECTORS] = load_if_changed(ReferenceDataset, SECTORS, [data_dir / "secteurs_lemarche.csv"], force,
                                      load_sectors)
    counts[CPV] = load_if_changed(ReferenceDataset, CPV, [data_dir / "cpv_2008.csv"], force,
                                  lambda: upsert(CpvCode, cpv_rows(data_dir)))
    counts[NAF] = load_if_changed(ReferenceDataset, NAF, [data_dir / "naf_rev2.csv"], force,
                                  lambda: upsert(NafCode, naf_rows(data_dir)))
    return counts
