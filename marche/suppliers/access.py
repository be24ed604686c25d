"""Who may see, edit and claim structure profiles, and decide claims."""
from __future__ import annotations

from ..accounts.models import OrganisationKind
from ..core.access import RuleSet
from .models import (ClientReference, EnvCommitment, FavoriteList, Structure, StructureClaim, StructureContact,
                     claiming_organisation)

BUYER_KINDS = (OrganisationKind.PUBLIC_BUYER, OrganisationKind.PRIVATE_COMPANY, OrganisationKind.FACILITATOR)

RULES = RuleSet()


@RULES.rule("view", Structure)
def can_view_structure(user, structure: Structure) -> bool:
    """Every published profile is public; one waiting for verification (or refused) is seen by its own
    organisation, the platform admins and the facilitators competent for its territory (404 for others)."""
    return structure.is_published or can_verify_structure(user, structure) or can_edit_structure(user, structure)


@RULES.rule("verify", Structure)
def can_verify_structure(user, structure: Structure) -> bool:
    """Publish or refuse a self-created profile: platform admins (who pass every rule), or a facilitator
    verified by the platform and competent for the structure's territory, never for its own organisation."""
    return (user is not None and not structure.is_published
            and not any(m.organisation_id == structure.owner_organisation_id for m in user.memberships)
            and any(_in_territories(org.territories, structure)
                    for org in user.trusted_organisations(OrganisationKind.FACILITATOR)))


@RULES.rule("create_structure")
def can_create_structure(user, _obj) -> bool:
    return user is not None and user.has_kind(OrganisationKind.INCLUSIVE_STRUCTURE)


@RULES.rule("list_unpublished")
def can_list_unpublished(user, _obj) -> bool:
    return user is not None and user.has_trusted_kind(OrganisationKind.FACILITATOR)


@RULES.rule("edit", Structure)
def can_edit_structure(user, structure: Structure) -> bool:
    return (user is not None and structure.owner_organisation_id is not None
            and any(m.organisation_id == structure.owner_organisation_id for m in user.memberships))


@RULES.rule("claim", Structure)
def can_claim_structure(user, structure: Structure) -> bool:
    """« C'est ma structure » and the claim route: a member of an inclusive structure whose organisation's
    SIREN is the profile's (models.claiming_organisation), not already managing it. The SIREN match only
    opens the form: the claim still needs evidence and an approver."""
    return (user is not None and claiming_organisation(user, structure) is not None
            and not can_edit_structure(user, structure))


@RULES.rule("my_profiles")
def can_see_my_profiles(user, _obj) -> bool:
    """« Ma fiche »: the profiles a structure's organisation manages, its pending claims, the offers."""
    return user is not None and user.has_kind(OrganisationKind.INCLUSIVE_STRUCTURE)


@RULES.rule("view_contacts", Structure)
def can_view_contacts(user, structure: Structure) -> bool:
    return user is not None


@RULES.rule("contact", Structure)
def can_contact_structure(user, structure: Structure) -> bool:
    """Any signed-in user may write to a structure through the portal (limits in suppliers.contact)."""
    return user is not None


@RULES.rule("edit", FavoriteList)
def can_edit_favorites(user, favorite_list: FavoriteList) -> bool:
    """A list is shared by its organisation: each member may rename or delete it, as they add and remove lines."""
    return can_view_favorites(user, favorite_list)


def _in_territories(territories: list[str], structure: Structure) -> bool:
    wanted = {f"commune:{structure.commune_code}", f"dep:{structure.department_code}", f"reg:{structure.region_code}",
              "country:FR"}
    return bool(wanted & set(territories))


@RULES.rule("complete_sectors")
def can_complete_sectors(user, _obj) -> bool:
    """« Secteurs à compléter » (suppliers.completion): verified facilitators, for their territories."""
    return user is not None and user.has_trusted_kind(OrganisationKind.FACILITATOR)


@RULES.rule("give_sectors", Structure)
def can_give_sectors(user, structure: Structure) -> bool:
    """Choose the sectors of a published, unclaimed profile: a verified facilitator competent for its
    territory (platform admins pass every rule). A claimed profile is its owners' alone."""
    return (user is not None and structure.is_published and not structure.claimed
            and any(_in_territories(org.territories, structure)
                    for org in user.trusted_organisations(OrganisationKind.FACILITATOR)))


@RULES.rule("decide", StructureClaim)
def can_decide_claim(user, claim: StructureClaim) -> bool:
    """Platform admins (who pass every rule), or a facilitator verified by the platform and competent for
    the structure's territory; never a member of the claiming organisation (nobody approves their own claim).
    The same rule opens the claim's evidence document."""
    return (user is not None and not any(m.organisation_id == claim.organisation_id for m in user.memberships)
            and any(_in_territories(org.territories, claim.structure)
                    for org in user.trusted_organisations(OrganisationKind.FACILITATOR)))


@RULES.rule("list_claims")
def can_list_claims(user, _obj) -> bool:
    return user is not None and user.has_trusted_kind(OrganisationKind.FACILITATOR)


@RULES.rule("edit", EnvCommitment)
def can_edit_commitment(user, commitment: EnvCommitment) -> bool:
    return can_edit_structure(user, commitment.structure)


@RULES.rule("edit", ClientReference)
def can_edit_reference(user, reference: ClientReference) -> bool:
    return can_edit_structure(user, reference.structure)


@RULES.rule("edit", StructureContact)
def can_edit_contact(user, contact: StructureContact) -> bool:
    return can_edit_structure(user, contact.structure)


@RULES.rule("use_favorites")
def can_use_favorites(user, _obj) -> bool:
    return user is not None and user.has_trusted_kind(*BUYER_KINDS)


@RULES.rule("view", FavoriteList)
def can_view_favorites(user, favorite_list: FavoriteList) -> bool:
    return user is not None and any(m.organisation_id == favorite_list.organisation_id for m in user.memberships)


@RULES.rule("export_search")
def can_export_search(user, _obj) -> bool:
    return user is not None
