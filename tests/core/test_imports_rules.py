"""The import pattern's rules on both sides of each boundary, with answers computed here: how many
errors the message lists (20, then « et N autres »), how often progress is reported (every 500
lines, and once at the end unless the last report was that end), what a short line or a blank
leading row means, how the command line prints progress and counts a file's lines."""
from __future__ import annotations

import io

import pytest

from marche.core import imports
from marche.core.imports import Column, ImportRejected, LineError, import_rows, parse_all
from marche.core.tables import FileRejected
from tests.conftest import VALID_SIRETS

#: as the module's documentation states them (not read from the module: a changed value must fail here)
ERRORS_SHOWN, PROGRESS_EVERY = 20, 500


@pytest.mark.parametrize("count", [ERRORS_SHOWN, ERRORS_SHOWN + 1, ERRORS_SHOWN + 7])
def test_the_message_lists_twenty_errors_then_counts_the_others(count):
    errors = [LineError(line, "Heures", f"faute {line}") for line in range(count + 1, 1, -1)]  # any order
    rejected = ImportRejected(errors)
    assert [e.line for e in rejected.errors] == list(range(2, count + 2))  # every error kept, in line order
    shown = "; ".join(f"ligne {line}, colonne « Heures » : faute {line}" for line in range(2, min(count, ERRORS_SHOWN) + 2))
    more = f" (et {count - ERRORS_SHOWN} autres)" if count > ERRORS_SHOWN else ""
    assert rejected.message == f"Import refusé, aucune ligne enregistrée : {shown}{more}."
    assert rejected.field == "file"


def lines_of(count: int) -> list[tuple[int, str]]:
    return [(line, f"valeur {line}") for line in range(2, count + 2)]


@pytest.mark.parametrize("count", [0, 1, PROGRESS_EVERY - 1, PROGRESS_EVERY, PROGRESS_EVERY + 1, 2 * PROGRESS_EVERY])
def test_progress_every_500_lines_and_once_at_the_end(count):
    calls: list[tuple[int, int | None]] = []
    parsed = parse_all(lines_of(count), lambda line, row: row, lambda done, total: calls.append((done, total)), count)
    assert parsed == [f"valeur {line}" for line in range(2, count + 2)]
    expected = [(done, count) for done in range(PROGRESS_EVERY, count + 1, PROGRESS_EVERY)]
    if not expected or expected[-1][0] != count:
        expected.append((count, count))  # the end is reported once, even for an empty file
    assert calls == expected


def test_parse_all_keeps_every_bad_line_and_returns_nothing():
    def parse(line, row):
        if line % 3 == 0:
            raise imports.RowError("Nom", f"mauvaise ligne {line}")
        return row

    with pytest.raises(ImportRejected) as refused:
        parse_all(lines_of(10), parse)
    assert [(e.line, e.column, e.message) for e in refused.value.errors] == [
        (line, "Nom", f"mauvaise ligne {line}") for line in range(2, 12) if line % 3 == 0]


COLUMNS = [Column("siret", "SIRET", imports.siret), Column("name", "Raison sociale"),
           Column("people", "Personnes", imports.integer, required=False)]


def rows(*cells_by_line):
    return list(enumerate(cells_by_line, start=1))


def test_blank_rows_before_the_header_and_between_lines_are_skipped():
    lines = import_rows(rows([], ["", "  "], ["SIRET", "Raison sociale", "Personnes"], [VALID_SIRETS[0], "A", "3"],
                             [None, ""], [VALID_SIRETS[1], "B", ""]), COLUMNS)
    assert [(line.line, line.values) for line in lines] == [
        (4, {"siret": VALID_SIRETS[0], "name": "A", "people": 3}),
        (6, {"siret": VALID_SIRETS[1], "name": "B", "people": None})]


def test_a_short_line_reads_its_missing_cells_as_empty():
    """A line with fewer cells than the header (a spreadsheet drops trailing empty cells)."""
    lines = import_rows(rows(["Raison sociale", "SIRET", "Personnes"], ["A", VALID_SIRETS[0]]), COLUMNS)
    assert [line.values for line in lines] == [{"siret": VALID_SIRETS[0], "name": "A", "people": None}]
    with pytest.raises(ImportRejected) as refused:
        import_rows(rows(["Raison sociale", "Personnes", "SIRET"], ["A", "2"]), COLUMNS)
    assert [str(e) for e in refused.value.errors] == ["ligne 2, colonne « SIRET » : valeur manquante"]


def test_a_column_whose_cells_may_be_blank_is_still_required_in_the_header():
    columns = [Column("siret", "SIRET", imports.siret), Column("note", "Note", blank_ok=True)]
    lines = import_rows(rows(["SIRET", "Note"], [VALID_SIRETS[0], ""], [VALID_SIRETS[1], "x"]), columns)
    assert [line.values for line in lines] == [{"siret": VALID_SIRETS[0], "note": None},
                                               {"siret": VALID_SIRETS[1], "note": "x"}]
    with pytest.raises(FileRejected, match="« Note »"):
        import_rows(rows(["SIRET"], [VALID_SIRETS[0]]), columns)


@pytest.mark.parametrize("table", [[], [[], ["", None]]])
def test_an_empty_file_is_refused(table):
    with pytest.raises(FileRejected, match="^Le fichier est vide.$"):
        import_rows(rows(*table), COLUMNS)


def test_an_optional_column_may_be_absent_a_required_one_may_not():
    assert [line.values for line in import_rows(rows(["SIRET", "Raison sociale"], [VALID_SIRETS[0], "A"]), COLUMNS)] \
        == [{"siret": VALID_SIRETS[0], "name": "A", "people": None}]
    with pytest.raises(FileRejected) as refused:
        import_rows(rows(["Raison sociale", "Personnes"], ["A", "1"]), COLUMNS)
    assert refused.value.message == ("Colonne absente de l'en-tête : « SIRET ». Colonnes trouvées : "
                                     "« Raison sociale », « Personnes ».")


def test_the_columns_found_are_cut_at_300_characters():
    header = ["Raison sociale"] + [f"Colonne {n:03d} inutile" for n in range(40)]
    with pytest.raises(FileRejected) as refused:
        import_rows(rows(header, ["A"]), COLUMNS)
    seen = ", ".join(f"« {cell} »" for cell in header)
    assert len(seen) > 301
    assert refused.value.message == f"Colonne absente de l'en-tête : « SIRET ». Colonnes trouvées : {seen[:300]}."


def test_a_header_without_any_text_names_no_column_found():
    with pytest.raises(FileRejected) as refused:
        import_rows(rows(["Autre chose"], ["A"]), COLUMNS)
    assert refused.value.message == ("Colonnes absentes de l'en-tête : « SIRET », « Raison sociale ». "
                                     "Colonnes trouvées : « Autre chose ».")


def test_the_best_scoring_header_wins_and_the_first_on_a_tie():
    def score(header):
        return {"nom": 1, "raison sociale": 2}.get(str(header).lower(), 0)

    columns = [Column("name", "Nom", score=score), Column("city", "Ville", aliases=("Commune",))]
    lines = import_rows(rows(["Nom", "Commune", "Raison sociale", "Ville"], ["court", "Lille", "long", "Lens"]), columns)
    assert [line.values for line in lines] == [{"name": "long", "city": "Lille"}]
    assert imports.locate([], columns) == {}


def test_integers_and_sirets_on_both_sides():
    assert imports.integer("-12") == -12 and imports.integer("1 234") == 1234 and imports.integer("0") == 0
    with pytest.raises(ValueError, match="n'est pas un nombre entier"):
        imports.integer("--1")
    for bad in (VALID_SIRETS[0][:13], VALID_SIRETS[0] + "0"):
        with pytest.raises(ValueError, match="n'est pas un SIRET de 14 chiffres"):
            imports.siret(bad)
    assert imports.siret(" ".join([VALID_SIRETS[0][:3], VALID_SIRETS[0][3:6], VALID_SIRETS[0][6:9],
                                   VALID_SIRETS[0][9:]])) == VALID_SIRETS[0]


def test_an_empty_report_counts_nothing():
    assert imports.ImportReport().lines() == ["créées : 0", "mises à jour : 0", "inchangées : 0", "signalées : 0"]


def test_the_report_lists_50_flagged_lines():
    report = imports.ImportReport(created=2, updated=1, unchanged=4, flagged=[f"ligne {n}" for n in range(51)])
    assert report.lines() == ["créées : 2", "mises à jour : 1", "inchangées : 4", "signalées : 51"] + [
        f"  - ligne {n}" for n in range(50)]


def test_command_line_progress_without_a_total_and_before_the_end():
    out = io.StringIO()
    report = imports.print_progress("communes", out)
    report(500, None)
    report(500, 1200)
    report(1201, 1200)
    assert out.getvalue() == ("\rcommunes : 500 lignes\n\rcommunes : 500 / 1200 lignes"
                              "\rcommunes : 1201 / 1200 lignes\n")


@pytest.mark.parametrize("text,expected", [("", 0), ("code\n", 0), ("code\n1\n2\n3\n", 3)])
def test_count_lines_after_the_header(tmp_path, text, expected):
    path = tmp_path / "fichier.csv"
    path.write_text(text, encoding="utf-8")
    assert imports.count_lines(path) == expected


def test_reference_csv_values_are_stripped_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text("code,nom\n 59350 , Lille \n", encoding="utf-8")
    assert list(imports.read_csv(path)) == [(2, {"code": "59350", "nom": "Lille"})]
    path.write_text('code,nom\n59350,Lille\n59000,"' + "x" * 40_000 + '"\n', encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        list(imports.read_csv(path))
    assert [(e.line, e.column) for e in refused.value.errors] == [(3, "fichier")]


def test_a_reference_csv_refused_without_a_line_is_reported_on_its_first(tmp_path):
    path = tmp_path / "large.csv"
    path.write_text(",".join(f"c{n}" for n in range(1001)) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        list(imports.read_csv(path))
    assert [(e.line, e.column, e.message) for e in refused.value.errors] == [
        (1, "fichier", "Ligne 1 : plus de 1000 colonnes. Gardez seulement les colonnes utiles.")]


def test_a_declared_column_cannot_be_changed_by_one_import_for_the_others():
    """Columns are declared once per module and shared by every import of that kind."""
    import dataclasses

    column = COLUMNS[2]
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.required = True
    assert column.required is False and len({column, Column("people", "Personnes", imports.integer,
                                                             required=False)}) == 1
