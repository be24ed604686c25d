"""API v1: `q` is read as the page reads it (`interpreted`), `literal=1` searches it as typed, and bad text
never answers 500. Runs on the module-shared imported directory of test_structures_api."""
from __future__ import annotations

from sqlalchemy import text

from marche.extensions import db
from tests.api.test_structures_api import _clean_tables, api, api_app, marked  # noqa: F401  (the fixtures)


def _lille(api_app) -> str:
    with api_app.app_context():
        return db.session.execute(text("SELECT code FROM commune WHERE name = 'Lille' AND department_code = '59'")
                                  ).scalar_one()


def test_a_place_in_q_is_read_and_said(api, api_app):  # noqa: F811
    lille = _lille(api_app)
    body = api.get("/api/v1/structures?q=nettoyage Lille").json
    assert body["interpreted"] == {"territory": f"commune:{lille}", "territory_label": "Lille (59)",
                                   "words": "nettoyage"}
    both = api.get(f"/api/v1/structures?q=nettoyage&territory=commune:{lille}&per_page=100").json
    assert body["count"] == both["count"]
    read = api.get("/api/v1/structures?q=nettoyage Lille&per_page=100").json
    assert [r["siret"] for r in read["results"]] == [r["siret"] for r in both["results"]]
    distances = [r["distance_km"] for r in read["results"] if r.get("distance_km") is not None]
    assert distances == sorted(distances) and distances


def test_literal_searches_the_words_as_typed(api):  # noqa: F811
    literal = api.get("/api/v1/structures?q=nettoyage Lille&literal=1&per_page=100").json
    assert "interpreted" not in literal
    read = api.get("/api/v1/structures?q=nettoyage Lille").json
    assert literal["count"] < read["count"]  # « Lille » must then be a word of the structure


def test_a_shared_name_gives_candidates_and_no_territory(api):  # noqa: F811
    body = api.get("/api/v1/structures?q=menuiserie Saint-Martin").json
    interpreted = body["interpreted"]
    assert "territory" not in interpreted and interpreted["words"] == "menuiserie Saint-Martin"
    assert 1 < len(interpreted["candidates"]) <= 8
    assert "Saint-Martin (67)" in [c["label"] for c in interpreted["candidates"]]
    assert all(c["territory"].startswith(("commune:", "dep:")) for c in interpreted["candidates"])


def test_a_siret_with_spaces_finds_its_structure(api, api_app):  # noqa: F811
    with api_app.app_context():
        siret = db.session.execute(text("SELECT siret FROM structure WHERE siret IS NOT NULL ORDER BY id LIMIT 1")
                                   ).scalar_one()
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    body = api.get("/api/v1/structures", query_string={"q": spaced}).json
    assert body["interpreted"] == {"words": siret}
    assert siret in [r["siret"] for r in body["results"]]
    siren = api.get("/api/v1/structures", query_string={"q": f"{siret[:3]}.{siret[3:6]}.{siret[6:9]}"}).json
    assert siret in [r["siret"] for r in siren["results"]]


def test_bad_text_never_answers_500(api):  # noqa: F811
    huge = api.get("/api/v1/structures", query_string={"q": "Lille " * 500_000})
    assert huge.status_code == 400 and huge.json["parameter"] == "q"
    for q in ("   ", "123 456 789 0001A", "Saint-Martin " * 15, "à à à", "59 59 59 2A 2B 971"):
        answer = api.get("/api/v1/structures", query_string={"q": q})
        assert answer.status_code == 200, (q, answer.json)
    assert api.get("/api/v1/structures", query_string={"q": "nettoyage", "sort": "distance"}).status_code == 400


def test_openapi_documents_literal_and_interpreted(api):  # noqa: F811
    document = api.get("/api/v1/openapi.json").json
    parameters = {p["name"] for p in document["paths"]["/api/v1/structures"]["get"]["parameters"]}
    assert {"q", "literal"} <= parameters
    schemas = document["components"]["schemas"]
    assert set(schemas["Interpreted"]["properties"]) == {"words", "territory", "territory_label", "candidates"}
    assert "interpreted" in schemas["SearchResponse"]["properties"]
