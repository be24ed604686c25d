"""Import of the real structure lists: idempotent upserts, flagged SIRETs, commune centres, all-or-nothing."""
import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marche.cli import DATA_DIR
from marche.core.identifiers import is_valid_siret
from marche.core.imports import ImportRejected
from marche.extensions import db
from marche.suppliers.importer import import_esat, import_structures
from marche.suppliers.models import Structure

SIAE = DATA_DIR / "structures_siae_geiq_ea.csv"
ESAT = DATA_DIR / "esat_finess.csv"


def source_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def count(model=Structure, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_import_real_structures_is_idempotent(app_ctx):
    rows = source_rows(SIAE)
    distinct_sirets = {r["siret"] for r in rows}
    report = import_structures(SIAE)
    db.session.commit()
    assert report.created == len(distinct_sirets) == count()
    bad = {r["siret"] for r in rows if not is_valid_siret(r["siret"])}
    assert len(bad) > 0
    assert count(Structure, Structure.siret_status == "to_check") == len(bad)
    outside = [r for r in rows if r["coord_dans_departement"] == "0"]
    assert len(report.flagged) == sum(1 for r in rows if r["siret"] in bad) + len(outside)

    # One SIRET with two kinds in the file becomes one structure with both kinds.
    kinds_by_siret: dict[str, set] = {}
    for r in rows:
        kinds_by_siret.setdefault(r["siret"], set()).add(r["type"])
    multi = next(s for s, k in kinds_by_siret.items() if len(k) > 1)
    structure = db.session.execute(select(Structure).where(Structure.siret == multi)).scalar_one()
    assert set(structure.kinds) == kinds_by_siret[multi]

    # Rows without a point get their commune's centre.
    no_point = next(r for r in rows if not r["latitude"])
    structure = db.session.execute(select(Structure).where(Structure.siret == no_point["siret"])).scalar_one()
    assert structure.commune_code is not None, no_point["siret"]
    assert structure.point_source == "commune" and structure.latitude is not None

    again = import_structures(SIAE)
    db.session.commit()
    assert again.created == 0 and again.updated == 0
    assert again.unchanged == len(distinct_sirets)
    assert count() == len(distinct_sirets)


def test_points_the_source_places_outside_their_department_fall_back_to_the_commune_centre(app_ctx):
    """`coord_dans_departement = 0` (23 rows, « GEIQ BTP 13 » placed at Nantes…): the point is not used,
    the commune's centre (communes.csv) is; a row whose point is trusted keeps it."""
    rows = source_rows(SIAE)
    centres = {r["code_insee"]: (float(r["latitude"]), float(r["longitude"]))
               for r in source_rows(DATA_DIR / "communes.csv") if r["latitude"]}
    import_structures(SIAE)
    db.session.commit()
    outside = [r for r in rows if r["coord_dans_departement"] == "0" and r["latitude"]]
    assert len(outside) >= 20
    checked = 0
    for r in outside:
        structure = db.session.execute(select(Structure).where(Structure.siret == r["siret"])).scalar_one()
        if structure.commune_code in centres:
            assert structure.point_source == "commune", r["raison_sociale"]
            assert (structure.latitude, structure.longitude) == centres[structure.commune_code]
            assert (structure.latitude, structure.longitude) != (float(r["latitude"]), float(r["longitude"]))
            checked += 1
        else:  # no commune with a centre: no point rather than one in another department
            assert structure.latitude is None and structure.point_source is None
    assert checked >= 15
    # the other side of the boundary: a trusted point from the source is kept as it is
    inside = next(r for r in rows if r["coord_dans_departement"] == "1" and r["latitude"]
                  and sum(1 for o in rows if o["siret"] == r["siret"]) == 1)
    structure = db.session.execute(select(Structure).where(Structure.siret == inside["siret"])).scalar_one()
    assert structure.point_source == "source" and structure.latitude == float(inside["latitude"])


def test_known_structure_fields(app_ctx):
    import_structures(SIAE)
    db.session.commit()
    collecterie = db.session.execute(select(Structure).where(Structure.siret == "75187049400026")).scalar_one()
    assert collecterie.kinds == ["ACI"]
    assert collecterie.city == "Montreuil" and collecterie.commune_code == "93048"
    assert collecterie.department_code == "93" and collecterie.region_code == "11"
    assert abs(collecterie.latitude - 48.865024) < 1e-6 and collecterie.point_source == "source"
    assert collecterie.naf_code == "8899B"


def test_import_esat_merges_by_siret_and_finess(app_ctx):
    rows = source_rows(ESAT)
    report = import_esat(ESAT)
    db.session.commit()
    total_finess = {r["finess_et"] for r in rows}
    stored = db.session.execute(select(func.unnest(Structure.finess_numbers))).scalars().all()
    assert set(stored) == total_finess
    with_siret = {r["siret"] for r in rows if r["siret"]}
    without_siret = [r for r in rows if not r["siret"]]
    assert count() == len(with_siret) + len(without_siret) == report.created
    esat = db.session.execute(select(Structure).where(Structure.finess_numbers.any("010008951"))).scalar_one()
    assert esat.kinds == ["ESAT"] and esat.capacity == 9 and esat.commune_code == "01047"
    again = import_esat(ESAT)
    assert again.created == 0 and again.updated == 0


def test_bad_file_is_refused_whole_with_line_numbers(app_ctx, tmp_path):
    rows = source_rows(SIAE)[:5]
    rows[1]["siret"] = "1234"
    rows[3]["type"] = "XYZ"
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ImportRejected) as error:
        import_structures(path)
    db.session.rollback()
    assert [e.line for e in error.value.errors] == [3, 5]
    assert "ligne 3, colonne « siret »" in error.value.message and "ligne 5, colonne « type »" in error.value.message
    assert count() == 0
