"""Communes, departments and regions from the Code officiel géographique, with points and shapes."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Region(db.Model):
    __tablename__ = "region"
    #: INSEE code ("32"); COM codes for overseas collectivities
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: lower-case, accent-free name for searching
    search_name: Mapped[str] = mapped_column(String(120))
    #: "metro" | "drom" | "com"
    zone: Mapped[str] = mapped_column(String(8))
    #: GeoJSON geometry (WGS84), readable by shapely.geometry.shape; null for COM
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONB, deferred=True)


class Department(db.Model):
    __tablename__ = "department"
    #: "59", "2A", "974"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    search_name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    zone: Mapped[str] = mapped_column(String(8))
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONB, deferred=True)


class Commune(db.Model):
    __tablename__ = "commune"
    #: INSEE code ("59350"); also the 45 arrondissements municipaux of Paris, Lyon, Marseille
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    search_name: Mapped[str] = mapped_column(String(120))
    #: "commune-actuelle" | "arrondissement-municipal"
    kind: Mapped[str] = mapped_column(String(32))
    postcodes: Mapped[list[str]] = mapped_column(ARRAY(String(5)), default=list)
    department_code: Mapped[str] = mapped_column(ForeignKey("department.code"), index=True)
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    #: centre of the commune (WGS84); null for the 7 communes restored after 2024
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    #: last ZRR classification (2022): "C" classée, "PC" partiellement, "NC" non classée
    zrr_status: Mapped[str | None] = mapped_column(String(2))
    #: for an arrondissement municipal, the INSEE code of its commune
    parent_code: Mapped[str | None] = mapped_column(String(5))

    __table_args__ = (
        Index("ix_commune_search_name_trgm", "search_name", postgresql_using="gin",
              postgresql_ops={"search_name": "gin_trgm_ops"}),
        Index("ix_commune_search_name_prefix", "search_name", postgresql_ops={"search_name": "text_pattern_ops"}),
        Index("ix_commune_postcodes", "postcodes", postgresql_using="gin"),
    )

    @property
    def in_zrr(self) -> bool:
        return self.zrr_status in {"C", "PC"}

