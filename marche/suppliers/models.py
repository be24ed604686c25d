"""Inclusive structures (SIAE, EA/EATT, ESAT, GEIQ) and their environmental commitments."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (ARRAY, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
                        String, Table, Text, UniqueConstraint, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import OrganisationKind
from ..core.models import LabelledEnum, TimestampMixin
from ..extensions import db
from ..geo.coverage import AREA_RADII
from ..reference.models import Sector


class StructureKind(LabelledEnum):
    EI = "EI", "Entreprise d'insertion"
    AI = "AI", "Association intermédiaire"
    ACI = "ACI", "Atelier et chantier d'insertion"
    ETTI = "ETTI", "Entreprise de travail temporaire d'insertion"
    EITI = "EITI", "Entreprise d'insertion par le travail indépendant"
    EA = "EA", "Entreprise adaptée"
    EATT = "EATT", "Entreprise adaptée de travail temporaire"
    ESAT = "ESAT", "Établissement et service d'accompagnement par le travail"
    GEIQ = "GEIQ", "Groupement d'employeurs pour l'insertion et la qualification"


SIAE_KINDS = {StructureKind.EI, StructureKind.AI, StructureKind.ACI, StructureKind.ETTI, StructureKind.EITI}


class ServiceKind(LabelledEnum):
    STAFFING = "mise_a_disposition", "Mise à disposition de personnel"
    SERVICES = "prestation", "Prestation de services"
    SUPPLY = "fourniture", "Fourniture / vente"
    SUBCONTRACTING = "sous_traitance", "Sous-traitance"
    CO_CONTRACTING = "co_traitance", "Co-traitance"


class AreaKind(LabelledEnum):
    COUNTRY = "country", "France entière"
    RADIUS = "radius", "Rayon autour de la structure"
    TERRITORIES = "territories", "Communes, départements ou régions choisis"


class SiretStatus(LabelledEnum):
    OK = "ok", "SIRET vérifié"
    TO_CHECK = "to_check", "SIRET à vérifier"
    MISSING = "missing", "Sans SIRET"


class EnvLabel(LabelledEnum):
    ISO14001 = "iso14001", "ISO 14001"
    EMAS = "emas", "EMAS"
    EU_ECOLABEL = "eu_ecolabel", "Écolabel européen"
    IMPRIM_VERT = "imprim_vert", "Imprim'Vert"
    ENGAGE_RSE = "engage_rse", "Label Engagé RSE"
    ISO26000 = "iso26000", "Évaluation ISO 26000"
    B_CORP = "b_corp", "B Corp"
    RFAR = "rfar", "Label RFAR (Relations fournisseurs et achats responsables)"
    ESUS = "esus", "Agrément ESUS"
    RGE = "rge", "RGE"
    REUSE = "reemploi", "Activité de réemploi / réparation (loi AGEC)"
    SHORT_CHAIN = "circuit_court", "Circuits courts"
    GHG_REPORT = "bilan_ges", "Bilan GES publié"


class SizeBand(LabelledEnum):
    """Bands of employees, for the size filter."""

    MICRO = "lt10", "Moins de 10 salariés"
    SMALL = "10_49", "10 à 49 salariés"
    MEDIUM = "50_249", "50 à 249 salariés"
    LARGE = "gte250", "250 salariés et plus"

    @classmethod
    def of(cls, employees: int | None) -> "SizeBand | None":
        if employees is None:
            return None
        if employees < 10:
            return cls.MICRO
        if employees < 50:
            return cls.SMALL
        if employees < 250:
            return cls.MEDIUM
        return cls.LARGE


#: radius choices for an intervention area (km): geo's, a fixed list that keeps "can work at" exact in the index
RADIUS_CHOICES = AREA_RADII
DEFAULT_RADIUS_KM = 50


class TurnoverBand(LabelledEnum):
    UNDER_100K = "lt_100k", "Moins de 100 000 €"
    UNDER_500K = "100k_500k", "100 000 € à 500 000 €"
    UNDER_1M = "500k_1m", "500 000 € à 1 M€"
    UNDER_5M = "1m_5m", "1 M€ à 5 M€"
    OVER_5M = "gt_5m", "Plus de 5 M€"


structure_sector = Table(
    "structure_sector",
    db.metadata,
    Column("structure_id", ForeignKey("structure.id", ondelete="CASCADE"), primary_key=True),
    Column("sector_id", ForeignKey("sector.id"), primary_key=True, index=True),
    #: deduced by the import (NAF code, words of the name), shown « déduit »; false once the structure declares
    #: its own sectors (suppliers.services.update_profile replaces them all). A write through
    #: `Structure.sectors` is a declaration; the import marks its rows with `mark_sector_origin`.
    Column("inferred", Boolean, nullable=False, default=False, server_default="false"),
)


class Publication(LabelledEnum):
    """Whether a profile is in the public directory: every profile of a public list is; one a structure
    created itself waits for a platform admin or the territory's facilitator (suppliers.creation)."""
    PUBLISHED = "published", "Publiée"
    PENDING = "pending", "En attente de vérification"
    REFUSED = "refused", "Refusée"


class Structure(TimestampMixin, db.Model):
    __tablename__ = "structure"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: one structure per SIRET; null only for ESAT known by FINESS alone
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    siren: Mapped[str | None] = mapped_column(String(9), index=True)
    #: "ok", or "to_check" when the SIRET fails the Luhn check (kept, flagged), or "missing"
    siret_status: Mapped[str] = mapped_column(String(12), default=SiretStatus.OK)
    #: FINESS establishment numbers (ESAT); several FINESS sites may share one SIRET
    finess_numbers: Mapped[list[str]] = mapped_column(ARRAY(String(9)), default=list, server_default="{}")
    name: Mapped[str] = mapped_column(String(250))
    brand: Mapped[str | None] = mapped_column(String(250))
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String(8)), default=list)
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(5))
    city: Mapped[str | None] = mapped_column(String(120))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code"), index=True)
    department_code: Mapped[str | None] = mapped_column(String(3), index=True)
    region_code: Mapped[str | None] = mapped_column(String(3), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    #: "source" (geocoded by the data source) or "commune" (centre of the commune, when the source had none)
    point_source: Mapped[str | None] = mapped_column(String(12))
    naf_code: Mapped[str | None] = mapped_column(String(5))
    website: Mapped[str | None] = mapped_column(String(300))
    #: uploaded logo (PNG/JPEG checked by content), relative to instance/uploads
    logo_path: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    service_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list, server_default="{}")
    area_kind: Mapped[str] = mapped_column(String(12), default=AreaKind.RADIUS, server_default="radius")
    #: one of RADIUS_CHOICES when area_kind is "radius"
    area_radius_km: Mapped[int | None] = mapped_column(Integer, default=DEFAULT_RADIUS_KM)
    #: for area_kind "territories": references such as "dep:59", "commune:59350", "reg:32"
    area_refs: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    #: departments and regions the area touches, computed by geo.coverage when the area changes
    #: (all of them for the whole country); they answer "can work in department / region X"
    area_departments: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=list, server_default="{}")
    area_regions: Mapped[list[str]] = mapped_column(ARRAY(String(3)), default=list, server_default="{}")
    employees_count: Mapped[int | None] = mapped_column(Integer)
    #: people in insertion (SIAE, GEIQ) or with a recognised disability (EA, ESAT)
    inclusion_workers_count: Mapped[int | None] = mapped_column(Integer)
    turnover_band: Mapped[str | None] = mapped_column(String(12))
    #: ESAT authorised capacity (places), from FINESS
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: organisation that claimed and manages this profile
    owner_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"),
                                                              index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: where the record came from: "ASP", "GEIQ", "EA_EATT", "FINESS", "user"; "synthetic" in the bench database only
    source: Mapped[str] = mapped_column(String(16))
    #: "published" (in the directory), "pending" or "refused" (a self-created profile: its organisation,
    #: admins and the territory's facilitators only; 404 for everyone else, never in search or map)
    publication: Mapped[str] = mapped_column(String(16), default=Publication.PUBLISHED, server_default="published")
    #: why a self-created profile was refused (mailed to its organisation)
    publication_reason: Mapped[str | None] = mapped_column(Text)
    #: who chose the (non-deduced) sectors of an unclaimed profile when it was not the structure: « Nom de
    #: l'organisation (facilitateur) » or the label of an operator's sector file (suppliers.completion);
    #: null once the structure saves its own profile
    sectors_given_by: Mapped[str | None] = mapped_column(String(200))
    sectors_given_on: Mapped[date | None] = mapped_column(Date)
    #: lower-case accent-free name, brand, city and description, for the SQL search backend (pg_trgm)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    #: every sector, declared or inferred (search by sector finds both)
    sectors: Mapped[list[Sector]] = relationship(secondary=structure_sector, order_by=Sector.name)
    #: the inferred ones among them, read-only: the profile marks them « déduit »
    inferred_sectors: Mapped[list[Sector]] = relationship(
        secondary=structure_sector, order_by=Sector.name, viewonly=True,
        primaryjoin=lambda: (Structure.id == structure_sector.c.structure_id) & structure_sector.c.inferred)
    env_commitments: Mapped[list["EnvCommitment"]] = relationship(back_populates="structure",
                                                                  cascade="all, delete-orphan")
    references: Mapped[list["ClientReference"]] = relationship(back_populates="structure",
                                                               cascade="all, delete-orphan")
    contacts: Mapped[list["StructureContact"]] = relationship(back_populates="structure",
                                                              cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("siret is null or siret ~ '^[0-9]{14}$'", name="siret_format"),
        CheckConstraint("siret is not null or cardinality(finess_numbers) > 0", name="identified"),
        CheckConstraint("cardinality(kinds) > 0", name="has_kind"),
        CheckConstraint("area_kind in ('country', 'radius', 'territories')", name="area_kind"),
        CheckConstraint("publication IN ('published', 'pending', 'refused')", name="publication"),
        Index("ix_structure_unpublished", "publication", postgresql_where=text("publication <> 'published'")),
        Index("ix_structure_kinds", "kinds", postgresql_using="gin"),
        Index("ix_structure_finess", "finess_numbers", postgresql_using="gin"),
        Index("ix_structure_area_refs", "area_refs", postgresql_using="gin"),
        Index("ix_structure_area_departments", "area_departments", postgresql_using="gin"),
        Index("ix_structure_area_regions", "area_regions", postgresql_using="gin"),
        Index("ix_structure_point_earth", text("ll_to_earth(latitude, longitude)"), postgresql_using="gist"),
        Index("ix_structure_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}),
        # the words of search_text (search.structures.WORDS_SQL): a typed word is matched against the
        # vocabulary (structure_word), then the structures holding a matched word found through this index
        Index("ix_structure_search_words", text(r"regexp_split_to_array(search_text, '\W+')"), postgresql_using="gin"),
    )

    @property
    def display_name(self) -> str:
        return self.brand or self.name

    @property
    def kind_labels(self) -> list[str]:
        return [StructureKind(k).label for k in self.kinds]

    @property
    def is_published(self) -> bool:
        # None: not flushed yet, the column's default (published) applies
        return self.publication in (None, Publication.PUBLISHED)

    @property
    def claimed(self) -> bool:
        return self.owner_organisation_id is not None

    @property
    def declared_sectors(self) -> list[Sector]:
        inferred = {sector.id for sector in self.inferred_sectors}
        return [sector for sector in self.sectors if sector.id not in inferred]

    @property
    def has_inferred_sectors(self) -> bool:
        return bool(self.inferred_sectors)

    @property
    def sectors_to_check(self) -> bool:
        """Sectors the structure has not chosen itself: deduced by the import, or given by someone else."""
        return self.has_inferred_sectors or self.sectors_given_by is not None

    @property
    def siren_number(self) -> str | None:
        """The company number (9 digits) of the profile; None for an ESAT known by FINESS alone."""
        return self.siren or (self.siret[:9] if self.siret else None)


def claiming_organisation(user, structure: Structure):
    """The user's inclusive-structure organisation that may claim this profile: one whose SIRET has the
    profile's SIREN (any of them when the profile has no SIREN: an ESAT known by its FINESS numbers alone,
    whose claim must then rest on the evidence). None when no organisation of the user matches."""
    siren = structure.siren_number
    for membership in user.memberships:
        organisation = membership.organisation
        if organisation.kind != OrganisationKind.INCLUSIVE_STRUCTURE:
            continue
        if siren is None or (organisation.siret or "")[:9] == siren:
            return organisation
    return None


class EnvCommitment(TimestampMixin, db.Model):
    """A dated environmental claim; once expired it no longer counts anywhere."""

    __tablename__ = "env_commitment"
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(24))
    obtained_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    #: stored proof (PDF/PNG/JPEG checked by content), relative to instance/uploads
    proof_path: Mapped[str | None] = mapped_column(String(300))
    #: set once the search index has been told that this commitment expired
    expiry_processed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")

    structure: Mapped[Structure] = relationship(back_populates="env_commitments")

    def is_current(self, today: date) -> bool:
        return self.expires_on is None or self.expires_on >= today

    @property
    def label_text(self) -> str:
        return EnvLabel(self.label).label


class ClientReference(TimestampMixin, db.Model):
    """A past client or contract the structure shows on its profile."""

    __tablename__ = "client_reference"
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    client_name: Mapped[str] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    year: Mapped[int | None] = mapped_column(Integer)
    #: a photo of the work or a document (PDF/PNG/JPEG checked by content), relative to instance/uploads
    file_path: Mapped[str | None] = mapped_column(String(300))

    structure: Mapped[Structure] = relationship(back_populates="references")


class StructureContact(TimestampMixin, db.Model):
    __tablename__ = "structure_contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))

    structure: Mapped[Structure] = relationship(back_populates="contacts")


class ClaimStatus(LabelledEnum):
    PENDING = "pending", "En attente"
    APPROVED = "approved", "Acceptée"
    REJECTED = "rejected", "Refusée"
    REDIRECTED = "redirected", "Transmise aux gestionnaires actuels"


class ClaimEvidence(LabelledEnum):
    """What a claimant shows to prove they belong to the structure (the approver judges it)."""

    EMAIL_DOMAIN = "email_domain", "Adresse e-mail sur le domaine de la structure"
    DOCUMENT = "document", "Document (extrait Kbis, convention SIAE…)"
    FINESS = "finess", "Numéro FINESS de l'ESAT"


class StructureClaim(TimestampMixin, db.Model):
    """A structure's organisation asks to manage a profile; a platform admin or facilitator decides."""

    __tablename__ = "structure_claim"
    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(12), default=ClaimStatus.PENDING)
    message: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: one of ClaimEvidence; null only for claims made before evidence was required
    evidence_kind: Mapped[str | None] = mapped_column(String(16))
    #: the matching e-mail domain or FINESS number, as checked when the claim was made
    evidence_value: Mapped[str | None] = mapped_column(String(254))
    #: uploaded document (PDF/PNG/JPEG checked by content), relative to instance/uploads, served only to approvers
    evidence_path: Mapped[str | None] = mapped_column(String(300))
    #: why the approver refused (required for a refusal; mailed to the claimant)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    structure: Mapped[Structure] = relationship()
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821  (accounts.models.Organisation)

    __table_args__ = (
        CheckConstraint("status in ('pending', 'approved', 'rejected', 'redirected')", name="status"),
        CheckConstraint("evidence_kind is null or evidence_kind in ('email_domain', 'document', 'finess')",
                        name="evidence_kind"),
        Index("uq_structure_claim_pending", "structure_id", "organisation_id", unique=True,
              postgresql_where=text("status = 'pending'")),
    )

    @property
    def status_label(self) -> str:
        return ClaimStatus(self.status).label

    @property
    def evidence_label(self) -> str:
        return ClaimEvidence(self.evidence_kind).label if self.evidence_kind else "Aucun justificatif"


class FavoriteList(TimestampMixin, db.Model):
    """A buyer's named list of structures (shared by the members of its organisation)."""

    __tablename__ = "favorite_list"
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))

    items: Mapped[list["FavoriteItem"]] = relationship(back_populates="favorite_list", cascade="all, delete-orphan",
                                                       order_by="FavoriteItem.id")

    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_favorite_list_organisation_name"),)


class FavoriteItem(TimestampMixin, db.Model):
    __tablename__ = "favorite_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    favorite_list_id: Mapped[int] = mapped_column(ForeignKey("favorite_list.id", ondelete="CASCADE"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structure.id", ondelete="CASCADE"), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    favorite_list: Mapped[FavoriteList] = relationship(back_populates="items")
    structure: Mapped[Structure] = relationship()

    __table_args__ = (UniqueConstraint("favorite_list_id", "structure_id", name="uq_favorite_item_list_structure"),)


class StructureWord(db.Model):
    """A word that a structure's search text held, filled by a trigger on `structure` (migration 0013).
    The SQL fallback matches typed words against these ~20 000 words, not against every text; a word no
    structure holds any more stays and matches no structure."""

    __tablename__ = "structure_word"
    word: Mapped[str] = mapped_column(Text, primary_key=True)
    __table_args__ = (
        Index("ix_structure_word_trgm", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
        Index("ix_structure_word_prefix", "word", postgresql_ops={"word": "text_pattern_ops"}),
    )


class ContactMessage(db.Model):
    """A message sent to a structure through « Contacter la structure »: who wrote to whom and when, kept
    for abuse handling and to count the sender's messages against the limits (the text itself is not
    kept: it went to the structure, and a copy to the sender)."""

    __tablename__ = "contact_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    #: null once the sender's account is deleted; sender_email still says who it was
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    sender_email: Mapped[str] = mapped_column(String(254))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structure.id", ondelete="SET NULL"), index=True)
    #: the structure's contact address the message went to
    recipient_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(150))
