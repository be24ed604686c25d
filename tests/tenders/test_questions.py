"""Questions to the buyer: a structure asks before the questions deadline (the answers deadline when there is
none), the buyer is mailed and sees the asker; once answered, everyone reads question and answer with the asker
anonymised, and the asker is mailed (real SMTP server)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders import answers
from marche.tenders.answers import AnswerError
from marche.tenders.models import Tender, TenderQuestion, TenderStatus
from tests.conftest import csrf_token, login, page_text

from .answers_world import (ADAPTED, BUYER, INSERTION, people, question_rows, structure,  # noqa: F401 (fixture)
                            user)
from .factories import complete_clauses, make_tender

QUESTION = "Les <b>tontes</b> du mois d'août sont-elles comprises ?"
ANSWER = "Oui, une tonte par quinzaine en août."


def client_of(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def post(client, url: str, page: str, data: dict):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_a_question_asked_answered_and_published_with_the_asker_anonymised(app, people, mailbox):
    with app.app_context():
        tender_id = make_tender(people["org"], status=TenderStatus.PUBLISHED,
                                lots=[complete_clauses(), complete_clauses()])
        second_lot = db.session.get(Tender, tender_id).lots[1].id
    page = f"/consultations/{tender_id}"
    asker = client_of(app, INSERTION)
    response = post(asker, f"/consultations/{tender_id}/questions", page,
                    {"structure": people["aci"], "body": QUESTION, "lot": second_lot})
    assert response.status_code == 302 and response.location.endswith("#questions")
    assert "Question envoyée" in page_text(asker.get(response.location))
    message = mailbox.last_to(BUYER)
    body = mailbox.body(message)
    assert "Les Jardins Solidaires" in body and QUESTION in body and "lot 2" in body
    assert mailbox.link_to(BUYER, f"/consultations/{tender_id}#questions")

    # before the answer: the buyer sees it with its asker; visitors and other structures see nothing
    buyer = client_of(app, BUYER)
    html = page_text(buyer.get(page))
    assert "Les Jardins Solidaires" in html and INSERTION in html and "Publier la réponse" in html
    assert "&lt;b&gt;tontes&lt;/b&gt;" in buyer.get(page).get_data(as_text=True)  # escaped, never markup
    for reader in (app.test_client(), client_of(app, ADAPTED)):
        assert "tontes" not in page_text(reader.get(page))
    assert "Vos questions en attente" in page_text(asker.get(page))

    with app.app_context():
        question_id = db.session.query(TenderQuestion).one().id
    url = f"/consultations/{tender_id}/questions/{question_id}/reponse"
    # a structure, or another buyer, cannot answer it
    assert post(asker, url, page, {"answer": "Réponse usurpée"}).status_code == 404
    mailbox.clear()
    response = post(buyer, url, page, {"answer": ANSWER})
    assert response.status_code == 302
    message = mailbox.last_to(INSERTION)
    assert ANSWER in mailbox.body(message) and "tontes" in mailbox.body(message)

    # published to everyone who sees the tender, without the structure, its organisation or the person
    for reader in (app.test_client(), client_of(app, ADAPTED), asker):
        raw = reader.get(page).get_data(as_text=True)
        html = page_text(reader.get(page))
        assert ANSWER in html and "&lt;b&gt;tontes&lt;/b&gt;" in raw and "(lot 2)" in html
        public = html.split('id="questions"', 1)[1]
        assert "Jardins Solidaires" not in public and INSERTION not in public and "Camille" not in public
    assert "Jardins Solidaires" not in page_text(app.test_client().get(page))

    # answered twice: refused, nothing changed
    with app.app_context():
        before = question_rows(tender_id)
    response = post(buyer, url, page, {"answer": "Autre réponse"})
    assert "déjà une réponse" in page_text(buyer.get(response.location))
    with app.app_context():
        assert question_rows(tender_id) == before


def test_an_empty_question_or_another_organisations_structure_is_refused(app, people):
    with app.app_context():
        tender_id = make_tender(people["org"], status=TenderStatus.PUBLISHED)
    page = f"/consultations/{tender_id}"
    client = client_of(app, INSERTION)
    url = f"/consultations/{tender_id}/questions"
    response = post(client, url, page, {"structure": people["aci"], "body": "   "})
    assert "Question : écrivez votre question" in page_text(client.get(response.location))
    assert post(client, url, page, {"structure": people["ea"], "body": "Une question ?"}).status_code == 404
    assert post(client_of(app, BUYER), url, page, {"structure": people["aci"], "body": "?"}).status_code == 404
    with app.app_context():
        assert question_rows(tender_id) == []


@pytest.mark.parametrize("with_questions_deadline", [True, False])
@pytest.mark.parametrize("offset, accepted", [(-1, True), (0, False), (1, False)])
def test_questions_stop_at_their_deadline_instant(app_ctx, people, with_questions_deadline, offset, accepted):
    answers_deadline = utcnow() + timedelta(days=10)
    tender_id = make_tender(people["org"], status=TenderStatus.PUBLISHED, answers_deadline=answers_deadline)
    tender = db.session.get(Tender, tender_id)
    if not with_questions_deadline:
        tender.questions_deadline = None
        db.session.commit()
    deadline = tender.questions_deadline or answers_deadline
    assert deadline == (answers_deadline - timedelta(days=7) if with_questions_deadline else answers_deadline)
    now = deadline + timedelta(seconds=offset)
    member, aci = user(people["insertion"]), structure(people["aci"])
    if accepted:
        answers.ask_question(member, tender, aci, "Une question ?", now=now)
        db.session.commit()
        assert len(question_rows(tender_id)) == 1
    else:
        with pytest.raises(AnswerError, match="date limite des questions est passée"):
            answers.ask_question(member, tender, aci, "Une question ?", now=now)
        db.session.rollback()
        assert question_rows(tender_id) == []
