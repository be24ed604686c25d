"""Meilisearch's word matching written as a regular expression, for the SQL fallback to find the same words.

Meilisearch matches words, not substrings: a query word matches a word of the document within its typo
budget (none under 5 letters, one from 5, two from 9; Damerau edits, a change of the first letter costs
two), and the last word of the query also matches as the start of a word. `word_pattern` lists those
variants as one alternation; PostgreSQL runs it against `search_text` (through the trigram index) and
Python against sector names.
"""
from __future__ import annotations

import re

#: Meilisearch defaults (typoTolerance.minWordSizeForTypos): one typo from 5 letters, two from 9
ONE_TYPO, TWO_TYPOS = 5, 9
#: one letter, whichever
ANY = None


def typo_budget(word: str) -> int:
    return 2 if len(word) >= TWO_TYPOS else 1 if len(word) >= ONE_TYPO else 0


def _edits(tokens: tuple, start: int) -> set[tuple]:
    """Every one-edit variant (deletion, substitution, insertion, transposition) from position `start`."""
    variants: set[tuple] = set()
    n = len(tokens)
    for i in range(start, n):
        variants.add(tokens[:i] + tokens[i + 1:])
        variants.add(tokens[:i] + (ANY,) + tokens[i + 1:])
        if i + 1 < n and tokens[i] != tokens[i + 1]:
            variants.add(tokens[:i] + (tokens[i + 1], tokens[i]) + tokens[i + 2:])
    for i in range(start, n + 1):
        variants.add(tokens[:i] + (ANY,) + tokens[i:])
    return variants


def variants(word: str, max_typos: int = 2) -> set[tuple]:
    """The word and its variants within Meilisearch's budget (a change of the first letter costs two),
    capped at `max_typos`."""
    tokens = tuple(word)
    budget = min(typo_budget(word), max_typos)
    found, frontier = {tokens}, {tokens}
    for _ in range(budget):
        frontier = {variant for current in frontier for variant in _edits(current, 1)}
        found |= frontier
    if budget == 2:
        found |= _edits(tokens, 0)
    return {variant for variant in found if variant}


def _alternation(word: str, any_letter: str, max_typos: int) -> str:
    return "|".join(sorted({"".join(any_letter if t is ANY else re.escape(t) for t in variant)
                            for variant in variants(word, max_typos)}))


def word_pattern_sql(word: str, prefix: bool, max_typos: int = 2) -> str:
    """A PostgreSQL regular expression (ARE): a word of the text within the budget (or starting so)."""
    return r"\m(" + _alternation(word, r"\w", max_typos) + ")" + ("" if prefix else r"\M")


def vocabulary_pattern_sql(word: str, prefix: bool, max_typos: int = 2) -> str:
    """The same words as `word_pattern_sql`, as a pattern for one whole word of the text (a word that
    is one of the variants, or starts with one when `prefix`)."""
    return "^(" + _alternation(word, r"\w", max_typos) + ")" + ("" if prefix else "$")


def word_pattern(word: str, prefix: bool, max_typos: int = 2) -> re.Pattern:
    """The same pattern for Python's `re`."""
    return re.compile(r"\b(?:" + _alternation(word, r"\w", max_typos) + ")" + ("" if prefix else r"\b"))
