"""The tender watch: saved searches (`SavedSearch`), their mails and their feeds.

A saved search keeps the GET arguments of a tender search (`TenderQuery.to_args`), parsed again and checked
whenever it runs; invalid arguments are refused when saving (`WatchError` naming the field). Its owner
hears of new matches: at once (`immediate`, a pass every minute), in a daily or weekly digest, or never (the
Atom feed only). A tender is mailed at most once per saved search: `SavedSearchDelivery` (primary key
saved search × tender) is written with the mail, in the same transaction.

Digests in one pass: the tenders published since the oldest due digest are few (a day's worth). They are
turned into documents once, by the index's serializer, and each due saved search is read against them in
memory (`search_documents.matches`, the engines' filters clause for clause, tested against both): no search
engine round trip per saved search, and digests go out even while Meilisearch is down. The same arguments
are parsed once per pass. 10 000 saved searches over 20 000 tenders: `scripts/bench/digests.py`.

The iCalendar feed lists the answers deadlines of the open tenders a structure said it is interested in
(`LotResponse.interest == "interested"`), at the private `RelayPreference.calendar_token` URL.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from ..core import outbox
from ..core.errors import DomainError
from ..core.mail import queue_mail
from ..core.models import utcnow
from ..extensions import db
from ..search import service
from ..search.query import QueryError
from .models import (Interest, LotResponse, RelayPreference, SavedSearch, SavedSearchDelivery, Tender, TenderLot,
                     TenderStatus, WatchFrequency)
from .search_documents import matches, searchable_text, sort_key
from .search_query import TenderQuery, parse_tender_query, resolve_tender_query

log = logging.getLogger(__name__)
MAX_NAME = 120
#: saved searches per user: enough for any real use, bounded so that one account cannot load the digests
MAX_PER_USER = 50
MAX_ARGS = 60
#: tenders listed in one mail (the rest: « et N autres » with the link to the search)
MAIL_LIMIT = 30
PERIODS = {WatchFrequency.IMMEDIATE: timedelta(0), WatchFrequency.DAILY: timedelta(days=1),
           WatchFrequency.WEEKLY: timedelta(days=7)}
FEED_SIZE = 50


class WatchError(DomainError):
    """A saved search that cannot be kept as asked; `field` names the form field (or the search parameter)."""


# --- saved searches ------------------------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(32)


def checked_args(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """The arguments as stored, once the tender search's parser accepts them (page and view dropped)."""
    kept = [[str(name), str(value)] for name, value in pairs if name not in {"page", "per_page", "vue"} and value != ""]
    if len(kept) > MAX_ARGS:
        raise WatchError(f"Recherche : {MAX_ARGS} critères au plus.", "args")
    try:
        parse_tender_query(MultiDict(kept))
    except QueryError as error:
        raise WatchError(f"Critère « {error.param} » : {error.message}", error.param) from None
    return kept


def query_of(saved: SavedSearch) -> TenderQuery:
    """The saved search's query as it reads today (QueryError if a stored argument became invalid)."""
    return parse_tender_query(MultiDict([tuple(pair) for pair in saved.args]))


def _name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise WatchError("Nom : indiquez un nom pour cette recherche.", "name")
    if len(name) > MAX_NAME:
        raise WatchError(f"Nom : {MAX_NAME} caractères au plus.", "name")
    return name


def _frequency(value: str | None) -> str:
    if value not in {f.value for f in WatchFrequency}:
        raise WatchError("Fréquence : choisissez l'une des fréquences proposées.", "frequency")
    return value


def create(user_id: int, name: str | None, pairs: list[tuple[str, str]],
           frequency: str | None = WatchFrequency.DAILY) -> SavedSearch:
    """Save a search for its owner (never commits). New matches are counted from now."""
    if db.session.scalar(select(db.func.count()).where(SavedSearch.user_id == user_id)) >= MAX_PER_USER:
        raise WatchError(f"Vous avez déjà {MAX_PER_USER} recherches enregistrées : supprimez-en une d'abord.", "name")
    saved = SavedSearch(user_id=user_id, name=_name(name), args=checked_args(pairs), frequency=_frequency(frequency),
                        feed_token=new_token(), last_digest_at=utcnow())
    db.session.add(saved)
    db.session.flush()
    return saved


def update(saved: SavedSearch, name: str | None, frequency: str | None) -> None:
    saved.name = _name(name)
    saved.frequency = _frequency(frequency)


def owned(user_id: int, saved_id: int) -> SavedSearch | None:
    """The saved search if it belongs to this user (None otherwise: the page answers 404)."""
    saved = db.session.get(SavedSearch, saved_id)
    return saved if saved is not None and saved.user_id == user_id else None


def of_user(user_id: int) -> list[SavedSearch]:
    return list(db.session.execute(select(SavedSearch).where(SavedSearch.user_id == user_id)
                                   .order_by(SavedSearch.id)).scalars())


def by_feed_token(token: str) -> SavedSearch | None:
    if not token or len(token) > 64:
        return None
    saved = db.session.execute(select(SavedSearch).where(SavedSearch.feed_token == token)).scalar_one_or_none()
    # compared once more in constant time (the lookup is by index)
    return saved if saved is not None and secrets.compare_digest(saved.feed_token, token) else None


# --- matching many saved searches at once ----------------------------------------------------------------------

@dataclass
class Digest:
    saved: SavedSearch
    tenders: list[Tender]


def _due(frequency: str, now: datetime) -> list[SavedSearch]:
    period = PERIODS[frequency]
    condition = [SavedSearch.frequency == frequency]
    if period:
        condition.append((SavedSearch.last_digest_at.is_(None)) | (SavedSearch.last_digest_at <= now - period))
    return list(db.session.execute(select(SavedSearch).where(*condition).order_by(SavedSearch.id)
                                   .options(joinedload(SavedSearch.user))).scalars())


def digests(frequency: str, now: datetime | None = None) -> list[Digest]:
    """What each due saved search of this frequency has to tell: its new matches not mailed yet (no mail
    written here)."""
    now = now or utcnow()
    due = _due(frequency, now)
    if not due:
        return []
    oldest = min((s.last_digest_at or s.created_at) for s in due)
    new = db.session.execute(select(Tender.id, Tender.published_at).where(
        Tender.status == TenderStatus.PUBLISHED, Tender.published_at > oldest,
        (Tender.answers_deadline.is_(None)) | (Tender.answers_deadline > now))).all()
    if not new:
        return []
    # the new tenders as documents, once, by the index's own serializer; each saved search is then read
    # against them in memory (search_documents.matches: the engines' filters clause for clause)
    documents = _documents([id_ for id_, _ in new])
    texts = {document["id"]: searchable_text(document) for document in documents}
    published = dict(new)
    parsed: dict[tuple, TenderQuery | None] = {}
    wanted: dict[int, list[int]] = {}
    words_cache: dict[tuple[str, int], bool] = {}
    for saved in due:
        key = tuple(tuple(pair) for pair in saved.args)
        if key not in parsed:  # the same arguments are read once per pass
            try:
                query = query_of(saved)
                parsed[key] = replace(query, resolved=resolve_tender_query(query, now))
            except QueryError as error:  # an argument that no longer reads (a territory removed): skipped
                log.warning("recherche enregistrée %s illisible : %s", saved.id, error.message)
                parsed[key] = None
        query = parsed[key]
        if query is None:
            continue
        since = saved.last_digest_at or saved.created_at
        resolution = query.resolved
        found = [d for d in documents if published[d["id"]] > since and matches(d, texts[d["id"]], query, resolution, words_cache)]
        if found:
            wanted[saved.id] = [d["id"] for d in sorted(found, key=sort_key(query))]
    if not wanted:
        return []
    delivered: set[tuple[int, int]] = set()
    saved_ids = sorted(wanted)
    for start in range(0, len(saved_ids), 5000):
        delivered |= set(db.session.execute(select(SavedSearchDelivery.saved_search_id, SavedSearchDelivery.tender_id)
                                            .where(SavedSearchDelivery.saved_search_id.in_(saved_ids[start:start + 5000]),
                                                   SavedSearchDelivery.tender_id.in_(list(published)))).tuples())
    tenders = {t.id: t for t in db.session.execute(select(Tender).where(Tender.id.in_(list(published)))
                                                   .options(joinedload(Tender.organisation))).scalars()}
    digests_found = []
    for saved in due:
        fresh = [tenders[i] for i in wanted.get(saved.id, ()) if (saved.id, i) not in delivered and i in tenders]
        if fresh:
            digests_found.append(Digest(saved, fresh))
    return digests_found


def _documents(ids: list[int]) -> list[dict[str, Any]]:
    from .search_documents import TENDERS

    documents = []
    for start in range(0, len(ids), 1000):
        rows = TENDERS.load(db.session, ids[start:start + 1000])
        documents += TENDERS.documents(db.session, rows, utcnow().date())
    return documents


def send_digests(frequency: str, now: datetime | None = None) -> int:
    """Mail every due saved search its new matches, record the deliveries, move `last_digest_at`. Never
    commits (the periodic task does). Returns how many mails were queued."""
    now = now or utcnow()
    found = digests(frequency, now)
    base = current_app.config["BASE_URL"].rstrip("/")
    rows = []
    for digest in found:
        saved = digest.saved
        queue_mail(saved.user.email, _subject(saved, digest.tenders), "watch_digest", saved=saved,
                   tenders=digest.tenders[:MAIL_LIMIT], more=max(0, len(digest.tenders) - MAIL_LIMIT),
                   base=base, search_path=_search_path(saved), watch_path="/veille")
        rows += [{"saved_search_id": saved.id, "tender_id": t.id, "delivered_at": now} for t in digest.tenders]
    # one statement per 20 000 deliveries over two arrays: 400 000 in seconds, where row-by-row takes a minute;
    # each stays well within a web request's statement timeout
    for start in range(0, len(rows), 20_000):
        chunk = rows[start:start + 20_000]
        db.session.execute(text(
            "INSERT INTO saved_search_delivery (saved_search_id, tender_id, delivered_at) "
            "SELECT s, t, :now FROM unnest(CAST(:searches AS int[]), CAST(:tenders AS int[])) AS d(s, t) "
            "ON CONFLICT DO NOTHING"),
            {"searches": [r["saved_search_id"] for r in chunk], "tenders": [r["tender_id"] for r in chunk],
             "now": now})
    for saved in _due(frequency, now):
        saved.last_digest_at = now
    return len(found)


def _subject(saved: SavedSearch, tenders: list[Tender]) -> str:
    n = len(tenders)
    return f"Veille « {saved.name[:60]} » : {n} nouvelle{'s' if n > 1 else ''} consultation{'s' if n > 1 else ''}"


def _search_path(saved: SavedSearch) -> str:
    from urllib.parse import urlencode

    return "/consultations/recherche" + ("?" + urlencode([tuple(p) for p in saved.args]) if saved.args else "")


def _task(frequency: str):
    def run() -> int:
        count = send_digests(frequency)
        db.session.commit()
        return count

    run.__name__ = f"watch_{frequency}"
    return run


# --- feeds ---------------------------------------------------------------------------------------------------

def feed_tenders(saved: SavedSearch) -> list[dict[str, Any]]:
    """The saved search's current matches, most recently published first (Atom)."""
    query = replace(query_of(saved), sort="recent", page=1, per_page=FEED_SIZE, facets=False)
    return service.search(query).hits


def renew_feed_token(saved: SavedSearch) -> str:
    """A new private address for the saved search's feed: the old one answers 404 from now on (an address that
    leaked, or was shared with someone who should no longer read it). Never commits."""
    saved.feed_token = new_token()
    db.session.flush()
    return saved.feed_token


def calendar_token(structure_id: int, renew: bool = False) -> str:
    """The structure's calendar token, created on demand, or a new one when `renew` (the old address then answers
    404). Never commits."""
    preference = db.session.get(RelayPreference, structure_id)
    if preference is None:
        preference = RelayPreference(structure_id=structure_id)
        db.session.add(preference)
    if renew or not preference.calendar_token:
        preference.calendar_token = new_token()
    db.session.flush()
    return preference.calendar_token


def structure_by_calendar_token(token: str) -> int | None:
    if not token or len(token) > 64:
        return None
    preference = db.session.execute(select(RelayPreference).where(RelayPreference.calendar_token == token)
                                    ).scalar_one_or_none()
    return preference.structure_id if preference and secrets.compare_digest(preference.calendar_token, token) \
        else None


def interested_deadlines(structure_id: int, now: datetime | None = None) -> list[Tender]:
    """Open published tenders one of whose lots the structure is interested in, by deadline."""
    now = now or datetime.now(timezone.utc)
    lots = select(TenderLot.tender_id).join(LotResponse, LotResponse.lot_id == TenderLot.id).where(
        LotResponse.structure_id == structure_id, LotResponse.interest == Interest.INTERESTED)
    return list(db.session.execute(select(Tender).where(
        Tender.id.in_(lots), Tender.status == TenderStatus.PUBLISHED, Tender.answers_deadline.is_not(None),
        Tender.answers_deadline > now).order_by(Tender.answers_deadline, Tender.id)).scalars())


def register(app: Flask) -> None:
    outbox.register_periodic("tenders.watch_immediate", 60, _task(WatchFrequency.IMMEDIATE))
    outbox.register_periodic("tenders.watch_daily", 3600, _task(WatchFrequency.DAILY))
    outbox.register_periodic("tenders.watch_weekly", 3600, _task(WatchFrequency.WEEKLY))
