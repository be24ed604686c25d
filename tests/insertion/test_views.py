"""The contract and participant pages: who sees what (404 for anyone else), each action through its form, bad
input answered in French beside its field or flashed, never a 500, nothing saved."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marche.extensions import db
from marche.insertion.models import Contract, ContractStatus, DeclarationStatus, HoursDeclaration, MonthLock, Participant
from tests.conftest import login, page_text, statements_during, submit
from tests.insertion.world import (BUYER, FACILITATOR, HOLDER, PARTNER, STRANGER, UNVERIFIED, contract,  # noqa: F401
                                   declaration, declared, hours_world, participant)

MARCH = date(2026, 3, 1)


def visitor(app, email: str):
    """A new browser signed in as `email`. The test's application context is shared by every request it makes,
    and Flask-Login and Flask-WTF keep the signed-in user and the CSRF token in `g`: both are forgotten first."""
    from flask import g

    for key in ("_login_user", "csrf_token"):
        g.pop(key, None)
    browser = app.test_client()
    login(browser, email)
    return browser


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("email,sees", [(BUYER, True), (FACILITATOR, True), (HOLDER, True), (PARTNER, True),
                                        (STRANGER, False), (UNVERIFIED, False)])
def test_a_contract_page_is_seen_by_its_parties_only(client, app_ctx, hours_world, email, sees):
    login(client, email)
    response = client.get(f"/contrats/{hours_world['contract']}")
    assert response.status_code == (200 if sees else 404)
    listed = client.get("/contrats")
    assert listed.status_code == 200
    assert ("Entretien des espaces verts de Lille" in page_text(listed)) is sees


def test_a_missing_contract_and_an_anonymous_visit(client, app_ctx, hours_world):
    assert client.get(f"/contrats/{hours_world['contract']}").status_code == 302  # to the login page
    login(client, FACILITATOR)
    assert client.get("/contrats/999999").status_code == 404
    assert client.get("/participants/999999").status_code == 404


def test_the_holder_declares_and_the_facilitator_validates(app, client, app_ctx, hours_world):
    login(client, HOLDER)
    page = f"/contrats/{hours_world['contract']}"
    response = submit(client, f"/contrats/{hours_world['contract']}/declarer",
                      {"code": "LIL-001", "month": "03/2026", "hours": "35,5", "mode": "direct_hire"},
                      follow_redirects=True, form_url=page)
    assert "Heures déclarées" in page_text(response)
    line = db.session.scalar(select(HoursDeclaration))
    assert (line.hours, line.month, line.declaring_organisation_id) == (Decimal("35.5"), MARCH,
                                                                       hours_world["holder_org"])
    # the holder has no validate button and its POST is a 404
    assert submit(client, f"/declarations/{line.id}/valider", {}, form_url=page).status_code == 404
    client = visitor(app, FACILITATOR)
    response = submit(client, f"/declarations/{line.id}/valider", {}, follow_redirects=True, form_url=page)
    assert "Déclaration validée" in page_text(response)
    db.session.expire_all()
    assert declaration(line.id).status == DeclarationStatus.VALIDATED


def test_a_new_participant_is_created_by_a_declaration_with_its_year_and_sex(client, app_ctx, hours_world):
    login(client, HOLDER)
    page = f"/contrats/{hours_world['contract']}"
    response = submit(client, f"{page}/declarer", {"code": "LIL-777", "month": "03/2026", "hours": "10",
                                                   "mode": "direct_hire"}, follow_redirects=True, form_url=page)
    assert "indiquez son année de naissance" in page_text(response) and count(HoursDeclaration) == 0
    submit(client, f"{page}/declarer", {"code": "LIL-777", "month": "03/2026", "hours": "10", "mode": "direct_hire",
                                        "birth_year": "1999", "sex": "F"}, form_url=page)
    created = db.session.scalar(select(Participant).where(Participant.code == "LIL-777"))
    assert created.keeper_organisation_id == hours_world["facilitator_org"] and created.birth_year == 1999
    assert count(HoursDeclaration) == 1


@pytest.mark.parametrize("data,words", [
    ({"month": "13/2026"}, "MM/AAAA"),
    ({"month": "03/2031"}, "pas encore commencé"),
    ({"hours": "221"}, "220"),
    ({"hours": "douze"}, "nombre d'heures"),
    ({"mode": "training"}, "N'est pas un choix valide"),
    ({"code": "Jean Dupont"}, "jamais un nom"),
    ({"hours": ""}, "obligatoire"),
])
def test_bad_declarations_are_refused_in_french(client, app_ctx, hours_world, data, words):
    login(client, HOLDER)
    page = f"/contrats/{hours_world['contract']}"
    values = {"code": "LIL-001", "month": "03/2026", "hours": "10", "mode": "direct_hire"}
    values.update(data)
    response = submit(client, f"{page}/declarer", values, follow_redirects=True, form_url=page)
    assert response.status_code == 200
    assert words in page_text(response)
    assert count(HoursDeclaration) == 0


def test_strangers_and_the_buyer_cannot_declare(app, app_ctx, hours_world):
    page = f"/contrats/{hours_world['contract']}"
    for email in (STRANGER, BUYER):
        browser = visitor(app, email)
        response = submit(browser, f"{page}/declarer", {"code": "LIL-001", "month": "03/2026", "hours": "10",
                                                        "mode": "direct_hire"}, form_url="/contrats")
        assert response.status_code == 404
    assert count(HoursDeclaration) == 0


def test_reject_with_a_reason_correct_and_withdraw(app, client, app_ctx, hours_world):
    page = f"/contrats/{hours_world['contract']}"
    first = declared(hours_world, "holder", "p1", MARCH, "100")
    second = declared(hours_world, "holder", "p2", MARCH, "50", validate=True)
    third = declared(hours_world, "holder", "p2", date(2026, 4, 1), "20")
    login(client, FACILITATOR)
    response = submit(client, f"/declarations/{first}/rejeter", {"reason": ""}, follow_redirects=True, form_url=page)
    assert "Motif du rejet : ce champ est obligatoire" in page_text(response)
    submit(client, f"/declarations/{first}/rejeter", {"reason": "Contrat de travail manquant"}, form_url=page)
    client = visitor(app, HOLDER)
    text = page_text(client.get(page))
    assert "Contrat de travail manquant" in text and "rejetée" in text
    submit(client, f"/declarations/{second}/corriger", {"hours": "45", "mode": "made_available"}, form_url=page)
    correction = db.session.scalar(select(HoursDeclaration).where(HoursDeclaration.corrects_id == second))
    assert correction.hours == Decimal(45) and correction.status == DeclarationStatus.SUBMITTED
    submit(client, f"/declarations/{third}/retirer", {}, form_url=page)
    db.session.expire_all()
    assert declaration(third) is None
    # a validated line is not withdrawn: the route answers 404 (its rule refuses)
    assert submit(client, f"/declarations/{second}/retirer", {}, form_url=page).status_code == 404


def test_the_facilitator_locks_a_month_and_moves_the_status(client, app_ctx, hours_world):
    page = f"/contrats/{hours_world['contract']}"
    line = declared(hours_world, "holder", "p1", MARCH, "10")
    login(client, FACILITATOR)
    response = submit(client, f"{page}/verrouiller", {"month": "03/2026"}, follow_redirects=True, form_url=page)
    assert "attend encore une décision" in page_text(response)
    submit(client, f"/declarations/{line}/valider", {}, form_url=page)
    submit(client, f"{page}/verrouiller", {"month": "03/2026"}, form_url=page)
    assert db.session.get(MonthLock, (hours_world["contract"], MARCH)) is not None
    response = submit(client, f"{page}/statut", {"target": "closed"}, follow_redirects=True, form_url=page)
    assert "ne peut pas passer" in page_text(response)
    submit(client, f"{page}/statut", {"target": "completed"}, form_url=page)
    db.session.expire_all()
    assert contract(hours_world["contract"]).status == ContractStatus.COMPLETED


def test_only_the_keeper_locks_and_moves(app, app_ctx, hours_world):
    page = f"/contrats/{hours_world['contract']}"
    for email in (HOLDER, BUYER, PARTNER):
        browser = visitor(app, email)
        for action, data in (("verrouiller", {"month": "03/2026"}), ("statut", {"target": "completed"}),
                             ("partenaires", {"siret": "75187049400026"})):
            assert submit(browser, f"{page}/{action}", data, form_url=page).status_code == 404
    assert count(MonthLock) == 0 and contract(hours_world["contract"]).status == ContractStatus.ACTIVE


def test_a_buyer_enters_a_contract(client, app_ctx, hours_world):
    login(client, BUYER)
    assert client.get("/contrats/nouveau").status_code == 200
    bad = submit(client, "/contrats/nouveau", {"title": "Nettoyage", "starts_on": "31/12/2026",
                                                "ends_on": "01/01/2026", "holder_siret": "75187049400026",
                                                "holder_name": "La Collecterie", "hours_target": "500",
                                                "place_ref": "commune:59350"})
    assert bad.status_code == 422 and "la fin ne peut précéder le début" in page_text(bad)
    before = count(Contract)
    good = submit(client, "/contrats/nouveau", {"title": "Nettoyage", "starts_on": "01/01/2026",
                                                 "ends_on": "31/12/2026", "holder_siret": "75187049400026",
                                                 "holder_name": "La Collecterie", "hours_target": "500",
                                                 "place_ref": "commune:59350", "modes": ["direct_hire"]},
                  follow_redirects=True)
    assert "Marché enregistré" in page_text(good) and count(Contract) == before + 1
    made = db.session.scalar(select(Contract).order_by(Contract.id.desc()))
    assert made.facilitator_organisation_id == hours_world["facilitator_org"] and made.modes == ["direct_hire"]


@pytest.mark.parametrize("email", [HOLDER, PARTNER, UNVERIFIED])
def test_who_does_not_enter_contracts(client, app_ctx, hours_world, email):
    login(client, email)
    assert client.get("/contrats/nouveau").status_code == 404
    assert client.get("/participants").status_code == 404


def test_participants_are_read_by_their_keeper_and_by_who_declared_them(app, client, app_ctx, hours_world):
    p1 = hours_world["p1"]
    login(client, FACILITATOR)
    assert "LIL-001" in page_text(client.get("/participants"))
    assert client.get(f"/participants/{p1}").status_code == 200
    client = visitor(app, HOLDER)
    assert client.get(f"/participants/{p1}").status_code == 404  # no line of its contracts names it yet
    declared(hours_world, "holder", "p1", MARCH, "10")
    shown = client.get(f"/participants/{p1}")
    assert shown.status_code == 200 and "Éligibilité" not in page_text(shown)  # what it needs, no more
    assert client.get(f"/participants/{p1}/modifier").status_code == 404
    client = visitor(app, STRANGER)
    assert client.get(f"/participants/{p1}").status_code == 404


def test_the_keeper_adds_and_edits_a_participant(client, app_ctx, hours_world):
    login(client, FACILITATOR)
    bad = submit(client, "/participants/nouveau", {"code": "LIL-001", "birth_year": "1990", "sex": "F"})
    assert bad.status_code == 422 and "existe déjà" in page_text(bad)
    submit(client, "/participants/nouveau", {"code": "LIL-003", "birth_year": "1970", "sex": "M",
                                             "publics": ["over_50"], "qpv": "y", "qpv_code": "QN05912M"})
    made = db.session.scalar(select(Participant).where(Participant.code == "LIL-003"))
    assert (made.birth_year, made.publics, made.qpv, made.qpv_code) == (1970, ["over_50"], True, "QN05912M")
    submit(client, f"/participants/{made.id}/modifier", {"code": "AUTRE", "birth_year": "1971", "sex": "M"},
           form_url=f"/participants/{made.id}/modifier")
    db.session.expire_all()
    assert (participant(made.id).code, participant(made.id).birth_year) == ("LIL-003", 1971)
    response = submit(client, f"/participants/{made.id}/eligibilite", {"checked_on": "2099-01-01"},
                      follow_redirects=True, form_url=f"/participants/{made.id}")
    assert "futur" in page_text(response)
    submit(client, f"/participants/{made.id}/eligibilite", {"checked_on": "01/03/2026"},
           form_url=f"/participants/{made.id}")
    db.session.expire_all()
    assert participant(made.id).eligibility_checked_on == date(2026, 3, 1)


def test_the_menu_offers_the_contracts(client, app_ctx, hours_world):
    login(client, HOLDER)
    assert "Marchés et heures" in page_text(client.get("/"))


def statements_of_a_visit(app, email: str, url: str) -> int:
    """How many SQL statements one visit of `url` by `email` runs, read from a fresh session (the test's own
    objects forgotten, so that nothing the test loaded spares the page a query)."""
    from flask import g

    browser = visitor(app, email)
    db.session.expunge_all()
    g.pop("_login_user", None)

    def visit():
        assert browser.get(url).status_code == 200

    return statements_during(db.engine, visit)


def test_a_contract_page_costs_the_same_queries_for_two_lines_or_twelve(app, app_ctx, hours_world):
    """No query per line: the participant and the corrected line of each line are loaded together."""
    from marche.insertion import services
    from tests.insertion.world import paris_month, user

    def corrected(line_id: int) -> None:
        with app.test_request_context():
            services.correct(user(hours_world["holder"]), hours_world["holder_org"], declaration(line_id),
                             "direct_hire", Decimal("4"))
            db.session.commit()

    corrected(declared(hours_world, "holder", "p1", MARCH, "10", validate=True))
    declared(hours_world, "holder", "p2", MARCH, "12")
    page = f"/contrats/{hours_world['contract']}"
    facilitator_few, holder_few = (statements_of_a_visit(app, FACILITATOR, page),
                                   statements_of_a_visit(app, HOLDER, page))
    for n in range(3, 8):
        created = services.create_participant(user(hours_world["facilitator"]), hours_world["facilitator_org"],
                                              services.ParticipantData(code=f"LIL-{n:03d}", birth_year=1980 + n,
                                                                       sex="F", publics=[]))
        db.session.commit()
        hours_world[f"p{n}"] = created.id
        corrected(declared(hours_world, "holder", f"p{n}", MARCH, str(n), validate=True))
        declared(hours_world, "holder", f"p{n}", date(2026, 4, 1), "5")
    assert paris_month() > date(2026, 4, 1)
    lines = db.session.scalar(select(func.count()).select_from(HoursDeclaration))
    assert lines == 3 + 5 * 3
    # one query per line would add at least 15 here (the first visit may load the holder's profile once more)
    assert statements_of_a_visit(app, FACILITATOR, page) <= facilitator_few
    assert statements_of_a_visit(app, HOLDER, page) <= holder_few
