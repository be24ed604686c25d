"""The calendar day as people on the platform read it: Europe/Paris, not the server's clock or UTC.

A commitment expiring « le 31 mars » still counts at 23:30 in Paris, even though it is already
1 April in UTC in summer (and the other way round late in the evening UTC in winter).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today(now: datetime | None = None) -> date:
    """Today's date in Paris; `now` (aware, any zone) gives the Paris day of that instant instead."""
    moment = now if now is not None else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise ValueError("today() needs an aware datetime: a naive one has no day in Paris")
    return moment.astimezone(PARIS).date()
