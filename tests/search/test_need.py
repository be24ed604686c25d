"""« Décrivez votre besoin »: the text read (place, duration, codes), CPV codes and sectors suggested by
Meilisearch and, when it is down, by SQL with the same top answers; the CPV → sectors table.

Expected answers are read from the reference files and tables in the test (labels, the table's rows),
never from the service under test."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from marche import create_app
from marche.extensions import db
from marche.reference.cpv_sectors import TABLE, rule_prefix, sector_ids, suggest_sectors
from marche.reference.models import CpvCode, Sector
from marche.search import catalogue, need

DATA = Path(__file__).resolve().parents[2] / "data"
#: need texts whose first suggestions both backends must agree on (README « Décrivez votre besoin »)
SAME_TOP = ["nettoyage de bureaux", "netoyage", "entretien des espaces verts des écoles de Roubaix, 3 ans",
            "traiteur", "élagage", "cantine scolaire", "restauration collective Lille 2 ans", "informatique",
            "90911200", "4521", "déchets"]


@pytest.fixture
def down_app(app_config, catalogue_index):
    """The same database, Meilisearch unreachable."""
    return create_app({**app_config, "MEILI_URL": "http://127.0.0.1:1"})


def suggest(app, text: str) -> need.NeedSuggestion:
    with app.test_request_context():
        return need.suggest_need(text)


def labels(found) -> list[str]:
    return [hit["label"] for hit in found.cpv]


def test_plain_words_give_place_duration_and_the_green_spaces_code(catalogue_index):
    found = suggest(catalogue_index, "entretien des espaces verts des écoles de Roubaix, 3 ans")
    assert found.backend == "meili"
    assert found.place is not None and found.place.ref == "commune:59512"
    assert found.duration_months == 36
    assert found.cpv[0]["code"] == "77310000-6"  # « Réalisation et entretien d'espaces verts »
    with catalogue_index.app_context():
        green = db.session.get(Sector, 23)
    assert green.name in [sector["name"] for sector in found.sectors]


@pytest.mark.parametrize("text, word", [("ménage des locaux", "nettoyage"), ("cantine", "cantine"),
                                        ("BTP", "travaux"), ("espaces verts", "espaces verts"),
                                        ("blanchisserie", "blanchisserie")])
def test_synonyms_find_the_catalogue_words(catalogue_index, text, word):
    found = suggest(catalogue_index, text)
    assert found.cpv and word in catalogue.normalize_search(found.cpv[0]["label"]) or \
        any(word in catalogue.normalize_search(label) for label in labels(found)[:3])


def test_ménage_finds_cleaning_through_the_synonym_table(catalogue_index):
    rows = list(csv.DictReader((DATA / "besoin_synonymes.csv").open(encoding="utf-8")))
    assert any(row["expression"] == "ménage" and row["equivalent"] == "nettoyage" for row in rows)
    assert any("nettoyage" in catalogue.normalize_search(label) for label in labels(suggest(catalogue_index, "ménage")))


def test_a_typo_still_finds_the_word(catalogue_index):
    found = suggest(catalogue_index, "netoyage de bureaux")
    assert found.cpv[0]["code"] == "90919200-4"  # Services de nettoyage de bureaux


def test_a_code_typed_is_that_code_and_a_prefix_its_descendants(catalogue_index):
    assert [hit["code"] for hit in suggest(catalogue_index, "90911200").cpv] == ["90911200-8"]
    assert [hit["code"] for hit in suggest(catalogue_index, "90911200-8").cpv] == ["90911200-8"]
    with catalogue_index.app_context():
        expected = list(db.session.scalars(select(CpvCode.code).where(CpvCode.code8.startswith("4521"))
                                           .order_by(CpvCode.code8).limit(need.CPV_LIMIT)))
    assert [hit["code"] for hit in suggest(catalogue_index, "4521").cpv] == expected


@pytest.mark.parametrize("text, months", [("3 ans", 36), ("36 mois", 36), ("deux ans", 24), ("1 an", 12),
                                          ("18 mois", 18), ("200 ans", None), ("0 mois", None), ("nettoyage", None)])
def test_the_duration_read(catalogue_index, text, months):
    assert suggest(catalogue_index, text).duration_months == months


@pytest.mark.parametrize("text", ["", "   ", "de la et", "\x00\x01", "zzzzqqqq", "é" * 2000, "'; DROP TABLE cpv_code; --",
                                  "(((", "\\m\\M", "[a-", ".*" * 50])
def test_any_text_answers_without_error(catalogue_index, text):
    found = suggest(catalogue_index, text)
    assert isinstance(found.cpv, list) and isinstance(found.sectors, list)


@pytest.mark.parametrize("text", SAME_TOP)
def test_both_backends_give_the_same_top_suggestions(catalogue_index, down_app, text):
    by_meili = suggest(catalogue_index, text)
    by_sql = suggest(down_app, text)
    assert by_meili.backend == "meili" and by_sql.backend == "sql"
    assert [hit["code"] for hit in by_meili.cpv[:2]] == [hit["code"] for hit in by_sql.cpv[:2]]
    assert by_meili.sectors[:1] == by_sql.sectors[:1]
    assert (by_meili.place, by_meili.duration_months) == (by_sql.place, by_sql.duration_months)


def test_the_index_is_up_to_date_after_a_build_and_stale_when_a_document_changes(catalogue_index):
    with catalogue_index.app_context():
        assert catalogue.up_to_date()
        index = catalogue.indexer.index_of(catalogue.CATALOGUE)
        task = index.update_documents([{"id": 90911200, "version": "old"}])
        catalogue.indexer._wait(task.task_uid)
        assert not catalogue.up_to_date()
        assert catalogue.indexer.reconcile(catalogue.CATALOGUE) == (1, 0)
        assert catalogue.up_to_date()


# --- the CPV → sectors table ------------------------------------------------------------------------

def table_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(TABLE.open(encoding="utf-8")))


def test_every_row_names_a_catalogue_code_and_a_sector_once(app_ctx):
    rows = table_rows()
    codes = set(db.session.scalars(select(CpvCode.code)))
    sectors = set(db.session.scalars(select(Sector.id)))
    assert len(rows) >= 100
    assert all(row["cpv_code"] in codes for row in rows)
    assert all(int(row["secteur_id"]) in sectors for row in rows)
    pairs = [(row["cpv_code"], row["secteur_id"]) for row in rows]
    assert len(pairs) == len(set(pairs))


def test_a_code_takes_the_sectors_of_its_most_precise_rule(app_ctx):
    rows = table_rows()
    by_prefix: dict[str, list[int]] = {}
    for row in rows:
        by_prefix.setdefault(rule_prefix(row["cpv_code"]), []).append(int(row["secteur_id"]))
    # 90919200 (nettoyage de bureaux): the class 9091 rule, not the group 909 one
    assert sector_ids("90919200-4") == tuple(by_prefix["9091"])
    assert sector_ids("90919200") == tuple(by_prefix["9091"])
    # 45262000 (a trade without its own rule): the division 45 rule
    assert sector_ids("45262000-1") == tuple(by_prefix["45"])
    assert sector_ids("01000000") == () and sector_ids("") == () and sector_ids("abc") == ()
    found = suggest_sectors(["90919200-4", "77310000-6", "90919200-4"])
    expected = list(dict.fromkeys(by_prefix["9091"] + by_prefix["7731"]))
    assert [sector.id for sector in found] == expected
    assert suggest_sectors([]) == []


@pytest.mark.parametrize("text, ref, codes", [("espaces verts 59", "dep:59", ()), ("4521", None, ("4521",)),
                                              ("nettoyage 59100", "commune:59512", ()),
                                              ("vitrerie Nice", "commune:06088", ()),
                                              ("45210000-2 travaux", None, ("45210000",))])
def test_a_number_beside_words_is_a_place_and_alone_the_start_of_a_code(app_ctx, text, ref, codes):
    read = need.read_need(text)
    assert (read.place.ref if read.place else None, read.query.codes) == (ref, codes)


def test_the_first_code_s_sector_named_by_the_words_comes_first(catalogue_index):
    found = suggest(catalogue_index, "nettoyage de bureaux")
    assert found.cpv[0]["code"] == "90919200-4"
    rows = [row for row in table_rows() if rule_prefix(row["cpv_code"]) == "9091"]
    with catalogue_index.app_context():
        expected = db.session.get(Sector, int(rows[0]["secteur_id"])).name
    assert found.sectors[0]["name"] == expected == "Nettoyage de locaux"
    # the words' own sectors follow, without repeats
    ids = [sector["id"] for sector in found.sectors]
    assert len(ids) == len(set(ids)) <= need.SECTORS_SHOWN


def test_words_no_entry_can_match_are_left_out_and_stop_words_too(app_ctx):
    read = need.read_need("xqzwv urgent pour le nettoyage des bureaux")
    assert read.query.q == "nettoyage bureaux"
    # a typo within the budget is kept (Meilisearch and SQL both tolerate it)
    assert need.read_need("netoyage").query.q == "netoyage"
    # the last word may be the start of a word being typed
    assert need.read_need("nettoyage de bur").query.q == "nettoyage bur"
