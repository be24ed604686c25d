"""The search reads what people type: a place among the words, a SIRET with spaces, the order around a place.

Places are looked up in the real reference tables (35 000 communes); expected answers come from plain SQL
or from the snapshot's haversine (directory.py), never from the reading code.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from marche.extensions import db
from marche.search import indexer, meili_backend, sql_backend
from marche.search.query import QueryError, parse_query
from marche.search.reading import CONNECTORS, MAX_CANDIDATES, fold, read

from .directory import build_directory, haversine, snapshot

BACKENDS = (meili_backend, sql_backend)


@pytest.fixture(scope="module")
def snap(app):
    with app.app_context():
        build_directory()
        indexer.reindex_all()
        data = snapshot()
        db.session.remove()
    return data


def commune_code(name: str, department: str) -> str:
    return db.session.execute(text("SELECT code FROM commune WHERE name = :n AND department_code = :d "
                                   "AND kind = 'commune-actuelle'"), {"n": name, "d": department}).scalar_one()


def parsed(**args):
    return parse_query(MultiDict(args))


# --- reading the text ------------------------------------------------------------------------------

@pytest.mark.parametrize("typed,words,name,department", [
    ("nettoyage Lille", "nettoyage", "Lille", "59"),
    ("traiteur Roubaix", "traiteur", "Roubaix", "59"),
    ("nettoyage Villeneuve-d'Ascq", "nettoyage", "Villeneuve-d'Ascq", "59"),
    ("nettoyage villeneuve d ascq", "nettoyage", "Villeneuve-d'Ascq", "59"),
    ("NETTOYAGE VILLENEUVE-D’ASCQ", "NETTOYAGE", "Villeneuve-d'Ascq", "59"),
    ("Lille nettoyage de bureaux", "nettoyage de bureaux", "Lille", "59"),
    ("nettoyage à Lille", "nettoyage", "Lille", "59"),
    ("traiteur Saint-Étienne", "traiteur", "Saint-Étienne", "42"),
    ("blanchisserie Paris", "blanchisserie", "Paris", "75"),
    ("traiteur Lille 59", "traiteur", "Lille", "59"),
    ("traiteur 59000 Lille", "traiteur", "Lille", "59"),
])
def test_a_commune_name_in_the_text_becomes_the_territory(app_ctx, typed, words, name, department):
    reading = read(typed)
    assert reading.territory.ref == f"commune:{commune_code(name, department)}"
    assert reading.words == words


@pytest.mark.parametrize("typed,words,ref", [
    ("espaces verts 59", "espaces verts", "dep:59"),
    ("espaces verts Nord", "espaces verts", "dep:59"),
    ("recyclerie Pas-de-Calais", "recyclerie", "dep:62"),
    ("menuiserie 2A", "menuiserie", "dep:2A"),
    ("menuiserie 974", "menuiserie", "dep:974"),
])
def test_a_department_number_or_name_becomes_the_territory(app_ctx, typed, words, ref):
    reading = read(typed)
    assert (reading.territory.ref, reading.words) == (ref, words)


def test_a_postcode_becomes_its_commune_when_it_has_one(app_ctx):
    # 59650 is Villeneuve-d'Ascq's only postcode; 59350 is the postcode of Saint-André-lez-Lille (Lille's
    # INSEE code): what people type is a postcode
    for postcode in ("59650", "59350"):
        communes = db.session.execute(text("SELECT code FROM commune WHERE :p = ANY(postcodes) "
                                           "AND kind = 'commune-actuelle'"), {"p": postcode}).scalars().all()
        assert len(communes) == 1
        reading = read(f"nettoyage {postcode}")
        assert (reading.territory.ref, reading.words) == (f"commune:{communes[0]}", "nettoyage")


def test_a_postcode_shared_by_several_communes_asks_which(app_ctx):
    postcode, communes = db.session.execute(text(
        "SELECT p, array_agg(code) FROM commune, unnest(postcodes) AS p WHERE kind = 'commune-actuelle' "
        "GROUP BY p HAVING count(*) BETWEEN 3 AND 5 ORDER BY p LIMIT 1")).one()
    reading = read(f"traiteur {postcode}")
    assert reading.territory is None and reading.words == f"traiteur {postcode}"
    assert {c.ref for c in reading.candidates} == {f"commune:{code}" for code in communes}
    assert reading.candidate_words == "traiteur"


def test_a_name_shared_by_several_communes_is_not_picked_silently(app_ctx):
    rows = db.session.execute(text("SELECT code, department_code FROM commune WHERE search_name = 'saint martin' "
                                   "AND kind = 'commune-actuelle' ORDER BY population DESC NULLS LAST, code")).all()
    assert len(rows) > 1
    reading = read("menuiserie Saint-Martin")
    assert reading.territory is None
    assert reading.words == "menuiserie Saint-Martin"  # the words stay words
    # Saint-Martin is also a collectivity with its own department number (978)
    departments = db.session.execute(text("SELECT code FROM department WHERE search_name = 'saint martin'")).scalars()
    expected = [f"dep:{code}" for code in departments] + [f"commune:{code}" for code, _ in rows]
    assert [c.ref for c in reading.candidates] == expected[:MAX_CANDIDATES]
    labels = {f"commune:{code}": f"Saint-Martin ({department})" for code, department in rows}
    assert all(c.label == labels[c.ref] for c in reading.candidates if c.kind == "commune")
    assert reading.candidate_words == "menuiserie"
    # a department number typed beside it picks one
    code, department = rows[-1]
    beside = read(f"menuiserie Saint-Martin {department}")
    assert (beside.territory.ref, beside.words) == (f"commune:{code}", "menuiserie")


def test_a_commune_that_is_also_a_department_name_asks_which(app_ctx):
    # Vienne is a commune of Isère (38) and a department (86)
    reading = read("traiteur Vienne")
    assert reading.territory is None
    assert {"dep:86", f"commune:{commune_code('Vienne', '38')}"} <= {c.ref for c in reading.candidates}


def test_search_words_are_never_read_as_places(app_ctx):
    # each is the exact name of a commune, and a word people search for what it means
    for word in ("Bois", "École", "Vert"):
        assert db.session.execute(text("SELECT count(*) FROM commune WHERE search_name = :n"),
                                  {"n": fold(word)}).scalar() >= 1
        reading = read(f"menuiserie {word}")
        assert reading.territory is None and not reading.candidates and reading.words == f"menuiserie {word}"
    # nor a procurement word that is also a department: « lot 2 » is a lot of a tender, not the Lot
    assert db.session.execute(text("SELECT name FROM department WHERE code = '46'")).scalar() == "Lot"
    reading = read("nettoyage lot 2")
    assert reading.territory is None and not reading.candidates and reading.words == "nettoyage lot 2"
    # a name of fewer than 3 letters neither (Y, in the Somme; Eu, in Seine-Maritime)
    assert read("Y").territory is None and read("traiteur Eu").territory is None


def test_text_without_a_place_is_left_as_typed(app_ctx):
    for typed in ("nettoyage de locaux", "ESAT", "menuiserie bois", "  ", "0", "99999", "2C"):
        reading = read(typed)
        assert reading.territory is None and reading.words == typed.strip() and not reading.candidates


def test_no_place_is_read_when_a_territory_is_chosen(app_ctx):
    query = parsed(q="nettoyage Lille", territory="dep:62")
    assert (query.q, query.territory) == ("nettoyage Lille", "dep:62")
    assert parsed(q="nettoyage Lille", literal="1").territory is None
    assert parsed(q="nettoyage Lille", literal="1").q == "nettoyage Lille"


@pytest.mark.parametrize("typed,digits", [
    ("123 456 789 00012", "12345678900012"),
    ("123.456.789", "123456789"),
    ("123-456-789-00012", "12345678900012"),
    ("123\u00a0456\u00a0789", "123456789"),
])
def test_a_siret_or_siren_typed_with_separators_is_read_as_its_digits(app_ctx, typed, digits):
    reading = read(typed)
    assert (reading.words, reading.identifier, reading.territory) == (digits, True, None)


@pytest.mark.parametrize("typed", ["123 456 789 0001A", "123 456 78", "1234 5678 9012 3456"])
def test_not_quite_an_identifier_stays_words(app_ctx, typed):
    assert read(typed).identifier is False


def test_the_lookup_is_indexed_and_fast(app_ctx):
    read("nettoyage Lille")  # warm: departments and sector words are read once per process
    texts = ("nettoyage Lille", "espaces verts 59", "traiteur Saint-Martin", "menuiserie bois et métal "
             "Villeneuve-d'Ascq", "a b c d e f g h i j k l")
    started = time.perf_counter()
    for typed in texts:
        begun = time.perf_counter()
        read(typed)
        print(f"reading « {typed[:30]} »: {(time.perf_counter() - begun) * 1000:.1f} ms")
    per_text_ms = (time.perf_counter() - started) * 1000 / len(texts)
    assert per_text_ms < 50, per_text_ms  # measured ~1-3 ms on a quiet machine
    plan = "\n".join(db.session.execute(text(
        "EXPLAIN SELECT code FROM commune WHERE search_name IN ('lille', 'nettoyage lille')")).scalars())
    assert "Index" in plan and "Seq Scan" not in plan


words_and_places = st.lists(st.one_of(
    st.text(min_size=1, max_size=12).filter(lambda w: w.strip() == w and " " not in w and w),
    st.sampled_from(["Lille", "Roubaix", "59", "2A", "Saint-Martin", "Villeneuve-d'Ascq", "à", "59650",
                     "nettoyage", "Nord", "Paris", "bois", "Vienne", "de", "Pas-de-Calais"])), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=words_and_places)
def test_reading_never_raises_and_never_loses_a_word_that_is_not_the_place(app_ctx, words):
    typed = " ".join(words)
    reading = read(typed)
    tokens, kept = typed.split(), reading.words.split()
    if reading.identifier:
        return
    if reading.territory is None:
        assert kept == tokens
        return
    # the words left are the typed ones in order, less one run (the place, maybe a connector before it
    # and a department number or postcode beside it)
    position = 0
    removed: list[str] = []
    for token in tokens:
        if position < len(kept) and kept[position] == token:
            position += 1
        else:
            removed.append(token)
    assert position == len(kept)
    assert removed and all(fold(t) for t in removed)
    assert len([t for t in removed if fold(t) not in CONNECTORS]) >= 1


# --- the query: parse, API-independent ------------------------------------------------------------

def test_the_read_place_is_a_covers_territory_with_distance_order(app_ctx):
    query = parsed(q="nettoyage Lille")
    lille = commune_code("Lille", "59")
    assert (query.q, query.territory, query.territory_mode) == ("nettoyage", f"commune:{lille}", "covers")
    assert (query.sort, query.default_sort) == ("distance", True)
    # the shareable URL repeats what was typed, not what was read: page 2 reads it again
    assert query.to_args() == [("q", "nettoyage Lille")]
    assert parsed(q="nettoyage Lille", sort="relevance").sort == "relevance"
    assert parsed(q="nettoyage").sort == "relevance"
    assert parsed(territory="dep:59").sort == "distance"


def test_sort_by_distance_without_any_place_names_the_parameter(app_ctx):
    with pytest.raises(QueryError) as error:
        parsed(q="nettoyage", sort="distance")
    assert error.value.param == "sort"


# --- both backends --------------------------------------------------------------------------------

def covers(snap, row, code: str) -> bool:
    commune = snap.communes[code]
    if row["area_kind"] == "country":
        return True
    if row["area_kind"] == "territories":
        return bool({f"commune:{code}", f"dep:{commune['department_code']}", f"reg:{commune['region_code']}",
                     "country:FR"} & set(row["area_refs"]))
    return row["latitude"] is not None and row["area_radius_km"] is not None and haversine(
        commune["latitude"], commune["longitude"], row["latitude"], row["longitude"]) <= row["area_radius_km"]


@pytest.mark.parametrize("backend", BACKENDS, ids=["meilisearch", "sql"])
def test_a_place_in_the_text_filters_and_orders_by_distance(app_ctx, snap, backend):
    lille = commune_code("Lille", "59")
    centre = snap.communes[lille]
    query = parsed(q="Lille", per_page="100")  # only the place: every structure that can work in Lille
    assert query.q == "" and query.territory == f"commune:{lille}"
    result = backend.search(query)
    expected = {i for i, row in snap.rows.items() if covers(snap, row, lille)}
    assert result.count == len(expected) > 30
    distances = [haversine(centre["latitude"], centre["longitude"], h["latitude"], h["longitude"])
                 if h["latitude"] is not None else float("inf") for h in result.hits]
    assert distances == sorted(distances)
    assert {h["id"] for h in result.hits} <= expected
    shown = [h["distance_km"] for h in result.hits if h["latitude"] is not None]
    assert shown == [round(d, 1) for d in distances if d != float("inf")]


@pytest.mark.parametrize("backend", BACKENDS, ids=["meilisearch", "sql"])
def test_can_work_in_the_nord_shows_the_structures_based_in_the_nord_first(app_ctx, snap, backend):
    query = parsed(territory="dep:59", per_page="50")
    based = {i for i, r in snap.rows.items() if r["department_code"] == "59"}
    total = backend.search(query).count
    seen: list[dict] = []
    page = 1
    while len(seen) < total and page < 200:
        seen += backend.search(parse_query(MultiDict({"territory": "dep:59", "per_page": "50",
                                                      "page": str(page)}))).hits
        page += 1
    assert len(seen) == total == len({h["id"] for h in seen})
    flags = [h["id"] in based for h in seen]
    first_elsewhere = flags.index(False)
    assert all(flags[:first_elsewhere]) and not any(flags[first_elsewhere:])
    assert first_elsewhere == len(based & {h["id"] for h in seen}) > 0
    assert query.sort == "distance"


def test_both_backends_give_the_same_order_around_a_place(app_ctx, snap):
    for args in ({"territory": "dep:59", "per_page": "40", "page": "2"}, {"q": "Roubaix", "per_page": "40"},
                 {"q": "Lille", "kind": "ACI", "per_page": "30"}):
        meili, sql = (backend.search(parse_query(MultiDict(args))) for backend in BACKENDS)
        assert meili.count == sql.count > 0
        key = [(h["department"], h.get("distance_km"), round(h["latitude"] or 0, 5)) for h in meili.hits]
        assert key == [(h["department"], h.get("distance_km"), round(h["latitude"] or 0, 5)) for h in sql.hits]


@pytest.mark.parametrize("backend", BACKENDS, ids=["meilisearch", "sql"])
def test_a_siret_typed_with_spaces_finds_its_structure(app_ctx, snap, backend):
    siret = db.session.execute(text("SELECT siret FROM structure WHERE siret IS NOT NULL ORDER BY id LIMIT 1")).scalar()
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    for typed in (spaced, f"{siret[:3]}.{siret[3:6]}.{siret[6:9]}"):
        result = backend.search(parsed(q=typed))
        assert siret in [h["siret"] for h in result.hits], typed
    assert backend.search(parsed(q=spaced, literal="1")).count == 0


# --- the page -------------------------------------------------------------------------------------

def test_the_page_shows_the_read_place_as_a_chip_and_every_filter_as_one(client, snap):
    lille = client.get("/structures?q=nettoyage+Lille")
    html = lille.get_data(as_text=True)
    assert lille.status_code == 200
    assert 'aria-label="Retirer le filtre Peut intervenir à : Lille (59)"' in html
    assert "Rechercher « nettoyage Lille » littéralement" in html
    assert 'href="/structures?q=nettoyage+Lille&amp;literal=1"' in html
    # removing the place searches the words alone, as typed
    assert 'href="/structures?q=nettoyage&amp;literal=1" aria-label="Retirer le filtre Peut intervenir à' in html
    assert 'value="nettoyage Lille"' in html and 'id="territory" name="territory" value=""' in html

    every = client.get("/structures?kind=EI&sector=1&territory=dep:59&territory_mode=located&near=commune:59350"
                       "&radius_km=10&env=iso14001&service=prestation&size=lt10&zrr=1&has_references=0&claimed=1")
    html = every.get_data(as_text=True)
    assert every.status_code == 200
    chips = html.count('aria-label="Retirer le filtre ')
    assert chips == 10 and "Filtres (10)" in html  # near and its radius are one
    assert 'aria-label="Retirer le filtre Implantée sur : Nord (59)"' in html
    assert 'aria-label="Retirer le filtre À moins de 10 km de Lille (59)"' in html
    # the territory chip's link drops the territory and its mode, and keeps every other filter
    start = html.index('aria-label="Retirer le filtre Implantée sur')
    link = html[html.rindex('href="', 0, start) + 6:start - 2]
    assert "territory" not in link and "kind=EI" in link and "claimed=1" in link and "near=commune" in link


def test_the_page_asks_which_place_a_shared_name_means(app_ctx, client, snap):
    html = client.get("/structures?q=menuiserie+Saint-Martin").get_data(as_text=True)
    assert "Vouliez-vous dire :" in html
    places = db.session.execute(text("SELECT (SELECT count(*) FROM department WHERE search_name = 'saint martin') "
                                     "+ (SELECT count(*) FROM commune WHERE search_name = 'saint martin' "
                                     "AND kind = 'commune-actuelle')")).scalar()
    assert html.count('href="/structures?q=menuiserie&amp;territory=') == min(places, MAX_CANDIDATES) > 1
    assert "Saint-Martin (67)" in html


@pytest.mark.parametrize("q", ["Lille " * 500_000, "   ", "123 456 789 0001A", "Saint-Martin " * 15, "à"])
def test_bad_text_on_the_page_never_answers_500(client, snap, q):
    answer = client.get("/structures", query_string={"q": q})
    assert answer.status_code in (200, 400)
    if len(q) > 200:
        assert answer.status_code == 400 and "limitée à 200 caractères" in answer.get_data(as_text=True)
