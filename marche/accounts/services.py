"""Account operations: signup, confirmation, login, passwords, organisations and join requests.

Services change the session and flush; the view commits.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from datetime import timedelta
from typing import Iterable

from flask import current_app
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..core import audit
from ..core.errors import DomainError
from ..core.identifiers import is_valid_siret, normalize_digits
from ..core.mail import queue_mail
from ..core.urls import external_url
from ..core.models import utcnow
from ..core.states import Move, StateMachine
from ..extensions import db
from . import tokens
from .models import (BuyerCategory, Invitation, InvitationStatus, JoinRequest, JoinStatus, LoginFailure, Membership,
                     MemberRole, Organisation, OrganisationKind, User, VerificationStatus)
from .passwords import MIN_LENGTH, hash_password, verify_password


@dataclass
class OrganisationData:
    name: str
    kind: str
    siret: str | None
    buyer_category: str | None = None
    facilitator_kind: str | None = None
    territories: list[str] | None = None
    city: str | None = None


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(select(User).where(func.lower(User.email) == email.strip().lower())).scalar_one_or_none()


def member_addresses(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """Active members' addresses of each organisation (lower-cased, deduplicated, sorted): whom a mail to an
    organisation reaches. `session` is the caller's (an outbox handler's own)."""
    rows = session.execute(
        select(Membership.organisation_id, User.email).join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id.in_(list(organisation_ids)), User.active.is_(True))).all()
    addresses: dict[int, set[str]] = defaultdict(set)
    for organisation_id, email in rows:
        addresses[organisation_id].add(email.strip().lower())
    return {organisation_id: sorted(emails) for organisation_id, emails in addresses.items()}


def find_organisation_by_siret(siret: str) -> Organisation | None:
    return db.session.execute(select(Organisation).where(Organisation.siret == normalize_digits(siret))).scalar_one_or_none()


def user_by_session_token(session_token: str) -> User | None:
    """The user whose current session token this is (the cookie's; rotated on logout and password changes)."""
    return db.session.execute(select(User).where(User.session_token == session_token)).scalar_one_or_none()


def get_organisation(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def get_join_request(organisation_id: int, request_id: int) -> JoinRequest | None:
    """The request, if it is one of this organisation's (a URL naming another organisation finds nothing)."""
    join = db.session.get(JoinRequest, request_id)
    return join if join is not None and join.organisation_id == organisation_id else None


def get_membership(organisation_id: int, membership_id: int) -> Membership | None:
    membership = db.session.get(Membership, membership_id)
    return membership if membership is not None and membership.organisation_id == organisation_id else None


def pending_requests_of(user: User) -> list[JoinRequest]:
    """The requests this user sent that no one has decided yet (shown on their profile)."""
    return list(db.session.execute(select(JoinRequest).where(
        JoinRequest.user_id == user.id, JoinRequest.status == JoinStatus.PENDING)).scalars())


def pending_requests_for(organisation: Organisation) -> list[JoinRequest]:
    """The requests to join this organisation awaiting its administrators, oldest first."""
    return list(db.session.execute(select(JoinRequest).where(
        JoinRequest.organisation_id == organisation.id, JoinRequest.status == JoinStatus.PENDING)
        .order_by(JoinRequest.id)).scalars())


def check_password_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError(f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.", "password")
    # as the form's hint says: letters, and digits or symbols
    has_letter = any(character.isalpha() for character in password)
    has_other = any(not character.isalpha() for character in password)
    if not (has_letter and has_other):
        raise DomainError("Le mot de passe doit mêler lettres et chiffres ou symboles.", "password")


def create_user(email: str, password: str, full_name: str, confirmed: bool = False) -> User:
    email = email.strip()
    if find_user_by_email(email) is not None:
        raise DomainError("Un compte existe déjà avec cette adresse e-mail.", "email")
    check_password_strength(password)
    user = User(email=email, password_hash=hash_password(password), full_name=full_name.strip(),
                email_confirmed_at=utcnow() if confirmed else None)
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.created", user)
    return user


def validate_organisation(data: OrganisationData) -> None:
    if data.kind not in {k.value for k in OrganisationKind}:
        raise DomainError("Type d'organisation inconnu.", "kind")
    if data.kind != OrganisationKind.PLATFORM:
        if not data.siret or not is_valid_siret(normalize_digits(data.siret)):
            raise DomainError("SIRET invalide", "siret")
    if data.kind == OrganisationKind.PUBLIC_BUYER and data.buyer_category not in [c.value for c in BuyerCategory]:
        raise DomainError("Choisissez la catégorie d'acheteur public.", "buyer_category")


def create_organisation(actor: User, data: OrganisationData) -> Organisation:
    """Create an organisation with `actor` as its administrator."""
    validate_organisation(data)
    siret = normalize_digits(data.siret) if data.siret else None
    if siret and find_organisation_by_siret(siret) is not None:
        raise DomainError("Une organisation existe déjà avec ce SIRET : demandez à la rejoindre.", "siret")
    organisation = Organisation(
        name=data.name.strip(), kind=data.kind, siret=siret,
        buyer_category=data.buyer_category if data.kind == OrganisationKind.PUBLIC_BUYER else None,
        facilitator_kind=data.facilitator_kind if data.kind == OrganisationKind.FACILITATOR else None,
        territories=list(data.territories or []) if data.kind == OrganisationKind.FACILITATOR else [],
        city=data.city,
        # a facilitator's powers over others' data wait for a platform admin; other kinds have none
        verification_status=(VerificationStatus.PENDING if data.kind == OrganisationKind.FACILITATOR
                             else VerificationStatus.NOT_REQUIRED),
    )
    db.session.add(organisation)
    db.session.flush()
    db.session.add(Membership(user=actor, organisation=organisation, role=MemberRole.ADMIN))
    db.session.flush()
    audit.record(actor, "organisation.created", organisation, siret=siret, kind=data.kind)
    return organisation


def signup(email: str, password: str, full_name: str, organisation: OrganisationData) -> tuple[User, str]:
    """Create the account and either its organisation or a join request to the existing one.

    Returns the user and "created" or "join_requested".
    """
    validate_organisation(organisation)
    user = create_user(email, password, full_name)
    existing = find_organisation_by_siret(organisation.siret or "")
    if existing is not None:
        request_join(user, existing)
        outcome = "join_requested"
    else:
        create_organisation(user, organisation)
        outcome = "created"
    send_confirmation(user)
    return user, outcome


def send_confirmation(user: User) -> None:
    link = external_url("accounts.confirm", token=tokens.make_token(tokens.CONFIRM, user))
    queue_mail(user.email, "Confirmez votre adresse e-mail", "confirm_email", user=user, link=link)


def confirm_email(token: str) -> User:
    data = tokens.read_token(tokens.CONFIRM, token, current_app.config["TOKEN_MAX_AGE"])
    user = db.session.get(User, data["uid"])
    if user is None or user.email.lower() != data["email"]:
        raise tokens.TokenError(expired=False)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        audit.record(user, "user.email_confirmed", user)
    return user


class LoginOutcome(StrEnum):
    BLOCKED = "blocked"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    OK = "ok"


def log_in(email: str, password: str, address: str) -> tuple[LoginOutcome, User | None]:
    """One login attempt. The session then holds exactly what must be kept whatever the outcome (a
    failure counted, the time of a successful login; nothing for a blocked attempt or an unconfirmed
    address), so the view commits once."""
    if login_blocked(email, address):
        return LoginOutcome.BLOCKED, None
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        record_login_failure(email, address)
        return LoginOutcome.FAILED, None
    if not user.email_confirmed:
        return LoginOutcome.UNCONFIRMED, user
    user.last_login_at = utcnow()
    return LoginOutcome.OK, user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise DomainError("Le mot de passe actuel est incorrect.", "current_password")
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.rotate_session_token()  # every other session and remember cookie ends; the view logs this one in again
    audit.record(user, "user.password_changed", user)


def end_all_sessions(user: User) -> None:
    """Logout: the token in every copy of the session and remember cookies stops matching."""
    user.rotate_session_token()
    audit.record(user, "user.logged_out", user)


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = external_url("accounts.reset_password", token=tokens.make_token(tokens.RESET, user))
    queue_mail(user.email, "Réinitialisation de votre mot de passe", "reset_password", user=user, link=link)


def user_for_reset(token: str) -> User:
    """The user a reset link is for; a used link (password changed since) is refused."""
    data = tokens.read_token(tokens.RESET, token, current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, data["uid"])
    if user is None or not tokens.fingerprint_matches(data, user):
        raise tokens.TokenError(expired=False)
    return user


def reset_password(token: str, new: str) -> User:
    user = user_for_reset(token)
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.rotate_session_token()  # whoever held a session with the old password is out
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()  # the link proves the address
    audit.record(user, "user.password_reset", user)
    return user


def update_profile(user: User, full_name: str) -> None:
    user.full_name = full_name.strip()
    audit.record(user, "user.profile_updated", user)


def request_join(user: User, organisation: Organisation, message: str | None = None) -> JoinRequest:
    if user.membership_in(organisation) is not None:
        raise DomainError(f"Vous êtes déjà membre de « {organisation.name} ».", "siret")
    pending = db.session.execute(
        select(JoinRequest).where(JoinRequest.user_id == user.id, JoinRequest.organisation_id == organisation.id,
                                  JoinRequest.status == JoinStatus.PENDING)
    ).scalar_one_or_none()
    if pending is not None:
        raise DomainError(f"Votre demande pour rejoindre « {organisation.name} » est déjà en attente.", "siret")
    join = JoinRequest(user=user, organisation=organisation, message=message, status=JoinStatus.PENDING)
    db.session.add(join)
    db.session.flush()
    audit.record(user, "organisation.join_requested", organisation, request_id=join.id)
    link = external_url("accounts.organisation", organisation_id=organisation.id)
    for admin in organisation.admins:
        queue_mail(admin.email, f"Demande pour rejoindre {organisation.name}", "join_request",
                   admin=admin, requester=user, organisation=organisation, link=link)
    return join


JOIN_STATES = StateMachine("status", [
    Move(JoinStatus.PENDING, JoinStatus.APPROVED, "organisation.join_approved"),
    Move(JoinStatus.PENDING, JoinStatus.REJECTED, "organisation.join_rejected"),
], refused="Cette demande a déjà été traitée.")


def decide_join(actor: User, join: JoinRequest, approve: bool) -> None:
    JOIN_STATES.move(actor, join, JoinStatus.APPROVED if approve else JoinStatus.REJECTED, audited=join.organisation,
                     user_id=join.user_id)
    join.decided_by_id = actor.id
    join.decided_at = utcnow()
    if approve and join.user.membership_in(join.organisation) is None:
        db.session.add(Membership(user=join.user, organisation=join.organisation, role=MemberRole.MEMBER))
    db.session.flush()
    queue_mail(join.user.email, f"Votre demande pour rejoindre {join.organisation.name}", "join_decision",
               user=join.user, organisation=join.organisation, approved=approve,
               link=external_url("accounts.organisation", organisation_id=join.organisation_id))


def set_member_role(actor: User, membership: Membership, role: str) -> None:
    if role not in [r.value for r in MemberRole]:
        raise DomainError("Rôle inconnu.", "role")
    if membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN and len(membership.organisation.admins) == 1:
        raise DomainError("L'organisation doit garder au moins un administrateur.")
    membership.role = role
    audit.record(actor, "organisation.role_changed", membership.organisation, user_id=membership.user_id, role=role)


# --- login throttling ------------------------------------------------------------------------
#: (window, limit) per account-and-address, per address, and per account from anywhere. The pair limit
#: stops guessing from one place without locking the owner out from another; the per-account guard is
#: slower so that a distributed attack cannot lock the owner out in a minute either.
LOGIN_LIMITS = {
    "pair": (timedelta(minutes=1), 10),
    "address": (timedelta(minutes=1), 30),
    "account": (timedelta(hours=1), 50),
}
LOGIN_FAILURE_RETENTION = timedelta(hours=1)


def login_account_key(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def login_blocked(email: str | None, address: str) -> bool:
    """Has this account, this address, or the pair failed too often lately? Counted in PostgreSQL so
    every worker and instance sees the same numbers, with or without Redis."""
    key = login_account_key(email)
    # one transaction-scoped lock per account: concurrent attempts on it are counted one after the other
    db.session.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": "login:" + key})
    now = utcnow()
    checks = {
        "pair": (LoginFailure.account_key == key, LoginFailure.address == address),
        "address": (LoginFailure.address == address,),
        "account": (LoginFailure.account_key == key,),
    }
    for name, conditions in checks.items():
        window, limit = LOGIN_LIMITS[name]
        count = db.session.scalar(select(func.count()).select_from(LoginFailure)
                                  .where(*conditions, LoginFailure.created_at > now - window))
        if count >= limit:
            return True
    return False


def record_login_failure(email: str | None, address: str) -> None:
    db.session.add(LoginFailure(account_key=login_account_key(email), address=address[:45]))
    # old rows are useless to every window: purge them as we go (indexed on created_at)
    db.session.execute(delete(LoginFailure).where(LoginFailure.created_at < utcnow() - LOGIN_FAILURE_RETENTION))


# --- facilitator verification ---------------------------------------------------------------

def organisations_awaiting_verification() -> list[Organisation]:
    return list(db.session.execute(select(Organisation).where(
        Organisation.verification_status == VerificationStatus.PENDING).order_by(Organisation.id)).scalars())


def verify_organisation(actor: User | None, organisation: Organisation, approve: bool) -> None:
    """A platform admin checks a facilitator (or the platform itself, for the demo: actor None)."""
    if organisation.kind != OrganisationKind.FACILITATOR:
        raise DomainError("Seuls les services facilitateurs sont vérifiés par la plateforme.")
    if organisation.verification_status != VerificationStatus.PENDING:
        raise DomainError("Cette organisation a déjà été examinée.")
    organisation.verification_status = VerificationStatus.VERIFIED if approve else VerificationStatus.REFUSED
    organisation.verified_by_id = actor.id if actor is not None else None
    organisation.verified_at = utcnow()
    audit.record(actor, "organisation.verified" if approve else "organisation.verification_refused", organisation,
                 territories=list(organisation.territories or []), siret=organisation.siret)
    for admin in organisation.admins:
        queue_mail(admin.email, f"Vérification de {organisation.name}", "organisation_verification",
                   organisation=organisation, approved=approve,
                   link=external_url("accounts.organisation", organisation_id=organisation.id))


# --- invitations ------------------------------------------------------------------------------
#: what the inviter reads, whether the address has an account or not
INVITATION_SENT = ("Une invitation a été envoyée à cette adresse. La personne rejoindra l'organisation "
                   "quand elle l'aura acceptée.")


def invite(actor: User, organisation: Organisation, email: str, subject: str | None = None) -> Invitation:
    """Invite an address to join `organisation`. The same mail goes out whether or not an account
    exists for it, and nobody is added until the invitee accepts (no account probing, no consent-less
    membership)."""
    email = email.strip()
    existing = find_user_by_email(email)
    if existing is not None and existing.membership_in(organisation) is not None:
        # the inviter already sees the member list: saying so reveals nothing new
        raise DomainError("Cette personne est déjà membre de votre organisation.", "email")
    invitation = Invitation(organisation=organisation, email=email, invited_by_id=actor.id, subject=subject,
                            status=InvitationStatus.PENDING)
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "organisation.invitation_sent", organisation, invitation_id=invitation.id,
                 email=email.lower())
    link = external_url("accounts.invitation", token=tokens.make_invitation_token(invitation))
    queue_mail(email, f"Invitation à rejoindre {organisation.name}", "invitation", invitation=invitation,
               organisation=organisation, inviter=actor, link=link,
               days=current_app.config["INVITATION_MAX_AGE"] // 86400)
    return invitation


def invitation_for(token: str) -> Invitation:
    data = tokens.read_token(tokens.INVITE, token, current_app.config["INVITATION_MAX_AGE"])
    invitation = db.session.get(Invitation, data.get("iid"))
    if invitation is None or invitation.email.lower() != data.get("email"):
        raise tokens.TokenError(expired=False)
    return invitation


def answer_invitation(user: User, invitation: Invitation, accept: bool) -> None:
    """Only the invited address answers, once."""
    if user.email.lower() != invitation.email.lower():
        raise DomainError(f"Cette invitation est adressée à une autre adresse e-mail que la vôtre. "
                          f"Connectez-vous avec le compte de {invitation.email}.")
    if invitation.status != InvitationStatus.PENDING:
        raise DomainError("Cette invitation a déjà reçu une réponse.")
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.answered_by_id, invitation.answered_at = user.id, utcnow()
    if accept and user.membership_in(invitation.organisation) is None:
        db.session.add(Membership(user=user, organisation=invitation.organisation, role=MemberRole.MEMBER))
    db.session.flush()
    audit.record(user, "organisation.invitation_accepted" if accept else "organisation.invitation_declined",
                 invitation.organisation, invitation_id=invitation.id)
