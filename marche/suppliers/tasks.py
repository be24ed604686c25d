"""Scheduled work of the directory, run by `flask marche worker`."""
from __future__ import annotations

from ..extensions import db
from .contact import purge_old_messages
from .services import mark_expired_commitments


def reindex_expired_commitments() -> int:
    """An expired commitment stops counting in the search index too, within the hour."""
    count = mark_expired_commitments()
    db.session.commit()
    return count


def purge_contact_messages() -> int:
    """Who wrote to which structure is kept a year (suppliers.contact.RETENTION), then deleted."""
    count = purge_old_messages()
    db.session.commit()
    return count
