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

from ..accounts.models import Organisation, User
from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db
from ..reference.models import Sector
from ..suppliers.models import Structure


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

    organisation = relationship(Organisation, foreign_keys=[organisation_id])
    assisting_organisation = relationship(Organisation, foreign_keys=[assisting_organisation_id])
    created_by = relationship(User, foreign_keys=[created_by_id])
    validated_by = relationship(User, foreign_keys=[validated_by_id])
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
    #: environmental commitments (`EnvLabel` values) a structure must hold, still valid, to answer this lot
    required_env: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list, server_default="{}")

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
    #: a grouping (GME) of the portal, when the holder is one (its mandataire's SIRET is `holder_siret`)
    holder_grouping_id: Mapped[int | None] = mapped_column(ForeignKey("grouping.id", ondelete="SET NULL"),
                                                           index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    awarded_on: Mapped[date | None] = mapped_column(Date)
    offers_count: Mapped[int | None] = mapped_column(Integer)
    unsuccessful_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lot: Mapped[TenderLot] = relationship(back_populates="award")
    holder_structure = relationship(Structure)

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
    author = relationship(User)
    organisation = relationship(Organisation)


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
    #: when its mail to the interested structures was queued: the job runs once, even when run twice
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tender: Mapped[Tender] = relationship(back_populates="rectificatifs")
    author = relationship(User)


# --- reaching the structures: relay, answers, questions, re-notifications, watch (issue 20) ---------------

class Interest(LabelledEnum):
    INTERESTED = "interested", "Intéressée"
    NOT_INTERESTED = "not_interested", "Pas intéressée"


class WatchFrequency(LabelledEnum):
    IMMEDIATE = "immediate", "Dès sa publication"
    DAILY = "daily", "Chaque jour (un courriel récapitulatif)"
    WEEKLY = "weekly", "Chaque semaine (un courriel récapitulatif)"
    NEVER = "never", "Jamais (flux Atom seulement)"


class TenderNotification(db.Model):
    """A structure the relay matched with a published tender: at most one per (tender, structure), enforced by the
    database, so that a relay job run twice mails nobody twice."""

    __tablename__ = "tender_notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"))
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    #: the lots this structure matched
    lot_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    #: why it matched, shown on the tender page: {"<lot id>": ["Secteur : Espaces verts", ...]}
    reasons: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: when its mail left (None: not sent yet, or not sent because of the preferences or the deadline)
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: why no mail was sent ("opted_out", "deadline_passed", "no_recipient"), None otherwise
    skipped_reason: Mapped[str | None] = mapped_column(String(24))

    tender: Mapped[Tender] = relationship()
    structure = relationship(Structure)

    __table_args__ = (UniqueConstraint("tender_id", "structure_id", name="uq_tender_notification_once"),)


class LotResponse(TimestampMixin, db.Model):
    """Where one structure stands on one lot (the buyer's funnel): notified → viewed → interested or not (with a
    reason) → answered (a quote in the portal, or an offer declared as deposited on the buyer profile)."""

    __tablename__ = "lot_response"
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lot.id", ondelete="CASCADE"))
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    interest: Mapped[str | None] = mapped_column(String(16))
    interest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: why not interested: a code of `answers.NOT_INTERESTED_REASONS`, and free text
    reason_code: Mapped[str | None] = mapped_column(String(24))
    reason_text: Mapped[str | None] = mapped_column(Text)
    #: the answer: a quote sent in the portal (demande de devis, sourcing) or an offer declared (appel d'offres)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answer_message: Mapped[str | None] = mapped_column(Text)
    #: the quote PDF under the uploads root (`core.uploads`), with its name as uploaded
    quote_path: Mapped[str | None] = mapped_column(String(300))
    quote_filename: Mapped[str | None] = mapped_column(String(200))
    offer_declared: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    lot: Mapped[TenderLot] = relationship()
    structure = relationship(Structure)
    answered_by = relationship(User)

    __table_args__ = (
        UniqueConstraint("lot_id", "structure_id", name="uq_lot_response_once"),
        CheckConstraint("interest IS NULL OR interest IN ('interested', 'not_interested')", name="interest"),
        CheckConstraint("interest IS DISTINCT FROM 'not_interested' OR reason_code IS NOT NULL",
                        name="not_interested_has_reason"),
    )


class TenderQuestion(db.Model):
    """A question a structure asks the buyer; once answered, it is shown to everyone with the asker anonymised."""

    __tablename__ = "tender_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), index=True)
    #: None: the question is about the whole tender
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("tender_lot.id", ondelete="CASCADE"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    tender: Mapped[Tender] = relationship()
    lot: Mapped[TenderLot | None] = relationship()
    structure = relationship(Structure)
    asked_by = relationship(User, foreign_keys=[asked_by_id])
    answered_by = relationship(User, foreign_keys=[answered_by_id])


class LotRenotification(db.Model):
    """A message the buyer sent again to one status group of a lot's funnel (at most twice, a week apart)."""

    __tablename__ = "lot_renotification"
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("tender_lot.id", ondelete="CASCADE"), index=True)
    #: the funnel group: "notified" (no answer yet), "viewed", "interested"
    group: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RelayPreference(db.Model):
    """How a structure wants to hear of tenders that match it (no row: mailed for each matching tender)."""

    __tablename__ = "relay_preference"
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), primary_key=True)
    #: false after the one-click unsubscribe (or unticked on the preferences page)
    relay_mails: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    #: private token of the iCalendar feed of the deadlines of tenders the structure is interested in
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    structure = relationship(Structure)


class SavedSearch(TimestampMixin, db.Model):
    """A tender search a user keeps: its arguments (as the tender search reads them), how often they hear of new
    matches, and the private token of its Atom feed."""

    __tablename__ = "saved_search"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    #: the search's GET arguments as [[name, value], ...], parsed again (and checked) whenever it runs
    args: Mapped[list[list[str]]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    frequency: Mapped[str] = mapped_column(String(12), default=WatchFrequency.DAILY, server_default="daily")
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = relationship(User)

    __table_args__ = (
        CheckConstraint("frequency IN ('immediate', 'daily', 'weekly', 'never')", name="frequency"),
    )


class SavedSearchDelivery(db.Model):
    """A tender already mailed for a saved search: a digest never sends it again."""

    __tablename__ = "saved_search_delivery"
    saved_search_id: Mapped[int] = mapped_column(ForeignKey("saved_search.id", ondelete="CASCADE"), primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id", ondelete="CASCADE"), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
