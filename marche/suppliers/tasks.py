"""Scheduled work of the directory, run by `flask marche worker`."""
from __future__ import annotations

from ..core.outbox import periodic
from ..extensions import db
from .services import mark_expired_commitments


@periodic("suppliers.expired_commitments", every_seconds=3600)
def reindex_expired_commitments() -> int:
    """An expired commitment stops counting in the search index too, within the hour."""
    count = mark_expired_commitments()
    db.session.commit()
    return count
