"""The legal check at every threshold's edge, for each buyer category and nature, and around 21/22 August 2026.

Expectations are computed here from DOMAIN.md §3's figures, written again below (not read back from rules.py):
if rules.py drifts from the texts, these tests say so."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from marche.clauses import legal
from marche.clauses.legal import LegalCheckError, LotClauses, TenderFacts, Waiver
from marche.clauses.rules import ENVIRONMENTAL_AWARD_CRITERION

CENT = Decimal("0.01")
AFTER = date(2026, 9, 1)
#: DOMAIN.md §3, EU thresholds 2026-2027 (€ HT)
SUPPLIES_SERVICES = {"state": 140_000, "local_authority": 216_000, "public_health": 216_000,
                     "social_landlord": 216_000, "other": 216_000, "contracting_entity": 432_000}
WORKS = 5_404_000
SPECIFIC = {category: 1_000_000 if category == "contracting_entity" else 750_000 for category in SUPPLIES_SERVICES}
SOCIAL_FROM, ENV_CRITERION_FROM, ENV_CONDITION_FROM = date(2026, 8, 22), date(2026, 8, 21), date(2026, 8, 22)
CODES = ("social_consideration", "environmental_award_criterion", "environmental_execution_condition")


def expected_threshold(category: str, nature: str, specific: bool = False) -> int:
    if nature == "works":
        return WORKS
    if specific and nature == "services":
        return SPECIFIC[category]
    return SUPPLIES_SERVICES[category]


def expected_required(category, nature, amount, launch, defence=False, specific=False) -> dict[str, bool]:
    public = category != "private" and not defence
    return {
        "social_consideration": public and launch >= SOCIAL_FROM
        and amount >= expected_threshold(category, nature, specific),
        "environmental_award_criterion": public and launch >= ENV_CRITERION_FROM,
        "environmental_execution_condition": public and launch >= ENV_CONDITION_FROM,
    }


def required(result) -> dict[str, bool]:
    return {o.code: o.required for o in result.obligations}


CASES = [(category, nature, specific) for category in SUPPLIES_SERVICES for nature in ("works", "supplies", "services")
         for specific in ((False, True) if nature == "services" else (False,))]


@pytest.mark.parametrize("category, nature, specific", CASES)
@pytest.mark.parametrize("offset", [-CENT, Decimal(0)])
def test_social_consideration_at_the_threshold_edge(category, nature, specific, offset):
    amount = Decimal(expected_threshold(category, nature, specific)) + offset
    result = legal.check(TenderFacts(category, nature, amount, AFTER, specific_services=specific))
    assert required(result) == expected_required(category, nature, amount, AFTER, specific=specific)
    social = result.obligations[0]
    assert social.required is (offset == 0)
    assert social.threshold == expected_threshold(category, nature, specific)
    assert social.article == "L2112-2-1"
    assert ("au moins égal" if offset == 0 else "inférieur") in social.reason


@pytest.mark.parametrize("nature", ["works", "supplies", "services"])
@pytest.mark.parametrize("amount", [Decimal(0), Decimal(10**9)])
def test_private_buyers_and_defence_have_no_obligation(nature, amount):
    private = legal.check(TenderFacts("private", nature, amount, AFTER))
    assert required(private) == dict.fromkeys(CODES, False)
    assert all("privé" in o.reason for o in private.obligations)
    for category in SUPPLIES_SERVICES:
        defence = legal.check(TenderFacts(category, nature, amount, AFTER, defence=True))
        assert required(defence) == dict.fromkeys(CODES, False)
        assert all("défense" in o.reason for o in defence.obligations)


@pytest.mark.parametrize("launch", [date(2026, 8, 20), date(2026, 8, 21), date(2026, 8, 22), date(2026, 8, 23)])
@pytest.mark.parametrize("category", list(SUPPLIES_SERVICES))
def test_around_21_and_22_august_2026(launch, category):
    amount = Decimal(WORKS)  # at the threshold of every nature
    result = legal.check(TenderFacts(category, "works", amount, launch))
    assert required(result) == expected_required(category, "works", amount, launch)
    # the day before each date: not yet; the day itself: required
    assert required(result)["environmental_award_criterion"] is (launch >= date(2026, 8, 21))
    assert required(result)["social_consideration"] is (launch >= date(2026, 8, 22))


def test_environmental_lines_apply_at_any_amount():
    result = legal.check(TenderFacts("local_authority", "supplies", Decimal("0.01"), AFTER))
    assert required(result) == {"social_consideration": False, "environmental_award_criterion": True,
                                "environmental_execution_condition": True}
    assert result.obligations[1].threshold is None and "tout montant" in result.obligations[1].reason
    assert "un critère d'attribution environnemental" in result.obligations[1].reason
    assert "une condition d'exécution environnementale" in result.obligations[2].reason


def test_before_the_date_the_reason_names_it():
    result = legal.check(TenderFacts("state", "works", Decimal(WORKS), SOCIAL_FROM - timedelta(days=1)))
    assert "22/08/2026" in result.obligations[0].reason and "21/08/2026" in result.obligations[0].reason


def test_after_2027_the_latest_threshold_is_used_and_said():
    result = legal.check(TenderFacts("state", "supplies", Decimal(140_000), date(2028, 1, 1)))
    assert result.obligations[0].required and "le plus récent connu" in result.obligations[0].reason


# --- lots ---------------------------------------------------------------------------------------

FACTS = TenderFacts("local_authority", "services", Decimal(216_000), AFTER)
COMPLETE = dict(environmental_condition=True, environmental_criterion_weight=Decimal(20))


@pytest.mark.parametrize("social", [dict(insertion_clause=True), dict(social_criterion_weight=Decimal(10)),
                                    dict(reservation="siae"), dict(reservation="disability"),
                                    dict(reservation="both"), dict(insertion_object=True)])
def test_each_social_means_satisfies_the_line(social):
    result = legal.check(FACTS, [LotClauses("Lot 1", **social, **COMPLETE)])
    assert [o.status for o in result.obligations] == ["satisfied"] * 3
    assert result.blocking == ()


def test_one_lot_missing_blocks_and_is_named():
    lots = [LotClauses("Espaces verts", insertion_clause=True, **COMPLETE), LotClauses("Propreté", **COMPLETE)]
    result = legal.check(FACTS, lots)
    social = result.obligations[0]
    assert social.status == "missing"
    assert [o.status for o in social.lots] == ["satisfied", "missing"]
    assert result.blocking == ("Considération sociale obligatoire (L2112-2-1) manquante : Propreté.",)


def test_a_social_criterion_of_weight_zero_does_not_count():
    result = legal.check(FACTS, [LotClauses(social_criterion_weight=Decimal(0), **COMPLETE)])
    assert result.obligations[0].status == "missing"


def test_a_recorded_exception_waives_the_social_line():
    waiver = Waiver("social_consideration", "no_link", "Fourniture de licences logicielles")
    result = legal.check(FACTS, [LotClauses(waivers=(waiver,), **COMPLETE)])
    assert result.obligations[0].status == "waived" and result.blocking == ()
    assert "Fourniture de licences logicielles" in result.obligations[0].lots[0].detail


def test_no_lot_is_one_implicit_lot_without_clauses():
    result = legal.check(FACTS, [])
    assert [o.status for o in result.obligations] == ["missing"] * 3
    assert len(result.blocking) == 3


def test_a_line_not_required_is_not_blocking():
    result = legal.check(TenderFacts("private", "works", Decimal(10**7), AFTER), [LotClauses()])
    assert [o.status for o in result.obligations] == ["not_required"] * 3 and result.blocking == ()


@pytest.mark.parametrize("lot, words", [
    (LotClauses(social_criterion_weight=Decimal(60), environmental_criterion_weight=Decimal("40.01")),
     "dépasse 100 % (100,01 %)"),
    (LotClauses(social_criterion_weight=Decimal(101)), "entre 0 et 100"),
    (LotClauses(social_criterion_weight=Decimal(-1)), "entre 0 et 100"),
    (LotClauses(waivers=(Waiver("social_consideration", "no_link", "  "),)), "motivez"),
    (LotClauses(waivers=(Waiver("social_consideration", "because", "x"),)), "exceptions prévues"),
    (LotClauses(waivers=(Waiver("environmental_execution_condition", "no_link", "x"),)), "aucune exception"),
    (LotClauses(waivers=(Waiver("unknown", "no_link", "x"),)), "inconnue"),
    (LotClauses(reservation="esat"), "réservation inconnue"),
])
def test_bad_lot_input_is_refused_in_french(lot, words):
    with pytest.raises(LegalCheckError) as caught:
        legal.check(FACTS, [lot])
    assert words in caught.value.message


def test_weights_of_exactly_100_are_accepted():
    lot = LotClauses(social_criterion_weight=Decimal(60), environmental_criterion_weight=Decimal(40),
                     environmental_condition=True)
    assert legal.check(FACTS, [lot]).blocking == ()


@pytest.mark.parametrize("facts, field", [
    (TenderFacts("ministry", "works", Decimal(1), AFTER), "buyer_category"),
    (TenderFacts("state", "concession", Decimal(1), AFTER), "nature"),
    (TenderFacts("state", "works", Decimal(-1), AFTER), "amount"),
    (TenderFacts("state", "works", Decimal(1), AFTER, procedure="Gré à gré"), "procedure"),
])
def test_bad_facts_are_refused(facts, field):
    with pytest.raises(LegalCheckError) as caught:
        legal.check(facts)
    assert caught.value.field == field


# --- procedure --------------------------------------------------------------------------------

def procedure(category, nature, amount, launch=AFTER, name=None, **kwargs):
    return legal.check(TenderFacts(category, nature, Decimal(amount), launch, procedure=name, **kwargs)).procedure


@pytest.mark.parametrize("category, nature", [(c, n) for c in SUPPLIES_SERVICES for n in ("works", "supplies")])
def test_adapted_procedure_fits_below_the_eu_threshold_only(category, nature):
    threshold = Decimal(expected_threshold(category, nature))
    below = procedure(category, nature, threshold - CENT, name=legal.ADAPTED)
    at = procedure(category, nature, threshold, name=legal.ADAPTED)
    assert below.fits is True and below.warning is None
    assert at.fits is False and "ne correspond pas" in at.warning
    assert procedure(category, nature, threshold, name=legal.OPEN_TENDER).fits is True


@pytest.mark.parametrize("nature, limit", [("supplies", 60_000), ("services", 60_000), ("works", 100_000)])
def test_no_competition_below_the_french_thresholds_from_april_2026(nature, limit):
    assert procedure("local_authority", nature, Decimal(limit) - CENT, name=legal.NO_COMPETITION).fits is True
    assert procedure("local_authority", nature, limit, name=legal.NO_COMPETITION).fits is False
    # before 1 April 2026 the figure is not known here: not judged
    early = procedure("local_authority", nature, 1000, launch=date(2026, 3, 31), name=legal.NO_COMPETITION)
    assert early.fits is None and early.warning is None


def test_publicity_note_from_90000():
    assert not any("R2131-12" in n for n in procedure("other", "supplies", Decimal(90_000) - CENT).notes)
    assert any("R2131-12" in n for n in procedure("other", "supplies", 90_000).notes)


def test_insertion_object_and_specific_services_allow_the_adapted_procedure_at_any_amount():
    facts = TenderFacts("state", "services", Decimal(10**7), AFTER, procedure=legal.ADAPTED)
    assert legal.check(facts, [LotClauses(insertion_object=True, **COMPLETE)]).procedure.fits is True
    assert procedure("state", "services", 10**7, name=legal.ADAPTED, specific_services=True).fits is True


def test_private_buyers_choose_their_procedure():
    advice = procedure("private", "works", 10**8, name=legal.ADAPTED)
    assert advice.applies is False and advice.fits is None


@pytest.mark.parametrize("category", [c for c in SUPPLIES_SERVICES if c != "contracting_entity"])
@pytest.mark.parametrize("nature", ["supplies", "services"])
def test_defence_supplies_and_services_use_the_432000_threshold_for_the_procedure(category, nature):
    below = procedure(category, nature, Decimal(432_000) - CENT, name=legal.ADAPTED, defence=True)
    at = procedure(category, nature, 432_000, name=legal.ADAPTED, defence=True)
    assert below.fits is True and at.fits is False


def test_each_environmental_line_is_satisfied_by_its_own_clause_only():
    criterion_only = legal.check(FACTS, [LotClauses(insertion_clause=True,
                                                    environmental_criterion_weight=Decimal(10))])
    assert [o.status for o in criterion_only.obligations] == ["satisfied", "satisfied", "missing"]
    condition_only = legal.check(FACTS, [LotClauses(insertion_clause=True, environmental_condition=True)])
    assert [o.status for o in condition_only.obligations] == ["satisfied", "missing", "satisfied"]


def test_errors_name_the_lot_by_its_title_or_its_number():
    with pytest.raises(LegalCheckError) as titled:
        legal.check(FACTS, [LotClauses("Propreté", social_criterion_weight=Decimal(101))])
    assert titled.value.message.startswith("Propreté : ")
    with pytest.raises(LegalCheckError) as numbered:
        legal.check(FACTS, [LotClauses("A"), LotClauses(social_criterion_weight=Decimal(101))])
    assert numbered.value.message.startswith("Lot 2 : ")



def test_records_are_frozen():
    import dataclasses

    for record in (legal.Waiver, LotClauses, TenderFacts, legal.LotOutcome, legal.ObligationResult,
                   legal.ProcedureCheck, legal.LegalCheck):
        assert record.__dataclass_params__.frozen, record
    with pytest.raises(dataclasses.FrozenInstanceError):
        FACTS.amount = Decimal(0)


def test_an_untitled_lot_is_named_by_its_number_in_the_outcomes():
    result = legal.check(FACTS, [LotClauses(), LotClauses("B")])
    assert [o.title for o in result.obligations[0].lots] == ["Lot 1", "B"]


def test_public_buyers_get_procedure_advice_and_its_notes():
    advice = procedure("state", "services", 10**7, name=legal.ADAPTED, specific_services=True)
    assert advice.applies is True
    assert any("Services sociaux et autres services spécifiques" in n for n in advice.notes)
    assert not any("R2123-1" in n for n in advice.notes)
    facts = TenderFacts("state", "services", Decimal(10**7), AFTER, procedure=legal.ADAPTED)
    insertion = legal.check(facts, [LotClauses(insertion_object=True, **COMPLETE)]).procedure
    assert any("Marché d'insertion (R2123-1 3°)" in n for n in insertion.notes)
    with pytest.raises(TypeError):
        legal.check_procedure(facts, Decimal(1), True)


def test_environmental_lines_never_carry_a_threshold():
    for launch in (date(2026, 8, 20), AFTER):
        result = legal.check(TenderFacts("state", "works", Decimal(WORKS), launch))
        assert result.obligations[1].threshold is None and result.obligations[2].threshold is None
        assert result.obligations[0].threshold == WORKS


def test_unknown_values_are_echoed_on_40_characters_at_most():
    with pytest.raises(LegalCheckError) as nature:
        legal.check(TenderFacts("state", "n" * 50, Decimal(1), AFTER))
    assert f"« {'n' * 40} »" in nature.value.message
    with pytest.raises(LegalCheckError) as waiver:
        legal.check(FACTS, [LotClauses(waivers=(Waiver("w" * 50, "no_link", "x"),))])
    assert f"« {'w' * 40} »" in waiver.value.message


def test_amounts_in_reasons_show_cents_only_when_there_are_some():
    below = legal.check(TenderFacts("state", "supplies", Decimal("139999.99"), AFTER)).obligations[0].reason
    at = legal.check(TenderFacts("state", "supplies", Decimal(140_000), AFTER)).obligations[0].reason
    assert "139\u202f999,99 € HT" in below and "140\u202f000 € HT" in at and "140\u202f000,00" not in at


def _environmental_outcome(facts: TenderFacts, weight: str, cost: bool) -> tuple[str, str]:
    lot = LotClauses(insertion_clause=True, environmental_condition=True, environmental_criterion_weight=Decimal(weight),
                     environmental_criterion_is_cost=cost)
    result = next(o for o in legal.check(facts, [lot]).obligations if o.code == "environmental_award_criterion")
    return result.status, result.lots[0].detail


@pytest.mark.parametrize("weight,cost,expected", [
    ("100", True, "satisfied"),          # the global cost, environmental characteristics included: may stand alone
    ("100", False, "missing"),           # a single criterion that is not a cost: refused (price alone no longer)
    ("99.99", False, "satisfied"),       # another criterion weighs the rest: the environmental one counts
    ("99.99", True, "satisfied"),
])
def test_a_single_criterion_may_only_be_the_cost_including_environmental_characteristics(weight, cost, expected):
    status, detail = _environmental_outcome(FACTS, weight, cost)
    assert status == expected
    assert ("un critère unique ne peut être que le coût" in detail) is (expected == "missing")
    assert ("R2152-7 1°" in detail) is (expected == "missing")


def test_the_single_criterion_rule_binds_from_the_decrets_date_only():
    """Before 21 August 2026 the environmental award criterion is not required, so a lot weighing it 100 % is not
    blocked by it; from that date it is."""
    day = ENVIRONMENTAL_AWARD_CRITERION.applies_from
    before = TenderFacts("state", "supplies", Decimal(10_000), day - timedelta(days=1))
    on = TenderFacts("state", "supplies", Decimal(10_000), day)
    lot = LotClauses(insertion_clause=True, environmental_condition=True, environmental_criterion_weight=Decimal(100))
    assert "environmental_award_criterion" not in {o.code for o in legal.check(before, [lot]).obligations
                                                   if o.status == "missing"}
    assert any("Critère d'attribution environnemental" in line for line in legal.check(on, [lot]).blocking)


def test_the_2026_2027_thresholds_hold_until_31_december_2027_included():
    last = legal.check(TenderFacts("state", "supplies", Decimal(140_000), date(2027, 12, 31))).obligations[0]
    assert last.required and "le plus récent connu" not in last.reason


def test_only_insertion_object_lots_allow_the_adapted_procedure_above_the_threshold():
    facts = TenderFacts("state", "services", Decimal(10**7), AFTER, procedure=legal.ADAPTED)
    assert legal.check(facts, [LotClauses(insertion_clause=True, **COMPLETE)]).procedure.fits is False
    mixed = [LotClauses(insertion_object=True, **COMPLETE), LotClauses(insertion_clause=True, **COMPLETE)]
    assert legal.check(facts, mixed).procedure.fits is False


@pytest.mark.parametrize("facts, lot, echoed", [
    (TenderFacts("c" * 50, "works", Decimal(1), AFTER), None, "c" * 40),
    (TenderFacts("state", "works", Decimal(1), AFTER, procedure="p" * 80), None, "p" * 60),
    (FACTS, LotClauses(reservation="r" * 50), "r" * 30),
])
def test_other_unknown_values_are_echoed_bounded(facts, lot, echoed):
    with pytest.raises(LegalCheckError) as caught:
        legal.check(facts, None if lot is None else [lot])
    assert f"« {echoed} »" in caught.value.message


def test_check_procedure_alone_assumes_no_insertion_object():
    facts = TenderFacts("state", "services", Decimal(10**7), AFTER, procedure=legal.ADAPTED)
    assert legal.check_procedure(facts, facts.amount).fits is False
