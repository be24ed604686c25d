"""The stored clause document of a lot: read, checked, written back the same, and read by the legal check,
the annex and tender search."""
from __future__ import annotations

from decimal import Decimal

import pytest

from marche.clauses import legal
from marche.clauses.spec import CLAUSE_TYPES, ClauseSpec, ClauseSpecError

INSERTION = {"amount_basis": "1000000", "labour_share": "0.5", "insertion_rate": "0.05", "hourly_cost": "30",
             "modes": ["direct_hire", "made_available"], "publics": ["long_term_jobseeker"],
             "penalty_per_hour": "30"}


def test_full_document_round_trips_and_feeds_the_check():
    doc = {"insertion": INSERTION, "reservation": "siae", "insertion_object": False,
           "social_criterion": {"weight": "10", "description": ""}, "environmental_conditions": ["reuse"],
           "environmental_free_text": "", "environmental_criterion": {"weight": "15", "description": "bilan"},
           "waivers": []}
    spec = ClauseSpec.from_json(doc)
    assert ClauseSpec.from_json(spec.to_json()) == spec
    # 1 000 000 × 0,5 × 0,05 ÷ 30 = 833,33… → 833 h, ÷ 1 607 = 0,518… → 0,52 ETP
    assert spec.insertion.hours == Decimal(833) and spec.insertion.etp == Decimal("0.52")
    assert spec.clause_types() == list(CLAUSE_TYPES)[:2] + ["social_criterion", "environmental_condition",
                                                            "environmental_criterion"]
    lot = spec.lot_clauses("Lot 1")
    assert lot.insertion_clause and lot.reservation == "siae" and lot.environmental_condition
    assert lot.social_criterion_weight == Decimal(10) and lot.environmental_criterion_weight == Decimal(15)


def test_empty_document_is_a_lot_without_clauses():
    spec = ClauseSpec.from_json({})
    assert spec.clause_types() == [] and spec.to_json()["insertion"] is None
    assert legal.check(legal.TenderFacts("private", "services", Decimal(1), __import__("datetime").date(2026, 9, 1)),
                       [spec.lot_clauses()]).blocking == ()


def test_hours_written_by_hand_need_a_reason_and_win_over_the_calculator():
    with pytest.raises(ClauseSpecError) as refused:
        ClauseSpec.from_json({"insertion": {**INSERTION, "hours_override": "900"}})
    assert refused.value.field == "override_reason"
    spec = ClauseSpec.from_json({"insertion": {**INSERTION, "hours_override": "900", "override_reason": "ANRU"}})
    assert spec.insertion.hours == Decimal(900) and spec.insertion.computed().hours == Decimal(833)


@pytest.mark.parametrize("doc, field", [
    ({"insertion": {**INSERTION, "labour_share": "1.01"}}, "insertion_labour_share"),
    ({"insertion": {**INSERTION, "modes": []}}, "modes"),
    ({"insertion": {**INSERTION, "publics": ["nobody"]}}, "publics"),
    ({"insertion": {**INSERTION, "hours_override": "0", "override_reason": "x"}}, "hours_override"),
    ({"social_criterion": {"weight": "60"}, "environmental_criterion": {"weight": "40.01"}}, "weights"),
    ({"social_criterion": {"weight": "0"}}, "social_criterion_weight"),
    ({"environmental_conditions": ["free_text"]}, "environmental_free_text"),
    ({"reservation": "everyone"}, "reservation"),
    ({"waivers": [{"obligation": "social_consideration", "exception": "no_link", "reason": " "}]}, "waivers"),
])
def test_bad_documents_are_refused_naming_the_field(doc, field):
    with pytest.raises(ClauseSpecError) as refused:
        ClauseSpec.from_json(doc)
    assert refused.value.field == field and refused.value.message


def test_weights_summing_to_exactly_100_are_accepted():
    spec = ClauseSpec.from_json({"social_criterion": {"weight": "60"}, "environmental_criterion": {"weight": "40"}})
    assert spec.social_criterion.weight + spec.environmental_criterion.weight == Decimal(100)
