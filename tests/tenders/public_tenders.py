"""Tender rows for the read tests (queries, API): written directly in the state a test needs, with their clause
documents through `ClauseSpec`, as the drafting and workflow services would leave them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from marche.clauses.spec import ClauseSpec, Criterion, InsertionSpec
from marche.extensions import db
from marche.tenders.models import Tender, TenderLot

NOW = datetime.now(timezone.utc)


def insertion(amount: str = "400000", share: str = "0.5", rate: str = "0.05", cost: str = "30",
              override: str | None = None) -> InsertionSpec:
    return InsertionSpec(Decimal(amount), Decimal(share), Decimal(rate), Decimal(cost),
                         hours_override=None if override is None else Decimal(override),
                         override_reason="Chantier court" if override else "",
                         modes=("direct_hire",), publics=("long_term_jobseeker", "plie"),
                         penalty_per_hour=Decimal(30))


def clauses(**fields: Any) -> dict[str, Any]:
    """A clause document: ClauseSpec(**fields).to_json(); weights given as numbers become criteria."""
    for name in ("social_criterion", "environmental_criterion"):
        if isinstance(fields.get(name), (int, str)):
            fields[name] = Criterion(Decimal(fields[name]), "")
    return ClauseSpec(**fields).to_json()


def add_tender(organisation_id: int, title: str = "Consultation", *, status: str = "published",
               lots: list[dict[str, Any]] | None = None, deadline: datetime | None = NOW + timedelta(days=20),
               **fields: Any) -> int:
    """A tender and its lots (one implicit lot by default); returns its id (committed)."""
    tender = Tender(organisation_id=organisation_id, title=title, status=status, answers_deadline=deadline,
                    published_at=NOW if status not in ("draft", "submitted") else None, **fields)
    for position, lot in enumerate(lots or [{}], start=1):
        tender.lots.append(TenderLot(position=position, title=lot.get("title", f"Lot {position}"),
                                     description=lot.get("description", ""), amount=lot.get("amount"),
                                     cpv_codes=lot.get("cpv_codes", []), place_ref=lot.get("place_ref"),
                                     clauses=lot.get("clauses", {})))
    db.session.add(tender)
    db.session.commit()
    return tender.id
