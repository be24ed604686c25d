"""`flask marche ...` through Flask's CLI runner, on the test database and search index: imports skip
a file already imported and re-import it with --force, a rejected file leaves nothing behind,
`prepare` twice does the work once, `demo` twice creates its accounts once. (`reindex --if-needed`
is tested with the index outages, tests/search/test_index_outage.py.)"""
import csv
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text

from marche.accounts.models import User
from marche.cli import DATA_DIR
from marche.core.models import ReferenceDataset
from marche.extensions import db
from marche.suppliers.models import Structure

SIAE = DATA_DIR / "structures_siae_geiq_ea.csv"


@pytest.fixture
def cli(app):
    """Run a `flask marche` command; the import records (kept across tests like reference data) are removed after."""
    runner = app.test_cli_runner()
    yield lambda *args: runner.invoke(args=["marche", *args])
    with app.app_context():
        db.session.execute(delete(ReferenceDataset).where(ReferenceDataset.name.like("import:%")))
        db.session.commit()


def first_rows(tmp_path: Path, count: int, edit=None) -> tuple[Path, list[dict]]:
    """A copy of the real list's header and first `count` rows (`edit` may change them)."""
    with open(SIAE, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for _, row in zip(range(count), reader)]
        fields = reader.fieldnames
    for row in rows:
        (edit or (lambda r: None))(row)
    path = tmp_path / "structures.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path, rows


def counted(app, model=Structure, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_import_skips_a_file_already_imported_and_force_imports_it_again(app, cli, tmp_path):
    path, rows = first_rows(tmp_path, 5)
    sirets = {row["siret"] for row in rows}
    first = cli("import-structures", str(path))
    assert first.exit_code == 0, first.output
    assert counted(app) == len(sirets)

    with app.app_context():  # a change made on the site since: a skipped import must not undo it
        db.session.execute(text("update structure set description = 'modifiée' where siret = :s"),
                           {"s": rows[0]["siret"]})
        db.session.commit()
    again = cli("import-structures", str(path))
    assert again.exit_code == 0 and "déjà importé à l'identique" in again.output
    forced = cli("import-structures", str(path), "--force")
    assert forced.exit_code == 0 and "déjà importé" not in forced.output
    assert counted(app) == len(sirets)  # an upsert: nothing doubled


def test_a_rejected_file_is_rolled_back_and_not_recorded(app, cli, tmp_path):
    def break_last(row):
        if row["id_fixture"] == "3":
            row["type"] = "ZZZ"

    path, _ = first_rows(tmp_path, 3, break_last)
    result = cli("import-structures", str(path))
    assert result.exit_code == 1
    assert "ligne" in result.output.lower()
    assert counted(app) == 0  # the two good lines are not kept either
    assert counted(app, ReferenceDataset, ReferenceDataset.name.like("import:%")) == 0
    # once fixed, the same name imports (a rejected file was not remembered as imported)
    fixed, rows = first_rows(tmp_path, 3)
    assert cli("import-structures", str(fixed)).exit_code == 0
    assert counted(app) == len({row["siret"] for row in rows})


def test_prepare_twice_does_the_work_once(app, cli):
    first = cli("prepare")
    assert first.exit_code == 0, first.output
    with open(SIAE, newline="", encoding="utf-8") as handle:
        listed = {row["siret"] for row in csv.DictReader(handle)}
    structures, users = counted(app), counted(app, User)
    assert counted(app, Structure, Structure.siret.in_(listed)) == len(listed)
    assert "==> Index de recherche" in first.output and "Comptes de démonstration" in first.output

    second = cli("prepare")
    assert second.exit_code == 0, second.output
    assert second.output.count("déjà importé à l'identique") == 2
    # no full reindex: at most the demo profile, changed by the first run's demo step after its index step
    # (its catch-up shows up here: a known lag, noted in issue 23's report), is sent again
    assert "structures indexées" not in second.output
    assert re.search(r"Index (à jour \(|rattrapé : [01] fiches renvoyées, 0 retirées)", second.output), second.output
    assert (counted(app), counted(app, User)) == (structures, users)  # demo accounts not created twice


def test_demo_twice_gives_the_same_accounts(app, cli):
    first = cli("demo")
    users = counted(app, User)
    second = cli("demo")
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.output == second.output and counted(app, User) == users > 0


def test_the_catalogue_index_is_caught_up_by_version_not_rebuilt(app, cli, catalogue_index):
    from marche.search import catalogue

    result = cli("load-reference")
    assert result.exit_code == 0, result.output
    assert "Index du catalogue à jour." in result.output
    with app.app_context():
        index = catalogue.indexer.index_of(catalogue.CATALOGUE)
        catalogue.indexer._wait(index.update_documents([{"id": 77310000, "version": "ancienne"}]).task_uid)
        catalogue.indexer._wait(index.delete_documents(ids=["90911200"]).task_uid)
    result = cli("reindex", "--if-needed")
    assert "Index du catalogue rattrapé : 2 entrées renvoyées, 0 retirées." in result.output, result.output
    with app.app_context():
        assert catalogue.up_to_date()
