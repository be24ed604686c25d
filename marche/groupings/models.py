"""Groupings (GME, groupement momentané d'entreprises): inclusive structures and companies that answer one tender
together (CCP R2142-19 to R2142-27, DOMAIN.md §4).

A grouping is formed by a structure, its proposed mandataire, for one published tender and some of its lots. Each
member is a directory structure (claimed: its organisation answers for it) or a company on the portal (an
organisation), or, until it signs up, an e-mail address invited with the company's name. Each member declares its
services and its share of each lot answered (percent, and the amount it stands for out of the grouping's price for
the lot); the shares of a lot sum to 100 %. Subcontractors are declared as the DC4 form does.

The status moves through one table (`services.GROUPING_STATES`): forming → confirmed → submitted → awarded |
not retained, and dissolved from any open state; each move, invitation, answer and change is in the audit log,
which the members read on the grouping's page. Amounts are euros HT in `Numeric(14, 2)`, percents `Numeric(5, 2)`.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Numeric, String, Text,
                        UniqueConstraint, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db
from ..suppliers.models import Structure
from ..tenders.models import Tender, TenderLot


class GroupingKind(LabelledEnum):
    CONJOINT = "conjoint", "Conjoint"
    SOLIDAIRE = "solidaire", "Solidaire"


class GroupingStatus(LabelledEnum):
    FORMING = "forming", "En constitution"
    CONFIRMED = "confirmed", "Confirmé (intérêt déclaré)"
    SUBMITTED = "submitted", "Offre déposée"
    AWARDED = "awarded", "Attributaire"
    NOT_RETAINED = "not_retained", "Non retenu"
    DISSOLVED = "dissolved", "Dissous"


#: the statuses in which a grouping holds its members on its lots (a structure is in one such grouping per lot)
ACTIVE_STATUSES = (GroupingStatus.FORMING, GroupingStatus.CONFIRMED, GroupingStatus.SUBMITTED, GroupingStatus.AWARDED)
#: the statuses the buyer sees: the grouping said it answers
ANSWERED_STATUSES = (GroupingStatus.CONFIRMED, GroupingStatus.SUBMITTED, GroupingStatus.AWARDED,
                     GroupingStatus.NOT_RETAINED)


class MemberStatus(LabelledEnum):
    INVITED = "invited", "Invitation en attente"
    ACCEPTED = "accepted", "Membre"
    DECLINED = "declined", "Invitation déclinée"
    REMOVED = "removed", "Retiré du groupement"


class Grouping(TimestampMixin, db.Model):
    __tablename__ = "grouping"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    #: the member that leads: the buyer's single contact (a structure of the directory)
    mandataire_id: Mapped[int | None] = mapped_column(
        ForeignKey("grouping_member.id", ondelete="SET NULL", use_alter=True, name="fk_grouping_mandataire"))
    kind: Mapped[str] = mapped_column(String(12), default=GroupingKind.CONJOINT)
    #: conjoint only: the mandataire is jointly liable for each member's obligations (CCP R2142-24)
    mandataire_jointly_liable: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    status: Mapped[str] = mapped_column(String(16), default=GroupingStatus.FORMING, server_default="forming")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: why it was dissolved, as its mandataire wrote it
    dissolved_reason: Mapped[str | None] = mapped_column(Text)

    tender = relationship(Tender)
    lots: Mapped[list["GroupingLot"]] = relationship(back_populates="grouping", cascade="all, delete-orphan",
                                                     order_by="GroupingLot.lot_id")
    members: Mapped[list["GroupingMember"]] = relationship(
        back_populates="grouping", cascade="all, delete-orphan", order_by="GroupingMember.id",
        foreign_keys="GroupingMember.grouping_id")
    mandataire: Mapped["GroupingMember | None"] = relationship(foreign_keys=[mandataire_id], post_update=True)
    subcontractors: Mapped[list["GroupingSubcontractor"]] = relationship(
        back_populates="grouping", cascade="all, delete-orphan", order_by="GroupingSubcontractor.id")
    messages: Mapped[list["GroupingMessage"]] = relationship(
        back_populates="grouping", cascade="all, delete-orphan", order_by="GroupingMessage.id")

    __table_args__ = (
        CheckConstraint("kind in ('conjoint', 'solidaire')", name="kind"),
        CheckConstraint("status in ('forming', 'confirmed', 'submitted', 'awarded', 'not_retained', 'dissolved')",
                        name="status"),
        CheckConstraint("kind = 'conjoint' or not mandataire_jointly_liable", name="jointly_liable_conjoint_only"),
    )

    @property
    def status_label(self) -> str:
        return GroupingStatus(self.status).label

    @property
    def kind_label(self) -> str:
        return GroupingKind(self.kind).label

    @property
    def decp_type(self) -> str:
        """`typeGroupementOperateurs` of the DECP 2024 (« Conjoint » or « Solidaire »)."""
        return "Solidaire" if self.kind == GroupingKind.SOLIDAIRE else "Conjoint"

    @property
    def accepted_members(self) -> list["GroupingMember"]:
        return [m for m in self.members if m.status == MemberStatus.ACCEPTED]

    @property
    def pending_members(self) -> list["GroupingMember"]:
        return [m for m in self.members if m.status == MemberStatus.INVITED]

    @property
    def name(self) -> str:
        """« Groupement A / B / C », the mandataire first."""
        members = self.accepted_members
        members.sort(key=lambda m: (m.id != self.mandataire_id, m.id))
        return "Groupement " + " / ".join(m.display_name for m in members) if members else "Groupement"


class GroupingLot(db.Model):
    """A lot the grouping answers, with its price for it (the base of each member's amount)."""

    __tablename__ = "grouping_lot"
    id: Mapped[int] = mapped_column(primary_key=True)
    grouping_id: Mapped[int] = mapped_column(ForeignKey("grouping.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lot.id", ondelete="CASCADE"), index=True)
    #: the grouping's price for the lot (€ HT); the lot's estimate until the members set it
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    grouping: Mapped[Grouping] = relationship(back_populates="lots")
    lot = relationship(TenderLot)

    __table_args__ = (UniqueConstraint("grouping_id", "lot_id", name="uq_grouping_lot"),
                      CheckConstraint("price is null or price > 0", name="price_positive"))


class GroupingMember(TimestampMixin, db.Model):
    __tablename__ = "grouping_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    grouping_id: Mapped[int] = mapped_column(ForeignKey("grouping.id", ondelete="CASCADE"), index=True)
    #: a structure of the directory (its owning organisation answers for it)…
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"), index=True)
    #: …and/or the organisation that answers (set for a directory structure when claimed, or on acceptance)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                        index=True)
    #: an invitation by e-mail (a company not on the portal): the address, the company as the inviter typed it
    invited_email: Mapped[str | None] = mapped_column(String(254))
    company_name: Mapped[str | None] = mapped_column(String(250))
    company_siret: Mapped[str | None] = mapped_column(String(14))
    status: Mapped[str] = mapped_column(String(12), default=MemberStatus.INVITED, server_default="invited")
    #: what the member does in the grouping (shown in the DC1 summary and the convention)
    services: Mapped[str] = mapped_column(Text, default="", server_default="")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decline_reason: Mapped[str | None] = mapped_column(Text)

    grouping: Mapped[Grouping] = relationship(back_populates="members", foreign_keys=[grouping_id])
    structure = relationship(Structure)
    organisation = relationship(Organisation)
    shares: Mapped[list["GroupingShare"]] = relationship(back_populates="member", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("status in ('invited', 'accepted', 'declined', 'removed')", name="status"),
        CheckConstraint("structure_id is not null or organisation_id is not null or invited_email is not null",
                        name="someone"),
        CheckConstraint("company_siret is null or company_siret ~ '^[0-9]{14}$'", name="siret_format"),
        # a structure appears once in a grouping (its row is reused when invited again)
        Index("uq_grouping_member_structure", "grouping_id", "structure_id", unique=True,
              postgresql_where=text("structure_id is not null")),
        Index("uq_grouping_member_organisation", "grouping_id", "organisation_id", unique=True,
              postgresql_where=text("organisation_id is not null and structure_id is null")),
    )

    @property
    def status_label(self) -> str:
        return MemberStatus(self.status).label

    @property
    def display_name(self) -> str:
        if self.structure is not None:
            return self.structure.display_name
        if self.organisation is not None:
            return self.organisation.name
        return self.company_name or self.invited_email or "?"

    @property
    def siret(self) -> str | None:
        if self.structure is not None and self.structure.siret:
            return self.structure.siret
        if self.organisation is not None and self.organisation.siret:
            return self.organisation.siret
        return self.company_siret

    @property
    def kinds(self) -> list[str]:
        return list(self.structure.kinds or []) if self.structure is not None else []


class GroupingShare(db.Model):
    """A member's share of one lot: percent of the lot's services and the amount out of the grouping's price."""

    __tablename__ = "grouping_share"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("grouping_member.id", ondelete="CASCADE"), index=True)
    grouping_lot_id: Mapped[int] = mapped_column(ForeignKey("grouping_lot.id", ondelete="CASCADE"), index=True)
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))

    member: Mapped[GroupingMember] = relationship(back_populates="shares")
    grouping_lot: Mapped[GroupingLot] = relationship()

    __table_args__ = (UniqueConstraint("member_id", "grouping_lot_id", name="uq_grouping_share"),
                      CheckConstraint("percent > 0 and percent <= 100", name="percent_range"),
                      CheckConstraint("amount is null or amount >= 0", name="amount_positive"))


class GroupingSubcontractor(db.Model):
    """A subcontractor a member declares (what the DC4 form declares to the buyer)."""

    __tablename__ = "grouping_subcontractor"
    id: Mapped[int] = mapped_column(primary_key=True)
    grouping_id: Mapped[int] = mapped_column(ForeignKey("grouping.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("grouping_member.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(250))
    siret: Mapped[str] = mapped_column(String(14))
    services: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    grouping: Mapped[Grouping] = relationship(back_populates="subcontractors")
    member: Mapped[GroupingMember] = relationship()

    __table_args__ = (CheckConstraint("siret ~ '^[0-9]{14}$'", name="siret_format"),
                      CheckConstraint("amount is null or amount > 0", name="amount_positive"))


class GroupingMessage(db.Model):
    """The members' thread."""

    __tablename__ = "grouping_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    grouping_id: Mapped[int] = mapped_column(ForeignKey("grouping.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("grouping_member.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    grouping: Mapped[Grouping] = relationship(back_populates="messages")
    member: Mapped[GroupingMember | None] = relationship()
    author = relationship(User)
