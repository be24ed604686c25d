"""The results map's points (`/structures/carte.json`): the same filters as the search, every structure
with a point and no other, compact arrays, cached; bad parameters answered in French. Expected answers
come from a plain-SQL snapshot of the real directory, never from the search code."""
from __future__ import annotations

import gzip
import json

import pytest

from marche import create_app
from marche.extensions import db
from marche.search import indexer

from .directory import build_directory, snapshot


@pytest.fixture(scope="module")
def snap(app):
    with app.app_context():
        build_directory()
        indexer.reindex_all()
        data = snapshot()
        idents = {id_: siret or (finess[0] if finess else None) for id_, siret, finess in db.session.execute(
            db.text("SELECT id, siret, finess_numbers FROM structure"))}
        db.session.remove()
    return data, idents


def placed(snap, predicate=lambda row: True) -> set[int]:
    data, idents = snap
    return {i for i, r in data.rows.items() if r["latitude"] is not None and idents[i] and predicate(r)}


def test_the_whole_country_comes_as_compact_arrays_of_every_placed_structure(client, snap):
    data, idents = snap
    response = client.get("/structures/carte.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["fields"] == ["id", "lat", "lng", "kinds", "name", "city", "ident"]
    expected = placed(snap)
    assert len(expected) > 5000
    assert {p[0] for p in body["points"]} == expected and body["count"] == len(expected)
    for id_, lat, lng, kinds, name, city, ident in body["points"]:
        row = data.rows[id_]
        assert (lat, lng) == (round(row["latitude"], 5), round(row["longitude"], 5))
        assert kinds.split("|") == list(row["kinds"])
        assert name == (row["brand"] or row["name"]) and city == (row["city"] or "") and ident == idents[id_]
    raw = response.get_data()
    compressed = gzip.compress(raw)
    print(f"\ncarte.json, toute la France : {len(body['points'])} points, {len(raw)} octets, "
          f"{len(compressed)} octets en gzip")
    assert len(raw) < 120 * len(body["points"])  # compact: about a line of text per structure
    # a browser accepting gzip is sent the same JSON compressed
    zipped = client.get("/structures/carte.json", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.get_data())) == body
    assert len(zipped.get_data()) < len(raw) / 2


def test_filters_are_the_search_filters(client, snap):
    body = client.get("/structures/carte.json?kind=ESAT&territory=dep:59&territory_mode=located").get_json()
    expected = placed(snap, lambda r: "ESAT" in r["kinds"] and r["department_code"] == "59")
    assert expected and {p[0] for p in body["points"]} == expected
    # the other side: structures of the Nord that are not ESAT, and ESAT elsewhere, are left out
    assert not {p[0] for p in body["points"]} & placed(snap, lambda r: "ESAT" not in r["kinds"] or
                                                        r["department_code"] != "59")
    nothing = client.get("/structures/carte.json?q=zzzzqqqqwwww").get_json()
    assert nothing == {"fields": nothing["fields"], "count": 0, "points": []}


def test_the_sql_fallback_answers_the_same_points(app_config, client, snap):
    url = "/structures/carte.json?kind=EI&territory=dep:93&territory_mode=located"
    from_meili = {p[0] for p in client.get(url).get_json()["points"]}
    down = create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"})
    from_sql = {p[0] for p in down.test_client().get(url).get_json()["points"]}
    assert from_meili == from_sql == placed(snap, lambda r: "EI" in r["kinds"] and r["department_code"] == "93")


def test_the_answer_is_cached_and_revalidated(client, snap):
    first = client.get("/structures/carte.json?kind=GEIQ")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = client.get("/structures/carte.json?kind=GEIQ", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = client.get("/structures/carte.json?kind=EA", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


@pytest.mark.parametrize("query, parameter", [("kind=XYZ", "kind"), ("q=" + "a" * 10_000, "q"),
                                              ("q=abc%00def", "q"), ("territory=dep:999", "territory")])
def test_bad_parameters_are_answered_in_french_never_a_500(client, query, parameter):
    response = client.get("/structures/carte.json?" + query)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and body["message"]


def test_the_search_page_map_loads_its_points_from_the_endpoint_not_inline(client, snap):
    html = client.get("/structures?kind=ESAT&vue=carte").get_data(as_text=True)
    assert 'data-points-url="/structures/carte.json?kind=ESAT"' in html
    assert "data-points=" not in html
    assert len(html) < 200_000  # no thousands of inline points
