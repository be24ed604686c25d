"""Property tests (hypothesis) on every parser of outside input: identifiers, numbers, CPV codes,
territory references, search parameters, API JSON bodies and the upload readers. Whatever they are
given, they answer or raise our French domain error, never anything else.

Budget: EXAMPLES cases per pure property, DB_EXAMPLES per property that queries PostgreSQL."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from openpyxl import Workbook
from werkzeug.datastructures import MultiDict

from marche.core.identifiers import (is_digits, is_valid_finess, is_valid_siren, is_valid_siret, luhn_ok,
                                     normalize_digits, parse_int)
from marche.core.input import InputError, parse_json
from marche.geo.services import KINDS, TerritoryError, parse_ref, parse_territory_list, resolve, search_territories
from marche.reference.services import cpv_check_digit, is_valid_cpv, search_cpv
from marche.search.query import QueryError, parse_query
from marche.suppliers.check import CheckInputError, check_text, parse_file, parse_text
from tests.core.test_identifiers import luhn_reference

EXAMPLES = 200
DB_EXAMPLES = 60
pure = settings(max_examples=EXAMPLES, deadline=None)
with_db = settings(max_examples=DB_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: digits from everywhere Unicode has them, to tempt `str.isdigit()` and `int()`
ODD_DIGITS = st.sampled_from("0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９۴߄९")
DIGITISH = st.text(ODD_DIGITS | st.sampled_from(" .-\u00a0\u202f\x00\n"), max_size=20)
ANY_TEXT = st.text(max_size=60)


# --- identifiers ---------------------------------------------------------------------------------

@pure
@given(DIGITISH | ANY_TEXT)
def test_identifiers_never_raise_and_accept_ascii_only(value):
    for check in (is_valid_siret, is_valid_siren, is_valid_finess, luhn_ok, is_digits):
        if check(value) and check is not is_digits or (check is is_digits and check(value)):
            assert re.fullmatch(r"[0-9A-B]+", value), (check, value)
    normalized = normalize_digits(value)
    if is_valid_siret(normalized):
        assert re.fullmatch(r"[0-9]{14}", normalized)


@pure
@given(st.text("0123456789", min_size=1, max_size=20))
def test_luhn_matches_the_textbook(value):
    assert luhn_ok(value) == luhn_reference(value)


@pure
@given(DIGITISH | ANY_TEXT | st.sampled_from(["1e999", "NaN", "Infinity", "-0", "+7", "1_000", "٣", "²"]))
def test_parse_int_reads_ascii_integers_only(value):
    number = parse_int(value)
    if number is None:
        assert not re.fullmatch(r"\s*[+-]?[0-9]{1,18}\s*", value, re.ASCII)
    else:
        assert number == int(value.strip()) and re.fullmatch(r"[+-]?[0-9]+", value.strip())


@pure
@given(st.integers(min_value=-10**17, max_value=10**17))
def test_parse_int_round_trip(number):
    assert parse_int(str(number)) == number


# --- CPV, territories, search parameters (these query PostgreSQL) ---------------------------------

@pure
@given(DIGITISH | ANY_TEXT)
def test_cpv_check_digit_takes_eight_ascii_digits(value):
    try:
        digit = cpv_check_digit(value)
    except ValueError as error:
        assert "Code CPV invalide" in str(error)
        assert not re.fullmatch(r"[0-9]{8}", value)
    else:
        assert re.fullmatch(r"[0-9]{8}", value) and digit in "0123456789"


@with_db
@given(q=DIGITISH | ANY_TEXT)
@example(q="45210000-2")
@example(q="４５２１００００-２")
def test_cpv_lookups_never_fail(app_ctx, q):
    assert isinstance(is_valid_cpv(q), bool)
    if is_valid_cpv(q):
        assert re.fullmatch(r"[0-9]{8}-[0-9]", q.strip())
    assert len(search_cpv(q, limit=5)) <= 5


REF_TEXT = st.builds(lambda kind, code: f"{kind}:{code}", st.sampled_from(KINDS + ("radius", "DEP", "")),
                     DIGITISH | st.text("0123456789AB", max_size=6) | ANY_TEXT)


@pure
@given(REF_TEXT | ANY_TEXT)
@example("dep:５９")
@example("commune:59350\n")
def test_parse_ref_refuses_with_a_french_message_only(ref):
    try:
        kind, code = parse_ref(ref)
    except TerritoryError as error:
        assert "territoire" in str(error).lower() or "Territoire" in str(error)
    else:
        assert kind in KINDS and re.fullmatch(r"[0-9AB]{2,5}|FR", code)


@with_db
@given(text=REF_TEXT | ANY_TEXT)
@example(text="commune:59350, dep:59;reg:32 country:FR")
def test_territory_resolution_never_fails(app_ctx, text):
    try:
        refs = parse_territory_list(text)
    except TerritoryError:
        pass
    else:
        assert all(resolve(ref).ref == ref for ref in refs)
    assert len(search_territories(text, limit=5)) <= 5


PARAMETER_VALUES = DIGITISH | ANY_TEXT | REF_TEXT | st.sampled_from(["1e999", "NaN", "Infinity", "-1", "0", "1"])


@with_db
@given(args=st.lists(st.tuples(st.sampled_from(["q", "kind", "sector", "territory", "territory_mode", "near",
                                                "radius_km", "env", "service", "size", "zrr", "sort", "page",
                                                "per_page"]), PARAMETER_VALUES), max_size=4))
def test_search_parameters_answer_or_name_the_bad_one(app_ctx, args):
    try:
        query = parse_query(MultiDict(args))
    except QueryError as error:
        assert error.param in {name for name, _ in args} and error.message
    else:
        assert query.page >= 1 and 1 <= query.per_page <= 100


# --- API JSON bodies -----------------------------------------------------------------------------

JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=10), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=20)


@pure
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@example(b"[" * 50_000)
@example(b'{"a": NaN}')
@example(b"1e999")
def test_parse_json_raises_only_input_error(data):
    try:
        parse_json(data)
    except InputError as error:
        assert error.message.startswith(("Corps JSON", "Le corps", "Nombre"))


@pure
@given(JSON_VALUES)
def test_parse_json_reads_what_json_dumps_writes(value):
    import json

    assert parse_json(json.dumps(value).encode()) == value


# --- upload readers ------------------------------------------------------------------------------

def _only_domain_error(call):
    try:
        return call()
    except CheckInputError as error:
        assert error.message and error.field in ("file", "sirets", None)
        return None


@pure
@given(st.binary(max_size=2000))
@example(b"PK\x03\x04")
@example(b"\xff\xfe\x00")
@example(b"\xd0\xcf\x11\xe0")
def test_random_bytes_give_a_domain_error_at_worst(data):
    _only_domain_error(lambda: parse_file("fichier", data))
    _only_domain_error(lambda: parse_file("fichier.xlsx", b"PK\x03\x04" + data))


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | DIGITISH


@pure
@given(rows=st.lists(st.lists(CELL, max_size=5), max_size=15), separator=st.sampled_from([";", ",", "\t", "|"]),
       header=st.sampled_from(["SIRET", "N° SIRET", "Nom", "siren", ""]), encoding=st.sampled_from(["utf-8", "utf-16",
                                                                                                 "cp1252"]))
def test_random_small_csv_gives_entries_or_a_domain_error(rows, separator, header, encoding):
    text = "\n".join([header + separator + "Nom"] + [separator.join(row) for row in rows])
    data = text.encode(encoding, errors="replace")
    result = _only_domain_error(lambda: parse_file("liste.csv", data))
    if result is not None:
        entries = result[0]
        assert all(len(entry.value) <= 41 for entry in entries)


XLSX_CELL = (st.none() | st.integers(-10**15, 10**15) | st.floats(allow_nan=False, allow_infinity=False)
             | st.booleans() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pure
@given(rows=st.lists(st.lists(XLSX_CELL, max_size=5), max_size=10), header=st.sampled_from(["SIRET", "Nom", None]))
def test_random_small_xlsx_gives_entries_or_a_domain_error(rows, header):
    _only_domain_error(lambda: parse_file("liste.xlsx", _xlsx([[header, "Nom"]] + rows)))


VALID_XLSX = _xlsx([["SIRET", "Nom"], ["75187049400026", "La Collecterie"], [80746931700018, "x"]])


@pure
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_xlsx_gives_entries_or_a_domain_error(flips):
    data = bytearray(VALID_XLSX)
    for position, value in flips:
        data[position] = value
    _only_domain_error(lambda: parse_file("abime.xlsx", bytes(data)))


@pure
@given(member=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml",
                               "[Content_Types].xml", "xl/_rels/workbook.xml.rels"]), content=st.binary(max_size=300))
def test_xlsx_with_a_garbage_member_gives_a_domain_error_at_worst(member, content):
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(VALID_XLSX)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, content if info.filename == member else source.read(info.filename))
    _only_domain_error(lambda: parse_file("abime.xlsx", out.getvalue()))


@pure
@given(ANY_TEXT | DIGITISH | st.lists(DIGITISH, max_size=20).map("\n".join))
def test_pasted_text_gives_entries_or_a_domain_error(text):
    result = _only_domain_error(lambda: parse_text(text))
    if result is not None:
        assert all("\x00" not in entry.value for entry in result[0])


@with_db
@given(text=st.lists(DIGITISH | ANY_TEXT, min_size=1, max_size=10).map("\n".join))
def test_pasted_text_is_answered_line_by_line(app_ctx, text):
    report = _only_domain_error(lambda: check_text(text))
    if report is not None:
        assert all(line.status in ("inclusive", "not_inclusive", "invalid") for line in report.lines)
        assert all(line.siret is None or re.fullmatch(r"[0-9]{14}", line.siret) for line in report.lines)
