"""E-mail: rendered in French (text + HTML) when queued, sent by the outbox over SMTP.

Without `SMTP_HOST` (development), messages are written to `instance/mail/` and listed on
/dev/mails.
"""
from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy.orm import Session

from .outbox import enqueue

#: the outbox kind of a queued e-mail
MAIL_SEND = "mail.send"

_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")


def header_text(value: str) -> str:
    """One line for an e-mail header: CR, LF and other control characters (a structure's name typed
    with a line break, or « X\r\nBcc: … ») become one space, so no header can be split or added."""
    return _HEADER_BREAKS.sub(" ", value or "").strip()


#: the extra headers a queued message may carry (RFC 8058 one-click unsubscribe)
EXTRA_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def queue_mail(to: str, subject: str, template: str, reply_to: str | None = None,
               headers: dict[str, str] | None = None, session: Session | None = None, **context) -> None:
    """Render `templates/mails/<template>.txt|.html` now and queue the message. `reply_to`: where an
    answer goes (a person's address, for a message a user wrote through the portal); `headers`: some of
    `EXTRA_HEADERS`; `session`: an outbox handler's own session (default: the request's)."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    subject = header_text(subject)
    payload = {
        "to": header_text(to),
        "subject": subject,
        "text": render_template(f"mails/{template}.txt", **context),
        "html": render_template(f"mails/{template}.html", subject=subject, **context),
    }
    if reply_to:
        payload["reply_to"] = header_text(reply_to)
    if headers:
        payload["headers"] = {name: header_text(value) for name, value in headers.items() if name in EXTRA_HEADERS}
    enqueue(MAIL_SEND, payload, session=session)


def build_message(payload: dict) -> EmailMessage:
    smtp = current_app.config["SMTP"]
    message = EmailMessage()
    message["From"] = smtp["sender"]
    message["To"] = header_text(payload["to"])
    message["Subject"] = header_text(payload["subject"])
    message["Message-ID"] = make_msgid(domain="marche.local")
    if payload.get("reply_to"):
        message["Reply-To"] = header_text(payload["reply_to"])
    for name, value in (payload.get("headers") or {}).items():
        if name in EXTRA_HEADERS:
            message[name] = header_text(value)
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


def send_mail(session: Session, payload: dict) -> None:
    message = build_message(payload)
    smtp = current_app.config["SMTP"]
    if not smtp["host"]:
        directory = Path(current_app.config["MAIL_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        from .models import utcnow

        name = utcnow().strftime("%Y%m%dT%H%M%S%f") + ".eml"
        (directory / name).write_bytes(bytes(message))
        return
    with smtplib.SMTP(smtp["host"], smtp["port"], timeout=15) as client:
        if smtp["starttls"]:
            client.starttls()
        if smtp["user"]:
            client.login(smtp["user"], smtp["password"])
        client.send_message(message)
