"""Who may see, edit and claim a structure profile, and decide claims: every rule on both sides,
asked through `can()` with real (unsaved) users, organisations and profiles."""
import pytest

from marche.accounts.models import Membership, MemberRole, Organisation, OrganisationKind, User, VerificationStatus
from marche.core import access
from marche.suppliers import access as suppliers_access
from marche.suppliers.models import (ClientReference, EnvCommitment, FavoriteList, Structure, StructureClaim,
                                     StructureContact)

access.register(suppliers_access.RULES)

K = OrganisationKind
OWNER_ID, CLAIMANT_ID, FACILITATOR_ID, BUYER_ID = 10, 20, 30, 40


def organisation(org_id, kind, status=VerificationStatus.NOT_REQUIRED, territories=()):
    return Organisation(id=org_id, name=f"Org {org_id}", kind=kind, verification_status=status,
                        territories=list(territories))


def person(*organisations, role=MemberRole.ADMIN) -> User:
    user = User(email="p@example.fr", active=True, is_platform_admin=False)
    for org in organisations:
        Membership(user=user, organisation=org, organisation_id=org.id, role=role)
    return user


def profile(owner_id=OWNER_ID) -> Structure:
    return Structure(id=1, name="La Collecterie", kinds=["ACI"], owner_organisation_id=owner_id,
                     commune_code="93048", department_code="93", region_code="11")


OWNER_ORG = organisation(OWNER_ID, K.INCLUSIVE_STRUCTURE)
OTHER_STRUCTURE_ORG = organisation(CLAIMANT_ID, K.INCLUSIVE_STRUCTURE)
BUYER_ORG = organisation(BUYER_ID, K.PUBLIC_BUYER)


@pytest.mark.parametrize("role", [MemberRole.ADMIN, MemberRole.MEMBER])
def test_every_member_of_the_owner_edits_the_profile_and_its_parts(role):
    """Editing a profile is any member's job, not only an admin's (unlike managing the organisation)."""
    structure = profile()
    owner = person(OWNER_ORG, role=role)
    parts = [structure, EnvCommitment(structure=structure), ClientReference(structure=structure),
             StructureContact(structure=structure)]
    assert [access.can(owner, "edit", part) for part in parts] == [True] * 4


@pytest.mark.parametrize("who", ["other structure", "buyer", "anonymous"])
def test_nobody_else_edits_the_profile_or_its_parts(who):
    structure = profile()
    user = {"other structure": person(OTHER_STRUCTURE_ORG), "buyer": person(BUYER_ORG), "anonymous": None}[who]
    parts = [structure, EnvCommitment(structure=structure), ClientReference(structure=structure),
             StructureContact(structure=structure)]
    assert [access.can(user, "edit", part) for part in parts] == [False] * 4


def test_an_unclaimed_profile_is_edited_by_nobody():
    assert access.can(person(OTHER_STRUCTURE_ORG), "edit", profile(owner_id=None)) is False


def test_profiles_are_public():
    assert access.can(None, "view", profile()) is True
    assert access.can(None, "view", profile(owner_id=None)) is True


@pytest.mark.parametrize("state", ["pending", "refused"])
def test_an_unpublished_profile_is_seen_by_its_organisation_and_its_territorys_facilitator_only(state):
    """Both sides: the owner, a verified facilitator of 93 and a platform admin see it and (but the
    owner) verify it; anonymous, a buyer, another structure, a facilitator of 59 or an unverified one do not."""
    structure = profile()
    structure.publication = state
    near = person(organisation(FACILITATOR_ID, K.FACILITATOR, VerificationStatus.VERIFIED, ["dep:93"]))
    far = person(organisation(FACILITATOR_ID + 1, K.FACILITATOR, VerificationStatus.VERIFIED, ["dep:59"]))
    unverified = person(organisation(FACILITATOR_ID + 2, K.FACILITATOR, VerificationStatus.PENDING, ["dep:93"]))
    admin = User(email="admin@example.fr", active=True, is_platform_admin=True)
    owner = person(OWNER_ORG)
    seen = {name: access.can(user, "view", structure) for name, user in (
        ("owner", owner), ("near", near), ("admin", admin), ("far", far), ("unverified", unverified),
        ("buyer", person(BUYER_ORG)), ("other", person(OTHER_STRUCTURE_ORG)), ("anonymous", None))}
    assert seen == {"owner": True, "near": True, "admin": True, "far": False, "unverified": False,
                    "buyer": False, "other": False, "anonymous": False}
    assert [access.can(u, "verify", structure) for u in (near, admin, owner, far, unverified)] == [
        True, True, False, False, False]
    structure.publication = "published"
    assert access.can(None, "view", structure) is True and access.can(near, "verify", structure) is False


def test_contacts_are_for_signed_in_users():
    assert access.can(person(BUYER_ORG), "view_contacts", profile()) is True
    assert access.can(None, "view_contacts", profile()) is False


@pytest.mark.parametrize("who, structure, expected", [
    ("other structure", profile(), True),
    ("other structure", profile(owner_id=None), True),
    ("owner", profile(), False),  # already theirs
    ("buyer", profile(owner_id=None), False),
    ("anonymous", profile(owner_id=None), False),
])
def test_who_may_claim_a_profile(who, structure, expected):
    user = {"other structure": person(OTHER_STRUCTURE_ORG), "owner": person(OWNER_ORG), "buyer": person(BUYER_ORG),
            "anonymous": None}[who]
    assert access.can(user, "claim", structure) is expected


def claim() -> StructureClaim:
    return StructureClaim(structure=profile(owner_id=None), organisation_id=CLAIMANT_ID)


@pytest.mark.parametrize("territories, expected", [
    (["commune:93048"], True), (["dep:93"], True), (["reg:11"], True), (["country:FR"], True),
    (["commune:93049", "dep:94", "reg:84"], False), ([], False),
])
def test_a_verified_facilitator_decides_claims_of_its_territory_only(territories, expected):
    facilitator = person(organisation(FACILITATOR_ID, K.FACILITATOR, VerificationStatus.VERIFIED, territories))
    assert access.can(facilitator, "decide", claim()) is expected
    assert access.can(facilitator, "list_claims") is True


@pytest.mark.parametrize("status", [VerificationStatus.PENDING, VerificationStatus.REFUSED])
def test_an_unverified_facilitator_decides_nothing(status):
    facilitator = person(organisation(FACILITATOR_ID, K.FACILITATOR, status, ["country:FR"]))
    assert access.can(facilitator, "decide", claim()) is False
    assert access.can(facilitator, "list_claims") is False


def test_nobody_decides_their_own_organisations_claim():
    competent = organisation(FACILITATOR_ID, K.FACILITATOR, VerificationStatus.VERIFIED, ["dep:93"])
    both = person(competent, OTHER_STRUCTURE_ORG)  # a facilitator who also belongs to the claimant
    assert access.can(both, "decide", claim()) is False
    assert access.can(person(competent), "decide", claim()) is True


@pytest.mark.parametrize("who", ["buyer", "anonymous", "structure"])
def test_others_neither_list_nor_decide_claims(who):
    user = {"buyer": person(BUYER_ORG), "anonymous": None, "structure": person(OTHER_STRUCTURE_ORG)}[who]
    assert access.can(user, "list_claims") is False
    assert access.can(user, "decide", claim()) is False


@pytest.mark.parametrize("org, expected", [
    (BUYER_ORG, True), (organisation(50, K.PRIVATE_COMPANY), True),
    (organisation(51, K.FACILITATOR, VerificationStatus.VERIFIED), True),
    (organisation(52, K.FACILITATOR, VerificationStatus.PENDING), False),
    (OWNER_ORG, False),
])
def test_favourites_are_for_trusted_buyers_and_facilitators(org, expected):
    assert access.can(person(org), "use_favorites") is expected
    assert access.can(None, "use_favorites") is False


def test_a_favourite_list_is_seen_by_its_organisations_members_only():
    favorites = FavoriteList(organisation_id=BUYER_ID, name="Nettoyage")
    assert access.can(person(BUYER_ORG, role=MemberRole.MEMBER), "view", favorites) is True
    assert access.can(person(organisation(41, K.PUBLIC_BUYER)), "view", favorites) is False
    assert access.can(None, "view", favorites) is False


def test_exporting_a_search_needs_an_account():
    assert access.can(person(BUYER_ORG), "export_search") is True
    assert access.can(None, "export_search") is False


VERIFIED_FACILITATOR = organisation(FACILITATOR_ID, K.FACILITATOR, VerificationStatus.VERIFIED, ["dep:93"])
PENDING_FACILITATOR = organisation(FACILITATOR_ID + 2, K.FACILITATOR, VerificationStatus.PENDING, ["dep:93"])


@pytest.mark.parametrize("who, expected", [
    ("structure admin", True), ("structure member", True), ("buyer", False),
    ("company", False), ("facilitator", False), ("anonymous", False),
])
def test_only_an_inclusive_structure_creates_a_profile_and_has_my_profiles(who, expected):
    """« Créer une fiche » and « Ma fiche » are for members (any role) of an inclusive structure."""
    user = {"structure admin": person(OWNER_ORG), "structure member": person(OWNER_ORG, role=MemberRole.MEMBER),
            "buyer": person(BUYER_ORG), "company": person(organisation(50, K.PRIVATE_COMPANY)),
            "facilitator": person(VERIFIED_FACILITATOR), "anonymous": None}[who]
    assert access.can(user, "create_structure") is expected
    assert access.can(user, "my_profiles") is expected


def test_a_structure_that_is_also_a_buyer_creates_a_profile():
    assert access.can(person(BUYER_ORG, OTHER_STRUCTURE_ORG), "create_structure") is True
    assert access.can(person(BUYER_ORG, OTHER_STRUCTURE_ORG), "my_profiles") is True


@pytest.mark.parametrize("who, expected", [
    ("verified facilitator", True), ("pending facilitator", False), ("structure", False), ("buyer", False),
    ("anonymous", False),
])
def test_only_a_verified_facilitator_lists_the_profiles_waiting_for_verification(who, expected):
    user = {"verified facilitator": person(VERIFIED_FACILITATOR), "pending facilitator": person(PENDING_FACILITATOR),
            "structure": person(OWNER_ORG), "buyer": person(BUYER_ORG), "anonymous": None}[who]
    assert access.can(user, "list_unpublished") is expected


@pytest.mark.parametrize("who, expected", [
    ("buyer", True), ("structure", True), ("facilitator", True), ("anonymous", False),
])
def test_any_signed_in_user_writes_to_a_structure(who, expected):
    user = {"buyer": person(BUYER_ORG), "structure": person(OTHER_STRUCTURE_ORG),
            "facilitator": person(PENDING_FACILITATOR), "anonymous": None}[who]
    assert access.can(user, "contact", profile()) is expected


@pytest.mark.parametrize("role", [MemberRole.ADMIN, MemberRole.MEMBER])
def test_every_member_of_the_organisation_edits_its_favourite_list(role):
    favorites = FavoriteList(organisation_id=BUYER_ID, name="Nettoyage")
    assert access.can(person(BUYER_ORG, role=role), "edit", favorites) is True


@pytest.mark.parametrize("who", ["other buyer", "structure", "anonymous"])
def test_nobody_else_edits_a_favourite_list(who):
    favorites = FavoriteList(organisation_id=BUYER_ID, name="Nettoyage")
    user = {"other buyer": person(organisation(41, K.PUBLIC_BUYER)), "structure": person(OWNER_ORG),
            "anonymous": None}[who]
    assert access.can(user, "edit", favorites) is False


@pytest.mark.parametrize("who, expected", [
    ("verified facilitator", True), ("pending facilitator", False), ("structure", False), ("buyer", False),
    ("anonymous", False),
])
def test_only_a_verified_facilitator_completes_sectors(who, expected):
    user = {"verified facilitator": person(VERIFIED_FACILITATOR), "pending facilitator": person(PENDING_FACILITATOR),
            "structure": person(OWNER_ORG), "buyer": person(BUYER_ORG), "anonymous": None}[who]
    assert access.can(user, "complete_sectors") is expected


@pytest.mark.parametrize("territories, expected", [
    (["commune:93048"], True), (["dep:93"], True), (["reg:11"], True), (["country:FR"], True),
    (["commune:93049", "dep:94", "reg:84"], False), ([], False),
])
def test_a_verified_facilitator_gives_sectors_to_unclaimed_profiles_of_its_territory_only(territories, expected):
    facilitator = person(organisation(FACILITATOR_ID, K.FACILITATOR, VerificationStatus.VERIFIED, territories))
    assert access.can(facilitator, "give_sectors", profile(owner_id=None)) is expected


@pytest.mark.parametrize("publication, owner, expected", [
    ("published", None, True), ("published", OWNER_ID, False), ("pending", None, False), ("refused", None, False),
])
def test_sectors_are_given_to_published_unclaimed_profiles_only(publication, owner, expected):
    structure = profile(owner_id=owner)
    structure.publication = publication
    assert access.can(person(VERIFIED_FACILITATOR), "give_sectors", structure) is expected


@pytest.mark.parametrize("who", ["pending facilitator", "structure", "buyer", "anonymous"])
def test_nobody_else_gives_sectors(who):
    user = {"pending facilitator": person(PENDING_FACILITATOR), "structure": person(OWNER_ORG),
            "buyer": person(BUYER_ORG), "anonymous": None}[who]
    assert access.can(user, "give_sectors", profile(owner_id=None)) is False
