"""Who acts « as a structure » on a published tender, and who reads what the structures sent.

- A structure answers through its organisation: any member of the organisation that owns a claimed profile
  published in the directory (`Structure.owner_organisation_id`). A user may belong to several organisations and
  one organisation may own several profiles: the user chooses which one answers (the only one by default).
- The buyer's members read every question with its asker and answer them; everyone who sees the tender reads the
  answered ones, the asker anonymised.
- A quote PDF is read by the buyer's members and by the members of the structure that sent it; anyone else gets
  404, as for a quote that does not exist.
- Platform admins pass every rule (`core.access.can`); they own no structure, so they answer for none.
"""
from __future__ import annotations

from sqlalchemy import select

from ..core.access import RuleSet
from ..extensions import db
from ..suppliers.models import Publication, Structure
from .access import is_public
from .models import LotResponse, Tender, TenderStatus
from .workflow_access import is_buyer

RULES = RuleSet()


def organisation_ids(user) -> set[int]:
    return {m.organisation_id for m in user.memberships} if user is not None else set()


def answering_structures(user) -> list[Structure]:
    """The published profiles owned by the user's organisations, by name: those the user may answer for."""
    ids = organisation_ids(user)
    if not ids:
        return []
    return list(db.session.scalars(
        select(Structure).where(Structure.owner_organisation_id.in_(ids),
                                Structure.publication == Publication.PUBLISHED)
        .order_by(Structure.name, Structure.id)))


def is_structure_member(user, structure: Structure) -> bool:
    return (structure is not None and structure.owner_organisation_id is not None
            and structure.publication == Publication.PUBLISHED
            and structure.owner_organisation_id in organisation_ids(user))


@RULES.rule("answer_as", Structure)
def can_answer_as(user, structure: Structure) -> bool:
    """Speak for this structure on a tender: a member of the organisation owning the published profile."""
    return is_structure_member(user, structure)


@RULES.rule("answer", Tender)
def can_answer(user, tender: Tender) -> bool:
    """See the structure side of a published tender (why it matched, interest, questions, quote or offer)."""
    return tender.status in (TenderStatus.PUBLISHED, TenderStatus.CLOSED) and bool(answering_structures(user))


@RULES.rule("answer_questions", Tender)
def can_answer_questions(user, tender: Tender) -> bool:
    """Read every question with its asker, and answer: the buyer's members, once the tender is public."""
    return is_public(tender) and is_buyer(user, tender)


@RULES.rule("view_quote", LotResponse)
def can_view_quote(user, response: LotResponse) -> bool:
    return is_buyer(user, response.lot.tender) or is_structure_member(user, response.structure)


@RULES.rule("structure_dashboard")
def can_see_dashboard(user, _obj) -> bool:
    return bool(answering_structures(user))
