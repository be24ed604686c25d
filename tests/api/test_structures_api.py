"""API v1 structures: search parameters reaching the search on the real imported directory, errors as
400 JSON naming the parameter, detail by SIRET, and the lookup of a list of SIRET / SIREN.

The directory is imported once for the module (an import takes seconds): the root per-test truncation
is replaced by one at the end of the module, so tests here must undo what they add.
"""
from __future__ import annotations

import csv
import math
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from marche import create_app
from marche.cli import DATA_DIR
from marche.core.identifiers import is_valid_siret
from marche.extensions import db
from marche.reference.models import Sector
from marche.suppliers.importer import import_esat, import_structures
from marche.suppliers.models import EnvCommitment, Structure, StructureKind
from tests.conftest import truncate_tables

SIAE = DATA_DIR / "structures_siae_geiq_ea.csv"
ESAT = DATA_DIR / "esat_finess.csv"
ACI = "75187049400026"  # La Collecterie, Montreuil (93048)


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


SIAE_ROWS, ESAT_ROWS = _rows(SIAE), _rows(ESAT)


def _structures_of_kind(kind: str) -> int:
    """Distinct structures carrying `kind`, from the files: one per SIRET, or per FINESS for ESAT without SIRET."""
    keys = {r["siret"] for r in SIAE_ROWS if r["type"] == kind}
    if kind == "ESAT":
        keys |= {r["siret"] or f"finess:{r['finess_et']}" for r in ESAT_ROWS}
    return len(keys)


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the root fixture: the module shares one imported directory."""
    yield


@pytest.fixture(scope="module")
def api_app(app_config, app):
    application = create_app(app_config)
    # the factory registers the API (api.init_app): a fixture that added it "if missing" would hide its loss
    assert "api_v1" in application.blueprints
    return application


@pytest.fixture(scope="module")
def marked(api_app):
    """Import both real files, then give a few structures a sector, a service and environmental labels."""
    from marche.search.indexer import reindex_all

    truncate_tables(api_app)
    with api_app.app_context():
        import_structures(SIAE)
        import_esat(ESAT)
        db.session.commit()
        structures = db.session.execute(select(Structure).order_by(Structure.id).limit(40)).scalars().all()
        sector = db.session.execute(select(Sector).order_by(Sector.id)).scalars().first()
        for structure in structures[:7]:
            structure.sectors = [sector]
        for structure in structures[10:14]:
            structure.service_kinds = ["sous_traitance"]
        for structure in structures[20:23]:
            structure.env_commitments.append(EnvCommitment(label="iso14001", expires_on=date.today() + timedelta(30)))
        structures[23].env_commitments.append(EnvCommitment(label="iso14001", expires_on=date.today() - timedelta(1)))
        db.session.commit()
        reindex_all()
        # counted with plain SQL: the import may already give sectors and services of its own
        marks = {
            "sector": sector.id,
            "sector_count": _sql("select count(*) from structure_sector where sector_id = :s", s=sector.id),
            "service_count": _sql("select count(*) from structure where 'sous_traitance' = any(service_kinds)"),
            "env_count": _sql("select count(distinct structure_id) from env_commitment where label = 'iso14001' "
                              "and (expires_on is null or expires_on >= current_date)"),
        }
        assert marks["sector_count"] >= 7 and marks["service_count"] >= 4 and marks["env_count"] == 3
    yield marks
    truncate_tables(api_app)
    with api_app.app_context():
        reindex_all()  # empty the index again for the next modules


@pytest.fixture
def api(api_app, marked):
    return api_app.test_client()


def _sql(query: str, **params) -> int:
    return db.session.execute(text(query), params).scalar_one()


# --- search -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["ESAT", "EI", "ACI", "GEIQ", "EA"])
def test_kind_count_equals_the_files(api, kind):
    body = api.get(f"/api/v1/structures?kind={kind}&per_page=3").json
    assert body["count"] == _structures_of_kind(kind) > 0
    assert body["backend"] == "meilisearch" and body["per_page"] == 3
    assert len(body["results"]) == min(3, body["count"])
    assert all(kind in result["kinds"] for result in body["results"])


def test_several_kinds_are_a_union(api):
    either = api.get("/api/v1/structures?kind=EI&kind=ACI").json["count"]
    comma = api.get("/api/v1/structures?kind=EI,ACI").json["count"]
    sirets = {r["siret"] for r in SIAE_ROWS if r["type"] in ("EI", "ACI")}
    assert either == comma == len(sirets)


def test_result_fields(api):
    body = api.get("/api/v1/structures?q=collecterie&per_page=100").json
    result = next(r for r in body["results"] if r["siret"] == ACI)
    for name in ("siret", "name", "kinds", "sectors", "city", "department", "latitude", "longitude", "brand",
                 "commune", "region", "env", "services", "claimed", "url"):
        assert name in result
    assert result["kinds"] == ["ACI"] and result["city"] == "Montreuil" and result["department"] == "93"
    assert result["commune"] == "93048" and result["url"] == f"/structures/{ACI}" and result["claimed"] is False
    assert "id" not in result and "is_synthetic" not in result


def test_territory_filters(api, api_app):
    with api_app.app_context():
        located = _sql("select count(*) from structure where department_code = '93'")
        covers = _sql("select count(*) from structure where '93' = any(area_departments)")
    assert api.get("/api/v1/structures?territory=dep:93&territory_mode=located").json["count"] == located > 0
    assert api.get("/api/v1/structures?territory=dep:93&territory_mode=covers").json["count"] == covers
    assert covers > located


def _haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def test_near_and_radius(api, api_app):
    with api_app.app_context():
        lat, lon = db.session.execute(text("select latitude, longitude from commune where code = '93048'")).one()
        points = db.session.execute(text("select siret, latitude, longitude from structure "
                                         "where latitude is not null")).all()
    distances = {siret: _haversine(lat, lon, a, b) for siret, a, b in points}
    sure = {s for s, d in distances.items() if d < 3 - 0.05}
    maybe = {s for s, d in distances.items() if d <= 3 + 0.05}
    found, page = [], 1
    while True:
        body = api.get(f"/api/v1/structures?near=commune:93048&radius_km=3&per_page=100&page={page}").json
        found += body["results"]
        if page * 100 >= body["count"]:
            break
        page += 1
    sirets = {r["siret"] for r in found}
    assert sure <= sirets <= maybe and sure
    assert all(r["distance_km"] <= 3.1 for r in found)
    by_distance = api.get("/api/v1/structures?near=commune:93048&radius_km=3&sort=distance").json["results"]
    assert [r["distance_km"] for r in by_distance] == sorted(r["distance_km"] for r in by_distance)


def test_sector_service_env_filters(api, marked):
    assert api.get(f"/api/v1/structures?sector={marked['sector']}").json["count"] == marked["sector_count"]
    assert api.get("/api/v1/structures?service=sous_traitance").json["count"] == marked["service_count"]
    body = api.get("/api/v1/structures?env=iso14001").json
    assert body["count"] == marked["env_count"]  # the expired certificate does not count
    assert all("iso14001" in r["env"] for r in body["results"])


def test_pages(api):
    total = _structures_of_kind("GEIQ")
    first = api.get("/api/v1/structures?kind=GEIQ&per_page=5").json
    second = api.get("/api/v1/structures?kind=GEIQ&per_page=5&page=2").json
    assert first["page"] == 1 and second["page"] == 2 and len(second["results"]) == min(5, total - 5)
    assert not {r["siret"] for r in first["results"]} & {r["siret"] for r in second["results"]}
    beyond = api.get("/api/v1/structures?kind=GEIQ&per_page=5&page=500").json
    assert beyond["results"] == [] and beyond["count"] == total and beyond["page"] == 500


@pytest.mark.parametrize("query, parameter", [
    ("kind=SCOP", "kind"),
    ("per_page=101", "per_page"),
    ("per_page=0", "per_page"),
    ("page=0", "page"),
    ("page=abc", "page"),
    ("q=" + "a" * 10_000, "q"),
    ("territory=dep:999", "territory"),
    ("territory=nimporte", "territory"),
    ("territory_mode=inside&territory=dep:59", "territory_mode"),
    ("near=dep:59", "near"),
    ("near=commune:59350&radius_km=9999", "radius_km"),
    ("sort=distance", "sort"),
    ("sector=99999", "sector"),
    ("env=vert", "env"),
    ("service=tout", "service"),
    ("claimed=peut-etre", "claimed"),
    ("q=abc%00def", "q"),
    ("territory=dep:5%009", "territory"),
])
def test_bad_parameters_answer_400_naming_them(api, query, parameter):
    response = api.get(f"/api/v1/structures?{query}")
    assert response.status_code == 400, response.data[:300]
    body = response.json
    assert body["parameter"] == parameter and body["error"] and body["message"]


def test_unknown_kind_lists_allowed_values(api):
    body = api.get("/api/v1/structures?kind=SCOP").json
    assert body["allowed"] == [k.value for k in StructureKind] and "SCOP" in body["message"]


# --- detail -----------------------------------------------------------------------------------

def test_detail_by_siret(api):
    body = api.get("/api/v1/structures/751%20870%20494%2000026").json
    assert body["siret"] == ACI and body["name"] == "LA COLLECTERIE" and body["kinds"] == ["ACI"]
    assert body["url"] == f"/structures/{ACI}" and body["city"] == "Montreuil"
    assert api.get(f"/api/v1/structures/{ACI}").json == body


def test_detail_unknown_is_404(api):
    outside = next(f"{n:014d}" for n in range(44229377500001, 44229377600000) if is_valid_siret(f"{n:014d}"))
    for path in (outside, "abc", "1" * 200, "lookup"):
        response = api.get(f"/api/v1/structures/{path}")
        assert response.status_code == 404 and response.json["error"] == "Page introuvable"
    answer = api.post("/api/v1/structures/lookup", json={"sirets": [outside]}).json
    assert answer["results"][0]["status"] == "not_inclusive"


# --- lookup -----------------------------------------------------------------------------------

def test_lookup(api):
    multi_siren = "807469317"
    outside = next(f"{n:014d}" for n in range(44229377500001, 44229377600000) if is_valid_siret(f"{n:014d}"))
    response = api.post("/api/v1/structures/lookup",
                        json={"sirets": ["751 870 494 00026", multi_siren, outside, "1234", 75187049400026, None]})
    assert response.status_code == 200
    body = response.json
    results = body["results"]
    assert [r["status"] for r in results] == ["inclusive", "inclusive", "not_inclusive", "invalid", "inclusive",
                                              "invalid"]
    assert results[0] == {"line": 1, "input": "751 870 494 00026", "status": "inclusive", "siret": ACI,
                          "kinds": ["ACI"], "name": "La Collecterie"}
    assert results[1]["siren"] == multi_siren and "siret" not in results[1] and results[1]["kinds"]
    assert results[2]["siret"] == outside and results[2]["kinds"] == [] and results[2]["name"] is None
    assert results[3]["reason"] == "14 chiffres attendus (SIRET) ou 9 (SIREN) : 4 chiffres reçus"
    summary = body["summary"]
    assert (summary["total"], summary["inclusive"], summary["not_inclusive"], summary["invalid"]) == (6, 3, 1, 2)
    assert summary["by_kind"]["ACI"] >= 2


@pytest.mark.parametrize("data, content_type", [
    ("pas du json", "application/json"),
    ('{"sirets": "75187049400026"}', "application/json"),
    ('["75187049400026"]', "application/json"),
    ("", "application/json"),
])
def test_lookup_bad_bodies(api, data, content_type):
    response = api.post("/api/v1/structures/lookup", data=data, content_type=content_type)
    assert response.status_code == 400
    assert "Corps JSON attendu" in response.json["message"]


def test_lookup_limit(api):
    response = api.post("/api/v1/structures/lookup", json={"sirets": ["75187049400026"] * 5001})
    assert response.status_code == 400 and "5000 au plus" in response.json["message"]
    ok = api.post("/api/v1/structures/lookup", json={"sirets": ["75187049400026"] * 5000})
    assert ok.status_code == 200 and ok.json["summary"]["inclusive"] == 5000


def test_lookup_needs_no_csrf_token(api_app, marked):
    client = api_app.test_client()
    assert api_app.config.get("WTF_CSRF_ENABLED", True)
    assert client.post("/api/v1/structures/lookup", json={"sirets": [ACI]}).status_code == 200
