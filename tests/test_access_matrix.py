"""The access matrix: every route of the URL map, as every actor, on real objects (tests/access_matrix/).

A route missing from the table fails the test by name, so a new route cannot escape it; a POST
route that takes no CSRF token fails the second test unless it is listed in table.CSRF_EXEMPT.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest

from marche import create_app
from marche.extensions import db
from tests.access_matrix.actors import ACTORS
from tests.access_matrix.runner import IGNORED_METHODS, build_url, methods_of, run
from tests.access_matrix.table import CASES, CSRF_EXEMPT, GUARD_RAILS, KNOWN_GAP, OK
from tests.access_matrix.world import build_world
from tests.suppliers.conftest import make_structure  # noqa: F401  (fixture shared with the supplier tests)


@pytest.fixture
def matrix_app(app, app_config):
    """The same application with CSRF off: the matrix is about access; CSRF is checked apart below."""
    application = create_app({**app_config, "WTF_CSRF_ENABLED": False})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def table_endpoints() -> set[str]:
    return {case.endpoint for case in CASES}


def test_every_route_of_the_url_map_has_a_row(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(routes - table_endpoints())
    assert not missing, ("routes absentes de la matrice d'accès (tests/access_matrix/table.py) : "
                         + ", ".join(missing))
    stale = sorted(table_endpoints() - routes)
    assert not stale, "lignes de la matrice sans route : " + ", ".join(stale)
    for case in CASES:
        assert set(case.expect) == {actor.name for actor in ACTORS}, f"{case.key} : une case par acteur"


def test_dangerous_powers_stay_with_owners_and_approvers():
    """Editing a profile, reading its documents, someone else's favourites, deciding a claim or a join
    request, the outbox: the table itself may not hand these to anyone else (checked without a request,
    so a row loosened to match a regression is caught even before the walk)."""
    for endpoint, allowed in GUARD_RAILS.items():
        cases = [case for case in CASES if case.endpoint == endpoint]
        assert cases, f"{endpoint} n'est plus dans la matrice"
        for case in cases:
            granted = {actor for actor, outcome in case.expect.items() if outcome == OK}
            assert granted <= set(allowed), f"{case.key} accordé à {sorted(granted - set(allowed))}"


def test_access_matrix(matrix_app, make_structure, capsys, record_property):  # noqa: F811
    started = time.monotonic()
    world = build_world(matrix_app, make_structure)
    checks, failures = run(matrix_app, world, CASES)
    elapsed = time.monotonic() - started

    assert not failures, f"{len(failures)} écart(s) dans la matrice d'accès :\n" + "\n".join(failures)
    # every route × method × actor was asked at least once (the table may ask some more than once)
    asked = {(c.case.endpoint, c.method, c.actor) for c in checks}
    for rule in matrix_app.url_map.iter_rules():
        for method in rule.methods - IGNORED_METHODS:
            for actor in ACTORS:
                assert (rule.endpoint, method, actor.name) in asked, (rule.endpoint, method, actor.name)
    hidden_checks = sum(1 for c in checks if c.missing_status is not None)
    # each "who sees this text" case was seen both ways, so none of them passes vacuously
    for case in (case for case in CASES if case.shows):
        seen = {c.showed for c in checks if c.case is case and c.showed is not None}
        assert seen == {True, False}, f"{case.key} : « {case.shows[0]} » vu {seen}"
    content_checks = sum(1 for c in checks if c.showed is not None)
    outcomes = Counter(c.got for c in checks)
    gaps_seen = {(c.case.key, c.actor) for c in checks if (c.case.key, c.actor) in KNOWN_GAP}
    assert gaps_seen == set(KNOWN_GAP), "une faille connue ne correspond à aucune case de la matrice"
    summary = (f"matrice d'accès : {len(checks)} vérifications route × méthode × acteur "
               f"({len(CASES)} cas, {len(ACTORS)} acteurs), dont {hidden_checks} comparées à un objet inexistant "
               f"et {content_checks} sur le contenu montré ; "
               f"{dict(outcomes)} ; {len(KNOWN_GAP)} failles connues ; {elapsed:.1f} s")
    record_property("access_matrix_checks", len(checks))
    with capsys.disabled():
        print("\n" + summary)


def test_every_post_route_refuses_a_missing_csrf_token(client):
    """The real configuration (CSRF on): a POST without its token is refused with 400 before any view
    runs, whatever the URL values, so dummy values are enough; only CSRF_EXEMPT routes answer otherwise."""
    refused, exempt = [], []
    for rule in client.application.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {arg: 1 if type(rule._converters[arg]).__name__ == "IntegerConverter" else "x"
                  for arg in rule.arguments}
        response = client.post(build_url(client.application, rule.endpoint, values), data={"x": "1"})
        if response.status_code == 400 and "jeton de sécurité" in response.get_data(as_text=True):
            refused.append(rule.endpoint)
        else:
            exempt.append(rule.endpoint)
    assert sorted(exempt) == sorted(CSRF_EXEMPT), f"routes POST sans contrôle CSRF : {sorted(exempt)}"
    assert len(refused) >= 20, refused  # the whole set of form routes, not an empty loop
    assert all(methods_of(client.application, endpoint) for endpoint in refused)
