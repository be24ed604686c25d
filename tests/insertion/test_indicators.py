"""Insertion indicators against figures recomputed here, in plain Python, from generated lines: validated hours
(a validated correction replacing its original, chains included; rejected lines and pending corrections left
out), pending hours, participants, ETP, months, pro-rata target and `behind` on both sides of 80 %, the linear
projection; an organisation's year (declared, validated, pending, pro-rated targets, completion, breakdowns by
public, mode, sex, age band on both sides of each boundary, QPV, ZRR; exits), for a facilitator and a buyer;
the seed figure 362 000 h ≈ 225 ETP; recording an exit."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask import current_app

from marche.accounts.models import Organisation
from marche.clauses.rules import ETP_HOURS
from marche.core.errors import DomainError
from marche.extensions import db
from marche.insertion import indicators
from marche.insertion.models import Contract, HoursDeclaration, Participant, ParticipantExit
from tests.insertion.world import contract, declared, hours_world, participant, user  # noqa: F401 (fixture)

MODES = ("direct_hire", "made_available")
PUBLICS = ("long_term_jobseeker", "minimum_income", "disability", "young_unqualified")


# --- the seed figure ------------------------------------------------------------------------------------------------

def test_362_000_hours_are_about_225_etp():
    """DOMAIN.md §3: the Pas-de-Calais reported 362 000 insertion hours = 225 ETP."""
    exact = Decimal(362_000) / ETP_HOURS.value
    assert round(exact) == 225
    assert indicators.etp(Decimal(362_000)) == exact.quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("225.26")
    assert indicators.etp(ETP_HOURS.value) == Decimal("1.00")


# --- generated lines, and the answer computed here ------------------------------------------------------------------

@dataclass
class Row:
    id: int
    contract_id: int
    participant_id: int
    month: date
    mode: str
    hours: Decimal
    status: str
    corrects: int | None


def add_line(rows: list[Row], contract_id: int, participant_id: int, month: date, mode: str, hours: Decimal,
             status: str, corrects: int | None = None) -> Row:
    line = HoursDeclaration(contract_id=contract_id, participant_id=participant_id, month=month, mode=mode,
                            hours=hours, status=status, corrects_id=corrects,
                            rejection_reason="Erreur de saisie" if status == "rejected" else None)
    db.session.add(line)
    db.session.flush()
    row = Row(line.id, contract_id, participant_id, month, mode, hours, status, corrects)
    rows.append(row)
    return row


def random_hours(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(100, 9_000)) / 100


def generate(rng: random.Random, rows: list[Row], contract_id: int, participant_ids: list[int], months: list[date],
             density: float = 0.6) -> None:
    """Lines validated, pending and rejected, some validated ones corrected (validated, pending or rejected
    corrections, a rejected correction followed by another, corrections of corrections)."""
    for participant_id in participant_ids:
        for month in months:
            if rng.random() > density:
                continue
            status = rng.choices(("validated", "submitted", "rejected"), (6, 2, 2))[0]
            line = add_line(rows, contract_id, participant_id, month, rng.choice(MODES), random_hours(rng), status)
            while line.status == "validated" and rng.random() < 0.35:
                correction_status = rng.choice(("validated", "submitted", "rejected"))
                correction = add_line(rows, contract_id, participant_id, month, rng.choice(MODES), random_hours(rng),
                                      correction_status, corrects=line.id)
                if correction_status == "rejected" and rng.random() < 0.5:  # another try after a rejection
                    correction = add_line(rows, contract_id, participant_id, month, rng.choice(MODES),
                                          random_hours(rng), rng.choice(("validated", "submitted")), corrects=line.id)
                line = correction


def effective(rows: list[Row]) -> list[Row]:
    replaced = {r.corrects for r in rows if r.corrects is not None and r.status == "validated"}
    return [r for r in rows if r.status == "validated" and r.id not in replaced]


def latest(rows: list[Row]) -> list[Row]:
    replaced = {r.corrects for r in rows if r.corrects is not None and r.status != "rejected"}
    return [r for r in rows if r.status != "rejected" and r.id not in replaced]


def total(rows) -> Decimal:
    return sum((r.hours for r in rows), Decimal(0))


def percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def months_of(first: date, count: int) -> list[date]:
    return [date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1) for n in range(count)]


def new_participant(keeper_id: int, code: str, birth_year: int, sex: str = "F", publics=(), qpv: bool = False,
                    zrr: bool = False) -> Participant:
    person = Participant(keeper_organisation_id=keeper_id, code=code, birth_year=birth_year, sex=sex,
                         publics=list(publics), qpv=qpv, zrr=zrr)
    db.session.add(person)
    db.session.flush()
    return person


# --- one contract ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contract_figures_match_the_lines(app, hours_world, seed):
    rng = random.Random(seed)
    ids = hours_world
    with app.app_context():
        the_contract = contract(ids["contract"])
        people = [ids["p1"], ids["p2"]] + [
            new_participant(the_contract.keeper_organisation_id, f"GEN-{n}", rng.randint(1960, 2005)).id
            for n in range(6)]
        rows: list[Row] = []
        generate(rng, rows, the_contract.id, people, months_of(date(2026, 1, 1), 11))
        db.session.commit()
        on = date(2026, 7, 15)  # January to June are over: 6 months of 12
        figures = indicators.contract_figures(contract(ids["contract"]), on)

    counted = effective(rows)
    assert figures.target == Decimal(1000)
    assert figures.validated == total(counted)
    assert figures.pending == total(r for r in rows if r.status == "submitted")
    assert figures.participants == len({r.participant_id for r in counted})
    assert figures.etp == (total(counted) / Decimal(1607)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert figures.completion == percent(total(counted), Decimal(1000))
    assert (figures.months_total, figures.months_elapsed) == (12, 6)
    assert figures.pro_rata_target == Decimal(500)
    assert figures.behind == (total(counted) < Decimal(400))
    by_month = defaultdict(Decimal)
    for r in counted:
        by_month[r.month] += r.hours
    assert [m.month for m in figures.months] == months_of(date(2026, 1, 1), 12)
    assert [m.validated for m in figures.months] == [by_month[m] for m in months_of(date(2026, 1, 1), 12)]
    running = Decimal(0)
    for m in figures.months:
        running += by_month[m.month]
        assert m.cumulative == running
    assert figures.months[-1].target_cumulative == Decimal(1000)
    assert figures.months[2].target_cumulative == Decimal(250)
    first_half = sum((by_month[m] for m in months_of(date(2026, 1, 1), 6)), Decimal(0))
    expected_projection = (first_half / 6 * 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert figures.projection == expected_projection
    assert figures.months[-1].projected_cumulative == expected_projection
    assert figures.months[5].projected_cumulative == first_half  # the line starts from the last month over
    assert figures.months[4].projected_cumulative is None


def test_behind_on_both_sides_of_80_percent_of_the_pro_rata_target(app, hours_world):
    """1 000 h over the 12 months of 2026; on 1 July six months are over: pro-rata 500 h, 80 % = 400 h."""
    ids = hours_world
    with app.app_context():
        rows: list[Row] = []
        add_line(rows, ids["contract"], ids["p1"], date(2026, 2, 1), "direct_hire", Decimal("199.99"), "validated")
        add_line(rows, ids["contract"], ids["p2"], date(2026, 3, 1), "direct_hire", Decimal("200.00"), "validated")
        add_line(rows, ids["contract"], ids["p2"], date(2026, 4, 1), "direct_hire", Decimal("50"), "submitted")
        db.session.commit()
        below = indicators.contract_figures(contract(ids["contract"]), date(2026, 7, 1))
        # the current month is not counted: on 31 July still six months over
        still_six = indicators.contract_figures(contract(ids["contract"]), date(2026, 7, 31))
        add_line(rows, ids["contract"], ids["p1"], date(2026, 5, 1), "direct_hire", Decimal("0.01"), "validated")
        db.session.commit()
        at = indicators.contract_figures(contract(ids["contract"]), date(2026, 7, 1))
        # on 1 August seven months are over: 583,33 h pro-rata, 80 % = 466,67 h: behind again
        later = indicators.contract_figures(contract(ids["contract"]), date(2026, 8, 1))
        before_start = indicators.contract_figures(contract(ids["contract"]), date(2026, 1, 20))
        after_end = indicators.contract_figures(contract(ids["contract"]), date(2027, 3, 1))
    assert below.validated == Decimal("399.99") and below.pro_rata_target == Decimal(500) and below.behind
    assert still_six.months_elapsed == 6 and still_six.behind
    assert at.validated == Decimal("400.00") and not at.behind
    assert later.months_elapsed == 7 and later.pro_rata_target == Decimal("583.33") and later.behind
    assert before_start.months_elapsed == 0 and before_start.projection is None and not before_start.behind
    assert after_end.months_elapsed == 12 and after_end.pro_rata_target == Decimal(1000)
    assert after_end.projection == Decimal("400.00")  # the contract is over: the projection is what was done


# --- an organisation's year -----------------------------------------------------------------------------------------

def plain_contract(title: str, buyer_id: int | None, facilitator_id: int | None, starts_on: date, ends_on: date,
                   target: int) -> Contract:
    the_contract = Contract(title=title, buyer_organisation_id=buyer_id, buyer_name="Acheteur", starts_on=starts_on,
                            ends_on=ends_on, holder_kind="company", holder_name=f"Titulaire de {title}",
                            hours_target=Decimal(target), facilitator_organisation_id=facilitator_id)
    db.session.add(the_contract)
    db.session.flush()
    return the_contract


def band(age: int) -> str:
    return "under_26" if age <= 25 else ("26_49" if age <= 49 else "50_plus")


def expected_year(rows: list[Row], people: dict[int, Participant], contracts: list[Contract], year: int) -> dict:
    """The organisation-year figures, recomputed from the rows of `contracts` (the organisation's)."""
    scope = {c.id for c in contracts}
    of_year = [r for r in rows if r.contract_id in scope and r.month.year == year]
    counted = effective(of_year)
    targets = {}
    for c in contracts:
        months = months_of(c.starts_on.replace(day=1), 400)
        months = months[:months.index(c.ends_on.replace(day=1)) + 1]
        in_year = [m for m in months if m.year == year]
        if in_year:
            targets[c.id] = (Decimal(c.hours_target) * len(in_year) / len(months)).quantize(Decimal("0.01"),
                                                                                           ROUND_HALF_UP)
    breakdowns = {name: defaultdict(lambda: [Decimal(0), set()]) for name in
                  ("modes", "sexes", "ages", "qpv", "zrr", "publics")}
    for r in counted:
        person = people[r.participant_id]
        keys = {"modes": [r.mode], "sexes": [person.sex], "ages": [band(r.month.year - person.birth_year)],
                "qpv": ["yes" if person.qpv else "no"], "zrr": ["yes" if person.zrr else "no"],
                "publics": list(person.publics) or ["none"]}
        for name, values in keys.items():
            for value in values:
                breakdowns[name][value][0] += r.hours
                breakdowns[name][value][1].add(r.participant_id)
    return {"declared": total(latest(of_year)), "validated": total(counted),
            "pending": total(r for r in of_year if r.status == "submitted"),
            "participants": len({r.participant_id for r in counted}), "targets": targets,
            "breakdowns": {name: {k: (v[0], len(v[1])) for k, v in values.items()}
                           for name, values in breakdowns.items()}}


def as_found(slices) -> dict:
    return {s.key: (s.hours, s.participants) for s in slices if s.hours or s.participants}


@pytest.mark.parametrize("seed", [4, 5])
def test_organisation_year_matches_the_lines(app, hours_world, seed):
    """The facilitator keeps c1 (2026), c2 (07/2025 to 06/2027) and c4 (2025); the buyer buys those and keeps c5
    itself; c3 belongs to someone else. Participants born on both sides of each age boundary for 2026."""
    rng = random.Random(seed)
    ids = hours_world
    with app.app_context():
        c1 = contract(ids["contract"])
        facilitator_id, buyer_id, stranger_id = ids["facilitator_org"], ids["buyer_org"], ids["stranger_org"]
        c2 = plain_contract("Collecte des déchets", buyer_id, facilitator_id, date(2025, 7, 1), date(2027, 6, 30), 2400)
        c3 = plain_contract("Marché d'un autre", stranger_id, None, date(2026, 1, 1), date(2026, 12, 31), 900)
        c4 = plain_contract("Voirie 2025", buyer_id, facilitator_id, date(2025, 1, 1), date(2025, 6, 30), 600)
        c5 = plain_contract("Restauration scolaire", buyer_id, None, date(2026, 1, 15), date(2026, 6, 14), 300)
        people: dict[int, Participant] = {p: participant(p) for p in (ids["p1"], ids["p2"])}
        for n, birth in enumerate((2001, 2000, 1977, 1976)):  # 25, 26, 49, 50 in 2026
            person = new_participant(facilitator_id, f"AGE-{n}", birth, "FM"[n % 2], [PUBLICS[n]], qpv=n % 2 == 0)
            people[person.id] = person
        for n in range(6):
            person = new_participant(facilitator_id, f"GEN-{n}", rng.randint(1960, 2006), rng.choice("FM"),
                                     rng.sample(PUBLICS, rng.randint(0, 3)), rng.random() < 0.4, rng.random() < 0.2)
            people[person.id] = person
        own = {new_participant(buyer_id, f"VDL-{n}", rng.randint(1965, 2004), rng.choice("FM")).id for n in range(3)}
        others = {new_participant(stranger_id, f"AUT-{n}", 1990).id for n in range(2)}
        people |= {p: participant(p) for p in own | others}
        fac_people = [p for p in people if p not in own | others]
        rows: list[Row] = []
        generate(rng, rows, c1.id, fac_people, months_of(date(2026, 1, 1), 11))
        generate(rng, rows, c2.id, fac_people, months_of(date(2025, 7, 1), 17), density=0.4)
        generate(rng, rows, c4.id, fac_people[:4], months_of(date(2025, 1, 1), 6))
        generate(rng, rows, c5.id, list(own), months_of(date(2026, 1, 1), 6))
        generate(rng, rows, c3.id, list(others), months_of(date(2026, 1, 1), 11), density=1)
        exits = [(fac_people[0], c1.id, "cdi", date(2026, 9, 1)),
                 (fac_people[1], c1.id, "none", date(2026, 10, 1)),
                 (fac_people[2], c2.id, "training", date(2026, 3, 1)),
                 (fac_people[3], c2.id, "cdd_6m", date(2025, 12, 31)),
                 (list(others)[0], c3.id, "cdi", date(2026, 5, 1)),
                 (list(own)[0], c5.id, "other_job", date(2026, 11, 2))]
        for person_id, contract_id, situation, observed_on in exits:
            db.session.add(ParticipantExit(participant_id=person_id, contract_id=contract_id, situation=situation,
                                           observed_on=observed_on))
        db.session.commit()
        scopes = {"facilitator": [c1, c2, c4], "buyer": [c1, c2, c4, c5]}
        found = {who: indicators.organisation_year(db.session.get(Organisation, org_id), 2026)
                 for who, org_id in (("facilitator", facilitator_id), ("buyer", buyer_id))}
        found_2025 = indicators.organisation_year(db.session.get(Organisation, facilitator_id), 2025)
        expected = {who: expected_year(rows, people, contracts, 2026) for who, contracts in scopes.items()}
        expected_2025 = expected_year(rows, people, scopes["facilitator"], 2025)
        contract_ids = {name: c.id for name, c in (("c1", c1), ("c2", c2), ("c4", c4), ("c5", c5))}

    for who in ("facilitator", "buyer"):
        figures, wanted = found[who], expected[who]
        assert figures.declared == wanted["declared"], who
        assert figures.validated == wanted["validated"], who
        assert figures.pending == wanted["pending"], who
        assert figures.participants == wanted["participants"], who
        assert {c.contract_id: c.year_target for c in figures.contracts} == wanted["targets"], who
        assert figures.year_target == sum(wanted["targets"].values())
        assert figures.completion == percent(wanted["validated"], sum(wanted["targets"].values()))
        assert figures.etp == (wanted["validated"] / ETP_HOURS.value).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for name in ("modes", "sexes", "ages", "qpv", "zrr", "publics"):
            assert as_found(getattr(figures, name)) == wanted["breakdowns"][name], (who, name)
        assert sum((m[1] for m in figures.months), Decimal(0)) == wanted["validated"]
    # c1: 1 000 h all in 2026; c2: 2 400 h over 24 months, 12 in 2026; c5: 300 h over 6 months, all in 2026
    assert expected["facilitator"]["targets"] == {contract_ids["c1"]: Decimal(1000), contract_ids["c2"]: Decimal(1200)}
    assert expected["buyer"]["targets"][contract_ids["c5"]] == Decimal(300)
    assert found["facilitator"].months[0][2] == (Decimal(1000) / 12 + 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    # 2025: c2's first six months of twelve… of 24 (600 h) and c4's 600 h
    assert {c.contract_id: c.year_target for c in found_2025.contracts} == {contract_ids["c4"]: Decimal(600),
                                                                           contract_ids["c2"]: Decimal(600)}
    assert found_2025.validated == expected_2025["validated"]
    # exits recorded in 2026 on the facilitator's contracts: CDI, none, training (CDD observed in 2025, c3 not its)
    exits = {e.key: e.count for e in found["facilitator"].exits}
    assert exits == {"cdi": 1, "cdd_6m": 0, "training": 1, "other_job": 0, "none": 1}
    assert found["facilitator"].sustainable_share == percent(Decimal(2), Decimal(3))
    assert {e.key: e.count for e in found["buyer"].exits}["other_job"] == 1


def test_age_bands_at_each_boundary(app, hours_world):
    """One validated line per participant aged 25, 26, 49 and 50 in 2026, and one aged 25 in 2025 (26 in 2026)."""
    ids = hours_world
    with app.app_context():
        c1 = contract(ids["contract"])
        c2 = plain_contract("Sur deux ans", ids["buyer_org"], ids["facilitator_org"], date(2025, 1, 1),
                            date(2026, 12, 31), 500)
        rows: list[Row] = []
        for n, (birth, hours) in enumerate(((2001, "10"), (2000, "20"), (1977, "40"), (1976, "80"))):
            person = new_participant(ids["facilitator_org"], f"B-{n}", birth)
            add_line(rows, c1.id, person.id, date(2026, 3, 1), "direct_hire", Decimal(hours), "validated")
        born_2000 = db.session.scalar(db.select(Participant.id).where(Participant.code == "B-1"))
        add_line(rows, c2.id, born_2000, date(2025, 6, 1), "direct_hire", Decimal(5), "validated")
        db.session.commit()
        organisation = c1.facilitator_organisation
        ages_2026 = as_found(indicators.organisation_year(organisation, 2026).ages)
        ages_2025 = as_found(indicators.organisation_year(organisation, 2025).ages)
    assert ages_2026 == {"under_26": (Decimal(10), 1), "26_49": (Decimal(60), 2), "50_plus": (Decimal(80), 1)}
    assert ages_2025 == {"under_26": (Decimal(5), 1)}


# --- exits -------------------------------------------------------------------------------------------------------

def test_the_keeper_records_an_exit_within_the_rules(app, hours_world):
    ids = hours_world
    with app.app_context():
        declared(ids, "holder", "p1", date(2026, 2, 1), "35", validate=True)
        declared(ids, "holder", "p2", date(2026, 2, 1), "35")  # waiting: p2 has no validated hours
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            the_contract, p1, p2 = contract(ids["contract"]), participant(ids["p1"]), participant(ids["p2"])
            refusals = []
            for actor, person, situation, observed_on in (
                    (user(ids["holder"]), p1, "cdi", date(2026, 11, 1)),
                    (user(ids["buyer"]), p1, "cdi", date(2026, 11, 1)),  # the facilitator keeps this contract
                    (user(ids["facilitator"]), p1, "cdi", date(2099, 1, 1)),
                    (user(ids["facilitator"]), p1, "retraite", date(2026, 11, 1)),
                    (user(ids["facilitator"]), p1, "cdi", None),
                    (user(ids["facilitator"]), p2, "cdi", date(2026, 11, 1))):
                with pytest.raises(DomainError) as refused:
                    indicators.record_exit(actor, person, the_contract, situation, observed_on)
                refusals.append(refused.value.message)
                db.session.rollback()
            indicators.record_exit(user(ids["facilitator"]), p1, the_contract, "cdd_6m", date(2026, 10, 1))
            indicators.record_exit(user(ids["facilitator"]), p1, the_contract, "cdi", date(2026, 11, 1))
            db.session.commit()
            rows = db.session.scalars(db.select(ParticipantExit)).all()
    assert "facilitateur" in refusals[0] and "facilitateur" in refusals[1]
    assert "futur" in refusals[2] and "Situation" in refusals[3] and "date attendue" in refusals[4]
    assert "LIL-002" in refusals[5]
    assert [(r.participant_id, r.situation, r.observed_on) for r in rows] == [(ids["p1"], "cdi", date(2026, 11, 1))]
