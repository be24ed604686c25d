"""Sends every case of the table as every actor and compares what comes back.

Each actor logs in once through the real login form; its session cookie is then replayed on a
fresh test client for each request, so a route that logs out (or changes the session) cannot
spill into the next request. The login rate limits are reset before each request: the matrix
sends far more refused forms than a person would, and a 429 would hide the access decision.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from flask import url_for

from marche.accounts.models import User
from marche.extensions import db, limiter

from .actors import ACTORS, PASSWORD
from .table import FORBIDDEN, HIDDEN, KNOWN_GAP, LOGIN, OK, Case
from .world import World

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def outcome(response) -> str:
    """What the actor got, in the table's words; anything unexpected is spelled with its status."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = urlsplit(response.headers.get("Location", ""))
        # Flask-Login's refusal carries ?next=; a form that redirects to the login page on success does not
        if location.path == "/connexion" and "next" in parse_qs(location.query):
            return LOGIN
        return OK
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if status < 300 or status in (400, 422):
        return OK  # a form error after access was granted is still access
    if isinstance(response, Crash):
        return f"HTTP 500 ({type(response.error).__name__}: {str(response.error)[:120]})"
    return f"HTTP {status}"


@dataclass
class Check:
    case: Case
    method: str
    actor: str
    url: str
    status: int
    got: str
    missing_status: int | None = None
    missing_got: str | None = None
    content_type: str = ""
    #: for a case with `shows`: did the page contain the text?
    showed: bool | None = None


def login_cookies(app, world: World) -> dict[str, str | None]:
    """The session cookie of each actor (None for anonymous). The first actor logs in through the
    real form, which proves the accounts work; the others get the same session keys that
    Flask-Login writes at login, without paying one argon2 verification each."""
    cookies: dict[str, str | None] = {}
    for actor in ACTORS:
        if actor.name not in world.users:
            cookies[actor.name] = None
            continue
        client = app.test_client()
        if not any(cookies.values()):
            response = client.post("/connexion", data={"email": actor.email, "password": PASSWORD})
            assert response.status_code == 302, f"connexion impossible pour {actor.name} ({response.status_code})"
            cookies[actor.name] = client.get_cookie("session").value
        else:
            cookies[actor.name] = session_cookie(app, world, actor.name)
    return cookies


def session_cookie(app, world: World, name: str) -> str:
    """A fresh session for the actor, keyed by its current session token (a logout rotates it)."""
    client = app.test_client()
    with app.app_context():
        session_id = db.session.get(User, world.users[name]).get_id()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = session_id, True
    return client.get_cookie("session").value


#: endpoints after which the actor's every session has ended (its session token rotated)
ENDS_SESSIONS = {"accounts.logout"}


def methods_of(app, endpoint: str) -> list[str]:
    return sorted({m for rule in app.url_map.iter_rules(endpoint) for m in rule.methods} - IGNORED_METHODS)


def build_url(app, endpoint: str, values: dict) -> str:
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return url_for(endpoint, **values)


class Crash:
    """Stands for a response when the view raised (TESTING propagates exceptions): a 500 for users."""

    status_code = 500
    headers: dict = {}

    def __init__(self, error: Exception):
        self.error = error


def send(app, cookie: str | None, method: str, url: str, case: Case):
    try:
        return _send(app, cookie, method, url, case)
    except Exception as error:  # noqa: BLE001 - reported as a failure of this cell, the walk goes on
        return Crash(error)


def _send(app, cookie: str | None, method: str, url: str, case: Case):
    limiter.reset()
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("session", cookie)
    if method == "GET":
        return client.get(url)
    if case.json is not None:
        return client.open(url, method=method, json=case.json)
    return client.open(url, method=method, data=dict(case.data))


def run(app, world: World, cases: list[Case]) -> tuple[list[Check], list[str]]:
    """Every case × method × actor; returns the checks made and the failures, in French."""
    cookies = login_cookies(app, world)
    checks: list[Check] = []
    failures: list[str] = []
    for case in cases:
        for method in methods_of(app, case.endpoint):
            for actor in ACTORS:
                url = build_url(app, case.endpoint, case.params(world))
                response = send(app, cookies[actor.name], method, url, case)
                check = Check(case, method, actor.name, url, response.status_code, outcome(response),
                              content_type=response.headers.get("Content-Type", ""))
                if case.shows and method == "GET" and check.got == OK:
                    check.showed = case.shows[0] in html.unescape(response.get_data(as_text=True))
                if case.missing is not None:
                    missing_url = build_url(app, case.endpoint, case.missing(world))
                    missing = send(app, cookies[actor.name], method, missing_url, case)
                    check.missing_status, check.missing_got = missing.status_code, outcome(missing)
                checks.append(check)
                failures.extend(judge(check))
                if case.endpoint in ENDS_SESSIONS and cookies[actor.name] is not None and actor.active:
                    cookies[actor.name] = session_cookie(app, world, actor.name)
    return checks, failures


def judge(check: Check) -> list[str]:
    case, actor = check.case, check.actor
    where = f"{check.method} {check.url} ({case.key}) en tant que {actor}"
    expected = case.expect[actor]
    problems = []
    gap = KNOWN_GAP.get((case.key, actor))
    if gap is not None:
        if check.got == expected:
            problems.append(f"{where} : faille connue refermée ({gap}), retirez-la de KNOWN_GAP")
        elif check.got != OK:
            problems.append(f"{where} : faille connue ({gap}) attendue OK, obtenu {check.got} ({check.status})")
    elif check.got != expected:
        problems.append(f"{where} : attendu {expected}, obtenu {check.got} ({check.status})")
    if urlsplit(check.url).path.startswith("/api/") and check.got != OK and "json" not in check.content_type:
        problems.append(f"{where} : l'API refuse sans réponse JSON ({check.content_type})")
    if check.showed is not None and gap is None:
        text, allowed = case.shows
        if check.showed and actor not in allowed:
            problems.append(f"{where} : la page montre « {text} », réservé à {', '.join(allowed)}")
        elif not check.showed and actor in allowed:
            problems.append(f"{where} : la page devrait montrer « {text} »")
    if check.missing_status is not None:
        if check.missing_got not in (HIDDEN, LOGIN):
            problems.append(f"{where} : un objet inexistant répond {check.missing_status} au lieu de 404")
        if check.got != OK and check.status != check.missing_status:
            # a refusal must not tell an existing object from a missing one
            problems.append(f"{where} : objet caché {check.status} mais objet inexistant {check.missing_status} "
                            "(l'existence fuit)")
    return problems
