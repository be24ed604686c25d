"""Odd input never gives a 500: non-ASCII digits, NUL bytes, deep or non-finite JSON, CRLF in `next` and in
mail headers, formula-like text in exports. Each case against the real app: the status and the French
message, and the accepted side of each rule."""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import load_workbook

from marche.core.exports import csv_bytes, xlsx_bytes
from marche.core.identifiers import is_valid_siren, is_valid_siret, parse_int
from marche.core.input import MAX_JSON_DEPTH, InputError, parse_json
from marche.core.mail import build_message, header_text
from marche.core.urls import is_safe_next
from tests.conftest import csrf_token, login, page_text, submit

SIRET = "75187049400026"
FULL_WIDTH = "".join(chr(0xFF10 + int(c)) for c in SIRET)  # « ７５１８… »
ARABIC_INDIC = "".join(chr(0x0660 + int(c)) for c in SIRET)  # « ٧٥١٨… »
LOOKUP = "/api/v1/structures/lookup"


def test_identifiers_take_ascii_digits_only():
    assert FULL_WIDTH.isdigit() and int(FULL_WIDTH) == int(SIRET)  # what Python alone would accept
    assert is_valid_siret(SIRET) and is_valid_siren(SIRET[:9])
    for odd in (FULL_WIDTH, ARABIC_INDIC, SIRET[:-1] + "²", SIRET[:8] + "\u00b9"):
        assert not is_valid_siret(odd)
    assert not is_valid_siren(ARABIC_INDIC[:9])
    assert parse_int("42") == 42 and parse_int("-3") == -3 and parse_int(" 7 ") == 7
    for odd in ("３", "٣", "²", "1_000", "1e3", "1e999", "NaN", "Infinity", "", "4 2", "9" * 19):
        assert parse_int(odd) is None, odd


@pytest.mark.parametrize("query, parameter", [
    ("page=%D9%A3", "page"),  # Arabic-Indic ٣
    ("per_page=%EF%BC%93", "per_page"),  # full-width ３
    ("near=commune:59350&radius_km=%C2%B2", "radius_km"),  # superscript ²
    ("near=commune:59350&radius_km=1e999", "radius_km"),
    ("page=NaN", "page"),
    ("per_page=Infinity", "per_page"),
    ("sector=%D9%A3", "sector"),
    ("territory=dep:%EF%BC%95%EF%BC%99", "territory"),  # dep:５９
])
def test_non_ascii_and_non_finite_numbers_answer_400(client, query, parameter):
    response = client.get(f"/api/v1/structures?{query}")
    assert response.status_code == 400
    assert response.json["parameter"] == parameter and response.json["message"]


def test_numbers_in_ascii_are_still_read(client):
    response = client.get("/api/v1/structures?page=2&per_page=5&near=commune:59350&radius_km=20")
    assert response.status_code == 200 and response.json["page"] == 2 and response.json["per_page"] == 5
    assert client.get("/api/v1/territories?q=lille&limit=3").status_code == 200
    assert client.get("/api/v1/cpv?q=45&limit=3").status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/territories?q=lille&limit=%C2%B2", "/api/v1/cpv?q=45&limit=%EF%BC%93",
                                 "/api/v1/territories?q=lille&limit=%D9%A3"])
def test_limits_with_odd_digits_answer_400(client, url):
    response = client.get(url)
    assert response.status_code == 400 and "« limit » : nombre entier attendu" in response.json["message"]


def test_lookup_answers_odd_digits_as_invalid(client):
    response = client.post(LOOKUP, json={"sirets": [FULL_WIDTH, ARABIC_INDIC, "7518704940002\u00b2", SIRET]})
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == ["invalid", "invalid", "invalid", "not_inclusive"]
    assert results[0]["reason"] == "Caractères non numériques : 14 chiffres attendus (SIRET) ou 9 (SIREN)"
    assert client.get(f"/api/v1/structures/{FULL_WIDTH}").status_code == 404


# --- NUL bytes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url, field", [
    ("/structures?q=a%00b", "q"),
    ("/api/v1/structures?q=a%00b", "q"),
    ("/api/v1/territories?q=li%00lle", "q"),
    ("/api/v1/cpv?q=%00", "q"),
    ("/structures/7518704940%0026", "adresse"),
    ("/structures/12345678%00", "adresse"),
    ("/connexion?next=/%00", "next"),
])
def test_nul_in_query_or_path_answers_400(client, url, field):
    response = client.get(url)
    assert response.status_code == 400
    message = response.json["message"] if url.startswith("/api/") else page_text(response)
    assert f"Le champ « {field} » contient des caractères non autorisés (caractère nul" in message


def test_nul_in_a_form_answers_400_and_a_clean_form_works(client, make_user):
    make_user("nul@example.fr")
    response = submit(client, "/connexion", {"email": "nul@example.fr\x00", "password": "motdepasse-solide-1"})
    assert response.status_code == 400
    assert "Le champ « email » contient des caractères non autorisés (caractère nul" in page_text(response)
    assert login(client, "nul@example.fr").status_code == 302


def test_nul_inside_api_json_is_just_an_invalid_line(client):
    response = client.post(LOOKUP, json={"sirets": ["7518704940\u00000026"]})
    assert response.status_code == 200 and response.json["results"][0]["status"] == "invalid"


# --- JSON bodies ---------------------------------------------------------------------------------

def _nested(depth: int) -> str:
    return '{"sirets": ' + "[" * depth + '"1"' + "]" * depth + "}"


def test_deeply_nested_json_answers_400(client):
    response = client.post(LOOKUP, data=_nested(50_000), content_type="application/json")
    assert response.status_code == 400
    assert response.json["message"].startswith(f"Corps JSON trop imbriqué : {MAX_JSON_DEPTH} niveaux au plus.")
    # at the limit (the object counts as one level) the body is read and the odd value answered
    response = client.post(LOOKUP, data=_nested(MAX_JSON_DEPTH - 1), content_type="application/json")
    assert response.status_code == 200 and response.json["results"][0]["status"] == "invalid"
    response = client.post(LOOKUP, data=_nested(MAX_JSON_DEPTH), content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("body, message", [
    ('{"sirets": [NaN]}', "Nombre non autorisé dans le corps JSON : NaN."),
    ('{"sirets": [Infinity]}', "Nombre non autorisé dans le corps JSON : Infinity."),
    ('{"sirets": [-Infinity]}', "Nombre non autorisé dans le corps JSON : -Infinity."),
    ('{"sirets": [1e999]}', "Nombre hors limites dans le corps JSON : 1e999."),
    ('{"sirets": [', "Le corps de la requête n'est pas un JSON valide."),
    (b'{"sirets": ["\xff"]}', "Le corps de la requête doit être du JSON encodé en UTF-8."),
])
def test_non_finite_or_broken_json_answers_400(client, body, message):
    response = client.post(LOOKUP, data=body, content_type="application/json")
    assert response.status_code == 400 and response.json["message"].startswith(message)
    assert response.json["message"].endswith('Corps JSON attendu : {"sirets": ["…", …]}.')


def test_parse_json_accepts_ordinary_numbers_and_strings_with_brackets():
    assert parse_json(b'{"a": [1.5, -2, 1e300, "[[[[", "\\"]"]}') == {"a": [1.5, -2, 1e300, "[[[[", '"]']}
    with pytest.raises(InputError):
        parse_json(b"[" * 33 + b"]" * 33)


# --- next and mail headers ----------------------------------------------------------------------

@pytest.mark.parametrize("target, expected", [
    ("/structures?q=lille", "/structures?q=lille"),
    ("/%0d%0aSet-Cookie:%20pirate=1", "/"),
    ("/\\evil.example", "/"),
    ("//evil.example", "/"),
    ("https://evil.example/", "/"),
])
def test_login_next_is_followed_only_when_safe(client, make_user, target, expected):
    make_user("suivant@example.fr")
    page = client.get(f"/connexion?next={target}")
    response = client.post(f"/connexion?next={target}", data={
        "email": "suivant@example.fr", "password": "motdepasse-solide-1", "csrf_token": csrf_token(page_text(page))})
    assert response.status_code == 302
    assert response.headers["Location"] == expected
    assert "pirate" not in response.headers.get("Set-Cookie", "")


def test_is_safe_next():
    assert is_safe_next("/favoris/1") and not is_safe_next("/x\r\nLocation: //evil") and not is_safe_next(None)


def test_mail_headers_stay_on_one_line(app_ctx):
    message = build_message({"to": "a@example.fr\r\nBcc: pirate@example.fr", "text": "Bonjour",
                             "subject": "Revendication de la fiche Atelier\r\nBcc: pirate@example.fr",
                             "html": "<p>Bonjour</p>"})
    assert message["Bcc"] is None
    assert message["Subject"] == "Revendication de la fiche Atelier Bcc: pirate@example.fr"
    assert header_text("Ligne\u2028deux\x00\tfin") == "Ligne deux fin"


# --- exports -----------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.example","a")', "+33 1 23 45 67 89", "-2+3", "@SUM(A1:A2)"]


def test_exports_neutralise_tab_and_cr_too():
    values = FORMULAS + ["\tcache", "\rretour", "Texte ordinaire", "a=b"]
    rows = list(csv.reader(io.StringIO(csv_bytes(["Valeur"], [[v] for v in values]).decode("utf-8-sig")),
                           delimiter=";"))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in values[:6]] + ["Texte ordinaire", "a=b"]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(["Valeur"], [[v] for v in values]))).active
    # (XML reads a lone CR back as LF: the text is otherwise as typed)
    assert [c.value for (c,) in sheet.iter_rows(min_row=2)] == [v.replace("\r", "\n") for v in values]
    assert [c.quotePrefix for (c,) in sheet.iter_rows(min_row=2)] == [True] * 6 + [False, False]


def test_check_export_neutralises_formulas(client, make_user):
    make_user("export@example.fr")
    login(client, "export@example.fr")
    token = csrf_token(page_text(client.get("/verifier-mes-fournisseurs")))
    entries = json.dumps([[n, value] for n, value in enumerate(FORMULAS + ["Texte ordinaire"], start=1)])
    csv_export = client.post("/verifier-mes-fournisseurs/export",
                             data={"csrf_token": token, "entries": entries, "format": "csv"})
    assert csv_export.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_export.data.decode("utf-8-sig")), delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["'" + value for value in FORMULAS] + ["Texte ordinaire"]

    xlsx_export = client.post("/verifier-mes-fournisseurs/export",
                              data={"csrf_token": token, "entries": entries, "format": "xlsx"})
    assert xlsx_export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx_export.data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()  # no formula anywhere
    sheet = load_workbook(io.BytesIO(xlsx_export.data)).active
    inputs = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert inputs == FORMULAS + ["Texte ordinaire"]  # shown as typed, without a stray apostrophe
    cells = [row[1] for row in sheet.iter_rows(min_row=2, max_row=len(FORMULAS) + 1)]
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


@pytest.mark.parametrize("entries", ["[" * 50_000 + "]" * 50_000, '[["٣", "75187049400026"]]',
                                     '[[true, "75187049400026"]]', '[[1, NaN]]'])
def test_check_export_refuses_odd_hidden_fields(client, make_user, entries):
    make_user("cache@example.fr")
    login(client, "cache@example.fr")
    token = csrf_token(page_text(client.get("/verifier-mes-fournisseurs")))
    response = client.post("/verifier-mes-fournisseurs/export",
                           data={"csrf_token": token, "entries": entries, "format": "csv"})
    assert response.status_code == 400 and "Requête invalide" in page_text(response)
    ok = client.post("/verifier-mes-fournisseurs/export",
                     data={"csrf_token": token, "entries": '[[3, "75187049400026"]]', "format": "csv"})
    assert ok.status_code == 200 and ok.data.decode("utf-8-sig").splitlines()[1].startswith("3;")
