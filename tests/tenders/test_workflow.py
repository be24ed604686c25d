"""The tender workflow's table of moves, its guards, validation by territory, assistance, comments and closing."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from marche.accounts.models import OrganisationKind, User
from marche.clauses import rules
from marche.clauses.spec import ClauseSpec, InsertionSpec
from marche.core import access, outbox
from marche.core.errors import DomainError
from marche.core.models import AuditEntry, utcnow
from marche.extensions import db
from marche.tenders import award, workflow
from marche.tenders.models import CommentKind, Tender, TenderComment, TenderStatus as S

from tests.conftest import VALID_SIRETS

from .factories import LILLE, complete_clauses, make_facilitator, make_tender, no_environment_clauses, organisation_of

HOLDER_SIRET = VALID_SIRETS[48]
#: the workflow as the issue states it, written here rather than read from the code under test
EXPECTED_MOVES = {
    (S.DRAFT, S.SUBMITTED), (S.DRAFT, S.CANCELLED),
    (S.SUBMITTED, S.DRAFT), (S.SUBMITTED, S.PUBLISHED), (S.SUBMITTED, S.CANCELLED),
    (S.PUBLISHED, S.CLOSED), (S.PUBLISHED, S.CANCELLED),
    (S.CLOSED, S.AWARDED), (S.CLOSED, S.UNSUCCESSFUL), (S.CLOSED, S.CANCELLED),
}


@pytest.fixture
def people(app, make_user):
    """A public buyer (Lille), a platform admin, a verified Nord facilitator, a verified Rhône one and an
    unverified Nord one."""
    ids = {
        "buyer": make_user("acheteur@lille.example.fr", name="Ville de Lille"),
        "colleague": None,
        "admin": make_user("admin@plateforme.example.fr", kind=OrganisationKind.PLATFORM, admin=True),
    }
    with app.app_context():
        ids["nord"] = make_facilitator(make_user, "plie@nord.example.fr", ["dep:59"], name="PLIE Nord")
        ids["rhone"] = make_facilitator(make_user, "plie@rhone.example.fr", ["dep:69"], name="PLIE Rhône")
        ids["nord_unverified"] = make_facilitator(make_user, "mde@nord.example.fr", ["dep:59"], verified=False,
                                                  name="Maison de l'emploi non vérifiée")
        ids["buyer_org"] = organisation_of(ids["buyer"])
    return ids


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def snapshot(tender_id: int) -> tuple:
    db.session.expire_all()
    tender = db.session.get(Tender, tender_id)
    return (tender.status, tender.validated_at, tender.published_at, tender.closed_at, tender.outcome_reason,
            tuple(lot.status for lot in tender.lots),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
            db.session.scalar(select(func.count()).select_from(TenderComment)))


def test_the_table_is_the_workflow_of_the_issue():
    states = list(S)
    allowed = {(a, b) for a in states for b in states if workflow.TENDER_STATES.allowed(type("T", (), {"status": a}), b)}
    assert allowed == EXPECTED_MOVES


def _attempt(target: str, tender: Tender, people: dict) -> None:
    """The service that leads to `target`, as the actor who may ask for it."""
    buyer, admin = user(people["buyer"]), user(people["admin"])
    if target == S.SUBMITTED:
        workflow.submit(buyer, tender)
    elif target == S.DRAFT:
        workflow.send_back(admin, tender, "Ajoutez un critère environnemental.")
    elif target == S.PUBLISHED:
        workflow.publish(buyer, tender)
    elif target == S.CANCELLED:
        workflow.cancel(buyer, tender, "Besoin abandonné par le conseil municipal.")
    elif target == S.CLOSED:
        workflow.close(None, tender)
    elif target == S.AWARDED:
        award.award_lot(buyer, tender, tender.lots[0], award.AwardData(
            None, HOLDER_SIRET, "Espaces Verts du Nord", "250000", date(2026, 11, 2), 3))
    elif target == S.UNSUCCESSFUL:
        award.mark_unsuccessful(buyer, tender, tender.lots[0], "Aucune offre reçue.", 0)


@pytest.mark.parametrize("source", list(S))
def test_every_pair_of_states_against_the_table(app_ctx, people, source):
    """Each of the 7 × 6 moves through its service: the table's moves land (audited with from/to), every
    other is refused in French with nothing changed."""
    for target in S:
        if target == source:
            continue
        tender_id = make_tender(people["buyer_org"], status=source, validated=True)
        before = snapshot(tender_id)
        tender = db.session.get(Tender, tender_id)
        if (source, target) in EXPECTED_MOVES:
            _attempt(target, tender, people)
            db.session.commit()
            db.session.expire_all()
            assert db.session.get(Tender, tender_id).status == target, (source, target)
            entry = db.session.execute(select(AuditEntry).where(
                AuditEntry.object_type == "tender", AuditEntry.object_id == str(tender_id),
                AuditEntry.details["to"].astext == str(target))).scalar_one()
            assert entry.details["from"] == source
        else:
            with pytest.raises(DomainError) as refused:
                _attempt(target, tender, people)
            db.session.rollback()
            assert refused.value.message.startswith(("Cette consultation est « ", "Un lot s'attribue une fois")), \
                refused.value.message
            assert snapshot(tender_id) == before, (source, target)


def test_an_illegal_move_names_both_states(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.CANCELLED, validated=True))
    with pytest.raises(DomainError) as refused:
        workflow.publish(user(people["buyer"]), tender)
    assert refused.value.message == "Cette consultation est « Annulée » : elle ne peut pas passer à l'état « Publiée »."
    draft = db.session.get(Tender, make_tender(people["buyer_org"]))
    with pytest.raises(DomainError, match="clôturée"):
        award.award_lot(user(people["buyer"]), draft, draft.lots[0], award.AwardData(
            None, HOLDER_SIRET, "Espaces Verts du Nord", "250000", date(2026, 11, 2), 3))


# --- submission guards ----------------------------------------------------------------------------------

def test_submit_is_refused_while_a_legal_line_blocks_naming_line_and_article(app_ctx, people):
    tender_id = make_tender(people["buyer_org"], lots=[no_environment_clauses()])
    tender = db.session.get(Tender, tender_id)
    before = snapshot(tender_id)
    with pytest.raises(DomainError) as refused:
        workflow.submit(user(people["buyer"]), tender)
    db.session.rollback()
    message = refused.value.message
    for obligation in (rules.ENVIRONMENTAL_AWARD_CRITERION, rules.ENVIRONMENTAL_EXECUTION_CONDITION):
        assert f"{obligation.label} ({obligation.article})" in message
    assert f"{rules.SOCIAL_CONSIDERATION.label} ({rules.SOCIAL_CONSIDERATION.article})" not in message
    assert snapshot(tender_id) == before


def test_submit_names_each_missing_fact(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], amount=None, place_ref=None,
                                                answers_deadline=utcnow() - timedelta(minutes=1)))
    with pytest.raises(DomainError) as refused:
        workflow.submit(user(people["buyer"]), tender)
    assert "montant estimé" in refused.value.message
    assert "lieu d'exécution" in refused.value.message
    assert "date limite de réponse est passée" in refused.value.message


def test_a_waived_line_or_a_date_before_the_obligation_lets_the_tender_through(app_ctx, people):
    waived = ClauseSpec(
        insertion=InsertionSpec(Decimal("300000"), Decimal("0.5"), Decimal("0.05"), Decimal("30"),
                                modes=("direct_hire",), publics=("long_term_jobseeker",)),
        environmental_conditions=("reuse",)).to_json()
    exception = rules.ENVIRONMENTAL_AWARD_CRITERION.exceptions
    if exception:  # the criterion has a legal exception: record it and the tender passes
        waived["waivers"] = [{"obligation": rules.ENVIRONMENTAL_AWARD_CRITERION.code,
                              "exception": exception[0][0], "reason": "Motif écrit."}]
        tender = db.session.get(Tender, make_tender(people["buyer_org"], lots=[waived]))
        workflow.submit(user(people["buyer"]), tender)
    # the day before the environmental criterion applies (21 August 2026), it is not yet required
    before = rules.ENVIRONMENTAL_AWARD_CRITERION.applies_from - timedelta(days=1)
    early = db.session.get(Tender, make_tender(people["buyer_org"], launch_date=min(
        before, rules.ENVIRONMENTAL_EXECUTION_CONDITION.applies_from - timedelta(days=1)),
        lots=[no_environment_clauses()]))
    workflow.submit(user(people["buyer"]), early)
    assert early.status == S.SUBMITTED
    # on its first day it is
    on_time = db.session.get(Tender, make_tender(people["buyer_org"],
                                                 launch_date=rules.ENVIRONMENTAL_AWARD_CRITERION.applies_from,
                                                 lots=[no_environment_clauses()]))
    with pytest.raises(DomainError, match=rules.ENVIRONMENTAL_AWARD_CRITERION.article):
        workflow.submit(user(people["buyer"]), on_time)


def test_a_private_buyer_has_no_obligation_to_meet(app_ctx, make_user):
    buyer_id = make_user("rse@entreprise.example.fr", kind=OrganisationKind.PRIVATE_COMPANY, name="Entreprise RSE")
    tender = db.session.get(Tender, make_tender(organisation_of(buyer_id), lots=[{}]))
    workflow.submit(user(buyer_id), tender)
    assert tender.status == S.SUBMITTED


# --- validation, send back, publication ------------------------------------------------------------------

def test_publish_only_after_validation(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"]))
    buyer, nord = user(people["buyer"]), user(people["nord"])
    workflow.submit(buyer, tender)
    with pytest.raises(DomainError, match="pas encore validée"):
        workflow.publish(buyer, tender)
    assert tender.status == S.SUBMITTED
    workflow.validate(nord, tender, "Clauses claires, merci.")
    assert tender.status == S.SUBMITTED and tender.validated_by_id == nord.id
    with pytest.raises(DomainError, match="déjà validée"):
        workflow.validate(nord, tender)
    workflow.publish(buyer, tender)
    db.session.commit()
    assert tender.status == S.PUBLISHED and tender.published_at is not None
    kinds = [c.kind for c in tender.comments]
    assert kinds == [CommentKind.VALIDATED]
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "tender.validated")) == {
        "capacity": [user(people["nord"]).organisation.id]}


def test_publish_is_refused_once_the_deadline_has_passed(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.SUBMITTED, validated=True,
                                                answers_deadline=utcnow() - timedelta(seconds=1)))
    with pytest.raises(DomainError, match="date limite de réponse est passée"):
        workflow.publish(user(people["buyer"]), tender)


def test_send_back_needs_a_comment_and_clears_the_validation(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.SUBMITTED))
    nord = user(people["nord"])
    with pytest.raises(DomainError) as refused:
        workflow.send_back(nord, tender, "   ")
    assert refused.value.field == "comment"
    db.session.rollback()
    workflow.send_back(nord, tender, "Précisez les publics éligibles.")
    db.session.commit()
    assert tender.status == S.DRAFT and tender.validated_at is None
    assert [(c.kind, c.body, c.organisation_id) for c in tender.comments] == [
        (CommentKind.SENT_BACK, "Précisez les publics éligibles.", nord.organisation.id)]


def test_cancel_needs_its_reason(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.PUBLISHED))
    with pytest.raises(DomainError) as refused:
        workflow.cancel(user(people["buyer"]), tender, "")
    assert refused.value.field == "reason"
    db.session.rollback()
    workflow.cancel(user(people["buyer"]), tender, "Besoin abandonné.")
    assert tender.status == S.CANCELLED and tender.outcome_reason == "Besoin abandonné."


# --- who validates: the territory's verified facilitators -------------------------------------------------

def test_a_nord_facilitator_validates_a_lille_tender_a_rhone_one_does_not(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.SUBMITTED, place_ref=LILLE))
    assert access.can(user(people["nord"]), "validate", tender)
    assert access.can(user(people["admin"]), "validate", tender)
    for name in ("rhone", "nord_unverified", "buyer"):
        assert not access.can(user(people[name]), "validate", tender), name
        assert not access.can(user(people[name]), "follow_workflow", tender) or name == "buyer", name


@pytest.mark.parametrize("territories, place, covered", [
    (["commune:59350"], "commune:59350", True),
    (["commune:59512"], "commune:59350", False),  # Roubaix does not cover Lille
    (["dep:59"], "commune:59350", True),
    (["dep:62"], "commune:59350", False),
    (["reg:32"], "commune:59350", True),
    (["reg:84"], "commune:59350", False),
    (["reg:32"], "dep:59", True),
    (["dep:59"], "dep:59", True),
    (["commune:59350"], "dep:59", False),  # a commune does not cover its whole department
    (["dep:59"], "reg:32", False),
    (["country:FR"], "dep:69", True),
    (["dep:69"], None, False),  # no place yet: only the platform validates
])
def test_coverage_at_each_level(app_ctx, people, make_user, territories, place, covered):
    facilitator = make_facilitator(make_user, "f@territoire.example.fr", territories, name="Facilitateur")
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.SUBMITTED, place_ref=place))
    assert access.can(user(facilitator), "validate", tender) is covered


def test_nobody_validates_their_own_organisations_tender(app_ctx, people):
    from marche.accounts.models import Membership

    nord = user(people["nord"])
    db.session.add(Membership(user=nord, organisation_id=people["buyer_org"], role="member"))
    db.session.commit()
    tender = db.session.get(Tender, make_tender(people["buyer_org"], status=S.SUBMITTED))
    assert not access.can(nord, "validate", tender)


def test_validators_see_a_tender_from_its_submission_not_its_draft(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"]))
    assert not access.can(user(people["nord"]), "follow_workflow", tender)
    tender.status = S.SUBMITTED
    assert access.can(user(people["nord"]), "follow_workflow", tender)


def test_queue_lists_the_territorys_tenders(app_ctx, people):
    lille = make_tender(people["buyer_org"], status=S.SUBMITTED, title="Lille")
    lyon = make_tender(people["buyer_org"], status=S.SUBMITTED, place_ref="commune:69123", title="Lyon")
    make_tender(people["buyer_org"], status=S.SUBMITTED, validated=True, title="Déjà validée")
    make_tender(people["buyer_org"], title="Brouillon")
    assert [t.id for t in workflow.queue_for(user(people["nord"])).to_validate] == [lille]
    assert [t.id for t in workflow.queue_for(user(people["rhone"])).to_validate] == [lyon]
    assert [t.id for t in workflow.queue_for(user(people["nord_unverified"])).to_validate] == []
    assert {t.id for t in workflow.queue_for(user(people["admin"])).to_validate} == {lille, lyon}


# --- assistance and comments ---------------------------------------------------------------------------------

def test_the_buyer_asks_a_facilitator_of_its_territory_to_assist(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"]))
    buyer, nord, rhone = user(people["buyer"]), user(people["nord"]), user(people["rhone"])
    assert [o.id for o in workflow.assist_candidates(tender)] == [nord.organisation.id]
    with pytest.raises(DomainError) as refused:
        workflow.request_assist(buyer, tender, rhone.organisation.id)
    assert refused.value.field == "organisation"
    db.session.rollback()
    with pytest.raises(DomainError):
        workflow.request_assist(buyer, tender, user(people["nord_unverified"]).organisation.id)
    db.session.rollback()
    assert not access.can(nord, "follow_workflow", tender)
    workflow.request_assist(buyer, tender, nord.organisation.id)
    db.session.commit()
    assert access.can(nord, "follow_workflow", tender) and access.can(nord, "comment", tender)
    assert not access.can(rhone, "follow_workflow", tender)
    comment = workflow.add_comment(nord, tender, "Pensez au critère environnemental.")
    assert comment.organisation_id == nord.organisation.id
    assert [t.id for t in workflow.queue_for(nord).assisted] == [tender.id]
    workflow.request_assist(buyer, tender, None)
    assert not access.can(nord, "follow_workflow", tender)


def test_a_comment_is_checked(app_ctx, people):
    tender = db.session.get(Tender, make_tender(people["buyer_org"]))
    for body in ("", "  ", "x" * (workflow.MAX_TEXT + 1)):
        with pytest.raises(DomainError) as refused:
            workflow.add_comment(user(people["buyer"]), tender, body)
        assert refused.value.field == "body"
        db.session.rollback()
    workflow.add_comment(user(people["buyer"]), tender, "x" * workflow.MAX_TEXT)


# --- closing at the answers deadline --------------------------------------------------------------------------

def test_close_due_on_both_sides_of_the_deadline(app_ctx, people):
    now = utcnow()
    later = make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=now + timedelta(seconds=1))
    exactly = make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=now)
    earlier = make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=now - timedelta(seconds=1))
    draft = make_tender(people["buyer_org"], answers_deadline=now - timedelta(days=1))
    assert workflow.close_due(now) == 2
    db.session.commit()
    db.session.expire_all()
    statuses = {i: db.session.get(Tender, i).status for i in (later, exactly, earlier, draft)}
    assert statuses == {later: S.PUBLISHED, exactly: S.CLOSED, earlier: S.CLOSED, draft: S.DRAFT}
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "tender.closed",
                                                        AuditEntry.object_id == str(exactly))).scalar_one()
    assert entry.actor_id is None


def test_the_worker_closes_through_its_periodic_task(app_ctx, people):
    tender_id = make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=utcnow() - timedelta(minutes=5))
    assert "tenders.close_due" in outbox._periodic
    every, task = outbox._periodic["tenders.close_due"]
    assert every <= 600  # a deadline is honoured within minutes even without a page read
    task()
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).status == S.CLOSED


# --- who hears of a move ---------------------------------------------------------------------------------------

def test_the_territorys_facilitators_hear_of_a_submission_and_the_buyer_of_the_answer(app_ctx, people, mailbox):
    tender = db.session.get(Tender, make_tender(people["buyer_org"]))
    workflow.submit(user(people["buyer"]), tender)
    db.session.commit()  # the mail leaves through the outbox after the commit
    recipients = {m["To"] for m in mailbox}
    assert recipients == {"plie@nord.example.fr"}  # not the Rhône one, not the unverified one, not the buyer
    message = mailbox.last_to("plie@nord.example.fr")
    assert message["Subject"] == "Consultation à valider : Entretien des espaces verts"
    assert mailbox.link_to("plie@nord.example.fr", f"/consultations/{tender.id}/suivi")
    mailbox.clear()
    workflow.send_back(user(people["nord"]), tender, "Précisez les publics éligibles.")
    db.session.commit()
    body = mailbox.body(mailbox.last_to("acheteur@lille.example.fr"))
    assert "Précisez les publics éligibles." in body and "PLIE Nord" in body
    assert {m["To"] for m in mailbox} == {"acheteur@lille.example.fr"}


def test_without_a_facilitator_for_the_place_the_platform_hears_of_it(app_ctx, people, mailbox):
    tender = db.session.get(Tender, make_tender(people["buyer_org"], place_ref="commune:13055"))  # Marseille
    workflow.submit(user(people["buyer"]), tender)
    db.session.commit()
    assert {m["To"] for m in mailbox} == {"admin@plateforme.example.fr"}
