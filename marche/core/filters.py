"""French formatting filters for templates."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask

PARIS = ZoneInfo("Europe/Paris")


def fr_number(value, decimals: int = 0) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def fr_datetime(value: datetime | date | None, with_time: bool = True) -> str:
    """JJ/MM/AAAA (HH:MM) in Paris; a plain `date` (no time, no zone) is printed as it is."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    local = value.astimezone(PARIS) if value.tzinfo else value
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


def init_app(app: Flask) -> None:
    app.add_template_filter(fr_number, "fr_number")
    app.add_template_filter(fr_datetime, "fr_datetime")
    app.add_template_filter(lambda v: fr_datetime(v, False), "fr_date")

    from .access import can

    @app.context_processor
    def inject():
        from flask_login import current_user

        return {"can": lambda action, obj=None: can(current_user, action, obj),
                "marche_env": app.config["MARCHE_ENV"]}
