"""« Décrivez votre besoin »: a need written in plain French read as CPV codes, sectors, a place and a duration.

`suggest_need(text)` reads the text once (a place through the directory's reading, a duration « 3 ans »,
codes typed « 90911200 », the words left without their stop words and without words that no catalogue
entry can match), then asks the catalogue index (`search.catalogue`), or its SQL translation when
Meilisearch cannot answer. The sectors are those whose name matches the words, then those our CPV →
sectors table gives for the codes found (`reference.cpv_sectors`). No external service is called.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..core.text import normalize_search
from ..geo.services import Territory
from ..reference.cpv_sectors import sector_ids
from . import catalogue, reading, service
from .catalogue import CatalogueHits, CatalogueQuery

#: longer texts are cut here (a pasted paragraph is read by its start)
MAX_LENGTH = 300
#: words that say nothing of what is bought
STOP_WORDS = frozenset({
    "a", "au", "aux", "avec", "ce", "ces", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les",
    "leur", "leurs", "nos", "notre", "ou", "par", "pour", "sur", "un", "une", "vos", "votre", "y", "sa", "son",
    "ses", "afin", "chez", "entre", "tous", "toutes", "tout", "toute", "besoin", "marche", "marches",
    "prestation", "prestations", "accord", "cadre", "achat", "achats", "consultation", "lot", "lots",
    "annee", "annees", "mois", "an", "ans", "duree", "pendant", "periode",
})
NUMBER_WORDS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
                "neuf": 9, "dix": 10, "douze": 12, "dix-huit": 18, "vingt-quatre": 24, "trente-six": 36,
                "quarante-huit": 48}
#: « 3 ans », « 36 mois », « deux années », « 1 an »
DURATION = re.compile(r"\b(\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) +
                      r")\s*(ans?|ann[ée]es?|mois)\b", re.I)
#: a duration longer than this is not a contract's (a typo, or a count of something else)
MAX_DURATION_MONTHS = 120
#: a CPV code typed among words: eight digits, with its check digit or not
CODE = re.compile(r"^(\d{8})(?:-\d)?$")
#: the start of a code, typed alone ("4521"); beside words, a number is a department or a postcode
CODE_START = re.compile(r"^\d{2,7}$")
CPV_LIMIT, SECTOR_LIMIT, SECTORS_SHOWN = 8, 8, 6


@dataclass(frozen=True)
class NeedSuggestion:
    #: {"code", "label", "nature", "level"}, the best first
    cpv: list[dict] = field(default_factory=list)
    #: {"id", "slug", "name", "group"}: sectors named by the words, then those of the codes found
    sectors: list[dict] = field(default_factory=list)
    place: Territory | None = None
    duration_months: int | None = None
    #: "meili" or "sql" (Meilisearch could not answer: the suggestions may be less relevant)
    backend: str = "meili"

    @property
    def empty(self) -> bool:
        return not (self.cpv or self.sectors or self.place or self.duration_months)


@dataclass(frozen=True)
class ReadNeed:
    """What the text says before any search: both backends translate `query`."""

    query: CatalogueQuery
    place: Territory | None = None
    duration_months: int | None = None


def _duration(text: str) -> tuple[int | None, str]:
    match = DURATION.search(text)
    if not match:
        return None, text
    number, unit = match.group(1).lower(), normalize_search(match.group(2))
    count = int(number) if number.isdigit() else NUMBER_WORDS[number]
    months = count if unit == "mois" else count * 12
    rest = text[:match.start()] + " " + text[match.end():]
    return (months if 0 < months <= MAX_DURATION_MONTHS else None), rest


def _place(text: str) -> tuple[Territory | None, str]:
    """The directory's reading of a place; a long text is read by its last words (« … à Roubaix »)."""
    tokens = text.split()
    head, tail = tokens[:-reading.MAX_WORDS], tokens[-reading.MAX_WORDS:]
    read = reading.read(" ".join(tail))
    if read.territory is None:
        return None, text
    return read.territory, " ".join(head + [read.words])


def read_need(text: str, cpv_limit: int = CPV_LIMIT, sector_limit: int = SECTOR_LIMIT) -> ReadNeed:
    """The text read: codes, duration, place, then the words (never raises on any text)."""
    text = (text or "")[:MAX_LENGTH].replace("\x00", " ")
    duration, text = _duration(text)
    codes, kept = [], []
    tokens = [token.strip(",;.()") for token in text.split()]
    if len(tokens) == 1 and CODE_START.match(tokens[0]):
        codes, tokens = [tokens[0]], []
    for token in tokens:
        match = CODE.match(token)
        if match:
            codes.append(match.group(1))
        else:
            kept.append(token)
    place, text = _place(" ".join(kept)) if kept else (None, "")
    words = [word for word in catalogue.WORD.findall(normalize_search(text)) if word not in STOP_WORDS]
    words = [word for position, word in enumerate(words) if catalogue.known(word, position == len(words) - 1)]
    query = CatalogueQuery(terms=() if codes else catalogue.terms_of(words), codes=tuple(dict.fromkeys(codes)),
                           cpv_limit=cpv_limit, sector_limit=sector_limit)
    return ReadNeed(query, place, duration)


def _merged_sectors(hits: CatalogueHits) -> list[dict]:
    """The sectors of the first code found (our table) that the words also name, then the other sectors the
    words name, then the other sectors of the first three codes: « nettoyage de bureaux » gives
    « Nettoyage de locaux » (the code's) before « Nettoyage urbain » (a shorter name)."""
    from ..reference.cpv_sectors import suggest_sectors

    named = {sector["id"]: sector for sector in hits.sectors}
    codes = [hit["code"] for hit in hits.cpv[:3] if sector_ids(hit["code"])]
    derived = [{"id": sector.id, "slug": sector.slug, "name": sector.name, "group": sector.group.name}
               for sector in suggest_sectors(codes)]
    first_code = set(sector_ids(codes[0])) if codes else set()
    ordered = ([sector for sector in derived if sector["id"] in named and sector["id"] in first_code] + hits.sectors
               + [sector for sector in derived if sector["id"] not in named])
    first = {}
    for sector in ordered:
        first.setdefault(sector["id"], sector)
    return list(first.values())[:SECTORS_SHOWN]


def search_catalogue(query: CatalogueQuery) -> CatalogueHits:
    """Meilisearch, or SQL when it cannot answer (the directory search's fallback and cool-down)."""
    if query.empty:
        return CatalogueHits(backend="sql" if service.meili_resting() else "meili")
    return service.with_fallback(lambda: catalogue.meili_search(query), lambda: catalogue.sql_search(query))


def suggest_need(text: str) -> NeedSuggestion:
    """CPV codes, sectors, a place and a duration for a need written in plain French."""
    read = read_need(text)
    hits = search_catalogue(read.query)
    return NeedSuggestion(cpv=hits.cpv, sectors=_merged_sectors(hits), place=read.place,
                          duration_months=read.duration_months, backend=hits.backend)
