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

from ..core.access import RuleSet
from .drafting import BUYER_KINDS, EDITABLE
from .models import Tender, TenderStatus
# one reading of "member of the buyer", "assisting facilitator" and "facilitator covering the place" for both
# rule sets (the workflow's decides who validates)
from .workflow_access import is_assisting, is_buyer as is_buyer_member, validating_organisations

RULES = RuleSet()
PUBLIC_STATUSES = (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.AWARDED, TenderStatus.UNSUCCESSFUL)


def is_public(tender: Tender) -> bool:
    return tender.status in PUBLIC_STATUSES or (tender.status == TenderStatus.CANCELLED
                                                and tender.published_at is not None)


@RULES.rule("view", Tender)
def can_view_tender(user, tender: Tender) -> bool:
    if is_public(tender):
        return True
    if is_buyer_member(user, tender) or is_assisting(user, tender):
        return True
    return tender.status == TenderStatus.SUBMITTED and bool(validating_organisations(user, tender))


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
