"""`make run`: start the database and Meilisearch (embedded unless configured), migrate, load the
reference data and the demo, start the worker and the app, print the URL and the demo accounts."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marche.config import _generated_secret  # noqa: E402
from marche.core.embedded import MeiliProcess, ensure_postgres, meili_healthy  # noqa: E402

INSTANCE = ROOT / "instance"
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "marche"]


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def flask(*args: str, env: dict) -> str:
    result = subprocess.run(FLASK + list(args), env=env, cwd=ROOT, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"échec de « flask {' '.join(args)} »")
    return result.stdout


def main() -> None:
    env = dict(os.environ)
    env.setdefault("PORT", "5000")
    started_meili: MeiliProcess | None = None
    if not env.get("DATABASE_URL"):
        step("PostgreSQL embarqué (données dans instance/pgdata)")
        env["DATABASE_URL"] = ensure_postgres(INSTANCE / "pgdata")
    if not env.get("MEILI_URL"):
        key = env.get("MEILI_MASTER_KEY") or _generated_secret(INSTANCE, "meili_master_key")
        env["MEILI_MASTER_KEY"] = key
        env["MEILI_URL"] = "http://127.0.0.1:7700"
        if not meili_healthy(env["MEILI_URL"]):
            step("Meilisearch embarqué (données dans instance/meili)")
            started_meili = MeiliProcess(INSTANCE / "meili", key, port=7700).start()
    step("Migrations")
    flask("db", "upgrade", env=env)
    step("Données de référence")
    print(flask("marche", "load-reference", env=env), end="")
    step("Données de démonstration")
    demo = flask("marche", "demo", env=env)

    processes = [
        subprocess.Popen(FLASK + ["marche", "worker"], env=env, cwd=ROOT),
        subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{env['PORT']}",
                          "--workers", "2", "--threads", "4", "--access-logfile", "-",
                          "marche.wsgi:app"], env=env, cwd=ROOT),
    ]
    url = f"http://127.0.0.1:{env['PORT']}"
    print(f"\nLe portail est servi sur {url}\n", flush=True)
    print(demo, flush=True)
    print("Courriels de développement : " + url + "/dev/mails   (Ctrl-C pour arrêter)\n", flush=True)

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if started_meili:
            started_meili.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while all(process.poll() is None for process in processes):
        time.sleep(0.5)
    stop()


if __name__ == "__main__":
    main()
