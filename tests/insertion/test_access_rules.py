"""Who sees and runs a contract, its participants and its lines: each rule of `insertion/access.py` asked directly,
for every person of the world, on both sides (the answers are written here from the issue, not read from the
code)."""
from __future__ import annotations

from datetime import date

import pytest

from marche.extensions import db

from marche.core.access import can
from marche.insertion import services
from marche.insertion.models import ContractStatus
from tests.insertion.world import contract, declaration, declared, hours_world, participant, user  # noqa: F401

MARCH = date(2026, 3, 1)
EVERYONE = ("buyer", "facilitator", "holder", "partner", "stranger", "unverified")


def who(ids: dict, action: str, obj) -> set[str]:
    return {role for role in EVERYONE if can(user(ids[role]), action, obj)}


def test_the_parties_read_the_contract(app_ctx, hours_world):
    assert who(hours_world, "view", contract(hours_world["contract"])) == {"buyer", "facilitator", "holder",
                                                                           "partner"}


def test_the_holder_its_partner_and_the_keeper_declare_while_active(app_ctx, hours_world):
    the_contract = contract(hours_world["contract"])
    assert who(hours_world, "declare", the_contract) == {"facilitator", "holder", "partner"}
    services.move_contract(user(hours_world["facilitator"]), the_contract, ContractStatus.COMPLETED)
    assert who(hours_world, "declare", the_contract) == set()


def test_only_the_verified_facilitator_keeps_a_contract_it_was_given(app_ctx, hours_world):
    the_contract = contract(hours_world["contract"])
    assert who(hours_world, "keep", the_contract) == {"facilitator"}
    # without a facilitator, the buyer keeps its contract
    the_contract.facilitator_organisation_id = None
    assert who(hours_world, "keep", the_contract) == {"buyer"}
    assert who(hours_world, "declare", the_contract) == {"buyer", "holder", "partner"}
    # a facilitator not verified keeps nothing, even when named
    the_contract.facilitator_organisation_id = hours_world["unverified_org"]
    assert who(hours_world, "keep", the_contract) == set()


def test_who_enters_contracts_and_follows_them(app_ctx, hours_world):
    assert who(hours_world, "create_contract", None) == {"buyer", "facilitator", "stranger"}  # stranger: a company
    assert who(hours_world, "follow_contracts", None) == set(EVERYONE)
    assert not can(None, "follow_contracts") and not can(None, "create_contract")


def test_a_participant_is_read_by_its_keeper_and_by_who_declared_it(app_ctx, hours_world):
    person = participant(hours_world["p1"])
    assert who(hours_world, "view", person) == {"facilitator"}
    assert who(hours_world, "edit", person) == {"facilitator"}
    declared(hours_world, "partner", "p1", MARCH, "10", mode="made_available")
    # the holder and its partner both declare on the contract where the participant now has hours
    assert who(hours_world, "view", person) == {"facilitator", "holder", "partner"}
    assert who(hours_world, "edit", person) == {"facilitator"}


def test_deciding_withdrawing_and_correcting_a_line(app_ctx, hours_world):
    by_partner = declaration(declared(hours_world, "partner", "p1", MARCH, "10", mode="made_available"))
    assert who(hours_world, "decide", by_partner) == {"facilitator"}
    assert who(hours_world, "withdraw", by_partner) == {"facilitator", "partner"}  # not the holder
    assert who(hours_world, "correct", by_partner) == set()  # waiting: it is withdrawn, not corrected
    services.validate(user(hours_world["facilitator"]), by_partner)
    assert who(hours_world, "decide", by_partner) == set()
    assert who(hours_world, "withdraw", by_partner) == set()
    assert who(hours_world, "correct", by_partner) == {"facilitator", "holder", "partner"}


@pytest.mark.parametrize("role,expected", [("holder", "holder_org"), ("partner", "partner_org"),
                                           ("facilitator", "facilitator_org"), ("buyer", None),
                                           ("stranger", None)])
def test_in_whose_name_a_line_is_declared(app_ctx, hours_world, role, expected):
    from marche.insertion.access import declaring_organisation

    found = declaring_organisation(user(hours_world[role]), contract(hours_world["contract"]))
    assert found == (hours_world[expected] if expected else None)


def test_an_account_without_organisation_reads_no_participant(app_ctx, hours_world):
    from marche.accounts import services as accounts

    lonely = accounts.create_user("seul@exemple.fr", "motdepasse-solide-1", "Compte Seul", confirmed=True)
    db.session.flush()
    person = participant(hours_world["p1"])
    declared(hours_world, "holder", "p1", MARCH, "10")
    assert can(lonely, "view", person) is False
    assert can(lonely, "view", contract(hours_world["contract"])) is False
    assert can(lonely, "follow_contracts") is False and can(lonely, "create_contract") is False
