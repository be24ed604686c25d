"""GET /api/v1/market-depth on the real imported directory: its count is the directory API's count for the same
filters in "covers" mode (and the rows' own answer), its results are ranked with their reasons; a bad parameter is
a 400 naming it."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marche.extensions import db
from marche.search import indexer
from tests.conftest import truncate_tables
from tests.search.directory import build_directory, snapshot
from tests.search.test_search import covers


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the root fixture: this module's tests share one imported directory."""
    yield


@pytest.fixture(scope="module")
def snap(app):
    with app.app_context():
        build_directory()
        assert indexer.reindex_all() == db.session.execute(text("SELECT count(*) FROM structure")).scalar()
        data = snapshot()
        db.session.remove()
    yield data
    truncate_tables(app)


def filters(snap) -> list[str]:
    first, second = snap.sector_ids[0], snap.sector_ids[1]
    return ["", f"sector={first}", f"sector={first}&sector={second}&territory=dep:59",
            f"kind=EI&kind=ACI&territory=commune:59350", "kind=EA&kind=ESAT&territory=reg:32",
            f"sector={second}&env=iso14001", "env=b_corp&env=iso14001&territory=commune:75056",
            f"sector={first}&kind=ACI&territory=commune:59350&env=iso14001"]


def test_the_count_is_the_directory_count_in_covers_mode(snap, client):
    for args in filters(snap):
        depth = client.get(f"/api/v1/market-depth?{args}")
        directory = client.get(f"/api/v1/structures?{args}&territory_mode=covers&per_page=1")
        assert depth.status_code == directory.status_code == 200, args
        assert depth.json["count"] == directory.json["count"], args
        assert len(depth.json["results"]) == min(20, depth.json["count"])


def test_the_count_is_the_rows_answer_and_results_are_ranked_with_reasons(snap, client):
    sector = snap.sector_ids[0]
    wanted = {i for i, row in snap.rows.items()
              if sector in snap.sectors[i] and set(row["kinds"]) & {"EI", "ACI"} and covers(snap, row, "59350")}
    answer = client.get(f"/api/v1/market-depth?sector={sector}&kind=EI&kind=ACI&territory=commune:59350").json
    assert answer["count"] == len(wanted) > 20
    assert {r["id"] for r in answer["results"]} <= wanted
    scores = [r["score"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(any(reason.startswith("Peut intervenir à Lille") for reason in r["reasons"]) for r in answer["results"])


@pytest.mark.parametrize("args, parameter", [
    ("sector=inconnu-du-tout", "sector"), ("kind=SARL", "kind"), ("territory=commune:00000", "territory"),
    ("territory=pays:FR", "territory"), ("env=vert", "env"), ("sector=999999", "sector"), ("territory=", "territory"),
])
def test_bad_input_is_a_400_naming_the_parameter(snap, client, args, parameter):
    answer = client.get(f"/api/v1/market-depth?{args}")
    assert answer.status_code == 400 and answer.json["parameter"] == parameter and answer.json["message"]
