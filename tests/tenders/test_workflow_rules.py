"""The tender workflow's finer rules, each on both sides (written for the mutants `make mutants` showed alive):
the deadline instant, the moment a submission is dated, what closing records, concluding only a closed tender
whose lots are all decided and its outcome's reason, closing past a locked row, an unreadable clause document, in
whose name a comment is written, the facilitator's queue of assisted tenders, the 4 000 characters of a text and
the legal category of a buyer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from marche.accounts.models import Membership, Organisation, OrganisationKind
from marche.clauses import rules
from marche.core.errors import DomainError
from marche.core.models import AuditEntry, utcnow
from marche.extensions import db
from marche.tenders import award, workflow
from marche.tenders.models import LotStatus, Tender, TenderComment, TenderStatus as S
from tests.tenders.factories import complete_clauses, make_facilitator, make_tender, organisation_of
from tests.tenders.test_workflow import HOLDER_SIRET, people, user  # noqa: F401

MOMENT = datetime(2026, 10, 15, 9, 30, tzinfo=timezone.utc)


def tender(tender_id: int) -> Tender:
    return db.session.get(Tender, tender_id)


def test_the_deadline_instant_itself_is_already_past(app_ctx, people):
    deadline = utcnow() + timedelta(days=10)
    draft = tender(make_tender(people["buyer_org"], answers_deadline=deadline))
    past = "La date limite de réponse est passée"
    assert not any(past in p for p in workflow.missing_for_submission(draft, deadline - timedelta(seconds=1)))
    assert any(past in p for p in workflow.missing_for_submission(draft, deadline))


def test_a_submission_is_dated_by_the_given_moment(app_ctx, people):
    draft = tender(make_tender(people["buyer_org"], answers_deadline=MOMENT + timedelta(days=30)))
    workflow.submit(user(people["buyer"]), draft, MOMENT)
    assert draft.submitted_at == MOMENT
    db.session.rollback()


def test_closing_records_the_deadline_it_closed_at(app_ctx, people):
    deadline = utcnow() - timedelta(hours=1)
    published = tender(make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=deadline))
    assert workflow.close_if_due(published, deadline + timedelta(minutes=1)) is True
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tender.closed"))
    assert entry.details["answers_deadline"] == deadline.isoformat()
    assert published.closed_at == deadline + timedelta(minutes=1)


def test_is_due_only_for_a_published_tender_from_its_deadline(app_ctx, people):
    deadline = utcnow() - timedelta(hours=1)
    published = tender(make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=deadline))
    draft = tender(make_tender(people["buyer_org"], answers_deadline=deadline))
    assert workflow.is_due(published, deadline) and not workflow.is_due(published, deadline - timedelta(seconds=1))
    assert not workflow.is_due(draft, deadline + timedelta(days=1))
    assert workflow.close_if_due(published, deadline - timedelta(seconds=1)) is False
    assert published.status == S.PUBLISHED and published.closed_at is None


def test_close_due_skips_a_tender_another_transaction_holds(app, app_ctx, people):
    """The worker never waits on a row a page is closing at the same moment: it leaves it (skip locked)."""
    held = make_tender(people["buyer_org"], status=S.PUBLISHED, answers_deadline=utcnow() - timedelta(minutes=5))
    with Session(db.engine) as other:
        other.execute(select(Tender).where(Tender.id == held).with_for_update())
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert workflow.close_due() == 0
        db.session.rollback()
        other.rollback()
    assert workflow.close_due() == 1


def test_an_unreadable_clause_document_is_a_reason_not_a_crash(app_ctx, people):
    draft = tender(make_tender(people["buyer_org"]))
    draft.lots[0].clauses = {"insertion": {"amount_basis": "beaucoup"}}
    problems = workflow.missing_for_submission(draft)
    assert problems and all(isinstance(p, str) for p in problems)
    with pytest.raises(DomainError):
        workflow.submit(user(people["buyer"]), draft)


# --- concluding ------------------------------------------------------------------------------------------------

def _closed(people, lots: int) -> Tender:
    return tender(make_tender(people["buyer_org"], status=S.CLOSED,
                              lots=[complete_clauses(str(100000 * (i + 1))) for i in range(lots)]))


def test_conclude_waits_for_every_lot_and_for_the_closing(app_ctx, people):
    closed = _closed(people, 2)
    buyer = user(people["buyer"])
    award.award_lot(buyer, closed, closed.lots[0], award.AwardData(
        structure_id=None, siret=HOLDER_SIRET, holder_name="Espaces Verts du Nord", amount="1000",
        awarded_on=closed.launch_date, offers_count=1))
    assert closed.status == S.CLOSED and closed.lots[1].status == LotStatus.OPEN
    assert workflow.conclude(buyer, closed) is None
    published = tender(make_tender(people["buyer_org"], status=S.PUBLISHED))
    published.lots[0].status = LotStatus.UNSUCCESSFUL
    assert workflow.conclude(buyer, published) is None and published.status == S.PUBLISHED


def test_an_unsuccessful_tender_keeps_each_lots_reason_an_awarded_one_none(app_ctx, people):
    buyer = user(people["buyer"])
    failed = _closed(people, 2)
    award.mark_unsuccessful(buyer, failed, failed.lots[0], "Aucune offre reçue.", 0)
    award.mark_unsuccessful(buyer, failed, failed.lots[1], "Offres irrégulières.", 2)
    assert failed.status == S.UNSUCCESSFUL
    assert failed.outcome_reason == "Lot 1 : Aucune offre reçue. ; Lot 2 : Offres irrégulières."
    won = _closed(people, 2)
    award.mark_unsuccessful(buyer, won, won.lots[0], "Aucune offre reçue.", 0)
    award.award_lot(buyer, won, won.lots[1], award.AwardData(
        structure_id=None, siret=HOLDER_SIRET, holder_name="Espaces Verts du Nord", amount="1000",
        awarded_on=won.launch_date, offers_count=1))
    assert won.status == S.AWARDED and won.outcome_reason is None


# --- texts -------------------------------------------------------------------------------------------------------

def test_a_text_of_4000_characters_passes_4001_do_not(app_ctx, people):
    buyer = user(people["buyer"])
    longest = tender(make_tender(people["buyer_org"]))
    workflow.cancel(buyer, longest, "x" * 4000)
    assert longest.outcome_reason == "x" * 4000
    too_long = tender(make_tender(people["buyer_org"]))
    with pytest.raises(DomainError, match="4000 caractères au plus"):
        workflow.cancel(buyer, too_long, "x" * 4001)


# --- in whose name a comment is written; the queue of assisted tenders ------------------------------------------

def _comment_organisation(actor_id: int, tender_id: int) -> int | None:
    comment = workflow.add_comment(user(actor_id), tender(tender_id), "Un commentaire.")
    return comment.organisation_id


def test_a_comment_is_written_in_the_name_of_the_buyer_the_assisting_or_the_validating_organisation(
        app_ctx, people, make_user):
    draft = make_tender(people["buyer_org"])
    assert _comment_organisation(people["buyer"], draft) == people["buyer_org"]
    # the Rhône facilitator does not cover Lille: it writes as the assisting organisation, or as nobody
    rhone_org = organisation_of(people["rhone"])
    tender(draft).assisting_organisation_id = rhone_org
    assert _comment_organisation(people["rhone"], draft) == rhone_org
    tender(draft).assisting_organisation_id = None
    assert _comment_organisation(people["rhone"], draft) is None
    # a member of two facilitator organisations covering Lille writes in the name of the first of them
    second = organisation_of(make_facilitator(make_user, "mel@nord.example.fr", ["commune:59350"], name="MEL"))
    db.session.add(Membership(user_id=people["nord"], organisation_id=second, role="member"))
    db.session.commit()
    assert _comment_organisation(people["nord"], draft) == organisation_of(people["nord"])


def test_a_buyer_member_of_a_facilitator_writes_as_the_buyer(app_ctx, people):
    """The buyer's own membership comes first, even when the user also belongs to the assisting organisation."""
    draft = make_tender(people["buyer_org"])
    nord_org = organisation_of(people["nord"])
    tender(draft).assisting_organisation_id = nord_org
    db.session.add(Membership(user_id=people["nord"], organisation_id=people["buyer_org"], role="member"))
    db.session.commit()
    assert _comment_organisation(people["nord"], draft) == people["buyer_org"]


def test_the_queue_lists_tenders_assisted_by_a_verified_facilitator_only(app_ctx, people):
    assisted = make_tender(people["buyer_org"])
    unverified_org = organisation_of(people["nord_unverified"])
    tender(assisted).assisting_organisation_id = unverified_org
    db.session.commit()
    assert workflow.queue_for(user(people["nord_unverified"])).assisted == []
    # a buyer organisation named as « assisting » (it is trusted, not a facilitator) gives its members no queue
    tender(assisted).assisting_organisation_id = people["buyer_org"]
    db.session.commit()
    assert workflow.queue_for(user(people["buyer"])).assisted == []
    nord_org = organisation_of(people["nord"])
    tender(assisted).assisting_organisation_id = nord_org
    db.session.commit()
    assert [t.id for t in workflow.queue_for(user(people["nord"])).assisted] == [assisted]


def test_the_legal_category_of_a_buyer(app_ctx, people):
    public = db.session.get(Organisation, people["buyer_org"])
    assert workflow.buyer_category(public) == "local_authority"
    public.buyer_category = None
    assert workflow.buyer_category(public) == rules.PRIVATE
    company = Organisation(name="Société", kind=OrganisationKind.PRIVATE_COMPANY, buyer_category="state")
    assert workflow.buyer_category(company) == rules.PRIVATE


def test_a_validation_without_a_note_says_so(app_ctx, people):
    submitted = tender(make_tender(people["buyer_org"], status=S.SUBMITTED))
    workflow.validate(user(people["nord"]), submitted)
    comment = db.session.scalar(select(TenderComment).where(TenderComment.tender_id == submitted.id))
    assert comment.body == "Consultation validée." and comment.organisation_id == organisation_of(people["nord"])
    assert submitted.validated_by_id == people["nord"]
    with pytest.raises(DomainError, match="déjà validée"):
        workflow.validate(user(people["nord"]), submitted)


def test_a_validator_who_is_also_a_buyer_member_is_not_told_of_its_own_tender(app_ctx, people):
    """validators_of: the active members of the covering facilitators, never a member of the buyer organisation."""
    submitted = tender(make_tender(people["buyer_org"], status=S.SUBMITTED))
    nord_org = organisation_of(people["nord"])
    assert [u.id for u in workflow.validators_of(submitted)] == [people["nord"]]
    db.session.add(Membership(user_id=people["buyer"], organisation_id=nord_org, role="member"))
    db.session.commit()
    db.session.expire_all()
    assert [u.id for u in workflow.validators_of(tender(submitted.id))] == [people["nord"]]
    user(people["nord"]).active = False
    db.session.commit()
    assert workflow.validators_of(tender(submitted.id)) == []
