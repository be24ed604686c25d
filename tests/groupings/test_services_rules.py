"""Grouping rules on both sides (written for the mutants `make mutants` showed alive): a lot's price kept when the
shares are set without one, replaced when one is given; a member removed only from its own grouping and only while
invited or accepted."""
from __future__ import annotations

from decimal import Decimal

import pytest

from marche.extensions import db
from marche.groupings import services
from marche.groupings.models import GroupingMember, MemberStatus
from tests.groupings.world import formed, gme, grouping, structure, tender, user  # noqa: F401 (fixture)
from tests.tenders.answers_world import owned_structure
from tests.tenders.factories import organisation_of


@pytest.fixture
def ctx(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        yield


def test_the_lots_price_is_kept_without_a_new_one_and_replaced_with_one(ctx, gme):
    g = grouping(formed(gme, lots=(0,)))
    lot = g.lots[0]
    before = lot.price
    assert before is not None
    percents = {g.mandataire_id: "50", next(m.id for m in g.accepted_members if m.id != g.mandataire_id): "50"}
    for empty in (None, ""):
        services.set_shares(user(gme["aci"]), g, lot, percents, price=empty)
        assert lot.price == before
    services.set_shares(user(gme["aci"]), g, lot, percents, price="80000")
    assert lot.price == Decimal(80000)
    assert sorted(s.amount for m in g.accepted_members for s in m.shares) == [Decimal(40000), Decimal(40000)]


def test_a_member_is_removed_only_from_its_own_grouping_and_while_it_belongs(ctx, gme, make_user):
    # another grouping on the second lot, led by another structure: its member cannot be removed from the first
    other_user = make_user("direction@autre-aci.example.fr", kind="inclusive_structure", name="Autre ACI SAS")
    other_structure = owned_structure(organisation_of(other_user), "Autre chantier", ("ACI",))
    first = grouping(formed(gme, lots=(0,)))
    ea_member = next(m for m in first.accepted_members if m.id != first.mandataire_id)
    the_tender = tender(gme["tender"])
    second = services.start(user(other_user), the_tender, structure(other_structure), [the_tender.lots[1].id],
                            "conjoint")
    db.session.flush()
    with pytest.raises(services.GroupingError, match="ne fait pas partie"):
        services.remove_member(user(gme["aci"]), first, second.mandataire)
    ea_member.status = MemberStatus.DECLINED
    with pytest.raises(services.GroupingError, match="ne fait pas partie"):
        services.remove_member(user(gme["aci"]), first, ea_member)
    ea_member.status = MemberStatus.INVITED
    services.remove_member(user(gme["aci"]), first, ea_member)
    assert db.session.get(GroupingMember, ea_member.id).status == MemberStatus.REMOVED
