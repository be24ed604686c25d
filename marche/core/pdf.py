"""PDF rendering with WeasyPrint, reading nothing but our own static files.

A document is a Jinja template (extending `pdf/base.html`) rendered to HTML, then to PDF with the
French print stylesheet `static/css/print.css`. The URL fetcher answers only for files under
`marche/static/` (as `/static/...` or a `file://` path inside it): no network, no other file of
the machine, so a URL slipped into a document (`<img src="http://…">`, `file:///etc/passwd`) is
never fetched. Small documents are rendered inside the request, large ones by the worker
(`core/documents.py` chooses).
"""
from __future__ import annotations

import io
import logging
import mimetypes
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from flask import render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: documents are rendered as if served from this origin: `/static/…` resolves to STATIC_DIR, and
#: no real host can be reached through it (.invalid is reserved, RFC 2606)
BASE_URL = "https://marche.invalid/"
PRINT_STYLESHEET = BASE_URL + "static/css/print.css"
log = logging.getLogger(__name__)


class RefusedResource(URLFetchingError):
    """A document asked for something other than one of our static files."""


class StaticFilesFetcher(URLFetcher):
    """WeasyPrint's fetcher restricted to the files under `static_dir`; `refused` lists what was not
    fetched (the renderer logs and skips it, the document is produced without it)."""

    def __init__(self, static_dir: Path = STATIC_DIR):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        self.static_dir = static_dir.resolve()
        self.refused: list[str] = []

    def local_path(self, url: str) -> Path | None:
        """The static file a URL names, or None when it names anything else."""
        parts = urlsplit(url)
        base = urlsplit(BASE_URL)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            candidate = Path(url2pathname(parts.path))
        elif (parts.scheme, parts.netloc) == (base.scheme, base.netloc) and parts.path.startswith("/static/"):
            candidate = self.static_dir / unquote(parts.path.removeprefix("/static/"))
        else:
            return None
        resolved = candidate.resolve()  # "..", symlinks: judged on where the file really is
        if not resolved.is_relative_to(self.static_dir) or not resolved.is_file():
            return None
        return resolved

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):  # already inside the document: nothing is fetched
            return super().fetch(url, headers)
        path = self.local_path(url)
        if path is None:
            self.refused.append(url)
            log.warning("PDF: resource refused (not one of our static files): %.200s", url)
            raise RefusedResource(f"Ressource refusée : {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".woff2":
            body = decompressed_font(path, path.stat().st_mtime_ns)
        else:
            body = path.read_bytes()
        return URLFetcherResponse(path.as_uri(), body=body, headers={"Content-Type": content_type})


@lru_cache(maxsize=16)
def decompressed_font(path: Path, mtime_ns: int) -> bytes:
    """A WOFF2 font of ours as plain TrueType, decompressed once per process (per file version): WeasyPrint
    would otherwise decompress Marianne on every document, about a third of a small PDF's time."""
    from fontTools.ttLib import woff2

    out = io.BytesIO()
    woff2.decompress(io.BytesIO(path.read_bytes()), out)
    return out.getvalue()


def html_to_pdf(html: str, fetcher: StaticFilesFetcher | None = None) -> bytes:
    """PDF bytes of an HTML page, with the print stylesheet; only static files are read."""
    fetcher = fetcher or StaticFilesFetcher()
    fonts = FontConfiguration()  # the stylesheet's @font-face (Marianne, from static/vendor) needs it
    stylesheet = CSS(url=PRINT_STYLESHEET, url_fetcher=fetcher, font_config=fonts)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(stylesheets=[stylesheet],
                                                                                font_config=fonts)


def render_pdf(template: str, **context) -> bytes:
    """Render a template (extending `pdf/base.html`) to PDF bytes; needs an application context."""
    return html_to_pdf(render_template(template, **context))

