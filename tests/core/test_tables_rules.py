"""The table reader's rules on both sides of each boundary, with answers computed here: the default
limits as the module's documentation states them (members, sizes, ratio, sheets, columns), the
separator chosen on a tie, the 4 096 bytes where a NUL byte means « binary », the trailing empty cells
of a spreadsheet row, a cell as a person reads it, our own CSV files read whole."""
from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from marche.core import tables
from marche.core.tables import FileRejected, SpreadsheetLimits, cell_text, check_zip, read_table, xlsx_rows
from tests.core.malicious_files import xlsx

MB = 1024 * 1024
#: the defaults as documented (« 5 000 lines, 5 MB » uploads): written here, not read from the module
MEMBERS, MEMBER_BYTES, TOTAL_BYTES, RATIO, RATIO_FLOOR = 500, 20 * MB, 50 * MB, 100, MB
SHEETS, COLUMNS, ROWS, CELL = 50, 200, 10_000, 32_767


def stored_zip(sizes: list[int], payload: bytes = b"\0") -> bytes:
    """A zip whose members are stored (not compressed), of these uncompressed sizes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for number, size in enumerate(sizes):
            archive.writestr(f"m{number}", (payload * (size // len(payload) + 1))[:size])
    return out.getvalue()


def deflated_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("m", data)
    return out.getvalue()


def ratio_of(archive: bytes) -> float:
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        info = opened.infolist()[0]
    return info.file_size / info.compress_size


def test_members_count_on_both_sides():
    check_zip(stored_zip([1] * MEMBERS))
    with pytest.raises(FileRejected, match=f"trop d'éléments \\({MEMBERS + 1}\\)"):
        check_zip(stored_zip([1] * (MEMBERS + 1)))


def test_member_size_on_both_sides():
    check_zip(stored_zip([MEMBER_BYTES]))
    with pytest.raises(FileRejected, match="« m0 » dépasserait 20 Mo"):
        check_zip(stored_zip([MEMBER_BYTES + 1]))


def test_total_size_on_both_sides():
    check_zip(stored_zip([MEMBER_BYTES, MEMBER_BYTES, TOTAL_BYTES - 2 * MEMBER_BYTES]))
    with pytest.raises(FileRejected, match="^Le fichier Excel est refusé : une fois décompressé, il dépasserait 50 Mo.$"):
        check_zip(stored_zip([MEMBER_BYTES, MEMBER_BYTES, TOTAL_BYTES - 2 * MEMBER_BYTES + 1]))


def test_the_ratio_is_checked_on_members_over_one_megabyte_only():
    check_zip(deflated_zip(b"\0" * RATIO_FLOOR))  # a thousandfold, but small
    with pytest.raises(FileRejected, match="compressé plus de 100 fois"):
        check_zip(deflated_zip(b"\0" * (RATIO_FLOOR + 1)))


def test_the_ratio_on_both_sides_of_a_hundred():
    """Zeros with some random bytes: the share of random bytes sets the ratio, measured here from the
    zip's own directory; the member just under and just over a hundredfold are found by search."""
    size = 2 * MB
    random = os.urandom(size)
    under = over = None
    for noise in range(40_000, 10_000, -250):  # fewer random bytes: a higher ratio
        archive = deflated_zip(random[:noise] + b"\0" * (size - noise))
        if ratio_of(archive) <= RATIO:
            under = archive
        elif over is None:
            over = archive
            break
    assert under is not None and over is not None and ratio_of(under) <= RATIO < ratio_of(over)
    check_zip(under)
    with pytest.raises(FileRejected, match="compressé plus de 100 fois"):
        check_zip(over)


def workbook(sheets: list[list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets):
        sheet = book.create_sheet(f"F{number}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_preferred_sheet_is_looked_for_in_the_first_fifty():
    def wanted(cells):
        return cells[:1] == ["SIRET"]

    other = [["autre"]]
    fiftieth = workbook([other] * (SHEETS - 1) + [[["SIRET"], ["1"]]])
    assert [cells for _, cells in read_table(fiftieth, prefer=wanted).rows] == [["SIRET"], ["1"]]
    fifty_first = workbook([other] * SHEETS + [[["SIRET"], ["1"]]])
    assert [cells for _, cells in read_table(fifty_first, prefer=wanted).rows] == [["autre"]]


def test_two_hundred_columns_on_both_sides_in_csv_and_xlsx():
    fits = [f"c{n}" for n in range(COLUMNS)]
    assert [cells for _, cells in read_table(";".join(fits).encode()).rows] == [fits]
    assert [cells for _, cells in read_table(xlsx([fits])).rows] == [fits]
    with pytest.raises(FileRejected, match="^Ligne 1 : plus de 200 colonnes"):
        list(read_table(";".join(fits + ["de trop"]).encode()).rows)
    # a spreadsheet's cells past the 200th column are not read at all
    assert [cells for _, cells in read_table(xlsx([fits + ["de trop"]])).rows] == [fits]


def test_ten_thousand_rows_by_default():
    rows = "\n".join(f"ligne {n}" for n in range(ROWS))
    assert len(list(read_table(rows.encode()).rows)) == ROWS
    with pytest.raises(FileRejected, match="dépasse 10000 lignes"):
        list(read_table((rows + "\nune de trop").encode()).rows)


def test_the_longest_cell_in_a_csv_on_both_sides():
    assert [cells for _, cells in read_table(b"a;b\nc;" + b"x" * CELL + b"\n").rows] == [["a", "b"], ["c", "x" * CELL]]
    with pytest.raises(FileRejected, match="^Ligne 2 illisible : un champ dépasse 32767 caractères"):
        list(read_table(b"a;b\nc;" + b"x" * (CELL + 1) + b"\n").rows)


@pytest.mark.parametrize("width", [1, 2, 15, 16, 17, 31, 32, 33, 48, 60])
def test_a_row_loses_its_trailing_empty_cells_only(width):
    """openpyxl pads each row to the widest one: the reader drops the padding, never an inner gap."""
    row = [None if n % 3 == 1 else f"v{n}" for n in range(width)]
    if row:
        row[-1] = "fin"
    data = xlsx([["x"] * 70, row])
    read = [cells for _, cells in read_table(data).rows]
    expected = list(row)
    while expected and expected[-1] is None:
        expected.pop()
    assert read == [["x"] * 70, expected]


def test_a_row_past_the_limit_is_read_only_to_see_whether_it_is_blank():
    limits = SpreadsheetLimits(max_rows=3)
    assert [n for n, _ in read_table(xlsx([["a"], ["b"], ["c"], [None, None]]), limits).rows] == [1, 2, 3]


def test_the_separator_that_splits_most_wins_and_semicolon_first_on_a_tie():
    assert tables.sniff_separator(["a;b,c", "1;2,3"]) == ";"
    assert tables.sniff_separator(["a,b;c", "1,2;3"]) == ";"
    assert tables.sniff_separator(["a,b,c;d", "1,2,3;4"]) == ","
    assert tables.sniff_separator(["a|b", "1|2"]) == "|"
    assert tables.sniff_separator(["seule colonne", "1"]) is None
    # the following lines decide: the separator that splits them as the header does
    assert tables.sniff_separator(["a;b,c", "1,2", "3,4"]) == ","


def test_the_separator_is_sniffed_from_the_first_twenty_lines():
    """Header, then 19 lines: « | » splits ten of them as the header, « ; » nine; the lines around
    the 20th decide a tie (which « ; », listed first, would win)."""
    head = ["a;b|c"] + ["1|2"] * 9 + ["1;2"] * 9 + ["1|2"]
    assert len(head) == 20
    assert tables.sniff_separator(head + ["1;2"] * 5) == "|"


def test_the_first_fifty_lines_are_looked_at_blank_or_not():
    assert [cells for _, cells in read_table(("\n" * 49 + "a;b\n1;2").encode()).rows][-1] == ["1", "2"]
    assert [cells for _, cells in read_table(("\n" * 50 + "a;b\n1;2").encode()).rows][-1] == ["1;2"]


def test_a_nul_byte_means_binary_only_in_the_first_4096_bytes():
    with pytest.raises(FileRejected, match="ni un tableur .xlsx ni un fichier texte .csv"):
        read_table(b"a" * 4095 + b"\0")
    table = read_table(b"a" * 4096 + b"\0")
    assert table.format == "CSV (UTF-8)" and [len(cells[0]) for _, cells in table.rows] == [4097]


def test_encodings():
    assert read_table("é;ü".encode("utf-16")).format == "CSV (UTF-16)"
    assert read_table("é;ü".encode("cp1252")).format == "CSV (Windows-1252)"
    assert [cells for _, cells in read_table(b"\x81;a").rows] == [["\x81", "a"]]
    with pytest.raises(FileRejected, match="annonce l'encodage UTF-16"):
        read_table(b"\xff\xfe\x00\xd8")
    with pytest.raises(FileRejected, match="anciens \\(.xls\\)"):
        read_table(b"\xd0\xcf\x11\xe0" + b"\0" * 100)


def test_a_cell_as_a_person_reads_it():
    assert cell_text(None) == "" and cell_text(True) == "True" and cell_text(False) == "False"
    assert cell_text(12.0) == "12" and cell_text(12.5) == "12.5" and cell_text(0) == "0"
    assert cell_text(datetime(2026, 3, 1)) == "01/03/2026"
    assert cell_text(datetime(2026, 3, 1, 8, 30)) == "2026-03-01 08:30:00"
    assert cell_text(date(2026, 12, 31)) == "31/12/2026" and cell_text("  x  ") == "x"
    assert tables.is_blank(["", None, "  "]) and not tables.is_blank(["", 0])


def test_our_own_csv_files_are_read_whole(tmp_path):
    path = tmp_path / "ref.csv"
    columns = 1000
    path.write_text(",".join(f"c{n}" for n in range(columns)) + "\n" + "\n" + "1,2\n" + ",".join("v" * columns)
                    + "\n", encoding="utf-8")
    read = list(tables.read_csv_file(path))
    assert [line for line, _ in read] == [3, 4]
    assert read[0][1] == {"c0": "1", "c1": "2", **{f"c{n}": "" for n in range(2, columns)}}
    path.write_text(",".join(f"c{n}" for n in range(columns + 1)) + "\n", encoding="utf-8")
    with pytest.raises(FileRejected, match="plus de 1000 colonnes"):
        list(tables.read_csv_file(path))


def test_sizes_are_named_in_megabytes_or_kilobytes():
    assert [tables._size(n) for n in (MB, MB - 1, 64 * 1024, 20 * MB)] == ["1 Mo", "1023 Ko", "64 Ko", "20 Mo"]


def test_an_upload_is_read_within_five_seconds_by_default():
    """The deadline starts when the file is handed over: rows read 5.5 s later are refused, and the
    message names the 5 s limit (last in this file: it sleeps)."""
    rows = read_table(b"a;b\n1;2\n3;4\n").rows
    time.sleep(5.5)
    with pytest.raises(FileRejected, match="^La lecture du fichier a pris plus de 5 s et a été arrêtée"):
        list(rows)


def test_a_spreadsheet_checks_its_deadline_every_64_rows():
    """A parse that runs out of time between two checks is stopped at the next one: with the
    deadline passed while row 70 is read, rows up to 128 come, then the refusal."""
    rows = xlsx_rows(xlsx([[f"ligne {n}"] for n in range(1, 201)]), deadline=tables.Deadline(3.0))
    received = []
    with pytest.raises(FileRejected, match="a pris plus de 3 s"):
        for number, cells in rows:
            received.append(number)
            if number == 70:
                time.sleep(3.2)
    assert received == list(range(1, 129))


def test_a_field_too_long_past_the_sniffed_lines_names_its_line():
    """The separator is sniffed from the first 20 lines: a broken line after them is found by the
    reader itself, with the same French message."""
    text = "a;b\n" + "".join(f"{n};x\n" for n in range(2, 26)) + "26;" + "x" * (CELL + 1) + "\n"
    rows = read_table(text.encode()).rows
    with pytest.raises(FileRejected, match="^Ligne 26 illisible : un champ dépasse 32767 caractères") as refused:
        list(rows)
    assert refused.value.line == 26


def test_the_first_preferred_sheet_wins():
    book = workbook([[["autre"]], [["SIRET"], ["premier"]], [["SIRET"], ["second"]]])
    assert [cells for _, cells in read_table(book, prefer=lambda cells: cells[:1] == ["SIRET"]).rows] == [
        ["SIRET"], ["premier"]]


def test_a_zip_that_is_not_a_workbook_is_unreadable():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("note.txt", "pas un classeur")
    with pytest.raises(FileRejected, match="^Le fichier Excel est illisible. Enregistrez-le de nouveau"):
        list(read_table(out.getvalue()).rows)


def test_a_refusal_while_sniffing_or_choosing_a_sheet_names_the_right_line():
    from tests.core.malicious_files import extra_rows_xml, inline_cell

    with pytest.raises(FileRejected, match="^Ligne 1 illisible : un champ dépasse 32767 caractères"):
        read_table(b"x" * (CELL + 1) + b";a\n1;2\n")
    too_long = extra_rows_xml(xlsx([["SIRET"], ["1"]]), inline_cell(3, "A", "7" * (CELL + 1)))
    with pytest.raises(FileRejected, match="^Ligne 3, colonne 1 : la cellule dépasse 32767 caractères"):
        list(read_table(too_long, prefer=lambda cells: False).rows)


def test_large_sizes_are_named_in_whole_megabytes():
    assert tables._size(1023 * MB) == "1023 Mo"


def test_limits_are_fixed_once_declared():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        tables.DEFAULT_LIMITS.max_rows = 1


def test_without_a_preference_the_first_sheet_is_read_and_formulas_are_not():
    book = workbook([[["premier", "=1+1"]], [["second"]]])
    assert [cells for _, cells in read_table(book).rows] == [["premier"]]  # no cached value: empty, not "=1+1"


def test_a_suspect_member_is_named_on_80_characters():
    name = "x" * 79 + "yz"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"\0" * (2 * MB))
    with pytest.raises(FileRejected) as refused:
        check_zip(out.getvalue())
    assert f"« {name[:80]} »" in refused.value.message and "yz" not in refused.value.message
