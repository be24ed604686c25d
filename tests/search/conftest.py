"""Search tests run on the real imported directory, built once per module (an import takes seconds).

The root `_clean_tables` truncates after every test; here it is replaced by a truncation at the end
of each module, so a module's tests share its directory and must undo what they change.
"""
from __future__ import annotations

import pytest

from tests.conftest import truncate_tables


@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides the root fixture: nothing is truncated between the tests of a module."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _clean_after_module(app):
    yield
    truncate_tables(app)
