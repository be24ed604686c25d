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


def test_an_organisation_with_one_profile_answers_an_email_invitation_with_it(ctx, gme, make_user):
    """The invited company signs up and owns exactly one published profile: that profile is the member's, even when
    the SIRET the mandataire typed was left empty; with two profiles and no matching SIRET, none is guessed."""
    one = make_user("contact@une-fiche.example.fr", kind="inclusive_structure", name="Une Fiche SAS")
    two = make_user("contact@deux-fiches.example.fr", kind="inclusive_structure", name="Deux Fiches SAS")
    only = owned_structure(organisation_of(one), "La seule fiche", ("EI",))
    owned_structure(organisation_of(two), "Première fiche", ("EI",))
    owned_structure(organisation_of(two), "Seconde fiche", ("EI",))
    the_tender = tender(gme["tender"])
    g = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id], "conjoint")
    first = services.invite_by_email(user(gme["aci"]), g, "contact@une-fiche.example.fr", "Une Fiche SAS", "")
    second = services.invite_by_email(user(gme["aci"]), g, "contact@deux-fiches.example.fr", "Deux Fiches SAS", "")
    services.answer_invitation(user(one), first, True, organisation=user(one).organisation)
    services.answer_invitation(user(two), second, True, organisation=user(two).organisation)
    assert first.structure_id == only
    assert second.structure_id is None


def test_a_user_in_two_member_organisations_is_read_as_its_accepted_one(ctx, gme):
    from marche.accounts.models import Membership

    g = grouping(formed(gme, lots=(0,)))
    invited = services.invite_structure(user(gme["aci"]), g, structure(gme["stranger_s"]), "Tonte")
    db.session.add(Membership(user_id=gme["aci"], organisation_id=gme["stranger_org"], role="member"))
    db.session.flush()
    db.session.expire(user(gme["aci"]))
    found = services.member_of(user(gme["aci"]), g)
    assert found.status == MemberStatus.ACCEPTED and found.id == g.mandataire_id
    assert invited.status == MemberStatus.INVITED


@pytest.mark.parametrize("length,accepted", [(1000, True), (1001, False)])
def test_a_decline_reason_is_1000_characters_at_most(ctx, gme, length, accepted):
    from marche.groupings.services import GroupingError

    the_tender = tender(gme["tender"])
    made = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id], "conjoint")
    member = services.invite_structure(user(gme["aci"]), made, structure(gme["ea_s"]), "Entretien")
    db.session.commit()
    if accepted:
        from sqlalchemy import select

        from marche.core.models import AuditEntry

        services.answer_invitation(user(gme["ea"]), member, False, reason="r" * length)
        assert (member.status, member.decline_reason) == (MemberStatus.DECLINED, "r" * length)
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("grouping.invitation_%"))
                                  ).all() == ["grouping.invitation_declined"]
    else:
        with pytest.raises(GroupingError) as refused:
            services.answer_invitation(user(gme["ea"]), member, False, reason="r" * length)
        assert refused.value.field == "reason" and "1000 caractères au plus" in refused.value.message
        db.session.rollback()
        assert db.session.get(GroupingMember, member.id).status == MemberStatus.INVITED


def test_a_second_grouping_on_the_same_lots_names_the_first_lot_it_clashes_on(ctx, gme):
    from marche.groupings.services import GroupingError

    formed(gme, lots=(0, 1))
    the_tender = tender(gme["tender"])
    with pytest.raises(GroupingError) as refused:
        services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]),
                       [lot.id for lot in the_tender.lots], "conjoint")
    first = the_tender.lots[0]
    assert f"actif sur {services.lot_label(first)}" in refused.value.message
    assert services.lot_label(the_tender.lots[1]) not in refused.value.message


def test_a_structure_that_a_reserved_lot_does_not_admit_cannot_form_a_grouping_on_it(ctx, gme):
    """The second lot is reserved to SIAE and EA/ESAT (L2113-14): a GEIQ is neither."""
    from marche.groupings.services import GroupingError

    geiq = owned_structure(gme["company_org"], "GEIQ Propreté Nord", ("GEIQ",))
    the_tender = tender(gme["tender"])
    with pytest.raises(GroupingError) as refused:
        services.start(user(gme["company"]), the_tender, structure(geiq), [the_tender.lots[1].id], "conjoint")
    assert refused.value.field == "lot_ids" and "L2113-14" in refused.value.message
    db.session.rollback()
    assert services.start(user(gme["company"]), the_tender, structure(geiq), [the_tender.lots[0].id],
                          "conjoint").id


def test_the_shares_audit_records_the_lots_price_or_none(ctx, gme):
    from sqlalchemy import select

    from marche.core.models import AuditEntry

    g = grouping(formed(gme, lots=(0,)))
    lot = g.lots[0]
    percents = {g.mandataire_id: "50", next(m.id for m in g.accepted_members if m.id != g.mandataire_id): "50"}

    def last_price():
        return db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "grouping.shares_set")
                                  .order_by(AuditEntry.id.desc())).first()["price"]

    services.set_shares(user(gme["aci"]), g, lot, percents, price="80000")
    assert last_price() == str(lot.price) and lot.price == Decimal(80000)
    lot.price = None
    services.set_shares(user(gme["aci"]), g, lot, percents)
    assert last_price() is None


def test_only_the_mandataires_organisation_is_on_its_side(ctx, gme):
    g = grouping(formed(gme, lots=(0,)))
    assert services.is_mandataire_side(user(gme["aci"]), g)
    assert not services.is_mandataire_side(user(gme["ea"]), g)
    assert not services.is_mandataire_side(user(gme["stranger"]), g)


def test_a_member_without_any_share_is_named_only_when_there_are_two_members(ctx, gme):
    the_tender = tender(gme["tender"])
    alone = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id],
                           "conjoint")
    assert not any("sans part" in p for p in services.confirm_problems(alone))
    db.session.rollback()
    g = grouping(formed(gme, lots=(0,), shares={"aci": "100"}))
    assert any(p.endswith("sans part : Atelier du Nord.") for p in services.confirm_problems(g))


def test_a_removed_member_takes_its_shares_away(ctx, gme):
    from sqlalchemy import func, select

    from marche.groupings.models import GroupingShare

    g = grouping(formed(gme, lots=(0, 1)))
    member = next(m for m in g.accepted_members if m.id != g.mandataire_id)
    assert db.session.scalar(select(func.count()).select_from(GroupingShare).where(
        GroupingShare.member_id == member.id)) == 2
    services.remove_member(user(gme["aci"]), g, member)
    assert db.session.scalar(select(func.count()).select_from(GroupingShare).where(
        GroupingShare.member_id == member.id)) == 0


def test_an_offer_is_dated_when_declared(ctx, gme):
    from marche.core.models import utcnow

    g = grouping(formed(gme, lots=(0,), confirm=True))
    before = utcnow()
    services.submit(user(gme["aci"]), g)
    assert g.submitted_at is not None and before <= g.submitted_at <= utcnow()


def test_the_mandataires_admins_hear_of_each_answer(app, gme, mailbox):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        the_tender = tender(gme["tender"])
        made = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id],
                              "conjoint")
        member = services.invite_structure(user(gme["aci"]), made, structure(gme["ea_s"]), "Entretien")
        db.session.commit()
        services.answer_invitation(user(gme["ea"]), member, True)
        db.session.commit()
        db.session.remove()
    from tests.groupings.world import ACI

    assert any(m["To"] == ACI and "Atelier du Nord rejoint le groupement" in m["Subject"] for m in mailbox)


def test_new_lots_are_checked_against_every_member_kind(ctx, gme):
    """A GEIQ member on the first lot: adding the second lot (reserved to SIAE and EA/ESAT) is refused."""
    from marche.groupings.services import GroupingError

    geiq = owned_structure(gme["company_org"], "GEIQ Propreté Nord", ("GEIQ",))
    the_tender = tender(gme["tender"])
    made = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id],
                          "conjoint")
    member = services.invite_structure(user(gme["aci"]), made, structure(geiq), "Nettoyage")
    services.answer_invitation(user(gme["company"]), member, True)
    with pytest.raises(GroupingError) as refused:
        services.update_terms(user(gme["aci"]), made, "conjoint", False, [lot.id for lot in the_tender.lots])
    assert refused.value.field == "lot_ids" and "GEIQ Propreté Nord" in refused.value.message


def test_the_clash_is_named_by_its_lot_not_by_its_grouping_number(ctx, gme):
    """A first grouping (another structure's) shifts the numbers: the clashing grouping is n° 2, and lot 2 must not
    be named for it."""
    from marche.groupings.services import GroupingError

    the_tender = tender(gme["tender"])
    services.start(user(gme["stranger"]), the_tender, structure(gme["stranger_s"]), [the_tender.lots[0].id],
                   "conjoint")
    db.session.commit()
    clashing = formed(gme, lots=(0, 1))
    the_tender = tender(gme["tender"])
    lot_ids = [lot.id for lot in the_tender.lots]
    assert clashing in lot_ids and clashing != lot_ids[0]  # a grouping number that is also a lot's
    with pytest.raises(GroupingError) as refused:
        services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), lot_ids, "conjoint")
    assert f"actif sur {services.lot_label(the_tender.lots[0])}" in refused.value.message


def test_status_mails_go_to_the_members_but_not_to_the_mandataire_who_acted(app, gme, mailbox):
    from tests.groupings.world import ACI, EA

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        grouping_id = formed(gme, lots=(0,), confirm=True)
        g = grouping(grouping_id)
        services.reopen(user(gme["aci"]), g)
        db.session.commit()
        g = grouping(grouping_id)
        services.confirm(user(gme["aci"]), g)
        db.session.commit()
        g = grouping(grouping_id)
        services.submit(user(gme["aci"]), g)
        db.session.commit()
        db.session.remove()
    for subject in ("Groupement confirmé", "Groupement rouvert", "Offre du groupement déposée"):
        receivers = {m["To"] for m in mailbox if m["Subject"].startswith(subject)}
        assert EA in receivers and ACI not in receivers, (subject, receivers)


def test_a_grouping_holds_20_members_pending_invitations_included(ctx, gme):
    from marche.groupings.services import MAX_MEMBERS, GroupingError

    the_tender = tender(gme["tender"])
    made = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id],
                          "conjoint")
    for n in range(1, MAX_MEMBERS):  # the mandataire and 19 invitations: 20
        services.invite_by_email(user(gme["aci"]), made, f"contact{n}@entreprise{n}.example.fr", f"Entreprise {n}",
                                 None)
    assert len([m for m in made.members if m.status in (MemberStatus.INVITED, MemberStatus.ACCEPTED)]) == 20
    with pytest.raises(GroupingError, match="20 membres au plus"):
        services.invite_by_email(user(gme["aci"]), made, "de-trop@entreprise.example.fr", "Une de trop", None)


def test_shares_carry_each_members_services_when_given(ctx, gme):
    g = grouping(formed(gme, lots=(0,)))
    lot = g.lots[0]
    other = next(m for m in g.accepted_members if m.id != g.mandataire_id)
    percents = {g.mandataire_id: "50", other.id: "50"}
    services.set_shares(user(gme["aci"]), g, lot, percents, services={other.id: "Taille des haies"})
    assert other.services == "Taille des haies"


def test_confirming_checks_again_that_no_member_answers_the_lot_twice(ctx, gme):
    """A clash the invitations could not see (two answers at the same moment, written here directly): the EA is in
    a second active grouping on the same lot, and the first cannot be confirmed."""
    from marche.groupings.models import GroupingLot
    from marche.groupings.services import GroupingError

    first = formed(gme, lots=(0,))
    the_tender = tender(gme["tender"])
    second = services.start(user(gme["stranger"]), the_tender, structure(gme["stranger_s"]), [the_tender.lots[1].id],
                            "conjoint")
    member = services.invite_structure(user(gme["stranger"]), second, structure(gme["ea_s"]), "Entretien")
    services.answer_invitation(user(gme["ea"]), member, True)
    db.session.add(GroupingLot(grouping=second, lot=the_tender.lots[0], price=the_tender.lots[0].amount))
    db.session.commit()
    with pytest.raises(GroupingError, match="déjà membre d'un autre groupement actif"):
        services.confirm(user(gme["aci"]), grouping(first))


def test_accepting_checks_again_that_a_reserved_lot_admits_the_member(ctx, gme):
    """Invited while the lot was open to all, a GEIQ cannot accept once the lot is reserved (a rectificatif reserved
    it meanwhile: the state is written directly); before that change it could."""
    geiq = owned_structure(gme["company_org"], "GEIQ Propreté", ("GEIQ",))
    the_tender = tender(gme["tender"])
    open_lot, reserved_lot = the_tender.lots[0], the_tender.lots[1]
    assert open_lot.clauses.get("reservation") is None and reserved_lot.clauses.get("reservation")
    g = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [open_lot.id], "conjoint")
    first = services.invite_structure(user(gme["aci"]), g, structure(geiq))
    second = services.invite_structure(user(gme["aci"]), g, structure(gme["ea_s"]))
    services.answer_invitation(user(gme["ea"]), second, True)  # an EA accepts: the lot admits everyone
    open_lot.clauses = {**open_lot.clauses, "reservation": reserved_lot.clauses["reservation"]}
    db.session.flush()
    with pytest.raises(services.GroupingError, match="L2113-14") as refused:
        services.answer_invitation(user(gme["company"]), first, True)
    assert "GEIQ Propreté n'est pas d'un type admis" in refused.value.message
    assert first.status == MemberStatus.INVITED
