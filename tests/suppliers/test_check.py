"""« Vérifier mes fournisseurs »: every line of a pasted list, a CSV (UTF-8 `;`, Windows-1252 `,`) or an XLSX
answered against the real imported directory; the summary; the export read back; the page's access."""
from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from marche import create_app
from marche.accounts.models import OrganisationKind
from marche.cli import DATA_DIR
from marche.core.identifiers import is_valid_siret
from marche.extensions import db
from marche.core.tables import decode, sniff_separator
from marche.suppliers.check import MAX_LINES, CheckInputError, Entry, check_entries, check_file, check_text
from marche.suppliers.importer import import_esat, import_structures
from tests.conftest import csrf_token, login, page_text, submit

SIAE = DATA_DIR / "structures_siae_geiq_ea.csv"
ESAT = DATA_DIR / "esat_finess.csv"
URL = "/verifier-mes-fournisseurs"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


SIAE_ROWS, ESAT_ROWS = _rows(SIAE), _rows(ESAT)


def _expected() -> tuple[dict[str, set[str]], dict[str, str]]:
    """Kinds per SIRET over both files, and the name shown (first row's brand or name) for SIRETs in one file."""
    kinds: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    for row in SIAE_ROWS:
        kinds.setdefault(row["siret"], set()).add(row["type"])
        names.setdefault(row["siret"], row["enseigne"] or row["raison_sociale"])
    for row in ESAT_ROWS:
        if row["siret"]:
            kinds.setdefault(row["siret"], set()).add("ESAT")
            names.setdefault(row["siret"], row["raison_sociale"])
    return kinds, names


KINDS, NAMES = _expected()
ALL_SIRENS = {siret[:9] for siret in KINDS}

MULTI_KIND = "40765547100057"  # EI + ETTI in the ASP file
ACI = "75187049400026"  # La Collecterie, Montreuil
TO_CHECK = "50010961600027"  # in the file, fails the Luhn check: « SIRET à vérifier »
LEADING_ZERO = "08628031000193"  # an ESAT whose SIRET starts with 0 (lost in a numeric spreadsheet cell)
ESAT_SIRET = next(r["siret"] for r in ESAT_ROWS if r["siret"] and r["siret"] not in {s["siret"] for s in SIAE_ROWS}
                  and not r["siret"].startswith("0") and is_valid_siret(r["siret"]))
MULTI_SIREN = "807469317"  # several establishments in the ASP file


def _luhn_outside_directory(start: int, count: int, siren: str | None = None) -> list[str]:
    found, value = [], start
    while len(found) < count:
        value += 1
        candidate = f"{siren}{value % 100000:05d}" if siren else f"{value:014d}"
        if is_valid_siret(candidate) and candidate not in KINDS and (siren or candidate[:9] not in ALL_SIRENS):
            found.append(candidate)
    return found


OUTSIDE = _luhn_outside_directory(44229377500000, 3)
SIBLING = _luhn_outside_directory(0, 1, siren=MULTI_SIREN)[0]  # same SIREN as an inclusive structure
BAD_KEY = ACI[:-1] + str((int(ACI[-1]) + 1) % 10)


def test_fixture_values_hold():
    assert KINDS[MULTI_KIND] == {"EI", "ETTI"} and KINDS[ACI] == {"ACI"}
    assert TO_CHECK in KINDS and not is_valid_siret(TO_CHECK)
    assert KINDS[LEADING_ZERO] == {"ESAT"} and KINDS[ESAT_SIRET] == {"ESAT"}
    assert sum(1 for s in KINDS if s.startswith(MULTI_SIREN)) > 1
    assert not is_valid_siret(BAD_KEY) and all(is_valid_siret(s) for s in OUTSIDE + [SIBLING])


@pytest.fixture(autouse=True)
def _empty_search_index(app):
    """Imports here index structures through the outbox; leave the search index as empty as the tables."""
    yield
    from marche.search.indexer import reindex_all

    with app.app_context():
        db.session.remove()
        db.session.execute(text("TRUNCATE structure CASCADE"))
        db.session.commit()
        reindex_all()


@pytest.fixture
def directory(app_ctx):
    import_structures(SIAE)
    import_esat(ESAT)
    db.session.commit()
    return app_ctx


def _spaced(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


#: (value in the list, expected status, expected reason or None)
CASES = [
    (_spaced(MULTI_KIND), "inclusive", None),
    (f"{ACI[:3]}.{ACI[3:6]}.{ACI[6:9]}.{ACI[9:]}", "inclusive", None),
    (ESAT_SIRET, "inclusive", None),
    (LEADING_ZERO, "inclusive", None),
    (TO_CHECK, "inclusive", None),
    (MULTI_SIREN, "inclusive", None),
    (OUTSIDE[0], "not_inclusive", None),
    (OUTSIDE[1][:9], "not_inclusive", None),
    (SIBLING, "not_inclusive", None),
    (BAD_KEY, "invalid", "SIRET invalide (clé de contrôle)"),
    ("1234", "invalid", "14 chiffres attendus (SIRET) ou 9 (SIREN) : 4 chiffres reçus"),
    ("ABC 123", "invalid", "Caractères non numériques : 14 chiffres attendus (SIRET) ou 9 (SIREN)"),
    ("807469317000180", "invalid", "14 chiffres attendus (SIRET) ou 9 (SIREN) : 15 chiffres reçus"),
    (MULTI_KIND, "inclusive", None),  # a duplicate is answered too, with a note
]


def _check_answers(lines, first_line: int) -> None:
    assert [l.status for l in lines] == [c[1] for c in CASES]
    multi = lines[0]
    assert multi.siret == MULTI_KIND and multi.kinds == ["EI", "ETTI"] and multi.name == NAMES[MULTI_KIND]
    assert lines[1].siret == ACI and lines[1].kinds == ["ACI"] and lines[1].name == NAMES[ACI]
    assert lines[2].kinds == ["ESAT"] and lines[2].name == NAMES[ESAT_SIRET]
    assert lines[3].siret == LEADING_ZERO and lines[3].kinds == ["ESAT"]
    assert lines[4].siret == TO_CHECK and "à vérifier" in lines[4].note
    siren = lines[5]
    assert siren.siren == MULTI_SIREN and siren.siret is None
    assert set(siren.kinds) == set().union(*(k for s, k in KINDS.items() if s.startswith(MULTI_SIREN)))
    assert sorted(siren.matched_sirets) == sorted(s for s in KINDS if s.startswith(MULTI_SIREN))
    assert lines[6].siret == OUTSIDE[0] and lines[6].kinds == [] and lines[6].name is None
    assert lines[7].siren == OUTSIDE[1][:9]
    assert "même SIREN" in lines[8].note
    for line, (_, status, reason) in zip(lines, CASES):
        assert line.reason == reason, line
    assert "doublon de la ligne" in lines[-1].note
    assert [l.input for l in lines] == [c[0] for c in CASES]  # every input kept as typed
    assert lines[0].line == first_line


def test_pasted_list(directory):
    text = "SIRET\n" + "\n".join(c[0] for c in CASES[:5]) + "\n\n   \n" + "\n".join(c[0] for c in CASES[5:])
    report = check_text(text)
    lines = report.lines
    _check_answers(lines, first_line=2)
    assert lines[5].line == 9  # two blank lines skipped, numbers stay those of the text
    summary = report.summary
    assert summary["total"] == len(CASES) == 14
    assert (summary["inclusive"], summary["not_inclusive"], summary["invalid"]) == (7, 3, 4)
    assert summary["empty_lines"] == 2
    expected = Counter()
    for siret in (MULTI_KIND, ACI, ESAT_SIRET, LEADING_ZERO, TO_CHECK, MULTI_KIND):
        expected.update(KINDS[siret])
    expected.update(set().union(*(k for s, k in KINDS.items() if s.startswith(MULTI_SIREN))))
    assert summary["by_kind"] == dict(expected)


def _file_rows() -> list[list[str]]:
    """A supplier file: name, SIRET, amount; plus a row without SIRET and an Excel-mangled number."""
    rows = [[f"Fournisseur {i}", value, f"{1000 + i},50"] for i, (value, _, _) in enumerate(CASES, start=1)]
    rows.insert(3, ["", "", ""])  # a blank row
    rows.append(["Société sans numéro", "", "12,00"])
    rows.append(["Export tableur", "8,07469E+13", "3,00"])
    return rows


def _check_file_answers(report) -> None:
    lines = report.lines
    _check_answers(lines[:len(CASES)], first_line=2)
    assert [l.line for l in lines[:4]] == [2, 3, 4, 6]  # line 5 is the blank row
    missing, mangled = lines[-2:]
    assert missing.status == "invalid" and missing.reason == "SIRET manquant" and missing.line == len(CASES) + 3
    assert mangled.status == "invalid" and "notation scientifique" in mangled.reason
    assert report.summary["total"] == len(CASES) + 2 and report.summary["empty_lines"] == 1
    assert report.summary["invalid"] == 6
    # the amount column gives the share of spend: amounts of the inclusive lines over all amounts read
    amounts = {i: Decimal(1000 + i) + Decimal("0.5") for i in range(1, len(CASES) + 1)}
    inclusive = sum(amounts[i] for i, (_, status, _) in enumerate(CASES, start=1) if status == "inclusive")
    total = sum(amounts.values()) + Decimal(12) + Decimal(3)
    spend = report.summary["spend"]
    assert Decimal(spend["inclusive"]) == inclusive == Decimal("7038.50")
    assert Decimal(spend["total"]) == total == Decimal("14127.00")
    assert spend["share"] == "49.8" and spend["lines"] == len(CASES) + 2 and spend["lines_without"] == 0
    # distinct suppliers, by SIREN: MULTI_KIND twice, SIBLING shares MULTI_SIREN, OUTSIDE[0] and OUTSIDE[1]
    # (neighbours) share theirs: 10 valid lines, 7 companies
    sirens = {c[0].replace(" ", "").replace(".", "")[:9] for c in CASES if c[1] != "invalid"}
    assert report.summary["distinct_suppliers"] == len(sirens) == 7
    inclusive_sirens = {c[0].replace(" ", "").replace(".", "")[:9] for c in CASES if c[1] == "inclusive"}
    assert report.summary["distinct_inclusive"] == len(inclusive_sirens) == 6


def test_csv_utf8_semicolon_with_bom(directory):
    body = io.StringIO()
    writer = csv.writer(body, delimiter=";")
    writer.writerow(["Raison sociale", "N° SIRET", "Montant (€)"])
    writer.writerows(_file_rows())
    report = check_file("fournisseurs.csv", ("\ufeff" + body.getvalue()).encode("utf-8"))
    assert report.column == "N° SIRET" and "UTF-8" in report.source
    _check_file_answers(report)


def test_csv_windows_1252_comma_accented_headers(directory):
    body = io.StringIO()
    writer = csv.writer(body, delimiter=",")
    writer.writerow(["Dénomination", "Numéro SIRET", "Dépense (€)"])
    writer.writerows([[("Électricité Générale " + r[0]) if r[0] else "", r[1], r[2]] for r in _file_rows()])
    data = body.getvalue().encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = check_file("export-achats.csv", data)
    assert report.column == "Numéro SIRET" and "Windows-1252" in report.source
    _check_file_answers(report)


def test_xlsx_with_numeric_cells(directory):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Fournisseur", "SIRET/SIREN", "Montant"])
    for row in _file_rows():
        value = row[1]
        if value == LEADING_ZERO or value == OUTSIDE[0]:
            value = int(value)  # typed as a number: the leading zero is lost, restored on reading
        sheet.append([row[0], value, row[2]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = check_file("fournisseurs.xlsx", buffer.getvalue())
    assert report.column == "SIRET/SIREN" and "xlsx" in report.source
    _check_file_answers(report)


def test_separator_and_encoding_sniffing():
    assert sniff_separator(["siret\tnom", "1\ta", "2\tb"]) == "\t"
    assert sniff_separator(["siret;nom, prénom", "1;a, b"]) == ";"
    assert sniff_separator(["siret"]) is None
    assert decode("siret;é".encode("utf-8")) == ("siret;é", "UTF-8")
    assert decode("siret;é".encode("cp1252")) == ("siret;é", "Windows-1252")
    assert decode("siret".encode("utf-16")) == ("siret", "UTF-16")


def test_file_without_siret_column_names_what_is_expected(directory):
    with pytest.raises(CheckInputError) as error:
        check_file("liste.csv", "Nom;Montant\nA;12\n".encode("utf-8"))
    assert "Aucune colonne SIRET" in error.value.message and "« SIRET »" in error.value.message
    assert "« Nom »" in error.value.message and error.value.field == "file"


def test_single_column_without_header_and_limits(directory):
    report = check_file("liste.txt", f"{ACI}\n{OUTSIDE[0]}\n".encode("utf-8"))
    assert [l.status for l in report.lines] == ["inclusive", "not_inclusive"]
    with pytest.raises(CheckInputError, match="5000 au plus"):
        check_text("\n".join([OUTSIDE[0]] * (MAX_LINES + 1)))
    with pytest.raises(CheckInputError, match="illisible"):
        check_file("faux.xlsx", b"PK\x03\x04 pas un classeur")
    with pytest.raises(CheckInputError, match=".xls"):
        check_file("ancien.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert len(check_entries([Entry(i, OUTSIDE[0]) for i in range(MAX_LINES)])) == MAX_LINES


# --- a spreadsheet's rows pasted: the SIRET taken out of the line, amounts, share of spend ----------

def test_pasted_spreadsheet_rows(directory):
    text = ("Fournisseur\tN° SIRET\tMontant HT\n"
            f"Acme SARL\t{_spaced(ACI)}\t1 200,50\n"
            f"Bâtir\t{OUTSIDE[0]}\t800\n"
            f"Atelier\t{ACI[:3]}.{ACI[3:6]}.{ACI[6:9]}.{ACI[9:]}\t1.000,00\n"
            "Sans numéro\t\t50,00\n"
            f"Facture 2026 de {_spaced(MULTI_KIND)} réglée\n")
    report = check_text(text)
    lines = report.lines
    assert [l.line for l in lines] == [2, 3, 4, 5, 6]
    assert [l.status for l in lines] == ["inclusive", "not_inclusive", "inclusive", "invalid", "inclusive"]
    assert lines[0].input == _spaced(ACI) and lines[0].siret == ACI and lines[0].amount == Decimal("1200.50")
    assert lines[2].amount == Decimal("1000.00") and "doublon de la ligne 2" in lines[2].note
    # a row without a number is still money spent: its amount counts in the total
    assert lines[3].reason == "Aucun SIRET ni SIREN dans la ligne" and lines[3].amount == Decimal("50.00")
    assert lines[4].siret == MULTI_KIND and lines[4].amount is None  # a sentence: no amount column
    # 1 200,50 + 1 000 = 2 200,50 € inclusive out of 1 200,50 + 800 + 1 000 + 50 = 3 050,50 € read: 72,1 %
    spend = report.summary["spend"]
    assert (spend["inclusive"], spend["total"], spend["share"]) == ("2200.50", "3050.50", "72.1")
    assert spend["lines"] == 4 and spend["lines_without"] == 1
    assert report.summary["distinct_suppliers"] == 3 and report.summary["distinct_inclusive"] == 2


def test_pasted_rows_without_header_take_the_last_amount(directory):
    report = check_text(f"Acme\t{ACI}\t12,5\nB\t{OUTSIDE[0]}\t37,5\n{OUTSIDE[1]}\n")
    spend = report.summary["spend"]
    assert (spend["inclusive"], spend["total"], spend["share"]) == ("12.5", "50.0", "25.0")
    # no amount at all: no share, and a share is never divided by a total of zero or less
    assert check_text(f"{ACI}\n{OUTSIDE[0]}").summary["spend"] is None
    assert check_text(f"A\t{ACI}\t10\nB\t{OUTSIDE[0]}\t-10").summary["spend"]["share"] is None


@pytest.mark.parametrize("cell, amount", [
    ("1 200,50", "1200.50"), ("1\u00a0200,50 €", "1200.50"), ("1\u202f200", "1200"), ("1.200,00", "1200.00"),
    ("1200.5", "1200.5"), ("-30 €", "-30"), ("0,01", "0.01"), ("999999999999999", "999999999999999"),
    ("1000000000000000", None), ("8,07469E+13", None), ("abc", None), ("1,2,3", None), ("٣٣", None), ("", None),
    (1200.5, "1200.5"), (12, "12"), (True, None),
])
def test_amount_cells(cell, amount):
    from marche.suppliers.check import parse_amount

    assert parse_amount(cell) == (None if amount is None else Decimal(amount))


def test_share_is_rounded_half_up_to_a_tenth(directory):
    # 1 / 8 = 12,5 % exactly; 2 / 3 = 66,666… → 66,7 %; 1 / 16 = 6,25 → 6,3 (half up, not to even)
    for inclusive, other, share in [("1", "7", "12.5"), ("2", "1", "66.7"), ("1", "15", "6.3")]:
        report = check_text(f"a\t{ACI}\t{inclusive}\nb\t{OUTSIDE[0]}\t{other}")
        expected = (Decimal(inclusive) / (Decimal(inclusive) + Decimal(other)) * 100).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert report.summary["spend"]["share"] == share == str(expected)


# --- the page ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def check_app(app_config, app):
    from marche.suppliers.check_views import bp

    application = create_app(app_config)
    if "supplier_check" not in application.blueprints:
        application.register_blueprint(bp)
    return application


@pytest.fixture
def check_client(check_app, app):
    return check_app.test_client()


@pytest.fixture
def buyer(check_client, make_user):
    make_user("acheteuse@example.fr", kind=OrganisationKind.PUBLIC_BUYER)
    login(check_client, "acheteuse@example.fr")
    return check_client


def test_access(check_client, make_user):
    response = check_client.get(URL)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    make_user("structure@example.fr", kind=OrganisationKind.INCLUSIVE_STRUCTURE)
    login(check_client, "structure@example.fr")
    assert check_client.get(URL).status_code == 404
    token = csrf_token(check_client.get("/").get_data(as_text=True))
    assert check_client.post(URL + "/export", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("kind", [OrganisationKind.PRIVATE_COMPANY, OrganisationKind.FACILITATOR])
def test_other_checkers_see_the_page(check_client, check_app, make_user, kind):
    make_user("x@example.fr", kind=kind)
    login(check_client, "x@example.fr")
    if kind == OrganisationKind.FACILITATOR:
        # a facilitator uses the page once the platform has verified it, not before
        assert check_client.get(URL).status_code == 404
        with check_app.app_context():
            db.session.execute(text("update organisation set verification_status = 'verified'"))
            db.session.commit()
    assert check_client.get(URL).status_code == 200


def test_page_checks_a_file_and_exports(buyer, check_app):
    with check_app.app_context():
        import_structures(SIAE)
        import_esat(ESAT)
        db.session.commit()
    page = buyer.get(URL)
    assert page.status_code == 200 and "Vérifier mes fournisseurs" in page_text(page)
    body = "SIRET;Nom\n" + "\n".join(f"{value};x" for value, _, _ in CASES) + "\n"
    response = submit(buyer, URL, {"file": (io.BytesIO(body.encode("utf-8")), "fournisseurs.csv")})
    assert response.status_code == 200
    text = page_text(response)
    assert "Résultat de la vérification" in text and "SIRET invalide (clé de contrôle)" in text
    assert text.count('data-status="inclusive"') == 7 and text.count('data-status="invalid"') == 4
    assert NAMES[ACI] in text and f"/structures/{ACI}" in text

    export = buyer.post(URL + "/export", data={"csrf_token": csrf_token(response.get_data(as_text=True)),
                                               "entries": _hidden_entries(response), "format": "xlsx"})
    assert export.status_code == 200
    assert export.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Ligne", "Saisie", "Résultat")
    assert len(rows) == len(CASES) + 1
    assert rows[1][0] == 2 and rows[1][3] == MULTI_KIND and rows[1][5] == "EI, ETTI"
    assert rows[2][2] == "Structure inclusive" and rows[2][6] == NAMES[ACI]
    assert [r[8] for r in rows[1:]] == [reason or None for _, _, reason in CASES]

    export_csv = buyer.post(URL + "/export", data={"csrf_token": csrf_token(response.get_data(as_text=True)),
                                                   "entries": _hidden_entries(response), "format": "csv"})
    assert export_csv.data.startswith("\ufeff".encode("utf-8"))
    assert export_csv.data.decode("utf-8-sig").splitlines()[0].startswith("Ligne;Saisie;Résultat")


def _hidden_entries(response) -> str:
    import html
    import re

    match = re.search(r'name="entries"[^>]*value="([^"]*)"', response.get_data(as_text=True))
    assert match, "pas de champ entries"
    return html.unescape(match.group(1))


def test_page_pasted_list(buyer, check_app):
    with check_app.app_context():
        import_structures(SIAE)
        db.session.commit()
    response = submit(buyer, URL, {"sirets": f"{ACI}\n\n1234\n"})
    text = page_text(response)
    assert text.count('data-status="inclusive"') == 1 and "4 chiffres reçus" in text
    assert "1 ligne vide ignorée" in text


def test_page_paste_too_big_keeps_the_text(buyer):
    big = "\n".join(f"Fournisseur {i}\t{OUTSIDE[0]}\t1 200,50" for i in range(80_000))  # 3 MB
    assert len(big.encode()) > 3_000_000
    response = submit(buyer, URL, {"sirets": big})
    assert response.status_code == 200
    text = page_text(response)
    assert "La liste collée est trop longue : 500\u202f000 caractères au plus (5\u202f000 lignes)." in text
    assert big in text  # what was pasted is kept in the field


def test_page_shows_the_share_and_exports_it(buyer, check_app, tmp_path):
    with check_app.app_context():
        import_structures(SIAE)
        db.session.commit()
    paste = f"Nom\tSIRET\tMontant\nA\t{ACI}\t1 200,50\nB\t{OUTSIDE[0]}\t800\nC\t{ACI}\t1 000\n"
    response = submit(buyer, URL, {"sirets": paste})
    text = page_text(response)
    assert "Part inclusive de la dépense : 73,3 %" in text
    assert "2\u202f200,50 € auprès de structures inclusives sur 3\u202f000,50 € au total" in text
    assert "2 fournisseurs distincts (par SIREN), dont 1 inclusif." in text
    token = csrf_token(response.get_data(as_text=True))
    exported = buyer.post(URL + "/export", data={"csrf_token": token, "entries": _hidden_entries(response),
                                                 "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Montant" and [r[-1] for r in rows[1:4]] == ["1200,50", "800", "1000"]
    assert rows[4][1:3] == ["Part inclusive de la dépense", "73,3 %"] and rows[4][9] == "2200,50 sur 3000,50"
    exported = buyer.post(URL + "/export", data={"csrf_token": token, "entries": _hidden_entries(response),
                                                 "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(exported.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert [v[-1] for v in values[1:4]] == [1200.5, 800, 1000] and values[4][2] == "73,3 %"
    pdf = buyer.post(URL + "/export", data={"csrf_token": token, "entries": _hidden_entries(response),
                                            "format": "pdf"})
    from tests.core.test_pdf import pdf_text

    words = " ".join(pdf_text(pdf.data, tmp_path).split())
    assert "Part inclusive de la dépense 73,3 %" in words and "3 000,50 €" in words.replace("\u202f", " ")
    # a tampered amount in the hidden field is a bad request, never a 500
    for entries in ('[[2, "%s", "1e999999"]]' % ACI, '[[2, "%s", "abc"]]' % ACI, '[[2, "%s", 12]]' % ACI,
                    '[[2, "%s", "NaN"]]' % ACI, '[[2, "%s", "1", "2"]]' % ACI):
        assert buyer.post(URL + "/export", data={"csrf_token": token, "entries": entries,
                                                 "format": "csv"}).status_code == 400, entries


def test_page_field_errors(buyer):
    big = b"SIRET\n" + b"0" * (5 * 1024 * 1024 + 1)
    response = submit(buyer, URL, {"file": (io.BytesIO(big), "gros.csv")})
    assert "Le fichier dépasse la taille autorisée (5 Mo)." in page_text(response)
    response = submit(buyer, URL, {"file": (io.BytesIO(b"%PDF-1.4"), "liste.pdf")})
    assert "Format non pris en charge : envoyez un fichier .csv ou .xlsx." in page_text(response)
    response = submit(buyer, URL, {"file": (io.BytesIO("Nom;Ville\nA;Lille\n".encode()), "liste.csv")})
    text = page_text(response)
    assert "Aucune colonne SIRET trouvée" in text and "fr-input-group--error" in text
    response = submit(buyer, URL, {"sirets": ""})
    assert "Saisissez au moins un SIRET ou un SIREN, ou envoyez un fichier." in page_text(response)
    response = buyer.post(URL + "/export", data={"csrf_token": csrf_token(buyer.get(URL).get_data(as_text=True)),
                                                 "entries": "pas du json", "format": "csv"})
    assert response.status_code == 400
