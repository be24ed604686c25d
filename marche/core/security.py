"""Security headers on every response (pages, API, static files, error pages): a strict
Content-Security-Policy, anti-framing, no MIME sniffing, and HSTS in production only.

No page needs an inline script or style: scripts and styles are files under /static/, user text reaches
scripts through `data-` attributes (`|tojson`) and is set with `textContent`. A template that really
needs an inline `<script>` calls `csp_nonce()`; the nonce is then added to `script-src` for that
response only, so a page that does not ask for one keeps `script-src 'self'`.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g

from ..config import tiles_origin

#: one year, the value HSTS preload lists ask for
HSTS_MAX_AGE = 365 * 24 * 3600

#: powerful browser features the portal never uses; an injected script or a framed page cannot ask for them
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer",
    "microphone", "midi", "payment", "usb", "xr-spatial-tracking"))


def csp_nonce() -> str:
    """The nonce of this response's inline scripts (created on first use, once per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str | None = None, tiles_origin: str | None = None) -> str:
    # 'report-sample': a violation report carries the first characters of what was blocked
    script_src = "'self' 'report-sample'" + (f" 'nonce-{nonce}'" if nonce else "")
    directives = {
        "default-src": "'self'",
        "script-src": script_src,
        # no 'unsafe-inline': htmx's indicator <style> is switched off (meta htmx-config in base.html) and
        # Leaflet, tom-select and the DSFR set styles through the CSSOM, which CSP allows
        "style-src": "'self' 'report-sample'",
        # data: for the DSFR's and Leaflet's small inline SVG images (select arrows, icons); blob: for
        # images a script builds; a tile server only when MAP_TILES_URL names one (the maps draw our own
        # department outlines, and by default load nothing from another host)
        "img-src": "'self' data: blob:" + (f" {tiles_origin}" if tiles_origin else ""),
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(nonce: str | None, production: bool, tiles_origin: str | None = None) -> dict[str, str]:
    """The headers every answer carries, pages and static files alike (core/assets.py serves the latter)."""
    headers = {
        "Content-Security-Policy": content_security_policy(nonce, tiles_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    # only in production: a development server on http://127.0.0.1 must not pin the browser to https
    if production:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}; includeSubDomains"
    return headers


def set_security_headers(response: Response) -> Response:
    production = current_app.config.get("MARCHE_ENV") == "production"
    tiles = current_app.config.get("MAP_TILES_URL")
    response.headers.update(security_headers(g.get("csp_nonce"), production, tiles_origin(tiles) if tiles else None))
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
