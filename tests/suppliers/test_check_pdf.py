"""The supplier check as a PDF: up to INLINE_MAX_ROWS lines rendered inside the request, one more line
queued through the outbox (RQ on the real Redis), « en préparation » until the worker has rendered it,
stored outside static/, and downloadable by the buyer who asked only (404 for everyone else)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from marche import create_app
from marche.accounts.models import OrganisationKind
from marche.core import outbox
from marche.core.dates import today
from marche.core.identifiers import is_valid_siret
from marche.core.models import GeneratedDocument
from marche.core.documents import INLINE_MAX_ROWS
from marche.core.pdf import STATIC_DIR
from marche.extensions import db
from tests.conftest import _luhn_sirets, _take, csrf_token, login, page_text
from tests.core.test_pdf import pdf_text

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHECK_URL = "/verifier-mes-fournisseurs"
EXPORT_URL = CHECK_URL + "/export"
#: SIRETs with a right check digit, in an empty directory: each line answers « non inclusive »
SIRETS = _take(_luhn_sirets(), INLINE_MAX_ROWS + 1)


def wrong_key(siret: str) -> str:
    wrong = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    assert not is_valid_siret(wrong)
    return wrong


def post_pdf(client, values: list[str]):
    token = csrf_token(client.get(CHECK_URL).get_data(as_text=True))
    entries = json.dumps([[number, value] for number, value in enumerate(values, start=2)])
    return client.post(EXPORT_URL, data={"entries": entries, "format": "pdf", "csrf_token": token})


@pytest.fixture
def rq_app(app_config, app):
    """The application with the real Redis queue: the worker, not the request, renders large PDFs."""
    application = create_app({**app_config, "REDIS_URL": REDIS_URL})
    Redis.from_url(REDIS_URL).delete(f"rq:queue:{application.config['RQ_QUEUE']}")
    return application


def test_small_list_is_rendered_inline_with_its_answer(rq_app, make_user, tmp_path):
    make_user("acheteuse@example.fr", kind=OrganisationKind.PUBLIC_BUYER)
    client = rq_app.test_client()
    login(client, "acheteuse@example.fr")
    values = [SIRETS[0], wrong_key(SIRETS[1]), "12 34"]
    response = post_pdf(client, values)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=verification-fournisseurs-{today().isoformat()}.pdf")
    assert response.headers["Cache-Control"] == "private, no-store"
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert "Vérification de fournisseurs" in text and f"Édité le {today().strftime('%d/%m/%Y')}" in text
    assert f"2 {SIRETS[0]} Non inclusive" in text
    assert f"3 {wrong_key(SIRETS[1])} Numéro invalide" in text and "SIRET invalide (clé de contrôle)" in text
    assert "4 12 34 Numéro invalide" in text
    with rq_app.app_context():
        assert db.session.scalar(select(GeneratedDocument.id)) is None  # nothing stored, nothing queued
        assert outbox.rq_queue(rq_app).count == 0


def test_list_at_the_threshold_is_inline_one_more_goes_through_the_worker(rq_app, make_user, tmp_path):
    make_user("acheteuse@example.fr", kind=OrganisationKind.PUBLIC_BUYER)
    make_user("collegue@example.fr", kind=OrganisationKind.PUBLIC_BUYER, name="Autre ville")
    make_user("admin@example.fr", kind=OrganisationKind.PLATFORM, admin=True)
    buyer, other, admin = rq_app.test_client(), rq_app.test_client(), rq_app.test_client()
    login(buyer, "acheteuse@example.fr")
    login(other, "collegue@example.fr")
    login(admin, "admin@example.fr")

    at_threshold = post_pdf(buyer, SIRETS[:INLINE_MAX_ROWS])
    assert at_threshold.status_code == 200 and at_threshold.mimetype == "application/pdf"

    queued = post_pdf(buyer, SIRETS[:INLINE_MAX_ROWS + 1])
    assert queued.status_code == 302
    page_url = queued.headers["Location"]
    with rq_app.app_context():
        document = db.session.execute(select(GeneratedDocument)).scalar_one()
        assert page_url == f"/documents/{document.id}" and document.status == "pending" and document.path is None
        assert outbox.rq_queue(rq_app).count == 1
        db.session.remove()
    download_url = page_url + "/telecharger"

    waiting = buyer.get(page_url)
    assert waiting.status_code == 200 and "Document en préparation" in page_text(waiting)
    assert buyer.get(download_url).headers["Location"] == page_url  # not ready: back to the page
    for stranger in (other, admin):  # not even a platform admin: it is the buyer's own list
        assert stranger.get(page_url).status_code == 404
        assert stranger.get(download_url).status_code == 404
    assert rq_app.test_client().get(page_url).status_code == 302  # anonymous: to the login page

    with rq_app.app_context():
        outbox.run_worker(rq_app, burst=True)
        document = db.session.execute(select(GeneratedDocument)).scalar_one()
        stored = Path(rq_app.instance_path) / "uploads" / document.path
        assert document.status == "ready" and stored.is_file()
        assert not stored.resolve().is_relative_to(STATIC_DIR)
        db.session.remove()

    ready = buyer.get(page_url)
    assert "est prêt" in page_text(ready) and "Document en préparation" not in page_text(ready)
    download = buyer.get(download_url)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=verification-fournisseurs-{today().isoformat()}.pdf")
    text = " ".join(pdf_text(download.data, tmp_path).split())
    last = INLINE_MAX_ROWS + 2  # the lines sent start at 2
    assert f"{last} {SIRETS[INLINE_MAX_ROWS]} Non inclusive" in text
    assert f"Lignes vérifiées {INLINE_MAX_ROWS + 1}" in text
    for stranger in (other, admin):
        assert stranger.get(download_url).status_code == 404
