"""Who may see and manage an organisation: each rule on both sides (admin, member, outsider,
anonymous), then the member-role page as a member and as an admin of the organisation."""
import pytest
from sqlalchemy import select

from marche.accounts import access as accounts_access
from marche.accounts.models import JoinRequest, Membership, MemberRole, Organisation, OrganisationKind, User
from marche.core import access
from marche.extensions import db
from tests.conftest import VALID_SIRETS, login, submit

access.register(accounts_access.RULES)


def organisation(org_id: int) -> Organisation:
    return Organisation(id=org_id, name=f"Org {org_id}", kind=OrganisationKind.PUBLIC_BUYER)


def person(*roles: tuple[Organisation, str], platform_admin: bool = False) -> User:
    """A real, unsaved user with memberships of the given roles."""
    user = User(email="p@example.fr", active=True, is_platform_admin=platform_admin)
    for org, role in roles:
        Membership(user=user, organisation=org, organisation_id=org.id, role=role)
    return user


TOWN, OTHER = organisation(1), organisation(2)


@pytest.mark.parametrize("who, may_view, may_manage", [
    ("admin", True, True),
    ("member", True, False),
    ("admin elsewhere", False, False),
    ("anonymous", False, False),
    ("platform admin", True, True),
])
def test_organisation_rules_for_each_kind_of_person(who, may_view, may_manage):
    user = {"admin": lambda: person((TOWN, MemberRole.ADMIN)),
            "member": lambda: person((OTHER, MemberRole.ADMIN), (TOWN, MemberRole.MEMBER)),
            "admin elsewhere": lambda: person((OTHER, MemberRole.ADMIN)),
            "anonymous": lambda: None,
            "platform admin": lambda: person(platform_admin=True)}[who]()
    assert access.can(user, "view", TOWN) is may_view
    assert access.can(user, "manage", TOWN) is may_manage
    assert access.can(user, "decide", JoinRequest(organisation=TOWN, organisation_id=TOWN.id)) is may_manage


@pytest.mark.parametrize("question", ["admin_platform", "verify_organisations"])
def test_platform_questions_are_for_platform_admins_only(question):
    assert access.can(person((TOWN, MemberRole.ADMIN)), question) is False
    assert access.can(None, question) is False
    assert access.can(person(platform_admin=True), question) is True


def test_a_member_cannot_change_roles_an_admin_can(app, make_user):
    """Was: nothing tested a plain member on this page, so "any member manages" went unnoticed."""
    from marche.accounts import services

    make_user("admin@ville.fr", siret=VALID_SIRETS[30])
    make_user("member@ville.fr", siret=VALID_SIRETS[31])
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.siret == VALID_SIRETS[30]))
        member = services.find_user_by_email("member@ville.fr")
        membership = Membership(user=member, organisation=org, role=MemberRole.MEMBER)
        db.session.add(membership)
        db.session.commit()
        org_id, membership_id = org.id, membership.id

    def change_role(client, role):
        return submit(client, f"/organisations/{org_id}/membres/{membership_id}/role", {"role": role},
                      form_url=f"/organisations/{org_id}")

    def role_now():
        with app.app_context():
            return db.session.get(Membership, membership_id).role

    as_member = app.test_client()
    login(as_member, "member@ville.fr")
    assert as_member.get(f"/organisations/{org_id}").status_code == 200  # a member sees the organisation
    assert change_role(as_member, MemberRole.ADMIN).status_code == 404
    assert role_now() == MemberRole.MEMBER

    as_admin = app.test_client()
    login(as_admin, "admin@ville.fr")
    assert change_role(as_admin, MemberRole.ADMIN).status_code == 302
    assert role_now() == MemberRole.ADMIN
