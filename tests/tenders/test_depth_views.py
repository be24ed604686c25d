"""The market depth panel on a lot's clause page: the buyer sees how many structures can answer, the warning and
its levers, and the panel follows the builder's unsaved reservation and commitments (htmx); the required
commitments are saved with the clauses; another buyer, a structure and a facilitator not assisting get 404,
anonymous the login page."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask import g

from marche.accounts.models import OrganisationKind
from marche.extensions import db
from marche.reference.cpv_sectors import suggest_sectors
from marche.search import document_types, indexer
from marche.suppliers.models import EnvCommitment, Structure
from marche.suppliers.services import refresh_derived
from marche.tenders.models import Tender
from tests.conftest import csrf_token, login, page_text
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

from .drafting_fixtures import FULL_CLAUSES, new_tender, user

ROUBAIX = dict(commune="59512", department="59", region="32", lat=50.6927, lon=3.1778)


@pytest.fixture
def buyer(client, make_user):
    make_user("acheteur@ville.fr")
    login(client, "acheteur@ville.fr")
    return client


@pytest.fixture
def lot(buyer, app_ctx, make_structure):
    """A draft lot in Roubaix (its sectors suggested by its CPV code) and the two ACI that can answer it, one of
    them holding a valid ISO 14001."""
    tender = new_tender(user("acheteur@ville.fr"))
    db.session.commit()
    sector = suggest_sectors(list(tender.cpv_codes))[0]
    ids = [make_structure(siret=siret, name=name, **ROUBAIX)
           for siret, name in (("75187049400026", "Jardins de Roubaix"), ("44306184100047", "Verts Chantiers"))]
    for structure_id in ids:
        structure = db.session.get(Structure, structure_id)
        structure.sectors = [db.session.get(type(sector), sector.id)]
        refresh_derived(structure)
    holder = db.session.get(Structure, ids[0])
    holder.env_commitments.append(EnvCommitment(label="iso14001"))
    db.session.commit()
    indexer.index_ids(document_types.get("structures"), db.session, ids, wait=True)
    return SimpleNamespace(id=tender.lots[0].id, tender_id=tender.id)


def url(lot, suffix="") -> str:
    return f"/consultations/{lot.tender_id}/lots/{lot.id}{suffix}"


def count_shown(html: str) -> int:
    return int(re.search(r'<strong class="fr-text--lead">(\d+)</strong>', html).group(1))


def test_the_clause_page_shows_the_depth_its_warning_and_levers(buyer, lot):
    page = buyer.get(url(lot, "/clauses"))
    html = page_text(page)
    assert page.status_code == 200 and "Qui peut répondre ?" in html
    assert count_shown(html) == 2 and "Seules 2 structures de l'annuaire peuvent répondre" in html
    assert "Jardins de Roubaix" in html and "Verts Chantiers" in html
    assert "Élargir le lieu d'exécution au département" in html and "passerait de 2 structures à" in html
    assert 'hx-post="%s"' % url(lot, "/profondeur") in html and "Engagements environnementaux exigés" in html


def test_the_panel_follows_the_unsaved_reservation_and_commitments(buyer, lot):
    token = csrf_token(buyer.get(url(lot, "/clauses")).get_data(as_text=True))
    disability = buyer.post(url(lot, "/profondeur"), data={"csrf_token": token, "reservation": "disability"})
    assert disability.status_code == 200 and "<html" not in page_text(disability)
    assert count_shown(page_text(disability)) == 0 and "Aucune structure inclusive" in page_text(disability)
    assert "Réserver le lot aux SIAE, EA et ESAT ensemble (L2113-14)" in page_text(disability)
    iso = buyer.post(url(lot, "/profondeur"), data={"csrf_token": token, "reservation": "siae",
                                                     "required_env": "iso14001"})
    assert count_shown(page_text(iso)) == 1 and "Ne plus exiger l'engagement « ISO 14001 »" in page_text(iso)
    # nothing stored by the panel
    db.session.expire_all()
    assert db.session.get(Tender, lot.tender_id).lots[0].required_env == []
    assert buyer.post(url(lot, "/profondeur"), data={"reservation": "siae"}).status_code == 400


def test_required_commitments_are_saved_with_the_clauses(buyer, lot):
    token = csrf_token(buyer.get(url(lot, "/clauses")).get_data(as_text=True))
    saved = buyer.post(url(lot, "/clauses"), data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y",
                                                   "environmental_criterion": "y", "required_env": "iso14001"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tender, lot.tender_id).lots[0].required_env == ["iso14001"]
    page = page_text(buyer.get(url(lot, "/clauses")))
    assert re.search(r'<input[^>]*checked[^>]*value="iso14001"|<input[^>]*value="iso14001"[^>]*checked', page)
    assert count_shown(page) == 1
    refused = buyer.post(url(lot, "/clauses"), data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y",
                                                     "environmental_criterion": "y", "required_env": "inconnu"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Tender, lot.tender_id).lots[0].required_env == ["iso14001"]


def test_the_panel_own_page_for_the_owner(buyer, lot):
    page = buyer.get(url(lot, "/profondeur"))
    assert page.status_code == 200 and count_shown(page_text(page)) == 2


@pytest.mark.parametrize("kind", [OrganisationKind.PUBLIC_BUYER, OrganisationKind.INCLUSIVE_STRUCTURE,
                                  OrganisationKind.FACILITATOR])
def test_others_get_404_and_anonymous_the_login_page(lot, app, make_user, kind):
    make_user("autre@ailleurs.fr", kind=kind)
    other = app.test_client()
    g.pop("_login_user", None)  # the test's app context is shared by its requests: forget the buyer
    login(other, "autre@ailleurs.fr")
    token = csrf_token(other.get("/").get_data(as_text=True))  # the header's sign-out form
    assert other.get(url(lot, "/profondeur")).status_code == 404
    assert other.post(url(lot, "/profondeur"), data={"csrf_token": token}).status_code == 404
    g.pop("_login_user", None)
    anonymous = app.test_client()
    answer = anonymous.get(url(lot, "/profondeur"))
    assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]
