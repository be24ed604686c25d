"""Accounts: users, organisations (typed), memberships with roles, join requests."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (ARRAY, Boolean, CheckConstraint, DateTime, ForeignKey, Index, String,
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

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                           order_by="Membership.id")

    __table_args__ = (Index("uq_user_account_email_lower", func.lower(email), unique=True),)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

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

    memberships: Mapped[list["Membership"]] = relationship(back_populates="organisation", cascade="all, delete-orphan",
                                                           order_by="Membership.id")

    __table_args__ = (
        CheckConstraint("kind in ('public_buyer','private_company','inclusive_structure','facilitator','platform')",
                        name="kind"),
        CheckConstraint("kind <> 'public_buyer' or buyer_category is not null", name="buyer_category_required"),
        CheckConstraint("kind = 'platform' or siret is not null", name="siret_required"),
        CheckConstraint("siret is null or siret ~ '^[0-9]{14}$'", name="siret_format"),
        Index("ix_organisation_territories", "territories", postgresql_using="gin"),
    )

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
