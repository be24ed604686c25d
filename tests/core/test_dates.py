"""One `today()` for the whole platform, in Europe/Paris, whatever the server's clock says."""
from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone

import pytest

from marche.core.dates import PARIS, today


def test_late_evening_utc_in_winter_is_already_tomorrow_in_paris():
    # 23:30 UTC on 31 December = 00:30 on 1 January in Paris (UTC+1)
    assert today(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)) == date(2027, 1, 1)
    assert today(datetime(2026, 12, 31, 22, 59, tzinfo=timezone.utc)) == date(2026, 12, 31)


def test_summer_time_moves_midnight_one_hour_earlier_in_utc():
    # UTC+2 in summer: the Paris day starts at 22:00 UTC
    assert today(datetime(2026, 6, 30, 22, 0, tzinfo=timezone.utc)) == date(2026, 7, 1)
    assert today(datetime(2026, 6, 30, 21, 59, tzinfo=timezone.utc)) == date(2026, 6, 30)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        today(datetime(2026, 1, 1, 12, 0))


def test_the_server_timezone_does_not_matter():
    previous = os.environ.get("TZ")
    try:
        for zone in ("Pacific/Kiritimati", "America/Los_Angeles", "UTC"):
            os.environ["TZ"] = zone
            time.tzset()
            assert today() == datetime.now(timezone.utc).astimezone(PARIS).date()
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()
