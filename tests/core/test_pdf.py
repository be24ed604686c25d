"""PDF rendering reads only our static files: the text is there, the print stylesheet applies, and an
injected URL (our own loopback server, which records every hit) or a file of the machine is never read."""
from __future__ import annotations

import re
import subprocess
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import render_template_string

from marche.core.pdf import STATIC_DIR, StaticFilesFetcher, html_to_pdf, render_pdf


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdf_tool(tool: str, data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def recording_server():
    """An HTTP server on 127.0.0.1 that answers every request and remembers its path."""
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write((STATIC_DIR / "vendor/dsfr/favicon/apple-touch-icon.png").read_bytes())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


SAMPLE = """{% extends "pdf/base.html" %}{% block content %}
<h2>Structures retenues</h2>
<table><thead><tr><th>Raison sociale</th><th class="number">Heures d'insertion</th></tr></thead>
<tbody>{% for name, hours in rows %}<tr><td>{{ name }}</td><td class="number">{{ hours }}</td></tr>{% endfor %}</tbody>
</table>
<p class="pdf-note">Montants arrondis à l'heure, conformément à la clause sociale.</p>
<img src="/static/vendor/dsfr/favicon/apple-touch-icon.png" alt="">
{% endblock %}"""


def test_a_rendered_document_holds_its_text_in_french_on_a4(app_ctx, tmp_path):
    html = render_template_string(SAMPLE, title="Bilan des heures d'insertion", issued_on=date(2026, 11, 30),
                                  rows=[("La Collecterie", "1 607"), ("Atelier Sœur & Frère", "250")])
    data = html_to_pdf(html)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    for expected in ("Bilan des heures d'insertion", "Édité le 30/11/2026", "La Collecterie", "Atelier Sœur & Frère",
                     "1 607", "Page 1 sur 1", "Document généré par le portail marche"):
        assert expected in text
    info = pdf_tool("pdfinfo", data, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M) and "595.276 x 841.89 pts (A4)" in info
    assert "Marianne" in pdf_tool("pdffonts", data, tmp_path)  # the stylesheet and its fonts came from static/
    assert "Bilan" in pdf_text(render_pdf("pdf/base.html", title="Bilan", issued_on=None), tmp_path)


def test_injected_urls_and_local_files_are_never_fetched(app_ctx, tmp_path, recording_server):
    origin, hits = recording_server
    secret = tmp_path / "secret.txt"
    secret.write_text("ne-doit-pas-sortir")
    html = f"""<html><head>
      <link rel="stylesheet" href="{origin}/style.css">
      <style>@font-face {{ font-family: X; src: url("{origin}/font.woff2"); }}
             body {{ background: url("{secret.as_uri()}"); }}</style></head>
      <body><h1>Document avec pièges</h1>
      <img src="{origin}/image.png"><img src="file:///etc/passwd"><img src="file://{STATIC_DIR}/../core/pdf.py">
      <img src="/static/../../pyproject.toml"><img src="/static/%2e%2e/%2e%2e/pyproject.toml">
      <img src="https://marche.invalid/ailleurs/image.png">
      <iframe src="file:///etc/passwd"></iframe><object data="file:///etc/passwd"></object>
      </body></html>"""
    fetcher = StaticFilesFetcher()
    data = html_to_pdf(html, fetcher)
    assert hits == []
    for marker in ("/image.png", "/style.css", "/font.woff2", "/etc/passwd", "secret.txt", "/core/pdf.py",
                   "pyproject.toml", "/ailleurs/"):
        assert any(marker in url for url in fetcher.refused), marker
    text = pdf_text(data, tmp_path)
    assert "Document avec pièges" in text
    assert "root:" not in text and "ne-doit-pas-sortir" not in text and "[project]" not in text


def test_the_fetcher_maps_only_files_inside_static():
    fetcher = StaticFilesFetcher()
    assert fetcher.local_path("https://marche.invalid/static/css/print.css") == (STATIC_DIR / "css/print.css").resolve()
    assert fetcher.local_path((STATIC_DIR / "css" / "print.css").as_uri()) is not None
    for refused in ("https://marche.invalid/static/../../pyproject.toml", "https://marche.invalid/static/css/",
                    "https://marche.invalid/static/nope.css", "http://127.0.0.1/static/css/print.css",
                    "file:///etc/passwd", f"file://{STATIC_DIR}/../config.py", "file://remote-host/static/x.css",
                    "ftp://example.org/x.css"):
        assert fetcher.local_path(refused) is None, refused


def test_our_woff2_fonts_are_served_decompressed_once(tmp_path):
    """Marianne (WOFF2) reaches WeasyPrint as TrueType, decompressed once per process: the PDF still embeds it."""
    from marche.core.pdf import decompressed_font

    font = STATIC_DIR / "vendor/dsfr/fonts/Marianne-Regular.woff2"
    assert font.read_bytes()[:4] == b"wOF2"
    decompressed_font.cache_clear()
    body = StaticFilesFetcher().fetch("https://marche.invalid/static/vendor/dsfr/fonts/Marianne-Regular.woff2").read()
    assert body[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")  # an sfnt, no longer WOFF2
    StaticFilesFetcher().fetch("https://marche.invalid/static/vendor/dsfr/fonts/Marianne-Regular.woff2")
    assert decompressed_font.cache_info().hits == 1 and decompressed_font.cache_info().misses == 1
    fonts = pdf_tool("pdffonts", html_to_pdf("<p>Marianne</p>"), tmp_path)
    assert "Marianne" in fonts
