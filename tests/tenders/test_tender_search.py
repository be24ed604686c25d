"""The tender search (document type `tenders`): Meilisearch and the SQL fallback give the same ids, in the same
order, with the same counts and facets; only open published tenders are ever found; the index follows publish,
close and cancel through the outbox; the page falls back to SQL with its banner when Meilisearch fails."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from marche.extensions import db
from marche.search import meili_backend, sql_backend
from marche.search.indexer import reindex, wait_for_pending
from marche.search.query import QueryError
from marche.tenders.models import Tender
from marche.tenders.search_documents import TENDERS, matches, searchable_text, sort_key, tenders_index
from marche.tenders.search_query import parse_tender_query
from tests.conftest import page_text
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)
from tests.tenders.public_tenders import NOW
from tests.tenders.tender_search_data import HIDDEN, build_tenders


@pytest.fixture
def data(app):
    """The tenders, built in a context of their own: a test client's requests must not share it (flask_login
    keeps the current user in the application context's `g`)."""
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        ids = build_tenders()
        wait_for_pending()
        db.session.remove()
    return ids


def both(args) -> tuple:
    query = TENDERS.prepared(parse_tender_query(MultiDict(args)))
    return meili_backend.search(query), sql_backend.search(query)


def names(ids: dict, hit_ids) -> list[str]:
    by_id = {v: k for k, v in ids.items() if k not in {"sector0", "sector1", "sector2", "lille", "region"}}
    return [by_id[i] for i in hit_ids]


def test_both_backends_answer_the_same_ids_counts_and_facets(data, make_structure, app_ctx):
    structure = make_structure(siret="75187049400026")  # Montreuil, 30 km around: Paris and its suburbs
    in_a_week = (NOW + timedelta(days=7)).date().isoformat()
    cases = {
        (): ["roads", "green", "cleaning", "catering", "waste", "nowhere"],
        (("q", "espaces"),): ["green"],
        (("q", "nettoyage locaux"),): ["cleaning"],
        (("q", "netoyage"),): ["cleaning"],  # one typo
        (("q", "restau"),): ["catering"],  # the last word as a prefix
        (("q", "liaison froide"),): ["catering"],  # a lot's description
        (("q", "hauts-de-france"),): ["catering", "waste"],  # the buyer's name
        (("kind", "quote_request"),): ["cleaning"],
        (("reserved", "siae"),): ["cleaning", "catering"],  # the « both » lot counts for SIAE
        (("reserved", "disability"),): ["catering"],
        (("reserved", "both"),): ["catering"],
        (("clause", "insertion"),): ["green"],
        (("clause", "environmental_condition"), ("clause", "social_criterion")): ["catering", "waste"],
        (("cpv", "90"),): ["cleaning", "waste"],
        (("cpv", "90512000"),): ["waste"],  # a lot's code
        (("cpv", "4523"),): ["roads"],
        (("territory", "dep:59"),): ["green", "cleaning", "catering", "waste"],
        (("territory", "commune:59350"),): ["green", "cleaning", "catering", "waste"],
        (("territory", "reg:11"),): ["catering", "waste"],  # the Paris lot
        (("territory", "dep:13"),): ["roads", "waste"],
        (("structure", str(structure)),): ["catering", "waste"],
        (("structure", str(structure)), ("territory", "dep:59")): ["catering", "waste"],
        (("sector", str(data["sector0"])),): ["green", "catering"],
        (("buyer", str(data["region"])),): ["catering", "waste"],
        (("deadline_before", in_a_week),): ["roads"],
        (("deadline_after", in_a_week),): ["green", "cleaning", "catering", "waste", "nowhere"],
        (("published_after", (NOW + timedelta(days=1)).date().isoformat()),): [],
        (("kind", "call_for_tenders"), ("reserved", "siae"), ("sector", str(data["sector0"]))): ["catering"],
        (("q", "nettoyage"), ("sort", "recent")): ["cleaning"],
    }
    rows = TENDERS.load(db.session, list(data.values()))
    documents = TENDERS.documents(db.session, rows, date.today())
    for args, expected in cases.items():
        meili, sql = both(args)
        # the watch's reading in memory (search_documents.matches) answers as the engines do
        query = TENDERS.prepared(parse_tender_query(MultiDict(args)))
        in_memory = sorted((d for d in documents if matches(d, searchable_text(d), query, query.resolved)),
                           key=sort_key(query))
        assert [d["id"] for d in in_memory] == [h["id"] for h in meili.hits], args
        assert names(data, [h["id"] for h in meili.hits]) == expected, args
        assert [h["id"] for h in sql.hits] == [h["id"] for h in meili.hits], args
        assert (sql.count, sql.facets) == (meili.count, meili.facets) == (len(expected), sql.facets), args
        assert sql.hits == meili.hits, args  # the one serializer
    # the facets, counted disjunctively for a ticked group
    meili, sql = both((("reserved", "disability"),))
    assert meili.facets["reserved"] == sql.facets["reserved"] == {"siae": 1, "disability": 1, "both": 1}
    assert meili.facets["kind"] == {"call_for_tenders": 1}
    assert both(())[0].facets["departments"] == {"59": 2, "75": 1, "13": 1}
    # the places that are a whole region or France (« catering » at reg:32 with a Paris lot, « waste » France-wide)
    assert both(())[0].facets["wide_places"] == both(())[1].facets["wide_places"] == {"reg:32": 1, "country:FR": 1}


def test_recent_sort_and_pages_agree(data, app_ctx):
    for args in ((("sort", "recent"), ("per_page", "2"), ("page", "2")), (("per_page", "4"), ("page", "2"))):
        meili, sql = both(args)
        assert [h["id"] for h in meili.hits] == [h["id"] for h in sql.hits]
        assert meili.count == sql.count == 6 and len(meili.hits) == 2


def test_closed_draft_expired_cancelled_never_appear(data, app_ctx):
    for args in ((), (("q", "nettoyage"),), (("territory", "dep:59"),)):
        for result in both(args):
            found = set(names(data, [h["id"] for h in result.hits]))
            assert not found & set(HIDDEN), (args, result.backend)
    assert sorted(int(d.id) for d in tenders_index().get_documents({"limit": 100}).results) == sorted(
        data[k] for k in ("green", "cleaning", "catering", "waste", "roads", "nowhere", "expired"))


def test_index_follows_publish_close_cancel_and_rectification(data, app_ctx):
    tender = db.session.get(Tender, data["draft"])
    tender.status, tender.published_at, tender.answers_deadline = "published", NOW, NOW + timedelta(days=3)
    db.session.commit()
    wait_for_pending()
    assert data["draft"] in [h["id"] for h in both((("q", "brouillon"),))[0].hits]
    tender = db.session.get(Tender, data["draft"])
    tender.lots[0].title = "Vitrerie"  # a lot edited: the lot's words are searchable
    db.session.commit()
    wait_for_pending()
    assert [h["id"] for h in both((("q", "vitrerie"),))[0].hits] == [data["draft"]]
    db.session.get(Tender, data["draft"]).status = "closed"
    db.session.get(Tender, data["cleaning"]).status = "cancelled"
    db.session.commit()
    wait_for_pending()
    found = [h["id"] for h in both(())[0].hits]
    assert data["draft"] not in found and data["cleaning"] not in found
    assert TENDERS.name and not tenders_index().get_documents({"filter": f"id = {data['cleaning']}"}).results


def test_reconcile_catches_a_change_the_index_missed(data, app_ctx):
    from sqlalchemy import text

    from marche.search.indexer import reconcile

    db.session.execute(text("update tender set status = 'closed' where id = :id"), {"id": data["green"]})
    db.session.execute(text("update tender set title = 'Espaces verts renommés', updated_at = now() where id = :id"),
                       {"id": data["roads"]})
    db.session.commit()
    assert reconcile(TENDERS) == (1, 1)
    hits = both(())[0].hits
    assert data["green"] not in [h["id"] for h in hits]
    assert [h["title"] for h in hits if h["id"] == data["roads"]] == ["Espaces verts renommés"]


@pytest.mark.parametrize("args, parameter", [
    ({"kind": "auction"}, "kind"), ({"reserved": "all"}, "reserved"), ({"clause": "x"}, "clause"),
    ({"cpv": "4"}, "cpv"), ({"cpv": "4500abcd"}, "cpv"), ({"territory": "dep:999"}, "territory"),
    ({"structure": "999999"}, "structure"), ({"structure": "abc"}, "structure"), ({"deadline_after": "31/12"},
                                                                                  "deadline_after"),
    ({"sector": "999999"}, "sector"), ({"page": "0"}, "page"), ({"q": "x" * 201}, "q"), ({"q": "a\x00b"}, "q"),
])
def test_bad_parameters_name_themselves(app_ctx, args, parameter):
    with pytest.raises(QueryError) as error:
        parse_tender_query(MultiDict(args))
    assert error.value.param == parameter


def test_page_lists_filters_and_shares_its_url(client, data):
    response = client.get("/consultations/recherche?reserved=siae&sort=recent")
    text = page_text(response)
    assert response.status_code == 200 and "2 consultations ouvertes" in text
    assert "Restauration collective" in text and "Nettoyage des locaux" in text and "Entretien des espaces verts" not in text
    assert "momentanément indisponible" not in text
    assert client.get("/consultations/recherche?kind=auction").status_code == 400
    assert "Carte des consultations" in page_text(client.get("/consultations/recherche?vue=carte"))


def test_the_map_lists_the_tenders_of_a_whole_region_or_of_france(client, data):
    """The map colours departments; a tender placed in a whole region or in France is listed beside it, with a link
    to the search limited to that place."""
    import html
    import re

    def wide_list(url: str) -> list[tuple[str, str]]:
        page = client.get(url).get_data(as_text=True)
        block = page.split('aria-labelledby="consultations-etendues">', 1)[1].split("</ul>", 1)[0]
        return [(html.unescape(href), re.sub(r"\s+", " ", html.unescape(re.sub("<[^>]+>", "", item))).strip())
                for href, item in re.findall(r'<li><a href="([^"]+)">(.*?)</li>', block, re.S)]

    assert wide_list("/consultations/recherche?vue=carte&kind=sourcing") == [
        ("/consultations/recherche?kind=sourcing&territory=country%3AFR", "France entière : 1 consultation")]
    everything = wide_list("/consultations/recherche?vue=carte")
    assert [text for _, text in everything] == ["France entière : 1 consultation", "Hauts-de-France : 1 consultation"]
    assert everything[1][0] == "/consultations/recherche?territory=reg%3A32"
    assert "Restauration collective" in page_text(client.get(everything[1][0]))
    assert "consultations-etendues" not in client.get("/consultations/recherche?vue=carte&kind=quote_request").get_data(
        as_text=True)



def test_meilisearch_failing_gives_sql_answers_and_the_banner(client, app, data):
    app.config["MEILI_URL"], url = "http://127.0.0.1:9", app.config["MEILI_URL"]
    try:
        response = client.get("/consultations/recherche?territory=dep:59")
        text = page_text(response)
        assert response.status_code == 200 and "momentanément indisponible" in text
        assert "4 consultations ouvertes" in text
    finally:
        app.config["MEILI_URL"] = url
