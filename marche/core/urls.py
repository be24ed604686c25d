"""Links sent outside the site (e-mails) are built from BASE_URL, never from the request's Host header."""
from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)
