"""Load regions, departments, communes and the last ZRR list from `data/` (idempotent upserts, no commit)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import null

from ..core.reference_data import load_if_changed, read_csv, upsert
from ..core.text import normalize_search
from ..core.models import ReferenceDataset
from .models import Commune, Department, Region

REGIONS = "régions"
DEPARTMENTS = "départements"
COMMUNES = "communes"
ZRR = "zrr"


def _geometries(path: Path) -> dict[str, dict[str, Any]]:
    """GeoJSON geometry by feature `code` property."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {feature["properties"]["code"]: feature["geometry"] for feature in features}


def _float(value: str) -> float | None:
    return float(value) if value else None


def _int(value: str) -> int | None:
    return int(value) if value else None


def region_rows(data_dir: Path) -> list[dict[str, Any]]:
    shapes = _geometries(data_dir / "regions.geojson")
    return [{"code": row["code"], "name": row["nom"], "search_name": normalize_search(row["nom"]),
             "zone": row["zone"], "geometry": shapes.get(row["code"], null())}
            for row in read_csv(data_dir / "regions.csv")]


def department_rows(data_dir: Path) -> list[dict[str, Any]]:
    # the 8 COM have no polygon: their geometry stays null
    shapes = _geometries(data_dir / "departements.geojson")
    return [{"code": row["code"], "name": row["nom"], "search_name": normalize_search(row["nom"]),
             "region_code": row["code_region"], "zone": row["zone"], "geometry": shapes.get(row["code"], null())}
            for row in read_csv(data_dir / "departements.csv")]


def zrr_statuses(data_dir: Path) -> dict[str, str]:
    return {row["code_insee"]: row["statut_zrr"] for row in read_csv(data_dir / "zrr_communes_2022.csv")}


def commune_rows(data_dir: Path, zrr: dict[str, str]) -> list[dict[str, Any]]:
    return [{
        "code": row["code_insee"], "name": row["nom"], "search_name": normalize_search(row["nom"]),
        "kind": row["type"], "postcodes": [code for code in row["codes_postaux"].split("|") if code],
        "department_code": row["code_departement"], "region_code": row["code_region"],
        "latitude": _float(row["latitude"]), "longitude": _float(row["longitude"]),
        "population": _int(row["population"]),
        # arrondissements municipaux have no ZRR line of their own: their commune's status applies
        "zrr_status": zrr.get(row["code_insee"]) or zrr.get(row["commune_parente"]),
        "parent_code": row["commune_parente"] or None,
    } for row in read_csv(data_dir / "communes.csv")]


def load_geography(data_dir: Path, force: bool = False) -> dict[str, int]:
    """Load every territory file; returns the rows loaded per dataset (0 when skipped as unchanged)."""
    counts = {
        REGIONS: load_if_changed(ReferenceDataset, REGIONS, [data_dir / "regions.csv", data_dir / "regions.geojson"],
                                 force, lambda: upsert(Region, region_rows(data_dir))),
        # departments before communes: commune.department_code is a foreign key
        DEPARTMENTS: load_if_changed(ReferenceDataset, DEPARTMENTS,
                                     [data_dir / "departements.csv", data_dir / "departements.geojson"],
                                     force, lambda: upsert(Department, department_rows(data_dir))),
    }
    # the ZRR status is a commune column: both files form one dataset and are reloaded together
    zrr: dict[str, str] = {}

    def load_communes() -> int:
        zrr.update(zrr_statuses(data_dir))
        return upsert(Commune, commune_rows(data_dir, zrr))

    counts[COMMUNES] = load_if_changed(ReferenceDataset, COMMUNES,
                                       [data_dir / "communes.csv", data_dir / "zrr_communes_2022.csv"],
                                       force, load_communes)
    counts[ZRR] = len(zrr)
    return counts
