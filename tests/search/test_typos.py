"""Meilisearch's word matching as a pattern (search.typos), checked on words against the documented rules."""
from __future__ import annotations

from marche.search.typos import typo_budget, word_pattern


def matches(query: str, text: str, prefix: bool = False, max_typos: int = 2) -> bool:
    return bool(word_pattern(query, prefix, max_typos).search(text))


def test_budget_follows_word_length():
    assert [typo_budget(w) for w in ("lyon", "lille", "atelier1", "solidaire")] == [0, 1, 1, 2]


def test_whole_words_unless_last():
    assert matches("tri", "centre de tri")
    assert not matches("tri", "industrie")  # never inside a word
    assert not matches("tri", "triage")
    assert matches("tri", "triage", prefix=True)  # the last word of a query may start a word


def test_one_typo_from_five_letters_two_from_nine():
    assert matches("services", "service")  # a deletion
    assert matches("sarvice", "service")  # a substitution
    assert matches("sevrice", "service")  # a transposition counts once
    assert not matches("lylon", "lion")  # 5 letters: one typo, and lion is two away
    assert not matches("lyo", "lyon")
    assert matches("solidaire", "solidarite")  # two typos at nine letters
    assert not matches("solidaire", "solidarite", max_typos=1)


def test_a_first_letter_typo_costs_two():
    assert not matches("dervice", "service")  # 7 letters: one typo allowed, the first letter costs two
    assert matches("cnsertion", "insertion")  # 9 letters: two allowed
