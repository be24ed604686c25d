"""Clauses: the legal figures (`rules`), the hours calculator, the legal check of a tender's lots, the clause
catalogue and the clause annex. A leaf: it imports only `core/`; tenders and the API call it."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Nothing to wire: no table, no blueprint (the API exposes the check, the tenders pages call it)."""
