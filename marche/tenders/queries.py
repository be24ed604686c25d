"""Reading published tenders: the list with its filters and one tender, for anyone (the API, later the search).

Only tenders past publication are public (`PUBLIC_STATUSES`); a draft, a tender awaiting validation and a
cancelled one are never read here, whoever asks. A published tender whose answers deadline has passed reads
as closed even before the workflow's periodic task has closed it (`effective_status`), so a list of tenders
open for answers never shows an expired one.

SQL only for now (the tender search index is issue 20). Text is matched word by word, accents and case
folded, in the tender's title and object and in its lots' titles and descriptions; clause types are read in
the lots' clause documents with the same meaning as `ClauseSpec.clause_types()` (the codes of `CLAUSE_TYPES`; a
test keeps the two readings equal).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..clauses.spec import ClauseSpec, ClauseSpecError
from ..core.dates import PARIS
from ..core.text import normalize_search
from ..extensions import db
from ..geo.services import inside, refs_containing
from .models import Tender, TenderLot, TenderStatus, tender_sector

log = logging.getLogger(__name__)

#: the statuses anyone may read, in the order a tender reaches them
PUBLIC_STATUSES = (TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.AWARDED, TenderStatus.UNSUCCESSFUL)
#: what a list shows when no status is asked: tenders open for answers
LISTED_BY_DEFAULT = (TenderStatus.PUBLISHED,)
#: a reservation asked for → the lot reservations that satisfy it: a lot reserved to both kinds together
#: (L2113-14) is open to SIAE and to EA/ESAT, so it answers « siae » and « disability » as well as « both »
RESERVATIONS = {"siae": ("siae", "both"), "disability": ("disability", "both"), "both": ("both",),
                "any": ("siae", "disability", "both")}
#: territory modes: the place lies within the territory; or within it or containing it (a tender over the
#: whole Nord is work for a supplier of Lille)
TERRITORY_MODES = ("within", "intersects")
SORTS = ("deadline", "recent")
#: a text word of one letter (« l », « d ») matches nearly everything: it is dropped
MIN_WORD_LENGTH = 2
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class TenderFilters:
    """A resolved list query: words folded, sectors as ids, the territory as a checked reference."""

    words: tuple[str, ...] = ()
    #: CPV prefixes: digits only, 2 to 8 (« 45 » is every works code)
    cpv_prefixes: tuple[str, ...] = ()
    sector_ids: tuple[int, ...] = ()
    territory: str | None = None
    territory_mode: str = "within"
    kinds: tuple[str, ...] = ()
    reserved: str | None = None
    clause_types: tuple[str, ...] = ()
    deadline_after: date | None = None
    statuses: tuple[str, ...] = LISTED_BY_DEFAULT
    sort: str = "deadline"
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class LotSummary:
    """A lot as lists and the API show it: its clause document read once, the clause types, the hours."""

    lot: TenderLot
    spec: ClauseSpec
    clause_types: tuple[str, ...]
    #: the hours the insertion clause asks (None without one)
    insertion_hours: Decimal | None
    insertion_etp: Decimal | None


@dataclass(frozen=True)
class TenderView:
    tender: Tender
    status: str
    lots: tuple[LotSummary, ...]


@dataclass
class TenderPage:
    count: int
    page: int
    per_page: int
    results: list[TenderView] = field(default_factory=list)


# --- reading one tender ----------------------------------------------------------------------------

def words_of(text: str | None) -> tuple[str, ...]:
    """The folded words (letters and digits) of a text search, without one-letter words, in order, no doubles."""
    return tuple(dict.fromkeys(word for word in WORD.findall(normalize_search(text)) if len(word) >= MIN_WORD_LENGTH))


def cpv_prefix(code: str) -> str:
    """The prefix a CPV code stands for in the hierarchy: its trailing zeros dropped, at least the division
    (« 45000000-7 » → « 45 », « 45210000 » → « 4521 », « 9091 » → « 9091 »)."""
    digits = code.split("-", 1)[0]
    return digits[:max(2, len(digits.rstrip("0")))]


def effective_status(tender: Tender, now: datetime | None = None) -> str:
    """The status a reader is told: a published tender past its answers deadline is closed."""
    now = now or datetime.now(timezone.utc)
    if tender.status == TenderStatus.PUBLISHED and tender.answers_deadline is not None \
            and tender.answers_deadline <= now:
        return TenderStatus.CLOSED
    return tender.status


def lot_summary(lot: TenderLot) -> LotSummary:
    try:
        spec = ClauseSpec.from_json(lot.clauses)
    except ClauseSpecError as error:
        # written through ClauseSpec, so only a rule changed since could make it unreadable: shown without
        # clauses rather than failing the whole list
        log.warning("clauses illisibles, lot %s : %s", lot.id, error.message)
        spec = ClauseSpec()
    insertion = spec.insertion
    return LotSummary(lot, spec, tuple(spec.clause_types()), insertion.hours if insertion else None,
                      insertion.etp if insertion else None)


def view_of(tender: Tender, now: datetime | None = None) -> TenderView:
    return TenderView(tender, effective_status(tender, now), tuple(lot_summary(lot) for lot in tender.lots))


def _listed(query: Select) -> Select:
    """What a list shows: the buyer and the lots (one query each), nothing else."""
    return query.options(joinedload(Tender.organisation), selectinload(Tender.lots))


def public_tender(tender_id: int) -> TenderView | None:
    """A tender anyone may read; None for an unknown id and for a draft, submitted or cancelled tender."""
    query = select(Tender).where(Tender.id == tender_id, Tender.status.in_([str(s) for s in PUBLIC_STATUSES]))
    tender = db.session.execute(query.options(
        joinedload(Tender.organisation), selectinload(Tender.sectors), selectinload(Tender.rectificatifs),
        selectinload(Tender.lots).selectinload(TenderLot.award))).unique().scalar_one_or_none()
    return None if tender is None else view_of(tender)


# --- conditions ------------------------------------------------------------------------------------

def _lot_exists(*conditions) -> object:
    return exists().where(TenderLot.tender_id == Tender.id, *conditions)


def clause_condition(code: str):
    """A lot carries this clause type (`CLAUSE_TYPES`), read in its stored document."""
    document = TenderLot.clauses
    if code == "insertion":
        return func.jsonb_typeof(document["insertion"]) == "object"
    if code == "reserved":
        return document["reservation"].astext.in_(RESERVATIONS["any"])
    if code == "insertion_object":
        return func.coalesce(document["insertion_object"].astext, "false") == "true"
    if code == "social_criterion":
        return func.jsonb_typeof(document["social_criterion"]) == "object"
    if code == "environmental_condition":
        return and_(func.jsonb_typeof(document["environmental_conditions"]) == "array",
                    func.jsonb_array_length(document["environmental_conditions"]) > 0)
    if code == "environmental_criterion":
        return func.jsonb_typeof(document["environmental_criterion"]) == "object"
    raise ValueError(f"type de clause inconnu : {code}")


def _folded(*columns):
    """Lower case, no accents: what `normalize_search` does to the words asked."""
    return func.lower(func.unaccent(func.concat_ws(" ", *columns)))


def _status_condition(statuses: tuple[str, ...], now: datetime):
    """The effective status is one of these (a published tender past its deadline counts as closed)."""
    still_open = or_(Tender.answers_deadline.is_(None), Tender.answers_deadline > now)
    parts = []
    for status in statuses:
        if status == TenderStatus.PUBLISHED:
            parts.append(and_(Tender.status == TenderStatus.PUBLISHED, still_open))
        elif status == TenderStatus.CLOSED:
            parts.append(or_(Tender.status == TenderStatus.CLOSED,
                             and_(Tender.status == TenderStatus.PUBLISHED, ~still_open)))
        elif status in PUBLIC_STATUSES:
            parts.append(Tender.status == status)
    return or_(*parts) if parts else false()


def _territory_condition(ref: str, mode: str):
    def placed(column):
        condition = inside(column, ref)
        if mode == "intersects":
            condition = or_(condition, column.in_(refs_containing(ref)))
        return condition

    # a lot with no place of its own is at the tender's place
    return or_(placed(Tender.place_ref), _lot_exists(placed(TenderLot.place_ref)))


def conditions(filters: TenderFilters, now: datetime) -> list:
    where = [_status_condition(filters.statuses, now)]
    for word in filters.words:
        # a word is letters and digits (no LIKE wildcard); escaped all the same
        where.append(or_(_folded(Tender.title, Tender.object).contains(word, autoescape=True),
                         _lot_exists(_folded(TenderLot.title, TenderLot.description).contains(word, autoescape=True))))
    if filters.cpv_prefixes:
        # « (^|,)45 » over the codes joined by commas: a prefix of one of them (digits only, no regex to escape)
        pattern = "(^|,)(" + "|".join(filters.cpv_prefixes) + ")"
        where.append(or_(func.array_to_string(Tender.cpv_codes, ",").regexp_match(pattern),
                         _lot_exists(func.array_to_string(TenderLot.cpv_codes, ",").regexp_match(pattern))))
    if filters.sector_ids:
        where.append(exists().where(tender_sector.c.tender_id == Tender.id,
                                    tender_sector.c.sector_id.in_(filters.sector_ids)))
    if filters.territory:
        where.append(_territory_condition(filters.territory, filters.territory_mode))
    if filters.kinds:
        where.append(Tender.kind.in_(filters.kinds))
    if filters.reserved:
        where.append(_lot_exists(TenderLot.clauses["reservation"].astext.in_(RESERVATIONS[filters.reserved])))
    if filters.clause_types:
        where.append(_lot_exists(or_(*(clause_condition(code) for code in filters.clause_types))))
    if filters.deadline_after:
        start = datetime.combine(filters.deadline_after, time(0), tzinfo=PARIS)
        where.append(Tender.answers_deadline >= start)
    return where


# --- the list ---------------------------------------------------------------------------------------

def search_published(filters: TenderFilters, now: datetime | None = None) -> TenderPage:
    """One page of public tenders matching every filter (a repeated filter matches any of its values)."""
    now = now or datetime.now(timezone.utc)
    where = conditions(filters, now)
    count = db.session.scalar(select(func.count()).select_from(Tender).where(*where))
    if filters.sort == "recent":
        order = [Tender.published_at.desc().nulls_last(), Tender.id.desc()]
    else:
        order = [Tender.answers_deadline.asc().nulls_last(), Tender.id]
    query = (_listed(select(Tender).where(*where)).order_by(*order)
             .limit(filters.per_page).offset((filters.page - 1) * filters.per_page))
    tenders = db.session.execute(query).unique().scalars().all()
    return TenderPage(count, filters.page, filters.per_page, [view_of(tender, now) for tender in tenders])

