"""`make bench`: start the services like `make run`, prepare the bench's own database and index
(never the portal's), then run every benchmark against them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_database import prepare_bench_database  # noqa: E402  (scripts/bench/bench_database.py)
from services import start_services  # noqa: E402

BENCHMARKS = ["search_bench.py", "page_weight.py", "clauses_bench.py", "need_bench.py", "tenders_bench.py",
              "relay_publish.py", "market_depth.py", "tender_search.py", "digests.py", "grouping_pdf.py",
              "grouping_suggestions.py", "hours_import.py", "hours_dashboards.py"]
#: the directory size the figures are measured at: the real structures, topped up with synthetic ones
TARGET_COUNT = 50_000


def main(words: list[str]) -> int:
    """Every benchmark, or those whose file name holds one of `words` (`make bench ONLY="grouping"`)."""
    selected = [script for script in BENCHMARKS if not words or any(word in script for word in words)]
    if not selected:
        print(f"bench : aucun banc parmi {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    meili = start_services(env)
    env.setdefault("REDIS_URL", "")
    try:
        bench_env = prepare_bench_database(env, TARGET_COUNT)
        failed = 0
        for script in selected:
            failed += subprocess.run([sys.executable, str(BENCH / script)], env=bench_env, cwd=BENCH).returncode != 0
        return failed
    finally:
        if meili:
            meili.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
