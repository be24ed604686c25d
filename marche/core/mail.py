"""E-mail: rendered in French (text + HTML) when queued, sent by the outbox over SMTP.

Without `SMTP_HOST` (development), messages are written to `instance/mail/` and listed on
/dev/mails.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy.orm import Session

from .outbox import enqueue, handler


def queue_mail(to: str, subject: str, template: str, **context) -> None:
    """Render `templates/mails/<template>.txt|.html` now and queue the message."""
    context.setdefault("base_url", current_app.config["BASE_URL"])
    enqueue(
        "mail.send",
        {
            "to": to,
            "subject": subject,
            "text": render_template(f"mails/{template}.txt", **context),
            "html": render_template(f"mails/{template}.html", subject=subject, **context),
        },
    )


def build_message(payload: dict) -> EmailMessage:
    smtp = current_app.config["SMTP"]
    message = EmailMessage()
    message["From"] = smtp["sender"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = make_msgid(domain="marche.local")
    message.set_content(payload["text"])
    message.add_alternative(payload["html"], subtype="html")
    return message


@handler("mail.send")
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
