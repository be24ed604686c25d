"""The drafting rules of a tender, each on both sides of its boundary, through `can()` (platform admins aside):
who sees a tender in each state, who edits it, who gets the draft tools and duplicates it, who may draft one."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from marche.accounts.models import OrganisationKind, User
from marche.core.access import can
from marche.extensions import db
from marche.tenders.models import Tender, TenderStatus

from .factories import make_facilitator, make_tender, organisation_of

S = TenderStatus
#: Lille (59350): the Nord (dep:59) and the Hauts-de-France (reg:32) contain it, the Rhône (dep:69) does not
LILLE = "commune:59350"


@pytest.fixture
def people(app_ctx, make_user):
    ids = {
        "buyer": make_user("acheteur@lille.fr"),
        "other_buyer": make_user("acheteur@roubaix.fr", name="Ville de Roubaix"),
        "private": make_user("achats@entreprise.fr", kind=OrganisationKind.PRIVATE_COMPANY, name="Entreprise"),
        "structure": make_user("aci@exemple.fr", kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="ACI"),
        "nord": make_facilitator(make_user, "plie@nord.fr", ["dep:59"], name="PLIE Nord"),
        "region": make_facilitator(make_user, "plie@hdf.fr", ["reg:32"], name="Maison HDF"),
        "rhone": make_facilitator(make_user, "plie@rhone.fr", ["dep:69"], name="PLIE Rhône"),
        "nord_unverified": make_facilitator(make_user, "mde@nord.fr", ["dep:59"], verified=False, name="MDE"),
    }
    return {name: db.session.get(User, user_id) for name, user_id in ids.items()}


def tender_in(people, status: str, **changes) -> Tender:
    tender = db.session.get(Tender, make_tender(organisation_of(people["buyer"].id), status=status,
                                                place_ref=LILLE))
    for key, value in changes.items():
        setattr(tender, key, value)
    db.session.commit()
    return tender


def who(people, action: str, tender) -> set[str]:
    return {name for name, user in people.items() if can(user, action, tender)} | (
        {"anonymous"} if can(None, action, tender) else set())


EVERYONE = {"anonymous", "buyer", "other_buyer", "private", "structure", "nord", "region", "rhone",
            "nord_unverified"}


@pytest.mark.parametrize("status", [S.PUBLISHED, S.CLOSED, S.AWARDED, S.UNSUCCESSFUL])
def test_a_tender_once_published_is_seen_by_everyone(people, status):
    assert who(people, "view", tender_in(people, status)) == EVERYONE


def test_a_draft_is_the_buyers_and_a_submitted_one_also_its_territorys_verified_facilitators(people):
    assert who(people, "view", tender_in(people, S.DRAFT)) == {"buyer"}
    # the Nord and the region contain Lille; the Rhône does not; an unverified service validates nothing
    assert who(people, "view", tender_in(people, S.SUBMITTED)) == {"buyer", "nord", "region"}


def test_a_cancelled_tender_is_public_only_if_it_was_published(people):
    assert who(people, "view", tender_in(people, S.CANCELLED)) == {"buyer"}
    published = tender_in(people, S.CANCELLED, published_at=datetime(2026, 10, 1, tzinfo=timezone.utc))
    assert who(people, "view", published) == EVERYONE


def test_the_assisting_facilitator_reads_the_draft_and_its_tools_only_while_verified(people):
    draft = tender_in(people, S.DRAFT, assisting_organisation_id=organisation_of(people["rhone"].id))
    assert who(people, "view", draft) == {"buyer", "rhone"}
    assert who(people, "see_draft_tools", draft) == {"buyer", "rhone"}
    unverified = tender_in(people, S.DRAFT, assisting_organisation_id=organisation_of(people["nord_unverified"].id))
    assert who(people, "view", unverified) == {"buyer"}
    assert who(people, "see_draft_tools", unverified) == {"buyer"}


@pytest.mark.parametrize("status, editable", [(S.DRAFT, True), (S.SUBMITTED, False), (S.PUBLISHED, True),
                                              (S.CLOSED, False), (S.AWARDED, False), (S.CANCELLED, False)])
def test_only_the_buyer_edits_and_only_a_draft_or_a_published_tender(people, status, editable):
    tender = tender_in(people, status, assisting_organisation_id=organisation_of(people["nord"].id))
    assert who(people, "edit", tender) == ({"buyer"} if editable else set())
    assert who(people, "duplicate", tender) == {"buyer"}  # a past tender of its own, whatever its state


def test_buyers_public_or_private_may_draft_and_nobody_else(people):
    assert who(people, "draft_tender", None) == {"buyer", "other_buyer", "private"}


# --- the workflow's rules (tenders/workflow_access.py) ---------------------------------------------------------

@pytest.mark.parametrize("action", ["submit", "publish", "cancel", "request_assist", "award"])
def test_only_the_buyers_members_move_their_tender(people, action):
    tender = tender_in(people, S.SUBMITTED, assisting_organisation_id=organisation_of(people["nord"].id))
    assert who(people, action, tender) == {"buyer"}


def test_validators_are_the_verified_facilitators_covering_the_place_never_the_buyer(people):
    submitted = tender_in(people, S.SUBMITTED)
    assert who(people, "validate", submitted) == {"nord", "region"}
    nowhere = tender_in(people, S.SUBMITTED, place_ref=None)
    assert who(people, "validate", nowhere) == set()
    unknown = tender_in(people, S.SUBMITTED, place_ref="dep:999")  # a place that names nothing covers nobody
    assert who(people, "validate", unknown) == set()


def test_the_workflow_is_followed_by_the_buyer_the_assisting_facilitator_and_validators_once_submitted(people):
    draft = tender_in(people, S.DRAFT, assisting_organisation_id=organisation_of(people["rhone"].id))
    assert who(people, "follow_workflow", draft) == who(people, "comment", draft) == {"buyer", "rhone"}
    submitted = tender_in(people, S.SUBMITTED)
    assert who(people, "follow_workflow", submitted) == who(people, "comment", submitted) == {"buyer", "nord",
                                                                                              "region"}


def test_the_queue_is_for_verified_facilitators(people):
    assert who(people, "tender_queue", None) == {"nord", "region", "rhone"}
