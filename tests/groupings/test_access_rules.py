"""The grouping access rules, each on both sides: an invited or accepted organisation reads, a declined or removed
one no longer does; only the mandataire's side manages, not once dissolved; the buyer reads the summary only once
the grouping has answered; an invitation is answered by an admin of the invited organisation, once. Each rule is
asked through `can()`, as the pages ask it (a rule left unregistered would answer « non » to everyone)."""
from __future__ import annotations

import pytest

from marche.accounts.models import Membership, MemberRole
from marche.extensions import db
from marche.core.access import can
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
    readers = {who: can(user(world[who]), "view", g) for who in ("aci", "ea", "ea_member", "buyer", "stranger")}
    assert readers == {"aci": True, "ea": True, "ea_member": True, "buyer": False, "stranger": False}
    assert can(None, "view", g) is False


@pytest.mark.parametrize("status, reads", [(MemberStatus.INVITED, True), (MemberStatus.ACCEPTED, True),
                                           (MemberStatus.DECLINED, False), (MemberStatus.REMOVED, False)])
def test_a_declined_or_removed_organisation_reads_no_more(world, status, reads):
    g = grouping(world["grouping"])
    ea_row(g, world).status = status
    assert can(user(world["ea"]), "view", g) is reads
    assert can(user(world["ea"]), "post", g) is reads


def test_only_the_mandataire_side_manages_and_not_once_dissolved(world):
    g = grouping(world["grouping"])
    assert can(user(world["aci"]), "manage", g)
    assert not can(user(world["ea"]), "manage", g)
    g.mandataire = ea_row(g, world)
    assert can(user(world["ea"]), "manage", g) and can(user(world["ea_member"]), "manage", g)
    assert not can(user(world["aci"]), "manage", g)
    for status in S:
        g.status = status
        assert can(user(world["ea"]), "manage", g) is (status != S.DISSOLVED)
        assert can(user(world["ea"]), "post", g) is (status != S.DISSOLVED)


@pytest.mark.parametrize("status", list(S))
def test_the_buyer_reads_the_summary_once_the_grouping_has_answered(world, status):
    g = grouping(world["grouping"])
    g.status = status
    answered = status in (S.CONFIRMED, S.SUBMITTED, S.AWARDED, S.NOT_RETAINED)
    assert can(user(world["buyer"]), "view_summary", g) is answered
    assert can(user(world["stranger"]), "view_summary", g) is False
    assert can(user(world["ea"]), "view_summary", g) is True
    assert can(user(world["buyer"]), "view", g) is False


def test_an_invitation_is_answered_by_an_admin_of_the_invited_organisation_while_pending(world):
    g = grouping(world["grouping"])
    row = ea_row(g, world)
    row.status = MemberStatus.INVITED
    assert can(user(world["ea"]), "answer_invitation", row)
    assert not can(user(world["ea_member"]), "answer_invitation", row)  # a member, not an admin
    assert not can(user(world["aci"]), "answer_invitation", row)
    for status in (MemberStatus.ACCEPTED, MemberStatus.DECLINED, MemberStatus.REMOVED):
        row.status = status
        assert not can(user(world["ea"]), "answer_invitation", row)


def test_forming_a_grouping_needs_a_claimed_structure_and_an_open_tender(world):
    from datetime import timedelta

    from marche.core.models import utcnow

    the_tender = tender(world["tender"])
    assert can(user(world["aci"]), "form_grouping", the_tender)
    assert not can(user(world["buyer"]), "form_grouping", the_tender)
    assert not can(user(world["company"]), "form_grouping", the_tender)  # a company owns no profile
    the_tender.questions_deadline = None  # the database wants questions before answers
    the_tender.answers_deadline = utcnow() - timedelta(seconds=1)
    assert not can(user(world["aci"]), "form_grouping", the_tender)
    the_tender.answers_deadline = utcnow() + timedelta(minutes=1)
    the_tender.status = "closed"
    assert not can(user(world["aci"]), "form_grouping", the_tender)
    assert organisation_of(world["aci"]) == world["aci_org"]
