"""« Secteurs à compléter » (issue 18 item 1): the facilitator of a territory, or the operator's sector file,
gives sectors to the unclaimed profiles the public lists leave without a trade. Who may, on which profiles,
what the profile then says, what the import of the public lists and the structure's own edit do after."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from marche.accounts.models import User
from marche.core.dates import today
from marche.core.errors import DomainError
from marche.core.imports import ImportRejected
from marche.core.models import AuditEntry
from marche.extensions import db
from marche.reference.models import Sector
from marche.suppliers import completion
from marche.suppliers.importer import Row, upsert
from marche.suppliers.models import Structure, structure_sector
from marche.suppliers.services import ProfileData, mark_sector_origin, update_profile
from tests.conftest import VALID_SIRETS, csrf_token, login, page_text, submit

LIST = "/animation/secteurs"
LILLE = {"commune": "59350", "department": "59", "region": "32", "lat": 50.63, "lon": 3.06}
S = {"none": VALID_SIRETS[1], "deduced": VALID_SIRETS[2], "other_dep": VALID_SIRETS[3], "claimed": VALID_SIRETS[4],
     "given": VALID_SIRETS[5], "esat": VALID_SIRETS[6]}


def sector(name: str) -> Sector:
    return db.session.execute(select(Sector).where(Sector.name == name)).scalar_one()


def structure(siret: str) -> Structure:
    return db.session.execute(select(Structure).where(Structure.siret == siret)).scalar_one()


@pytest.fixture
def world(app, make_user, make_structure):
    """Profiles of the Nord and of Seine-Saint-Denis; verified facilitators of each; a buyer; a structure's member."""
    make_structure(siret=S["none"], name="Chantier Sans Secteur", kinds=("ACI",), **LILLE)
    make_structure(siret=S["deduced"], name="Régie Déduite", kinds=("EI", "ACI"), naf_code="8121Z", **LILLE)
    make_structure(siret=S["other_dep"], name="Atelier de Montreuil")
    make_structure(siret=S["claimed"], name="Fiche Revendiquée", kinds=("ACI",), **LILLE)
    make_structure(siret=S["given"], name="Déjà Renseignée", kinds=("AI",), **LILLE)
    make_structure(siret=S["esat"], name="ESAT des Dunes", kinds=("ESAT",), **LILLE)
    make_user("plie59@example.fr", kind="facilitator", siret=VALID_SIRETS[44], name="PLIE 59")
    make_user("plie93@example.fr", kind="facilitator", siret=VALID_SIRETS[46], name="PLIE 93")
    make_user("achat@ville.fr")
    make_user("aci@claimed.fr", kind="inclusive_structure", siret=S["claimed"], name="Fiche Revendiquée")
    make_user("admin@marche.fr", admin=True)
    with app.app_context():
        db.session.execute(db.text(
            "update organisation set verification_status = 'verified', territories = case when siret = :a "
            "then '{dep:59}'::varchar[] else '{dep:93}'::varchar[] end where kind = 'facilitator'"),
            {"a": VALID_SIRETS[44]})
        deduced = structure(S["deduced"])
        deduced.sectors = [sector("Nettoyage de locaux")]
        mark_sector_origin([deduced], inferred=True)
        claimed = structure(S["claimed"])
        claimed.owner_organisation_id = db.session.execute(db.text(
            "select id from organisation where siret = :s"), {"s": S["claimed"]}).scalar_one()
        given = structure(S["given"])
        given.sectors = [sector("Manutention")]
        given.sectors_given_by, given.sectors_given_on = "Réseau X", today()
        db.session.commit()
    clients = {}
    for name, email in (("near", "plie59@example.fr"), ("far", "plie93@example.fr"), ("buyer", "achat@ville.fr"),
                        ("owner", "aci@claimed.fr"), ("admin", "admin@marche.fr")):
        clients[name] = app.test_client()
        login(clients[name], email)
    clients["anonymous"] = app.test_client()
    return clients


def listed(client, query: str = "") -> list[str]:
    html = client.get(LIST + query).get_data(as_text=True)
    block = html.split('id="fiches-a-completer"', 1)[1].split("</ul>", 1)[0] if 'id="fiches-a-completer"' in html else ""
    return re.findall(r"<strong>([^<]+)</strong>", block)


def test_the_list_holds_the_unclaimed_profiles_of_the_territory_without_sectors_of_their_own(world):
    # those without any sector come first, then those whose sectors are only deduced
    assert listed(world["near"]) == ["Chantier Sans Secteur", "ESAT des Dunes", "Régie Déduite"]
    assert listed(world["far"]) == ["Atelier de Montreuil"]
    assert listed(world["admin"]) == ["Chantier Sans Secteur", "ESAT des Dunes", "Atelier de Montreuil",
                                      "Régie Déduite"]  # by department (59, then 93), then name
    assert listed(world["near"], "?statut=deduits") == ["Régie Déduite"]
    assert listed(world["near"], "?statut=aucun&kind=ACI") == ["Chantier Sans Secteur"]
    assert listed(world["near"], "?kind=ESAT") == ["ESAT des Dunes"]
    # an unknown filter value is ignored, an absurd page is the last one: never an error page
    assert listed(world["near"], "?kind=<b>&statut=x&dep=zz&page=99999999") == listed(world["near"])
    assert listed(world["near"], "?page=²") == listed(world["near"], "?page=-1") == listed(world["near"])
    for who in ("buyer", "owner"):
        assert world[who].get(LIST).status_code == 404, who
    assert world["anonymous"].get(LIST).status_code == 302


def test_the_coverage_counts_each_kind_of_the_territory(world, app):
    html = world["near"].get(LIST).get_data(as_text=True)
    table = html.split('id="couverture"', 1)[1].split("</table>", 1)[0]
    rows = {m[0]: [int(n) for n in m[1:3]] + [int(m[4])]
            for m in re.findall(r"<th scope=\"row\">(\w+) —[^<]*</th><td>(\d+)</td><td>(\d+)</td><td>([^<]*)</td>"
                                r"<td>(\d+)</td>", table)}
    # Nord: ACI = none, deduced (EI+ACI), claimed; EI = deduced; AI = given; ESAT = esat; Montreuil is not counted
    assert rows == {"ACI": [3, 1, 0], "EI": [1, 1, 0], "AI": [1, 1, 1], "ESAT": [1, 0, 0]}


def test_choosing_sectors_replaces_the_deduced_ones_and_the_profile_says_who_gave_them(world, app):
    with app.app_context():
        ids = [sector("Création et entretien des espaces verts").id, sector("Nettoyage urbain").id]
    url = f"{LIST}/{S['deduced']}"
    assert "Nettoyage de locaux (déduit)" in page_text(world["near"].get(url))
    done = submit(world["near"], url, {"sectors": ids})
    assert done.status_code == 302 and done.headers["Location"].endswith(LIST)
    with app.app_context():
        saved = structure(S["deduced"])
        assert sorted(s.id for s in saved.sectors) == sorted(ids) and saved.inferred_sectors == []
        assert (saved.sectors_given_by, saved.sectors_given_on) == ("PLIE 59 (facilitateur du territoire)", today())
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.sectors_given")).scalar_one()
        assert entry.details["after"] == sorted(ids)
    profile = page_text(world["buyer"].get(f"/structures/{S['deduced']}"))
    assert "Secteurs renseignés par PLIE 59 (facilitateur du territoire) le " + today().strftime("%d/%m/%Y") in profile
    assert "déduit" not in profile
    assert "8121Z — Nettoyage courant des bâtiments" in profile  # the NAF code read out
    assert "Régie Déduite" not in listed(world["near"])


def test_only_the_territorys_facilitator_and_the_admins_choose_and_never_on_a_claimed_profile(world, app):
    with app.app_context():
        ids = [sector("Manutention").id]
    for who, siret in (("far", S["none"]), ("buyer", S["none"]), ("owner", S["none"]), ("near", S["other_dep"]),
                       ("near", S["claimed"]), ("admin", S["claimed"])):
        assert world[who].get(f"{LIST}/{siret}").status_code == 404, (who, siret)
        assert submit(world[who], f"{LIST}/{siret}", {"sectors": ids}, form_url="/").status_code in (400, 404)
    assert submit(world["admin"], f"{LIST}/{S['other_dep']}", {"sectors": ids}).status_code == 302
    with app.app_context():
        assert structure(S["other_dep"]).sectors_given_by == "l'équipe de la plateforme"
        assert structure(S["none"]).sectors == [] and structure(S["claimed"]).sectors == []
        with pytest.raises(DomainError, match="elle seule"):  # the service says so even to an admin
            completion.give_sectors(_admin(), structure(S["claimed"]), ids)


def _admin(email: str = "admin@marche.fr") -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def test_bad_choices_are_answered_beside_the_field_and_change_nothing(world, app):
    url = f"{LIST}/{S['none']}"
    empty = submit(world["near"], url, {})
    assert empty.status_code == 400 and "Choisissez au moins un secteur." in page_text(empty)
    unknown = submit(world["near"], url, {"sectors": ["99999"]})
    assert unknown.status_code == 400
    letters = submit(world["near"], url, {"sectors": ["1 OR 1=1"]})
    assert letters.status_code == 400
    assert world["near"].post(url, data={"sectors": [sector_id(app)]}).status_code == 400  # no CSRF token
    with app.app_context():
        assert structure(S["none"]).sectors == []


def sector_id(app, name: str = "Manutention") -> int:
    with app.app_context():
        return sector(name).id


def test_save_and_go_on_opens_the_next_profile_until_none_is_left(world, app):
    ids = [sector_id(app)]
    first = submit(world["near"], f"{LIST}/{S['none']}", {"sectors": ids, "suivante": "1"})
    assert first.headers["Location"].endswith(f"{LIST}/{S['esat']}")
    second = submit(world["near"], f"{LIST}/{S['esat']}", {"sectors": ids, "suivante": "1"})
    assert second.headers["Location"].endswith(f"{LIST}/{S['deduced']}")
    last = submit(world["near"], f"{LIST}/{S['deduced']}", {"sectors": ids, "suivante": "1"})
    assert last.headers["Location"].endswith(LIST)
    assert listed(world["near"]) == []


def test_the_public_list_import_keeps_given_sectors_and_the_structures_own_edit_replaces_them(world, app):
    submit(world["near"], f"{LIST}/{S['none']}", {"sectors": [sector_id(app, "Blanchisserie")]})
    with app.app_context():
        row = Row(line=2, siret=S["none"], finess=[], name="Chantier Sans Secteur", brand=None, kinds={"ACI"},
                  address=None, postcode="59000", city="Lille", commune_code="59350", department_code="59",
                  latitude=50.63, longitude=3.06, naf_code="8130Z", description="espaces verts et recyclerie")
        upsert([row], "import:test")
        db.session.commit()
        kept = structure(S["none"])
        assert [s.name for s in kept.sectors] == ["Blanchisserie"] and kept.inferred_sectors == []
        # once claimed, the structure's own profile replaces them, and the mark goes
        kept.owner_organisation_id = db.session.execute(db.text(
            "select id from organisation where siret = :s"), {"s": S["claimed"]}).scalar_one()
        update_profile(_admin(), kept, ProfileData(
            name=kept.name, brand=None, description=None, website=None, sector_ids=[sector("Repassage").id],
            service_kinds=[], area_kind="radius", area_radius_km=30, area_refs_text="", employees_count=None,
            inclusion_workers_count=None, turnover_band=None))
        db.session.commit()
        mine = structure(S["none"])
        assert [s.name for s in mine.sectors] == ["Repassage"]
        assert (mine.sectors_given_by, mine.sectors_given_on, mine.sectors_to_check) == (None, None, False)


# --- the operator's sector file -------------------------------------------------------------------------

def sector_file(*lines: str) -> bytes:
    return ("SIRET;Secteurs\n" + "\n".join(lines) + "\n").encode("utf-8")


def test_a_sector_file_completes_what_it_may_and_reports_each_line_it_leaves(world, app):
    unknown_siret = VALID_SIRETS[30]
    data = sector_file(
        f"{S['none'][:3]} {S['none'][3:6]} {S['none'][6:9]} {S['none'][9:]};BLANCHISSERIE ||  | repassage",
        f"{S['deduced']};Nettoyage urbain",
        f"{S['other_dep']};Manutention",
        f"{S['claimed']};Manutention",
        f"{S['given']};Manutention",
        f"{unknown_siret};Manutention",
        f"{S['none']};Traiteur",
        f"{S['esat']};",
        f"{S['esat']}; | ;")
    with app.app_context():
        report = completion.import_sector_file(_admin("plie59@example.fr"), data, "Réseau des blanchisseries, liste du 01/11/2026")
        db.session.commit()
        assert (report.updated, report.unchanged, report.blank) == (2, 0, 2)  # empty « Secteurs »: left
        reasons = "\n".join(report.skipped)
        assert f"ligne 4 : SIRET {S['other_dep']} : hors de vos territoires" in reasons
        assert f"ligne 5 : SIRET {S['claimed']} : fiche gérée par la structure" in reasons
        assert (f"ligne 6 : SIRET {S['given']} : secteurs déjà renseignés par Réseau X le "
                f"{today().strftime('%d/%m/%Y')}, laissés") in reasons
        assert f"ligne 7 : SIRET {unknown_siret} absent de l'annuaire" in reasons
        assert f"ligne 8 : SIRET {S['none']} déjà lu plus haut" in reasons
        assert len(report.skipped) == 5
        assert [s.name for s in structure(S["none"]).sectors] == ["Blanchisserie", "Repassage"]
        assert structure(S["none"]).sectors_given_by == "Réseau des blanchisseries, liste du 01/11/2026"
        assert structure(S["deduced"]).inferred_sectors == []
        assert structure(S["other_dep"]).sectors == [] and structure(S["claimed"]).sectors == []
        assert [s.name for s in structure(S["given"]).sectors] == ["Manutention"]
        # the same source may correct itself; read again, what it says already is unchanged
        again = completion.import_sector_file(None, sector_file(f"{S['deduced']};Nettoyage urbain",
                                                                f"{S['none']};Repassage"),
                                              "Réseau des blanchisseries, liste du 01/11/2026")
        assert (again.updated, again.unchanged) == (1, 1)
        assert [s.name for s in structure(S["none"]).sectors] == ["Repassage"]


def test_a_wrong_line_rejects_the_whole_file_naming_each_line(world, app):
    data = sector_file(f"{S['none']};Blanchisserie", f"{S['deduced']};Plomberie | Astronautique",
                       "12 34;Manutention", ";Manutention")
    with app.app_context():
        with pytest.raises(ImportRejected) as rejected:
            completion.import_sector_file(None, data, "Source")
        messages = [str(e) for e in rejected.value.errors]
        assert messages[0].startswith("ligne 3, colonne « Secteurs » : secteur inconnu : « Astronautique »")
        assert messages[1].startswith("ligne 4, colonne « SIRET » : « 12 34 » n'est pas un SIRET")
        assert messages[2] == "ligne 5, colonne « SIRET » : valeur manquante"
        assert len(messages) == 3
        db.session.rollback()
        assert structure(S["none"]).sectors == []
        with pytest.raises(DomainError, match="Indiquez d'où viennent"):
            completion.import_sector_file(None, data, "   ")
        with pytest.raises(DomainError, match="120 caractères"):
            completion.import_sector_file(None, data, "x" * 121)
        assert completion.clean_source("  x " * 30 + "y") == ("x " * 30).strip() + " y"  # spaces folded: 62
        assert completion.clean_source("x" * 120) == "x" * 120
        # a sector's slug or number names it too
        names = completion.SectorNames()
        assert names.parse(f"nettoyage-de-locaux ; {sector('Manutention').id}") == [sector("Nettoyage de locaux"),
                                                                                    sector("Manutention")]


def test_the_sector_file_through_the_page(world, app):
    token_page = world["near"].get(LIST).get_data(as_text=True)

    def send(data: bytes, source: str = "Réseau <script>alert(1)</script>"):
        return world["near"].post(f"{LIST}/fichier", data={
            "csrf_token": csrf_token(token_page), "source": source,
            "file": (io.BytesIO(data), "secteurs.csv")}, content_type="multipart/form-data")

    refused = send(sector_file(f"{S['none']};Astronautique"))
    assert refused.status_code == 400
    assert "ligne 2, colonne « Secteurs » : secteur inconnu : « Astronautique »" in page_text(refused)
    no_source = send(sector_file(f"{S['none']};Repassage"), source="")
    assert no_source.status_code == 400 and "Ce champ est obligatoire." in page_text(no_source)
    done = send(sector_file(f"{S['none']};Repassage", f"{S['other_dep']};Repassage"))
    assert done.status_code == 200 and "fiches complétées : 1" in page_text(done)
    assert "hors de vos territoires" in page_text(done)
    profile = world["anonymous"].get(f"/structures/{S['none']}").get_data(as_text=True)
    assert "Réseau &lt;script&gt;alert(1)&lt;/script&gt;" in profile and "<script>alert(1)" not in profile
    assert submit(world["buyer"], f"{LIST}/fichier", {"source": "x"}, form_url="/").status_code == 404
    template = world["near"].get(f"{LIST}/modele-secteurs.csv")
    assert template.status_code == 200 and "SIRET" in template.get_data(as_text=True)


def test_the_command_line_reads_a_sector_file(world, app, tmp_path):
    path = tmp_path / "secteurs.csv"
    path.write_bytes(sector_file(f"{S['none']};Repassage", f"{S['other_dep']};Repassage"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["marche", "import-sectors", str(path), "--source", "Liste des ressourceries"])
    assert result.exit_code == 0, result.output
    assert "fiches complétées : 2" in result.output and "Couverture sectorielle" in result.output
    path.write_bytes(sector_file(f"{S['esat']};Astronautique"))
    refused = runner.invoke(args=["marche", "import-sectors", str(path), "--source", "Liste"])
    assert refused.exit_code != 0 and "Astronautique" in refused.output
    with app.app_context():
        assert structure(S["other_dep"]).sectors_given_by == "Liste des ressourceries"
        assert structure(S["esat"]).sectors == []
        assert db.session.execute(select(structure_sector.c.inferred).where(
            structure_sector.c.structure_id == structure(S["none"]).id)).scalars().all() == [False]


def test_the_list_goes_out_as_a_spreadsheet_and_comes_back_as_a_sector_file(world, app, make_structure):
    """The facilitator downloads the list, fills in a few lines in a spreadsheet, sends it back: those lines are
    completed, the empty ones left; an ESAT known by FINESS alone is named by its FINESS number."""
    make_structure(siret=None, finess_numbers=["590000018"], name="ESAT sans SIRET", kinds=("ESAT",), **LILLE)
    exported = world["near"].get(f"{LIST}/fiches.csv")
    assert exported.status_code == 200
    lines = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert lines[0] == completion.EXPORT_HEADERS
    assert [(line[0], line[2]) for line in lines[1:]] == [
        (S["none"], "Chantier Sans Secteur"), (S["esat"], "ESAT des Dunes"), ("590000018", "ESAT sans SIRET"),
        (S["deduced"], "Régie Déduite")]
    assert lines[4][8] == "Nettoyage de locaux" and lines[4][7].startswith("8121Z — ")
    assert world["far"].get(f"{LIST}/fiches.csv?kind=ESAT").get_data(as_text=True).count("\n") == 1  # header only
    lines[3][1] = "Blanchisserie"
    lines[4][1] = "Nettoyage de locaux | Nettoyage urbain"
    lines.append(["590000018", "Repassage"])  # the same ESAT again: left, the first line holds
    body = io.StringIO()
    csv.writer(body, delimiter=";").writerows(lines)
    with app.app_context():
        report = completion.import_sector_file(_admin("plie59@example.fr"), body.getvalue().encode(), "Tableur du PLIE")
        db.session.commit()
        assert (report.updated, report.blank) == (2, 2)
        assert report.skipped == ["ligne 6 : FINESS 590000018 déjà lu plus haut dans le fichier, ligne laissée"]
        esat = db.session.execute(select(Structure).where(Structure.name == "ESAT sans SIRET")).scalar_one()
        assert [s.name for s in esat.sectors] == ["Blanchisserie"]
        assert sorted(s.name for s in structure(S["deduced"]).sectors) == ["Nettoyage de locaux", "Nettoyage urbain"]
    assert listed(world["near"]) == ["Chantier Sans Secteur", "ESAT des Dunes"]
    assert world["buyer"].get(f"{LIST}/fiches.xlsx").status_code == 404


def test_the_list_pages_go_by_fifty_and_an_absurd_page_is_the_nearest_real_one(world, app, monkeypatch):
    """The admin's four profiles, three to a page (the page size lowered here, the rule unchanged)."""
    monkeypatch.setattr(completion, "PAGE_SIZE", 3)
    with app.app_context():
        names = {page: [s.name for s in completion.to_complete(None, page=page).structures] for page in (0, 1, 2, 7)}
        listing = completion.to_complete(None, page=2)
    assert names[1] == ["Chantier Sans Secteur", "ESAT des Dunes", "Atelier de Montreuil"]
    assert names[2] == names[7] == ["Régie Déduite"] and names[0] == names[1]
    with app.app_context():
        assert [s.name for s in completion.to_complete(None).structures] == names[1]  # the first page by default
        one_page = completion.to_complete(["dep:93"], page=5)  # fewer than a page: any page is the first
        assert ([s.name for s in one_page.structures], one_page.page, one_page.pages) == (["Atelier de Montreuil"], 1, 1)
    assert (listing.total, listing.page, listing.pages) == (4, 2, 2)


def test_unknown_sectors_are_named_shortened_and_counted():
    names = completion.SectorNames.__new__(completion.SectorNames)
    names.by_key = {}
    long_name = "A" * 80 + "B" * 20
    with pytest.raises(ValueError) as one:
        names.parse(long_name)
    assert str(one.value).startswith(f"secteur inconnu : « {'A' * 80} » (")
    with pytest.raises(ValueError) as two:
        names.parse("Astronautique | Alchimie")
    assert str(two.value).startswith("secteurs inconnus : « Astronautique », « Alchimie » (")
    with pytest.raises(ValueError) as many:  # five named at most
        names.parse(" | ".join(f"Inconnu {n}" for n in range(1, 7)))
    assert "« Inconnu 5 » (" in str(many.value) and "Inconnu 6" not in str(many.value)


def test_a_long_organisation_name_is_cut_to_the_columns_200_characters(world, app):
    with app.app_context():
        db.session.execute(db.text("update organisation set name = :n where siret = :s"),
                           {"n": "P" * 190, "s": VALID_SIRETS[44]})
        db.session.commit()
        label = completion.giver_label(_admin("plie59@example.fr"), structure(S["none"]))
    assert label == ("P" * 190 + " (facilitateur du territoire)")[:200] and len(label) == 200


def test_an_unreadable_file_is_refused_naming_its_line(world, app):
    with app.app_context():
        with pytest.raises(ImportRejected) as old_excel:
            completion.import_sector_file(None, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Source")
        assert [(e.line, e.column) for e in old_excel.value.errors] == [(1, "fichier")]
        huge_cell = sector_file(f"{S['none']};Repassage", f"{S['esat']};" + "x" * 40_000)
        with pytest.raises(ImportRejected) as too_long:
            completion.import_sector_file(None, huge_cell, "Source")
        assert [(e.line, e.column) for e in too_long.value.errors] == [(3, "fichier")]


def test_a_structure_named_by_its_siret_then_its_finess_is_read_once(world, app):
    with app.app_context():
        esat = structure(S["esat"])
        esat.finess_numbers = ["590000034"]
        db.session.commit()
        report = completion.import_sector_file(None, sector_file(f"{S['esat']};Repassage", "590000034;Blanchisserie"),
                                               "Source")
        assert report.updated == 1
        assert report.skipped == ["ligne 3 : FINESS 590000034 déjà lu plus haut dans le fichier, ligne laissée"]
        assert [s.name for s in structure(S["esat"]).sectors] == ["Repassage"]
