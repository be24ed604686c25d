"""Login throttling, counted in PostgreSQL: each limit on both sides of its count (the 10th failed
attempt is still answered, the 11th is not) and of its window, per pair, per address, per account.

The expected answers are written here from the rules (10 a minute per account and address, 30 a
minute per address, 50 an hour per account), not read from `LOGIN_LIMITS`."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marche.accounts.models import LoginFailure
from marche.accounts.services import login_account_key, login_blocked, record_login_failure
from marche.core.models import utcnow
from marche.extensions import db

ACCOUNT, ADDRESS = "cible@example.fr", "192.0.2.1"
PAIR, PER_ADDRESS, PER_ACCOUNT = 10, 30, 50
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
#: well inside a window and well outside it (the test's clock and the database's differ by milliseconds)
INSIDE, OUTSIDE = timedelta(seconds=20), timedelta(seconds=20)


def failures(count: int, *, account=ACCOUNT, address=ADDRESS, age=timedelta(0), distinct=None) -> None:
    """`count` failures `age` ago; `distinct="account"` or `"address"` gives each its own account or address."""
    created = utcnow() - age
    db.session.add_all([LoginFailure(account_key=f"{i}-{account}" if distinct == "account" else account,
                                     address=f"10.0.{i // 250}.{i % 250}" if distinct == "address" else address,
                                     created_at=created) for i in range(count)])
    db.session.flush()


def test_the_pair_limit_is_ten_a_minute(app_ctx):
    failures(PAIR - 1)
    assert login_blocked(ACCOUNT, ADDRESS) is False  # the 10th attempt is answered
    failures(1)
    assert login_blocked(ACCOUNT, ADDRESS) is True  # the 11th is not
    # the pair only: the owner elsewhere and the address on another account still pass
    assert login_blocked(ACCOUNT, "198.51.100.7") is False
    assert login_blocked("autre@example.fr", ADDRESS) is False


def test_the_pair_window_is_one_minute(app_ctx):
    failures(PAIR - 1)
    failures(1, age=MINUTE + OUTSIDE)
    assert login_blocked(ACCOUNT, ADDRESS) is False
    failures(1, age=MINUTE - INSIDE)
    assert login_blocked(ACCOUNT, ADDRESS) is True


def test_the_address_limit_is_thirty_a_minute_over_any_accounts(app_ctx):
    failures(PER_ADDRESS - 1, distinct="account")
    assert login_blocked(ACCOUNT, ADDRESS) is False
    failures(1, age=MINUTE + OUTSIDE, account="vieux@example.fr")
    assert login_blocked(ACCOUNT, ADDRESS) is False
    failures(1, account="encore@example.fr")
    assert login_blocked(ACCOUNT, ADDRESS) is True
    assert login_blocked(ACCOUNT, "198.51.100.7") is False  # the account itself is not locked


def test_the_account_limit_is_fifty_an_hour_from_anywhere(app_ctx):
    failures(PER_ACCOUNT - 1, distinct="address")
    assert login_blocked(ACCOUNT, "198.51.100.7") is False
    failures(1, age=HOUR + OUTSIDE, address="203.0.113.1")
    assert login_blocked(ACCOUNT, "198.51.100.7") is False
    failures(1, age=HOUR - INSIDE, address="203.0.113.2")
    assert login_blocked(ACCOUNT, "198.51.100.7") is True
    assert login_blocked("autre@example.fr", "198.51.100.7") is False


def test_the_account_is_the_address_typed_without_case_or_spaces(app_ctx):
    assert login_account_key("  Cible@Example.FR ") == ACCOUNT
    assert login_account_key(None) == ""
    for _ in range(PAIR):
        record_login_failure("  CIBLE@example.fr", ADDRESS)
    assert login_blocked("cible@EXAMPLE.fr ", ADDRESS) is True


def test_long_inputs_are_cut_to_their_columns(app_ctx):
    record_login_failure("a" * 300 + "@example.fr", "f" * 60)
    row = db.session.scalars(select(LoginFailure)).one()
    assert (len(row.account_key), len(row.address)) == (254, 45)  # the longest e-mail address, IPv6 text
    assert row.account_key == "a" * 254


@pytest.mark.parametrize("age, kept", [(HOUR - INSIDE, True), (HOUR + OUTSIDE, False),
                                       (timedelta(minutes=90), False)])
def test_failures_older_than_an_hour_are_purged_when_one_is_recorded(app_ctx, age, kept):
    failures(1, age=age)
    record_login_failure("autre@example.fr", "198.51.100.7")
    remaining = db.session.scalar(select(func.count()).select_from(LoginFailure)
                                  .where(LoginFailure.account_key == ACCOUNT))
    assert remaining == (1 if kept else 0)
