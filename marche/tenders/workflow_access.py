"""Who may move a tender through its workflow: submit, validate or send back, publish, cancel, comment, ask a
facilitator to assist, award its lots, and see the queue of tenders to validate.

- The buyer's side (submit, publish, cancel, ask for assistance, award): any member of the buyer organisation.
- Validation (validate, send back): a facilitator organisation verified by the platform whose territories cover
  the tender's place of execution (`geo.coverage.enclosing_refs`), never for its own organisation's tender.
- Assistance: the facilitator organisation the buyer asked (verified) reads the workflow and comments, drafts
  included; it does not validate on that ground alone.
- Platform admins pass every rule (`core.access.can`). Anyone else gets 404, as for a tender that does not exist.
"""
from __future__ import annotations

from ..accounts.models import Organisation, OrganisationKind
from ..core.access import RuleSet
from ..geo.coverage import enclosing_refs
from ..geo.services import TerritoryError
from .models import Tender, TenderStatus

RULES = RuleSet()


def place_refs(tender: Tender) -> tuple[str, ...]:
    """The territory references containing the tender's place (none when it has no place yet)."""
    if not tender.place_ref:
        return ()
    try:
        return enclosing_refs(tender.place_ref)
    except TerritoryError:
        return ()


def covers(organisation: Organisation, tender: Tender) -> bool:
    """Does this facilitator organisation's territory cover the tender's place?"""
    return bool(set(organisation.territories or []) & set(place_refs(tender)))


def is_buyer(user, tender: Tender) -> bool:
    return user is not None and any(m.organisation_id == tender.organisation_id for m in user.memberships)


def is_assisting(user, tender: Tender) -> bool:
    """A member of the facilitator organisation the buyer asked, while that organisation is verified."""
    return (user is not None and tender.assisting_organisation_id is not None
            and any(m.organisation_id == tender.assisting_organisation_id and m.organisation.trusted
                    for m in user.memberships))


def validating_organisations(user, tender: Tender) -> list[Organisation]:
    """The user's verified facilitator organisations competent for the tender's place (none for its own tender)."""
    if user is None or is_buyer(user, tender):
        return []
    return [org for org in user.trusted_organisations(OrganisationKind.FACILITATOR) if covers(org, tender)]


@RULES.rule("validate", Tender)
def can_validate(user, tender: Tender) -> bool:
    """Validate or send back: a verified facilitator covering the place (platform admins pass every rule)."""
    return bool(validating_organisations(user, tender))


@RULES.rule("follow_workflow", Tender)
def can_follow(user, tender: Tender) -> bool:
    """See the workflow panel, its comments and its history: the buyer's members, the assisting facilitator,
    and, once the tender left the draft, the facilitators who may validate it."""
    if is_buyer(user, tender) or is_assisting(user, tender):
        return True
    return tender.status != TenderStatus.DRAFT and can_validate(user, tender)


@RULES.rule("comment", Tender)
def can_comment(user, tender: Tender) -> bool:
    return can_follow(user, tender)


@RULES.rule("submit", Tender)
def can_submit(user, tender: Tender) -> bool:
    return is_buyer(user, tender)


@RULES.rule("publish", Tender)
def can_publish(user, tender: Tender) -> bool:
    return is_buyer(user, tender)


@RULES.rule("cancel", Tender)
def can_cancel(user, tender: Tender) -> bool:
    return is_buyer(user, tender)


@RULES.rule("request_assist", Tender)
def can_request_assist(user, tender: Tender) -> bool:
    return is_buyer(user, tender)


@RULES.rule("award", Tender)
def can_award(user, tender: Tender) -> bool:
    return is_buyer(user, tender)


@RULES.rule("tender_queue")
def can_see_queue(user, _obj) -> bool:
    """« Consultations à valider »: members of a verified facilitator organisation (and platform admins)."""
    return user is not None and user.has_trusted_kind(OrganisationKind.FACILITATOR)
