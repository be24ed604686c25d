"""Clauses: the legal figures (`rules`), the hours calculator, the legal check of a tender's lots, the clause
catalogue and the clause annex. A leaf: it imports only `core/`; tenders and the API call it."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """No table, no blueprint: the clause annex is a document type (tenders ask for it, inline or by the outbox)."""
    from ..core import documents
    from .annex import ANNEX_DOCUMENT, annex_document

    documents.register_document(ANNEX_DOCUMENT, annex_document)
