"""Search tests run on the real imported directory, built once per module (an import takes seconds).

The root `_clean_tables` truncates after every test; here it is replaced by a truncation at the end
of each module, so a module's tests share its directory and must undo what they change.
"""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marche.extensions import db, limiter
from tests.conftest import REFERENCE_TABLES


def _truncate(application) -> None:
    with application.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
        with db.engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        limiter.reset()


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the root fixture: nothing is truncated between the tests of a module."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _clean_after_module(app):
    yield
    _truncate(app)
