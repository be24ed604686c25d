"""Who answers for a structure, asked directly of `can()` on both sides (written for the mutants `make mutants`
showed alive): the structure side of a tender is for members of a claimed profile, and only while the tender is
published or closed; the « consultations à suivre » board is theirs too."""
from __future__ import annotations

import pytest

from marche.core.access import can
from marche.extensions import db
from marche.tenders.models import Tender, TenderStatus as S
from tests.tenders.answers_world import people, user  # noqa: F401  (fixture)
from tests.tenders.factories import make_tender


@pytest.mark.parametrize("status,open_", [(S.DRAFT, False), (S.SUBMITTED, False), (S.PUBLISHED, True),
                                          (S.CLOSED, True), (S.AWARDED, False), (S.CANCELLED, False)])
def test_the_structure_side_of_a_tender(app_ctx, people, status, open_):
    tender = db.session.get(Tender, make_tender(people["org"], status=status))
    assert can(user(people["insertion"]), "answer", tender) is open_
    assert can(user(people["buyer"]), "answer", tender) is False  # the buyer answers for no structure


def test_the_board_of_tenders_to_follow(app_ctx, people):
    assert can(user(people["insertion"]), "structure_dashboard") is True
    assert can(user(people["adapted"]), "structure_dashboard") is True
    assert can(user(people["buyer"]), "structure_dashboard") is False
    assert can(None, "structure_dashboard") is False
