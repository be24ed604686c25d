"""Dashboards and bilans through the pages: who sees a year's bilan (the keeper's members, a buyer for its own
contracts, a platform admin; 404 for anyone else), the figures on the page and in the CSV/XLSX (recomputed here
from the lines declared), the contract's dashboard partial with its alert, the PDFs rendered for real and read
back with pdftotext, the exits page."""
from __future__ import annotations

import csv
import io
import subprocess
import time
from datetime import date
from decimal import Decimal

from flask import render_template_string
from openpyxl import load_workbook

from marche.accounts.models import OrganisationKind
from marche.extensions import db
from marche.insertion.models import ParticipantExit
from tests.conftest import csrf_token, load_factor, login, page_text
from tests.insertion.world import (BUYER, FACILITATOR, HOLDER, STRANGER, UNVERIFIED, contract, declared,
                                   hours_world)  # noqa: F401 (fixture)

NNBSP = "\u202f"
#: issue 22: a contract bilan PDF in at most 1.5 s
PDF_TARGET_S = 1.5


def client_of(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def with_hours(app, ids) -> dict:
    """Validated 35 + 42,5 h (p1, p2 in February), a line of 20 h corrected to 12 h (validated), 7 h waiting, 9 h
    rejected: validated 35 + 42,5 + 12 = 89,5 h; pending 7 h."""
    with app.app_context():
        declared(ids, "holder", "p1", date(2026, 2, 1), "35", validate=True)
        declared(ids, "partner", "p2", date(2026, 2, 1), "42.5", mode="made_available", validate=True)
        original = declared(ids, "holder", "p1", date(2026, 3, 1), "20", validate=True)
        declared(ids, "facilitator", "p1", date(2026, 4, 1), "7")
        rejected = declared(ids, "holder", "p2", date(2026, 4, 1), "9")
        from flask import current_app

        from marche.insertion import services
        from tests.insertion.world import declaration, user
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            facilitator = user(ids["facilitator"])
            correction = services.correct(user(ids["holder"]), ids["holder_org"], declaration(original),
                                          "direct_hire", Decimal(12))
            services.validate(facilitator, correction)
            services.reject(facilitator, declaration(rejected), "Heures en double")
            db.session.commit()
    return {"validated": Decimal("89.5"), "pending": Decimal(7), "participants": 2}


def french(value: Decimal, decimals: int = 2) -> str:
    whole, _, fraction = f"{value:.{decimals}f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return NNBSP.join(groups) + ("," + fraction if fraction else "")


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "bilan.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def test_a_year_bilan_is_seen_by_its_keeper_and_buyer_only(app, hours_world, make_user):
    ids = hours_world
    make_user("admin@plateforme.example.fr", kind=OrganisationKind.PLATFORM, admin=True)
    facilitator_year = f"/bilans/2026?organisation={ids['facilitator_org']}"
    expected = {FACILITATOR: 200, BUYER: 404, HOLDER: 404, STRANGER: 404, UNVERIFIED: 404,
                "admin@plateforme.example.fr": 200}
    seen = {email: client_of(app, email).get(facilitator_year).status_code for email in expected}
    assert seen == expected
    # the buyer sees its own organisation's year (its contracts), the holder keeps nothing, the stranger its own
    assert client_of(app, BUYER).get(f"/bilans/2026?organisation={ids['buyer_org']}").status_code == 200
    assert client_of(app, BUYER).get("/bilans/2026").status_code == 200
    assert client_of(app, HOLDER).get("/bilans").status_code == 404
    assert client_of(app, HOLDER).get("/bilans/2026").status_code == 404
    assert client_of(app, UNVERIFIED).get("/bilans").status_code == 404
    for path in (f"/bilans/2026.pdf?organisation={ids['facilitator_org']}",
                 f"/bilans/2026.csv?organisation={ids['facilitator_org']}",
                 f"/bilans/2026.xlsx?organisation={ids['facilitator_org']}",
                 f"/bilans/2026?organisation={ids['facilitator_org']}abc", "/bilans/1999",
                 "/bilans/2026?organisation=99999999"):
        assert client_of(app, STRANGER).get(path).status_code == 404, path
    assert app.test_client().get("/bilans/2026").status_code in (302, 401)


def test_the_year_page_and_its_exports_show_the_figures(app, hours_world):
    ids = hours_world
    wanted = with_hours(app, ids)
    with app.app_context():
        db.session.add(ParticipantExit(participant_id=ids["p1"], contract_id=ids["contract"], situation="cdi",
                                       observed_on=date(2026, 9, 1)))
        db.session.commit()
    client = client_of(app, FACILITATOR)
    index = page_text(client.get("/bilans"))
    assert "PLIE Lille Métropole" in index and "Bilan 2026" in index
    page = page_text(client.get(f"/bilans/2026?organisation={ids['facilitator_org']}"))
    assert f"{french(wanted['validated'])} h" in page
    assert f"{french(wanted['pending'])} h" in page
    # completion: 89,5 ÷ 1 000 (the contract's 12 months are all in 2026) = 9,0 % (8,95 rounded half up)
    assert "9,0 %" in page
    assert "Entretien des espaces verts de Lille" in page and 'data-insertion-chart="year"' in page
    assert "vendor/chart/chart.umd.min.js" in page

    response = client.get(f"/bilans/2026.csv?organisation={ids['facilitator_org']}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Rubrique", "Libellé", "Objectif de l'année (h)", "Heures validées"]
    total = next(r for r in rows if r[0] == "Total" and r[1] == "Année 2026")
    assert total[2:7] == ["1000,00", "89,50", "7,00", "2", "9,0"]
    declared_row = next(r for r in rows if r[1] == "Heures déclarées (hors rejets)")
    assert declared_row[3] == "96,50"  # 89,5 validated + 7 waiting; the 9 h rejected and the 20 h corrected out
    etp_row = next(r for r in rows if r[1].startswith("ETP"))
    assert etp_row[3] == str((Decimal("89.5") / 1607).quantize(Decimal("0.01"))).replace(".", ",")
    modes = {r[1]: r[3] for r in rows if r[0] == "Modes de réalisation"}
    assert list(modes.values()) == ["47,00", "42,50"]  # direct hire 35 + 12, made available 42,5
    assert ["Sorties à 6 mois", "CDI", "", "", "", "", "", "1"] in rows
    february = next(r for r in rows if r[0] == "Mois" and r[1] == "02/2026")
    assert february[3] == "77,50"

    workbook = load_workbook(io.BytesIO(client.get(f"/bilans/2026.xlsx?organisation={ids['facilitator_org']}").data))
    sheet_rows = [[c.value for c in row] for row in workbook.active.iter_rows()]
    assert sheet_rows[1][:4] == ["Total", "Année 2026", "1000,00", "89,50"]


def test_the_contract_dashboard_partial_draws_the_figures_and_the_alert(app, hours_world):
    ids = hours_world
    with_hours(app, ids)
    with app.test_request_context():
        the_contract = contract(ids["contract"])
        html = render_template_string(
            '{% set figures = contract_figures(contract) %}{% include "insertion/_contract_dashboard.html" %}',
            contract=the_contract)
    # today, at least one month of 2026 is over and 89,5 h are far below 80 % of the pro-rata target
    assert "Marché en retard sur son objectif" in html
    assert "89,50 h" in html and 'data-insertion-chart="contract"' in html
    assert f"/contrats/{ids['contract']}/bilan.pdf" in html


def test_the_contract_bilan_pdf_and_csv(app, hours_world, tmp_path):
    ids = hours_world
    wanted = with_hours(app, ids)
    client = client_of(app, BUYER)
    started = time.perf_counter()
    response = client.get(f"/contrats/{ids['contract']}/bilan.pdf")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path)
    assert "Entretien des espaces verts de Lille" in text
    assert f"Heures validées {french(wanted['validated'])} h".replace(NNBSP, " ") in text
    assert f"Participants {wanted['participants']}" in text
    assert "Heures en attente de validation 7,00 h" in text
    assert "02/2026 77,50" in text
    assert elapsed <= PDF_TARGET_S * 3 * load_factor()  # a first rendering loads WeasyPrint and the fonts

    rows = list(csv.reader(io.StringIO(client.get(f"/contrats/{ids['contract']}/bilan.csv").get_data(as_text=True)
                                       .lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "Mois" and len(rows) == 1 + 12 + 1
    assert rows[2][:4] == ["02/2026", "77,50", "0,00", "77,50"]
    assert rows[3][:4] == ["03/2026", "12,00", "0,00", "89,50"]
    assert rows[-1][:3] == ["Total", "89,50", "7,00"]
    for email in (STRANGER, UNVERIFIED):
        assert client_of(app, email).get(f"/contrats/{ids['contract']}/bilan.pdf").status_code == 404
        assert client_of(app, email).get(f"/contrats/{ids['contract']}/bilan.csv").status_code == 404


def test_the_year_bilan_pdf(app, hours_world, tmp_path):
    ids = hours_world
    with_hours(app, ids)
    response = client_of(app, FACILITATOR).get(f"/bilans/2026.pdf?organisation={ids['facilitator_org']}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path)
    assert "Bilan 2026 des clauses d'insertion" in text and "PLIE Lille Métropole" in text
    assert "Heures validées 89,50 h" in text and "Heures déclarées (hors rejets) 96,50 h" in text
    assert "Taux de réalisation 9,0 %" in text
    assert "Entretien des espaces verts de Lille" in text


def test_the_keeper_records_exits_on_its_page(app, hours_world):
    ids = hours_world
    with_hours(app, ids)
    url = f"/contrats/{ids['contract']}/sorties"
    assert client_of(app, HOLDER).get(url).status_code == 404
    assert client_of(app, STRANGER).get(url).status_code == 404
    client = client_of(app, FACILITATOR)
    page = client.get(url)
    assert "LIL-001" in page_text(page) and "LIL-002" in page_text(page)
    token = csrf_token(page.get_data(as_text=True))
    future = client.post(url, data={"csrf_token": token, "participant_id": ids["p1"], "situation": "cdi",
                                    "observed_on": "2099-01-01"}, follow_redirects=True)
    assert "ne peut être dans le futur" in page_text(future)
    done = client.post(url, data={"csrf_token": token, "participant_id": ids["p1"], "situation": "cdi",
                                  "observed_on": "2026-11-02"}, follow_redirects=True)
    assert "Sortie de LIL-001 enregistrée." in page_text(done)
    unknown = client.post(url, data={"csrf_token": token, "participant_id": "999999", "situation": "cdi",
                                     "observed_on": "2026-11-02"}, follow_redirects=True)
    assert "choisissez un participant de la liste" in page_text(unknown)
    bad_date = client.post(url, data={"csrf_token": token, "participant_id": ids["p2"], "situation": "cdi",
                                      "observed_on": "31/02/2026"}, follow_redirects=True)
    assert "Date d'observation" in page_text(bad_date)
    assert client.post(url, data={"participant_id": ids["p1"], "situation": "cdi",
                                  "observed_on": "2026-11-02"}).status_code == 400  # no CSRF token
    with app.app_context():
        rows = db.session.scalars(db.select(ParticipantExit)).all()
        assert [(r.participant_id, r.situation, r.observed_on) for r in rows] == [(ids["p1"], "cdi",
                                                                                   date(2026, 11, 2))]


def test_a_year_of_many_contracts_is_rendered_by_the_worker(app, hours_world, tmp_path):
    """Past INLINE_MAX_ROWS contracts in the year, the PDF is queued (the outbox runs inline without Redis) and
    only the user who asked downloads it."""
    from marche.core.documents import INLINE_MAX_ROWS
    from marche.insertion.models import Contract

    ids = hours_world
    with app.app_context():
        db.session.add_all([Contract(title=f"Marché n° {n}", buyer_organisation_id=ids["buyer_org"],
                                     buyer_name="Ville de Lille", starts_on=date(2026, 1, 1),
                                     ends_on=date(2026, 12, 31), holder_kind="company", holder_name="Titulaire",
                                     hours_target=Decimal(100), facilitator_organisation_id=ids["facilitator_org"])
                            for n in range(INLINE_MAX_ROWS)])  # with the world's contract: one more than inline
        db.session.commit()
    client = client_of(app, FACILITATOR)
    response = client.get(f"/bilans/2026.pdf?organisation={ids['facilitator_org']}")
    assert response.status_code == 302 and "/documents/" in response.headers["Location"]
    document_page = response.headers["Location"]
    assert client.get(document_page).status_code == 200
    download = client.get(document_page.rstrip("/") + "/telecharger")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "Marché n° 199" in pdf_text(download.data, tmp_path)
    assert client_of(app, BUYER).get(document_page).status_code == 404
