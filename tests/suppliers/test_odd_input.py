"""Odd input on structure pages: numbers typed with non-ASCII digits answer beside their field, a posted
`next` with CRLF or another host is not followed, a structure name with a line break cannot add an
e-mail header (the mail goes through the real SMTP server)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marche.extensions import db
from marche.suppliers.models import Structure
from tests.conftest import login, page_text, submit
from tests.suppliers.test_profiles import COLLECTERIE, claim_setup, own

DIGITS_ONLY = "Nombre entier attendu, écrit avec les chiffres 0 à 9."
PROFILE = {"name": "La Collecterie", "area_kind": "radius", "area_radius_km": "50", "area_refs": "",
           "inclusion_workers_count": ""}


@pytest.mark.parametrize("typed", ["٣", "３", "²", "1e999", "NaN"])
def test_profile_numbers_take_ascii_digits_only(app, make_user, make_structure, typed):
    client = claim_setup(app, make_user, make_structure)
    own(app)
    response = submit(client, f"/structures/{COLLECTERIE}/modifier", {**PROFILE, "employees_count": typed})
    assert response.status_code == 200 and DIGITS_ONLY in page_text(response)
    response = submit(client, f"/structures/{COLLECTERIE}/modifier", {**PROFILE, "employees_count": "3"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Structure.employees_count)).scalar_one() == 3


@pytest.mark.parametrize("radius", ["٣٠", "abc", "7"])
def test_a_choice_outside_the_list_is_refused_in_french(app, make_user, make_structure, radius):
    """WTForms' own messages (a select that coerces to int) are in French, beside the field."""
    client = claim_setup(app, make_user, make_structure)
    own(app)
    response = submit(client, f"/structures/{COLLECTERIE}/modifier", {**PROFILE, "area_radius_km": radius})
    text = page_text(response)
    assert response.status_code == 200 and ("N'est pas un choix valide" in text or "Choix non valide" in text), text[:2000]
    assert "Not a valid" not in text
    assert submit(client, f"/structures/{COLLECTERIE}/modifier", PROFILE).status_code == 302  # a listed radius


@pytest.mark.parametrize("posted, expected", [
    ("/favoris", "/favoris"),
    ("/favoris\r\nSet-Cookie: pirate=1", f"/structures/{COLLECTERIE}"),
    ("https://evil.example/", f"/structures/{COLLECTERIE}"),
    ("/\\evil.example", f"/structures/{COLLECTERIE}"),
    ("//evil.example/", f"/structures/{COLLECTERIE}"),
    ("\\\\evil.example/", f"/structures/{COLLECTERIE}"),
    ("/structures?q=bois", "/structures?q=bois"),
])
def test_favourite_next_is_followed_only_when_safe(app, make_user, make_structure, posted, expected):
    make_structure()
    make_user("acheteur@ville.fr")
    buyer = app.test_client()
    login(buyer, "acheteur@ville.fr")
    response = submit(buyer, f"/structures/{COLLECTERIE}/favoris",
                      {"favorite_list": "0", "new_list": "Nettoyage", "next": posted},
                      form_url=f"/structures/{COLLECTERIE}")
    assert response.status_code == 302 and response.headers["Location"] == expected


def test_line_break_in_a_name_adds_no_mail_header(app, make_user, make_structure, mailbox):
    make_structure(name="Atelier\r\nBcc: pirate@example.fr", website="https://www.collecterie.fr")
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    client = app.test_client()
    login(client, "nadia@collecterie.fr")
    response = submit(client, f"/structures/{COLLECTERIE}/revendiquer",
                      {"evidence_kind": "email_domain", "message": ""},
                      form_url=f"/structures/{COLLECTERIE}")
    assert response.status_code == 302
    message = mailbox.last_to("admin@plateforme.fr")
    assert message["Subject"] == "Revendication de la fiche Atelier Bcc: pirate@example.fr"
    assert message["Bcc"] is None
    assert not any("pirate" in to for m in mailbox for to in m.get_all("To", []))
