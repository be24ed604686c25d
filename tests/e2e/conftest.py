"""Browser (end-to-end) fixtures: the session's `app` served on a real port, Debian's chromium, axe-core.

- `live_server`: the same Flask app as the other tests (fresh PostgreSQL, Meilisearch, SMTP), served by
  werkzeug in a daemon thread on a free port; yields its base URL (also pytest-playwright's `base_url`,
  so `page.goto("/connexion")` works).
- `browser_type_launch_args`: Debian's /usr/bin/chromium (never `playwright install`).
- `live_link(mailbox, address, path_part)`: the link of the last e-mail received for `address`, with its
  scheme and host replaced by the live server's. Mails rendered during a request (signup) already
  point at the request's host; mails rendered outside one use `BASE_URL` ("http://localhost").
- `check_page(page, name)`: full-page screenshot into test-artifacts/e2e/, then axe-core: no
  "serious" or "critical" violation.
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

AXE_JS = Path(marche.__file__).parent / "static/vendor/axe/axe.min.js"
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


def axe_violations(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
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
def check_page(request):
    """Screenshot the page (test-artifacts/e2e/<test>--<n>-<name>.png), then run axe-core on it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))
    test_name = _slug(request.node.name)

    def check(page, name: str) -> None:
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / f"{test_name}--{next(counter):02d}-{_slug(name)}.png"), full_page=True)
        assert_accessible(page)

    return check
