"""The SQL fallback's word vocabulary (structure_word, filled by a trigger) and the Meilisearch
multi-search that counts facets disjunctively, on structures created here."""
from __future__ import annotations

import pytest

from marche.extensions import db
from marche.search import meili_backend, sql_backend
from marche.search.query import StructureQuery
from marche.search.structures import index_structures
from marche.suppliers.models import Structure, StructureWord
from marche.suppliers.services import refresh_derived
from tests.conftest import VALID_SIRETS, truncate_tables

BACKENDS = (meili_backend, sql_backend)
SECOND_SIRET = next(siret for siret in VALID_SIRETS if siret != "75187049400026")


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Each test starts from empty tables (this package's conftest truncates only per module)."""
    yield
    truncate_tables(app)


def structure(name: str, siret: str, kinds=("ACI",), description: str | None = None, services=()) -> Structure:
    created = Structure(siret=siret, siren=siret[:9], name=name, kinds=list(kinds), city="Montreuil",
                        commune_code="93048", department_code="93", region_code="11", latitude=48.865,
                        longitude=2.455, source="test", area_kind="radius", area_radius_km=30, area_refs=[],
                        description=description, service_kinds=list(services))
    db.session.add(created)
    refresh_derived(created)
    db.session.commit()
    index_structures(db.session, [created.id], wait=True)
    return created


def counts(q: str, **filters) -> list[int]:
    return [backend.search(StructureQuery(q=q, **filters)).count for backend in BACKENDS]


def test_the_vocabulary_follows_the_texts(app_ctx):
    zorglub = structure("Atelier Zorglub", "75187049400026", description="Réparation de vélos (d.multiple).")
    assert db.session.get(StructureWord, "zorglub") is not None  # learnt on insert
    assert counts("zorglub") == [1, 1]
    assert counts("zorlgub") == [1, 1]  # a transposition, within the typo budget of 7 letters
    assert counts("zorg") == [1, 1]  # the last word as the start of a word
    assert counts("orglub") == [0, 0]  # never the inside of a word
    assert counts("d.multiple") == [1, 1]  # a word that spans words of the text: matched in the text itself
    zorglub.name = "Atelier Bidulon"
    refresh_derived(zorglub)
    db.session.commit()
    index_structures(db.session, [zorglub.id], wait=True)
    assert db.session.get(StructureWord, "bidulon") is not None  # learnt on update
    # the old word stays in the vocabulary but no structure holds it any more
    assert db.session.get(StructureWord, "zorglub") is not None
    assert counts("zorglub") == [0, 0] and counts("bidulon") == [1, 1]


def test_one_multi_search_counts_each_ticked_facet_without_its_filter(app_ctx):
    structure("Atelier Alpha", "75187049400026", kinds=("ACI",))
    structure("Atelier Beta", SECOND_SIRET, kinds=("EI",), services=("prestation",))
    query = StructureQuery(q="atelier", kinds=("ACI",), claimed=False)
    route, body = meili_backend.http_request(query)
    assert route == "/multi-search"
    main, *facet_queries = body["queries"]
    assert main["hitsPerPage"] == 20 and "kinds" not in main["facets"] and "claimed" not in main["facets"]
    assert [(q["facets"], q["hitsPerPage"]) for q in facet_queries] == [(["kinds"], 0), (["claimed"], 0)]
    assert all(q["q"] == "atelier" for q in facet_queries)
    for backend in BACKENDS:
        result = backend.search(query)
        assert result.count == 1, backend.__name__
        assert result.facets["kinds"] == {"ACI": 1, "EI": 1}, backend.__name__
        # ticked too: counted without its own filter but with the type's (the one ACI)
        assert result.facets["claimed"] == {"false": 1}, backend.__name__
        # not ticked: counted on the results (the EI's service is not among them)
        assert result.facets["services"] == {}, backend.__name__
    # nothing ticked: one plain search, as before
    assert meili_backend.http_request(StructureQuery(q="atelier"))[0].endswith("/search")
