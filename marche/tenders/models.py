"""Tenders (consultations) and their lots, with what happens to them: validation comments, rectificatifs,
attachments and the award of each lot.

A tender belongs to a buyer organisation (public or private). It always has at least one lot: a tender the
buyer does not split (`allotted` false) has one implicit lot carrying its clauses. Each lot's clauses are one
JSON document checked by `clauses` (`tenders.drafting` reads and writes it), so that the legal check, the annex
and the award event read the same thing.

Amounts are euros HT in `Numeric(14, 2)`. Deadlines are instants (`timestamptz`, shown in Europe/Paris);
launch and planned notification are days.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (ARRAY, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Table, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db
from ..reference.models import Sector


class TenderKind(LabelledEnum):
    CALL_FOR_TENDERS = "call_for_tenders", "Appel d'offres"
    QUOTE_REQUEST = "quote_request", "Demande de devis"
    SOURCING = "sourcing", "Sourçage (avant une consultation)"


class TenderStatus(LabelledEnum):
    DRAFT = "draft", "Brouillon"
    SUBMITTED = "submitted", "En attente de validation"
    PUBLISHED = "published", "Publiée"
    CLOSED = "closed", "Clôturée (date limite passée)"
    AWARDED = "awarded", "Attribuée"
    UNSUCCESSFUL = "unsuccessful", "Infructueuse"
    CANCELLED = "cancelled", "Annulée"


class Nature(LabelledEnum):
    """The same values as `clauses.rules.Nature` (the legal check reads them)."""

    WORKS = "works", "Travaux"
    SUPPLIES = "supplies", "Fournitures"
    SERVICES = "services", "Services"


class LotStatus(LabelledEnum):
    OPEN = "open", "En cours"
    AWARDED = "awarded", "Attribué"
    UNSUCCESSFUL = "unsuccessful", "Infructueux"


class CommentKind(LabelledEnum):
    COMMENT = "comment", "Commentaire"
    SENT_BACK = "sent_back", "Renvoyée à l'acheteur"
    VALIDATED = "validated", "Validée"


tender_sector = Table(
    "tender_sector",
    db.metadata,
    Column("tender_id", ForeignKey("tender.id", ondelete="CASCADE"), primary_key=True),
    Column("sector_id", ForeignKey("sector.id"), primary_key=True, index=True),
)


class Tender(TimestampMixin, db.Model):
    __tablename__ = "tender"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    #: the past tender this one was duplicated from
    source_tender_id: Mapped[int | None] = mapped_column(ForeignKey("tender.id", ondelete="SET NULL"))

    title: Mapped[str] = mapped_column(String(250))
    object: Mapped[str] = mapped_column(Text, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(20), default=TenderKind.CALL_FOR_TENDERS)
    #: a DECP 2024 value (`clauses.legal.PROCEDURES`), None while undecided
    procedure: Mapped[str | None] = mapped_column(String(80))
    defence: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    #: services sociaux et autres services spécifiques (their own EU threshold)
    specific_services: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    #: main CPV first ("90911200-8"); the nature is derived from it and stays editable
    cpv_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list, server_default="{}")
    nature: Mapped[str] = mapped_column(String(12), default=Nature.SERVICES)
    #: place of execution: a territory reference ("commune:59350", "dep:59", "reg:32", "country:FR")
    place_ref: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    launch_date: Mapped[date | None] = mapped_column(Date)
    questions_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answers_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    planned_notification: Mapped[date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    #: the buyer profile holding the full DCE
    buyer_profile_url: Mapped[str | None] = mapped_column(String(500))
    #: false: the tender is not split and has exactly one implicit lot
    allotted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    status: Mapped[str] = mapped_column(String(16), default=TenderStatus.DRAFT, server_default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: why the tender was cancelled or declared unsuccessful as a whole
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    #: the facilitator organisation the buyer asked to assist (reads and comments on drafts)
    assisting_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    assist_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organisation = relationship("Organisation", foreign_keys=[organisation_id])
    assisting_organisation = relationship("Organisation", foreign_keys=[assisting_organisation_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    validated_by = relationship("User", foreign_keys=[validated_by_id])
    sectors: Mapped[list[Sector]] = relationship(secondary=tender_sector, order_by=Sector.name)
    lots: Mapped[list["TenderLot"]] = relationship(back_populates="tender", cascade="all, delete-orphan",
                                                   order_by="TenderLot.position")
    attachments: Mapped[list["TenderAttachment"]] = relationship(
        back_populates="tender", cascade="all, delete-orphan", order_by="TenderAttachment.id")
    comments: Mapped[list["TenderComment"]] = relationship(
        back_populates="tender", cascade="all, delete-orphan", order_by="TenderComment.id")
    rectificatifs: Mapped[list["TenderRectificatif"]] = relationship(
        back_populates="tender", cascade="all, delete-orphan", order_by="TenderRectificatif.id")

    __table_args__ = (
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("duration_months IS NULL OR duration_months > 0", name="duration_positive"),
        CheckConstraint("questions_deadline IS NULL OR answers_deadline IS NULL "
                        "OR questions_deadline <= answers_deadline", name="questions_before_answers"),
        Index("ix_tender_organisation_status", "organisation_id", "status"),
        Index("ix_tender_status_deadline", "status", "answers_deadline"),
    )

    def __repr__(self) -> str:
        return f"<Tender {self.id} {self.status} {self.title!r}>"


class TenderLot(TimestampMixin, db.Model):
    __tablename__ = "tender_lot"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    #: 1, 2, …: "Lot 1"
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    cpv_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list, server_default="{}")
    #: None: the tender's place
    place_ref: Mapped[str | None] = mapped_column(String(40))
    #: the lot's clauses, one document read and written through `tenders.drafting` (checked by `clauses`)
    clauses: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16), default=LotStatus.OPEN, server_default="open")

    tender: Mapped[Tender] = relationship(back_populates="lots")
    award: Mapped["LotAward | None"] = relationship(back_populates="lot", cascade="all, delete-orphan",
                                                   uselist=False)

    __table_args__ = (
        UniqueConstraint("tender_id", "position", name="uq_tender_lot_position"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("position > 0", name="position_positive"),
    )


class LotAward(db.Model):
    """The recorded outcome of a lot: its holder, amount, date and number of offers, or why it was unsuccessful."""

    __tablename__ = "lot_award"
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lot.id", ondelete="CASCADE"), unique=True)
    #: awarded: true; unsuccessful ("infructueux"): false, with `unsuccessful_reason`
    awarded: Mapped[bool] = mapped_column(Boolean)
    #: an inclusive structure of the directory, when the holder is one
    holder_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"),
                                                            index=True)
    holder_siret: Mapped[str | None] = mapped_column(String(14))
    holder_name: Mapped[str | None] = mapped_column(String(250))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    awarded_on: Mapped[date | None] = mapped_column(Date)
    offers_count: Mapped[int | None] = mapped_column(Integer)
    unsuccessful_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lot: Mapped[TenderLot] = relationship(back_populates="award")
    holder_structure = relationship("Structure")

    __table_args__ = (
        CheckConstraint("NOT awarded OR (holder_siret IS NOT NULL AND amount > 0 AND awarded_on IS NOT NULL)",
                        name="awarded_has_holder"),
        CheckConstraint("awarded OR unsuccessful_reason IS NOT NULL", name="unsuccessful_has_reason"),
        CheckConstraint("offers_count IS NULL OR offers_count >= 0", name="offers_not_negative"),
    )


class TenderAttachment(db.Model):
    """A PDF of the consultation (≤ 20 MB, checked by content), stored outside `static/`, served only to
    those who may see the tender."""

    __tablename__ = "tender_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    #: path under the uploads root (`core.uploads.store_upload`)
    path: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    tender: Mapped[Tender] = relationship(back_populates="attachments")


class TenderComment(db.Model):
    """What the buyer, an assisting facilitator or the validator wrote about a tender (a send-back carries its
    comment)."""

    __tablename__ = "tender_comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=CommentKind.COMMENT, server_default="comment")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    tender: Mapped[Tender] = relationship(back_populates="comments")
    author = relationship("User")
    organisation = relationship("Organisation")


class TenderRectificatif(db.Model):
    """A visible change to a published tender: what changed (field, before, after), when and by whom."""

    __tablename__ = "tender_rectificatif"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    #: [{"field": "answers_deadline", "label": "Date limite de réponse", "before": "…", "after": "…"}]
    changes: Mapped[list[dict[str, str]]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    tender: Mapped[Tender] = relationship(back_populates="rectificatifs")
    author = relationship("User")
