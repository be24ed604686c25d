"""The structure side through HTTP: the panel of the tender page (why it matched, first view), interest, quote
PDF and declared offer; a structure of another organisation, a closed tender or a reserved lot is refused and
nothing changes; the quote is read by the buyer and the answering structure only."""
from __future__ import annotations

import io


from marche.clauses import rules
from marche.extensions import db
from marche.tenders.models import Interest, LotResponse, Tender, TenderKind, TenderNotification, TenderStatus
from tests.conftest import csrf_token, login, page_text

from .answers_world import (ADAPTED, BUYER, INSERTION, PDF, owned_structure, people,  # noqa: F401 (fixture)
                            response_rows)
from .factories import complete_clauses, make_tender


def client_of(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def tender_of(app, org: int, kind: str = TenderKind.CALL_FOR_TENDERS, lots=None, status=TenderStatus.PUBLISHED,
              **kwargs) -> int:
    with app.app_context():
        tender_id = make_tender(org, status=status, lots=lots, **kwargs)
        tender = db.session.get(Tender, tender_id)
        tender.kind, tender.buyer_profile_url = kind, "https://marches.example.fr/dce/42"
        db.session.commit()
    return tender_id


def lot_ids(app, tender_id: int) -> list[int]:
    with app.app_context():
        return [lot.id for lot in db.session.get(Tender, tender_id).lots]


def rows(app, tender_id: int):
    with app.app_context():
        return response_rows(tender_id)


def post(client, url: str, page: str, data: dict):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_first_view_is_recorded_once_and_the_page_says_why_it_matched(app, people):
    tender_id = tender_of(app, people["org"], lots=[complete_clauses(), complete_clauses()])
    first, second = lot_ids(app, tender_id)
    with app.app_context():
        db.session.add(TenderNotification(tender_id=tender_id, structure_id=people["aci"], lot_ids=[first],
                                          reasons={str(first): ["Secteur : Espaces verts", "Intervient à Lille"]}))
        db.session.commit()
    structure_client = client_of(app, INSERTION)
    html = page_text(structure_client.get(f"/consultations/{tender_id}"))
    assert "Les Jardins Solidaires" in html and "Secteur : Espaces verts" in html and "Intervient à Lille" in html
    assert "ne faisait pas partie" in html  # the second lot was not matched
    viewed = {row[0]: row for row in rows(app, tender_id)}
    assert len(viewed) == 2
    structure_client.get(f"/consultations/{tender_id}")
    assert {row[0]: row for row in rows(app, tender_id)} == viewed  # never overwritten
    # a structure the relay did not match found it by searching; the buyer and visitors record nothing
    adapted_html = page_text(client_of(app, ADAPTED).get(f"/consultations/{tender_id}"))
    assert "trouvée par la recherche" in adapted_html and "Secteur : Espaces verts" not in adapted_html
    client_of(app, BUYER).get(f"/consultations/{tender_id}")
    app.test_client().get(f"/consultations/{tender_id}")
    assert len(rows(app, tender_id)) == 4
    assert "Répondre en tant que structure" not in page_text(app.test_client().get(f"/consultations/{tender_id}"))


def test_interest_through_the_page_and_a_reason_needed_for_not_interested(app, people):
    tender_id = tender_of(app, people["org"])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    url = f"/consultations/{tender_id}/lots/{lot}/interet"
    response = post(client, url, page, {"structure": people["aci"], "interest": "interested"})
    assert response.status_code == 302 and response.location.endswith(f"structure={people['aci']}#reponse")
    assert "Intéressés depuis" in page_text(client.get(page))
    before = rows(app, tender_id)
    response = post(client, url, page, {"structure": people["aci"], "interest": "not_interested",
                                        "reason_code": "other", "reason_text": ""})
    assert "Autre raison" in page_text(client.get(response.location)) and rows(app, tender_id) == before
    post(client, url, page, {"structure": people["aci"], "interest": "not_interested", "reason_code": "too_far"})
    with app.app_context():
        row = db.session.query(LotResponse).filter_by(lot_id=lot, structure_id=people["aci"]).one()
        assert (row.interest, row.reason_code) == (Interest.NOT_INTERESTED, "too_far")
    html = page_text(client.get(page))
    assert "Pas intéressés : Trop loin" in html and "Nous sommes intéressés" in html  # may come back


def test_another_organisations_structure_or_a_buyer_gets_404_and_nothing_changes(app, people):
    tender_id = tender_of(app, people["org"])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    url = f"/consultations/{tender_id}/lots/{lot}/interet"
    client = client_of(app, INSERTION)
    client.get(page)  # its first view is recorded; then nothing else may change
    before = rows(app, tender_id)
    assert post(client, url, page, {"structure": people["ea"], "interest": "interested"}).status_code == 404
    assert post(client, url, page, {"structure": "x", "interest": "interested"}).status_code == 404
    assert post(client, f"/consultations/{tender_id}/lots/{lot}/offre-deposee", page,
                {"structure": people["ea"]}).status_code == 404
    buyer = client_of(app, BUYER)
    assert post(buyer, url, page, {"structure": people["aci"], "interest": "interested"}).status_code == 404
    # a lot of another tender
    other = tender_of(app, people["org"])
    assert post(client, f"/consultations/{other}/lots/{lot}/interet", page,
                {"structure": people["aci"], "interest": "interested"}).status_code == 404
    assert rows(app, tender_id) == before


def test_a_closed_tender_refuses_the_answer_in_french(app, people):
    tender_id = tender_of(app, people["org"])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    client.get(page)
    with app.app_context():
        db.session.get(Tender, tender_id).status = TenderStatus.CLOSED
        db.session.commit()
    before = rows(app, tender_id)
    html = page_text(client.get(page))
    assert "date limite de réponse est passée" in html and "Nous sommes intéressés" not in html
    response = post(client, f"/consultations/{tender_id}/lots/{lot}/offre-deposee", page,
                    {"structure": people["aci"]})
    assert "n'est plus ouverte" in page_text(client.get(response.location))
    assert rows(app, tender_id) == before


def test_a_reserved_lot_shows_and_answers_the_article_to_a_structure_of_another_kind(app, people):
    clauses = complete_clauses()
    clauses["reservation"] = "siae"
    tender_id = tender_of(app, people["org"], lots=[clauses])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, ADAPTED)
    html = page_text(client.get(page))
    assert f"article {rules.RESERVED_SIAE_ARTICLE}" in html and "J'ai déposé une offre" not in html
    before = rows(app, tender_id)
    response = post(client, f"/consultations/{tender_id}/lots/{lot}/offre-deposee", page, {"structure": people["ea"]})
    assert f"article {rules.RESERVED_SIAE_ARTICLE}" in page_text(client.get(response.location))
    assert rows(app, tender_id) == before
    assert "J'ai déposé une offre" in page_text(client_of(app, INSERTION).get(page))


def test_a_form_naming_no_structure_answers_for_the_only_one(app, people):
    tender_id = tender_of(app, people["org"])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    assert post(client, f"/consultations/{tender_id}/lots/{lot}/interet", page,
                {"interest": "interested"}).status_code == 302
    with app.app_context():
        row = db.session.query(LotResponse).filter_by(lot_id=lot).one()
        assert (row.structure_id, row.interest) == (people["aci"], Interest.INTERESTED)


def test_an_offer_declared_twice_is_refused(app, people):
    tender_id = tender_of(app, people["org"])
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    html = page_text(client.get(page))
    assert "https://marches.example.fr/dce/42" in html
    url = f"/consultations/{tender_id}/lots/{lot}/offre-deposee"
    assert post(client, url, page, {"structure": people["aci"]}).status_code == 302
    before = rows(app, tender_id)
    response = post(client, url, page, {"structure": people["aci"]})
    assert "déjà déclaré une offre" in page_text(client.get(response.location))
    assert rows(app, tender_id) == before


def test_a_quote_pdf_is_read_by_the_buyer_and_the_answering_structure_only(app, people, make_user):
    tender_id = tender_of(app, people["org"], kind=TenderKind.QUOTE_REQUEST)
    lot = lot_ids(app, tender_id)[0]
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    url = f"/consultations/{tender_id}/lots/{lot}/devis"
    # a file that is not a PDF, renamed .pdf: refused, nothing stored
    token = csrf_token(client.get(page).get_data(as_text=True))
    before = rows(app, tender_id)
    response = client.post(url, data={"csrf_token": token, "structure": people["aci"], "message": "Voici.",
                                      "quote": (io.BytesIO(b"GIF89a not a pdf"), "devis.pdf")},
                           content_type="multipart/form-data")
    assert "seul le format PDF" in page_text(client.get(response.location)) and rows(app, tender_id) == before
    token = csrf_token(client.get(page).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "structure": people["aci"], "message": "Voici notre devis.",
                                      "quote": (io.BytesIO(PDF), "devis-jardins.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        answer = db.session.query(LotResponse).filter_by(lot_id=lot, structure_id=people["aci"]).one()
        assert answer.answered_at is not None and answer.answer_message == "Voici notre devis."
        quote = f"/consultations/{tender_id}/lots/{lot}/devis/{answer.id}"
    assert "devis-jardins.pdf" in page_text(client.get(page))
    for reader in (client, client_of(app, BUYER)):
        response = reader.get(quote)
        assert response.status_code == 200 and response.data == PDF
        assert response.headers["Content-Type"] == "application/pdf"
    # the buyer's page lists the answer with its quote; no one else's does
    buyer_page = page_text(client_of(app, BUYER).get(page))
    assert "Réponses reçues" in buyer_page and "Voici notre devis." in buyer_page and quote in buyer_page
    for reader in (app.test_client(), client_of(app, ADAPTED)):
        other_page = page_text(reader.get(page))
        assert "Réponses reçues" not in other_page and "Voici notre devis." not in other_page
    assert client_of(app, ADAPTED).get(quote).status_code == 404
    make_user("autre@roubaix.example.fr", name="Ville de Roubaix")
    assert client_of(app, "autre@roubaix.example.fr").get(quote).status_code == 404
    anonymous = app.test_client().get(quote)
    assert anonymous.status_code == 302 and "/connexion" in anonymous.location
    # a response id of another lot answers 404 as well
    other = tender_of(app, people["org"], kind=TenderKind.QUOTE_REQUEST)
    assert client.get(f"/consultations/{other}/lots/{lot_ids(app, other)[0]}/devis/{answer.id}").status_code == 404


def test_a_member_of_an_organisation_owning_two_structures_chooses_which_answers(app, people):
    with app.app_context():
        second = owned_structure(people["insertion_org"], "Atelier Vélo Solidaire", ("EI",))
        owned_structure(people["insertion_org"], "Fiche en attente", ("EI",), publication="pending")
    tender_id = tender_of(app, people["org"])
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    html = page_text(client.get(page))
    assert "Structure qui répond" in html and "Atelier Vélo Solidaire" in html
    assert "Fiche en attente" not in html and "Nous sommes intéressés" not in html and rows(app, tender_id) == []
    html = page_text(client.get(f"{page}?structure={second}"))
    assert "Vous répondez pour <strong>Atelier Vélo Solidaire</strong>" in html and "Nous sommes intéressés" in html
    # a form naming no structure is refused while there are several to choose from
    token = csrf_token(client.get(page).get_data(as_text=True))
    lot = lot_ids(app, tender_id)[0]
    assert client.post(f"/consultations/{tender_id}/lots/{lot}/interet",
                       data={"csrf_token": token, "interest": "interested"}).status_code == 404
    # another organisation's structure in the URL: nothing chosen, nothing recorded for it
    html = page_text(client.get(f"{page}?structure={people['ea']}"))
    assert "Vous répondez pour" not in html
    with app.app_context():
        assert {row.structure_id for row in db.session.query(LotResponse)} == {second}
