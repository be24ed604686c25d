"""Sectors deduced for imported structures: the tables in data/, the word rule, the « déduit » mark,
replacement on declaration, the claim's invitation, search ranking and the coverage the import reaches."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select, text

from marche.accounts.models import User
from marche.cli import DATA_DIR
from marche.extensions import db
from marche.reference.models import Sector
from marche.search import indexer, meili_backend, sql_backend
from marche.search.documents import structure_document
from marche.search.query import StructureQuery
from marche.suppliers.importer import import_esat, import_structures, sector_coverage
from marche.suppliers.inference import sector_ids_in_text
from marche.suppliers.models import Structure
from marche.suppliers.services import ProfileData, mark_sector_origin, update_profile
from tests.conftest import VALID_SIRETS, login, page_text, submit

SIAE = DATA_DIR / "structures_siae_geiq_ea.csv"
ESAT = DATA_DIR / "esat_finess.csv"
COLLECTERIE = "75187049400026"
PROFILE = f"/structures/{COLLECTERIE}"
#: sector ids of data/secteurs_lemarche.csv used below
NETTOYAGE_LOCAUX, ESPACES_VERTS, RECYCLAGE, MARAICHAGE, TRAITEUR, AUTRE_BTP = 8, 23, 138, 74, 30, 129
#: measured on the real files (README « Annuaire des structures inclusives »): the public lists carry
#: mostly generic NAF codes (action sociale, intérim, associations) and ESAT have no NAF at all
COVERAGE_FLOOR = 0.23


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- the tables -------------------------------------------------------------------------------------------

def test_naf_table_names_known_codes_and_sectors_once():
    naf_codes = {r["code_ape"] for r in rows(DATA_DIR / "naf_rev2.csv")}
    sector_ids = {r["secteur_id"] for r in rows(DATA_DIR / "secteurs_lemarche.csv")}
    table = rows(DATA_DIR / "naf_secteurs.csv")
    pairs = [(r["naf_code"], r["secteur_id"]) for r in table]
    assert {code for code, _ in pairs} <= naf_codes
    assert {sector for _, sector in pairs} <= sector_ids
    assert len(pairs) == len(set(pairs))
    assert all(r["note"].strip() for r in table)
    # far beyond the first 18 codes, and the generic codes of the lists stay without sector
    assert len({code for code, _ in pairs}) > 400
    assert not {"8899B", "9499Z", "7830Z", "7820Z", "8810C", "8411Z"} & {code for code, _ in pairs}


def test_word_table_names_known_sectors_once():
    sector_ids = {r["secteur_id"] for r in rows(DATA_DIR / "secteurs_lemarche.csv")}
    pairs = [(r["expression"], r["secteur_id"]) for r in rows(DATA_DIR / "secteurs_mots.csv")]
    assert {sector for _, sector in pairs} <= sector_ids
    assert len(pairs) == len(set(pairs))


@pytest.mark.parametrize("words, sector", [
    ("RECYCLERIE DU PAYS", RECYCLAGE),
    ("La Ressourcerie de Montreuil", RECYCLAGE),
    ("ENTRETIEN D'ESPACES VERTS ET NATURELS", ESPACES_VERTS),
    ("Espaces-verts 59", ESPACES_VERTS),           # hyphen and digits separate words
    ("Bâtiment Insertion", AUTRE_BTP),
    ("BATIMENTS ANCIENS", AUTRE_BTP),               # case, accents and plural folded
    ("Blanchisserie solidaire", 13),
    ("Traiteur, cuisine du monde", TRAITEUR),       # punctuation separates words
    ("Le jardin maraîcher", MARAICHAGE),            # maraîch… : any ending
    ("Les Maraîchères de l'Ouest", MARAICHAGE),
    ("Nettoyage", NETTOYAGE_LOCAUX),
    ("Atelier de menuiserie", 103),
    ("Déménagement solidaire", 37),
])
def test_telling_words_find_their_sector(words, sector):
    assert sector in sector_ids_in_text(words)


@pytest.mark.parametrize("words", [
    "Bâtir ensemble",          # « bâtir » is not « bâtiment »: a name that builds a future, not houses
    "ESAT LE BOIS JOLI",       # a place name, not woodwork
    "Vélodrome",               # whole words only: not « vélo »
    "Renettoyageur",           # not a word of the table
    "Association Tremplin",
    "ESAT DE LA RIVIERE",
    "",
])
def test_words_that_tell_nothing_find_no_sector(words):
    assert sector_ids_in_text(words) == ()


WORD_ROWS = rows(DATA_DIR / "secteurs_mots.csv")
#: filler words: lower-case letters that name no sector of the table (checked in the test)
FILLER = st.lists(st.text(alphabet="qwz", min_size=1, max_size=8), max_size=4).map(" ".join)


@given(row=st.sampled_from(WORD_ROWS), before=FILLER, after=FILLER)
def test_an_expression_is_found_wherever_it_stands(row, before, after):
    words = row["expression"].rstrip("*")
    assert sector_ids_in_text(before, after) == ()
    assert int(row["secteur_id"]) in sector_ids_in_text(f"{before} {words.upper()}, {after}")


@given(row=st.sampled_from(WORD_ROWS), glue=st.text(alphabet="qwz", min_size=1, max_size=3))
def test_an_expression_glued_to_other_letters_is_not_found(row, glue):
    """Whole words: « zrecyclerie » names nothing."""
    assert sector_ids_in_text(glue + row["expression"].rstrip("*")) == ()


# --- import, « déduit », declaration ---------------------------------------------------------------------

def write_rows(path: Path, changed: list[dict]) -> Path:
    source = rows(SIAE)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(source[0]))
        writer.writeheader()
        writer.writerows(changed)
    return path


def collecterie_row(**fields) -> dict:
    row = next(r for r in rows(SIAE) if r["siret"] == COLLECTERIE)
    return {**row, **fields}


def inferred_flags(structure_id: int) -> dict[int, bool]:
    return dict(db.session.execute(text("SELECT sector_id, inferred FROM structure_sector WHERE structure_id = :s"),
                                   {"s": structure_id}).all())


def test_import_deduces_sectors_from_naf_and_words_marked_inferred(app_ctx, tmp_path):
    path = write_rows(tmp_path / "one.csv", [collecterie_row(naf="8121Z", description="Ressourcerie à Montreuil")])
    import_structures(path)
    db.session.commit()
    structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE)).scalar_one()
    assert inferred_flags(structure.id) == {NETTOYAGE_LOCAUX: True, RECYCLAGE: True, 86: True}
    document = structure_document(structure, today=date(2026, 11, 30))
    assert set(document["sectors"]) == {NETTOYAGE_LOCAUX, RECYCLAGE, 86}
    assert document["declared_sectors"] == [] and document["sector_rank"] == 0

    # the next import follows the source and the tables again, since the sectors are still deduced
    import_structures(write_rows(tmp_path / "two.csv", [collecterie_row(naf="8130Z", description="Chantier d'insertion")]))
    db.session.commit()
    assert inferred_flags(structure.id) == {ESPACES_VERTS: True}


def test_a_generic_naf_and_no_telling_word_leave_no_sector(app_ctx, tmp_path):
    import_structures(write_rows(tmp_path / "one.csv", [collecterie_row(naf="8899B", description="")]))
    db.session.commit()
    structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE)).scalar_one()
    assert structure.sectors == []


def test_declared_sectors_replace_deduced_ones_and_imports_keep_them(app, app_ctx, tmp_path, make_user):
    owner = db.session.get(User, make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE))
    import_structures(write_rows(tmp_path / "one.csv", [collecterie_row(naf="8121Z", description="")]))
    db.session.commit()
    structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE)).scalar_one()
    structure.owner_organisation_id = owner.memberships[0].organisation_id
    # keeping a deduced sector and adding one: both become declared, the others disappear
    update_profile(owner, structure, ProfileData(
        name=structure.name, brand=structure.brand, description=None, website=None,
        sector_ids=[NETTOYAGE_LOCAUX, TRAITEUR], service_kinds=[], area_kind="radius", area_radius_km=50,
        area_refs_text="", employees_count=None, inclusion_workers_count=None, turnover_band=None))
    db.session.commit()
    assert inferred_flags(structure.id) == {NETTOYAGE_LOCAUX: False, TRAITEUR: False}
    assert structure.has_inferred_sectors is False
    assert {s.id for s in structure.declared_sectors} == {NETTOYAGE_LOCAUX, TRAITEUR}

    # an unclaimed profile whose sectors were declared (e.g. by an earlier owner) keeps them too
    structure.owner_organisation_id = None
    db.session.commit()
    import_structures(write_rows(tmp_path / "two.csv", [collecterie_row(naf="8130Z", description="")]))
    db.session.commit()
    assert inferred_flags(structure.id) == {NETTOYAGE_LOCAUX: False, TRAITEUR: False}


def test_claimed_profile_is_never_touched_by_the_import(app_ctx, tmp_path, make_user):
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE)
    import_structures(write_rows(tmp_path / "one.csv", [collecterie_row(naf="8121Z", description="")]))
    db.session.commit()
    structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE)).scalar_one()
    structure.owner_organisation_id = db.session.execute(
        text("SELECT id FROM organisation WHERE siret = :s"), {"s": COLLECTERIE}).scalar()
    db.session.commit()
    import_structures(write_rows(tmp_path / "two.csv", [collecterie_row(naf="8130Z", description="Traiteur")]))
    db.session.commit()
    assert inferred_flags(structure.id) == {NETTOYAGE_LOCAUX: True}


# --- the profile, the claim, the mail ----------------------------------------------------------------------

def claimed_by_nadia(app, make_user):
    """Nadia claims the Collecterie (e-mail on its domain), a platform admin approves: her logged-in client."""
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    nadia = app.test_client()
    login(nadia, "nadia@collecterie.fr")
    assert submit(nadia, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE).status_code == 302
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")
    with app.app_context():
        claim_id = db.session.execute(text("SELECT id FROM structure_claim")).scalar_one()
    assert submit(admin, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 302
    return nadia


def test_profile_marks_deduced_sectors_and_owners_are_invited_to_check_them(app, client, make_user, mailbox,
                                                                            tmp_path):
    with app.app_context():
        import_structures(write_rows(tmp_path / "one.csv", [collecterie_row(naf="8121Z", site_web="https://collecterie.fr",
                                                                          description="")]))
        db.session.commit()
    public = page_text(client.get(PROFILE))
    assert "Nettoyage de locaux" in public and "déduit" in public and "code NAF" in public
    assert "Vos secteurs ont été déduits" not in public  # the invitation is for the owners only

    nadia = claimed_by_nadia(app, make_user)
    mail = mailbox.body(mailbox.last_to("nadia@collecterie.fr"))
    assert "acceptée" in mail and "Vos secteurs ont été déduits" in mail and "Nettoyage de locaux" in mail

    assert "Vos secteurs ont été déduits" in page_text(nadia.get(PROFILE))
    assert "Vos secteurs ont été déduits" in page_text(nadia.get(f"{PROFILE}/modifier"))
    response = submit(nadia, f"{PROFILE}/modifier", {
        "name": "LA COLLECTERIE", "brand": "La Collecterie", "description": "", "website": "https://collecterie.fr",
        "sectors": [str(RECYCLAGE)], "service_kinds": ["prestation"], "area_kind": "radius", "area_radius_km": "50",
        "area_refs": "", "employees_count": "", "inclusion_workers_count": "", "turnover_band": ""})
    assert response.status_code == 302, page_text(response)
    edited = page_text(nadia.get(PROFILE))
    assert "Vos secteurs ont été déduits" not in edited and "déduit" not in edited
    assert "Autre (Recyclage)" in edited and "Nettoyage de locaux" not in edited


def test_approval_mail_says_nothing_of_sectors_when_none_is_deduced(app, make_user, make_structure, mailbox):
    make_structure(website="https://collecterie.fr")
    nadia = claimed_by_nadia(app, make_user)
    mail = mailbox.body(mailbox.last_to("nadia@collecterie.fr"))
    assert "acceptée" in mail and "déduits" not in mail
    assert "Vos secteurs ont été déduits" not in page_text(nadia.get(f"{PROFILE}/modifier"))


# --- search: found by sector, declared first -------------------------------------------------------------

def test_search_by_sector_finds_deduced_sectors_after_declared_ones(app_ctx, make_structure):
    ids = [make_structure(siret=VALID_SIRETS[i], name=f"Structure {i}") for i in range(4)]
    structures = [db.session.get(Structure, i) for i in ids]
    sector = db.session.get(Sector, NETTOYAGE_LOCAUX)
    for structure in structures[:3]:
        structure.sectors = [sector]
    mark_sector_origin([structures[0], structures[2]], inferred=True)  # the 1st and 3rd deduced, the 2nd declared
    db.session.commit()
    indexer.reindex_all()
    declared_first = [ids[1], ids[0], ids[2]]  # then by id, as without a sector filter
    for backend in (meili_backend, sql_backend):
        result = backend.search(StructureQuery(sectors=(NETTOYAGE_LOCAUX,)))
        assert [h["id"] for h in result.hits] == declared_first, backend.__name__
        assert result.facets["sectors"] == {str(NETTOYAGE_LOCAUX): 3}
        assert backend.search_ids(StructureQuery(sectors=(NETTOYAGE_LOCAUX,)), limit=10) == declared_first


# --- coverage on the real files --------------------------------------------------------------------------

def test_coverage_of_the_real_lists(app_ctx):
    import_structures(SIAE)
    import_esat(ESAT)
    db.session.commit()
    # counted here with plain SQL, not with the importer's counter
    counted = db.session.execute(text(
        "SELECT k, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM structure_sector ss WHERE ss.structure_id = s.id)), "
        "count(*) FROM structure s, unnest(s.kinds) AS k GROUP BY k")).all()
    covered = db.session.execute(text(
        "SELECT count(DISTINCT structure_id) FROM structure_sector")).scalar()
    total = db.session.execute(text("SELECT count(*) FROM structure")).scalar()
    coverage = sector_coverage()
    assert coverage.by_kind == {kind: (with_sector, all_) for kind, with_sector, all_ in counted}
    assert (coverage.with_sector, coverage.total) == (covered, total)
    assert covered / total >= COVERAGE_FLOOR
    every = db.session.execute(text("SELECT bool_and(inferred) FROM structure_sector")).scalar()
    assert every is True  # nothing was declared: every sector of an imported list is deduced
    lines = coverage.lines()
    assert lines[0].startswith("Couverture sectorielle") and any(line.strip().startswith("ESAT") for line in lines)


def test_import_command_prints_its_sector_coverage(app, tmp_path):
    staffing = next(r for r in rows(SIAE) if r["type"] == "AI" and r["naf"] == "7830Z" and not r["description"]
                    and not sector_ids_in_text(r["raison_sociale"], r["enseigne"]))
    path = write_rows(tmp_path / "two.csv", [collecterie_row(naf="8121Z", description=""), staffing])
    runner = app.test_cli_runner()
    output = runner.invoke(args=["marche", "import-structures", str(path)]).output
    assert "Couverture sectorielle, toutes fiches importées : 1 / 2 avec au moins un secteur (50,0 %)" in output
    assert "ACI : 1 / 1 avec au moins un secteur (100,0 %)" in output
    assert "AI : 0 / 1 avec au moins un secteur (0,0 %)" in output
    again = runner.invoke(args=["marche", "import-structures", str(path)]).output
    assert "déjà importé à l'identique" in again  # same file, same tables
