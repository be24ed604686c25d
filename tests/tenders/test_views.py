"""Drafting pages over HTTP: bad input answered beside its field with the rest kept, another organisation's draft
answers 404, the live checklist partial, the annex text and PDF, attachments served as downloads, « Mes
consultations » and starting from a directory search."""
from __future__ import annotations

import io
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from marche.accounts.models import OrganisationKind
from marche.extensions import db
from marche.tenders.models import Tender, TenderStatus
from tests.conftest import csrf_token, load_factor, login, page_text, submit

from .drafting_fixtures import FULL_CLAUSES, NOW, new_tender, user

FORM = {"title": "Entretien des espaces verts", "object": "Écoles de Roubaix, 3 ans", "kind": "call_for_tenders",
        "cpv_codes": "77310000-6", "place_ref": "commune:59512", "amount": "1 000 000", "duration_months": "36",
        "answers_deadline": (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "questions_deadline": (NOW + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")}


@pytest.fixture
def buyer(client, make_user):
    make_user("acheteur@ville.fr")
    login(client, "acheteur@ville.fr")
    return client


def _tender_id() -> int:
    return db.session.scalar(db.select(Tender.id).order_by(Tender.id.desc()))


def test_create_a_tender_then_see_it(buyer, app_ctx):
    response = submit(buyer, "/consultations/nouvelle", FORM)
    assert response.status_code == 302
    tender = db.session.get(Tender, _tender_id())
    assert tender.amount == 1_000_000 and tender.nature == "services" and tender.status == TenderStatus.DRAFT
    page = page_text(buyer.get(f"/consultations/{tender.id}"))
    assert "Entretien des espaces verts" in page and "Reste à faire" in page and "L2112-2-1" in page


@pytest.mark.parametrize("changes, message", [
    ({"amount": "-5"}, "un montant ne peut pas être négatif"),
    ({"cpv_codes": "77310000-5"}, "chiffre de contrôle erroné"),
    ({"answers_deadline": (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"), "questions_deadline": ""},
     "elle est passée"),
    ({"questions_deadline": (NOW + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")}, "doit suivre"),
    ({"answers_deadline": "demain"}, "Date et heure invalides"),
])
def test_bad_input_is_answered_beside_the_field_and_the_rest_is_kept(buyer, app_ctx, changes, message):
    response = submit(buyer, "/consultations/nouvelle", {**FORM, **changes})
    assert response.status_code == 400
    page = page_text(response)
    assert message in page and "fr-input-group--error" in page
    assert 'value="Entretien des espaces verts"' in page and "Écoles de Roubaix, 3 ans" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Tender)) == 0


def test_another_organisations_draft_answers_404_and_its_published_tender_is_public(client, make_user, app_ctx):
    make_user("acheteur@ville.fr")
    make_user("autre@ville.fr", name="Autre ville")
    tender = new_tender(user("acheteur@ville.fr"))
    db.session.commit()
    urls = [f"/consultations/{tender.id}", f"/consultations/{tender.id}/annexe",
            f"/consultations/{tender.id}/annexe.pdf", f"/consultations/{tender.id}/modifier",
            f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses"]
    login(client, "autre@ville.fr")
    assert [client.get(url).status_code for url in urls] == [404] * len(urls)
    assert client.get("/consultations/987654").status_code == 404
    tender.status = TenderStatus.PUBLISHED
    db.session.commit()
    assert [client.get(url).status_code for url in urls] == [200, 200, 200, 404, 404]


def test_lots_and_the_clause_builder_with_its_live_checklist(buyer, app_ctx):
    submit(buyer, "/consultations/nouvelle", FORM)
    tender_id = _tender_id()
    assert submit(buyer, f"/consultations/{tender_id}/lots", {"title": "Tonte", "amount": "400000"}).status_code == 302
    refused = submit(buyer, f"/consultations/{tender_id}/lots", {"title": "Élagage", "amount": "700 000"})
    assert refused.status_code == 400 and "dépasserait" in page_text(refused)
    tender = db.session.get(Tender, tender_id)
    lot = tender.lots[0]
    url = f"/consultations/{tender_id}/lots/{lot.id}/clauses"
    page = buyer.get(url)
    text = page_text(page)
    assert 'hx-post="/consultations/%d/lots/%d/clauses/verification"' % (tender_id, lot.id) in text
    token = csrf_token(page.get_data(as_text=True))
    started = time.perf_counter()
    partial = buyer.post(url + "/verification", data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y",
                                                      "environmental_criterion": "y"})
    elapsed = time.perf_counter() - started
    body = page_text(partial)
    assert partial.status_code == 200 and "<html" not in body
    assert "1\u202f000\u202f000 € × 50 % × 5 % ÷ 30 €/h = 833 h" in body and "0,52 ETP" in body
    assert body.count("Respectée") == 3 and elapsed < 0.5 * load_factor()
    weights = buyer.post(url + "/verification", data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y",
                                                      "environmental_criterion": "y", "social_criterion": "y",
                                                      "social_criterion_weight": "90"})
    assert "dépasse 100 %" in page_text(weights)
    saved = buyer.post(url, data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y",
                                  "environmental_criterion": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).lots[0].clauses["insertion"]["insertion_rate"] == "0.05"
    bad = buyer.post(url, data={**FULL_CLAUSES, "csrf_token": token, "insertion": "y", "hours_override": "900",
                                "environmental_criterion": "y"})
    assert bad.status_code == 400 and "écrivez pourquoi" in page_text(bad) and 'value="900"' in page_text(bad)


def test_the_check_without_csrf_is_refused(buyer, app_ctx):
    submit(buyer, "/consultations/nouvelle", FORM)
    tender = db.session.get(Tender, _tender_id())
    assert buyer.post(f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses/verification",
                      data=FULL_CLAUSES).status_code == 400


def test_annex_text_and_pdf(buyer, app_ctx):
    submit(buyer, "/consultations/nouvelle", FORM)
    tender = db.session.get(Tender, _tender_id())
    page = buyer.get(f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses")
    buyer.post(f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses",
               data={**FULL_CLAUSES, "insertion": "y", "environmental_criterion": "y",
                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    text = page_text(buyer.get(f"/consultations/{tender.id}/annexe"))
    assert "833 heures" in text and "Réemploi" not in text and "réemploi" in text
    pdf = buyer.get(f"/consultations/{tender.id}/annexe.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-") and pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]


def test_attachments_by_content_and_served_as_downloads(buyer, app_ctx):
    submit(buyer, "/consultations/nouvelle", FORM)
    tender_id = _tender_id()
    show = buyer.get(f"/consultations/{tender_id}")
    token = csrf_token(show.get_data(as_text=True))
    refused = buyer.post(f"/consultations/{tender_id}/pieces-jointes", follow_redirects=True,
                         data={"csrf_token": token, "file": (io.BytesIO(b"GIF89a..."), "image.pdf")})
    assert "seul le format PDF est accepté" in page_text(refused)
    big = b"%PDF-" + b"0" * (15 * 1024 * 1024)  # over the site's 11 MB, under the 20 MB of an attachment
    done = buyer.post(f"/consultations/{tender_id}/pieces-jointes", data={"csrf_token": token,
                                                                          "file": (io.BytesIO(big), "dce.pdf")})
    assert done.status_code == 302
    tender = db.session.get(Tender, tender_id)
    attachment = tender.attachments[0]
    served = buyer.get(f"/consultations/{tender_id}/pieces-jointes/{attachment.id}")
    assert served.status_code == 200 and served.data == big
    assert served.headers["Content-Disposition"].startswith("attachment")
    buyer.post("/deconnexion", data={"csrf_token": token})
    assert buyer.get(f"/consultations/{tender_id}/pieces-jointes/{attachment.id}").status_code == 404


def test_mine_lists_the_organisations_tenders_with_what_is_left_to_do(buyer, make_user, app_ctx):
    make_user("autre@ville.fr", name="Autre ville")
    new_tender(user("autre@ville.fr"), title="Pas la mienne")
    submit(buyer, "/consultations/nouvelle", FORM)
    page = page_text(buyer.get("/consultations/mes-consultations"))
    assert "Entretien des espaces verts" in page and "Pas la mienne" not in page
    assert "Brouillon" in page and "L2112-2-1" in page


def test_mine_and_new_are_for_buyers_only(client, make_user):
    make_user("structure@siae.fr", kind=OrganisationKind.INCLUSIVE_STRUCTURE, name="SIAE")
    login(client, "structure@siae.fr")
    assert client.get("/consultations/mes-consultations").status_code == 404
    assert client.get("/consultations/nouvelle").status_code == 404


def test_start_from_a_directory_search(buyer, app_ctx):
    sector_id = db.session.scalar(db.text("select id from sector order by id limit 1"))
    page = page_text(buyer.get(f"/consultations/nouvelle?secteurs={sector_id}&territoire=dep:59"))
    assert f'<option selected value="{sector_id}">' in page and 'value="dep:59"' in page
    assert "Les secteurs et le territoire de votre recherche" in page
    results = page_text(buyer.get(f"/structures?sector={sector_id}&territory=dep:59"))
    link = re.search(r'href="(/consultations/nouvelle\?[^"]*)">Lancer une consultation avec ces critères', results)
    assert link and parse_qs(urlsplit(link.group(1)).query) == {"secteurs": [str(sector_id)], "territoire": ["dep:59"]}


def test_duplicate_and_rectificatif_pages(buyer, app_ctx):
    submit(buyer, "/consultations/nouvelle", FORM)
    tender_id = _tender_id()
    tender = db.session.get(Tender, tender_id)
    tender.status, tender.published_at = TenderStatus.PUBLISHED, NOW
    db.session.commit()
    later = (NOW + timedelta(days=50)).strftime("%Y-%m-%dT%H:%M")
    response = submit(buyer, f"/consultations/{tender_id}/modifier",
                      {**FORM, "answers_deadline": later, "note": "Report demandé par les candidats"})
    assert response.status_code == 302
    page = page_text(buyer.get(f"/consultations/{tender_id}"))
    assert "Rectificatif du" in page and "Report demandé par les candidats" in page
    assert "Date limite de réponse" in page
    copy = submit(buyer, f"/consultations/{tender_id}/dupliquer", {}, form_url=f"/consultations/{tender_id}")
    assert copy.status_code == 302 and copy.headers["Location"].endswith("/modifier")
    assert db.session.scalar(db.select(db.func.count()).select_from(Tender)) == 2


#: a NUL byte is refused for the whole site before any view (core/input.py, tested there)
ODD = ["", " ", "NaN", "Infinity", "-0", "1e999999", "1e-999999", "９９", "1_000", "<script>", "0" * 5000,
       "١٢٣", "12,5,6", "--1", "\u202f"]


@pytest.mark.parametrize("value", ODD)
def test_odd_values_never_answer_500_and_are_named_in_french(buyer, app_ctx, value):
    created = submit(buyer, "/consultations/nouvelle", {**FORM, "amount": value, "duration_months": value,
                                                        "cpv_codes": value if value.strip() else "77310000-6"})
    assert created.status_code in (302, 400)
    if created.status_code == 302:
        tender = db.session.get(Tender, _tender_id())
    else:
        assert "Le formulaire contient des erreurs" in page_text(created)
        submit(buyer, "/consultations/nouvelle", FORM)
        tender = db.session.get(Tender, _tender_id())
    url = f"/consultations/{tender.id}/lots/{tender.lots[0].id}/clauses"
    token = csrf_token(buyer.get(url).get_data(as_text=True))
    fields = {name: value for name in ("amount_basis", "labour_share", "insertion_rate", "hourly_cost",
                                       "hours_override", "penalty_per_hour", "social_criterion_weight",
                                       "environmental_criterion_weight", "reservation", "waiver_exception")}
    flags = {"insertion": "y", "social_criterion": "y", "environmental_criterion": "y", "modes": value,
             "publics": "long_term_jobseeker"}
    checked = buyer.post(url + "/verification", data={**fields, **flags, "csrf_token": token})
    assert checked.status_code == 200
    saved = buyer.post(url, data={**fields, **flags, "csrf_token": token})
    assert saved.status_code == 400 and "fr-error-text" in saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Tender, tender.id).lots[0].clauses == {}
