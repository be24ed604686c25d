"""Tenders as model rows, for the workflow and award tests (the drafting services are another part's).

Each lot's clause document is written through `ClauseSpec(...).to_json()`, as the application does."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from marche.accounts.models import Organisation, User
from marche.clauses.spec import ClauseSpec, Criterion, InsertionSpec
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import Tender, TenderLot, TenderStatus

#: launched after 22 August 2026: the three obligations apply (clauses.rules)
LAUNCH = date(2026, 9, 1)
LILLE = "commune:59350"


def complete_clauses(hours_basis: str = "300000") -> dict:
    """A lot meeting every obligation: insertion clause, environmental condition and award criterion."""
    return ClauseSpec(
        insertion=InsertionSpec(Decimal(hours_basis), Decimal("0.5"), Decimal("0.05"), Decimal("30"),
                                modes=("direct_hire",), publics=("long_term_jobseeker",)),
        environmental_conditions=("reuse",),
        environmental_criterion=Criterion(Decimal("15")),
    ).to_json()


def no_environment_clauses() -> dict:
    """An insertion clause only: the environmental lines are missing (L2152-7 and L2112-2)."""
    return ClauseSpec(insertion=InsertionSpec(Decimal("300000"), Decimal("0.5"), Decimal("0.05"), Decimal("30"),
                                              modes=("direct_hire",), publics=("long_term_jobseeker",))).to_json()


def make_tender(organisation_id: int, *, status: str = TenderStatus.DRAFT, place_ref: str | None = LILLE,
                amount: str | None = "300000", lots: list[dict] | None = None, validated: bool = False,
                answers_deadline: datetime | None = None, launch_date: date | None = LAUNCH,
                title: str = "Entretien des espaces verts", created_by: int | None = None) -> int:
    """A tender of the organisation in `status`, with lots (`lots`: clause documents, one lot each). Returns
    its id. Must run inside an application context; commits."""
    now = utcnow()
    deadline = answers_deadline if answers_deadline is not None else now + timedelta(days=30)
    tender = Tender(organisation_id=organisation_id, created_by_id=created_by, title=title,
                    object="Tonte, taille et entretien des espaces verts des écoles.", kind="call_for_tenders",
                    cpv_codes=["77310000-6"], nature="services", place_ref=place_ref,
                    amount=None if amount is None else Decimal(amount), duration_months=36, launch_date=launch_date,
                    questions_deadline=deadline - timedelta(days=7), answers_deadline=deadline, status=status,
                    allotted=len(lots or [None]) > 1)
    for position, clauses in enumerate(lots if lots is not None else [complete_clauses()], start=1):
        tender.lots.append(TenderLot(position=position, title=f"Secteur {position}", clauses=clauses,
                                     amount=None if amount is None else Decimal(amount) / max(len(lots or [1]), 1)))
    if status != TenderStatus.DRAFT:
        tender.submitted_at = now - timedelta(days=2)
    if validated or status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.AWARDED,
                               TenderStatus.UNSUCCESSFUL):
        tender.validated_at = now - timedelta(days=1)
    if status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.AWARDED, TenderStatus.UNSUCCESSFUL):
        tender.published_at = now - timedelta(days=1)
    db.session.add(tender)
    db.session.commit()
    return tender.id


def organisation_of(user_id: int) -> int:
    return db.session.get(User, user_id).organisation.id


def make_facilitator(make_user, email: str, territories: list[str], verified: bool = True,
                     name: str = "PLIE de test") -> int:
    """A facilitator account whose organisation covers `territories`, verified by the platform (or not)."""
    from flask import current_app

    from marche.accounts.models import OrganisationKind, VerificationStatus

    user_id = make_user(email, kind=OrganisationKind.FACILITATOR, name=name)
    with current_app.app_context():
        organisation = db.session.get(User, user_id).organisation
        organisation.territories = territories
        organisation.verification_status = VerificationStatus.VERIFIED if verified else VerificationStatus.PENDING
        db.session.commit()
    return user_id


def aware(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def organisation(organisation_id: int) -> Organisation:
    return db.session.get(Organisation, organisation_id)
