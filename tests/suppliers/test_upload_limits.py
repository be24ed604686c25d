"""Upload bombs through the application: the supplier check page answers beside its file field, a 200 MB
logo is refused (413) from its Content-Length before being read, the 10 MB logo limit holds on both sides."""
from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import select

from marche.extensions import db
from marche.suppliers.models import Structure
from marche.suppliers.services import MAX_UPLOAD_BYTES
from tests.conftest import load_factor, login, page_text, submit
from tests.core.malicious_files import LazyBody, huge_shared_string, lying_dimension
from tests.core.test_upload_limits import HEADER, Measured
from tests.suppliers.test_profiles import COLLECTERIE, claim_setup, own, post_file

CHECK_URL = "/verifier-mes-fournisseurs"


@pytest.fixture
def buyer(client, make_user):
    make_user("acheteuse@example.fr")
    login(client, "acheteuse@example.fr")
    return client


def test_check_page_answers_bombs_beside_the_file_field(buyer):
    cases = [
        (huge_shared_string(300), "bombe.xlsx", "dépasserait 20 Mo"),
        (b"SIRET\n" + b"1" * 200_000 + b"\n", "long.csv", "Ligne 2 illisible : un champ dépasse 32767 caractères"),
        (b"SIRET\n" + b"0" * (5 * 1024 * 1024), "gros.csv", "Le fichier dépasse la taille autorisée (5 Mo)."),
    ]
    for data, name, message in cases:
        start = time.perf_counter()
        response = submit(buyer, CHECK_URL, {"file": (io.BytesIO(data), name)})
        assert time.perf_counter() - start < 2 * load_factor()
        assert response.status_code == 200
        text = page_text(response)
        assert message in text and "fr-input-group--error" in text
    response = submit(buyer, CHECK_URL, {"file": (io.BytesIO(lying_dimension(HEADER)), "dimension.xlsx")})
    # the lying dimension costs nothing: its one real line is answered (not in the empty directory)
    assert response.get_data(as_text=True).count('data-status="not_inclusive"') == 1


def _owner(app, make_user, make_structure):
    client = claim_setup(app, make_user, make_structure)
    own(app)
    return client


def test_200_mb_logo_is_refused_before_it_is_read(app, make_user, make_structure):
    client = _owner(app, make_user, make_structure)
    size = 200 * 1024 * 1024
    body = LazyBody(b'--B\r\nContent-Disposition: form-data; name="logo-logo"; filename="logo.png"\r\n'
                    b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n", size, b"\r\n--B--\r\n")
    with Measured() as cost:
        response = client.post(f"/structures/{COLLECTERIE}/logo", input_stream=body, content_length=size,
                               content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "Fichier trop volumineux" in page_text(response) and "10 Mo par fichier" in page_text(response)
    assert body.read_bytes < 1024 * 1024  # the body was refused from its Content-Length
    assert cost.seconds < 2 and cost.peak_mb < 5


def test_logo_limit_on_both_sides(app, make_user, make_structure):
    client = _owner(app, make_user, make_structure)
    png = b"\x89PNG\r\n\x1a\n"
    url, form_url = f"/structures/{COLLECTERIE}/logo", f"/structures/{COLLECTERIE}/modifier"
    over = png + b"0" * (MAX_UPLOAD_BYTES + 1 - len(png))
    response = post_file(client, url, form_url, {}, "logo-logo", over, "logo.png")
    assert response.status_code == 400
    assert "Le fichier dépasse la taille autorisée (10 Mo)." in page_text(response)
    exact = png + b"0" * (MAX_UPLOAD_BYTES - len(png))
    response = post_file(client, url, form_url, {}, "logo-logo", exact, "logo.png")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Structure.logo_path)).scalar_one()
