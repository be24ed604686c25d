"""Who sees and runs a grouping (GME).

- The grouping's page (members, shares, thread, its log, documents) is read by the members of the organisations
  it invited or holds (invitation pending or accepted). A declined or removed organisation reads it no more.
  Anyone else gets 404, as for a grouping that does not exist.
- The mandataire's organisation runs it: invitations, lots, shares, mandataire, the moves.
- An admin of an invited organisation answers its invitation (an e-mail invitation is answered through its
  signed link by the invited address, `services.answer_invitation` checks it).
- The buyer's members see the groupings that answered their tender (confirmed or later) with their composition,
  and their DC1-style summary; not the thread, the log nor the convention.
- Platform admins pass every rule (`core.access.can`).
"""
from __future__ import annotations

from ..core.access import RuleSet
from ..tenders.answers_access import answering_structures
from ..tenders.answers import answers_open
from ..tenders.models import Tender
from ..tenders.workflow_access import is_buyer
from .models import ANSWERED_STATUSES, Grouping, GroupingMember, GroupingStatus, MemberStatus
from .services import admin_organisation_ids, is_mandataire_side, member_of

RULES = RuleSet()


@RULES.rule("view", Grouping)
def can_view(user, grouping: Grouping) -> bool:
    return member_of(user, grouping) is not None


@RULES.rule("view_summary", Grouping)
def can_view_summary(user, grouping: Grouping) -> bool:
    """The DC1-style summary: the members, and the buyer once the grouping has answered."""
    return can_view(user, grouping) or (grouping.status in ANSWERED_STATUSES and is_buyer(user, grouping.tender))


@RULES.rule("manage", Grouping)
def can_manage(user, grouping: Grouping) -> bool:
    return (grouping.status not in (GroupingStatus.DISSOLVED,) and can_view(user, grouping)
            and is_mandataire_side(user, grouping))


@RULES.rule("post", Grouping)
def can_post(user, grouping: Grouping) -> bool:
    return can_view(user, grouping) and grouping.status != GroupingStatus.DISSOLVED


@RULES.rule("answer_invitation", GroupingMember)
def can_answer_invitation(user, member: GroupingMember) -> bool:
    return (member.status == MemberStatus.INVITED and member.organisation_id is not None
            and member.organisation_id in admin_organisation_ids(user))


@RULES.rule("form_grouping", Tender)
def can_form_grouping(user, tender: Tender) -> bool:
    """« Répondre en groupement »: a member of a claimed structure, while the tender takes answers."""
    return answers_open(tender) and bool(answering_structures(user))
