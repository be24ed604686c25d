"""Contracts and insertion hours (DOMAIN.md §3): every insertion clause followed from the award to the bilan.

- A **contract** comes from an awarded lot (its clause, hours target, modes and publics carried over by the
  `tenders.lot_awarded` event) or is entered directly for a contract that never went through the portal. Its
  holder is a directory structure, a grouping or any company (SIRET); the organisation on the portal that
  declares for it is `holder_organisation`, helped by partner organisations (an SIAE, ETTI or GEIQ that puts
  people at its disposal). The **record keeper** is the facilitator in charge (found by the contract's place),
  or, when no facilitator covers it, the buyer itself: it validates the hours and keeps the participants.
- A **participant** is pseudonymous: a code unique within its keeper's records, birth year, sex, public
  categories, QPV/ZRR residence, who checked the eligibility and when, the PASS IAE and its expiry. No name.
- An **hours declaration** is one participant's hours for one month and one mode. The keeper validates or
  rejects it; a validated line is never changed nor deleted (a trigger in migration 0017 refuses it, as for the
  audit log): a correction is a new line that names the one it corrects, and once validated it replaces it in
  every figure. A month of a contract can be locked once nothing in it waits for a decision.

Hours are `Numeric(7, 2)`; months are the first day of the month (`date`), checked by the database.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, Numeric,
                        SmallInteger, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Organisation, User
from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db
from ..groupings.models import Grouping
from ..suppliers.models import Structure
from ..tenders.models import TenderLot

#: a month's hours for one participant on one contract, all modes together (DOMAIN.md: ~151,67 h is full
#: time; 220 leaves room for overtime while catching a typo such as 1 500)
MAX_MONTH_HOURS = Decimal(220)


class ContractStatus(LabelledEnum):
    ACTIVE = "active", "En cours"
    COMPLETED = "completed", "Terminé"
    CLOSED = "closed", "Clos (bilan fait)"


class HolderKind(LabelledEnum):
    STRUCTURE = "structure", "Structure inclusive de l'annuaire"
    GROUPING = "grouping", "Groupement (GME)"
    COMPANY = "company", "Entreprise"


class DeclarationStatus(LabelledEnum):
    SUBMITTED = "submitted", "À valider"
    VALIDATED = "validated", "Validée"
    REJECTED = "rejected", "Rejetée"


class Sex(LabelledEnum):
    FEMALE = "F", "Femme"
    MALE = "M", "Homme"


class ExitSituation(LabelledEnum):
    """The participant's situation six months after the mission (the « sorties » facilitators report)."""

    CDI = "cdi", "CDI"
    CDD_6_MONTHS = "cdd_6m", "CDD de 6 mois ou plus"
    TRAINING = "training", "Formation qualifiante"
    OTHER_JOB = "other_job", "Autre emploi (CDD de moins de 6 mois, intérim, contrat aidé)"
    NONE = "none", "Sans emploi ni formation"


#: the exits counted as sustainable (DOMAIN.md §3 « Indicators »)
SUSTAINABLE_EXITS = (ExitSituation.CDI, ExitSituation.CDD_6_MONTHS, ExitSituation.TRAINING)


class Contract(TimestampMixin, db.Model):
    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    #: the buyer's own reference of the contract (numéro de marché), free text
    reference: Mapped[str | None] = mapped_column(String(64))
    buyer_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                              index=True)
    buyer_name: Mapped[str] = mapped_column(String(250))
    buyer_siret: Mapped[str | None] = mapped_column(String(14))
    cpv_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list, server_default="{}")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    #: where the contract is carried out (a territory reference: "commune:59350", "dep:59")
    place_ref: Mapped[str | None] = mapped_column(String(40))
    #: the awarded lot it comes from (one contract per lot), none for a contract entered directly
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("tender_lot.id", ondelete="SET NULL"), unique=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("lot_award.id", ondelete="SET NULL"))
    holder_kind: Mapped[str] = mapped_column(String(12))
    holder_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"))
    holder_grouping_id: Mapped[int | None] = mapped_column(ForeignKey("grouping.id", ondelete="SET NULL"))
    holder_siret: Mapped[str | None] = mapped_column(String(14))
    holder_name: Mapped[str] = mapped_column(String(250))
    #: the organisation on the portal that declares the hours for the holder (its members do)
    holder_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                               index=True)
    #: the insertion obligation: hours over the contract's period, the modes accepted (empty: all) and publics
    hours_target: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    modes: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list, server_default="{}")
    publics: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    #: the lot's clause document as awarded (clauses/spec.py), for the record
    clauses: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    facilitator_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=ContractStatus.ACTIVE, server_default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    buyer_organisation = relationship(Organisation, foreign_keys=[buyer_organisation_id])
    holder_organisation = relationship(Organisation, foreign_keys=[holder_organisation_id])
    facilitator_organisation = relationship(Organisation, foreign_keys=[facilitator_organisation_id])
    holder_structure = relationship(Structure)
    holder_grouping = relationship(Grouping)
    lot = relationship(TenderLot)
    partners: Mapped[list["ContractPartner"]] = relationship(back_populates="contract", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period"),
        CheckConstraint("hours_target > 0", name="hours_target_positive"),
        CheckConstraint("amount is null or amount > 0", name="amount_positive"),
        CheckConstraint("status in ('active', 'completed', 'closed')", name="status"),
        CheckConstraint("holder_kind in ('structure', 'grouping', 'company')", name="holder_kind"),
        Index("ix_contract_holder_structure", "holder_structure_id"),
    )

    @property
    def keeper_organisation_id(self) -> int | None:
        """Who validates the hours and keeps the participants: the facilitator, else the buyer."""
        return self.facilitator_organisation_id or self.buyer_organisation_id

    @property
    def first_month(self) -> date:
        return self.starts_on.replace(day=1)

    @property
    def last_month(self) -> date:
        return self.ends_on.replace(day=1)


class ContractPartner(db.Model):
    """An organisation that declares hours on the holder's behalf (its SIAE, ETTI or GEIQ partner)."""

    __tablename__ = "contract_partner"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True,
                                                 index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    contract: Mapped[Contract] = relationship(back_populates="partners")
    organisation = relationship(Organisation)


class Participant(TimestampMixin, db.Model):
    """A person whose hours count, pseudonymous: no name is stored anywhere."""

    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: whose records hold it (a facilitator, or a buyer that follows its own contracts)
    keeper_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    birth_year: Mapped[int] = mapped_column(SmallInteger)
    sex: Mapped[str] = mapped_column(String(1))
    publics: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    #: residence in a QPV (the code of the quartier when known: no polygon file exists here, DOMAIN.md §6)
    qpv: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    qpv_code: Mapped[str | None] = mapped_column(String(16))
    #: the commune of residence (INSEE code), from which the ZRR residence is read
    residence_commune_code: Mapped[str | None] = mapped_column(String(5))
    zrr: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    eligibility_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    eligibility_checked_on: Mapped[date | None] = mapped_column(Date)
    pass_iae_number: Mapped[str | None] = mapped_column(String(32))
    pass_iae_expires_on: Mapped[date | None] = mapped_column(Date)

    eligibility_checked_by = relationship(User)

    __table_args__ = (
        UniqueConstraint("keeper_organisation_id", "code", name="uq_participant_code"),
        CheckConstraint("birth_year between 1900 and 2100", name="birth_year"),
        CheckConstraint("sex in ('F', 'M')", name="sex"),
    )


class DeclarationImport(db.Model):
    """One uploaded file of declarations: its fingerprint (the same file twice is refused), and, while the worker
    reads a large one, its progress and, at the end, its report."""

    __tablename__ = "declaration_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    #: the file while it waits for the worker; emptied once read
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    lines_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lines_total: Mapped[int | None] = mapped_column(Integer)
    created_lines: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_participants: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the French report of a refused file, line by line
    errors: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status in ('pending', 'running', 'done', 'rejected')", name="status"),
        # a refused file may come back once fixed, and the same fixed file is then counted once
        Index("uq_declaration_import_file", "contract_id", "sha256", unique=True,
              postgresql_where=text("status <> 'rejected'")),
    )


class HoursDeclaration(db.Model):
    __tablename__ = "hours_declaration"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="RESTRICT"), index=True)
    month: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(24))
    hours: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    status: Mapped[str] = mapped_column(String(12), default=DeclarationStatus.SUBMITTED, server_default="submitted")
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    declaring_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    #: the validated line this one corrects: once validated, it replaces it in every figure
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("hours_declaration.id", ondelete="RESTRICT"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("declaration_import.id", ondelete="SET NULL"))

    contract: Mapped[Contract] = relationship()
    participant: Mapped[Participant] = relationship()
    corrects: Mapped["HoursDeclaration | None"] = relationship(remote_side=[id])
    declared_by = relationship(User, foreign_keys=[declared_by_id])
    declaring_organisation = relationship(Organisation, foreign_keys=[declaring_organisation_id])

    __table_args__ = (
        CheckConstraint("hours > 0 and hours <= 220", name="hours"),
        CheckConstraint("extract(day from month) = 1", name="month_first_day"),
        CheckConstraint("status in ('submitted', 'validated', 'rejected')", name="status"),
        CheckConstraint("status <> 'rejected' or rejection_reason is not null", name="rejection_reason"),
        CheckConstraint("corrects_id is null or corrects_id <> id", name="corrects_other"),
        # covering: a contract's or a year's lines are read from the index alone (insertion/indicators.py)
        Index("ix_hours_declaration_contract_month", "contract_id", "month",
              postgresql_include=["id", "participant_id", "mode", "hours", "status", "corrects_id"]),
        Index("ix_hours_declaration_corrects", "corrects_id"),
        # a validated line is corrected at most once at a time (a rejected correction leaves room for another)
        Index("uq_hours_declaration_correction", "corrects_id", unique=True,
              postgresql_where=text("corrects_id is not null and status <> 'rejected'")),
    )


class MonthLock(db.Model):
    """A month of a contract closed to declarations and corrections."""

    __tablename__ = "contract_month_lock"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("extract(day from month) = 1", name="month_first_day"),)


class ParticipantExit(db.Model):
    """Where a participant stands six months after its mission on a contract, as the keeper recorded it."""

    __tablename__ = "participant_exit"
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    situation: Mapped[str] = mapped_column(String(12))
    observed_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("situation in ('cdi', 'cdd_6m', 'training', 'other_job', 'none')", name="situation"),
    )


class ContractReminder(db.Model):
    """A reminder sent about a contract and a month: at most one of each kind (missing declaration, behind)."""

    __tablename__ = "contract_reminder"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("kind in ('missing', 'behind')", name="kind"),)
