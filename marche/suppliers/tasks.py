"""Scheduled work of the directory, run by `flask marche worker`."""
from __future__ import annotations

from ..extensions import db
from .services import mark_expired_commitments


def reindex_expired_commitments() -> int:
    """An expired commitment stops counting in the search index too, within the hour."""
    count = mark_expired_commitments()
    db.session.commit()
    return count
