"""The grouping rules (services), each on both sides of its boundary: the answers deadline, one active grouping per
structure and lot, reserved lots, who answers an invitation, changes only while forming, confirming, every state
move allowed or refused by the table, and the award followers."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marche.core.errors import DomainError
from marche.core.models import AuditEntry, utcnow
from marche.extensions import db
from marche.groupings import services
from marche.groupings.models import Grouping, GroupingMember, GroupingShare, GroupingStatus as S, MemberStatus
from marche.groupings.services import GROUPING_STATES
from marche.tenders import award
from marche.tenders.models import LotStatus, TenderStatus
from tests.groupings.world import formed, gme, grouping, structure, tender, user  # noqa: F401 (fixture)
from tests.tenders.answers_world import owned_structure


@pytest.fixture
def ctx(app):
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        yield
        db.session.remove()


def start(ids, lots=(0,), kind="conjoint", who="aci", structure_key="aci_s", now=None):
    the_tender = tender(ids["tender"])
    return services.start(user(ids[who]), the_tender, structure(ids[structure_key]),
                          [the_tender.lots[i].id for i in lots], kind, now=now)


def rows(grouping_id: int) -> tuple:
    db.session.expire_all()
    g = grouping(grouping_id)
    return (g.status, g.kind, g.mandataire_id, sorted((m.id, m.status, m.organisation_id) for m in g.members),
            sorted(gl.lot_id for gl in g.lots),
            db.session.execute(select(GroupingShare.member_id, GroupingShare.percent).order_by(GroupingShare.id)).all())


def test_a_grouping_is_formed_until_the_deadline_instant_exclusive(ctx, gme):
    deadline = tender(gme["tender"]).answers_deadline
    grouping_ = start(gme, now=deadline - timedelta(seconds=1))
    assert grouping_.status == S.FORMING and grouping_.mandataire.structure_id == gme["aci_s"]
    db.session.rollback()
    with pytest.raises(DomainError, match="date limite de réponse est passée"):
        start(gme, now=deadline)


def test_no_grouping_on_a_tender_that_is_not_published(ctx, gme):
    for status in (TenderStatus.DRAFT, TenderStatus.CLOSED, TenderStatus.CANCELLED):
        tender(gme["tender"]).status = status
        with pytest.raises(DomainError, match="pas ouverte aux réponses"):
            start(gme)


def test_lots_must_be_the_tenders_and_at_least_one(ctx, gme):
    the_tender = tender(gme["tender"])
    with pytest.raises(DomainError, match="au moins un lot"):
        services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [], "conjoint")
    with pytest.raises(DomainError, match="n'appartient pas"):
        services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id, 999999],
                       "conjoint")
    with pytest.raises(DomainError, match="conjoint ou solidaire"):
        services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id], "mixte")


def test_joint_liability_of_the_mandataire_only_in_a_conjoint_grouping(ctx, gme):
    the_tender = tender(gme["tender"])
    conjoint = services.start(user(gme["aci"]), the_tender, structure(gme["aci_s"]), [the_tender.lots[0].id],
                              "conjoint", jointly_liable=True)
    assert conjoint.mandataire_jointly_liable and conjoint.decp_type == "Conjoint"
    solidaire = services.start(user(gme["ea"]), the_tender, structure(gme["ea_s"]), [the_tender.lots[0].id],
                               "solidaire", jointly_liable=True)
    assert not solidaire.mandataire_jointly_liable and solidaire.decp_type == "Solidaire"


def test_one_active_grouping_per_structure_and_lot(ctx, gme):
    first = start(gme, lots=(0,))
    db.session.commit()
    with pytest.raises(DomainError, match="déjà membre d'un autre groupement actif"):
        start(gme, lots=(0, 1))
    db.session.rollback()
    # another lot is free
    other = start(gme, lots=(1,))
    assert other.id != first.id
    # once the first is dissolved, the lot is free again
    services.dissolve(user(gme["aci"]), grouping(first.id), "Partenaire indisponible")
    db.session.commit()
    assert start(gme, lots=(0,)).status == S.FORMING


def test_accepting_into_a_second_grouping_on_the_same_lot_is_refused(ctx, gme):
    # the EA forms its own grouping on lot 1, then the ACI invites it on lot 1 too
    start(gme, lots=(0,), who="ea", structure_key="ea_s")
    aci_grouping = start(gme, lots=(0,))
    member = services.invite_structure(user(gme["aci"]), aci_grouping, structure(gme["ea_s"]))
    db.session.commit()
    before = rows(aci_grouping.id)
    with pytest.raises(DomainError, match="Atelier du Nord est déjà membre d'un autre groupement actif"):
        services.answer_invitation(user(gme["ea"]), db.session.get(GroupingMember, member.id), True)
    db.session.rollback()
    assert rows(aci_grouping.id) == before
    # declining is always possible
    services.answer_invitation(user(gme["ea"]), db.session.get(GroupingMember, member.id), False, reason="Déjà pris")
    assert db.session.get(GroupingMember, member.id).status == MemberStatus.DECLINED


def test_a_reserved_lot_admits_only_eligible_kinds_article_cited(ctx, gme):
    # lot 2 is reserved to SIAE + EA/ESAT (L2113-14): an EI is admitted (SIAE), a GEIQ or a company is not
    geiq = owned_structure(gme["company_org"], "GEIQ Propreté", ("GEIQ",))
    grouping_ = start(gme, lots=(1,))
    with pytest.raises(DomainError) as refused:
        services.invite_structure(user(gme["aci"]), grouping_, structure(geiq))
    assert refused.value.message == ("Lot 2 « Secteur 2 » est réservé aux SIAE, aux entreprises adaptées et aux ESAT "
                                     "(article L2113-14 du code de la commande publique) : GEIQ Propreté n'est pas "
                                     "d'un type admis, ni seul ni en groupement.")
    with pytest.raises(DomainError, match="L2113-14"):
        services.invite_by_email(user(gme["aci"]), grouping_, "x@y.example.fr", "Y SARL", None)
    assert services.invite_structure(user(gme["aci"]), grouping_, structure(gme["stranger_s"])).status == \
        MemberStatus.INVITED


def test_only_an_admin_of_the_invited_organisation_answers(ctx, gme, make_user):
    from marche.accounts.models import Membership, MemberRole

    colleague = make_user("collegue@atelier.example.fr", name="Autre SAS")
    db.session.add(Membership(user_id=colleague, organisation_id=gme["ea_org"], role=MemberRole.MEMBER))
    db.session.commit()
    grouping_ = start(gme)
    member = services.invite_structure(user(gme["aci"]), grouping_, structure(gme["ea_s"]))
    for who in (colleague, gme["aci"], gme["buyer"]):
        with pytest.raises(DomainError, match="Seul un administrateur de l'organisation invitée"):
            services.answer_invitation(user(who), member, True)
    services.answer_invitation(user(gme["ea"]), member, True)
    assert member.status == MemberStatus.ACCEPTED
    with pytest.raises(DomainError, match="déjà reçu une réponse"):
        services.answer_invitation(user(gme["ea"]), member, False)


def test_an_email_invitation_is_answered_by_that_address_for_an_organisation_it_administers(ctx, gme):
    grouping_ = start(gme)
    member = services.invite_by_email(user(gme["aci"]), grouping_, "Contact@Entreprise.example.fr",
                                      "Paysages Durand SARL", "")
    company = user(gme["company"])
    with pytest.raises(DomainError, match="adressée à Contact@Entreprise.example.fr"):
        services.answer_invitation(user(gme["stranger"]), member, True, organisation=None)
    with pytest.raises(DomainError, match="dont vous êtes administrateur"):
        services.answer_invitation(company, member, True, organisation=user(gme["buyer"]).organisation)
    services.answer_invitation(company, member, True, organisation=company.organisation)
    assert (member.status, member.organisation_id) == (MemberStatus.ACCEPTED, gme["company_org"])


@pytest.mark.parametrize("email, siret, field", [("pas-une-adresse", "", "email"), ("a@b.fr", "12345678901234", "siret")])
def test_email_invitations_check_address_and_siret(ctx, gme, email, siret, field):
    grouping_ = start(gme)
    with pytest.raises(DomainError) as refused:
        services.invite_by_email(user(gme["aci"]), grouping_, email, "Une SARL", siret)
    assert refused.value.field == field


def test_a_member_twice_or_a_claimed_structure_by_email_is_refused(ctx, gme):
    grouping_ = start(gme)
    services.invite_structure(user(gme["aci"]), grouping_, structure(gme["ea_s"]))
    with pytest.raises(DomainError, match="Atelier du Nord est déjà invité"):
        services.invite_structure(user(gme["aci"]), grouping_, structure(gme["ea_s"]))
    with pytest.raises(DomainError, match="Les Jardins Solidaires est déjà membre"):
        services.invite_structure(user(gme["aci"]), grouping_, structure(gme["aci_s"]))
    from tests.conftest import VALID_SIRETS

    structure(gme["ea_s"]).siret = VALID_SIRETS[-3]
    with pytest.raises(DomainError, match="déjà sur le portail : invitez-la depuis l'annuaire"):
        services.invite_by_email(user(gme["aci"]), grouping_, "a@b.fr", "Atelier", VALID_SIRETS[-3])
    unclaimed = owned_structure(None, "Chantier sans compte", ("ACI",))
    with pytest.raises(DomainError, match="pas encore de compte sur le portail"):
        services.invite_structure(user(gme["aci"]), grouping_, structure(unclaimed))


def test_composition_changes_only_while_forming(ctx, gme):
    grouping_id = formed(gme, confirm=True)
    g = grouping(grouping_id)
    ea_member = next(m for m in g.members if m.structure_id == gme["ea_s"])
    before = rows(grouping_id)
    aci = user(gme["aci"])
    for attempt in (lambda: services.invite_structure(aci, g, structure(gme["stranger_s"])),
                    lambda: services.remove_member(aci, g, ea_member),
                    lambda: services.set_mandataire(aci, g, ea_member),
                    lambda: services.update_terms(aci, g, "conjoint", False, [g.lots[0].lot_id]),
                    lambda: services.set_shares(aci, g, g.lots[0], {g.mandataire_id: "50", ea_member.id: "50"})):
        with pytest.raises(DomainError, match="la composition ne change que pendant sa constitution"):
            attempt()
        db.session.rollback()
    assert rows(grouping_id) == before
    # reopened, it changes again
    services.reopen(aci, grouping(grouping_id))
    services.set_mandataire(aci, grouping(grouping_id), db.session.get(GroupingMember, ea_member.id))
    assert grouping(grouping_id).mandataire_id == ea_member.id


def test_the_mandataire_does_not_leave_and_a_mandataire_is_an_accepted_member(ctx, gme):
    grouping_ = start(gme)
    invited = services.invite_structure(user(gme["aci"]), grouping_, structure(gme["ea_s"]))
    with pytest.raises(DomainError, match="Le mandataire ne se retire pas"):
        services.remove_member(user(gme["aci"]), grouping_, grouping_.mandataire)
    with pytest.raises(DomainError, match="invitation acceptée"):
        services.set_mandataire(user(gme["aci"]), grouping_, invited)
    services.remove_member(user(gme["aci"]), grouping_, invited)
    assert invited.status == MemberStatus.REMOVED
    # removed, it can be invited again (the same row)
    again = services.invite_structure(user(gme["aci"]), grouping_, structure(gme["ea_s"]))
    assert again.id == invited.id and again.status == MemberStatus.INVITED


def test_confirming_needs_two_members_no_pending_invitation_and_100_percent_per_lot(ctx, gme):
    grouping_ = start(gme, lots=(0, 1))
    aci = user(gme["aci"])
    with pytest.raises(DomainError, match="au moins deux membres"):
        services.confirm(aci, grouping_)
    member = services.invite_structure(aci, grouping_, structure(gme["ea_s"]))
    with pytest.raises(DomainError, match="1 invitation\\(s\\) en attente"):
        services.confirm(aci, grouping_)
    services.answer_invitation(user(gme["ea"]), member, True)
    first, second = grouping_.lots
    services.set_shares(aci, grouping_, first, {grouping_.mandataire_id: "100"})
    with pytest.raises(DomainError) as refused:
        services.confirm(aci, grouping_)
    assert "les parts font 0 %" in refused.value.message  # lot 2 not shared
    services.set_shares(aci, grouping_, second, {grouping_.mandataire_id: "100"})
    with pytest.raises(DomainError, match="sans part : Atelier du Nord"):
        services.confirm(aci, grouping_)
    services.set_shares(aci, grouping_, second, {grouping_.mandataire_id: "99.99", member.id: "0.01"})
    services.confirm(aci, grouping_)
    assert grouping_.status == S.CONFIRMED and grouping_.confirmed_at is not None


def test_removing_a_member_takes_its_shares_so_the_lot_must_be_shared_again(ctx, gme):
    grouping_id = formed(gme)
    g = grouping(grouping_id)
    ea_member = next(m for m in g.members if m.structure_id == gme["ea_s"])
    services.remove_member(user(gme["aci"]), g, ea_member)
    assert services.lot_totals(g) == {gl.id: Decimal("60.00") for gl in g.lots}
    assert any("les parts font 60 %" in problem for problem in services.confirm_problems(g))


@pytest.mark.parametrize("source", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_state_move_is_allowed_or_refused_by_the_table(ctx, gme, source, target):
    allowed = {(S.FORMING, S.CONFIRMED), (S.CONFIRMED, S.FORMING), (S.CONFIRMED, S.SUBMITTED),
               (S.CONFIRMED, S.AWARDED), (S.SUBMITTED, S.AWARDED), (S.CONFIRMED, S.NOT_RETAINED),
               (S.SUBMITTED, S.NOT_RETAINED), (S.FORMING, S.DISSOLVED), (S.CONFIRMED, S.DISSOLVED),
               (S.SUBMITTED, S.DISSOLVED)}
    g = Grouping(status=source)
    if (source, target) in allowed:
        GROUPING_STATES.check(g, target)
    else:
        with pytest.raises(DomainError, match=re.escape(f"Ce groupement est « {source.label} »")):
            GROUPING_STATES.check(g, target)


def test_submitting_and_dissolving_are_audited_and_mailed_to_members(ctx, gme, mailbox):
    grouping_id = formed(gme, confirm=True)
    g = grouping(grouping_id)
    deadline = g.tender.answers_deadline
    with pytest.raises(DomainError, match="date limite de réponse est passée"):
        services.submit(user(gme["aci"]), g, now=deadline)
    services.submit(user(gme["aci"]), g, now=deadline - timedelta(seconds=1))
    with pytest.raises(DomainError, match="Motif de la dissolution : ce champ est obligatoire"):
        services.dissolve(user(gme["aci"]), g, "  ")
    services.dissolve(user(gme["aci"]), g, "Le lot a été retiré")
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "grouping", AuditEntry.object_id == str(grouping_id)).order_by(AuditEntry.id)).all()
    assert actions[-3:] == ["grouping.confirmed", "grouping.submitted", "grouping.dissolved"]
    subjects = [m["Subject"] for m in mailbox if m["To"] == "direction@atelier.example.fr"]
    assert any(s.startswith("Groupement dissous") for s in subjects)
    assert any(s.startswith("Offre du groupement déposée") for s in subjects)


def close(ids):
    the_tender = tender(ids["tender"])
    the_tender.status = TenderStatus.CLOSED
    db.session.commit()
    return the_tender


def award_data(**kwargs):
    values = dict(structure_id=None, siret=None, holder_name=None, amount="90000", awarded_on=utcnow().date(),
                  offers_count=2, grouping_id=None)
    values.update(kwargs)
    return award.AwardData(**values)


def test_a_lot_awarded_to_the_grouping_carries_its_members_and_moves_it(ctx, gme):
    grouping_id = formed(gme, lots=(0,), confirm=True)
    the_tender = close(gme)
    lot = the_tender.lots[0]
    recorded = award.award_lot(user(gme["buyer"]), the_tender, lot, award_data(grouping_id=grouping_id))
    db.session.commit()
    g = grouping(grouping_id)
    assert g.status == S.AWARDED and recorded.holder_grouping_id == grouping_id
    assert recorded.holder_siret == structure(gme["aci_s"]).siret
    assert recorded.holder_structure_id == gme["aci_s"]  # the mandataire's profile stands for the grouping
    assert recorded.holder_name == g.name
    from marche.core.models import OutboxMessage

    payload = db.session.scalar(select(OutboxMessage.payload).where(OutboxMessage.kind == award.LOT_AWARDED))
    assert payload["holder"]["grouping_type"] == "Solidaire"
    assert sorted((m["name"], m["percent"], m["mandataire"]) for m in payload["holder"]["members"]) == [
        ("Atelier du Nord", "40.00", False), ("Les Jardins Solidaires", "60.00", True)]


def test_a_grouping_with_a_long_name_holds_the_lot_under_its_first_250_characters(ctx, gme):
    grouping_id = formed(gme, lots=(0,), confirm=True)
    structure(gme["aci_s"]).name = "Les Jardins Solidaires de la Métropole " + "x" * 200
    structure(gme["aci_s"]).brand = None
    db.session.commit()
    full = grouping(grouping_id).name
    assert len(full) > 251
    the_tender = close(gme)
    recorded = award.award_lot(user(gme["buyer"]), the_tender, the_tender.lots[0], award_data(grouping_id=grouping_id))
    assert recorded.holder_name == full[:250]


def test_a_grouping_that_did_not_answer_the_lot_cannot_hold_it(ctx, gme):
    forming = formed(gme, lots=(0,))
    the_tender = close(gme)
    with pytest.raises(DomainError, match="n'a pas répondu à ce lot"):
        award.award_lot(user(gme["buyer"]), the_tender, the_tender.lots[0], award_data(grouping_id=forming))
    with pytest.raises(DomainError, match="Groupement inconnu"):
        award.award_lot(user(gme["buyer"]), the_tender, the_tender.lots[0], award_data(grouping_id=999999))
    assert the_tender.lots[0].status == LotStatus.OPEN


def test_not_retained_once_every_lot_it_answered_is_decided_elsewhere(ctx, gme):
    grouping_id = formed(gme, lots=(0, 1), confirm=True)
    the_tender = close(gme)
    buyer = user(gme["buyer"])
    other = structure(gme["stranger_s"])
    award.award_lot(buyer, the_tender, the_tender.lots[0], award_data(structure_id=other.id))
    db.session.commit()
    assert grouping(grouping_id).status == S.CONFIRMED  # lot 2 still open
    award.mark_unsuccessful(buyer, the_tender, the_tender.lots[1], "Offres inacceptables", 2)
    db.session.commit()
    db.session.expire_all()
    assert grouping(grouping_id).status == S.NOT_RETAINED
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "grouping.not_retained", AuditEntry.actor_id.is_(None))) == 1


def test_the_thread_refuses_an_empty_or_huge_message(ctx, gme):
    grouping_id = formed(gme)
    g = grouping(grouping_id)
    with pytest.raises(DomainError, match="Message : ce champ est obligatoire"):
        services.post_message(user(gme["ea"]), g, " ")
    with pytest.raises(DomainError, match="5000 caractères au plus"):
        services.post_message(user(gme["ea"]), g, "x" * 5001)
    message = services.post_message(user(gme["ea"]), g, "x" * 5000)
    assert message.member.structure_id == gme["ea_s"]


def test_subcontractors_are_declared_with_a_valid_siret_until_the_award(ctx, gme):
    grouping_id = formed(gme)
    g = grouping(grouping_id)
    with pytest.raises(DomainError, match="SIRET du sous-traitant"):
        services.add_subcontractor(user(gme["aci"]), g, g.mandataire, "Élagage Dupont", "12345678901234", "Élagage")
    from tests.conftest import VALID_SIRETS

    row = services.add_subcontractor(user(gme["aci"]), g, g.mandataire, "Élagage Dupont", VALID_SIRETS[-1],
                                     "Élagage", "12 000")
    assert row.amount == Decimal("12000")
    g.status = S.AWARDED
    with pytest.raises(DomainError, match="ne déclare plus de sous-traitant"):
        services.add_subcontractor(user(gme["aci"]), g, g.mandataire, "Autre", VALID_SIRETS[-2], "Tonte")


def test_twenty_email_invitations_a_day_then_a_clear_refusal(ctx, gme):
    from datetime import timedelta

    from marche.groupings.models import GroupingMember
    from marche.groupings.services import MAX_EMAIL_INVITATIONS_PER_DAY

    grouping_ = start(gme)
    aci = user(gme["aci"])
    for n in range(MAX_EMAIL_INVITATIONS_PER_DAY):
        row = GroupingMember(grouping_id=grouping_.id, invited_email=f"ancien{n}@exemple.fr", company_name="X",
                             status=MemberStatus.DECLINED, invited_by_id=aci.id)
        db.session.add(row)
    db.session.flush()
    with pytest.raises(DomainError, match="20 invitations par e-mail en 24 heures"):
        services.invite_by_email(aci, grouping_, "nouveau@exemple.fr", "Nouvelle SARL", None)
    # one of them 24 hours and a second old: it no longer counts
    oldest = db.session.scalar(select(GroupingMember).where(GroupingMember.invited_email == "ancien0@exemple.fr"))
    oldest.created_at = utcnow() - timedelta(hours=24, seconds=1)
    db.session.flush()
    assert services.invite_by_email(aci, grouping_, "nouveau@exemple.fr", "Nouvelle SARL", None).status == \
        MemberStatus.INVITED


def test_an_email_invitation_cannot_bring_in_an_organisation_already_in(ctx, gme):
    grouping_ = start(gme)
    member = services.invite_by_email(user(gme["aci"]), grouping_, "direction@jardins.example.fr", "Doublon SARL",
                                      None)
    aci = user(gme["aci"])  # the mandataire's own admin, answering with its own organisation
    with pytest.raises(DomainError, match="Jardins Solidaires SAS est déjà dans ce groupement"):
        services.answer_invitation(aci, member, True, organisation=aci.organisation)
    assert member.status == MemberStatus.INVITED
