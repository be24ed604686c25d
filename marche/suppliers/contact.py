"""« Contacter la structure »: a logged-in user writes to a structure's contact address through the portal.

The message goes through the outbox to the structure (Reply-To: the sender) with a copy to the sender,
as plain text (the HTML part is escaped by the template). Who wrote to whom and when is kept
(`ContactMessage`), which is also what the sending limits count: in PostgreSQL, so every worker and
instance sees the same numbers, like the login limits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text

from ..accounts.models import User
from ..core import audit
from ..core.errors import DomainError
from ..core.filters import fr_datetime
from ..core.mail import queue_mail
from ..core.models import utcnow
from ..core.urls import external_url
from ..extensions import db
from .models import ContactMessage, Structure

SUBJECT_MAX_CHARS = 150
BODY_MAX_CHARS = 5000
#: (window, most messages a user may send in it), to every structure together
CONTACT_LIMITS = {
    "hour": (timedelta(hours=1), 5),
    "day": (timedelta(days=1), 20),
}
#: how long who-wrote-to-whom is kept (abuse handling); the worker deletes older rows once a day
RETENTION = timedelta(days=365)
_LIMIT_WORDS = {"hour": "dans l'heure", "day": "en 24 heures"}
#: any control character (CR, LF, TAB…) or Unicode line break: a subject is one header line
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def contact_email(structure: Structure) -> str | None:
    """The address a message goes to: the first of the structure's contacts that has an e-mail."""
    return next((c.email for c in sorted(structure.contacts, key=lambda c: c.id) if c.email), None)


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def clean_message(subject: str | None, body: str | None) -> Message:
    """Trimmed subject and body, or a French refusal naming the field."""
    if _CONTROL.search(subject or ""):
        raise DomainError("L'objet tient sur une seule ligne : retirez les retours à la ligne et tabulations.",
                          "subject")
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject:
        raise DomainError("Donnez un objet à votre message.", "subject")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise DomainError(f"L'objet fait {len(subject)} caractères : {SUBJECT_MAX_CHARS} au plus.", "subject")
    if not body:
        raise DomainError("Écrivez votre message : il est vide.", "body")
    if len(body) > BODY_MAX_CHARS:
        raise DomainError(f"Le message fait {len(body):,} caractères : {BODY_MAX_CHARS:,} au plus.".replace(",", "\u202f"),
                          "body")
    return Message(subject, body)


def blocking_limit(user: User, now: datetime | None = None) -> tuple[str, datetime] | None:
    """None if the user may send a message now; else the limit reached ("hour" or "day") and when the
    oldest message counted leaves its window (the moment a message is allowed again)."""
    now = now or utcnow()
    for name, (window, limit) in CONTACT_LIMITS.items():
        sent = list(db.session.execute(
            select(ContactMessage.created_at).where(ContactMessage.sender_id == user.id,
                                                    ContactMessage.created_at > now - window)
            .order_by(ContactMessage.created_at.desc()).limit(limit)).scalars())
        if len(sent) >= limit:
            return name, sent[-1] + window
    return None


def limit_message(name: str, until: datetime) -> str:
    limit = CONTACT_LIMITS[name][1]
    return (f"Vous avez déjà envoyé {limit} messages {_LIMIT_WORDS[name]} : c'est la limite. "
            f"Vous pourrez en envoyer un autre à partir du {fr_datetime(until)}.")


def send_message(user: User, structure: Structure, subject: str | None, body: str | None) -> ContactMessage:
    """Check, count, store, and queue the two mails (the structure, then the sender's copy)."""
    recipient = contact_email(structure)
    if recipient is None:
        raise DomainError("Cette structure n'a pas d'adresse e-mail de contact : le message ne peut pas lui être envoyé.")
    message = clean_message(subject, body)
    # one transaction-scoped lock per sender: two messages sent at once are counted one after the other
    db.session.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"contact:{user.id}"})
    now = utcnow()
    if (blocked := blocking_limit(user, now)) is not None:
        raise DomainError(limit_message(*blocked))
    row = ContactMessage(sender_id=user.id, sender_email=user.email, structure_id=structure.id,
                         recipient_email=recipient, subject=message.subject, created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record(user, "structure.contacted", structure, contact_message_id=row.id)
    context = {"sender": user, "organisation": user.organisation, "structure": structure,
               "message_subject": message.subject, "body": message.body,
               "profile_link": external_url("suppliers.profile", ident=structure.siret or structure.finess_numbers[0])}
    queue_mail(recipient, f"Message via Marché inclusif : {message.subject}", "contact_message",
               reply_to=user.email, **context)
    queue_mail(user.email, f"Copie de votre message à {structure.display_name} : {message.subject}",
               "contact_message_copy", **context)
    return row


def purge_old_messages(now: datetime | None = None) -> int:
    """Forget the messages older than RETENTION (the limits never look back that far)."""
    result = db.session.execute(delete(ContactMessage).where(ContactMessage.created_at < (now or utcnow()) - RETENTION))
    return result.rowcount or 0
