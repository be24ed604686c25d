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

from services import start_services  # noqa: E402  (scripts/services.py)

INSTANCE = ROOT / "instance"
FLASK = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "marche"]


def step(message: str) -> None:
    print(message if message.startswith("==>") else f"==> {message}", flush=True)


def flask(*args: str, env: dict) -> str:
    result = subprocess.run(FLASK + list(args), env=env, cwd=ROOT, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"échec de « flask {' '.join(args)} »")
    return result.stdout


def main() -> None:
    env = dict(os.environ)
    env.setdefault("PORT", "5000")
    started_meili = start_services(env, say=step)
    print(flask("marche", "prepare", env=env), end="", flush=True)

    processes = [
        subprocess.Popen(FLASK + ["marche", "worker"], env=env, cwd=ROOT),
        subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{env['PORT']}",
                          "--workers", "2", "--threads", "4", "--access-logfile", "-",
                          "marche.wsgi:app"], env=env, cwd=ROOT),
    ]
    url = f"http://127.0.0.1:{env['PORT']}"
    print(f"\nLe portail est servi sur {url} (comptes de démonstration ci-dessus)", flush=True)
    print(f"Courriels de développement : {url}/dev/mails   (Ctrl-C pour arrêter)\n", flush=True)

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
