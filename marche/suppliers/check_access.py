"""Who may use « Vérifier mes fournisseurs »: buyers (public or private) and facilitators.

Platform admins pass every check in core.access.can; structures, facilitators not yet verified by
the platform and users without an organisation of these kinds do not see the page (404).
"""
from __future__ import annotations

from ..accounts.models import OrganisationKind
from ..core.access import RuleSet

CHECKER_KINDS = (OrganisationKind.PUBLIC_BUYER, OrganisationKind.PRIVATE_COMPANY, OrganisationKind.FACILITATOR)

RULES = RuleSet()


@RULES.rule("check_suppliers")
def can_check_suppliers(user, _obj) -> bool:
    return user is not None and user.has_trusted_kind(*CHECKER_KINDS)
