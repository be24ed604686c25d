"""Accounts: users, organisations (typed), memberships with roles, join requests."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (ARRAY, BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String,
                        Text, UniqueConstraint, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db


class OrganisationKind(LabelledEnum):
    PUBLIC_BUYER = "public_buyer", "Acheteur public"
    PRIVATE_COMPANY = "private_company", "Entreprise privée"
    INCLUSIVE_STRUCTURE = "inclusive_structure", "Structure inclusive"
    FACILITATOR = "facilitator", "Service facilitateur"
    PLATFORM = "platform", "Équipe de la plateforme"


#: what a member of each kind of organisation is called in the interface
ROLE_LABELS = {
    OrganisationKind.PUBLIC_BUYER: "Acheteur public",
    OrganisationKind.PRIVATE_COMPANY: "Acheteur privé",
    OrganisationKind.INCLUSIVE_STRUCTURE: "Structure inclusive",
    OrganisationKind.FACILITATOR: "Facilitateur",
    OrganisationKind.PLATFORM: "Administrateur",
}


class BuyerCategory(LabelledEnum):
    """Drives the legal thresholds that apply to a public buyer's tenders (clauses/rules.py)."""

    STATE = "state", "État et ses établissements publics"
    LOCAL_AUTHORITY = "local_authority", "Collectivité territoriale"
    PUBLIC_HEALTH = "public_health", "Établissement public de santé"
    CONTRACTING_ENTITY = "contracting_entity", "Entité adjudicatrice (opérateur de réseau)"
    SOCIAL_LANDLORD = "social_landlord", "Bailleur social"
    OTHER = "other", "Autre acheteur public"


class FacilitatorKind(LabelledEnum):
    PLIE = "plie", "PLIE"
    EMPLOYMENT_HOUSE = "maison_emploi", "Maison de l'emploi"
    LOCAL_AUTHORITY = "collectivite", "Collectivité"
    OTHER = "other", "Autre"


class MemberRole(LabelledEnum):
    ADMIN = "admin", "Administrateur de l'organisation"
    MEMBER = "member", "Membre"


class JoinStatus(LabelledEnum):
    PENDING = "pending", "En attente"
    APPROVED = "approved", "Acceptée"
    REJECTED = "rejected", "Refusée"


class VerificationStatus(LabelledEnum):
    """A facilitator organisation's powers wait for a platform admin's check."""

    NOT_REQUIRED = "not_required", "Sans objet"
    PENDING = "pending", "En attente de vérification"
    VERIFIED = "verified", "Vérifiée par la plateforme"
    REFUSED = "refused", "Vérification refusée"


class InvitationStatus(LabelledEnum):
    PENDING = "pending", "En attente"
    ACCEPTED = "accepted", "Acceptée"
    DECLINED = "declined", "Déclinée"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored as typed; uniqueness is case-insensitive (index on lower(email))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    #: a deactivated account cannot log in; its history stays
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Flask-Login's id (session and remember cookies): rotated on logout, password change and reset,
    #: so a copied cookie stops working everywhere at once
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                           order_by="Membership.id")

    __table_args__ = (Index("uq_user_account_email_lower", func.lower(email), unique=True),)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the rotating token, never the stable primary key
        return self.session_token

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def primary_membership(self) -> "Membership | None":
        return self.memberships[0] if self.memberships else None

    @property
    def organisation(self) -> "Organisation | None":
        membership = self.primary_membership
        return membership.organisation if membership else None

    @property
    def role_label(self) -> str:
        if self.is_platform_admin:
            return ROLE_LABELS[OrganisationKind.PLATFORM]
        org = self.organisation
        return ROLE_LABELS[OrganisationKind(org.kind)] if org else "Sans organisation"

    def has_kind(self, *kinds: OrganisationKind) -> bool:
        return any(m.organisation.kind in kinds for m in self.memberships)

    def trusted_organisations(self, *kinds: OrganisationKind) -> list["Organisation"]:
        """Organisations of these kinds whose powers apply (a facilitator only once verified)."""
        return [m.organisation for m in self.memberships if m.organisation.kind in kinds and m.organisation.trusted]

    def has_trusted_kind(self, *kinds: OrganisationKind) -> bool:
        return bool(self.trusted_organisations(*kinds))

    def membership_in(self, organisation: "Organisation") -> "Membership | None":
        return next((m for m in self.memberships if m.organisation_id == organisation.id), None)


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(32))
    #: 14 digits, Luhn-checked in the service; one organisation per SIRET (null only for the platform)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    #: public buyers only: which thresholds apply to their tenders
    buyer_category: Mapped[str | None] = mapped_column(String(32))
    #: facilitators only: PLIE, maison de l'emploi, collectivité…
    facilitator_kind: Mapped[str | None] = mapped_column(String(32))
    #: facilitators only: territory references of competence ("dep:59", "commune:59350"), used to
    #: route tender validations, hours validation and bilans
    territories: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    city: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    #: facilitators only gain their powers (deciding claims in their territory...) once a platform admin
    #: has checked them; other kinds are "not_required": their kind grants no power over others' data
    #: (an inclusive structure's SIRET gives no right on a directory profile, only an approved claim does)
    verification_status: Mapped[str] = mapped_column(String(12), default=VerificationStatus.PENDING,
                                                     server_default="pending")
    #: the platform admin who verified or refused, and when
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    memberships: Mapped[list["Membership"]] = relationship(back_populates="organisation", cascade="all, delete-orphan",
                                                           order_by="Membership.id")

    __table_args__ = (
        CheckConstraint("kind in ('public_buyer','private_company','inclusive_structure','facilitator','platform')",
                        name="kind"),
        CheckConstraint("kind <> 'public_buyer' or buyer_category is not null", name="buyer_category_required"),
        CheckConstraint("kind = 'platform' or siret is not null", name="siret_required"),
        CheckConstraint("siret is null or siret ~ '^[0-9]{14}$'", name="siret_format"),
        CheckConstraint("verification_status in ('not_required', 'pending', 'verified', 'refused')", name="verification_status"),
        Index("ix_organisation_territories", "territories", postgresql_using="gin"),
        Index("ix_organisation_awaiting_verification", "id", postgresql_where=text("verification_status = 'pending'")),
    )

    @property
    def trusted(self) -> bool:
        return self.verification_status in (VerificationStatus.VERIFIED, VerificationStatus.NOT_REQUIRED)

    @property
    def verification_label(self) -> str:
        return VerificationStatus(self.verification_status).label

    @property
    def kind_label(self) -> str:
        return OrganisationKind(self.kind).label

    @property
    def buyer_category_label(self) -> str:
        return BuyerCategory(self.buyer_category).label if self.buyer_category else ""

    @property
    def admins(self) -> list[User]:
        return [m.user for m in self.memberships if m.role == MemberRole.ADMIN]


class Membership(TimestampMixin, db.Model):
    __tablename__ = "membership"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),
        CheckConstraint("role in ('admin', 'member')", name="role"),
    )

    @property
    def role_label(self) -> str:
        return MemberRole(self.role).label


class JoinRequest(TimestampMixin, db.Model):
    __tablename__ = "join_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JoinStatus.PENDING)
    message: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        CheckConstraint("status in ('pending', 'approved', 'rejected')", name="status"),
        Index("uq_join_request_pending", "user_id", "organisation_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )

    @property
    def status_label(self) -> str:
        return JoinStatus(self.status).label


class Invitation(TimestampMixin, db.Model):
    """An organisation admin invites an address; nobody joins without accepting (signed, expiring link)."""

    __tablename__ = "invitation"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    #: the address invited, as typed; only the account with this address (case-insensitive) may answer
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: what the invitation is about, shown to the invitee (e.g. the structure profile to manage)
    subject: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=InvitationStatus.PENDING, server_default="pending")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    __table_args__ = (CheckConstraint("status in ('pending', 'accepted', 'declined')", name="status"),)

    @property
    def status_label(self) -> str:
        return InvitationStatus(self.status).label


class LoginFailure(db.Model):
    """One failed login, counted in PostgreSQL so limits hold across workers, instances and Redis outages."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: the e-mail typed, lower-cased (an unknown account is counted like a known one)
    account_key: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_login_failure_account", "account_key", "created_at"),
        Index("ix_login_failure_address", "address", "created_at"),
        Index("ix_login_failure_created_at", "created_at"),
    )
