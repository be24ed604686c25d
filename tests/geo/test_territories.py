"""Territory references, search, shapes and distances, and the territories API."""
from __future__ import annotations

import time

import pytest
from shapely.geometry import Point

from marche.geo.services import (
    FRANCE, Territory, TerritoryError, haversine_km, parse_ref, parse_territory_list, point_of_commune, resolve,
    search_territories, shape_of,
)
from tests.conftest import load_factor


def ids(q: str, **kwargs) -> list[str]:
    return [hit["id"] for hit in search_territories(q, **kwargs)]


# --- references -------------------------------------------------------------------------------

def test_parse_ref_normalizes():
    assert parse_ref(" DEP:2a ") == ("dep", "2A")
    assert parse_ref("commune:59350") == ("commune", "59350")
    assert parse_ref("country:fr") == ("country", "FR")


@pytest.mark.parametrize("ref", ["59350", "ville:59350", "commune:", "dep:ABC", "reg:x1", "country:BE"])
def test_parse_ref_rejects_with_the_value(ref):
    with pytest.raises(TerritoryError) as error:
        parse_ref(ref)
    assert ref.split(":")[0] in str(error.value)


def test_resolve_labels(app_ctx):
    assert resolve("commune:59350") == Territory("commune", "59350", "Lille", "Lille (59)")
    assert resolve("dep:59").label == "Nord (59)"
    assert resolve("dep:2a").label == "Corse-du-Sud (2A)"
    assert resolve("reg:32").label == "Hauts-de-France"
    assert resolve("country:FR") == FRANCE and FRANCE.label == "France entière"


@pytest.mark.parametrize("ref", ["dep:999", "commune:99999", "reg:99"])
def test_resolve_unknown(app_ctx, ref):
    with pytest.raises(TerritoryError, match=f"Territoire inconnu : {ref}"):
        resolve(ref)


def test_parse_territory_list_validates_normalizes_and_deduplicates(app_ctx):
    text = "dep:59, commune:59350;reg:32  DEP:59 dep:2a\ncountry:fr"
    assert parse_territory_list(text) == ["dep:59", "commune:59350", "reg:32", "dep:2A", "country:FR"]
    assert parse_territory_list("") == []


def test_parse_territory_list_names_the_first_bad_ref(app_ctx):
    with pytest.raises(TerritoryError) as error:
        parse_territory_list("dep:59, dep:999, commune:00000")
    assert str(error.value) == "Territoire inconnu : dep:999"


# --- search -----------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["Evry", "évry", "EVRY", "  évry  "])
def test_search_ignores_accents_and_case(app_ctx, q):
    assert ids(q)[0] == "commune:91228"
    assert search_territories(q)[0] == {"id": "commune:91228", "label": "Évry-Courcouronnes (91)", "kind": "commune"}


def test_search_by_name_prefix_orders_communes_by_population(app_ctx):
    assert ids("Lille")[0] == "commune:59350"
    assert ids("Mars")[0] == "commune:13055"
    assert ids("saint etienne")[0] == ids("Saint-Étienne")[0] == "commune:42218"
    assert ids("l'hay")[0] == "commune:94038"


def test_search_by_postcode(app_ctx):
    assert ids("59000") == ["commune:59350"]
    assert ids("590")[0] == "commune:59350"
    assert "commune:2A004" in ids("20")  # Corsican postcodes start with 20


def test_search_by_insee_and_department_code(app_ctx):
    assert ids("59350")[0] == "commune:59350"
    assert ids("2a004") == ["commune:2A004"]
    assert ids("59")[:2] == ["dep:59", "commune:59350"]
    assert ids("974")[0] == "dep:974"
    assert ids("2B") == ["dep:2B"]


def test_departments_and_regions_come_first(app_ctx):
    assert ids("nord")[0] == "dep:59"
    assert ids("Bretagne")[0] == "reg:53"
    assert ids("hauts")[:2] == ["reg:32", "dep:92"]
    assert ids("ile de france")[0] == "reg:11"
    assert ids("france")[0] == "country:FR"


def test_search_tolerates_typos(app_ctx):
    assert ids("Lile")[0] == "commune:59350"
    assert ids("Marseile")[0] == "commune:13055"
    assert ids("Bretgne")[0] == "reg:53"


def test_search_filters_and_limits(app_ctx):
    assert ids("nord", kinds={"dep"}) == ["dep:59"]
    assert all(ref.startswith("commune:") for ref in ids("nord", kinds={"commune"}))
    assert len(ids("saint", limit=3)) == 3
    assert ids("") == ids("   ") == ids("'-") == []
    assert ids("zzzzzzzz") == []
    assert ids("Lille" + "x" * 500) == ids("Lille" + "x" * 95)  # truncated to 100 characters


def test_search_is_fast(app_ctx):
    queries = ["Evry", "Lille", "59000", "59", "nord", "Marseile", "saint etienne", "Paris"]
    search_territories("warm up")
    started = time.perf_counter()
    for q in queries:
        search_territories(q)
    # ~5 ms each on a laptop; slack for CI, and for the load of a shared machine
    assert (time.perf_counter() - started) / len(queries) < 0.05 * load_factor()


# --- shapes and distances ---------------------------------------------------------------------

def test_shapes_and_points(app_ctx):
    nord = shape_of("dep:59")
    lat, lon = point_of_commune("59350")
    assert nord.contains(Point(lon, lat))
    assert shape_of("reg:32").contains(Point(lon, lat))
    assert shape_of("dep:59") is nord  # cached
    assert shape_of("dep:975") is None  # Saint-Pierre-et-Miquelon: no polygon
    assert shape_of("commune:59350") is None
    with pytest.raises(TerritoryError):
        shape_of("dep:999")
    assert point_of_commune("15031") is None  # restored in 2025, no known point
    with pytest.raises(TerritoryError):
        point_of_commune("99999")


def test_haversine():
    assert haversine_km(48.8566, 2.3522, 48.8566, 2.3522) == 0
    # Paris – Lille, about 204 km as the crow flies
    assert haversine_km(48.8566, 2.3522, 50.6292, 3.0573) == pytest.approx(204, abs=2)
    # a quarter of a meridian
    assert haversine_km(0, 0, 90, 0) == pytest.approx(6371.0088 * 3.141592653589793 / 2)


# --- API --------------------------------------------------------------------------------------

def test_api_search(client):
    response = client.get("/api/v1/territories?q=évry&limit=3")
    assert response.status_code == 200
    results = response.json["results"]
    assert len(results) == 3
    assert results[0] == {"id": "commune:91228", "label": "Évry-Courcouronnes (91)", "kind": "commune"}


def test_api_kinds_and_limit(client):
    response = client.get("/api/v1/territories?q=nord&kinds=dep,reg")
    assert [hit["id"] for hit in response.json["results"]] == ["dep:59"]
    response = client.get("/api/v1/territories?q=saint&limit=500")
    assert len(response.json["results"]) == 20
    assert client.get("/api/v1/territories").json == {"results": []}


def test_api_unknown_kind_is_a_400(client):
    response = client.get("/api/v1/territories?q=nord&kinds=dep,ville")
    assert response.status_code == 400
    assert response.json["error"] == "Requête invalide"
    message = response.json["message"]
    assert "kinds" in message and "ville" in message and "commune, dep, reg" in message


def test_api_bad_limit_is_a_400(client):
    response = client.get("/api/v1/territories?q=nord&limit=beaucoup")
    assert response.status_code == 400 and "limit" in response.json["message"]


def test_api_territory(client):
    response = client.get("/api/v1/territories/dep:59")
    assert response.json == {"id": "dep:59", "kind": "dep", "code": "59", "name": "Nord", "label": "Nord (59)"}
    response = client.get("/api/v1/territories/dep:999")
    assert response.status_code == 404
    assert response.json["message"] == "Territoire inconnu : dep:999"
