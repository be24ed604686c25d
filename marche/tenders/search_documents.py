"""The tender adapter of the search engine (document type `tenders`): a published tender and its lots as one
document, its filters in Meilisearch and in SQL clause for clause, its facets, and its live updates.

Only published tenders are indexed (`load`); a tender closed, cancelled, awarded, or back to draft leaves the
index with its next change message. Whether its answers deadline is past is decided at query time in both
backends (`deadline_ts > now`, the same instant for both: `TenderResolution.now_ts`), so a tender whose
deadline passes disappears at once, before the workflow's periodic pass closes it.

Live updates without touching the workflow: a session listener (`after_flush`) notices changed tenders and
lots and adds a `tenders.search_changed` outbox message in the same transaction, as suppliers do for
structures; `indexer.reconcile` runs periodically (`reconcile_task`) and catches anything missed.

SQL text: every folded word must match a word of the title, object, lots' titles and descriptions or the
buyer's name as Meilisearch matches it (search.typos: the same typo budget, the last word as a prefix).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from ..core.models import OutboxMessage, OutboxStatus
from ..core.text import normalize_search
from ..search import indexer, service
from ..search.document_types import DocumentType, GroupedFacet, SearchResult
from ..search.documents import version_of
from ..search.meili_backend import any_of, quote
from ..search.sql_backend import Where
from ..search.typos import word_pattern, word_pattern_sql
from .models import Tender, TenderKind, TenderLot, TenderStatus
from .queries import lot_summary
from .search_query import (NO_DEADLINE_TS, RESERVATIONS, TenderQuery, TenderResolution, day_end_ts, day_start_ts,
                           tender_resolution)

INDEX = "tenders"
#: the outbox message listing changed tenders ({"ids": [...]})
TENDERS_CHANGED = "tenders.search_changed"
FACETS = ("kind", "sectors", "reserved", "clause_types", "departments", "wide_places")
FACET_FILTERS = {"kind": "kinds", "sectors": "sectors", "reserved": "reserved", "clause_types": "clause_types"}

SETTINGS = {
    "searchableAttributes": ["title", "lots_text", "object", "buyer_name"],
    "filterableAttributes": ["id", "kind", "sectors", "reserved", "clause_types", "departments", "wide_places",
                             "place_refs",
                             "place_scope", "cpv_prefixes", "buyer_id", "deadline_ts", "published_ts"],
    "sortableAttributes": ["deadline_ts", "published_ts", "id"],
    "typoTolerance": {"enabled": True},
    # the asked sort first (the SQL fallback's ORDER BY), words' relevance only among ties
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "pagination": {"maxTotalHits": 200_000},
    "faceting": {"maxValuesPerFacet": 200},
}

# --- SQL expressions on `tender s` (mirrors of the serializer below) --------------------------------------

#: the places: the tender's, and its lots' own (a lot without one is at the tender's)
PLACES_SQL = ("ARRAY(SELECT DISTINCT x.p::text FROM (SELECT s.place_ref UNION ALL SELECT l.place_ref FROM tender_lot l "
              "WHERE l.tender_id = s.id) AS x(p) WHERE x.p IS NOT NULL)")
#: geo.coverage.enclosing_refs of a place `x.p`
_ENCLOSING_SQL = (
    "CASE split_part(x.p, ':', 1) "
    "WHEN 'commune' THEN (SELECT ARRAY['commune:' || c.code, 'dep:' || c.department_code, 'reg:' || c.region_code, "
    "'country:FR'] FROM commune c WHERE c.code = upper(split_part(x.p, ':', 2))) "
    "WHEN 'dep' THEN (SELECT ARRAY['dep:' || d.code, 'reg:' || d.region_code, 'country:FR'] FROM department d "
    "WHERE d.code = split_part(x.p, ':', 2)) "
    "WHEN 'reg' THEN ARRAY[x.p, 'country:FR'] ELSE ARRAY['country:FR'] END")
#: every territory a place of the tender lies within, the places themselves included
SCOPE_SQL = f"ARRAY(SELECT DISTINCT e FROM unnest({PLACES_SQL}) AS x(p), unnest({_ENCLOSING_SQL}) AS e)"
#: ClauseSpec.clause_types() read in the stored documents (as tenders.queries.clause_condition)
CLAUSES_SQL = (
    "ARRAY(SELECT DISTINCT v.code FROM tender_lot l CROSS JOIN LATERAL (VALUES "
    "('insertion', jsonb_typeof(l.clauses -> 'insertion') = 'object'), "
    "('reserved', coalesce(l.clauses ->> 'reservation', '') IN ('siae', 'disability', 'both')), "
    "('insertion_object', coalesce(l.clauses ->> 'insertion_object', 'false') = 'true'), "
    "('social_criterion', jsonb_typeof(l.clauses -> 'social_criterion') = 'object'), "
    "('environmental_condition', jsonb_typeof(l.clauses -> 'environmental_conditions') = 'array' "
    "AND jsonb_array_length(CASE WHEN jsonb_typeof(l.clauses -> 'environmental_conditions') = 'array' "
    "THEN l.clauses -> 'environmental_conditions' ELSE '[]'::jsonb END) > 0), "
    "('environmental_criterion', jsonb_typeof(l.clauses -> 'environmental_criterion') = 'object')"
    ") AS v(code, ok) WHERE l.tender_id = s.id AND v.ok)")
RESERVED_SQL = ("ARRAY(SELECT DISTINCT l.clauses ->> 'reservation' FROM tender_lot l WHERE l.tender_id = s.id "
                "AND l.clauses ->> 'reservation' IN ('siae', 'disability', 'both'))")
CPV_SQL = ("array_to_string(s.cpv_codes || ARRAY(SELECT c FROM tender_lot l, unnest(l.cpv_codes) AS c "
           "WHERE l.tender_id = s.id), ',')")
DEADLINE_SQL = f"coalesce(floor(extract(epoch FROM s.answers_deadline))::bigint, {NO_DEADLINE_TS})"
PUBLISHED_SQL = "coalesce(floor(extract(epoch FROM s.published_at))::bigint, 0)"
TEXT_SQL = ("lower(unaccent(concat_ws(' ', s.title, s.object, (SELECT string_agg(concat_ws(' ', l.title, "
            "l.description), ' ') FROM tender_lot l WHERE l.tender_id = s.id), "
            "(SELECT o.name FROM organisation o WHERE o.id = s.organisation_id))))")
VISIBLE_SQL = f"s.status = '{TenderStatus.PUBLISHED}'"
SQL_FACETS = (
    GroupedFacet("kind", "SELECT f.kind, count(*) FROM f GROUP BY f.kind"),
    GroupedFacet("sectors", "SELECT ts.sector_id, count(*) FROM f JOIN tender_sector ts ON ts.tender_id = f.id "
                            "GROUP BY ts.sector_id"),
    GroupedFacet("reserved", "SELECT r, count(*) FROM f, unnest(f.reserved) AS r GROUP BY r"),
    GroupedFacet("clause_types", "SELECT c, count(*) FROM f, unnest(f.clause_types) AS c GROUP BY c"),
    GroupedFacet("departments", "SELECT substr(e, 5), count(*) FROM f, unnest(f.scope) AS e "
                                "WHERE e LIKE 'dep:%' GROUP BY 1"),
    # wide_places() below: the tender's own places that are a whole region or France
    GroupedFacet("wide_places", "SELECT p, count(*) FROM f, unnest(f.places) AS p "
                                "WHERE p LIKE 'reg:%' OR p = 'country:FR' GROUP BY p"),
)


# --- the one serializer ------------------------------------------------------------------------------------

def _timestamp(moment: datetime | None, default: int) -> int:
    return default if moment is None else int(moment.timestamp() // 1)


def enclosing_map(session: Session, refs: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """geo.coverage.enclosing_refs of each place, looked up in one query per kind through `session` (the
    outbox handler's own: the application's session may be committing); an unknown place has none."""
    from ..geo.models import Commune, Department

    refs = set(refs)
    found: dict[str, tuple[str, ...]] = {}
    communes = {ref.split(":", 1)[1].upper(): ref for ref in refs if ref.startswith("commune:")}
    if communes:
        for code, department, region in session.execute(select(Commune.code, Commune.department_code,
                                                                Commune.region_code).where(Commune.code.in_(communes))):
            found[communes[code]] = (f"commune:{code}", f"dep:{department}", f"reg:{region}", "country:FR")
    departments = {ref.split(":", 1)[1]: ref for ref in refs if ref.startswith("dep:")}
    if departments:
        for code, region in session.execute(select(Department.code, Department.region_code)
                                            .where(Department.code.in_(departments))):
            found[departments[code]] = (f"dep:{code}", f"reg:{region}", "country:FR")
    for ref in refs:
        if ref.startswith("reg:"):
            found[ref] = (ref, "country:FR")
        elif not ref.startswith(("commune:", "dep:")):
            found[ref] = ("country:FR",)
    return found


def cpv_prefixes(codes: Iterable[str]) -> list[str]:
    """Every start of 2 to 8 digits of each code: a query's prefix matches by equality."""
    found = set()
    for code in codes:
        for length in range(2, 9):
            start = code[:length]
            if len(start) == length and start.isdigit():
                found.add(start)
    return sorted(found)


def tender_version(tender: Tender) -> str | None:
    moments = [tender.updated_at] + [lot.updated_at for lot in tender.lots]
    return version_of(max((m for m in moments if m is not None), default=None))


def places_of(tender: Tender) -> list[str]:
    return sorted({ref for ref in [tender.place_ref, *(lot.place_ref for lot in tender.lots)] if ref})


def wide_places(places: Iterable[str]) -> list[str]:
    """The tender's places that are a whole region or France: the map lists them beside the departments it colours."""
    return sorted(ref for ref in places if ref.startswith("reg:") or ref == "country:FR")


def tender_document(tender: Tender, enclosing: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """`enclosing`: `enclosing_map` of the tender's places."""
    lots = [lot_summary(lot) for lot in tender.lots]
    places = places_of(tender)
    scope = sorted({ref for place in places for ref in enclosing.get(place, ())})
    codes = list(tender.cpv_codes or []) + [code for lot in tender.lots for code in (lot.cpv_codes or [])]
    return {
        "id": tender.id,
        "title": tender.title,
        "object": tender.object or "",
        "lots_text": " ".join(" ".join(part for part in (s.lot.title, s.lot.description) if part) for s in lots),
        "buyer_id": tender.organisation_id,
        "buyer_name": tender.organisation.name if tender.organisation else "",
        "kind": tender.kind,
        "kind_label": TenderKind(tender.kind).label if tender.kind in TenderKind._value2member_map_ else tender.kind,
        "cpv_codes": list(dict.fromkeys(codes)),
        "cpv_prefixes": cpv_prefixes(codes),
        "sectors": sorted(s.id for s in tender.sectors),
        "sector_names": [s.name for s in tender.sectors],
        "place_refs": places,
        "place_scope": scope,
        "departments": sorted(ref[4:] for ref in scope if ref.startswith("dep:")),
        "wide_places": wide_places(places),
        "reserved": sorted({s.spec.reservation for s in lots if s.spec.reservation in RESERVATIONS}),
        "clause_types": sorted({code for s in lots for code in s.clause_types}),
        "lots": [{"id": s.lot.id, "position": s.lot.position, "title": s.lot.title,
                  "clause_types": list(s.clause_types), "reservation": s.spec.reservation} for s in lots],
        "amount": float(tender.amount) if tender.amount is not None else None,
        "answers_deadline": tender.answers_deadline.astimezone(timezone.utc).isoformat()
        if tender.answers_deadline else None,
        "deadline_ts": _timestamp(tender.answers_deadline, NO_DEADLINE_TS),
        "published_at": tender.published_at.astimezone(timezone.utc).isoformat() if tender.published_at else None,
        "published_ts": _timestamp(tender.published_at, 0),
        "updated_at": tender_version(tender),
    }


# --- Meilisearch translation -------------------------------------------------------------------------------

def meili_filters(query: TenderQuery, resolution: TenderResolution) -> list[str] | None:
    if resolution.impossible or query.ids == ():
        return None
    clauses = [f"deadline_ts > {resolution.now_ts}"]
    if query.ids is not None:
        clauses.append(f"id IN [{', '.join(str(int(i)) for i in query.ids)}]")
    if query.kinds:
        clauses.append(any_of("kind", query.kinds))
    if query.sectors:
        clauses.append(any_of("sectors", query.sectors))
    if query.reserved:
        clauses.append(any_of("reserved", sorted({r for asked in query.reserved for r in RESERVATIONS[asked]})))
    if query.clause_types:
        clauses.append(any_of("clause_types", query.clause_types))
    if query.cpv:
        clauses.append(any_of("cpv_prefixes", query.cpv))
    if query.buyer is not None:
        clauses.append(f"buyer_id = {int(query.buyer)}")
    for scope, contained in resolution.places:
        clauses.append(f"({any_of('place_scope', scope)} OR {any_of('place_refs', contained)})")
    if query.deadline_after:
        clauses.append(f"deadline_ts >= {day_start_ts(query.deadline_after)}")
    if query.deadline_before:
        clauses.append(f"deadline_ts <= {day_end_ts(query.deadline_before)}")
    if query.published_after:
        clauses.append(f"published_ts >= {day_start_ts(query.published_after)}")
    return clauses


def meili_sort(query: TenderQuery, resolution: TenderResolution) -> list[str]:
    if query.sort == "recent":
        return ["published_ts:desc", "id:desc"]
    return ["deadline_ts:asc", "id:asc"]


# --- the same filters over documents in memory (the watch's digests: a few new tenders, many searches) ------

def searchable_text(document: dict[str, Any]) -> str:
    """The document's searchable attributes (SETTINGS), folded as the SQL fallback folds them."""
    return normalize_search(" ".join(document[name] or "" for name in SETTINGS["searchableAttributes"]))


@lru_cache(maxsize=4096)
def _word_patterns(q: str) -> tuple[re.Pattern, ...]:
    words = normalize_search(q).split()
    return tuple(word_pattern(word, position == len(words) - 1) for position, word in enumerate(words))


def matches(document: dict[str, Any], text: str, query: TenderQuery, resolution: TenderResolution,
            words_cache: dict[tuple[str, int], bool] | None = None) -> bool:
    """Does the document answer the query? `meili_filters` clause for clause, read in Python; `text` is
    `searchable_text(document)`. Tests compare its answers with both engines'. `words_cache` keeps the text's
    answer per (words, document) for a pass over many queries (the patterns, with their typo variants, are
    most of the cost)."""
    if resolution.impossible or document["deadline_ts"] <= resolution.now_ts:
        return False
    if query.ids is not None and document["id"] not in query.ids:
        return False
    if query.kinds and document["kind"] not in query.kinds:
        return False
    if query.sectors and set(query.sectors).isdisjoint(document["sectors"]):
        return False
    if query.reserved and {r for asked in query.reserved for r in RESERVATIONS[asked]}.isdisjoint(document["reserved"]):
        return False
    if query.clause_types and set(query.clause_types).isdisjoint(document["clause_types"]):
        return False
    if query.cpv and set(query.cpv).isdisjoint(document["cpv_prefixes"]):
        return False
    if query.buyer is not None and document["buyer_id"] != query.buyer:
        return False
    for scope, contained in resolution.places:
        if set(scope).isdisjoint(document["place_scope"]) and set(contained).isdisjoint(document["place_refs"]):
            return False
    if query.deadline_after and document["deadline_ts"] < day_start_ts(query.deadline_after):
        return False
    if query.deadline_before and document["deadline_ts"] > day_end_ts(query.deadline_before):
        return False
    if query.published_after and document["published_ts"] < day_start_ts(query.published_after):
        return False
    if not query.q:
        return True
    key = (query.q, document["id"])
    if words_cache is not None and key in words_cache:
        return words_cache[key]
    found = all(pattern.search(text) for pattern in _word_patterns(query.q))
    if words_cache is not None:
        words_cache[key] = found
    return found


def sort_key(query: TenderQuery):
    """The order `meili_sort` gives, for documents in memory."""
    if query.sort == "recent":
        return lambda document: (-document["published_ts"], -document["id"])
    return lambda document: (document["deadline_ts"], document["id"])


# --- SQL translation ---------------------------------------------------------------------------------------

def _text(where: Where, q: str) -> None:
    words = normalize_search(q).split()
    for position, word in enumerate(words):
        pattern = where.param(word_pattern_sql(word, position == len(words) - 1))
        where.add(f"{TEXT_SQL} ~ :{pattern}")


def sql_where(query: TenderQuery, resolution: TenderResolution, today: date) -> Where | None:
    if resolution.impossible or query.ids == ():
        return None
    where = Where()
    where.add(VISIBLE_SQL)
    where.add(f"{DEADLINE_SQL} > :{where.param(resolution.now_ts)}")
    if query.ids is not None:
        where.add(f"s.id = ANY(CAST(:{where.param([int(i) for i in query.ids])} AS int[]))")
    if query.q:
        _text(where, query.q)
    if query.kinds:
        where.add(f"s.kind = ANY(CAST(:{where.param(list(query.kinds))} AS varchar[]))", facet="kind")
    if query.sectors:
        where.add("EXISTS (SELECT 1 FROM tender_sector ts WHERE ts.tender_id = s.id "
                  f"AND ts.sector_id = ANY(CAST(:{where.param(list(query.sectors))} AS int[])))", facet="sectors")
    if query.reserved:
        wanted = sorted({r for asked in query.reserved for r in RESERVATIONS[asked]})
        where.add(f"{RESERVED_SQL} && CAST(:{where.param(wanted)} AS text[])", facet="reserved")
    if query.clause_types:
        where.add(f"{CLAUSES_SQL} && CAST(:{where.param(list(query.clause_types))} AS text[])",
                  facet="clause_types")
    if query.cpv:
        # digits only (checked by the parser): nothing to escape in the pattern
        where.add(f"{CPV_SQL} ~ :{where.param('(^|,)(' + '|'.join(query.cpv) + ')')}")
    if query.buyer is not None:
        where.add(f"s.organisation_id = :{where.param(int(query.buyer))}")
    for scope, contained in resolution.places:
        where.add(f"({SCOPE_SQL} && CAST(:{where.param(list(scope))} AS text[]) "
                  f"OR {PLACES_SQL} && CAST(:{where.param(list(contained))} AS text[]))")
    if query.deadline_after:
        where.add(f"{DEADLINE_SQL} >= :{where.param(day_start_ts(query.deadline_after))}")
    if query.deadline_before:
        where.add(f"{DEADLINE_SQL} <= :{where.param(day_end_ts(query.deadline_before))}")
    if query.published_after:
        where.add(f"{PUBLISHED_SQL} >= :{where.param(day_start_ts(query.published_after))}")
    return where


def sql_order(where: Where, query: TenderQuery, resolution: TenderResolution) -> str:
    if query.sort == "recent":
        return f"{PUBLISHED_SQL} DESC, s.id DESC"
    return f"{DEADLINE_SQL}, s.id"


# --- the adapter ---------------------------------------------------------------------------------------------

def load_tenders(session: Session, ids: Iterable[int]) -> list[Tender]:
    return list(session.execute(
        select(Tender).where(Tender.id.in_(list(ids)), Tender.status == TenderStatus.PUBLISHED).order_by(Tender.id)
        .options(joinedload(Tender.organisation), selectinload(Tender.sectors), selectinload(Tender.lots))
    ).unique().scalars())


class TenderDocuments(DocumentType):
    name = INDEX
    label = "consultations"
    query_type = TenderQuery
    settings = SETTINGS
    facets = FACETS
    change_kind = TENDERS_CHANGED
    table = "tender"
    facet_columns = (f"s.id, s.kind, s.answers_deadline, s.published_at, {SCOPE_SQL} AS scope, "
                     f"{PLACES_SQL} AS places, "
                     f"{CLAUSES_SQL} AS clause_types, {RESERVED_SQL} AS reserved")
    sql_facets = SQL_FACETS
    facet_filters = FACET_FILTERS
    visible_sql = VISIBLE_SQL

    def load(self, session: Session, ids: Iterable[int]) -> list[Tender]:
        return load_tenders(session, ids)

    def documents(self, session: Session, rows: list[Tender], today: date) -> list[dict[str, Any]]:
        enclosing = enclosing_map(session, {ref for tender in rows for ref in places_of(tender)})
        return [tender_document(tender, enclosing) for tender in rows]

    def versions(self, session: Session) -> dict[int, str | None]:
        return {id_: version_of(moment) for id_, moment in session.execute(text(
            "SELECT t.id, greatest(t.updated_at, max(l.updated_at)) FROM tender t LEFT JOIN tender_lot l "
            f"ON l.tender_id = t.id WHERE t.status = '{TenderStatus.PUBLISHED}' GROUP BY t.id"))}

    def prepared(self, query: TenderQuery) -> TenderQuery:
        resolution = tender_resolution(query)
        return query if resolution is query.resolved else _with(query, resolution)

    def resolution(self, query: TenderQuery) -> TenderResolution:
        return tender_resolution(query)

    meili_filters = staticmethod(meili_filters)
    meili_sort = staticmethod(meili_sort)
    sql_where = staticmethod(sql_where)
    sql_order = staticmethod(sql_order)


def _with(query: TenderQuery, resolution: TenderResolution) -> TenderQuery:
    from dataclasses import replace

    return replace(query, resolved=resolution)


TENDERS = TenderDocuments()


def search_tenders(query: TenderQuery) -> SearchResult:
    """One page of open published tenders (Meilisearch, or SQL when it cannot answer)."""
    return service.search(query)


def tenders_index():
    return indexer.index_of(TENDERS)


def index_tenders(session: Session, ids: list[int], wait: bool = False) -> list[int]:
    return indexer.index_ids(TENDERS, session, ids, wait)


def reconcile_task() -> tuple[int, int] | None:
    """The worker's periodic catch-up: stale or missing documents sent, orphans removed (None when
    Meilisearch is down: the next pass tries again)."""
    from ..core import meili

    if not meili.healthy():
        return None
    return indexer.reconcile(TENDERS)


# --- live updates: changed tenders and lots noticed at flush ------------------------------------------------

def _changed_tender_ids(session: Session) -> set[int]:
    """Tenders whose document may have changed: published now or until this flush (published → closed,
    cancelled…), and the published tenders of changed lots. Drafts and the award of a closed tender write
    nothing: the index never held them."""
    from sqlalchemy import inspect
    from sqlalchemy.orm.util import identity_key

    ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Tender) and obj.id is not None:
            was = inspect(obj).attrs["status"].history.deleted or ()
            if obj.status == TenderStatus.PUBLISHED or TenderStatus.PUBLISHED in was:
                ids.add(obj.id)
        elif isinstance(obj, TenderLot) and obj.tender_id is not None:
            tender = obj.__dict__.get("tender") or session.identity_map.get(identity_key(Tender, obj.tender_id))
            if tender is None or tender.status == TenderStatus.PUBLISHED:
                ids.add(obj.tender_id)
    return ids


def _after_flush(session: Session, flush_context) -> None:
    ids = _changed_tender_ids(session)
    if ids:
        session.add(OutboxMessage(kind=TENDERS_CHANGED, payload={"ids": sorted(ids)}, status=OutboxStatus.PENDING))


def listen() -> None:
    if not getattr(listen, "_listening", False):
        event.listen(Session, "after_flush", _after_flush)
        listen._listening = True
