"""The README says only what is true: its benchmark table is the last `make bench`
(scripts/bench/results/search.json), figure by figure."""
from __future__ import annotations

import json
import re

from marche.config import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
RESULTS = PROJECT_ROOT / "scripts" / "bench" / "results" / "search.json"
#: the table's rows (by how they start) and the result each one shows
ROWS = {
    "Meilisearch brut": "raw_meili",
    "API `/api/v1/structures`": "api",
    "Page HTML `/structures`, workers gelés": "html",
    "Page HTML `/structures` sans `gc.freeze()`": "html_without_gc_freeze",
    "Repli SQL": "sql_fallback",
}
COLUMNS = ("p50", "p95", "p99", "max")


def _number(cell: str) -> float:
    return float(re.search(r"[\d ]+(?:,\d+)?", cell.replace("**", "")).group().replace(" ", "").replace(",", "."))


def _bench_table() -> dict[str, list[str]]:
    section = README.read_text(encoding="utf-8").split("## Mesures de vitesse", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and not set(cells[1]) <= {"-"}:
            rows[cells[0]] = cells[1:]
    return rows


def test_bench_table_is_the_last_results():
    results = json.loads(RESULTS.read_text())
    table = _bench_table()
    checked = 0
    for start, key in ROWS.items():
        label = next(label for label in table if label.startswith(start))
        for column, cell in zip(COLUMNS, table[label]):
            # figures are printed to 0,1 ms (or whole ms): a fresh run moves them by more than that
            assert abs(_number(cell) - results[key][column]) <= 0.51, (label, column, cell, results[key][column])
            checked += 1
    reindex = next(cells for label, cells in table.items() if label.startswith("Réindexation"))
    assert abs(_number(reindex[1]) - results["reindex_s"]) <= 0.051
    assert checked == len(ROWS) * len(COLUMNS)
    assert f"{results['structures']:,}".replace(",", " ") in "\n".join(table)
