"""Browser (end-to-end) fixtures: the session's `app` served on a real port, Debian's chromium, axe-core.

- `live_server`: the same Flask app as the other tests (fresh PostgreSQL, Meilisearch, SMTP), served by
  werkzeug in a daemon thread on a free port; yields its base URL (also pytest-playwright's `base_url`,
  so `page.goto("/connexion")` works).
- `browser_type_launch_args`: Debian's /usr/bin/chromium (never `playwright install`).
- `live_link(mailbox, address, path_part)`: the link of the last e-mail received for `address`, with its
  scheme and host replaced by the live server's. Mails rendered during a request (signup) already
  point at the request's host; mails rendered outside one use `BASE_URL` ("http://localhost").
- `check_page(page, name)`: full-page screenshot into test-artifacts/e2e/, then axe-core: no
  "serious" or "critical" violation, and no browser incident so far (below).
- `browser_guard` (autouse for every test with a `page`): records each Content-Security-Policy violation
  (a `securitypolicyviolation` listener installed by an init script in every document, reported to
  Python at once and kept in `window.__cspViolations`; and the console errors mentioning "Content
  Security Policy") and each JavaScript dialog (alert, confirm...: none of our pages opens one, so one
  means a script we did not write ran). Any of them fails the test, at the next `check_page` or at
  teardown.
"""
from __future__ import annotations

import json
import os
import re
import threading
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

import marche
from marche.core.embedded import free_port

ARTIFACTS = Path(marche.__file__).resolve().parent.parent / "test-artifacts" / "e2e"
BLOCKING_IMPACTS = {"serious", "critical"}


class _QuietStaticHandler(WSGIRequestHandler):
    """Log requests as usual, except the successful static files (they drown a failure's output)."""

    def log_request(self, code="-", size="-"):
        if self.path.startswith("/static/") and str(code).startswith(("2", "3")):
            return
        super().log_request(code, size)


@pytest.fixture(scope="session")
def live_server(app):
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietStaticHandler)
    thread = threading.Thread(target=server.serve_forever, name="marche-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args():
    args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"]
    if os.geteuid() == 0:
        args.insert(0, "--no-sandbox")
    return {"executable_path": "/usr/bin/chromium", "args": args}


@pytest.fixture
def live_link(live_server):
    """The link of the last e-mail to `address` containing `path_part`, pointed at the live server."""
    server = urlsplit(live_server)

    def get(mailbox, address: str, path_part: str) -> str:
        link = mailbox.link_to(address, path_part)
        parts = urlsplit(link)
        return urlunsplit((server.scheme, server.netloc, parts.path, parts.query, parts.fragment))

    return get


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text).strip("-")[:150]


#: runs before any script of every document (Playwright injects it outside the page's CSP)
CSP_LISTENER_JS = """
(() => {
  window.__cspViolations = window.__cspViolations || [];
  document.addEventListener("securitypolicyviolation", (event) => {
    const violation = {directive: event.effectiveDirective || event.violatedDirective, blocked: event.blockedURI,
                       source: event.sourceFile, line: event.lineNumber, sample: event.sample, page: location.href};
    window.__cspViolations.push(violation);
    if (typeof window.__reportCspViolation === "function") window.__reportCspViolation(violation);
  });
})();
"""


class BrowserGuard:
    """What a page did that only a script we did not write, or a policy we broke, would do."""

    def __init__(self, page):
        self.page = page
        self.csp_violations: list[dict] = []
        self.csp_console_errors: list[str] = []
        self.dialogs: list[str] = []
        page.expose_binding("__reportCspViolation", lambda source, violation: self.csp_violations.append(violation))
        page.add_init_script(CSP_LISTENER_JS)
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_console_errors.append(message.text)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message} ({self.page.url})")
        dialog.dismiss()

    def _page_violations(self) -> list[dict]:
        try:
            return self.page.evaluate("() => window.__cspViolations || []")
        except Exception:  # noqa: BLE001 - the page is closed or navigating: the binding already reported
            return []

    def problems(self) -> list[str]:
        found = [f"violation CSP : {v}" for v in self.csp_violations]
        found += [f"violation CSP : {v}" for v in self._page_violations() if v not in self.csp_violations]
        found += [f"console : {text}" for text in self.csp_console_errors]
        found += [f"boîte de dialogue JavaScript : {text}" for text in self.dialogs]
        return found

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "Le navigateur a signalé :\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def browser_guard(request):
    """Every e2e test with a page fails on a CSP violation or a JavaScript dialog."""
    if "page" not in request.fixturenames:
        yield None
        return
    guard = BrowserGuard(request.getfixturevalue("page"))
    yield guard
    guard.assert_clean()


def settle(page, timeout_ms: float = 3000) -> None:
    """Wait until no CSS transition runs (a drawer opening, a DSFR collapse): axe reads colours as they are drawn,
    and text half-way through a fade or a slide fails the contrast rule that the settled page passes."""
    page.wait_for_function(
        "() => document.getAnimations().every(a => !(a instanceof CSSTransition) || a.playState !== 'running')",
        timeout=timeout_ms)


def axe_violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # by URL, from our own static files: an inline copy would itself break the page's CSP
        page.add_script_tag(url="/static/vendor/axe/axe.min.js")
    result = page.evaluate("async () => await axe.run(document)")
    return result["violations"]


def assert_accessible(page) -> None:
    blocking = [v for v in axe_violations(page) if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core sur {page.url} : {len(blocking)} violation(s) sérieuse(s) ou critique(s)"]
        for v in blocking:
            targets = [json.dumps(node["target"], ensure_ascii=False) for node in v["nodes"][:3]]
            lines.append(f"- {v['id']} ({v['impact']}) : {v['help']} — {len(v['nodes'])} nœud(s), "
                         f"p. ex. {', '.join(targets)}")
        raise AssertionError("\n".join(lines))


@pytest.fixture
def check_page(request, browser_guard):
    """Screenshot the page (test-artifacts/e2e/<test>--<n>-<name>.png), run axe-core on it, then check
    that the browser reported no CSP violation and no dialog so far."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))
    test_name = _slug(request.node.name)

    def check(page, name: str) -> None:
        page.wait_for_load_state("load")
        settle(page)
        page.screenshot(path=str(ARTIFACTS / f"{test_name}--{next(counter):02d}-{_slug(name)}.png"), full_page=True)
        assert_accessible(page)
        if browser_guard is not None:
            browser_guard.assert_clean()

    return check
