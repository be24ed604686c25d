"""Who sees and runs a contract, its participants and its hours.

- A contract is read by the members of its buyer, its holder's declaring organisation, its partners and its
  record keeper (the facilitator in charge, or the buyer when none is); anyone else gets 404, as for a contract
  that does not exist.
- Hours are declared by the holder's organisation, its partners and the keeper, while the contract is active.
- The keeper (a facilitator only once the platform verified it) validates and rejects hours, locks months,
  corrects the contract's status, names partners and keeps the participants (their eligibility, PASS IAE,
  residence). A facilitator that is not verified yet keeps nothing.
- A participant is read by its keeper, and by the organisations that declare on a contract where it has hours
  (its code, year of birth, sex and publics: what they need to declare; nothing else exists).
- A line waiting for a decision is withdrawn by its declaring organisation or the keeper.
- Contracts are entered directly by a buyer (public or private) or a verified facilitator.
- Platform admins pass every rule (`core.access.can`).
"""
from __future__ import annotations

from sqlalchemy import exists, or_, select

from ..accounts.models import OrganisationKind
from ..core.access import RuleSet
from ..extensions import db
from .models import Contract, ContractPartner, ContractStatus, DeclarationStatus, HoursDeclaration, Participant

RULES = RuleSet()


def organisation_ids(user) -> set[int]:
    return {m.organisation_id for m in getattr(user, "memberships", ())} if user is not None else set()


def kept_organisation_ids(user) -> set[int]:
    """The organisations whose records the user keeps: a verified facilitator, or a buyer (public or private)."""
    if user is None:
        return set()
    return {m.organisation_id for m in user.memberships
            if m.organisation.kind in (OrganisationKind.PUBLIC_BUYER, OrganisationKind.PRIVATE_COMPANY)
            or (m.organisation.kind == OrganisationKind.FACILITATOR and m.organisation.trusted)}


def declaring_organisation_ids(contract: Contract) -> set[int]:
    ids = {p.organisation_id for p in contract.partners}
    if contract.holder_organisation_id is not None:
        ids.add(contract.holder_organisation_id)
    return ids


def is_keeper(user, contract: Contract) -> bool:
    keeper = contract.keeper_organisation_id
    return keeper is not None and keeper in kept_organisation_ids(user)


def declares_only_as_keeper(user, contract: Contract) -> bool:
    """The keeper declares for the holder, not for an organisation of its own on the contract (its page folds the
    form away)."""
    return is_keeper(user, contract) and not organisation_ids(user) & declaring_organisation_ids(contract)


def declaring_organisation(user, contract: Contract) -> int | None:
    """The organisation the user declares for on this contract: the holder's or a partner's, else the keeper."""
    mine = organisation_ids(user)
    for organisation_id in sorted(declaring_organisation_ids(contract)):
        if organisation_id in mine:
            return organisation_id
    return contract.keeper_organisation_id if is_keeper(user, contract) else None


@RULES.rule("view", Contract)
def can_view(user, contract: Contract) -> bool:
    mine = organisation_ids(user)
    parties = declaring_organisation_ids(contract) | {contract.buyer_organisation_id,
                                                       contract.facilitator_organisation_id}
    return bool(mine & (parties - {None}))


@RULES.rule("declare", Contract)
def can_declare(user, contract: Contract) -> bool:
    return contract.status == ContractStatus.ACTIVE and declaring_organisation(user, contract) is not None


@RULES.rule("keep", Contract)
def can_keep(user, contract: Contract) -> bool:
    return is_keeper(user, contract)


@RULES.rule("follow_contracts")
def can_follow_contracts(user, _obj=None) -> bool:
    """« Mes marchés » in the menu: any organisation may buy, keep, hold or help hold a contract."""
    return user is not None and bool(getattr(user, "memberships", None))


@RULES.rule("create_contract")
def can_create_contract(user, _obj=None) -> bool:
    return user is not None and bool(kept_organisation_ids(user))


@RULES.rule("view", Participant)
def can_view_participant(user, participant: Participant) -> bool:
    if participant.keeper_organisation_id in kept_organisation_ids(user):
        return True
    mine = organisation_ids(user)
    if not mine:
        return False
    declares = or_(Contract.holder_organisation_id.in_(mine), exists().where(
        ContractPartner.contract_id == Contract.id, ContractPartner.organisation_id.in_(mine)))
    return bool(db.session.scalar(select(exists().where(
        HoursDeclaration.participant_id == participant.id, HoursDeclaration.contract_id == Contract.id, declares))))


@RULES.rule("edit", Participant)
def can_edit_participant(user, participant: Participant) -> bool:
    return participant.keeper_organisation_id in kept_organisation_ids(user)


@RULES.rule("decide", HoursDeclaration)
def can_decide(user, declaration: HoursDeclaration) -> bool:
    return declaration.status == DeclarationStatus.SUBMITTED and is_keeper(user, declaration.contract)


@RULES.rule("withdraw", HoursDeclaration)
def can_withdraw(user, declaration: HoursDeclaration) -> bool:
    return declaration.status == DeclarationStatus.SUBMITTED and (
        declaration.declaring_organisation_id in organisation_ids(user) or is_keeper(user, declaration.contract))


@RULES.rule("correct", HoursDeclaration)
def can_correct(user, declaration: HoursDeclaration) -> bool:
    return declaration.status == DeclarationStatus.VALIDATED and can_declare(user, declaration.contract)
