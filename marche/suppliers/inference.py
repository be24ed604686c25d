"""Sectors and kinds of service deduced for imported structures, when the source gives none.

The public lists carry no sectors per structure (data/README.md). Until a structure declares its own,
we deduce sectors from its NAF code (`data/naf_secteurs.csv`) and from telling words of its name,
brand and description (`data/secteurs_mots.csv`); such sectors are stored as inferred and shown
« déduit ». The usual kind of service follows from the structure's kind. A claimed profile is never
touched by the import.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..core.text import normalize_search
from .models import ServiceKind, StructureKind

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
NAF_TABLE = DATA_DIR / "naf_secteurs.csv"
WORD_TABLE = DATA_DIR / "secteurs_mots.csv"
#: an expression ending with this matches any word that starts with it ("maraîch*": maraîchage, maraîcher)
PREFIX_MARK = "*"
#: a word of folded text: punctuation separates words ("nettoyage, espaces verts")
_WORD = re.compile(r"[a-z0-9]+")

#: what each kind usually sells: people made available (AI, ETTI, GEIQ, EATT) or services
KIND_SERVICES: dict[str, str] = {
    StructureKind.AI: ServiceKind.STAFFING,
    StructureKind.ETTI: ServiceKind.STAFFING,
    StructureKind.GEIQ: ServiceKind.STAFFING,
    StructureKind.EATT: ServiceKind.STAFFING,
    StructureKind.EI: ServiceKind.SERVICES,
    StructureKind.ACI: ServiceKind.SERVICES,
    StructureKind.EITI: ServiceKind.SERVICES,
    StructureKind.EA: ServiceKind.SERVICES,
    StructureKind.ESAT: ServiceKind.SERVICES,
}


@dataclass(frozen=True)
class Expression:
    """Folded words of one table line; the last may be a prefix."""

    words: tuple[str, ...]
    prefix: bool

    def matches_at(self, tokens: list[str], start: int) -> bool:
        window = tokens[start:start + len(self.words)]
        if len(window) < len(self.words):
            return False
        *heads, last = self.words
        if any(not _same_word(word, token) for word, token in zip(heads, window)):
            return False
        return window[-1].startswith(last) if self.prefix else _same_word(last, window[-1])


def _same_word(word: str, token: str) -> bool:
    """Whole words, singular or plural: "vélo" matches "vélos", never "vélodrome"."""
    return token == word or (token[:-1] == word and token[-1] in "sx")


@dataclass(frozen=True)
class WordTable:
    """The expressions, found from a text's words without trying each expression at each word."""

    #: (line order, expression, sector ids) by the expression's first word
    by_first_word: dict[str, list[tuple[int, Expression, tuple[int, ...]]]]
    #: one-word expressions ending with PREFIX_MARK, tried on every word
    prefixes: list[tuple[int, Expression, tuple[int, ...]]]

    def candidates(self, token: str) -> list[tuple[int, Expression, tuple[int, ...]]]:
        found = list(self.by_first_word.get(token, []))
        if token[-1:] in ("s", "x"):
            found += self.by_first_word.get(token[:-1], [])
        return found + [entry for entry in self.prefixes if token.startswith(entry[1].words[0])]


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)  # reference tables shipped with the code, fixed while a process runs
def naf_sectors() -> dict[str, tuple[int, ...]]:
    """NAF code (APE form, "8121Z") → sector ids, from data/naf_secteurs.csv."""
    table: dict[str, list[int]] = {}
    for row in _read(NAF_TABLE):
        table.setdefault(row["naf_code"], []).append(int(row["secteur_id"]))
    return {code: tuple(ids) for code, ids in table.items()}


@lru_cache(maxsize=1)
def word_sectors() -> WordTable:
    """Telling expressions (folded) → sector ids, from data/secteurs_mots.csv."""
    lines: dict[Expression, list[int]] = {}
    for row in _read(WORD_TABLE):
        text = row["expression"]
        expression = Expression(tuple(words_of(text.rstrip(PREFIX_MARK))), text.endswith(PREFIX_MARK))
        lines.setdefault(expression, []).append(int(row["secteur_id"]))
    table = WordTable({}, [])
    for order, (expression, ids) in enumerate(lines.items()):
        entry = (order, expression, tuple(ids))
        if expression.prefix and len(expression.words) == 1:
            table.prefixes.append(entry)
        else:
            table.by_first_word.setdefault(expression.words[0], []).append(entry)
    return table


def tables_digest() -> str:
    """Changes with either table: an import of an unchanged file must still run when they change."""
    digest = hashlib.sha256()
    for path in (NAF_TABLE, WORD_TABLE):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def words_of(text: str) -> list[str]:
    return _WORD.findall(normalize_search(text))


def sector_ids_for(naf_code: str | None) -> tuple[int, ...]:
    return naf_sectors().get((naf_code or "").replace(".", "").upper(), ())


def sector_ids_in_text(*texts: str | None) -> tuple[int, ...]:
    """Sectors named by whole words of the texts (accents and case folded), in the table's order."""
    tokens = words_of(" ".join(t for t in texts if t))
    table = word_sectors()
    matched = {(order, ids) for start, token in enumerate(tokens)
               for order, expression, ids in table.candidates(token) if expression.matches_at(tokens, start)}
    found: list[int] = []
    for _, ids in sorted(matched):
        found += [i for i in ids if i not in found]
    return tuple(found)


def inferred_sector_ids(naf_code: str | None, name: str | None, brand: str | None,
                        description: str | None) -> tuple[int, ...]:
    """The NAF code's sectors, plus those the words add (a multi-trade ACI names its workshops)."""
    ids = list(sector_ids_for(naf_code))
    ids += [i for i in sector_ids_in_text(name, brand, description) if i not in ids]
    return tuple(ids)


def services_for(kinds: list[str]) -> list[str]:
    return sorted({KIND_SERVICES[kind].value for kind in kinds if kind in KIND_SERVICES})
