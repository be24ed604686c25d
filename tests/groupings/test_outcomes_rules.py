"""The grouping at the award (`groupings.outcomes`): which groupings the buyer may name for a lot, what the award
event carries of each member (its share of that lot, an amount only when the lot has a price), and the refusals of
a grouping that cannot hold the lot. Expected values are computed here from the rows the test wrote."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marche.core.errors import DomainError
from marche.extensions import db
from marche.groupings import outcomes, services
from marche.groupings.models import GroupingMember, GroupingShare
from tests.groupings.world import formed, gme, grouping, structure, tender, user  # noqa: F401 (fixture)


@pytest.fixture
def ctx(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        yield
        db.session.remove()


def second_grouping(ids: dict, lot_index: int, confirm: bool = True) -> int:
    """The « stranger » EI forms a grouping with the EA on one lot (60/40), confirmed when asked."""
    the_tender = tender(ids["tender"])
    made = services.start(user(ids["stranger"]), the_tender, structure(ids["stranger_s"]),
                          [the_tender.lots[lot_index].id], "conjoint")
    member = services.invite_structure(user(ids["stranger"]), made, structure(ids["ea_s"]), "Entretien")
    services.answer_invitation(user(ids["ea"]), member, True)
    services.set_shares(user(ids["stranger"]), made, made.lots[0], {made.mandataire_id: "60", member.id: "40"})
    if confirm:
        services.confirm(user(ids["stranger"]), made)
    db.session.commit()
    return made.id


def test_the_buyer_may_name_only_the_groupings_that_answered_that_lot(ctx, gme):
    first = formed(gme, lots=(0,), confirm=True)
    on_lot_2 = second_grouping(gme, 1)
    lots = tender(gme["tender"]).lots
    assert [g.id for g in outcomes.answered_lot(lots[0])] == [first]
    assert [g.id for g in outcomes.answered_lot(lots[1])] == [on_lot_2]


def test_a_forming_grouping_is_not_offered(ctx, gme):
    formed(gme, lots=(0,))  # forming: not confirmed
    assert outcomes.answered_lot(tender(gme["tender"]).lots[0]) == []


def test_the_holder_carries_each_accepted_member_with_its_share_of_that_lot(ctx, gme):
    grouping_id = formed(gme, lots=(0, 1), shares={"aci": "70", "ea": "30"}, confirm=True)
    lot = tender(gme["tender"]).lots[0]
    made = grouping(grouping_id)
    grouping_lot = next(gl for gl in made.lots if gl.lot_id == lot.id)
    ea_member = db.session.scalar(select(GroupingMember).where(GroupingMember.grouping_id == grouping_id,
                                                               GroupingMember.structure_id == gme["ea_s"]))
    share_of = {s.member_id: s for s in db.session.scalars(select(GroupingShare).where(
        GroupingShare.grouping_lot_id == grouping_lot.id))}
    aci, ea = structure(gme["aci_s"]), structure(gme["ea_s"])
    expected = [{"siret": aci.siret, "name": aci.display_name, "structure_id": aci.id, "mandataire": True,
                 "percent": str(share_of[made.mandataire_id].percent), "amount": str(share_of[made.mandataire_id].amount)},
                {"siret": ea.siret, "name": ea.display_name, "structure_id": ea.id, "mandataire": False,
                 "percent": str(share_of[ea_member.id].percent), "amount": str(share_of[ea_member.id].amount)}]
    held = outcomes.holder(grouping_id, lot)
    assert sorted(held.members, key=lambda m: not m["mandataire"]) == expected
    assert expected[0]["percent"] == "70.00" and expected[0]["amount"] is not None
    assert (held.grouping_id, held.structure_id, held.siret, held.decp_type) == (grouping_id, aci.id, aci.siret,
                                                                                 "Solidaire")
    # a share without amount (a lot without price): percent kept, amount None; no share at all: both None
    share_of[ea_member.id].amount = None
    db.session.commit()
    ea_line = next(m for m in outcomes.holder(grouping_id, lot).members if not m["mandataire"])
    assert (ea_line["percent"], ea_line["amount"]) == (expected[1]["percent"], None)
    db.session.delete(share_of[ea_member.id])
    db.session.commit()
    ea_line = next(m for m in outcomes.holder(grouping_id, lot).members if not m["mandataire"])
    assert (ea_line["percent"], ea_line["amount"]) == (None, None)
    aci_line = next(m for m in outcomes.holder(grouping_id, lot).members if m["mandataire"])
    assert aci_line["amount"] == expected[0]["amount"]


def test_a_grouping_that_cannot_hold_the_lot_is_refused_beside_its_field(ctx, gme):
    on_lot_1 = formed(gme, lots=(0,), confirm=True)
    forming = second_grouping(gme, 1, confirm=False)
    lots = tender(gme["tender"]).lots  # read after `formed`, which closes its session
    cases = [(999_999, lots[0], "Groupement inconnu"), (on_lot_1, lots[1], "n'a pas répondu à ce lot"),
             (forming, lots[1], "n'a pas répondu à ce lot")]
    for grouping_id, lot, words in cases:
        with pytest.raises(DomainError) as refused:
            outcomes.holder(grouping_id, lot)
        assert refused.value.field == "grouping_id" and words in refused.value.message
    assert outcomes.holder(on_lot_1, lots[0]).grouping_id == on_lot_1


def close_tender(ids: dict):
    from marche.tenders.models import TenderStatus

    the_tender = tender(ids["tender"])
    the_tender.status = TenderStatus.CLOSED
    db.session.commit()
    return the_tender


def award_to(the_tender, lot, **holder):
    from marche.core.models import utcnow
    from marche.tenders import award

    values = dict(structure_id=None, siret=None, holder_name=None, amount="90000", awarded_on=utcnow().date(),
                  offers_count=2, grouping_id=None)
    values.update(holder)
    award.award_lot(user_of_tender(the_tender), the_tender, lot, award.AwardData(**values))
    db.session.commit()


def user_of_tender(the_tender):
    from marche.accounts.models import Membership, User

    return db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == the_tender.organisation_id))


def test_a_grouping_on_one_lot_is_not_retained_when_that_lot_goes_elsewhere_while_another_is_open(ctx, gme):
    """Only the lots the grouping answered count: lot 1 decided elsewhere, lot 2 (not its own) still open."""
    from marche.groupings.models import GroupingStatus

    grouping_id = formed(gme, lots=(0,), confirm=True)
    the_tender = close_tender(gme)
    award_to(the_tender, the_tender.lots[0], structure_id=gme["stranger_s"])
    db.session.expire_all()
    assert grouping(grouping_id).status == GroupingStatus.NOT_RETAINED


def test_beside_the_holder_every_other_grouping_on_the_lot_is_moved(ctx, gme):
    """Two groupings answered lot 1: the first named holder is awarded, the second (read after it) not retained."""
    from tests.tenders.answers_world import owned_structure

    from marche.groupings.models import GroupingStatus

    winner = formed(gme, lots=(0,), confirm=True)
    partner_s = owned_structure(gme["company_org"], "Paysages Durand insertion", ("EI",))
    the_tender = tender(gme["tender"])
    other = services.start(user(gme["stranger"]), the_tender, structure(gme["stranger_s"]),
                           [the_tender.lots[0].id], "conjoint")
    member = services.invite_structure(user(gme["stranger"]), other, structure(partner_s), "Taille")
    services.answer_invitation(user(gme["company"]), member, True)
    services.set_shares(user(gme["stranger"]), other, other.lots[0], {other.mandataire_id: "50", member.id: "50"})
    services.confirm(user(gme["stranger"]), other)
    db.session.commit()
    loser = other.id
    assert winner < loser
    the_tender = close_tender(gme)
    award_to(the_tender, the_tender.lots[0], grouping_id=winner)
    db.session.expire_all()
    assert (grouping(winner).status, grouping(loser).status) == (GroupingStatus.AWARDED, GroupingStatus.NOT_RETAINED)


def test_a_mandataire_without_any_siret_cannot_stand_for_the_grouping(ctx, gme):
    grouping_id = formed(gme, lots=(0,), confirm=True)
    made = grouping(grouping_id)
    mandataire = made.mandataire
    # a member known by its name alone (no profile, no account, no SIRET typed): it cannot sign as mandataire
    mandataire.structure_id, mandataire.organisation_id = None, None
    mandataire.company_name, mandataire.company_siret = "Jardins sans SIRET", None
    mandataire.invited_email = "jardins@example.fr"
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        outcomes.holder(grouping_id, tender(gme["tender"]).lots[0])
    assert refused.value.field == "grouping_id" and "n'a pas de SIRET connu" in refused.value.message
