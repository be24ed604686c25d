"""Who knocks at each route: anonymous, one user per role, and users of *another* organisation of
the same kind (who must not reach the first one's objects).

A new role is one line in ACTORS: `table.row` fills every actor, so the new one gets each row's
default (or the anonymous answer, for a logged-out actor) until a cell or a group names it.
"""
from __future__ import annotations

from dataclasses import dataclass

from marche.accounts.models import OrganisationKind

PASSWORD = "motdepasse-solide-1"  # the one `make_user` in tests/conftest.py gives every account


@dataclass(frozen=True)
class Actor:
    name: str
    #: organisation kind, "platform" for the platform admin, None for anonymous / no organisation
    kind: str | None
    #: the organisation key in world.py ("buyer_a"…); users sharing a key are members of one organisation
    organisation: str | None = None
    #: False: a plain member (MemberRole.MEMBER) of an organisation someone else created
    org_admin: bool = True
    #: territories of competence (facilitators only)
    territories: tuple[str, ...] = ()
    #: facilitators only: has a platform admin verified the organisation? see verify_facilitator()
    verified: bool = True
    #: False: the account was deactivated after it logged in; its session cookie must open nothing
    active: bool = True

    @property
    def treated_as_anonymous(self) -> bool:
        return self.name == "anonymous" or not self.active

    @property
    def email(self) -> str:
        return f"{self.name.replace('_', '.')}@matrice.example.fr"


ANONYMOUS = Actor("anonymous", None)

ACTORS: tuple[Actor, ...] = (
    ANONYMOUS,
    Actor("public_buyer", OrganisationKind.PUBLIC_BUYER, "buyer_a"),
    Actor("public_buyer_member", OrganisationKind.PUBLIC_BUYER, "buyer_a", org_admin=False),
    Actor("public_buyer_other", OrganisationKind.PUBLIC_BUYER, "buyer_b"),
    Actor("private_buyer", OrganisationKind.PRIVATE_COMPANY, "company"),
    # owns the claimed profile (world.claimed); the "other" one has a pending claim on world.unclaimed
    Actor("structure", OrganisationKind.INCLUSIVE_STRUCTURE, "structure_a"),
    Actor("structure_other", OrganisationKind.INCLUSIVE_STRUCTURE, "structure_b"),
    # every structure of the world is in Seine-Saint-Denis (dep:93)
    Actor("facilitator", OrganisationKind.FACILITATOR, "facilitator_93", territories=("dep:93",)),
    Actor("facilitator_other", OrganisationKind.FACILITATOR, "facilitator_59", territories=("dep:59",)),
    # same territory as `facilitator`, but not verified: it must have no facilitator power
    Actor("unverified_facilitator", OrganisationKind.FACILITATOR, "facilitator_93_unverified",
          territories=("dep:93",), verified=False),
    Actor("no_organisation", None),
    # buyer A's former colleague: deactivated while logged in, still holding its session cookie
    Actor("deactivated_buyer", OrganisationKind.PUBLIC_BUYER, "buyer_a", org_admin=False, active=False),
    Actor("platform_admin", "platform"),
)
NAMES: tuple[str, ...] = tuple(actor.name for actor in ACTORS)
#: the actors every row answers like anonymous (`table.row(anonymous=…)`)
LOGGED_OUT: tuple[str, ...] = tuple(actor.name for actor in ACTORS if actor.treated_as_anonymous)


def verify_facilitator(organisation, verified: bool) -> None:
    """A facilitator organisation starts « pending »: the platform verifies the `verified` ones (as
    `make run`'s demo does, actor None); the others keep no facilitator power."""
    if verified:
        from marche.accounts.services import verify_organisation

        verify_organisation(None, organisation, approve=True)
