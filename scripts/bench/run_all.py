"""`make bench`: start the services like `make run`, prepare the data, then run every benchmark."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from services import start_services  # noqa: E402

BENCHMARKS = ["search_bench.py"]


def main() -> int:
    env = dict(os.environ)
    meili = start_services(env)
    env["SEARCH_ALLOW_SYNTHETIC"] = "1"
    env.setdefault("REDIS_URL", "")
    # 50 000 synthetic rows and a full reindex hold statements longer than a web request may
    env.setdefault("DATABASE_STATEMENT_TIMEOUT", "0")
    try:
        subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "marche", "marche", "prepare"],
                       env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        failed = 0
        for script in BENCHMARKS:
            failed += subprocess.run([sys.executable, str(BENCH / script)], env=env, cwd=BENCH).returncode != 0
        return failed
    finally:
        if meili:
            meili.stop()


if __name__ == "__main__":
    raise SystemExit(main())
