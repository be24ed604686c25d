"""The append-only audit log: who did what to which object, and when."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from .models import AuditEntry


def object_ref(obj: Any) -> tuple[str, str]:
    if isinstance(obj, str):  # "import:structures.csv" for things that are not rows
        kind, _, ident = obj.partition(":")
        return kind, ident
    return getattr(obj, "__tablename__", type(obj).__name__.lower()), str(getattr(obj, "id", obj))


def record(actor, action: str, obj: Any, *, session: Any = None, **details: Any) -> AuditEntry:
    """Add an audit entry to the session (committed with the change it describes): the request's, or the one an
    outbox handler was given."""
    object_type, object_id = object_ref(obj)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    (session or db.session).add(entry)
    return entry
