"""Drafting services: a tender and its lots, their checks (bad input names its field and changes nothing), the
clause document, the live legal check, duplicates, attachments and rectificatifs."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from werkzeug.datastructures import FileStorage

from marche.accounts.models import OrganisationKind
from marche.clauses import legal, rules
from marche.clauses.spec import ClauseSpec
from marche.core.access import can
from marche.extensions import db
from marche.tenders import drafting
from marche.tenders.drafting import DraftingError, LotInput
from marche.tenders.models import Tender, TenderRectificatif, TenderStatus

from .drafting_fixtures import FULL_CLAUSES, NOW, make_facilitator, new_tender, tender_input, user


@pytest.fixture
def buyer(app_ctx, make_user):
    make_user("acheteur@ville.fr")
    return user("acheteur@ville.fr")


def test_a_new_tender_is_a_draft_with_one_implicit_lot_and_its_nature_from_the_main_cpv(buyer):
    tender = new_tender(buyer, cpv_codes="45000000-7, 77310000-6")
    assert tender.status == TenderStatus.DRAFT and not tender.allotted
    assert [(lot.position, lot.title, lot.amount) for lot in tender.lots] == [(1, tender.title, Decimal("1000000.00"))]
    assert tender.nature == "works"  # 45… is works, the main code decides
    assert new_tender(buyer, cpv_codes="77310000-6").nature == "services"
    assert new_tender(buyer, cpv_codes="30190000-7").nature == "supplies"
    assert new_tender(buyer, cpv_codes="30190000-7", nature="services").nature == "services"  # editable
    assert tender.answers_deadline.tzinfo is not None


@pytest.mark.parametrize("changes, field, words", [
    ({"answers_deadline": (NOW - timedelta(minutes=1)).replace(tzinfo=None), "questions_deadline": None},
     "answers_deadline", "passée"),
    ({"questions_deadline": (NOW + timedelta(days=40)).replace(tzinfo=None)}, "answers_deadline", "suivre"),
    ({"amount": "-1"}, "amount", "négatif"),
    ({"amount": "20000000000"}, "amount", "vérifiez"),
    ({"amount": "12,345"}, "amount", "deux décimales"),
    ({"amount": "beaucoup"}, "amount", "montant"),
    ({"cpv_codes": "77310000-5"}, "cpv_codes", "chiffre de contrôle erroné"),
    ({"cpv_codes": "77310000"}, "cpv_codes", "chiffre de contrôle"),
    ({"cpv_codes": "7731"}, "cpv_codes", "illisible"),
    ({"title": "  "}, "title", "obligatoire"),
    ({"place_ref": "dep:999"}, "place_ref", "Territoire inconnu"),
    ({"duration_months": 0}, "duration_months", "Durée"),
    ({"contact_email": "pas-une-adresse"}, "contact_email", "invalide"),
    ({"buyer_profile_url": "javascript:alert(1)"}, "buyer_profile_url", "https://"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(buyer, changes, field, words):
    with pytest.raises(DraftingError) as refused:
        new_tender(buyer, **changes)
    assert refused.value.field == field and words in refused.value.message
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Tender)) == 0


def test_deadline_boundaries(buyer):
    now = datetime(2026, 9, 1, 10, 0, tzinfo=timezone.utc)
    organisation = drafting.buyer_organisations(buyer)[0]
    later = datetime(2026, 9, 1, 12, 0, 1)  # naive: Paris time, 10:00:01 UTC
    at_now = datetime(2026, 9, 1, 12, 0)  # Paris 12:00 = 10:00 UTC: not in the future
    drafting.create_tender(buyer, organisation, tender_input(answers_deadline=later, questions_deadline=later,
                                                             launch_date=None), now=now)
    with pytest.raises(DraftingError, match="passée"):
        drafting.create_tender(buyer, organisation, tender_input(answers_deadline=at_now, questions_deadline=None,
                                                                 launch_date=None), now=now)


def test_an_old_deadline_kept_as_it_is_does_not_block_a_later_edit(buyer):
    tender = new_tender(buyer)
    stored = tender.answers_deadline
    later = stored + timedelta(days=60)
    data = tender_input(answers_deadline=stored.astimezone(drafting.PARIS).replace(tzinfo=None), title="Nouveau titre")
    drafting.update_tender(buyer, tender, data, now=later)
    assert tender.title == "Nouveau titre"


def test_lot_amounts_cannot_exceed_the_tenders(buyer):
    tender = new_tender(buyer, amount="100000")
    drafting.add_lot(buyer, tender, LotInput(title="Lot 2", amount="60000"))
    assert tender.allotted and [lot.position for lot in tender.lots] == [1, 2]
    tender.lots[0].amount = Decimal("40000")
    # 40 000 + 60 000 = 100 000: exactly the tender's amount is accepted, one cent more is not
    drafting.update_lot(buyer, tender.lots[1], LotInput(title="Lot 2", amount="60000"))
    with pytest.raises(DraftingError) as refused:
        drafting.update_lot(buyer, tender.lots[1], LotInput(title="Lot 2", amount="60000,01"))
    assert refused.value.field == "amount" and "dépasserait" in refused.value.message
    with pytest.raises(DraftingError) as refused:
        drafting.update_tender(buyer, tender, tender_input(amount="99999.99", allotted=True))
    assert refused.value.field == "amount"


def test_removing_lots_renumbers_and_a_tender_keeps_one(buyer):
    tender = new_tender(buyer)
    for title in ("B", "C"):
        drafting.add_lot(buyer, tender, LotInput(title=title))
    drafting.remove_lot(buyer, tender.lots[1])
    assert [(lot.position, lot.title) for lot in tender.lots] == [(1, tender.title), (2, "C")]
    drafting.remove_lot(buyer, tender.lots[0])
    assert [(lot.position, lot.title) for lot in tender.lots] == [(1, "C")] and not tender.allotted
    with pytest.raises(DraftingError, match="au moins un lot"):
        drafting.remove_lot(buyer, tender.lots[0])


def test_clauses_are_stored_through_the_clause_document_and_feed_the_check(buyer):
    tender = new_tender(buyer)
    lot = tender.lots[0]
    spec = drafting.set_lot_clauses(buyer, lot, FULL_CLAUSES)
    assert lot.clauses == spec.to_json() == ClauseSpec.from_json(lot.clauses).to_json()
    # 1 000 000 × 50 % × 5 % ÷ 30 = 833,33 → 833 h
    assert spec.insertion.hours == Decimal(833) and lot.clauses["insertion"]["labour_share"] == "0.5"
    check = drafting.legal_check(tender)
    assert [o.status for o in check.obligations] == [legal.SATISFIED] * 3 and not check.blocking
    values = drafting.builder_values(lot)
    assert values["labour_share"] == "50" and values["insertion_rate"] == "5" and values["modes"] == ["direct_hire"]


@pytest.mark.parametrize("changes, field", [
    ({"social_criterion": True, "social_criterion_weight": "90"}, "environmental_criterion_weight"),  # 90 + 15
    ({"environmental_criterion_weight": "101"}, "environmental_criterion_weight"),
    ({"labour_share": "150"}, "labour_share"),
    ({"hourly_cost": "0"}, "hourly_cost"),
    ({"hours_override": "900"}, "override_reason"),
    ({"modes": []}, "modes"),
    ({"waiver_exception": "no_link", "waiver_reason": ""}, "waiver_reason"),
    ({"environmental_conditions": ["free_text"]}, "environmental_free_text"),
])
def test_bad_clauses_are_refused_naming_the_builder_field(buyer, changes, field):
    lot = new_tender(buyer).lots[0]
    with pytest.raises(DraftingError) as refused:
        drafting.set_lot_clauses(buyer, lot, {**FULL_CLAUSES, **changes})
    assert refused.value.field == field
    assert lot.clauses == {}


def test_weights_of_exactly_100_are_accepted(buyer):
    lot = new_tender(buyer).lots[0]
    spec = drafting.set_lot_clauses(buyer, lot, {**FULL_CLAUSES, "social_criterion": True,
                                                 "social_criterion_weight": "85"})
    assert spec.social_criterion.weight + spec.environmental_criterion.weight == legal.MAX_TOTAL_WEIGHT


def test_the_live_check_reads_the_fields_as_typed_and_stores_nothing(buyer):
    tender = new_tender(buyer)
    lot = tender.lots[0]
    empty = drafting.live_check(lot, {})
    assert [o.status for o in empty.check.obligations] == [legal.MISSING] * 3
    assert any(rules.SOCIAL_CONSIDERATION.article in line for line in empty.check.blocking)
    live = drafting.live_check(lot, FULL_CLAUSES)
    assert [o.status for o in live.check.obligations] == [legal.SATISFIED] * 3
    assert live.hours.hours == Decimal(833) and "833 h" in live.hours.formula and live.hours.etp == Decimal("0.52")
    assert lot.clauses == {}
    refused = drafting.live_check(lot, {**FULL_CLAUSES, "environmental_criterion_weight": "120"})
    assert refused.error.field == "environmental_criterion_weight" and refused.check is not None


def test_a_waiver_with_its_exception_and_reason_satisfies_the_social_line(buyer):
    lot = new_tender(buyer).lots[0]
    drafting.set_lot_clauses(buyer, lot, {"environmental_conditions": ["reuse"], "environmental_criterion": True,
                                          "environmental_criterion_weight": "20", "waiver_exception": "no_link",
                                          "waiver_reason": "Fourniture de licences logicielles."})
    social = drafting.legal_check(lot.tender).obligations[0]
    assert social.code == rules.SOCIAL_CONSIDERATION.code and social.status == legal.WAIVED


def test_private_buyers_get_the_builder_without_obligations(app_ctx, make_user):
    make_user("rse@entreprise.fr", kind=OrganisationKind.PRIVATE_COMPANY, name="Entreprise RSE")
    tender = new_tender(user("rse@entreprise.fr"))
    check = drafting.legal_check(tender)
    assert all(not o.required for o in check.obligations) and not check.blocking


def test_to_do_names_what_is_missing(buyer):
    tender = new_tender(buyer, place_ref="", cpv_codes="")
    items = drafting.to_do(tender)
    assert "un code CPV" in items[0] and "le lieu d'exécution" in items[0]
    assert any("L2112-2-1" in item for item in items)
    tender.cpv_codes, tender.place_ref = ["77310000-6"], "commune:59512"
    drafting.set_lot_clauses(buyer, tender.lots[0], FULL_CLAUSES)
    assert drafting.to_do(tender) == ["Soumettre la consultation à validation."]


def test_duplicate_copies_fields_lots_and_clauses_but_no_dates(buyer):
    source = new_tender(buyer)
    drafting.add_lot(buyer, source, LotInput(title="Lot 2", amount="1000"))
    source.lots[0].amount = Decimal("500000")
    drafting.set_lot_clauses(buyer, source.lots[1], FULL_CLAUSES)
    copy = drafting.duplicate_tender(buyer, source)
    assert copy.status == TenderStatus.DRAFT and copy.source_tender_id == source.id
    assert copy.answers_deadline is None and copy.launch_date is None and copy.title.endswith("(copie)")
    assert [(lot.position, lot.title, lot.clauses) for lot in copy.lots] == [
        (lot.position, lot.title, lot.clauses) for lot in source.lots]


def test_editing_a_published_tender_records_a_rectificatif(buyer):
    tender = new_tender(buyer)
    drafting.update_tender(buyer, tender, tender_input(title="Titre corrigé"))
    assert tender.rectificatifs == []  # a draft changes freely
    tender.status = TenderStatus.PUBLISHED
    later = (NOW + timedelta(days=45)).replace(tzinfo=None)
    rectificatif = drafting.update_tender(buyer, tender, tender_input(title="Titre corrigé", answers_deadline=later),
                                          note="Report de la date limite")
    assert isinstance(rectificatif, TenderRectificatif) and rectificatif.note == "Report de la date limite"
    assert [c["field"] for c in rectificatif.changes] == ["answers_deadline"]
    assert rectificatif.changes[0]["after"].startswith(later.strftime("%d/%m/%Y"))
    drafting.set_lot_clauses(buyer, tender.lots[0], FULL_CLAUSES)
    assert tender.rectificatifs[-1].changes[0]["field"] == "lot_clauses"
    assert "833 h" in tender.rectificatifs[-1].changes[0]["after"]
    assert drafting.update_tender(buyer, tender, tender_input(title="Titre corrigé", answers_deadline=later)) is None


def test_a_closed_tender_is_no_longer_edited(buyer):
    tender = new_tender(buyer)
    tender.status = TenderStatus.CLOSED
    with pytest.raises(DraftingError, match="ne se modifie plus"):
        drafting.update_tender(buyer, tender, tender_input())


def _upload(data: bytes, name: str = "reglement.pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def test_attachments_are_pdf_by_content_and_at_most_20_mb(buyer):
    tender = new_tender(buyer)
    attachment = drafting.add_attachment(buyer, tender, _upload(b"%PDF-1.7\n%%EOF\n", "Règlement de consultation.pdf"))
    assert drafting.attachment_path(attachment).read_bytes().startswith(b"%PDF-")
    assert attachment.filename.endswith(".pdf")
    with pytest.raises(DraftingError) as refused:
        drafting.add_attachment(buyer, tender, _upload(b"MZ\x90\x00 not a pdf", "virus.pdf"))
    assert refused.value.field == "file" and "PDF" in refused.value.message
    limit = drafting.MAX_ATTACHMENT_BYTES
    drafting.add_attachment(buyer, tender, _upload(b"%PDF-" + b"0" * (limit - 5)))  # exactly 20 MB
    with pytest.raises(drafting.DomainError) as refused:
        drafting.add_attachment(buyer, tender, _upload(b"%PDF-" + b"0" * (limit - 4)))
    assert refused.value.field == "file"
    assert len(tender.attachments) == 2


def test_annex_text_has_the_figures_of_each_lot(buyer):
    tender = new_tender(buyer)
    drafting.add_lot(buyer, tender, LotInput(title="Tonte", amount="0"))
    drafting.set_lot_clauses(buyer, tender.lots[0], FULL_CLAUSES)
    text = drafting.tender_annex_text(tender)
    assert "833 heures" in text and "0,52 équivalent" in text and "LOT 2 — TONTE" in text
    params = drafting.tender_annex_params(tender)
    assert params["buyer"] == "Ville de Test" and len(params["lots"]) == 2


def test_start_from_a_directory_search_keeps_known_sectors_and_territory(buyer):
    from werkzeug.datastructures import MultiDict

    sector_ids = [s for s in db.session.scalars(db.select(db.text("id")).select_from(db.text("sector")).limit(2))]
    args = MultiDict([("secteurs", f"{sector_ids[0]},{sector_ids[1]},999999"), ("territoire", "dep:59")])
    assert drafting.initial_from_search(args) == {"sectors": sorted(sector_ids), "place_ref": "dep:59"}
    assert drafting.initial_from_search(MultiDict([("territoire", "nulle-part"), ("secteurs", "abc")])) == {}


# --- who sees what ---------------------------------------------------------------------------------------------

def test_drafts_are_seen_by_the_buyer_its_assisting_facilitator_and_validators_once_submitted(app_ctx, make_user):
    make_user("acheteur@ville.fr")
    make_user("autre@ville.fr", name="Autre ville")
    make_user("admin@plateforme.fr", kind=OrganisationKind.PLATFORM, admin=True)
    assisting = make_facilitator(make_user, "plie@nord.fr", ["dep:62"])
    make_facilitator(make_user, "plie59@nord.fr", ["dep:59"])
    make_facilitator(make_user, "pending@nord.fr", ["reg:32"], verified=False)
    make_facilitator(make_user, "paris@idf.fr", ["dep:75"])
    buyer = user("acheteur@ville.fr")
    tender = new_tender(buyer)  # Roubaix, Nord (59), Hauts-de-France (32)
    db.session.commit()
    seers = lambda: {email for email in ("acheteur@ville.fr", "autre@ville.fr", "admin@plateforme.fr",  # noqa: E731
                                         "plie@nord.fr", "plie59@nord.fr", "pending@nord.fr", "paris@idf.fr")
                     if can(user(email), "view", tender)}
    assert seers() == {"acheteur@ville.fr", "admin@plateforme.fr"}
    assert not can(None, "view", tender)
    tender.assisting_organisation_id = assisting
    assert seers() == {"acheteur@ville.fr", "admin@plateforme.fr", "plie@nord.fr"}
    tender.status = TenderStatus.SUBMITTED
    assert seers() == {"acheteur@ville.fr", "admin@plateforme.fr", "plie@nord.fr", "plie59@nord.fr"}
    tender.status = TenderStatus.PUBLISHED
    assert len(seers()) == 7 and can(None, "view", tender)
    assert {e for e in ("acheteur@ville.fr", "autre@ville.fr", "plie@nord.fr") if can(user(e), "edit", tender)} \
        == {"acheteur@ville.fr"}
    tender.status = TenderStatus.CANCELLED
    assert can(None, "view", tender) is False  # never published
    tender.published_at = NOW
    assert can(None, "view", tender)


def test_sectors_left_empty_are_suggested_from_the_cpv_and_chosen_ones_are_kept(buyer):
    import csv
    from pathlib import Path

    from marche.reference.models import Sector

    rows = list(csv.DictReader((Path(__file__).resolve().parents[2] / "data" / "cpv_secteurs.csv")
                               .open(encoding="utf-8")))
    expected = {int(r["secteur_id"]) for r in rows if r["cpv_code"] == "77310000-6"}
    assert expected  # the table names the sectors of « Réalisation et entretien d'espaces verts »
    suggested = new_tender(buyer, cpv_codes="77310000-6", sector_ids=[])
    assert {s.id for s in suggested.sectors} == expected
    other = db.session.scalars(db.select(Sector.id).where(Sector.id.not_in(expected)).limit(1)).one()
    chosen = new_tender(buyer, cpv_codes="77310000-6", sector_ids=[other])
    assert [s.id for s in chosen.sectors] == [other]


@pytest.mark.parametrize("cost", [False, True])
def test_a_single_environmental_criterion_counts_only_as_the_global_cost(buyer, cost):
    """The builder's « coût global » box travels to the stored document, back to the form, and decides whether an
    environmental criterion weighing 100 % satisfies the line (R2152-7 1°)."""
    lot = new_tender(buyer).lots[0]
    single = {**FULL_CLAUSES, "social_criterion": False, "environmental_criterion_weight": "100",
              "environmental_criterion_cost": cost}
    live = drafting.live_check(lot, single)
    environmental = next(o for o in live.check.obligations if o.code == rules.ENVIRONMENTAL_AWARD_CRITERION.code)
    assert environmental.status == (legal.SATISFIED if cost else legal.MISSING)
    assert bool(live.check.blocking) is not cost
    spec = drafting.set_lot_clauses(buyer, lot, single)
    assert spec.environmental_criterion.cost is cost and lot.clauses["environmental_criterion"].get("cost", False) is cost
    assert drafting.builder_values(lot)["environmental_criterion_cost"] is cost
