"""The one write step of a view: one service, one commit; or rollback and the French message beside its field."""
from __future__ import annotations

from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField

from marche.core import audit
from marche.core.errors import DomainError
from marche.core.forms import commit_or_report
from marche.core.models import AuditEntry
from marche.extensions import db
from marche.geo.services import TerritoryError, parse_territory_list


class PlaceForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField()
    territories = StringField()


def entries() -> int:
    db.session.remove()  # count what is in the database, not what the session holds
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_a_service_that_succeeds_is_committed_once_and_its_answer_returned(app_ctx):
    done = commit_or_report(lambda: audit.record(None, "test.done", "thing:1"))
    assert done and done.committed and done.value.action == "test.done" and done.error is None
    assert entries() == 1


def test_a_refusal_rolls_back_and_lands_beside_its_field(app_ctx):
    form = PlaceForm()

    def refuse():
        audit.record(None, "test.half_done", "thing:1")
        db.session.flush()
        raise DomainError("Nom déjà pris.", "name")

    done = commit_or_report(refuse, form)
    assert not done and done.error.message == "Nom déjà pris."
    assert form.name.errors == ["Nom déjà pris."]
    assert entries() == 0


def test_a_refusal_without_a_form_or_a_known_field_is_flashed(app_ctx):
    assert not commit_or_report(lambda: (_ for _ in ()).throw(DomainError("Déjà traitée.")))
    form = PlaceForm()
    assert not commit_or_report(lambda: (_ for _ in ()).throw(DomainError("Champ inconnu.", "nope")), form)
    assert get_flashed_messages(with_categories=True) == [("error", "Déjà traitée."), ("error", "Champ inconnu.")]


def test_a_territory_error_is_a_domain_error_beside_the_field_it_came_from(app_ctx):
    form = PlaceForm()
    done = commit_or_report(lambda: parse_territory_list("dep:59, nulle-part", field="territories"), form)
    assert isinstance(done.error, TerritoryError) and isinstance(done.error, ValueError)
    assert form.territories.errors == [done.error.message]
    assert "nulle-part" in done.error.message
