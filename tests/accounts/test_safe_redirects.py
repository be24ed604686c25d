"""Redirects that follow a user-supplied target (`next`) stay on this site, whatever its spelling.

Browsers read a backslash as a slash, so `/\\evil.example` is `//evil.example`: another site.
"""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login, submit
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture shared with the supplier tests)

COLLECTERIE = "75187049400026"
OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example/"]


def stays_here(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OFF_SITE + ["/structures?q=bois"])
def test_login_next_stays_on_the_site(app, make_user, target):
    make_user("acheteur@ville.fr")
    client = app.test_client()
    page = client.get("/connexion", query_string={"next": target})
    response = client.post("/connexion", query_string={"next": target}, data={
        "email": "acheteur@ville.fr", "password": "motdepasse-solide-1",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_here(location), location
    if target.startswith("/structures"):
        assert location == target  # a target of ours is kept


@pytest.mark.parametrize("target", OFF_SITE + ["/structures?q=bois"])
def test_favourite_next_stays_on_the_site(app, make_user, make_structure, target):  # noqa: F811
    make_structure()
    make_user("acheteur@ville.fr")
    client = app.test_client()
    login(client, "acheteur@ville.fr")
    response = submit(client, f"/structures/{COLLECTERIE}/favoris",
                      {"favorite_list": "0", "new_list": "Propreté", "next": target},
                      form_url=f"/structures/{COLLECTERIE}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_here(location), location
    if target.startswith("/structures"):
        assert location == target  # the search page the buyer came from is kept
