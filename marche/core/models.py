"""Base model mixins and the shared tables: audit log, outbox, loaded reference datasets and generated documents."""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry their French label: `Member = "value", "Libellé"`."""

    def __new__(cls, value: str, label: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=utcnow
    )


class AuditEntry(db.Model):
    """Append-only: a trigger in the migration refuses UPDATE and DELETE."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: user id of the actor, null for the system (imports, worker)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80))
    #: object as "<type>:<id>", e.g. "organisation:12"
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)


class OutboxStatus(LabelledEnum):
    PENDING = "pending", "En attente"
    DONE = "done", "Traité"
    DEAD = "dead", "Abandonné"


class OutboxMessage(db.Model):
    """Work to do after a commit (mail, index update, PDF), written in the same transaction."""

    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: handler name, e.g. "mail.send"
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: not processed before this time (exponential backoff after a failure)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_outbox_message_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        db.CheckConstraint("status in ('pending', 'done', 'dead')", name="status"),
    )


class ReferenceDataset(db.Model):
    """Which reference file was loaded, with its checksum, so a reload of the same file is skipped."""

    __tablename__ = "reference_dataset"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)


class DocumentStatus(LabelledEnum):
    PENDING = "pending", "En préparation"
    READY = "ready", "Prêt"


class GeneratedDocument(db.Model):
    """A PDF too large to render inside a request: asked by one user, rendered by the worker from
    `params`, stored under instance/uploads and downloaded by that user only."""

    __tablename__ = "generated_document"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: the user who asked: the only one who may see or download it
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    #: the document type registered in core.documents (e.g. "suppliers.check_report")
    kind: Mapped[str] = mapped_column(String(80))
    #: what the document type needs to render it, fixed when it was asked
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: the name the browser saves it under
    filename: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.PENDING, server_default="pending")
    #: path under instance/uploads, once rendered
    path: Mapped[str | None] = mapped_column(String(200))
    rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (db.CheckConstraint("status in ('pending', 'ready')", name="status"),)
