"""Helpers of the drafting tests: a buyer, a stranger, a facilitator, and tenders made through the services."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from marche.accounts.models import OrganisationKind, User
from marche.extensions import db
from marche.tenders import drafting

NOW = datetime.now(timezone.utc)
#: a consultation launched after the three 2026 obligations start (22 August 2026)
LAUNCH = NOW.date() + timedelta(days=1)
FULL_CLAUSES = {"insertion": True, "amount_basis": "1000000", "labour_share": "50", "insertion_rate": "5",
                "hourly_cost": "30", "modes": ["direct_hire"], "publics": ["long_term_jobseeker"],
                "environmental_conditions": ["reuse"], "environmental_criterion": True,
                "environmental_criterion_weight": "15"}


def user(email: str) -> User:
    return db.session.scalar(db.select(User).where(User.email == email))


def tender_input(**changes) -> drafting.TenderInput:
    values = dict(title="Entretien des espaces verts", object="Écoles de Roubaix", cpv_codes="77310000-6",
                  place_ref="commune:59512", amount="1000000", duration_months=36, launch_date=LAUNCH,
                  questions_deadline=(NOW + timedelta(days=20)).replace(tzinfo=None),
                  answers_deadline=(NOW + timedelta(days=30)).replace(tzinfo=None))
    values.update(changes)
    return drafting.TenderInput(**values)


def new_tender(buyer: User, **changes):
    organisation = drafting.buyer_organisations(buyer)[0]
    return drafting.create_tender(buyer, organisation, tender_input(**changes))


def make_facilitator(make_user, email: str, territories: list[str], verified: bool = True) -> int:
    """A facilitator organisation competent for `territories`, verified by the platform or not."""
    user_id = make_user(email, kind=OrganisationKind.FACILITATOR, name=f"PLIE {email}")
    organisation = db.session.get(User, user_id).organisation
    organisation.territories = territories
    organisation.verification_status = "verified" if verified else "pending"
    db.session.commit()
    return organisation.id
