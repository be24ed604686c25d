"""Security headers on every kind of response, and templates that need no inline script or style.

The browser side (no CSP violation on any page, no script run from user text) is in tests/e2e/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string

from marche import create_app
from marche.core.security import HSTS_MAX_AGE

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MARCHE = Path(__file__).resolve().parents[2] / "marche"


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in policy.split(";")) if part}


def assert_security_headers(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self' 'report-sample'"
    assert csp["style-src"] == "'self' 'report-sample'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["img-src"].split() == ["'self'", "data:", "blob:"]
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions
    assert "Strict-Transport-Security" not in response.headers  # not in production


@pytest.mark.parametrize("path, status, mimetype", [
    ("/", 200, "text/html"),                                   # HTML page
    ("/connexion", 200, "text/html"),                          # HTML page with a form
    ("/api/v1/openapi.json", 200, "application/json"),         # JSON API
    ("/api/v1/structures?q=ressourcerie", 200, "application/json"),
    ("/healthz", 200, "application/json"),
    ("/static/css/marche.css", 200, "text/css"),               # static file
    ("/static/js/area_map.js", 200, "text/javascript"),
    ("/geo/departements.geojson", 200, "application/geo+json"),  # data file read by the maps
    ("/nulle-part", 404, "text/html"),                         # error page
    ("/api/v1/nulle-part", 404, "application/json"),           # API error
    ("/deconnexion", 405, "text/html"),                        # GET on a POST-only route
    ("/admin/outbox", 302, "text/html"),                       # redirect to the login page
])
def test_every_route_type_carries_the_headers(client, path, status, mimetype):
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == mimetype
    assert_security_headers(response)


def test_csrf_error_page_carries_the_headers(client):
    response = client.post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 400
    assert_security_headers(response)


def test_500_page_carries_the_headers(app_config):
    app = create_app({**app_config, "TESTING": False})

    @app.get("/__boom")
    def boom():  # a failing route: the page a user gets after an unexpected error
        raise RuntimeError("boom")

    response = app.test_client().get("/__boom")
    assert response.status_code == 500
    assert "Erreur inattendue" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_hsts_only_in_production(app, app_config):
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers  # MARCHE_ENV=test
    development = create_app({**app_config, "MARCHE_ENV": "development"})
    assert "Strict-Transport-Security" not in development.test_client().get("/static/css/marche.css").headers

    production = create_app({**app_config, "MARCHE_ENV": "production", "MARCHE_PASSWORD_HASH_COST": "default"})
    client = production.test_client()
    for path in ("/", "/static/css/marche.css", "/api/v1/openapi.json", "/nulle-part"):
        hsts = client.get(path).headers["Strict-Transport-Security"]
        assert hsts == f"max-age={HSTS_MAX_AGE}; includeSubDomains"
        assert HSTS_MAX_AGE >= 365 * 24 * 3600


def test_nonce_only_when_a_template_asks_for_one(app_config):
    app = create_app(app_config)  # a fresh app: routes cannot be added to one that already served requests
    nonces = []

    @app.get("/__inline-script")
    def inline_script():  # a page that keeps one inline script, the way a template should write it
        return render_template_string('<script nonce="{{ csp_nonce() }}">window.x = 1;</script>'
                                      '<script nonce="{{ csp_nonce() }}">window.y = 2;</script>')

    client = app.test_client()
    for _ in range(2):
        response = client.get("/__inline-script")
        found = set(re.findall(r'nonce="([^"]+)"', response.get_data(as_text=True)))
        assert len(found) == 1  # one nonce per response, shared by its scripts
        nonce = found.pop()
        assert len(nonce) >= 22
        assert directives(response)["script-src"] == f"'self' 'report-sample' 'nonce-{nonce}'"
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # a fresh nonce per request
    assert directives(client.get("/"))["script-src"] == "'self' 'report-sample'"


def _template_files():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


def test_templates_have_no_inline_script_style_or_handler():
    offenders = []
    for path in _template_files():
        text = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)  # Jinja comments may name what they avoid
        name = str(path.relative_to(TEMPLATES))
        if re.search(r"\sstyle\s*=", text):
            offenders.append(f"{name}: attribut style=")
        if re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", text):
            offenders.append(f"{name}: gestionnaire d'événement en ligne (on...=)")
        if "javascript:" in text.lower():
            offenders.append(f"{name}: URL javascript:")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                offenders.append(f"{name}: script en ligne {tag}")
        if "<style" in text and not name.startswith("mails/"):  # mails are never served as a web page
            offenders.append(f"{name}: élément <style>")
    assert offenders == []


def test_no_user_text_is_marked_safe():
    """Autoescape is the only defence of server-rendered text: nothing in templates or code bypasses it."""
    offenders = [str(p.relative_to(TEMPLATES)) for p in _template_files() if re.search(r"\|\s*safe\b", p.read_text())]
    offenders += [str(p.relative_to(MARCHE)) for p in MARCHE.rglob("*.py") if re.search(r"\bMarkup\(", p.read_text())]
    assert offenders == []


def test_scripts_never_give_user_text_to_html_sinks():
    """Our scripts set text with textContent; Leaflet and tom-select get DOM elements or escaped strings."""
    for path in sorted((MARCHE / "static" / "js").glob("*.js")):
        code = path.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(", code), path
        for call in re.findall(r"\.bind(?:Tooltip|Popup)\(([^)]*)\)", code):
            # domLater(...) refuses anything but a DOM node when Leaflet asks for the content
            assert call.startswith(("textElement(", "link", "domLater(")), f"{path.name}: bindTooltip/bindPopup({call})"


def test_autoescape_turns_payload_into_text(app):
    with app.test_request_context():
        html = render_template_string("<p>{{ name }}</p><div data-x='{{ data|tojson }}'></div>",
                                      name='"><img src=x onerror=alert(1)>', data={"n": "'><svg onload=alert(1)>"})
    assert "<img" not in html and "<svg" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
