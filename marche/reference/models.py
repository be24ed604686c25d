"""Sector taxonomy, CPV 2008 and NAF rév. 2."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class SectorGroup(db.Model):
    __tablename__ = "sector_group"
    #: the id of le marché de l'inclusion's taxonomy, kept so imports and exports line up
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)

    sectors: Mapped[list["Sector"]] = relationship(back_populates="group", order_by="Sector.name")


class Sector(db.Model):
    __tablename__ = "sector"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    #: not unique in the source: every group has an "autre" sector
    slug: Mapped[str] = mapped_column(String(200))
    group_id: Mapped[int] = mapped_column(ForeignKey("sector_group.id"), index=True)

    group: Mapped[SectorGroup] = relationship(back_populates="sectors")


class CpvCode(db.Model):
    __tablename__ = "cpv_code"
    #: "45000000-7": eight digits, a dash and the check digit
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    code8: Mapped[str] = mapped_column(String(8), unique=True)
    label_fr: Mapped[str] = mapped_column(Text)
    label_en: Mapped[str] = mapped_column(Text)
    #: nearest existing ancestor (division → groupe → classe → catégorie → sous-catégorie)
    parent_code: Mapped[str | None] = mapped_column(String(10), index=True)
    #: "division" | "groupe" | "classe" | "categorie" | "sous-categorie"
    level: Mapped[str] = mapped_column(String(16))
    division: Mapped[str] = mapped_column(String(2))
    #: "travaux" (45), "services" (50–98) or "fournitures"
    nature: Mapped[str] = mapped_column(String(12))
    search_label: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_cpv_code_search_trgm", "search_label", postgresql_using="gin",
              postgresql_ops={"search_label": "gin_trgm_ops"}),
    )


class NafCode(db.Model):
    __tablename__ = "naf_code"
    #: "56.21Z"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    #: "5621Z", as SIRENE writes it
    code_ape: Mapped[str] = mapped_column(String(5), unique=True)
    label: Mapped[str] = mapped_column(Text)
    class_code: Mapped[str] = mapped_column(String(5))
    class_label: Mapped[str] = mapped_column(Text)
    group_code: Mapped[str] = mapped_column(String(4))
    group_label: Mapped[str] = mapped_column(Text)
    division_code: Mapped[str] = mapped_column(String(2))
    division_label: Mapped[str] = mapped_column(Text)
    section_code: Mapped[str] = mapped_column(String(1))
    section_label: Mapped[str] = mapped_column(Text)
