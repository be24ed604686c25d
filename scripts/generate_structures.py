"""Generate realistic synthetic structures for benchmarks and load tests, in the bench's database only.

Kinds follow the real lists' proportions, communes are drawn by population, each structure gets
sectors of one group, an intervention area, sometimes environmental commitments and references.
Every row has the source `synthetic` and a SIRET of the reserved 99… range, which is how `--delete`
finds them. The command writes only into the bench database (the `_bench` sibling of DATABASE_URL's,
or `marche_bench` on the embedded server) that `make bench` creates: never into the portal's.

    .venv/bin/python scripts/generate_structures.py --count 50000
    .venv/bin/python scripts/generate_structures.py --up-to 50000
    .venv/bin/python scripts/generate_structures.py --delete
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS / "bench"))

from sqlalchemy import delete, func, insert, select  # noqa: E402

#: real proportions: SIAE/GEIQ/EA list (3 847 rows) plus the ESAT list (1 504), with a few EATT/EITI
KIND_WEIGHTS = {"ACI": 1815, "EI": 940, "AI": 620, "ETTI": 299, "GEIQ": 171, "EA": 120, "EATT": 20, "EITI": 30,
                "ESAT": 1504}
AREA_WEIGHTS = {"radius": 70, "territories": 20, "country": 10}
SYNTHETIC_PREFIX = "99"
#: the `source` of every generated row
SYNTHETIC_SOURCE = "synthetic"


def synthetic_siret(number: int) -> str:
    """A Luhn-valid SIRET in a range no real establishment uses (99…)."""
    from marche.core.identifiers import is_valid_siret

    base = f"{SYNTHETIC_PREFIX}{number:011d}"
    return next(base + str(d) for d in range(10) if is_valid_siret(base + str(d)))


def generate(count: int, seed: int = 2026) -> int:
    from marche.extensions import db
    from marche.geo.coverage import Area, touched
    from marche.geo.models import Commune
    from marche.reference.models import Sector
    from marche.suppliers.models import (RADIUS_CHOICES, EnvCommitment, EnvLabel, ServiceKind, Structure,
                                         structure_sector)
    from marche.core.text import normalize_search

    rng = random.Random(seed)
    communes = db.session.execute(
        select(Commune.code, Commune.name, Commune.department_code, Commune.region_code, Commune.latitude,
               Commune.longitude, Commune.population, Commune.postcodes)
        .where(Commune.latitude.is_not(None), Commune.kind == "commune-actuelle")).all()
    weights = [max(c.population or 0, 50) for c in communes]
    sectors_by_group: dict[int, list[int]] = {}
    for sector_id, group_id in db.session.execute(select(Sector.id, Sector.group_id)):
        sectors_by_group.setdefault(group_id, []).append(sector_id)
    groups = list(sectors_by_group)
    start = db.session.scalar(select(func.count()).select_from(Structure).where(_synthetic(Structure))) or 0
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    env_labels = [e.value for e in EnvLabel]
    services = [s.value for s in ServiceKind]
    words = ["Solidaire", "Insertion", "Avenir", "Horizon", "Ressources", "Tremplin", "Atelier", "Services", "Vert",
             "Emploi", "Passerelle", "Réemploi", "Proximité", "Cité", "Envol"]
    touched_cache: dict[tuple, tuple[list[str], list[str]]] = {}
    batch_size = 2000
    created = 0
    for batch_start in range(0, count, batch_size):
        rows, sector_rows, env_rows = [], [], []
        batch = min(batch_size, count - batch_start)
        for i in range(batch):
            number = start + batch_start + i + 1
            commune = rng.choices(communes, weights)[0]
            kind = rng.choices(kinds, kind_weights)[0]
            extra = ["EI"] if kind == "ACI" and rng.random() < 0.03 else []
            area_kind = rng.choices(list(AREA_WEIGHTS), list(AREA_WEIGHTS.values()))[0]
            radius = rng.choice(RADIUS_CHOICES) if area_kind == "radius" else None
            refs = [f"dep:{commune.department_code}"] if area_kind == "territories" else []
            if area_kind == "territories" and rng.random() < 0.3:
                refs.append(f"reg:{commune.region_code}")
            key = (area_kind, radius, tuple(refs), commune.code)
            if key not in touched_cache:
                touched_cache[key] = touched(Area(kind=area_kind, radius_km=radius, refs=tuple(refs),
                                                  latitude=commune.latitude, longitude=commune.longitude,
                                                  home_department=commune.department_code))
            departments, regions = touched_cache[key]
            name = f"{rng.choice(words)} {rng.choice(words)} {commune.name}"
            employees = int(rng.lognormvariate(3, 1))
            siret = synthetic_siret(number)
            rows.append({
                "siret": siret, "siren": siret[:9], "siret_status": "ok",
                "finess_numbers": [], "name": name.upper(), "brand": name, "kinds": sorted({kind, *extra}),
                "address": f"{rng.randint(1, 120)} rue de la République", "postcode": (commune.postcodes or [""])[0],
                "city": commune.name, "commune_code": commune.code, "department_code": commune.department_code,
                "region_code": commune.region_code,
                "latitude": commune.latitude + rng.uniform(-0.02, 0.02),
                "longitude": commune.longitude + rng.uniform(-0.02, 0.02), "point_source": "source",
                "description": f"Structure synthétique de test ({kind}).", "service_kinds": rng.sample(services, rng.randint(1, 2)),
                "area_kind": area_kind, "area_radius_km": radius, "area_refs": refs, "area_departments": departments,
                "area_regions": regions, "employees_count": employees,
                "inclusion_workers_count": int(employees * rng.uniform(0.3, 0.9)), "source": SYNTHETIC_SOURCE,
                "search_text": normalize_search(f"{name} {commune.name}"),
            })
        ids = db.session.execute(insert(Structure).returning(Structure.id), rows).scalars().all()
        for structure_id in ids:
            group = rng.choice(groups)
            for sector_id in rng.sample(sectors_by_group[group], min(len(sectors_by_group[group]), rng.randint(1, 3))):
                sector_rows.append({"structure_id": structure_id, "sector_id": sector_id})
            if rng.random() < 0.2:
                env_rows.append({"structure_id": structure_id, "label": rng.choice(env_labels),
                                 "expires_on": None})
        db.session.execute(insert(structure_sector), sector_rows)
        if env_rows:
            db.session.execute(insert(EnvCommitment), env_rows)
        db.session.commit()
        created += len(ids)
        print(f"  {created}/{count}", flush=True)
    return created


def top_up(target: int, seed: int = 2026) -> int:
    """Generate what the directory lacks to hold `target` structures (real ones included)."""
    from marche.extensions import db
    from marche.suppliers.models import Structure

    missing = target - (db.session.scalar(select(func.count()).select_from(Structure)) or 0)
    return generate(missing, seed) if missing > 0 else 0


def _synthetic(structure):
    """The generator's rows: its source and its reserved SIRET range, both (a real row has neither)."""
    return (structure.source == SYNTHETIC_SOURCE) & structure.siret.startswith(SYNTHETIC_PREFIX)


def delete_synthetic() -> int:
    from marche.extensions import db
    from marche.suppliers.models import Structure

    result = db.session.execute(delete(Structure).where(_synthetic(Structure)))
    db.session.commit()
    return result.rowcount


def bench_app():
    """The app on the bench database; refused when `make bench` has not created it yet."""
    import os

    from bench_database import BENCH_INDEX_PREFIX, bench_database_url, database_exists, database_name

    from marche import create_app
    from marche.core.embedded import ensure_postgres
    from services import INSTANCE

    portal_url = os.environ.get("DATABASE_URL") or ensure_postgres(INSTANCE / "pgdata")
    url = bench_database_url(portal_url)
    if not database_exists(portal_url, database_name(url)):
        raise SystemExit(f"La base de mesure « {database_name(url)} » n'existe pas : `make bench` la crée et "
                         "la prépare (ce script n'écrit jamais dans la base du portail).")
    return create_app({"DATABASE_URL": url, "MEILI_INDEX_PREFIX": BENCH_INDEX_PREFIX})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50000)
    parser.add_argument("--up-to", type=int, help="compléter l'annuaire jusqu'à ce nombre de structures")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--delete", action="store_true", help="supprimer toutes les structures synthétiques")
    args = parser.parse_args()
    app = bench_app()
    with app.app_context():
        started = time.perf_counter()
        if args.delete:
            print(f"{delete_synthetic()} structures synthétiques supprimées.")
            return
        created = top_up(args.up_to, args.seed) if args.up_to is not None else generate(args.count, args.seed)
        print(f"{created} structures synthétiques créées en {time.perf_counter() - started:.1f} s "
              "dans la base de mesure (`make bench` la réindexe).")


if __name__ == "__main__":
    main()
