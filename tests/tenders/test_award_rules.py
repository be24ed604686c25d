"""The award's boundaries, each on both sides (written for the mutants `make mutants` showed alive): the holder's
name (250 characters), the smallest amount, the number of offers (0 for an unsuccessful lot, 100 000 at most), and
what the `tenders.lot_awarded` event says of the lot (its amount, its place, its ETP)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from marche.clauses.spec import ClauseSpec
from marche.core.errors import DomainError
from marche.extensions import db
from marche.tenders import award
from marche.tenders.models import LotStatus
from tests.tenders.test_award import buyer, closed_tender, data  # noqa: F401  (fixture)
from marche.accounts.models import User


def actor(user_id: int) -> User:
    return db.session.get(User, user_id)


def test_the_holders_name_is_250_characters_at_most(app_ctx, buyer):
    tender = closed_tender(buyer, lots=2)
    recorded = award.award_lot(actor(buyer), tender, tender.lots[0], data(holder_name="N" * 250))
    assert recorded.holder_name == "N" * 250
    with pytest.raises(DomainError, match="250 caractères") as refused:
        award.award_lot(actor(buyer), tender, tender.lots[1], data(holder_name="N" * 251))
    assert refused.value.field == "holder_name"


def test_the_smallest_amount_is_one_cent(app_ctx, buyer):
    tender = closed_tender(buyer, lots=2)
    assert award.award_lot(actor(buyer), tender, tender.lots[0], data(amount="0,01")).amount == Decimal("0.01")
    with pytest.raises(DomainError, match="supérieur à 0"):
        award.award_lot(actor(buyer), tender, tender.lots[1], data(amount="0"))


def test_offers_from_one_to_100000_for_an_awarded_lot(app_ctx, buyer):
    tender = closed_tender(buyer, lots=3)
    assert award.award_lot(actor(buyer), tender, tender.lots[0], data(offers_count=100_000)).offers_count == 100_000
    assert award.award_lot(actor(buyer), tender, tender.lots[1], data(offers_count=1)).offers_count == 1
    for wrong in (100_001, 0, None):
        with pytest.raises(DomainError, match="Nombre d'offres reçues") as refused:
            award.award_lot(actor(buyer), tender, tender.lots[2], data(offers_count=wrong))
        assert refused.value.field == "offers_count"
    with pytest.raises(DomainError, match="au moins une offre"):
        award.award_lot(actor(buyer), tender, tender.lots[2], data(offers_count=0))


def test_an_unsuccessful_lot_may_have_had_no_offer_or_an_unknown_number(app_ctx, buyer):
    tender = closed_tender(buyer, lots=3)
    assert award.mark_unsuccessful(actor(buyer), tender, tender.lots[0], "Aucune offre.", None).offers_count is None
    assert award.mark_unsuccessful(actor(buyer), tender, tender.lots[1], "Aucune offre.", 0).offers_count == 0
    with pytest.raises(DomainError, match="positif ou nul"):
        award.mark_unsuccessful(actor(buyer), tender, tender.lots[2], "Offres irrégulières.", -1)
    with pytest.raises(DomainError, match="positif ou nul"):
        award.mark_unsuccessful(actor(buyer), tender, tender.lots[2], "Offres irrégulières.", 100_001)
    assert tender.lots[2].status == LotStatus.OPEN


def test_the_event_says_the_lots_amount_place_and_etp(app_ctx, buyer):
    tender = closed_tender(buyer, lots=2)
    first, second = tender.lots
    first.place_ref = "commune:59599"  # Roubaix: the lot's own place
    first.cpv_codes = ["77310000-6"]
    second.amount = None  # a lot without an estimate, placed where the tender is
    recorded = award.award_lot(actor(buyer), tender, first, data())
    spec = ClauseSpec.from_json(first.clauses)
    event = award.award_event(tender, first, recorded, spec)
    assert event["lot"]["amount"] == str(first.amount) and event["lot"]["place_ref"] == "commune:59599"
    assert event["lot"]["cpv_codes"] == ["77310000-6"]
    hours = spec.insertion.hours
    assert event["insertion_etp"] == str((hours / Decimal(1607)).quantize(Decimal("0.01")))
    other = award.award_lot(actor(buyer), tender, second, data())
    event = award.award_event(tender, second, other, ClauseSpec.from_json({}))
    assert event["lot"]["amount"] is None and event["lot"]["place_ref"] == tender.place_ref
    assert event["insertion_hours"] is None and event["insertion_etp"] is None


def test_the_largest_amount_and_the_longest_reason_pass(app_ctx, buyer):
    tender = closed_tender(buyer, lots=3)
    biggest = award.award_lot(actor(buyer), tender, tender.lots[0], data(amount="999999999999,99"))
    assert biggest.amount == award.MAX_AMOUNT
    assert award.mark_unsuccessful(actor(buyer), tender, tender.lots[1], "r" * 4000, 0).unsuccessful_reason == \
        "r" * 4000
    with pytest.raises(DomainError, match="4000 caractères au plus") as refused:
        award.mark_unsuccessful(actor(buyer), tender, tender.lots[2], "r" * 4001, 0)
    assert refused.value.field == "reason"


def test_a_lot_whose_clauses_are_unreadable_is_refused_in_french(app_ctx, buyer):
    tender = closed_tender(buyer)
    tender.lots[0].clauses = {"insertion": {"amount_basis": "beaucoup"}}
    with pytest.raises(DomainError, match="clauses du lot 1 sont illisibles"):
        award.award_lot(actor(buyer), tender, tender.lots[0], data())
    assert tender.lots[0].status == LotStatus.OPEN


def test_a_grouping_holder_is_a_fixed_description():
    from dataclasses import FrozenInstanceError

    holder = award.GroupingHolder(1, None, "75187049400026", "Groupement A / B", "Solidaire", ())
    with pytest.raises(FrozenInstanceError):
        holder.name = "Autre"
