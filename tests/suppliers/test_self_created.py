"""A structure in no public list creates its profile (issue 18 item 9): pending, seen only by its
organisation, the admins and its territory's facilitator, out of search, map, API and supplier check,
until one of them publishes it (or refuses it with a reason, mailed); bad input answered beside the field."""
from __future__ import annotations

from sqlalchemy import select

from marche.core.models import AuditEntry
from marche.extensions import db
from marche.search.indexer import wait_for_pending
from marche.suppliers.models import Structure
from tests.conftest import VALID_SIRETS, login, page_text, submit

NEW_SIRET = VALID_SIRETS[43]
PROFILE = f"/structures/{NEW_SIRET}"
FORM = {"siret": " ".join([NEW_SIRET[:3], NEW_SIRET[3:6], NEW_SIRET[6:9], NEW_SIRET[9:]]),
        "name": "Atelier Adapté de Roubaix", "kinds": ["EA", "EATT"], "address": "12 rue de la Filature",
        "postcode": "59100", "city": "Roubaix"}


def people(app, make_user):
    """The creator (a structure's member), a colleague-less buyer, and verified facilitators of 59 and 93."""
    make_user("ea@atelier.fr", kind="inclusive_structure", siret=NEW_SIRET, name="Atelier Adapté")
    make_user("achat@ville.fr")
    make_user("plie59@example.fr", kind="facilitator", siret=VALID_SIRETS[44], name="PLIE 59")
    make_user("plie93@example.fr", kind="facilitator", siret=VALID_SIRETS[46], name="PLIE 93")
    with app.app_context():
        db.session.execute(db.text(
            "update organisation set verification_status = 'verified', territories = case when siret = :a "
            "then '{dep:59}'::varchar[] else '{dep:93}'::varchar[] end where kind = 'facilitator'"),
            {"a": VALID_SIRETS[44]})
        db.session.commit()
    clients = {}
    for name, email in (("creator", "ea@atelier.fr"), ("buyer", "achat@ville.fr"), ("near", "plie59@example.fr"),
                        ("far", "plie93@example.fr")):
        clients[name] = app.test_client()
        login(clients[name], email)
    clients["anonymous"] = app.test_client()
    return clients


def found_anywhere(client) -> dict[str, bool]:
    """Whether the new profile shows in the search page, the API, the map's points and the supplier check."""
    with client.application.app_context():
        wait_for_pending()
    search = page_text(client.get(f"/structures?q={NEW_SIRET}"))
    api = client.get(f"/api/v1/structures/{NEW_SIRET}").status_code
    points = client.get("/structures/carte.json?kind=EATT").get_json()["points"]
    checked = client.post("/api/v1/structures/lookup", json={"sirets": [NEW_SIRET]}).get_json()["results"][0]
    return {"search": "Atelier Adapté de Roubaix" in search, "api": api == 200,
            "map": any(p[6] == NEW_SIRET for p in points), "check": checked.get("name") is not None}


def test_a_created_profile_waits_hidden_until_the_territorys_facilitator_publishes_it(app, make_user, mailbox):
    c = people(app, make_user)
    created = submit(c["creator"], "/structures/creer", FORM)
    assert created.status_code == 302 and created.headers["Location"].endswith(PROFILE)
    with app.app_context():
        structure = db.session.execute(select(Structure).where(Structure.siret == NEW_SIRET)).scalar_one()
        assert structure.publication == "pending" and structure.kinds == ["EA", "EATT"]
        assert (structure.commune_code, structure.department_code, structure.source) == ("59512", "59", "user")
        assert structure.owner_organisation_id is not None and structure.latitude is not None
    # who sees it: its organisation, the facilitator of its territory; 404 for everyone else
    assert "En attente de vérification" in page_text(c["creator"].get(PROFILE))
    assert c["near"].get(PROFILE).status_code == 200
    for other in ("buyer", "far", "anonymous"):
        assert c[other].get(PROFILE).status_code == 404, other
    assert found_anywhere(c["buyer"]) == {"search": False, "api": False, "map": False, "check": False}
    assert "Atelier Adapté de Roubaix" in mailbox.body(mailbox.last_to("plie59@example.fr"))
    # the facilitator of 93 has nothing to verify here; the one of 59 does
    assert "Atelier Adapté de Roubaix" not in page_text(c["far"].get("/structures/a-verifier"))
    assert "Atelier Adapté de Roubaix" in page_text(c["near"].get("/structures/a-verifier"))
    assert submit(c["far"], f"{PROFILE}/verification", {"decision": "publish"},
                  form_url="/structures/a-verifier").status_code == 404
    assert submit(c["creator"], f"{PROFILE}/verification", {"decision": "publish"},
                  form_url=PROFILE).status_code == 404  # not its own

    published = submit(c["near"], f"{PROFILE}/verification", {"decision": "publish"}, form_url="/structures/a-verifier")
    assert published.status_code == 302
    assert "publiée" in mailbox.body(mailbox.last_to("ea@atelier.fr"))
    assert c["anonymous"].get(PROFILE).status_code == 200
    assert found_anywhere(c["buyer"]) == {"search": True, "api": True, "map": True, "check": True}
    with app.app_context():
        actions = list(db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
        assert "structure.created" in actions and "structure.publication_verified" in actions
    # decided once
    again = submit(c["near"], f"{PROFILE}/verification", {"decision": "refuse", "reason": "x"},
                   form_url="/structures/a-verifier")
    assert again.status_code == 404  # a published profile has nothing left to verify


def test_a_refusal_needs_a_reason_which_is_mailed_and_the_profile_stays_hidden(app, make_user, mailbox):
    c = people(app, make_user)
    assert submit(c["creator"], "/structures/creer", FORM).status_code == 302
    no_reason = submit(c["near"], f"{PROFILE}/verification", {"decision": "refuse", "reason": "   "},
                       form_url="/structures/a-verifier")
    assert no_reason.status_code == 400
    assert "Indiquez la raison du refus" in page_text(no_reason)
    with app.app_context():
        assert db.session.execute(select(Structure.publication)).scalar_one() == "pending"
    reason = "Le SIRET est celui d'une entreprise de transport, pas d'une EA conventionnée."
    refused = submit(c["near"], f"{PROFILE}/verification", {"decision": "refuse", "reason": reason},
                     form_url="/structures/a-verifier")
    assert refused.status_code == 302
    assert reason in mailbox.body(mailbox.last_to("ea@atelier.fr"))
    assert reason in page_text(c["creator"].get(PROFILE))
    assert c["buyer"].get(PROFILE).status_code == 404
    assert found_anywhere(c["buyer"]) == {"search": False, "api": False, "map": False, "check": False}


def test_bad_input_is_answered_beside_the_field_and_kept(app, make_user, make_structure):
    c = people(app, make_user)
    letters = submit(c["creator"], "/structures/creer", {**FORM, "siret": "1234567890ABCD"})
    assert letters.status_code == 400
    text = page_text(letters)
    assert "« 1234567890ABCD » n'est pas un SIRET : 14 chiffres attendus." in text
    assert 'value="1234567890ABCD"' in letters.get_data(as_text=True)  # what was typed is kept
    assert 'value="Atelier Adapté de Roubaix"' in letters.get_data(as_text=True)
    wrong_key = submit(c["creator"], "/structures/creer", {**FORM, "siret": NEW_SIRET[:-1] + str((int(NEW_SIRET[-1]) + 1) % 10)})
    assert wrong_key.status_code == 400 and "clé de contrôle" in page_text(wrong_key)
    no_kind = submit(c["creator"], "/structures/creer", {k: v for k, v in FORM.items() if k != "kinds"})
    assert no_kind.status_code == 400 and "Choisissez au moins un type de structure." in page_text(no_kind)
    # a postcode shared by several communes and a name that is none of them: ask which
    ambiguous = submit(c["creator"], "/structures/creer", {**FORM, "postcode": "59152", "city": "Cheren"})
    assert ambiguous.status_code == 400 and "Quelle commune ?" in page_text(ambiguous)
    assert "Anstaing, Chéreng, Gruson, Tressin" in page_text(ambiguous)
    unknown = submit(c["creator"], "/structures/creer", {**FORM, "postcode": "00000"})
    assert unknown.status_code == 400 and "Aucune commune n'a le code postal 00000." in page_text(unknown)
    # a SIRET already in the directory: no second profile, a link to claim the existing one
    make_structure(siret=NEW_SIRET, name="Fiche importée")
    listed = submit(c["creator"], "/structures/creer", FORM)
    assert listed.status_code == 400
    html = listed.get_data(as_text=True)
    assert "déjà dans l'annuaire" in page_text(listed) and f'href="{PROFILE}"' in html
    with app.app_context():
        assert db.session.execute(select(db.func.count()).select_from(Structure)).scalar_one() == 1
    # only a structure's member may create a profile
    assert c["buyer"].get("/structures/creer").status_code == 404


def test_an_unpublished_profile_counts_in_no_facet_of_either_backend(app, make_structure):
    """The sector facet of a search with no filter reads structure_sector directly (search.sql_backend):
    it must still leave out a profile waiting for verification, as the index does."""
    from marche.reference.models import Sector
    from marche.search import meili_backend, sql_backend
    from marche.search.query import StructureQuery
    from marche.suppliers.models import structure_sector

    published = make_structure(siret="75187049400026", name="Publiée")
    pending = make_structure(siret="73282932000074", name="En attente", publication="pending")
    with app.app_context():
        sector_id = db.session.execute(select(Sector.id).order_by(Sector.id)).scalars().first()
        db.session.execute(structure_sector.insert(), [{"structure_id": structure_id, "sector_id": sector_id,
                                                        "inferred": False} for structure_id in (published, pending)])
        db.session.commit()
        from marche.search.structures import index_structures
        index_structures(db.session, [published, pending], wait=True)
        query = StructureQuery(facets=True)
        sql, meili = sql_backend.search(query), meili_backend.search(query)
        assert sql.count == meili.count == 1
        assert sql.facets["sectors"].get(str(sector_id)) == meili.facets["sectors"].get(str(sector_id)) == 1
