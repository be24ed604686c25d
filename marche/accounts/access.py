"""Who may see and manage organisations and join requests."""
from __future__ import annotations

from ..core.access import RuleSet
from .models import JoinRequest, MemberRole, Organisation

RULES = RuleSet()


@RULES.rule("view", Organisation)
def can_view_organisation(user, organisation: Organisation) -> bool:
    return user is not None and user.membership_in(organisation) is not None


@RULES.rule("manage", Organisation)
def can_manage_organisation(user, organisation: Organisation) -> bool:
    membership = user.membership_in(organisation) if user is not None else None
    return membership is not None and membership.role == MemberRole.ADMIN


@RULES.rule("decide", JoinRequest)
def can_decide_join(user, join: JoinRequest) -> bool:
    return can_manage_organisation(user, join.organisation)


@RULES.rule("admin_platform")
def can_admin_platform(user, _obj) -> bool:
    return False  # only platform admins, who pass every check in core.access.can


@RULES.rule("verify_organisations")
def can_verify_organisations(user, _obj) -> bool:
    return False  # only platform admins, who pass every check in core.access.can
