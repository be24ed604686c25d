"""The grouping access rules, each on both sides: an invited or accepted organisation reads, a declined or removed
one no longer does; only the mandataire's side manages, not once dissolved; the buyer reads the summary only once
the grouping has answered; an invitation is answered by an admin of the invited organisation, once."""
from __future__ import annotations

import pytest

from marche.accounts.models import Membership, MemberRole
from marche.extensions import db
from marche.groupings import access
from marche.groupings.models import GroupingStatus as S, MemberStatus
from tests.groupings.world import formed, gme, grouping, tender, user  # noqa: F401 (fixture)
from tests.tenders.factories import organisation_of


@pytest.fixture
def world(app, gme, make_user):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        gme["grouping"] = formed(gme)
        gme["ea_member"] = make_user("membre@atelier.example.fr", name="Autre SAS")  # a plain member of the EA
        db.session.add(Membership(user_id=gme["ea_member"], organisation_id=gme["ea_org"], role=MemberRole.MEMBER))
        db.session.commit()
        yield gme
        db.session.remove()


def ea_row(g, ids):
    return next(m for m in g.members if m.organisation_id == ids["ea_org"])


def test_members_read_others_do_not(world):
    g = grouping(world["grouping"])
    readers = {who: access.can_view(user(world[who]), g) for who in ("aci", "ea", "ea_member", "buyer", "stranger")}
    assert readers == {"aci": True, "ea": True, "ea_member": True, "buyer": False, "stranger": False}
    assert access.can_view(None, g) is False


@pytest.mark.parametrize("status, reads", [(MemberStatus.INVITED, True), (MemberStatus.ACCEPTED, True),
                                           (MemberStatus.DECLINED, False), (MemberStatus.REMOVED, False)])
def test_a_declined_or_removed_organisation_reads_no_more(world, status, reads):
    g = grouping(world["grouping"])
    ea_row(g, world).status = status
    assert access.can_view(user(world["ea"]), g) is reads
    assert access.can_post(user(world["ea"]), g) is reads


def test_only_the_mandataire_side_manages_and_not_once_dissolved(world):
    g = grouping(world["grouping"])
    assert access.can_manage(user(world["aci"]), g)
    assert not access.can_manage(user(world["ea"]), g)
    g.mandataire = ea_row(g, world)
    assert access.can_manage(user(world["ea"]), g) and access.can_manage(user(world["ea_member"]), g)
    assert not access.can_manage(user(world["aci"]), g)
    for status in S:
        g.status = status
        assert access.can_manage(user(world["ea"]), g) is (status != S.DISSOLVED)
        assert access.can_post(user(world["ea"]), g) is (status != S.DISSOLVED)


@pytest.mark.parametrize("status", list(S))
def test_the_buyer_reads_the_summary_once_the_grouping_has_answered(world, status):
    g = grouping(world["grouping"])
    g.status = status
    answered = status in (S.CONFIRMED, S.SUBMITTED, S.AWARDED, S.NOT_RETAINED)
    assert access.can_view_summary(user(world["buyer"]), g) is answered
    assert access.can_view_summary(user(world["stranger"]), g) is False
    assert access.can_view_summary(user(world["ea"]), g) is True
    assert access.can_view(user(world["buyer"]), g) is False


def test_an_invitation_is_answered_by_an_admin_of_the_invited_organisation_while_pending(world):
    g = grouping(world["grouping"])
    row = ea_row(g, world)
    row.status = MemberStatus.INVITED
    assert access.can_answer_invitation(user(world["ea"]), row)
    assert not access.can_answer_invitation(user(world["ea_member"]), row)  # a member, not an admin
    assert not access.can_answer_invitation(user(world["aci"]), row)
    for status in (MemberStatus.ACCEPTED, MemberStatus.DECLINED, MemberStatus.REMOVED):
        row.status = status
        assert not access.can_answer_invitation(user(world["ea"]), row)


def test_forming_a_grouping_needs_a_claimed_structure_and_an_open_tender(world):
    from datetime import timedelta

    from marche.core.models import utcnow

    the_tender = tender(world["tender"])
    assert access.can_form_grouping(user(world["aci"]), the_tender)
    assert not access.can_form_grouping(user(world["buyer"]), the_tender)
    assert not access.can_form_grouping(user(world["company"]), the_tender)  # a company owns no profile
    the_tender.questions_deadline = None  # the database wants questions before answers
    the_tender.answers_deadline = utcnow() - timedelta(seconds=1)
    assert not access.can_form_grouping(user(world["aci"]), the_tender)
    the_tender.answers_deadline = utcnow() + timedelta(minutes=1)
    the_tender.status = "closed"
    assert not access.can_form_grouping(user(world["aci"]), the_tender)
    assert organisation_of(world["aci"]) == world["aci_org"]
