"""The structure side's services: first views, interest with a reason, quotes and declared offers; each refusal
(reserved lot, deadline, twice) on both sides of its boundary, nothing changed after it."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage

from marche.clauses import rules
from marche.core.models import utcnow
from marche.extensions import db
from marche.suppliers.models import StructureKind
from marche.tenders import answers
from marche.tenders.answers import AnswerError
from marche.tenders.matching import RESERVED_KINDS
from marche.tenders.models import Interest, Tender, TenderKind, TenderStatus

from .answers_world import PDF, owned_structure, people, response_rows, structure, user  # noqa: F401 (fixture)
from .factories import complete_clauses, make_tender


def reserved(reservation: str | None) -> dict:
    clauses = complete_clauses()
    clauses["reservation"] = reservation
    return clauses


def published(org: int, **kwargs) -> Tender:
    tender_id = make_tender(org, status=TenderStatus.PUBLISHED, **kwargs)
    return db.session.get(Tender, tender_id)


# --- first views -------------------------------------------------------------------------------------------------

def test_the_first_view_of_each_lot_is_kept(app_ctx, people):
    tender = published(people["org"], lots=[complete_clauses(), complete_clauses()])
    aci = structure(people["aci"])
    first = utcnow() - timedelta(hours=2)
    answers.record_views(tender, aci, first)
    db.session.commit()
    answers.record_views(tender, aci, first + timedelta(hours=1))  # a second visit changes nothing
    db.session.commit()
    rows = answers.responses_of(aci, tender.lots)
    assert sorted(rows) == sorted(lot.id for lot in tender.lots)
    assert {row.viewed_at for row in rows.values()} == {first}
    # a row the relay created (notified, not yet viewed) gets its first view, its notification kept
    other = structure(people["ea"])
    notified = first - timedelta(days=1)
    db.session.add(answers.LotResponse(lot_id=tender.lots[0].id, structure_id=other.id, notified_at=notified))
    db.session.commit()
    answers.record_views(tender, other, first)
    db.session.commit()
    row = answers.responses_of(other, tender.lots)[tender.lots[0].id]
    assert (row.notified_at, row.viewed_at) == (notified, first)


# --- interest ----------------------------------------------------------------------------------------------

def test_interest_then_not_interested_with_a_reason_then_back(app_ctx, people):
    tender = published(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    response = answers.declare_interest(member, lot, aci, True)
    db.session.commit()
    assert (response.interest, response.reason_code) == (Interest.INTERESTED, None)
    response = answers.declare_interest(member, lot, aci, False, "too_far", "  ")
    db.session.commit()
    assert (response.interest, response.reason_code, response.reason_text) == (
        Interest.NOT_INTERESTED, "too_far", None)
    response = answers.declare_interest(member, lot, aci, True)  # before the deadline: may come back
    db.session.commit()
    assert (response.interest, response.reason_code) == (Interest.INTERESTED, None)


def test_the_reasons_are_a_short_french_list_and_other_needs_a_text(app_ctx, people):
    assert set(answers.NOT_INTERESTED_REASONS) == {"too_far", "out_of_trade", "too_large", "too_short",
                                                    "unavailable", "other"}
    tender = published(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    before = response_rows(tender.id)
    for code, text, field in ((None, "", "reason_code"), ("trop_cher", "", "reason_code"),
                              ("other", "   ", "reason_text")):
        with pytest.raises(AnswerError) as refused:
            answers.declare_interest(member, lot, aci, False, code, text)
        db.session.rollback()
        assert refused.value.field == field
    assert response_rows(tender.id) == before
    response = answers.declare_interest(member, lot, aci, False, "other", "Nous fermons en août.")
    db.session.commit()
    assert (response.reason_code, response.reason_text) == ("other", "Nous fermons en août.")


def test_answering_the_same_way_twice_is_refused_and_changes_nothing(app_ctx, people):
    tender = published(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    answers.declare_interest(member, lot, aci, True)
    db.session.commit()
    before = response_rows(tender.id)
    with pytest.raises(AnswerError, match="déjà déclaré être intéressés"):
        answers.declare_interest(member, lot, aci, True)
    db.session.rollback()
    assert response_rows(tender.id) == before
    answers.declare_interest(member, lot, aci, False, "unavailable")
    db.session.commit()
    before = response_rows(tender.id)
    with pytest.raises(AnswerError, match="déjà déclaré ne pas être intéressés"):
        answers.declare_interest(member, lot, aci, False, "too_far")
    db.session.rollback()
    assert response_rows(tender.id) == before


# --- reserved lots -------------------------------------------------------------------------------------------

#: who may answer a reserved lot, from the code of public procurement (computed here, not read from the code)
SIAE = {"EI", "AI", "ACI", "ETTI", "EITI"}
DISABILITY = {"EA", "EATT", "ESAT"}
EXPECTED = {"siae": (SIAE, rules.RESERVED_SIAE_ARTICLE), "disability": (DISABILITY, rules.RESERVED_DISABILITY_ARTICLE),
            "both": (SIAE | DISABILITY, rules.RESERVED_BOTH_ARTICLE)}


def test_a_reserved_lot_is_answered_only_by_the_kinds_it_is_reserved_to_with_the_article_cited(app_ctx, people):
    assert {key: set(kinds) for key, kinds in RESERVED_KINDS.items() if kinds} == {
        key: kinds for key, (kinds, _) in EXPECTED.items()}
    reservations = ["siae", "disability", "both", None]
    tender = published(people["org"], lots=[reserved(r) for r in reservations])
    member = user(people["insertion"])
    checked = 0
    for kind in StructureKind:
        profile = structure(owned_structure(people["insertion_org"], f"Structure {kind.value}", (kind.value,)))
        for lot, reservation in zip(tender.lots, reservations):
            before = response_rows(tender.id)
            if reservation is None or kind.value in EXPECTED[reservation][0]:
                assert answers.reserved_refusal(lot, profile) is None
                answers.declare_interest(member, lot, profile, True)
                db.session.commit()
                assert answers.responses_of(profile, [lot])[lot.id].interest == Interest.INTERESTED
            else:
                with pytest.raises(AnswerError) as refused:
                    answers.declare_interest(member, lot, profile, True)
                db.session.rollback()
                assert f"article {EXPECTED[reservation][1]}" in refused.value.message
                assert response_rows(tender.id) == before
            checked += 1
    assert checked == len(StructureKind) * len(reservations)


def test_a_structure_of_several_kinds_answers_when_one_of_them_is_allowed(app_ctx, people):
    tender = published(people["org"], lots=[reserved("disability")])
    both = structure(owned_structure(people["insertion_org"], "Insertion et handicap", ("ACI", "ESAT")))
    assert answers.reserved_refusal(tender.lots[0], both) is None


# --- the answers deadline ------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset, accepted", [(-1, True), (0, False), (1, False)])
def test_answers_stop_at_the_deadline_instant(app_ctx, people, offset, accepted):
    deadline = utcnow() + timedelta(days=3)
    tender = published(people["org"], answers_deadline=deadline)
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    now = deadline + timedelta(seconds=offset)
    assert answers.answers_open(tender, now) is accepted
    before = response_rows(tender.id)
    operations = [lambda: answers.declare_interest(member, lot, aci, True, now=now),
                  lambda: answers.declare_offer(member, lot, aci, now=now)]
    for operation in operations:
        if accepted:
            operation()
            db.session.commit()
        else:
            with pytest.raises(AnswerError, match="date limite de réponse est passée"):
                operation()
            db.session.rollback()
            assert response_rows(tender.id) == before


def test_a_closed_tender_receives_no_answer(app_ctx, people):
    tender = published(people["org"])
    tender.status = TenderStatus.CLOSED
    db.session.commit()
    before = response_rows(tender.id)
    with pytest.raises(AnswerError, match="n'est plus ouverte"):
        answers.declare_interest(user(people["insertion"]), tender.lots[0], structure(people["aci"]), True)
    db.session.rollback()
    assert response_rows(tender.id) == before


# --- quotes and declared offers -----------------------------------------------------------------------------

def quote_request(org: int) -> Tender:
    tender = published(org)
    tender.kind = TenderKind.QUOTE_REQUEST
    db.session.commit()
    return tender


def upload(data: bytes, name: str = "devis.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name)


def test_a_quote_is_sent_once_with_its_pdf(app_ctx, people):
    tender = quote_request(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    answers.declare_interest(member, lot, aci, False, "too_large")
    db.session.commit()
    response = answers.send_quote(member, lot, aci, "Nous pouvons intervenir dès mars.",
                                  upload(PDF, "../../etc/Devis mars.pdf"))
    db.session.commit()
    assert response.answered_at is not None and response.interest == Interest.INTERESTED
    assert response.reason_code is None and response.quote_filename == "Devis mars.pdf"
    assert answers.quote_path(response).read_bytes() == PDF
    before = response_rows(tender.id)
    with pytest.raises(AnswerError, match="déjà répondu"):
        answers.send_quote(member, lot, aci, "Une deuxième fois.", upload(PDF))
    db.session.rollback()
    with pytest.raises(AnswerError, match="ne peut plus changer"):
        answers.declare_interest(member, lot, aci, False, "too_far")
    db.session.rollback()
    assert response_rows(tender.id) == before


def test_a_quote_must_be_a_pdf_by_its_content_and_at_most_10_mb(app_ctx, people):
    tender = quote_request(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    before = response_rows(tender.id)
    for data, message in ((b"PK\x03\x04 not a pdf", "seul le format PDF"),
                          (b"%PDF-" + b"0" * (answers.MAX_QUOTE_BYTES - 4), "taille autorisée")):
        with pytest.raises(AnswerError, match=message) as refused:
            answers.send_quote(member, lot, aci, "Notre devis.", upload(data, "devis.pdf"))
        db.session.rollback()
        assert refused.value.field == "quote"
    assert response_rows(tender.id) == before
    # exactly 10 MB passes
    response = answers.send_quote(member, lot, aci, "Notre devis.",
                                  upload(b"%PDF-" + b"0" * (answers.MAX_QUOTE_BYTES - 5)))
    db.session.commit()
    assert answers.quote_path(response).stat().st_size == answers.MAX_QUOTE_BYTES


def test_an_offer_is_declared_once_for_a_call_for_tenders_only(app_ctx, people):
    tender = published(people["org"])
    lot, aci, member = tender.lots[0], structure(people["aci"]), user(people["insertion"])
    with pytest.raises(AnswerError, match="profil d'acheteur"):
        answers.send_quote(member, lot, aci, "Un devis.")
    db.session.rollback()
    response = answers.declare_offer(member, lot, aci)
    db.session.commit()
    assert response.offer_declared and response.answered_by_id == member.id
    before = response_rows(tender.id)
    with pytest.raises(AnswerError, match="déjà déclaré une offre"):
        answers.declare_offer(member, lot, aci)
    db.session.rollback()
    assert response_rows(tender.id) == before
    devis = quote_request(people["org"])
    with pytest.raises(AnswerError, match="dans le portail"):
        answers.declare_offer(member, devis.lots[0], aci)
    db.session.rollback()
