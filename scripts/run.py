"""`make run`: start the database and Meilisearch (embedded unless configured), migrate, load the
reference data and the demo, then supervise the worker and the app: a child that dies is restarted
(with a backoff and a log line) instead of taking the portal down. The Meilisearch started here is
stopped on every way out (Ctrl-C, SIGTERM, a failed step, an unexpected error)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services import ConfigError, start_services  # noqa: E402  (scripts/services.py)
from supervisor import Supervisor  # noqa: E402  (scripts/supervisor.py)

FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "marche"]


def step(message: str) -> None:
    print(message if message.startswith("==>") else f"==> {message}", flush=True)


def flask(*args: str, env: dict) -> str:
    result = subprocess.run(FLASK + list(args), env=env, cwd=ROOT, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"échec de « flask {' '.join(args)} »")
    return result.stdout


def _stop_on_signal(signum, frame) -> None:
    # turned into SystemExit so that every `finally` below runs (children and Meilisearch stopped)
    raise SystemExit(0)


def main() -> None:
    env = dict(os.environ)
    env.setdefault("PORT", "5000")
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    started_meili = None
    supervisor = Supervisor(log=step)
    try:
        try:
            started_meili = start_services(env, say=step)
        except ConfigError as error:
            raise SystemExit(str(error)) from None
        # migrations and imports hold long statements: no statement timeout for this step
        print(flask("marche", "prepare", env={**env, "DATABASE_STATEMENT_TIMEOUT": "0"}), end="", flush=True)
        # a reindex batch may run longer than a web request may wait
        worker_env = {**env, "DATABASE_STATEMENT_TIMEOUT": env.get("WORKER_STATEMENT_TIMEOUT", "60000")}
        supervisor.add("worker", FLASK + ["marche", "worker"], env=worker_env, cwd=str(ROOT))
        supervisor.add("gunicorn", [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{env['PORT']}",
                                    "--workers", "2", "--threads", "4", "--access-logfile", "-",
                                    "marche.wsgi:app"], env=env, cwd=str(ROOT))
        url = f"http://127.0.0.1:{env['PORT']}"
        print(f"\nLe portail est servi sur {url}" + ("" if env.get("MARCHE_ENV") == "production"
                                                   else " (comptes de démonstration ci-dessus)"), flush=True)
        print(f"Courriels de développement : {url}/dev/mails   (Ctrl-C pour arrêter)\n", flush=True)
        supervisor.run()
    finally:
        supervisor.stop()
        if started_meili:
            started_meili.stop()


if __name__ == "__main__":
    main()
