"""Who may see and edit a tender (platform admins pass every rule in `core.access.can`).

- A tender once published (published, closed, awarded, unsuccessful, or cancelled after publication) is public:
  anyone, signed in or not, sees its page, its annex and its attachments, like a notice in the BOAMP.
- Before that (draft, submitted, or cancelled before publication) it is seen only by the members of the buyer
  organisation, by the members of the facilitator organisation the buyer asked to assist, and, once submitted,
  by the verified facilitators whose territory contains the place of execution (they validate it). Anyone else
  gets a 404, exactly as for a tender that does not exist.
- Only the buyer organisation's members edit it, and only while it is a draft or published (a change to a
  published tender is recorded as a rectificatif).
"""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import OrganisationKind
from ..core.access import RuleSet
from ..extensions import db
from ..geo.models import Commune, Department
from ..geo.services import TerritoryError, parse_ref
from .drafting import BUYER_KINDS, EDITABLE
from .models import Tender, TenderStatus

RULES = RuleSet()
PUBLIC_STATUSES = (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.AWARDED, TenderStatus.UNSUCCESSFUL)


def is_public(tender: Tender) -> bool:
    return tender.status in PUBLIC_STATUSES or (tender.status == TenderStatus.CANCELLED
                                                and tender.published_at is not None)


def is_buyer_member(user, tender: Tender) -> bool:
    return user is not None and any(m.organisation_id == tender.organisation_id for m in user.memberships)


def is_assisting(user, tender: Tender) -> bool:
    """A member of the facilitator organisation the buyer asked to assist (verified by the platform)."""
    return (user is not None and tender.assisting_organisation_id is not None
            and any(m.organisation_id == tender.assisting_organisation_id and m.organisation.trusted
                    for m in user.memberships))


def containing_refs(ref: str | None) -> set[str]:
    """The territory references that contain a place, itself included: commune → its department, its region and
    the country."""
    if not ref:
        return set()
    try:
        kind, code = parse_ref(ref)
    except TerritoryError:
        return set()
    refs = {f"{kind}:{code}", "country:FR"}
    department = code if kind == "dep" else None
    if kind == "commune":
        department = db.session.scalar(select(Commune.department_code).where(Commune.code == code))
    if department:
        refs.add(f"dep:{department}")
        region = db.session.scalar(select(Department.region_code).where(Department.code == department))
        if region:
            refs.add(f"reg:{region}")
    return refs


def covers_place(organisation, tender: Tender) -> bool:
    """A verified facilitator organisation one of whose territories contains the tender's place."""
    return (organisation.kind == OrganisationKind.FACILITATOR and organisation.trusted
            and bool(set(organisation.territories or ()) & containing_refs(tender.place_ref)))


def is_validator(user, tender: Tender) -> bool:
    return user is not None and any(covers_place(m.organisation, tender) for m in user.memberships)


@RULES.rule("view", Tender)
def can_view_tender(user, tender: Tender) -> bool:
    if is_public(tender):
        return True
    if is_buyer_member(user, tender) or is_assisting(user, tender):
        return True
    return tender.status == TenderStatus.SUBMITTED and is_validator(user, tender)


@RULES.rule("edit", Tender)
def can_edit_tender(user, tender: Tender) -> bool:
    return is_buyer_member(user, tender) and tender.status in EDITABLE


@RULES.rule("see_draft_tools", Tender)
def can_see_draft_tools(user, tender: Tender) -> bool:
    """The legal checklist and what is left to do: the buyer and its assisting facilitator."""
    return is_buyer_member(user, tender) or is_assisting(user, tender)


@RULES.rule("duplicate", Tender)
def can_duplicate_tender(user, tender: Tender) -> bool:
    return is_buyer_member(user, tender)


@RULES.rule("draft_tender")
def can_draft_tender(user, _obj) -> bool:
    """Members of a buyer organisation, public or private."""
    return user is not None and user.has_kind(*BUYER_KINDS)
