"""URLs: links sent outside the site (e-mails) come from BASE_URL, never from the request's Host header;
a `next` target is followed only when it is a plain path on this site."""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


@contextmanager
def url_context():
    """Links in mails are built from BASE_URL: a worker has no request, so it borrows one."""
    if has_request_context():
        yield
    else:
        with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
            yield


def is_safe_next(target: str | None) -> bool:
    """A path on this site: starts with one "/", no scheme or host, no backslash (browsers read "/\\evil"
    as "//evil"), no control character (CR/LF would split the Location header)."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """`target` when it is safe, else `fallback` (the home page by default)."""
    if is_safe_next(target):
        return target  # type: ignore[return-value]
    return fallback or url_for("core.home")
