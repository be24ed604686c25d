"""Upload bombs answer a clear French error within 2 s and without inflating memory: XLSX with a lying
dimension, a huge shared string, a zip bomb, cells far right or far below, an oversized cell; a CSV line
over the csv module's 128 KB; a 200 MB logo refused from its Content-Length; a file over its limit
refused from the stream's size. Each limit is also tested on its allowed side."""
from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from marche.core.tables import (MAX_CELL_CHARS, Deadline, FileRejected, SpreadsheetLimits, check_zip, csv_rows,
                                 xlsx_rows)
from marche.core.uploads import UploadTooLarge, read_upload
from marche.suppliers.check import CheckInputError, parse_file
from tests.core.malicious_files import (LazyBody, extra_rows_xml, huge_shared_string, inline_cell, lying_dimension,
                                        xlsx, zip_bomb)

__all__ = ["Measured"]

SIRET = "75187049400026"
HEADER = [["SIRET"], [SIRET]]


class Measured:
    """CPU seconds of this process and peak Python memory (tracemalloc) of the block: what a hostile file
    costs us, whatever else the machine runs (wall time on a shared 2-core machine measured the neighbours)."""

    def __enter__(self):
        tracemalloc.start()
        self.start = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.process_time() - self.start
        self.peak_mb = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
        return False


def test_lying_dimension_is_never_used():
    """`A1:XFD20000` claims 327 million cells (11 s of CPU before): only the real cells are read."""
    data = lying_dimension(HEADER)
    assert len(data) < 6000
    with Measured() as cost:
        entries, empty, kind, column, amount_column = parse_file("dimension.xlsx", data)
    assert [e.value for e in entries] == [SIRET] and column == "SIRET" and amount_column is None
    assert cost.seconds < 2 and cost.peak_mb < 20


def test_huge_shared_string_is_refused_before_inflating():
    """300 KB that inflate to one 300 MB cell (700 MB of memory before): refused from the zip's directory."""
    data = huge_shared_string(300)
    assert len(data) < 400_000
    with Measured() as cost, pytest.raises(CheckInputError) as error:
        parse_file("chaine.xlsx", data)
    assert "xl/sharedStrings.xml" in error.value.message and "dépasserait 20 Mo" in error.value.message
    assert error.value.field == "file"
    assert cost.seconds < 2 and cost.peak_mb < 5


def test_zip_bomb_member_and_ratio():
    with Measured() as cost, pytest.raises(CheckInputError, match="dépasserait 20 Mo"):
        parse_file("bombe.xlsx", zip_bomb(50))
    assert cost.seconds < 2 and cost.peak_mb < 5
    # under the size limit, a member compressed a thousandfold is still suspect
    with pytest.raises(CheckInputError, match="compressé plus de 100 fois"):
        parse_file("bombe.xlsx", zip_bomb(10))


def test_zip_limits_on_both_sides():
    limits = SpreadsheetLimits(max_member_bytes=64 * 1024, max_total_bytes=10**9, ratio_floor_bytes=10**9)
    at_limit = xlsx([["SIRET"]] + [["x" * 20_000]] * 3)  # the sheet is about 61 KB uncompressed
    check_zip(at_limit, limits)
    with pytest.raises(FileRejected, match="sheet1.xml » dépasserait 64 Ko"):
        check_zip(xlsx([["SIRET"]] + [["x" * 20_000]] * 4), limits)
    with pytest.raises(FileRejected, match="trop d'éléments"):
        check_zip(at_limit, SpreadsheetLimits(max_members=3))


def test_cells_far_right_and_far_below_cost_nothing():
    far_right = extra_rows_xml(xlsx(HEADER), "".join(inline_cell(row, "XFD", "x") for row in range(3, 3000)))
    with Measured() as cost:
        entries, *_ = parse_file("droite.xlsx", far_right)
    assert [e.value for e in entries] == [SIRET]
    assert cost.seconds < 2 and cost.peak_mb < 20
    far_below = extra_rows_xml(xlsx(HEADER), inline_cell(1_048_576, "A", SIRET))
    with Measured() as cost:
        entries, *_ = parse_file("bas.xlsx", far_below)
    # rows past the bound (10 000) are not read at all
    assert [e.value for e in entries] == [SIRET] and cost.seconds < 2


def test_row_limit_on_both_sides():
    limits = SpreadsheetLimits(max_rows=50)
    rows = [[f"ligne {n}"] for n in range(50)]
    assert len(list(xlsx_rows(xlsx(rows), limits))) == 50
    with pytest.raises(FileRejected, match="dépasse 50 lignes"):
        list(xlsx_rows(xlsx(rows + [["une de trop"]]), limits))
    assert len(list(csv_rows("\n".join(r[0] for r in rows), ";", limits))) == 50
    with pytest.raises(FileRejected, match="dépasse 50 lignes"):
        list(csv_rows("\n".join(r[0] for r in rows + [["une de trop"]]), ";", limits))


def test_cell_size_on_both_sides():
    fits = extra_rows_xml(xlsx(HEADER), inline_cell(3, "A", "7" * MAX_CELL_CHARS))
    entries, *_ = parse_file("ok.xlsx", fits)
    assert len(entries) == 2 and entries[1].value.endswith("…")  # kept, clipped for the report
    too_long = extra_rows_xml(xlsx(HEADER), inline_cell(3, "A", "7" * (MAX_CELL_CHARS + 1)))
    with Measured() as cost, pytest.raises(CheckInputError) as error:
        parse_file("long.xlsx", too_long)
    assert error.value.message == "Ligne 3, colonne 1 : la cellule dépasse 32767 caractères."
    assert cost.seconds < 2


def test_csv_line_over_128_kb_names_the_line():
    with Measured() as cost, pytest.raises(CheckInputError) as error:
        parse_file("long.csv", b"SIRET;Nom\n" + f"{SIRET};x\n".encode() + b"1;" + b"a" * 200_000 + b"\n")
    assert error.value.message.startswith("Ligne 3 illisible : un champ dépasse 32767 caractères")
    assert cost.seconds < 2
    entries, *_ = parse_file("juste.csv", b"SIRET;Nom\n" + f"{SIRET};".encode() + b"a" * MAX_CELL_CHARS + b"\n")
    assert [e.value for e in entries] == [SIRET]


def test_deadline_stops_a_parse():
    text = "\n".join(f"{SIRET};ligne {n}" for n in range(5000))
    assert len(list(csv_rows(text, ";", deadline=Deadline(5)))) == 5000
    with pytest.raises(FileRejected, match="a pris plus de 0 s et a été arrêtée"):
        list(csv_rows(text, ";", deadline=Deadline(0)))
    with pytest.raises(FileRejected, match="a pris plus de 0 s"):
        list(xlsx_rows(xlsx([[SIRET]] * 200), deadline=Deadline(0)))


def test_read_upload_uses_the_stream_size():
    from werkzeug.datastructures import FileStorage

    exact = FileStorage(io.BytesIO(b"x" * 1000), "f.png")
    assert len(read_upload(exact, 1000, "logo")) == 1000
    over = FileStorage(io.BytesIO(b"x" * 1001), "f.png")
    with pytest.raises(UploadTooLarge) as error:
        read_upload(over, 1000, "logo")
    assert over.stream.tell() == 0  # refused from the size alone: nothing read
    assert error.value.field == "logo" and "dépasse la taille autorisée" in error.value.message


# --- through the application -------------------------------------------------------------------

def test_api_body_over_the_request_limit_is_json_413(client):
    size = 50 * 1024 * 1024
    body = LazyBody(b'{"sirets": ["', size, b'"]}')
    response = client.post("/api/v1/structures/lookup", input_stream=body, content_length=size,
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "Fichier trop volumineux" and "10 Mo" in response.json["message"]
    assert body.read_bytes < 1024 * 1024


def test_zip_of_an_unsupported_version_is_unreadable_not_a_crash():
    """Found by hypothesis: a central directory that claims « version needed 6.4 » made zipfile raise
    NotImplementedError, which escaped as a 500."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = (64).to_bytes(2, "little")  # version needed to extract: 6.4
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(bytes(data)))  # the trap is real
    with pytest.raises(FileRejected, match="illisible"):
        check_zip(bytes(data))
