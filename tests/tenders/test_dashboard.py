"""The structure dashboard: its matching published tenders (newest first, with their deadlines), its answers and
their deadlines, the user's saved searches; nobody else's rows, and 404 for a user who answers for no structure."""
from __future__ import annotations

from datetime import timedelta

from marche.core.filters import fr_datetime
from marche.core.models import utcnow
from marche.extensions import db
from marche.tenders.models import LotResponse, SavedSearch, Tender, TenderNotification, TenderStatus
from tests.conftest import login, page_text

from .answers_world import ADAPTED, BUYER, INSERTION, people  # noqa: F401 (fixture)
from .factories import make_tender

URL = "/tableau-de-bord/structure"


def client_of(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def test_the_dashboard_lists_matches_answers_and_saved_searches(app, people):
    now = utcnow()
    with app.app_context():
        def tender(title, status=TenderStatus.PUBLISHED, days=20):
            return db.session.get(Tender, make_tender(people["org"], status=status, title=title,
                                                      answers_deadline=now + timedelta(days=days)))

        older, newer = tender("Tonte des parcs", days=30), tender("Nettoyage des plages", days=12)
        closed, theirs = tender("Consultation close", TenderStatus.CLOSED), tender("Pour l'atelier")
        for item, structure_key, age in ((older, "aci", 3), (newer, "aci", 1), (closed, "aci", 2),
                                         (theirs, "ea", 1)):
            db.session.add(TenderNotification(tender_id=item.id, structure_id=people[structure_key],
                                              lot_ids=[item.lots[0].id], created_at=now - timedelta(days=age)))
        answered = tender("Entretien des cimetières", days=5)
        viewed_only = tender("Consultation seulement lue")
        db.session.add_all([
            LotResponse(lot_id=answered.lots[0].id, structure_id=people["aci"], interest="interested",
                        interest_at=now, answered_at=now, offer_declared=True),
            LotResponse(lot_id=older.lots[0].id, structure_id=people["aci"], interest="not_interested",
                        interest_at=now, reason_code="too_far", viewed_at=now),
            LotResponse(lot_id=viewed_only.lots[0].id, structure_id=people["aci"], viewed_at=now),
            LotResponse(lot_id=theirs.lots[0].id, structure_id=people["ea"], interest="interested",
                        interest_at=now)])
        db.session.add_all([SavedSearch(user_id=people["insertion"], name="Espaces verts du Nord",
                                        feed_token="a" * 40),
                            SavedSearch(user_id=people["adapted"], name="Recherche de l'atelier",
                                        feed_token="b" * 40)])
        db.session.commit()
        deadlines = {t.title: fr_datetime(t.answers_deadline) for t in (older, newer, answered)}
    client = client_of(app, INSERTION)
    html = page_text(client.get(URL))
    matches = html.split('id="nouvelles"', 1)[1].split('id="reponses"', 1)[0]
    assert matches.index("Nettoyage des plages") < matches.index("Tonte des parcs")  # newest first
    assert deadlines["Nettoyage des plages"] in matches and deadlines["Tonte des parcs"] in matches
    assert "Consultation close" not in matches and "Pour l'atelier" not in html
    # not opened yet: « Nouvelle »; the one with a first view recorded (older) is not
    rows = {title: matches.split(title, 1)[1].split("</tr>", 1)[0]
            for title in ("Nettoyage des plages", "Tonte des parcs")}
    assert "Nouvelle" in rows["Nettoyage des plages"] and "Nouvelle" not in rows["Tonte des parcs"]
    mine = html.split('id="reponses"', 1)[1].split('id="recherches"', 1)[0]
    assert "Entretien des cimetières" in mine and "Offre déclarée" in mine
    assert deadlines["Entretien des cimetières"] in mine
    assert "Pas intéressés (Trop loin de nos implantations)" in mine
    assert mine.index("Entretien des cimetières") < mine.index("Tonte des parcs")  # nearest deadline first
    assert "Consultation seulement lue" not in mine
    searches = html.split('id="recherches"', 1)[1]
    assert "Espaces verts du Nord" in searches and 'href="/veille"' in searches
    assert "Recherche de l'atelier" not in html
    # the header links it for structure members only
    assert f'href="{URL}"' in client.get("/").get_data(as_text=True)
    buyer = client_of(app, BUYER)
    assert f'href="{URL}"' not in buyer.get("/").get_data(as_text=True)


def test_only_members_of_a_structure_see_a_dashboard(app, people):
    assert client_of(app, BUYER).get(URL).status_code == 404
    anonymous = app.test_client().get(URL)
    assert anonymous.status_code == 302 and "/connexion" in anonymous.location
    html = page_text(client_of(app, ADAPTED).get(URL))
    assert "Atelier du Nord" in html and "Les Jardins Solidaires" not in html
