"""rules.py: the figures of DOMAIN.md, each with its article, source and dates; the buyer categories agree with
accounts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marche.accounts.models import BuyerCategory
from marche.clauses import rules


def test_buyer_categories_are_those_of_accounts_plus_private():
    assert list(rules.PUBLIC_BUYER_CATEGORIES) == [c.value for c in BuyerCategory]
    assert rules.BUYER_CATEGORIES[-1] == "private"


def test_every_figure_names_its_article_source_and_start():
    figures = [v for v in vars(rules).values() if isinstance(v, rules.Figure)]
    assert len(figures) >= 10
    for figure in figures:
        assert figure.article and figure.source and isinstance(figure.applies_from, date)
        assert isinstance(figure.value, Decimal)


def test_eu_thresholds_are_in_force_for_2026_and_2027_only():
    figure = rules.EU_WORKS
    assert figure.value == 5_404_000
    assert not figure.in_force(date(2025, 12, 31))
    assert figure.in_force(date(2026, 1, 1)) and figure.in_force(date(2027, 12, 31))
    assert not figure.in_force(date(2028, 1, 1))


def test_french_thresholds_start_on_1_april_2026():
    assert rules.NO_COMPETITION_SUPPLIES_SERVICES.value == 60_000
    assert not rules.NO_COMPETITION_SUPPLIES_SERVICES.in_force(date(2026, 3, 31))
    assert rules.NO_COMPETITION_SUPPLIES_SERVICES.in_force(date(2026, 4, 1))
    assert rules.NO_COMPETITION_WORKS.value == 100_000 and rules.PUBLICITY.value == 90_000


def test_obligation_dates():
    assert rules.SOCIAL_CONSIDERATION.applies_from == date(2026, 8, 22)
    assert rules.ENVIRONMENTAL_AWARD_CRITERION.applies_from == date(2026, 8, 21)
    assert rules.ENVIRONMENTAL_EXECUTION_CONDITION.applies_from == date(2026, 8, 22)
    assert [o.code for o in rules.OBLIGATIONS] == ["social_consideration", "environmental_award_criterion",
                                                   "environmental_execution_condition"]
    assert len(rules.SOCIAL_CONSIDERATION.exceptions) == 3


def test_defaults_are_marked_as_not_law():
    for defaults in (*rules.DEFAULTS_BY_NATURE.values(), *rules.DEFAULTS_BY_SECTOR_GROUP.values()):
        for default in (defaults.labour_share, defaults.insertion_rate, defaults.hourly_cost):
            assert isinstance(default, rules.Default) and default.source


def test_figures_and_defaults_cannot_be_changed_at_run_time():
    import dataclasses

    import pytest

    for record, name in ((rules.EU_WORKS, "value"), (rules.SOCIAL_CONSIDERATION, "applies_from"),
                         (rules.DEFAULTS_BY_NATURE["works"].labour_share, "value"),
                         (rules.DEFAULTS_BY_NATURE["works"], "hourly_cost")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, name, None)


def test_the_1607_hours_apply_from_the_solidarity_day_law():
    # loi n° 2004-626 du 30 juin 2004: 1 600 h + the 7 h of the journée de solidarité, from 1 July 2004
    assert rules.ETP_HOURS.applies_from == date(2004, 7, 1)
    assert rules.ETP_HOURS.in_force(date(2004, 7, 1)) and not rules.ETP_HOURS.in_force(date(2004, 6, 30))


def test_eu_threshold_without_flags_is_the_ordinary_one():
    day = date(2026, 9, 1)
    assert rules.eu_threshold("state", "services", day).value == 140_000
    assert rules.eu_threshold("local_authority", "services", day).value == 216_000
    assert rules.eu_threshold("local_authority", "supplies", day, defence=True).value == 432_000


def test_eu_threshold_flags_are_keyword_only():
    """defence and specific_services cannot be swapped silently by position."""
    import pytest

    with pytest.raises(TypeError):
        rules.eu_threshold("state", "supplies", date(2026, 9, 1), True)
