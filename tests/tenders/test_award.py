"""The award of each lot: holder from the directory or by SIRET, amount, date, offers; « infructueux » with its
reason; the `tenders.lot_awarded` outbox event with the lot's clauses; the tender concluding."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marche.accounts.models import User
from marche.clauses.calculator import insertion_hours
from marche.clauses.spec import ClauseSpec
from marche.core.dates import today
from marche.core.errors import DomainError
from marche.core.models import AuditEntry, OutboxMessage, OutboxStatus
from marche.extensions import db
from marche.tenders import award
from marche.tenders.models import LotAward, LotStatus, Tender, TenderStatus as S
from tests.conftest import VALID_SIRETS
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture)

from .factories import LAUNCH, complete_clauses, make_tender, organisation_of

COMPANY_SIRET = VALID_SIRETS[48]


@pytest.fixture
def buyer(app, make_user):
    return make_user("acheteur@lille.example.fr", name="Ville de Lille")


def closed_tender(buyer_id: int, lots: int = 1) -> Tender:
    tender_id = make_tender(organisation_of(buyer_id), status=S.CLOSED,
                            lots=[complete_clauses(str(100000 * (i + 1))) for i in range(lots)])
    return db.session.get(Tender, tender_id)


def data(**changes) -> award.AwardData:
    values = dict(structure_id=None, siret=COMPANY_SIRET, holder_name="Espaces Verts du Nord", amount="250000,50",
                  awarded_on=date(2026, 11, 2), offers_count=3)
    values.update(changes)
    return award.AwardData(**values)


def outcome_count() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LotAward)),
            db.session.scalar(select(func.count()).select_from(OutboxMessage)))


@pytest.mark.parametrize("changes, field", [
    ({"siret": "21590350000000"}, "siret"),  # wrong check digit
    ({"siret": "123"}, "siret"),
    ({"siret": ""}, "siret"),
    ({"holder_name": ""}, "holder_name"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "12,345"}, "amount"),  # three decimals
    ({"amount": "1000000000000"}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"awarded_on": None}, "awarded_on"),
    ({"offers_count": 0}, "offers_count"),  # an awarded lot had at least one offer
    ({"offers_count": -1}, "offers_count"),
    ({"offers_count": None}, "offers_count"),
    ({"structure_id": 987654321}, "structure_id"),
])
def test_bad_award_input_is_refused_beside_its_field(app_ctx, buyer, changes, field):
    tender = closed_tender(buyer)
    before = outcome_count()
    with pytest.raises(DomainError) as refused:
        award.award_lot(db.session.get(User, buyer), tender, tender.lots[0], data(**changes))
    assert refused.value.field == field, refused.value.message
    db.session.rollback()
    assert outcome_count() == before
    assert db.session.get(Tender, tender.id).status == S.CLOSED


def test_the_award_date_is_not_in_the_future_nor_before_the_launch(app_ctx, buyer):
    buyer_user = db.session.get(User, buyer)
    for awarded_on, ok in ((today() + timedelta(days=1), False), (today(), True),
                           (LAUNCH - timedelta(days=1), False), (LAUNCH, True)):
        tender = closed_tender(buyer)
        if ok:
            award.award_lot(buyer_user, tender, tender.lots[0], data(awarded_on=awarded_on))
            db.session.commit()
        else:
            with pytest.raises(DomainError) as refused:
                award.award_lot(buyer_user, tender, tender.lots[0], data(awarded_on=awarded_on))
            assert refused.value.field == "awarded_on"
            db.session.rollback()


def test_today_is_the_paris_day():
    # 23:30 UTC on 30 June is already 1 July in Paris: an award dated 1 July is not in the future then
    assert today(datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)) == date(2026, 7, 1)


def test_award_to_a_directory_structure_and_the_outbox_event(app_ctx, buyer, make_structure):  # noqa: F811
    structure_id = make_structure(siret="75187049400026", name="La Collecterie")
    tender = closed_tender(buyer, lots=2)
    lot1, lot2 = tender.lots
    buyer_user = db.session.get(User, buyer)
    recorded = award.award_lot(buyer_user, tender, lot1, data(structure_id=structure_id, siret="", holder_name=""))
    db.session.commit()  # the outbox row is processed after the commit (inline without Redis)
    assert (recorded.holder_structure_id, recorded.holder_siret, recorded.amount) == (
        structure_id, "75187049400026", Decimal("250000.50"))
    assert lot1.status == LotStatus.AWARDED and tender.status == S.CLOSED  # lot 2 is still open

    message = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == award.LOT_AWARDED)).scalar_one()
    db.session.refresh(message)
    assert message.status == OutboxStatus.DONE
    payload = message.payload
    spec = ClauseSpec.from_json(lot1.clauses)
    expected_hours = insertion_hours(Decimal("100000"), Decimal("0.5"), Decimal("0.05"), Decimal("30")).hours
    assert payload["lot"]["id"] == lot1.id and payload["tender"]["id"] == tender.id
    assert payload["buyer"] == {"organisation_id": tender.organisation_id, "name": "Ville de Lille",
                                "siret": tender.organisation.siret, "category": "local_authority"}
    assert payload["holder"] == {"structure_id": structure_id, "siret": "75187049400026", "name": "La Collecterie",
                                 "grouping_id": None, "grouping_type": "Pas de groupement", "members": []}
    assert payload["award"]["amount"] == "250000.50" and payload["award"]["offers_count"] == 3
    assert payload["clauses"] == spec.to_json()
    assert Decimal(payload["insertion_hours"]) == expected_hours
    assert payload["clause_types"] == ["insertion", "environmental_condition", "environmental_criterion"]
    # the handler's effect: the award is recorded as received, with the hours owed
    received = db.session.execute(select(AuditEntry).where(AuditEntry.action == "tenders.lot_award_received")
                                  ).scalar_one()
    assert received.object_id == str(lot1.id)
    assert Decimal(received.details["insertion_hours"]) == expected_hours

    award.mark_unsuccessful(buyer_user, tender, lot2, "Aucune offre reçue.", 0)
    db.session.commit()
    assert lot2.status == LotStatus.UNSUCCESSFUL
    assert tender.status == S.AWARDED  # one lot awarded at least
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == award.LOT_AWARDED)) == 1


def test_a_company_of_the_directory_named_by_its_siret_is_linked(app_ctx, buyer, make_structure):  # noqa: F811
    structure_id = make_structure(siret="75187049400026", name="La Collecterie")
    tender = closed_tender(buyer)
    recorded = award.award_lot(db.session.get(User, buyer), tender, tender.lots[0],
                               data(siret="751 870 494 00026", holder_name=""))
    assert recorded.holder_structure_id == structure_id and recorded.holder_name == "La Collecterie"


def test_every_lot_unsuccessful_makes_the_tender_unsuccessful(app_ctx, buyer):
    tender = closed_tender(buyer, lots=2)
    buyer_user = db.session.get(User, buyer)
    with pytest.raises(DomainError) as refused:
        award.mark_unsuccessful(buyer_user, tender, tender.lots[0], "  ", None)
    assert refused.value.field == "reason"
    db.session.rollback()
    with pytest.raises(DomainError) as refused:
        award.mark_unsuccessful(buyer_user, tender, tender.lots[0], "Aucune offre.", -1)
    assert refused.value.field == "offers_count"
    db.session.rollback()
    award.mark_unsuccessful(buyer_user, tender, tender.lots[0], "Aucune offre reçue.", 0)
    award.mark_unsuccessful(buyer_user, tender, tender.lots[1], "Offres inacceptables.", 2)
    db.session.commit()
    assert tender.status == S.UNSUCCESSFUL
    assert tender.outcome_reason == "Lot 1 : Aucune offre reçue. ; Lot 2 : Offres inacceptables."
    # no award event: only the « infructueux » one of each lot, for the domains that follow it
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == [award.LOT_UNSUCCESSFUL, award.LOT_UNSUCCESSFUL]


def test_a_lot_is_decided_once_and_only_on_its_own_tender(app_ctx, buyer):
    tender, other = closed_tender(buyer, lots=2), closed_tender(buyer)
    buyer_user = db.session.get(User, buyer)
    award.award_lot(buyer_user, tender, tender.lots[0], data())
    db.session.commit()
    with pytest.raises(DomainError, match="déjà « Attribué »"):
        award.award_lot(buyer_user, tender, tender.lots[0], data())
    db.session.rollback()
    with pytest.raises(DomainError, match="n'appartient pas"):
        award.mark_unsuccessful(buyer_user, tender, other.lots[0], "Aucune offre.", 0)
