"""The table reader and the import pattern: CSV in UTF-8 or Windows-1252 with any of its separators, XLSX;
parsers (decimal comma, JJ/MM/AAAA, SIRET) checked against values computed here; a file with errors on
several lines is refused whole with every error named by line and column; progress on a long file."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from marche.core import imports
from marche.core.identifiers import is_valid_siret
from marche.core.imports import Column, ImportRejected, import_rows
from marche.core.tables import FileRejected, SpreadsheetLimits, read_table
from tests.conftest import VALID_SIRETS
from tests.core.malicious_files import xlsx

COLUMNS = [
    Column("siret", "SIRET", imports.siret, aliases=("N° SIRET",)),
    Column("name", "Raison sociale"),
    Column("hours", "Heures", imports.decimal),
    Column("people", "Personnes", imports.integer, required=False),
    Column("start", "Date de début", imports.french_date, aliases=("Début",)),
]
HEADER = ["N° SIRET", "Raison sociale", "Heures", "Personnes", "Début"]


def csv_bytes(rows: list[list[str]], separator: str, encoding: str) -> bytes:
    return "\r\n".join(separator.join(row) for row in rows).encode(encoding)


# --- parsers ------------------------------------------------------------------------------------

@given(st.integers(min_value=-10**9, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_decimal_reads_a_comma_and_thousands_spaces(units, cents):
    expected = Decimal(units) + (Decimal(cents) / 100 if units >= 0 else -Decimal(cents) / 100)
    sign = "-" if units < 0 else ""
    grouped = f"{abs(units):,}".replace(",", "\u202f")  # as a French spreadsheet prints it
    assert imports.decimal(f"{sign}{grouped},{cents:02d}") == expected
    assert imports.decimal(f"{sign}{abs(units)}.{cents:02d}") == expected


@given(st.text(alphabet="0123456789,.-e+ abc٣３", min_size=1, max_size=12))
def test_decimal_refuses_what_is_not_a_number(raw):
    compact = raw.replace(" ", "")
    digits = compact.removeprefix("-").replace(",", ".", 1)
    is_number = (digits.count(".") <= 1 and digits.replace(".", "").isascii() and digits.replace(".", "").isdigit()
                 and not digits.startswith(".") and not digits.endswith("."))
    if is_number:
        assert imports.decimal(raw) == Decimal(compact.replace(",", "."))
    else:
        with pytest.raises(ValueError, match="n'est pas un nombre"):
            imports.decimal(raw)


@given(st.dates(min_value=date(1000, 1, 1)))
def test_french_date_reads_jj_mm_aaaa(day):
    assert imports.french_date(day.strftime("%d/%m/%Y")) == day
    assert imports.french_date(f"{day.day}/{day.month}/{day.year:04d}") == day


@given(st.integers(1, 40), st.integers(1, 15), st.integers(1900, 2100))
def test_french_date_refuses_impossible_days(day, month, year):
    try:
        expected = date(year, month, day)
    except ValueError:
        expected = None
    text = f"{day:02d}/{month:02d}/{year}"
    if expected is None:
        with pytest.raises(ValueError, match="JJ/MM/AAAA"):
            imports.french_date(text)
    else:
        assert imports.french_date(text) == expected
    with pytest.raises(ValueError):
        imports.french_date(f"{year}-{month:02d}-{day:02d}")  # ISO is not what a French user types


def luhn(digits: str) -> bool:
    """The check digit, computed here from its definition (doubling every second digit from the right)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_siret_parser_follows_the_check_digit(digits):
    spaced = f"{digits[:3]} {digits[3:6]} {digits[6:9]} {digits[9:]}"
    # La Poste's establishments (SIREN 356000000) follow their own rule: the shared helper knows it
    valid = luhn(digits) if not digits.startswith("356000000") else is_valid_siret(digits)
    if valid:
        assert imports.siret(spaced) == digits
    else:
        with pytest.raises(ValueError, match="clé de contrôle"):
            imports.siret(spaced)


@pytest.mark.parametrize("raw", ["1234567890123", "123456789012345", "1234567890123A", "١٢٣٤٥٦٧٨٩٠١٢٣٤"])
def test_siret_parser_wants_fourteen_ascii_digits(raw):
    with pytest.raises(ValueError, match="14 chiffres"):
        imports.siret(raw)


# --- the table reader ---------------------------------------------------------------------------

GOOD = [HEADER, [VALID_SIRETS[0], "Élan Solidaire", "1 607,50", "3", "01/02/2026"],
        [VALID_SIRETS[1], "Atelier Œuvre", "35", "", "1/3/2026"]]
EXPECTED = [{"siret": VALID_SIRETS[0], "name": "Élan Solidaire", "hours": Decimal("1607.50"), "people": 3,
             "start": date(2026, 2, 1)},
            {"siret": VALID_SIRETS[1], "name": "Atelier Œuvre", "hours": Decimal("35"), "people": None,
             "start": date(2026, 3, 1)}]


@pytest.mark.parametrize("separator", [";", ",", "\t"])
@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")])
def test_csv_in_every_encoding_and_separator(separator, encoding, bom):
    rows = [[f'"{cell}"' if separator in cell else cell for cell in row] for row in GOOD]
    table = read_table(bom + csv_bytes(rows, separator, encoding))
    assert table.format == ("CSV (UTF-8)" if encoding == "utf-8" else "CSV (Windows-1252)")
    assert [line.values for line in import_rows(table.rows, COLUMNS)] == EXPECTED


def test_xlsx_with_number_and_date_cells():
    rows = [HEADER, [VALID_SIRETS[0], "Élan Solidaire", 1607.5, 3, date(2026, 2, 1)],
            [VALID_SIRETS[1], "Atelier Œuvre", 35, None, "1/3/2026"]]
    table = read_table(xlsx(rows))
    assert table.format == "Excel (.xlsx)"
    assert [(line.line, line.values) for line in import_rows(table.rows, COLUMNS)] == [(2, EXPECTED[0]),
                                                                                        (3, EXPECTED[1])]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks():
    data = 'SIRET;Raison sociale;Heures;Début\n\n{};"Deux\nlignes";1;01/01/2026\n{};x;oops;01/01/2026\n'.format(
        VALID_SIRETS[0], VALID_SIRETS[1]).encode()
    with pytest.raises(ImportRejected) as refused:
        import_rows(read_table(data).rows, COLUMNS)
    assert [str(e) for e in refused.value.errors] == [
        "ligne 5, colonne « Heures » : « oops » n'est pas un nombre (exemple : 1 234,56)"]


def test_every_error_of_every_line_is_reported_and_nothing_returned():
    rows = [HEADER,
            [VALID_SIRETS[0], "Bon", "12,5", "1", "01/01/2026"],
            ["12345678901234", "", "12,5", "deux", "31/02/2026"],
            [VALID_SIRETS[2], "Bon aussi", "1.2.3", "", "01/01/2026"]]
    with pytest.raises(ImportRejected) as refused:
        import_rows(read_table(csv_bytes(rows, ";", "utf-8")).rows, COLUMNS)
    assert [(e.line, e.column) for e in refused.value.errors] == [
        (3, "N° SIRET"), (3, "Raison sociale"), (3, "Personnes"), (3, "Début"), (4, "Heures")]
    message = refused.value.message
    assert message.startswith("Import refusé, aucune ligne enregistrée : ")
    assert "ligne 3, colonne « N° SIRET » : SIRET 12345678901234 invalide (clé de contrôle)" in message
    assert "ligne 3, colonne « Raison sociale » : valeur manquante" in message
    assert "ligne 3, colonne « Début » : « 31/02/2026 » n'est pas une date au format JJ/MM/AAAA" in message


def test_missing_required_column_is_named():
    data = csv_bytes([["SIRET", "Heures"], [VALID_SIRETS[0], "1"]], ";", "utf-8")
    with pytest.raises(FileRejected, match="Colonnes absentes de l'en-tête : « Raison sociale », « Date de début »"):
        import_rows(read_table(data).rows, COLUMNS)


def test_ten_thousand_lines_with_progress():
    count = 10_000
    rows = [HEADER] + [[VALID_SIRETS[i % 40], f"Structure {i}", f"{i},25", str(i), "15/06/2026"]
                       for i in range(count)]
    calls: list[tuple[int, int | None]] = []
    table = read_table(csv_bytes(rows, ";", "utf-8"), SpreadsheetLimits(max_rows=count + 1, seconds=60))
    lines = import_rows(table.rows, COLUMNS, progress=lambda done, total: calls.append((done, total)), total=count)
    assert len(lines) == count and lines[-1].line == count + 1
    assert lines[-1].values["hours"] == Decimal(f"{count - 1}.25")
    assert calls == [(done, count) for done in range(imports.PROGRESS_EVERY, count + 1, imports.PROGRESS_EVERY)]


def test_progress_is_printed_for_the_command_line():
    out = io.StringIO()
    report = imports.print_progress("structures.csv : lecture", out)
    report(500, 1200)
    report(1200, 1200)
    assert out.getvalue() == "\rstructures.csv : lecture : 500 / 1200 lignes\rstructures.csv : lecture : 1200 / 1200 lignes\n"


def test_a_row_past_the_limit_is_refused_by_the_reader():
    rows = [HEADER] + [[VALID_SIRETS[0], "x", "1", "1", "01/01/2026"]] * 3
    with pytest.raises(FileRejected, match="dépasse 3 lignes"):
        import_rows(read_table(csv_bytes(rows, ";", "utf-8"), SpreadsheetLimits(max_rows=3)).rows, COLUMNS)
