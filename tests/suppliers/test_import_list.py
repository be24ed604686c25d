"""EA / EATT / EITI lists in the ministry's columns (issue 18 item 9): CSV or XLSX, all or nothing with a
French report by line and column, idempotent, claimed profiles untouched, points and sectors as for the
other lists. The sample list (tests/suppliers/samples/) holds invented structures only."""
import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import delete, func, select

from marche.accounts.models import OrganisationKind
from marche.cli import DATA_DIR
from marche.core.imports import ImportRejected
from marche.core.models import ReferenceDataset
from marche.extensions import db
from marche.suppliers.importer import import_list, import_structure_file
from marche.suppliers.models import Structure

SAMPLE = Path(__file__).parent / "samples" / "liste_ea_eatt_eiti_fictive.csv"


def sample_rows() -> list[dict]:
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def by_siret(siret: str) -> Structure:
    return db.session.execute(select(Structure).where(Structure.siret == siret)).scalar_one()


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Structure))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(";".join(cells) for cells in [header, *rows]) + "\n", encoding="utf-8")
    return path


HEADER = ["SIRET", "Raison sociale", "Adresse", "Code postal", "Commune", "Type"]


def test_a_list_in_the_ministry_columns_creates_one_profile_per_siret(app_ctx):
    rows = sample_rows()
    centres = {}
    with open(DATA_DIR / "communes.csv", newline="", encoding="utf-8") as handle:
        for commune in csv.DictReader(handle):
            if commune["latitude"]:
                centres[commune["code_insee"]] = (float(commune["latitude"]), float(commune["longitude"]))
    report = import_list(SAMPLE)
    db.session.commit()
    assert report.created == len(rows) == count() == 6
    assert report.flagged == []

    atelier = by_siret("99001234100006")  # written « 990 012 341 00006 » in the file
    assert atelier.kinds == ["EA"] and atelier.siren == "990012341"
    assert atelier.commune_code == "59512" and atelier.department_code == "59"  # Roubaix
    assert (atelier.latitude, atelier.longitude) == centres["59512"] and atelier.point_source == "commune"
    assert by_siret("99009012100007").kinds == ["EATT"]  # « Entreprise adaptée de travail temporaire »
    eiti = by_siret("99003456100003")
    assert eiti.kinds == ["EITI"] and eiti.address is None and eiti.commune_code == "93048"
    ain = by_siret("99002468100001")
    assert ain.postcode == "01000" and ain.department_code == "01"  # the spreadsheet lost the leading zero
    assert by_siret("99001234100006").naf_code == "1320Z"  # « 13.20Z » as the APE form

    # sectors deduced from the NAF code and the name, as for the other lists, and marked so
    greens = eiti.inferred_sectors
    assert any("espaces verts" in sector.name.lower() for sector in greens), [s.name for s in greens]
    recyclerie = by_siret("99007890100008")  # no NAF: the name's word « recyclerie »
    assert recyclerie.inferred_sectors and recyclerie.declared_sectors == []
    without_sector = [s.siret for s in db.session.execute(select(Structure)).scalars() if not s.sectors]
    assert without_sector == ["99009012100007"]  # a temporary-work agency (7820Z) names no trade


def test_importing_the_same_list_again_changes_nothing_and_xlsx_reads_the_same(app_ctx, tmp_path):
    import_list(SAMPLE)
    db.session.commit()
    again = import_list(SAMPLE)
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)

    book = openpyxl.Workbook()
    sheet = book.active
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        for cells in csv.reader(handle, delimiter=";"):
            sheet.append(cells)
    path = tmp_path / "liste.xlsx"
    book.save(path)
    from_xlsx = import_structure_file(path)
    db.session.commit()
    assert (from_xlsx.created, from_xlsx.updated, from_xlsx.unchanged) == (0, 0, 6)
    assert count() == 6


def test_a_list_with_bad_lines_is_refused_whole_with_every_line_and_column_named(app_ctx, tmp_path):
    path = write_csv(tmp_path / "liste.csv", HEADER, [
        ["99005678100000", "Bonne ligne", "1 rue", "59000", "Lille", "EA"],
        ["9900567810000A", "SIRET avec une lettre", "1 rue", "59000", "Lille", "EA"],
        ["99009012100007", "", "1 rue", "59000", "Lille", "EA"],
        ["99003456100003", "Pas une EA", "1 rue", "59000", "Lille", "ACI"],
        ["99007890100008", "Code postal faux", "1 rue", "5900A", "Lille", "EITI"],
    ])
    with pytest.raises(ImportRejected) as caught:
        import_list(path)
    db.session.rollback()
    errors = [(e.line, e.column) for e in caught.value.errors]
    assert errors == [(3, "SIRET"), (4, "Raison sociale"), (5, "Type"), (6, "Code postal")]
    message = caught.value.message
    assert "ligne 3, colonne « SIRET » : « 9900567810000A » n'est pas un SIRET de 14 chiffres" in message
    assert "ligne 5, colonne « Type » : type « ACI » inconnu" in message and "EITI" in message
    assert count() == 0  # the good line is not kept either


def test_a_list_without_a_required_column_or_unreadable_is_refused_in_french(app_ctx, tmp_path):
    path = write_csv(tmp_path / "liste.csv", HEADER[:-1], [["99005678100000", "Sans type", "1 rue", "59000", "Lille"]])
    with pytest.raises(ImportRejected) as caught:
        import_list(path)
    assert caught.value.errors[0].column == "fichier" and "« Type »" in caught.value.message
    binary = tmp_path / "liste.xls"
    binary.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(ImportRejected) as caught:
        import_list(binary)
    assert ".xls" in caught.value.message
    assert count() == 0


def test_a_claimed_profile_is_never_touched_by_a_list(app_ctx, make_structure, make_user):
    make_user("structure@example.fr", kind=OrganisationKind.INCLUSIVE_STRUCTURE)
    structure_id = make_structure(siret="99005678100000", name="Nom choisi par la structure", kinds=("EI",))
    structure = db.session.get(Structure, structure_id)
    structure.owner_organisation_id = _any_organisation_id()
    db.session.commit()
    before = (structure.name, list(structure.kinds), structure.commune_code, structure.latitude, structure.updated_at)

    report = import_list(SAMPLE)
    db.session.commit()
    db.session.expire_all()
    structure = db.session.get(Structure, structure_id)
    assert (structure.name, list(structure.kinds), structure.commune_code, structure.latitude,
            structure.updated_at) == before
    assert report.created == 5 and report.unchanged == 1
    assert any("fiche revendiquée (99005678100000)" in flag for flag in report.flagged)


def _any_organisation_id() -> int:
    from marche.accounts.models import Organisation

    return db.session.scalar(select(Organisation.id).limit(1))


def test_the_command_imports_a_list_skips_it_once_imported_and_reports_by_line(app, tmp_path):
    runner = app.test_cli_runner()
    try:
        first = runner.invoke(args=["marche", "import-structures", str(SAMPLE)])
        assert first.exit_code == 0, first.output
        assert "créées : 6" in first.output and "Couverture sectorielle" in first.output
        again = runner.invoke(args=["marche", "import-structures", str(SAMPLE)])
        assert "déjà importé à l'identique" in again.output
        forced = runner.invoke(args=["marche", "import-structures", str(SAMPLE), "--force"])
        assert forced.exit_code == 0 and "inchangées : 6" in forced.output
        bad = write_csv(tmp_path / "mauvaise.csv", HEADER, [["123", "X", "", "59000", "Lille", "EA"]])
        refused = runner.invoke(args=["marche", "import-structures", str(bad)])
        assert refused.exit_code == 1
        assert "ligne 2, colonne « SIRET » : « 123 » n'est pas un SIRET de 14 chiffres" in refused.output
    finally:
        with app.app_context():
            db.session.execute(delete(ReferenceDataset).where(ReferenceDataset.name.like("import:%")))
            db.session.commit()
