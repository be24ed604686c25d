"""What people type in the search box, read: a place inside the words, a SIRET or SIREN typed with spaces.

`read(typed)` answers a `Reading`: the words left to search, the place read (a commune, a department)
or, when the name is shared, the candidates to choose from. The rules (README, « La recherche lit ce
que l'on tape »):

- the text is cut on spaces; a place is one run of consecutive typed words (at most MAX_SPAN) whose
  folded form (no accents, case, hyphens or apostrophes) is exactly a commune's or a department's name,
  or one word that is a department number (01–95, 2A, 2B, 971–976) or a postcode (an INSEE code when
  no commune has that postcode);
- the longest run wins (« Villeneuve-d'Ascq » before « Ascq »), a name before a number, then the last; a run made only of words that also
  name a sector or are common French words (« bois », « services », « la ») is never a place, nor is
  a name of fewer than 3 letters;
- a name shared by several places stays in the words and its candidates are offered (at most
  MAX_CANDIDATES), unless a department number or postcode typed beside it picks one (« Saint-Martin
  67 »; « Lille 59 » reads both as Lille); a department and a commune of that department with the same
  name (Paris) is the commune;
- one connecting word typed just before the place (« à », « sur », « dans »…) leaves with it;
- every typed word that is not the place is kept as typed, in its order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..core.identifiers import is_digits, normalize_digits
from ..core.text import normalize_search
from ..geo.places import DEPARTMENT_NUMBER, POSTCODE, named
from ..geo.services import Territory

#: the longest commune name in words ("saint germain de la riviere..." rarely passes 7)
MAX_SPAN = 8
MAX_CANDIDATES = 8
#: no place is looked for in a text with more words than this (a pasted paragraph is searched as it is)
MAX_WORDS = 12
MIN_NAME_LETTERS = 3
CONNECTORS = frozenset({"a", "au", "aux", "en", "sur", "dans", "vers", "pres", "de", "du", "d", "l"})
#: words searched for what they mean, never read as a place on their own
COMMON_WORDS = frozenset({
    "le", "la", "les", "l", "de", "des", "du", "d", "et", "ou", "a", "au", "aux", "en", "sur", "dans", "pour",
    "par", "avec", "sans", "un", "une", "service", "services", "entreprise", "insertion", "esat", "siae",
    "atelier", "association", "chantier", "bois", "vert", "verts", "jardin", "jardins", "nettoyage", "ecole",
    # procurement words that are also a department (Lot, Cher, Manche) or a commune (Mer, Plomb, Bar...)
    "lot", "lots", "cher", "manche", "mer", "plomb", "bar", "marche", "vente", "port", "sport", "ville",
})
_EDGE = re.compile(r"[^0-9a-z ]+")
_IDENTIFIER = re.compile(r"[0-9][0-9 .\u00a0\u202f-]*[0-9]")


@dataclass(frozen=True)
class Reading:
    typed: str
    #: the words left to search (the typed text when nothing was read)
    words: str
    #: the place read in the text
    territory: Territory | None = None
    #: the places a shared name may mean (nothing read then)
    candidates: tuple[Territory, ...] = ()
    #: the words to search once a candidate is chosen (the typed text without the shared name)
    candidate_words: str = ""
    #: the text was a SIRET or SIREN written with spaces, dots or dashes
    identifier: bool = False

    @property
    def changed(self) -> bool:
        return self.territory is not None or self.identifier

    def as_json(self) -> dict:
        body: dict = {"words": self.words}
        if self.territory:
            body["territory"] = self.territory.ref
            body["territory_label"] = self.territory.label
        if self.candidates:
            body["candidates"] = [{"territory": c.ref, "label": c.label} for c in self.candidates]
        return body


def fold(word: str) -> str:
    """A typed word as place names are stored: "Villeneuve-d'Ascq," → "villeneuve d ascq"."""
    return " ".join(_EDGE.sub(" ", normalize_search(word)).split())


@lru_cache(maxsize=1)  # sectors are reference data, fixed while a process runs
def search_words() -> frozenset[str]:
    """Words of the sector names and the common words: alone, they are what is searched, not where."""
    from ..extensions import db
    from ..reference.models import Sector

    words = set(COMMON_WORDS)
    for name in db.session.execute(db.select(Sector.name)).scalars():
        words.update(fold(name).split())
    return frozenset(words)


def identifier(typed: str) -> str | None:
    """The 9 or 14 digits of a SIREN or SIRET typed with spaces, dots or dashes ("123 456 789")."""
    text = typed.strip()
    if not _IDENTIFIER.fullmatch(text):
        return None
    digits = normalize_digits(text)
    return digits if is_digits(digits) and len(digits) in (9, 14) else None


def _is_name(key: str, vocabulary: frozenset[str]) -> bool:
    letters = sum(char.isalpha() for char in key)
    return letters >= MIN_NAME_LETTERS and not all(word in vocabulary for word in key.split())


def _without(tokens: list[str], drop: set[int]) -> str:
    return " ".join(token for position, token in enumerate(tokens) if position not in drop)


def _narrowed(options: list[Territory], number: str, found) -> list[Territory]:
    """The options a department number or postcode typed beside the name keeps."""
    if DEPARTMENT_NUMBER.fullmatch(number):
        return [t for t in options if t.kind == "commune" and found.department_of.get(t.code) == number.upper()]
    in_number = {t.ref for t in found.by_number.get(number, [])}
    return [t for t in options if t.ref in in_number]


def _one_place(options: list[Territory], found) -> Territory | None:
    """The place when the options name only one (a department and its own same-named commune: the commune)."""
    if len(options) == 1:
        return options[0]
    communes = [t for t in options if t.kind == "commune"]
    departments = {t.code for t in options if t.kind == "dep"}
    if len(communes) == 1 and len(departments) == 1 and found.department_of.get(communes[0].code) in departments:
        return communes[0]
    return None


def read(typed: str, places: bool = True) -> Reading:
    """The words and the place in what was typed (module docstring); never raises on any text. Without
    `places` (a territory is chosen already), only an identifier is read."""
    typed = typed.strip()
    digits = identifier(typed)
    if digits:
        return Reading(typed, digits, identifier=digits != typed)
    if not places:
        return Reading(typed, typed)
    tokens = typed.split()
    if not tokens or len(tokens) > MAX_WORDS:
        return Reading(typed, typed)
    folded = [fold(token) for token in tokens]
    vocabulary = search_words()
    spans: dict[tuple[int, int], str] = {}
    numbers: set[str] = set()
    for start in range(len(tokens)):
        for end in range(start + 1, min(len(tokens), start + MAX_SPAN) + 1):
            key = " ".join(part for part in folded[start:end] if part)
            if not key or not folded[start] or not folded[end - 1]:
                continue
            if end - start == 1 and (DEPARTMENT_NUMBER.fullmatch(key) or POSTCODE.fullmatch(key)):
                numbers.add(key)
                spans[(start, end)] = key
            elif _is_name(key, vocabulary):
                spans[(start, end)] = key
    names = {key for key in spans.values() if key not in numbers}
    if not spans:
        return Reading(typed, typed)
    found = named(names, numbers)

    def options(key: str) -> list[Territory]:
        return found.by_number.get(key, []) if key in numbers else found.by_name.get(key, [])

    matched = [(span, key) for span, key in spans.items() if options(key)]
    if not matched:
        return Reading(typed, typed)
    # the longest run, a name before a number, then the rightmost ("nettoyage Lille")
    (start, end), key = max(matched, key=lambda item: (item[0][1] - item[0][0], item[1] not in numbers, item[0][0]))
    choices, drop = options(key), set(range(start, end))
    place = _one_place(choices, found)
    for beside in (end, start - 1):  # a department number or postcode typed next to the name
        if key not in numbers and 0 <= beside < len(tokens) and folded[beside] in numbers:
            narrowed = _narrowed(choices if place is None else [place], folded[beside], found)
            if len(narrowed) == 1:  # it picks one of a shared name's places, or repeats the place's own
                place, drop = narrowed[0], drop | {beside}
                break
    if place is None:
        return Reading(typed, typed, candidates=tuple(choices[:MAX_CANDIDATES]),
                       candidate_words=_without(tokens, _with_connector(folded, drop)))
    return Reading(typed, _without(tokens, _with_connector(folded, drop)), territory=place)


def _with_connector(folded: list[str], drop: set[int]) -> set[int]:
    before = min(drop) - 1
    return drop | {before} if before >= 0 and folded[before] in CONNECTORS else drop
