"""Contracts, participants and hours declarations: each rule on both sides of its boundary, every refusal in French
with nothing saved, against answers computed here (the Paris month, the year bounds, the ZRR list of data/)."""
from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marche.cli import DATA_DIR
from marche.core.errors import DomainError
from marche.core.models import AuditEntry
from marche.extensions import db
from marche.insertion import services
from marche.insertion.access import declaring_organisation
from marche.insertion.models import (Contract, ContractStatus, DeclarationStatus, HoursDeclaration, MonthLock,
                                     Participant)
from marche.tenders import award
from marche.tenders.models import Tender, TenderStatus
from tests.insertion.world import (LILLE, contract, declaration, declared, hours_world, paris_month,  # noqa: F401
                                   paris_today, participant, user)
from tests.tenders.factories import complete_clauses, make_facilitator, make_tender, organisation_of

MARCH = date(2026, 3, 1)


def months_from(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def line_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HoursDeclaration))


def declare_now(ids, who: str, person: str, month: date, hours: str, mode: str = "direct_hire",
                contract_id: int | None = None) -> HoursDeclaration:
    the_contract = contract(contract_id or ids["contract"])
    actor = user(ids[who])
    return services.declare(actor, declaring_organisation(actor, the_contract), the_contract,
                            services.LineInput(participant(ids[person]), month, mode, Decimal(hours)))


def recent_contract(ids, first: date, last: date) -> int:
    """A contract of the same buyer and holder over whole months from `first` to `last`."""
    buyer = user(ids["buyer"])
    end = months_from(last, 1) - timedelta(days=1)
    created = services.create_contract(buyer, buyer.organisation, services.ContractData(
        title="Nettoyage des écoles", starts_on=first, ends_on=end, place_ref=LILLE,
        holder_structure_id=ids["holder_s"], hours_target="500"))
    db.session.commit()
    return created.id


# --- contracts ----------------------------------------------------------------------------------------------

def test_a_buyer_contract_goes_to_the_verified_facilitator_of_its_place(app_ctx, hours_world):
    the_contract = contract(hours_world["contract"])
    # the unverified facilitator also covers the Nord: only the verified one keeps the contract
    assert the_contract.facilitator_organisation_id == hours_world["facilitator_org"]
    assert the_contract.keeper_organisation_id == hours_world["facilitator_org"]
    assert the_contract.holder_organisation_id == hours_world["holder_org"]  # the ACI's profile is claimed
    assert the_contract.buyer_name == "Ville de Lille" and the_contract.status == ContractStatus.ACTIVE


def test_the_most_local_facilitator_keeps_the_contract(app, app_ctx, hours_world, make_user):
    local = make_facilitator(make_user, "clauses@mel.example.fr", ["commune:59350"], name="MEL Clauses")
    assert services.default_facilitator(LILLE).id == organisation_of(local)
    assert services.default_facilitator("commune:59599").id == hours_world["facilitator_org"]  # Roubaix: the 59's
    assert services.default_facilitator("commune:75056") is None  # Paris: nobody
    assert services.default_facilitator(None) is None


def test_without_facilitator_the_buyer_keeps_its_contract(app_ctx, hours_world):
    buyer = user(hours_world["buyer"])
    created = services.create_contract(buyer, buyer.organisation, services.ContractData(
        title="Accueil", starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30), place_ref="commune:75056",
        holder_siret="75187049400026", holder_name="La Collecterie", hours_target="120"))
    assert created.facilitator_organisation_id is None
    assert created.keeper_organisation_id == hours_world["buyer_org"]
    assert created.holder_organisation_id is None  # no account with that SIRET


@pytest.mark.parametrize("changes,field", [
    ({"title": "  "}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"ends_on": date(2025, 12, 31)}, "ends_on"),
    ({"starts_on": None}, "starts_on"),
    ({"hours_target": "0"}, "hours_target"),
    ({"hours_target": "-5"}, "hours_target"),
    ({"hours_target": "12,345"}, "hours_target"),
    ({"hours_target": "10000000,01"}, "hours_target"),
    ({"hours_target": "beaucoup"}, "hours_target"),
    ({"holder_siret": "75187049400027"}, "holder_siret"),
    ({"holder_siret": ""}, "holder_siret"),
    ({"holder_name": ""}, "holder_name"),
    ({"place_ref": "commune:00000"}, "place_ref"),
    ({"modes": ["teleportation"]}, "modes"),
    ({"publics": ["everyone"]}, "publics"),
    ({"amount": "-1"}, "amount"),
    ({"cpv_codes": "77310000"}, "cpv_codes"),
])
def test_bad_contract_input_is_refused_beside_its_field(app_ctx, hours_world, changes, field):
    values = dict(title="Entretien", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), place_ref=LILLE,
                  holder_siret="75187049400026", holder_name="La Collecterie", hours_target="1000")
    values.update(changes)
    buyer = user(hours_world["buyer"])
    before = db.session.scalar(select(func.count()).select_from(Contract))
    with pytest.raises(DomainError) as refused:
        services.create_contract(buyer, buyer.organisation, services.ContractData(**values))
    db.session.rollback()
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Contract)) == before


def test_the_hours_target_bounds(app_ctx, hours_world):
    buyer = user(hours_world["buyer"])
    for target in ("0,01", "10000000"):
        made = services.create_contract(buyer, buyer.organisation, services.ContractData(
            title="Bornes", starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 1), place_ref=LILLE,
            holder_siret="75187049400026", holder_name="La Collecterie", hours_target=target))
        assert made.hours_target == Decimal(target.replace(",", "."))


def test_a_facilitator_enters_a_contract_for_a_buyer_it_names(app_ctx, hours_world):
    facilitator = user(hours_world["facilitator"])
    with pytest.raises(DomainError) as refused:
        services.create_contract(facilitator, facilitator.organisation, services.ContractData(
            title="Voirie", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), place_ref=LILLE,
            holder_siret="75187049400026", holder_name="La Collecterie", hours_target="300"))
    assert refused.value.field == "buyer_name"
    created = services.create_contract(facilitator, facilitator.organisation, services.ContractData(
        title="Voirie", buyer_name="Département du Nord", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        place_ref=LILLE, holder_siret="75187049400026", holder_name="La Collecterie", hours_target="300"))
    assert created.buyer_organisation_id is None
    assert created.keeper_organisation_id == hours_world["facilitator_org"]


def test_an_inclusive_structure_does_not_enter_contracts(app_ctx, hours_world):
    holder = user(hours_world["holder"])
    with pytest.raises(DomainError):
        services.create_contract(holder, holder.organisation, services.ContractData(title="x"))


def test_the_contract_status_moves_through_its_table(app_ctx, hours_world):
    the_contract = contract(hours_world["contract"])
    facilitator = user(hours_world["facilitator"])
    with pytest.raises(DomainError):
        services.move_contract(facilitator, the_contract, ContractStatus.CLOSED)  # active → closed: no
    services.move_contract(facilitator, the_contract, ContractStatus.COMPLETED)
    services.move_contract(facilitator, the_contract, ContractStatus.ACTIVE)
    services.move_contract(facilitator, the_contract, ContractStatus.COMPLETED)
    services.move_contract(facilitator, the_contract, ContractStatus.CLOSED)
    with pytest.raises(DomainError):
        services.move_contract(facilitator, the_contract, ContractStatus.ACTIVE)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "contract")
                                 .order_by(AuditEntry.id)).all()
    assert actions[-4:] == ["contract.completed", "contract.reopened", "contract.completed", "contract.closed"]


def test_a_partner_is_named_by_siret_and_only_once(app_ctx, hours_world):
    the_contract = contract(hours_world["contract"])
    facilitator = user(hours_world["facilitator"])
    partner_siret = user(hours_world["partner"]).organisation.siret
    with pytest.raises(DomainError, match="déjà"):
        services.add_partner(facilitator, the_contract, partner_siret)
    with pytest.raises(DomainError, match="aucune organisation"):
        services.add_partner(facilitator, the_contract, "75187049400026")
    services.add_partner(facilitator, the_contract, user(hours_world["stranger"]).organisation.siret)
    assert {p.organisation_id for p in the_contract.partners} == {hours_world["partner_org"],
                                                                   hours_world["stranger_org"]}


def test_the_declaring_account_is_set_by_the_holders_siret(app_ctx, hours_world):
    buyer = user(hours_world["buyer"])
    stranger_org = user(hours_world["stranger"]).organisation
    created = services.create_contract(buyer, buyer.organisation, services.ContractData(
        title="Voirie", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), place_ref="commune:75056",
        holder_siret="75187049400026", holder_name="Autre", hours_target="300"))
    assert created.holder_organisation_id is None
    created.holder_siret = stranger_org.siret  # the holder signs up later with its SIRET
    services.add_partner(buyer, created, stranger_org.siret)
    assert created.holder_organisation_id == stranger_org.id and created.partners == []


# --- the award becomes a contract --------------------------------------------------------------------------

def test_an_awarded_lot_with_an_insertion_clause_becomes_a_contract_once(app_ctx, hours_world):
    tender_id = make_tender(hours_world["buyer_org"], status=TenderStatus.CLOSED,
                            lots=[complete_clauses("200000"), {}])
    tender = db.session.get(Tender, tender_id)
    tender.duration_months = 24
    db.session.commit()
    buyer = user(hours_world["buyer"])
    awarded_on = paris_month() - timedelta(days=20)
    award.award_lot(buyer, tender, tender.lots[0], award.AwardData(
        structure_id=hours_world["holder_s"], siret="", holder_name="", amount="180000", awarded_on=awarded_on,
        offers_count=2))
    db.session.commit()  # the outbox runs inline at commit: the follower creates the contract
    made = db.session.scalar(select(Contract).where(Contract.lot_id == tender.lots[0].id))
    # 200 000 € × 50 % × 5 % ÷ 30 €/h = 166,67 h, rounded to the whole hour as the clause states it
    expected = Decimal(167)
    assert made.hours_target == expected
    assert made.starts_on == awarded_on
    year, month = awarded_on.year + 2, awarded_on.month
    assert made.ends_on == date(year, month, awarded_on.day) - timedelta(days=1)  # 24 months, the day before
    assert (made.modes, made.publics) == (["direct_hire"], ["long_term_jobseeker"])
    assert made.holder_structure_id == hours_world["holder_s"]
    assert made.holder_organisation_id == hours_world["holder_org"]
    assert made.facilitator_organisation_id == hours_world["facilitator_org"]
    assert made.amount == Decimal(180000) and made.buyer_organisation_id == hours_world["buyer_org"]
    # the same event handled again (a retry) makes no second contract
    payload = award.award_event(tender, tender.lots[0], tender.lots[0].award, __import__(
        "marche.clauses.spec", fromlist=["ClauseSpec"]).ClauseSpec.from_json(tender.lots[0].clauses))
    assert services.from_award(db.session, payload) is None
    assert db.session.scalar(select(func.count()).select_from(Contract).where(Contract.lot_id.is_not(None))) == 1
    # a lot without an insertion clause: nothing to follow
    award.award_lot(buyer, tender, tender.lots[1], award.AwardData(
        structure_id=hours_world["holder_s"], siret="", holder_name="", amount="1000", awarded_on=awarded_on,
        offers_count=1))
    db.session.commit()
    assert db.session.scalar(select(Contract).where(Contract.lot_id == tender.lots[1].id)) is None


def test_months_are_added_to_the_day_before():
    assert services._add_months(date(2026, 3, 15), 12) == date(2027, 3, 14)
    assert services._add_months(date(2026, 1, 1), 12) == date(2026, 12, 31)
    assert services._add_months(date(2026, 1, 31), 1) == date(2026, 2, 27)  # 28 February is the same « day »


# --- declarations -------------------------------------------------------------------------------------------

def test_the_months_a_contract_takes(app_ctx, hours_world):
    now = paris_month()
    contract_id = recent_contract(hours_world, months_from(now, -3), months_from(now, 2))
    first, before, after = months_from(now, -3), months_from(now, -4), months_from(now, 1)
    assert declare_now(hours_world, "holder", "p1", first, "10", contract_id=contract_id).id
    assert declare_now(hours_world, "holder", "p1", now, "10", contract_id=contract_id).id
    for month, words in ((before, "hors de la période"), (after, "pas encore commencé")):
        with pytest.raises(DomainError, match=words) as refused:
            declare_now(hours_world, "holder", "p1", month, "10", contract_id=contract_id)
        assert refused.value.field == "month"
    db.session.rollback()
    # a contract that ended last month: last month is its last one, this month is after it
    ended = recent_contract(hours_world, months_from(now, -6), months_from(now, -1))
    assert declare_now(hours_world, "holder", "p2", months_from(now, -1), "10", contract_id=ended).id
    with pytest.raises(DomainError, match="hors de la période"):
        declare_now(hours_world, "holder", "p2", now, "10", contract_id=ended)


def test_220_hours_a_month_per_participant_and_contract(app_ctx, hours_world):
    declared(hours_world, "holder", "p1", MARCH, "150", validate=True)
    declared(hours_world, "partner", "p1", MARCH, "50", mode="made_available")
    declared(hours_world, "holder", "p2", MARCH, "220")  # another participant: its own 220 h
    assert declare_now(hours_world, "holder", "p1", MARCH, "20").hours == Decimal(20)  # 150 + 50 + 20 = 220
    db.session.commit()
    before = line_count()
    with pytest.raises(DomainError, match="220") as refused:
        declare_now(hours_world, "holder", "p1", MARCH, "0.01")
    db.session.rollback()
    assert refused.value.field == "hours" and line_count() == before
    # April is another month
    assert declare_now(hours_world, "holder", "p1", date(2026, 4, 1), "220").id


def test_a_rejected_line_frees_its_hours(app_ctx, hours_world):
    line = declared(hours_world, "holder", "p1", MARCH, "200")
    services.reject(user(hours_world["facilitator"]), declaration(line), "Contrat non fourni")
    assert declare_now(hours_world, "holder", "p1", MARCH, "220").id


@pytest.mark.parametrize("hours", ["0", "-3", "220.01", "7,123", "sept", ""])
def test_bad_hours_are_refused(app_ctx, hours_world, hours):
    with pytest.raises(DomainError) as refused:
        services.parse_hours(hours)
    assert refused.value.field == "hours"


def test_hours_with_a_comma_and_the_bounds():
    assert services.parse_hours("12,5") == Decimal("12.50")
    assert services.parse_hours("0,01") == Decimal("0.01")
    assert services.parse_hours("220") == Decimal(220)


@pytest.mark.parametrize("raw,expected", [("03/2026", date(2026, 3, 1)), ("3/2026", date(2026, 3, 1)),
                                          ("2026-03", date(2026, 3, 1)), ("12/2026", date(2026, 12, 1)),
                                          ("01.2027", date(2027, 1, 1))])
def test_months_are_read_as_people_write_them(raw, expected):
    assert services.parse_month(raw) == expected


@pytest.mark.parametrize("raw", ["13/2026", "00/2026", "2026", "mars 2026", "03/26", "2026-13", ""])
def test_unreadable_months_are_refused(raw):
    with pytest.raises(DomainError, match="MM/AAAA"):
        services.parse_month(raw)


def test_a_mode_the_clause_does_not_accept_is_refused(app_ctx, hours_world):
    with pytest.raises(DomainError, match="ce marché accepte") as refused:
        declare_now(hours_world, "holder", "p1", MARCH, "10", mode="training")
    assert refused.value.field == "mode"
    assert declare_now(hours_world, "holder", "p1", MARCH, "10", mode="made_available").id


def test_a_participant_of_other_records_is_refused(app_ctx, hours_world):
    other = services.create_participant(user(hours_world["buyer"]), hours_world["buyer_org"],
                                        services.ParticipantData(code="AUTRE-1", birth_year=1990, sex="F"))
    the_contract = contract(hours_world["contract"])
    with pytest.raises(DomainError, match="Participant inconnu"):
        services.declare(user(hours_world["holder"]), hours_world["holder_org"], the_contract,
                         services.LineInput(other, MARCH, "direct_hire", Decimal(10)))


def test_a_contract_that_is_not_active_takes_no_declaration(app_ctx, hours_world):
    services.move_contract(user(hours_world["facilitator"]), contract(hours_world["contract"]),
                           ContractStatus.COMPLETED)
    with pytest.raises(DomainError, match="ne reçoit plus"):
        declare_now(hours_world, "holder", "p1", MARCH, "10")


# --- validated lines are final; corrections replace them ---------------------------------------------------

def test_a_validated_line_cannot_be_changed_or_deleted_even_in_sql(app_ctx, hours_world):
    waiting = declared(hours_world, "holder", "p1", MARCH, "10")
    final = declared(hours_world, "holder", "p2", MARCH, "10", validate=True)
    db.session.execute(text("UPDATE hours_declaration SET hours = 12 WHERE id = :id"), {"id": waiting})
    db.session.commit()  # a line waiting for a decision may still change
    for statement in ("UPDATE hours_declaration SET hours = 12 WHERE id = :id",
                      "UPDATE hours_declaration SET status = 'rejected', rejection_reason = 'x' WHERE id = :id",
                      "DELETE FROM hours_declaration WHERE id = :id"):
        with pytest.raises(DBAPIError, match="validated line is never changed"):
            db.session.execute(text(statement), {"id": final})
        db.session.rollback()
    assert declaration(final).hours == Decimal(10) and declaration(final).status == DeclarationStatus.VALIDATED


def test_a_correction_replaces_the_validated_line_once_validated(app_ctx, hours_world):
    original = declared(hours_world, "holder", "p1", MARCH, "200", validate=True)
    holder, facilitator = user(hours_world["holder"]), user(hours_world["facilitator"])
    first = services.correct(holder, hours_world["holder_org"], declaration(original), "direct_hire", Decimal(210))
    with pytest.raises(DomainError, match="déjà une correction"):
        services.correct(holder, hours_world["holder_org"], declaration(original), "direct_hire", Decimal(1))
    effective = select(func.sum(HoursDeclaration.hours)).where(services.effective_lines())
    assert db.session.scalar(effective) == Decimal(200)  # the correction waits: the original counts
    services.reject(facilitator, first, "Justificatif manquant")
    second = services.correct(holder, hours_world["holder_org"], declaration(original), "made_available",
                              Decimal(190))
    services.validate(facilitator, second)
    assert db.session.scalar(effective) == Decimal(190)
    assert declaration(original).status == DeclarationStatus.VALIDATED and declaration(original).hours == 200
    # the corrected month total leaves the original out: 190 + 30 = 220
    assert declare_now(hours_world, "holder", "p1", MARCH, "30").id
    with pytest.raises(DomainError, match="Seule une déclaration validée"):
        services.correct(holder, hours_world["holder_org"], first, "direct_hire", Decimal(1))


def test_a_correction_keeps_the_220_hours(app_ctx, hours_world):
    original = declared(hours_world, "holder", "p1", MARCH, "100", validate=True)
    declared(hours_world, "holder", "p1", MARCH, "100")
    holder = user(hours_world["holder"])
    assert services.correct(holder, None, declaration(original), "direct_hire", Decimal(120)).id  # 120 + 100
    db.session.rollback()
    with pytest.raises(DomainError, match="220"):
        services.correct(holder, None, declaration(original), "direct_hire", Decimal("120.01"))


def test_only_a_waiting_line_is_withdrawn(app_ctx, hours_world):
    waiting = declared(hours_world, "holder", "p1", MARCH, "10")
    final = declared(hours_world, "holder", "p2", MARCH, "10", validate=True)
    holder = user(hours_world["holder"])
    services.withdraw(holder, declaration(waiting))
    assert declaration(waiting) is None
    with pytest.raises(DomainError):
        services.withdraw(holder, declaration(final))


def test_a_decision_is_taken_once_and_a_rejection_has_a_reason(app_ctx, hours_world):
    line = declared(hours_world, "holder", "p1", MARCH, "10")
    facilitator = user(hours_world["facilitator"])
    with pytest.raises(DomainError) as refused:
        services.reject(facilitator, declaration(line), "   ")
    assert refused.value.field == "reason"
    services.validate(facilitator, declaration(line))
    for decide in (lambda d: services.validate(facilitator, d), lambda d: services.reject(facilitator, d, "non")):
        with pytest.raises(DomainError, match="déjà"):
            decide(declaration(line))
    assert declaration(line).decided_by_id == hours_world["facilitator"]


# --- month locks ---------------------------------------------------------------------------------------------

def test_a_month_is_locked_once_over_and_decided(app_ctx, hours_world):
    facilitator = user(hours_world["facilitator"])
    the_contract = contract(hours_world["contract"])
    now = paris_month()
    with pytest.raises(DomainError, match="pas terminé"):
        services.lock_month(facilitator, the_contract, now)
    line = declared(hours_world, "holder", "p1", MARCH, "10")
    with pytest.raises(DomainError, match="attend encore une décision"):
        services.lock_month(facilitator, the_contract, MARCH)
    services.validate(facilitator, declaration(line))
    services.lock_month(facilitator, the_contract, MARCH)
    with pytest.raises(DomainError, match="déjà verrouillé"):
        services.lock_month(facilitator, the_contract, MARCH)
    with pytest.raises(DomainError, match="verrouillé"):
        declare_now(hours_world, "holder", "p2", MARCH, "10")
    with pytest.raises(DomainError, match="verrouillé"):
        services.correct(user(hours_world["holder"]), None, declaration(line), "direct_hire", Decimal(5))
    assert db.session.get(MonthLock, (the_contract.id, MARCH)).locked_by_id == hours_world["facilitator"]
    # the month before the current one is over: it can be locked
    last = months_from(now, -1)
    if the_contract.first_month <= last:
        services.lock_month(facilitator, the_contract, last)


# --- participants --------------------------------------------------------------------------------------------

def test_birth_years_of_working_age(app_ctx):
    year = paris_month().year
    assert services.parse_birth_year(str(year - 80)) == year - 80
    assert services.parse_birth_year(str(year - 14)) == year - 14
    for wrong in (year - 81, year - 13, "19 90", "90"):
        with pytest.raises(DomainError, match="Année de naissance"):
            services.parse_birth_year(str(wrong))


@pytest.mark.parametrize("code", ["", "Jean Dupont", "é-01", "-01", "x" * 33, "a/b"])
def test_participant_codes_are_codes(code):
    with pytest.raises(DomainError) as refused:
        services.parse_code(code)
    assert refused.value.field == "code"


def test_a_code_is_unique_within_its_records_only(app_ctx, hours_world):
    with pytest.raises(DomainError, match="existe déjà"):
        services.create_participant(user(hours_world["facilitator"]), hours_world["facilitator_org"],
                                    services.ParticipantData(code="LIL-001", birth_year=1990, sex="F"))
    other = services.create_participant(user(hours_world["buyer"]), hours_world["buyer_org"],
                                        services.ParticipantData(code="LIL-001", birth_year=1990, sex="F"))
    assert other.id


def _zrr_communes() -> tuple[str, str]:
    """A commune classed in ZRR (« C ») and one not (« NC ») in data/, read here."""
    classed = unclassed = None
    with (DATA_DIR / "zrr_communes_2022.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["statut_zrr"] == "C" and classed is None:
                classed = row["code_insee"]
            if row["statut_zrr"] == "NC" and unclassed is None:
                unclassed = row["code_insee"]
    return classed, unclassed


def test_zrr_residence_is_read_from_the_commune(app_ctx, hours_world):
    classed, unclassed = _zrr_communes()
    facilitator = user(hours_world["facilitator"])
    made = [services.create_participant(facilitator, hours_world["facilitator_org"], services.ParticipantData(
        code=f"Z-{commune}", birth_year=1990, sex="M", residence_commune_code=commune))
        for commune in (classed, unclassed)]
    assert [p.zrr for p in made] == [True, False]
    with pytest.raises(DomainError) as refused:
        services.create_participant(facilitator, hours_world["facilitator_org"], services.ParticipantData(
            code="Z-X", birth_year=1990, sex="M", residence_commune_code="99999"))
    assert refused.value.field == "residence_commune_code"


def test_eligibility_is_checked_today_or_before(app_ctx, hours_world):
    facilitator = user(hours_world["facilitator"])
    person = participant(hours_world["p1"])
    with pytest.raises(DomainError, match="futur"):
        services.record_eligibility(facilitator, person, paris_today() + timedelta(days=1))
    services.record_eligibility(facilitator, person, paris_month())
    assert (person.eligibility_checked_on, person.eligibility_checked_by_id) == (paris_month(),
                                                                                 hours_world["facilitator"])


def test_no_column_can_hold_a_name():
    columns = {column.name for column in Participant.__table__.columns}
    assert not columns & {"name", "first_name", "last_name", "nom", "prenom", "email", "birth_date"}


def test_the_years_a_month_may_name():
    assert services.parse_month(date(2026, 3, 15)) == MARCH  # a spreadsheet's date cell gives its month
    assert services.parse_month("01/1900") == date(1900, 1, 1) and services.parse_month("12/2999") == date(2999, 12, 1)
    for wrong in ("12/1899", "01/3000"):
        with pytest.raises(DomainError, match="MM/AAAA"):
            services.parse_month(wrong)


def test_the_lock_refusal_counts_the_waiting_lines(app_ctx, hours_world):
    facilitator = user(hours_world["facilitator"])
    declared(hours_world, "holder", "p1", MARCH, "10")
    with pytest.raises(DomainError, match=r"1 déclaration de 03/2026 attend encore une décision"):
        services.lock_month(facilitator, contract(hours_world["contract"]), MARCH)
    declared(hours_world, "holder", "p2", MARCH, "10")
    with pytest.raises(DomainError, match=r"2 déclarations de 03/2026 attendent encore une décision"):
        services.lock_month(facilitator, contract(hours_world["contract"]), MARCH)


def test_a_declaration_is_audited_and_a_refusal_names_the_total(app_ctx, hours_world):
    line = declared(hours_world, "holder", "p1", MARCH, "200")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "hours.declared"))
    assert entry.details["declaration_id"] == line and Decimal(entry.details["hours"]) == Decimal(200)
    with pytest.raises(DomainError, match=r"LIL-001 aurait 220,01 h en 03/2026"):
        declare_now(hours_world, "holder", "p1", MARCH, "20.01")


def test_a_bad_siret_is_quoted_on_its_first_20_characters(app_ctx, hours_world):
    typed = "1234567890123456789ABCDEF"
    with pytest.raises(DomainError) as refused:
        services._siret(typed, "holder_siret", "SIRET du titulaire", required=True)
    assert f"« {typed[:20]} »" in refused.value.message


def test_a_refused_mode_names_the_accepted_ones_without_their_details(app_ctx, hours_world):
    """The refusal names each accepted mode by the words before its parenthesis (« Embauche directe », not the
    list of contracts that follows it)."""
    from marche.clauses.catalogue import FulfilmentMode

    with pytest.raises(DomainError) as refused:
        declare_now(hours_world, "holder", "p1", MARCH, "10", mode="training")
    short = [FulfilmentMode(m).label.partition(" (")[0] for m in contract(hours_world["contract"]).modes]
    assert refused.value.message == f"Mode : ce marché accepte {', '.join(short)}."
    assert short == ["Embauche directe", "Mise à disposition par une ETTI, une AI ou un GEIQ"]


@pytest.mark.parametrize("raw,expected", [("F", "F"), ("m", "M"), (" femme ", "F"), ("Masculin", "M"),
                                          ("Féminin", "F")])
def test_sex_is_read_from_its_first_letter(raw, expected):
    assert services.parse_sex(raw) == expected


@pytest.mark.parametrize("raw", ["", "X", "homme", "1"])
def test_other_sexes_are_refused(raw):
    with pytest.raises(DomainError, match="Sexe : F ou M"):
        services.parse_sex(raw)


def test_a_contract_may_last_30_years_counted_by_calendar_years(app_ctx, hours_world):
    buyer = user(hours_world["buyer"])

    def made(ends_on: date):
        return services.create_contract(buyer, buyer.organisation, services.ContractData(
            title="Longue durée", starts_on=date(2026, 1, 1), ends_on=ends_on, place_ref=LILLE,
            holder_siret="75187049400026", holder_name="La Collecterie", hours_target="1000"))

    assert made(date(2026 + services.MAX_YEARS, 12, 31)).ends_on == date(2056, 12, 31)
    with pytest.raises(DomainError, match="plus de 30 ans") as refused:
        made(date(2026 + services.MAX_YEARS + 1, 1, 1))
    assert refused.value.field == "ends_on"


def test_the_birth_year_refusal_names_the_bounds_it_applies(app_ctx):
    year = paris_month().year
    with pytest.raises(DomainError) as refused:
        services.parse_birth_year(str(year))
    assert refused.value.message == (f"Année de naissance : une année entre {year - 80} et {year - 14} est "
                                     f"attendue.")


def test_an_unreadable_month_is_quoted_on_its_first_20_characters():
    raw = "mars deux mille vingt-six"
    with pytest.raises(DomainError) as refused:
        services.parse_month(raw)
    assert f"« {raw[:20]} »" in refused.value.message and raw[:21] not in refused.value.message


@pytest.mark.parametrize("ref", ["commune:00000", "dep:999", "n'importe quoi", "commune:"])
def test_an_unknown_place_has_no_facilitator_and_is_refused_for_a_contract(app_ctx, hours_world, ref):
    assert services.default_facilitator(ref) is None
    buyer = user(hours_world["buyer"])
    with pytest.raises(DomainError) as refused:
        services.create_contract(buyer, buyer.organisation, services.ContractData(
            title="Lieu inconnu", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), place_ref=ref,
            holder_siret="75187049400026", holder_name="La Collecterie", hours_target="1000"))
    assert refused.value.field == "place_ref" and "n'est pas un territoire connu" in refused.value.message


def test_an_empty_month_counts_zero_hours_before_a_line(app_ctx, hours_world):
    """The month's total starts at 0: a line of 220,01 h given to the service directly (the import and the pages
    read hours through parse_hours, which stops it earlier) is refused, and the refusal names that total."""
    with pytest.raises(DomainError) as refused:
        declare_now(hours_world, "holder", "p1", MARCH, "220.01")
    db.session.rollback()
    assert "LIL-001 aurait 220,01 h en 03/2026" in refused.value.message
    assert declare_now(hours_world, "holder", "p1", MARCH, "220").hours == Decimal(220)


def test_a_waiting_correction_does_not_free_the_hours_of_the_line_it_corrects(app_ctx, hours_world):
    """While a correction waits, the validated line and its correction both count: 200 h validated, a correction to
    150 h waiting, then 30 h more would make 380 h (230 h even if only the original counted): refused. Once the
    correction is validated, only it counts: 150 + 30 = 180 h, accepted."""
    original = declared(hours_world, "holder", "p1", MARCH, "200", validate=True)
    correction = services.correct(user(hours_world["holder"]), hours_world["holder_org"], declaration(original),
                                  "direct_hire", Decimal("150"))
    db.session.commit()
    with pytest.raises(DomainError, match="aurait 380 h"):
        declare_now(hours_world, "holder", "p1", MARCH, "30")
    db.session.rollback()
    services.validate(user(hours_world["facilitator"]), declaration(correction.id))
    db.session.commit()
    assert services.month_hours(hours_world["contract"], hours_world["p1"], MARCH) == Decimal(150)
    assert declare_now(hours_world, "holder", "p1", MARCH, "30").hours == Decimal(30)
