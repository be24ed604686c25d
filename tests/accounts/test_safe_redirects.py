"""Redirects that follow a user-supplied target (`next`) stay on this site, whatever its spelling.

Browsers read a backslash as a slash, so `/\\evil.example` is `//evil.example`: another site.
"""
from __future__ import annotations

import pytest

from tests.conftest import csrf_token

OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example/"]


def stays_here(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target, kept", [(target, False) for target in OFF_SITE] + [("/structures?q=bois", True)])
def test_login_next_stays_on_the_site(app, make_user, target, kept):
    make_user("acheteur@ville.fr")
    client = app.test_client()
    page = client.get("/connexion", query_string={"next": target})
    response = client.post("/connexion", query_string={"next": target}, data={
        "email": "acheteur@ville.fr", "password": "motdepasse-solide-1",
        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert stays_here(location), location
    assert (location == target) is kept  # a target of ours is kept, another site's is not

# the favourites form's `next`: tests/suppliers/test_odd_input.py::test_favourite_next_is_followed_only_when_safe
