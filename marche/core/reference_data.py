"""Loading reference files: checksums, the "already loaded?" record and batched PostgreSQL upserts."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from ..extensions import db
from .tables import read_csv_file

BATCH_SIZE = 5000


def file_sha256(*paths: Path) -> str:
    """One digest over the given files, in order: a dataset built from several files changes with any."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def read_csv(path: Path) -> list[dict[str, str]]:
    """All rows of a UTF-8 CSV with a header; every value stays text (codes keep their leading zeros)."""
    return [row for _line, row in read_csv_file(path)]


def is_loaded(dataset_model: type, name: str, sha256: str) -> bool:
    """True when `name` was last loaded from files with this digest (the model is ReferenceDataset)."""
    record = db.session.get(dataset_model, name)
    return record is not None and record.sha256 == sha256


def record_loaded(dataset_model: type, name: str, sha256: str, rows: int) -> None:
    upsert(dataset_model, [{"name": name, "sha256": sha256, "rows": rows}], key=("name",))


def load_if_changed(dataset_model: type, name: str, files: Sequence[Path], force: bool,
                    load: Callable[[], int]) -> int:
    """Run `load` (upserts, returns its row count) unless these files were already loaded; 0 when skipped."""
    digest = file_sha256(*files)
    if not force and is_loaded(dataset_model, name, digest):
        return 0
    rows = load()
    record_loaded(dataset_model, name, digest, rows)
    return rows


def _batches(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def upsert(model: type, rows: Iterable[dict[str, Any]], key: Sequence[str] = ("code",)) -> int:
    """INSERT … ON CONFLICT (key) DO UPDATE every other given column, in batches; no commit."""
    rows = list(rows)
    if not rows:
        return 0
    statement = insert(model)
    updated = {column: statement.excluded[column] for column in rows[0] if column not in key}
    statement = statement.on_conflict_do_update(index_elements=list(key), set_=updated)
    for batch in _batches(rows, BATCH_SIZE):
        db.session.execute(statement, batch)
    return len(rows)
