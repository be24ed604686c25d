"""The catalogue index behind « Décrivez votre besoin »: one document per CPV 2008 code and one per sector,
with our French synonyms (`data/besoin_synonymes.csv`) and Meilisearch's typo tolerance; and the same
search in SQL when Meilisearch cannot answer.

The catalogue is reference data, not a searchable document type of the registry: it changes only when
`data/` does, so it is caught up by version (a digest of each document, of the settings and of the
synonyms) at `load-reference` and `reindex --if-needed`, rebuilt by `reindex`, never emptied between
tests nor fed by the outbox.

Both backends rank the same way, as far as SQL can say it (README « Décrivez votre besoin »): the
typed words are matched in order and the last ones may go unmatched (Meilisearch's matching strategy
"last": a code matching the first three words ranks above one matching the first two), then words
matched without a typo, a typed expression found as typed rather than by a synonym, the position of the
first word in the label, words matched exactly; at equal match, services and works before supplies,
the shorter label, then the more precise level.
"""
from __future__ import annotations

import bisect
import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from ..core import meili
from ..core.meili import index_name
from ..core.text import normalize_search
from ..extensions import db
from ..reference.models import CpvCode, Sector
from . import indexer
from .document_types import DocumentType
from .typos import typo_budget, variants, ANY

INDEX = "catalogue"
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SYNONYM_TABLE = DATA_DIR / "besoin_synonymes.csv"
WORD_TABLE = DATA_DIR / "secteurs_mots.csv"
#: sector documents are numbered after every eight-digit CPV code, so one integer key serves both
SECTOR_ID_OFFSET = 100_000_000
#: the ranking's depth of each CPV level (more precise, deeper)
DEPTH = {"division": 1, "groupe": 2, "classe": 3, "categorie": 4, "sous-categorie": 5}
#: at equal match, services and works before supplies: inclusive suppliers mostly sell services and works
NATURE_RANK = {"services": 0, "travaux": 1, "fournitures": 2}
#: a word of folded text
WORD = re.compile(r"[a-z0-9]+")
#: a search answers in milliseconds; past this the need box falls back to SQL
SEARCH_TIMEOUT_S = 2
#: typos the SQL patterns translate (as the structure search: a second typo multiplies the pattern by ~20)
MAX_SQL_TYPOS = 1

SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["label", "keywords", "code8"],
    "filterableAttributes": ["kind", "code_number", "nature"],
    "sortableAttributes": ["code_number", "label_words", "depth", "nature_rank"],
    "displayedAttributes": ["id", "kind", "code", "label", "nature", "level", "sector_id", "slug", "group",
                            "version"],
    # words first (strategy "last"), then typos; among equals, the label with fewest other words, then
    # the most precise level: "nettoyage" → « Services de nettoyage » before « Nettoyage de fours »
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness", "nature_rank:asc",
                     "label_words:asc", "depth:desc", "code_number:asc"],
    "typoTolerance": {"enabled": True},
    "pagination": {"maxTotalHits": 10_000},
}


# --- the vocabulary: synonyms, sector keywords ------------------------------------------------------

def fold_words(value: str) -> list[str]:
    return WORD.findall(normalize_search(value))


@lru_cache(maxsize=1)  # our own table, fixed while a process runs
def synonym_rows() -> tuple[tuple[str, str, bool], ...]:
    """(expression, equivalent, both ways) as written in the table."""
    with SYNONYM_TABLE.open(encoding="utf-8", newline="") as handle:
        return tuple((row["expression"].strip(), row["equivalent"].strip(), row["sens"].strip() == "↔")
                     for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Folded expression → the folded expressions it also finds."""
    table: dict[str, list[str]] = {}
    for expression, equivalent, both in synonym_rows():
        pairs = [(expression, equivalent)] + ([(equivalent, expression)] if both else [])
        for source, target in pairs:
            source, target = " ".join(fold_words(source)), " ".join(fold_words(target))
            if target not in table.setdefault(source, []):
                table[source].append(target)
    return {source: tuple(targets) for source, targets in table.items()}


def meili_synonyms() -> dict[str, list[str]]:
    """The same table for Meilisearch: folded and as written (it matches normalised words either way)."""
    table: dict[str, list[str]] = {}
    for expression, equivalent, both in synonym_rows():
        for source, target in [(expression, equivalent)] + ([(equivalent, expression)] if both else []):
            for key in {source.lower(), " ".join(fold_words(source))}:
                values = table.setdefault(key, [])
                for value in (target.lower(), " ".join(fold_words(target))):
                    if value not in values:
                        values.append(value)
    return table


@lru_cache(maxsize=1)
def sector_keywords() -> dict[int, tuple[str, ...]]:
    """Sector id → the trade words of `secteurs_mots.csv` (without their prefix mark)."""
    table: dict[int, list[str]] = {}
    with WORD_TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(int(row["secteur_id"]), []).append(row["expression"].rstrip("*").strip())
    return {key: tuple(values) for key, values in table.items()}


# --- documents --------------------------------------------------------------------------------------

def label_words(label: str) -> int:
    return len(fold_words(label))


def cpv_document(code: CpvCode) -> dict[str, Any]:
    return {"id": int(code.code8), "kind": "cpv", "code": code.code, "code8": code.code8,
            "code_number": int(code.code8), "label": code.label_fr, "keywords": [], "nature": code.nature,
            "level": code.level, "depth": DEPTH.get(code.level, 0), "label_words": label_words(code.label_fr),
            "nature_rank": NATURE_RANK.get(code.nature, 3)}


def sector_document(sector: Sector) -> dict[str, Any]:
    return {"id": SECTOR_ID_OFFSET + sector.id, "kind": "sector", "sector_id": sector.id, "slug": sector.slug,
            "label": sector.name, "keywords": list(sector_keywords().get(sector.id, ())), "group": sector.group.name,
            "code_number": SECTOR_ID_OFFSET + sector.id, "depth": 0, "label_words": label_words(sector.name),
            "nature_rank": 0}


@lru_cache(maxsize=1)
def settings_digest() -> str:
    body = json.dumps([SETTINGS, meili_synonyms()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def with_version(document: dict[str, Any]) -> dict[str, Any]:
    """The document with a digest of itself and of the index settings (synonyms included): reconciling
    sends again what either changed."""
    body = json.dumps(document, sort_keys=True, ensure_ascii=False) + settings_digest()
    return {**document, "version": hashlib.sha256(body.encode()).hexdigest()[:16]}


class CatalogueDocuments(DocumentType):
    """The catalogue as the indexer builds it (never registered: see the module docstring)."""

    name = INDEX
    label = "entrées du catalogue (CPV et secteurs)"
    version_field = "version"

    @property
    def settings(self) -> dict[str, Any]:  # type: ignore[override]
        return {**SETTINGS, "synonyms": meili_synonyms()}

    def load(self, session: Session, ids: Iterable[int]) -> list[Any]:
        ids = list(ids)
        codes = [f"{i:08d}" for i in ids if i < SECTOR_ID_OFFSET]
        sector_ids = [i - SECTOR_ID_OFFSET for i in ids if i >= SECTOR_ID_OFFSET]
        rows: list[Any] = []
        if codes:
            rows += [_Row(int(c.code8), cpv_document(c))
                     for c in session.scalars(select(CpvCode).where(CpvCode.code8.in_(codes)))]
        if sector_ids:
            rows += [_Row(SECTOR_ID_OFFSET + s.id, sector_document(s)) for s in session.scalars(
                select(Sector).where(Sector.id.in_(sector_ids)).options(selectinload(Sector.group)))]
        return sorted(rows, key=lambda row: row.id)

    def documents(self, session: Session, rows: list[Any], today: date) -> list[dict[str, Any]]:
        return [with_version(row.document) for row in rows]

    def versions(self, session: Session) -> dict[int, str | None]:
        rows = self.load(session, [int(c) for c in session.scalars(select(CpvCode.code8))]
                         + [SECTOR_ID_OFFSET + i for i in session.scalars(select(Sector.id))])
        return {row.id: with_version(row.document)["version"] for row in rows}


@dataclass(frozen=True)
class _Row:
    id: int
    document: dict[str, Any]


CATALOGUE = CatalogueDocuments()


def rebuild(progress=None) -> int:
    """Build the catalogue index from the database (settings first); return its documents."""
    indexer.forget_index_state()  # the settings carry the synonyms: apply them again
    return indexer.reindex(CATALOGUE, progress)


def catch_up() -> tuple[int, int] | None:
    """Send what differs from the tables and our synonyms, settings first; (sent, removed), or None when
    there is no index to catch up (it must be built)."""
    try:
        if not indexer.index_of(CATALOGUE).get_stats().number_of_documents:
            return None
    except Exception:  # noqa: BLE001 - no index yet
        return None
    indexer.forget_index_state()  # the settings carry the synonyms: apply them again
    return indexer.reconcile(CATALOGUE)


def up_to_date() -> bool:
    """True when the index holds every entry at its current version (and nothing else)."""
    try:
        to_send, to_delete = indexer.stale(CATALOGUE)
    except Exception:  # noqa: BLE001 - no index yet
        return False
    return not to_send and not to_delete


# --- the resolved query both backends translate -----------------------------------------------------

@dataclass(frozen=True)
class Term:
    """One typed word, or a typed expression of the synonym table (« espaces verts »), in typed order."""

    words: tuple[str, ...]
    #: other expressions it also finds (synonyms), folded
    alternatives: tuple[str, ...] = ()
    #: the last word of the text: it also matches as the start of a word
    prefix: bool = False


@dataclass(frozen=True)
class CatalogueQuery:
    #: the words to match, in order (stop words, place, duration and codes removed)
    terms: tuple[Term, ...] = ()
    #: eight-digit prefixes of codes typed ("90911200", "4521")
    codes: tuple[str, ...] = ()
    cpv_limit: int = 8
    sector_limit: int = 5

    @property
    def q(self) -> str:
        return " ".join(" ".join(term.words) for term in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms and not self.codes


@dataclass
class CatalogueHits:
    cpv: list[dict[str, Any]] = field(default_factory=list)
    sectors: list[dict[str, Any]] = field(default_factory=list)
    backend: str = "meili"


def terms_of(words: list[str]) -> tuple[Term, ...]:
    """Folded words as terms: the longest synonym expression at each position (up to 3 words) is one term."""
    table = synonyms()
    terms: list[Term] = []
    position = 0
    while position < len(words):
        for size in (3, 2, 1):
            expression = " ".join(words[position:position + size])
            if len(words[position:position + size]) == size and (size == 1 or expression in table):
                terms.append(Term(tuple(words[position:position + size]), table.get(expression, ())))
                position += size
                break
    if terms:
        last = terms[-1]
        terms[-1] = Term(last.words, last.alternatives, prefix=True)
    return tuple(terms)


@lru_cache(maxsize=1)  # the catalogue's words, fixed while a process runs
def vocabulary() -> tuple[frozenset[str], tuple[str, ...], str]:
    """(every word of the CPV labels, sector names, keywords and synonyms; the same sorted; one per line)."""
    words: set[str] = set()
    for label in db.session.scalars(select(CpvCode.label_fr)):
        words.update(fold_words(label))
    for name in db.session.scalars(select(Sector.name)):
        words.update(fold_words(name))
    for values in sector_keywords().values():
        for value in values:
            words.update(fold_words(value))
    for source, targets in synonyms().items():
        words.update(source.split())
        for target in targets:
            words.update(target.split())
    ordered = tuple(sorted(words))
    return frozenset(words), ordered, "\n".join(ordered)


def known(word: str, last: bool) -> bool:
    """A word some entry can match (exactly, within Meilisearch's typo budget, or as a prefix when last)."""
    exact, ordered, lines = vocabulary()
    if word in exact:
        return True
    if last:
        position = bisect.bisect_left(ordered, word)
        if position < len(ordered) and ordered[position].startswith(word):
            return True
    if not typo_budget(word):
        return False
    pattern = "|".join(sorted({"".join(r"\w" if t is ANY else re.escape(t) for t in v)
                               for v in variants(word, MAX_SQL_TYPOS)}))
    return re.search(rf"^(?:{pattern}){'' if last else '$'}", lines, re.M) is not None


# --- Meilisearch ------------------------------------------------------------------------------------

def _code_filter(prefix: str) -> str:
    low = int(prefix.ljust(8, "0"))
    high = int(prefix.ljust(8, "9"))
    return f"code_number {low} TO {high}"


def meili_requests(query: CatalogueQuery) -> list[dict[str, Any]]:
    """The multi-search: the CPV codes, then the sectors (none when only codes were typed)."""
    uid = index_name(INDEX)
    fields = ["kind", "code", "label", "nature", "level", "sector_id", "slug", "group"]
    if query.codes:
        clauses = " OR ".join(_code_filter(prefix) for prefix in query.codes)
        return [{"indexUid": uid, "q": "", "filter": f"kind = cpv AND ({clauses})", "sort": ["code_number:asc"],
                 "limit": query.cpv_limit, "attributesToRetrieve": fields}]
    common = {"indexUid": uid, "q": query.q, "matchingStrategy": "last", "attributesToRetrieve": fields}
    return [{**common, "filter": "kind = cpv", "limit": query.cpv_limit},
            {**common, "filter": "kind = sector", "limit": query.sector_limit}]


def meili_search(query: CatalogueQuery) -> CatalogueHits:
    requests = meili_requests(query)
    answers = meili.post("/multi-search", {"queries": requests}, SEARCH_TIMEOUT_S)["results"]
    hits = CatalogueHits(backend="meili")
    for answer in answers:
        for hit in answer["hits"]:
            (hits.cpv if hit["kind"] == "cpv" else hits.sectors).append(_hit(hit))
    return hits


def _hit(document: dict[str, Any]) -> dict[str, Any]:
    if document["kind"] == "cpv":
        return {"code": document["code"], "label": document["label"], "nature": document["nature"],
                "level": document["level"]}
    return {"id": document["sector_id"], "slug": document["slug"], "name": document["label"],
            "group": document["group"]}


# --- SQL ----------------------------------------------------------------------------------------------

def _word_alternation(word: str, prefix: bool, typos: bool) -> str:
    if not typos:
        return re.escape(word) + (r"\w*" if prefix else "")
    body = "|".join(sorted({"".join(r"\w" if t is ANY else re.escape(t) for t in v)
                            for v in variants(word, MAX_SQL_TYPOS)}))
    return f"(?:{body})" + (r"\w*" if prefix else "")


def term_pattern(term: Term, typos: bool = True) -> str:
    """A regular expression (the same text for PostgreSQL's ARE and Python's re, with \\b edges) that finds
    the term in a folded label: its words in order, with typos when `typos`, or one of its synonyms exactly."""
    phrase = r"\W+".join(_word_alternation(word, term.prefix and index == len(term.words) - 1, typos)
                         for index, word in enumerate(term.words))
    options = [phrase] + [r"\W+".join(re.escape(word) for word in alternative.split())
                          for alternative in term.alternatives]
    return r"(?:^|\W)(?:" + "|".join(options) + r")(?:\W|$)" if not term.prefix else \
        r"(?:^|\W)(?:" + "|".join(options) + r")"


def _rank_sql(terms: tuple[Term, ...], params: dict[str, Any], column: str) -> dict[str, str]:
    """The ranking's keys as SQL on `column` (see `rank_key`)."""
    matched, exact, whole, phrase = [], [], [], ["0"]
    for position, term in enumerate(terms):
        params[f"m{position}"] = term_pattern(term)
        params[f"e{position}"] = term_pattern(term, typos=False)
        params[f"w{position}"] = term_pattern(Term(term.words), typos=False)
        matched.append(f"({column} ~ :m{position})")
        exact.append(f"({column} ~ :e{position})::int")
        whole.append(f"({column} ~ :w{position})::int")
        if len(term.words) > 1:
            params[f"p{position}"] = term_pattern(Term(term.words, prefix=term.prefix))
            phrase.append(f"({column} ~ :p{position})::int")
    prefix_words = []
    for position in range(len(terms)):
        size = sum(len(term.words) for term in terms[:position + 1])
        prefix_words.append(f"WHEN {' AND '.join(matched[:position + 1])} THEN {size}")
    # words before the first term's match (the column starts with the code: one word less)
    before = (f"(SELECT count(*) FROM regexp_matches(substr({column}, 1, regexp_instr({column}, :m0)), "
              f"'[a-z0-9]+', 'g')) - 1")
    return {"first": matched[0], "words": f"CASE {' '.join(reversed(prefix_words))} ELSE 0 END",
            "exact": " + ".join(exact), "position": before, "whole": " + ".join(whole),
            "phrase": " + ".join(phrase)}


def sql_search(query: CatalogueQuery) -> CatalogueHits:
    hits = CatalogueHits(backend="sql")
    # a plan per execution: a generic plan cannot read the trigram index for a bound pattern
    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if query.codes:
        conditions = " OR ".join(f"code8 LIKE :c{i}" for i in range(len(query.codes)))
        params: dict[str, Any] = {f"c{i}": prefix + "%" for i, prefix in enumerate(query.codes)}
        rows = db.session.execute(text(f"SELECT code, label_fr, nature, level FROM cpv_code WHERE {conditions} "
                                       f"ORDER BY code8 LIMIT :limit"), {**params, "limit": query.cpv_limit})
        hits.cpv = [{"code": r.code, "label": r.label_fr, "nature": r.nature, "level": r.level} for r in rows]
        return hits
    if not query.terms:
        return hits
    params = {"limit": query.cpv_limit}
    rank = _rank_sql(query.terms, params, "search_label")
    depth = "CASE level " + " ".join(f"WHEN '{level}' THEN {d}" for level, d in DEPTH.items()) + " ELSE 0 END"
    # the trigram index finds the rows the first word matches; the rank is computed on those only
    sql = (f"SELECT code, label_fr, nature, level FROM (SELECT *, {rank['words']} AS words, {rank['exact']} AS exact, "
           f"{rank['position']} AS position, {rank['whole']} AS whole, {rank['phrase']} AS phrase, "
           f"(SELECT count(*) FROM regexp_matches(search_label, '[a-z0-9]+', 'g')) - 1 AS label_words, "
           f"{depth} AS depth FROM cpv_code WHERE {rank['first']}) AS m "
           f"ORDER BY words DESC, exact DESC, phrase DESC, position, whole DESC, "
           f"CASE nature WHEN 'services' THEN 0 WHEN 'travaux' THEN 1 ELSE 2 END, label_words, depth DESC, code8 "
           f"LIMIT :limit")
    rows = db.session.execute(text(sql), params)
    hits.cpv = [{"code": r.code, "label": r.label_fr, "nature": r.nature, "level": r.level} for r in rows]
    hits.sectors = _sectors_in_python(query)
    return hits


@lru_cache(maxsize=1)  # 154 sectors, reference data fixed while a process runs
def _sector_texts() -> tuple[tuple[dict[str, Any], str, int, str], ...]:
    """(hit, folded name and trade words, words of the name, folded name) of every sector."""
    rows = db.session.scalars(select(Sector).options(selectinload(Sector.group)).order_by(Sector.id))
    return tuple((_hit(sector_document(sector)),
                  " ".join([normalize_search(sector.name)] + [normalize_search(k) for k in
                                                              sector_keywords().get(sector.id, ())]),
                  label_words(sector.name), normalize_search(sector.name)) for sector in rows)


def _sectors_in_python(query: CatalogueQuery) -> list[dict[str, Any]]:
    """The same ranking over the 154 sectors (name and trade words), in memory."""
    patterns = [(re.compile(term_pattern(term)), re.compile(term_pattern(term, typos=False)),
                 re.compile(term_pattern(Term(term.words), typos=False)), len(term.words))
                for term in query.terms]
    phrases = [re.compile(term_pattern(Term(term.words, prefix=term.prefix))) for term in query.terms
               if len(term.words) > 1]
    ranked = []
    for hit, folded, size, name in _sector_texts():
        first = patterns[0][0].search(folded)
        if not first:
            continue
        words = 0
        for matching, _, _, count in patterns:
            if not matching.search(folded):
                break
            words += count
        exact = sum(bool(e.search(folded)) for _, e, _, _ in patterns)
        whole = sum(bool(w.search(folded)) for _, _, w, _ in patterns)
        phrase = sum(bool(p.search(folded)) for p in phrases)
        # Meilisearch ranks a match in the name above one in the trade words (attribute order)
        in_name = sum(bool(matching.search(name)) for matching, _, _, _ in patterns)
        position = len(WORD.findall(folded[:first.start()]))
        ranked.append(((-words, -exact, -phrase, -in_name, position, -whole, size, SECTOR_ID_OFFSET + hit["id"]),
                       hit))
    return [hit for _, hit in sorted(ranked, key=lambda item: item[0])[:query.sector_limit]]
