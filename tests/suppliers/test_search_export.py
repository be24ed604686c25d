"""The directory search's CSV and XLSX export (issue 23: only the browser journey touched it, and
against the count the page showed). Here the expected rows are the profiles this test made.

Beside the profile tests (their `make_structure`), not in tests/search, which shares one imported
directory per module."""
import csv
import io

import openpyxl
import pytest

from marche.extensions import db
from tests.conftest import login

ACI = {"75187049400026": "La Collecterie", "80746931700018": "Baluchon"}
ESAT_SIRET = "44229377500031"


@pytest.fixture
def directory(app, make_structure):
    from marche.search.indexer import reindex_all

    for siret, name in ACI.items():
        make_structure(siret=siret, name=name, kinds=("ACI",))
    make_structure(siret=ESAT_SIRET, name="ESAT des Lilas", kinds=("ESAT",))
    with app.app_context():
        reindex_all()
        db.session.remove()


@pytest.fixture
def signed_in(app, make_user):
    make_user("acheteur@ville.fr")
    client = app.test_client()
    login(client, "acheteur@ville.fr")
    return client


def test_csv_export_lists_exactly_the_filtered_profiles(directory, signed_in):
    response = signed_in.get("/structures/export?kind=ACI&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["SIRET", "FINESS", "Raison sociale"]
    assert {row[0]: row[2] for row in rows[1:]} == ACI
    assert all(row[-1].endswith(f"/structures/{row[0]}") and row[-2] == "non" for row in rows[1:])


def test_xlsx_export_reads_back(directory, signed_in):
    response = signed_in.get("/structures/export?kind=ESAT&format=xlsx")
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.values)
    assert rows[0][0] == "SIRET" and [row[0] for row in rows[1:]] == [ESAT_SIRET]


def test_export_needs_an_account_and_a_known_format(directory, client, signed_in):
    anonymous = client.get("/structures/export?format=csv")
    assert anonymous.status_code == 302 and "/connexion" in anonymous.headers["Location"]
    assert signed_in.get("/structures/export?format=pdf").status_code == 400
    bad = signed_in.get("/structures/export?format=csv&territory=dep:zz")
    assert bad.status_code == 400 and "Requête invalide" in bad.get_data(as_text=True)
