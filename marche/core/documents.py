"""Documents in PDF, two paths and one renderer: inline for small ones, the outbox for large ones.

A document type is registered once (`register_document(kind, build)`: its stored parameters → a
template and its context). Up to `INLINE_MAX_ROWS` rows it is rendered inside the request
(`document_response`); past that, `request_document` records a `GeneratedDocument` and an outbox
row in the same transaction, the worker renders it (`render_stored`) and stores it under
instance/uploads, and only the user who asked downloads it, once ready, with Content-Disposition.
WeasyPrint (`core/pdf.py`) is imported on the first rendering, not when the application starts.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

from flask import Response, send_file
from sqlalchemy.orm import Session

from ..extensions import db
from . import outbox
from .models import DocumentStatus, GeneratedDocument, utcnow
from .uploads import store_upload, upload_root


#: past this many rows a document is rendered by the worker. Measured on this machine (the supplier
#: check report, 2 CPU cores shared): about 6.5 ms of CPU per row, 200 rows = 1.6 s (10 pages),
#: 500 rows = 3.3 s, so a 5 000-line list would hold a web worker for about half a minute
INLINE_MAX_ROWS = 200
PDF_RENDER = "pdf.render"
DOCUMENTS_FOLDER = "documents"

#: a document type: its stored parameters → (template, context)
Builder = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]
_builders: dict[str, Builder] = {}


def register_document(kind: str, build: Builder) -> None:
    """Declare a document type (from a domain's `init_app`): the same `build` serves both paths."""
    _builders[kind] = build


def render_document(kind: str, params: dict[str, Any]) -> bytes:
    from .pdf import render_pdf  # WeasyPrint takes about a second to import: only when a PDF is made

    template, context = _builders[kind](params)
    return render_pdf(template, **context)


def pdf_response(data: bytes | Path, filename: str) -> Response:
    """A PDF to download (Content-Disposition: attachment), never kept by a shared cache."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    response = send_file(source, mimetype="application/pdf", as_attachment=True, download_name=filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def document_response(kind: str, params: dict[str, Any], filename: str) -> Response:
    """The inline path: render now and answer the PDF (for documents of `INLINE_MAX_ROWS` rows at most)."""
    return pdf_response(render_document(kind, params), filename)


def request_document(owner_id: int, kind: str, params: dict[str, Any], filename: str) -> GeneratedDocument:
    """The outbox path: record the document and queue its rendering in the same transaction (no commit)."""
    if kind not in _builders:
        raise ValueError(f"no document type {kind!r}")
    document = GeneratedDocument(owner_id=owner_id, kind=kind, params=params, filename=filename)
    db.session.add(document)
    db.session.flush()
    outbox.enqueue(PDF_RENDER, {"id": document.id})
    return document


def render_stored(session: Session, payload: dict[str, Any]) -> None:
    """Outbox handler: render the document and store it; a failure is retried by the outbox."""
    document = session.get(GeneratedDocument, payload["id"])
    if document is None or document.status == DocumentStatus.READY:
        return
    document.path = store_upload(render_document(document.kind, document.params), "pdf", DOCUMENTS_FOLDER)
    document.status, document.rendered_at = DocumentStatus.READY, utcnow()


def owned_document(user, document_id: int) -> GeneratedDocument | None:
    """The document if `user` asked for it; None otherwise. No one else sees it, a platform admin
    neither: it holds what the user sent (a buyer's suppliers), not platform data."""
    document = db.session.get(GeneratedDocument, document_id)
    if document is None or user is None or getattr(user, "id", None) != document.owner_id:
        return None
    return document


def stored_path(document: GeneratedDocument) -> Path:
    return upload_root() / document.path

