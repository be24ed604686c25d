"""A small set of tenders for the search tests: every filter of the tender search has a tender on each side of
it, and tenders in every state that must never be found."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from marche.accounts.models import Organisation
from marche.extensions import db
from marche.reference.models import Sector
from tests.tenders.public_tenders import NOW, add_tender, clauses, insertion


def build_tenders() -> dict[str, int]:
    """Commits; must run in an application context. Returns name → tender id."""
    lille = Organisation(name="Ville de Lille", kind="public_buyer", siret="21590350100017",
                         buyer_category="local_authority")
    region = Organisation(name="Région Hauts-de-France", kind="public_buyer", siret="20005376700014",
                          buyer_category="local_authority")
    db.session.add_all([lille, region])
    db.session.commit()
    sectors = list(db.session.execute(select(Sector).order_by(Sector.id).limit(3)).scalars())
    ids = {
        "green": add_tender(lille.id, "Entretien des espaces verts", object="Tonte et taille des écoles",
                            kind="call_for_tenders", cpv_codes=["77310000-6"], place_ref="commune:59350",
                            deadline=NOW + timedelta(days=10), sectors=[sectors[0]],
                            lots=[{"title": "Tonte", "clauses": clauses(insertion=insertion())}]),
        "cleaning": add_tender(lille.id, "Nettoyage des locaux", object="Bureaux de la mairie", kind="quote_request",
                               cpv_codes=["90910000-9"], place_ref="dep:59", deadline=NOW + timedelta(days=20),
                               sectors=[sectors[1]],
                               lots=[{"title": "Locaux", "clauses": clauses(reservation="siae")}]),
        "catering": add_tender(region.id, "Restauration collective", object="Repas des lycées", place_ref="reg:32",
                               kind="call_for_tenders", cpv_codes=["55523100-3"], deadline=NOW + timedelta(days=30),
                               sectors=[sectors[0], sectors[2]],
                               lots=[{"title": "Cuisine centrale parisienne", "place_ref": "commune:75056",
                                      "clauses": clauses(reservation="disability")},
                                     {"title": "Livraison", "description": "Transport des repas en liaison froide",
                                      "clauses": clauses(reservation="both", environmental_conditions=("reuse",))}]),
        "waste": add_tender(region.id, "Collecte des déchets de bureau", object="Tri et recyclage", place_ref="country:FR",
                            kind="sourcing", cpv_codes=["90511000-2"], deadline=NOW + timedelta(days=40),
                            lots=[{"title": "Collecte", "cpv_codes": ["90512000-9"],
                                   "clauses": clauses(social_criterion=10)}]),
        "roads": add_tender(lille.id, "Travaux de voirie", object="Réfection des trottoirs", place_ref="dep:13",
                            kind="call_for_tenders", cpv_codes=["45233140-2"], deadline=NOW + timedelta(days=5)),
        "nowhere": add_tender(lille.id, "Étude sans lieu", object="Diagnostic", place_ref=None,
                              kind="call_for_tenders", deadline=NOW + timedelta(days=50)),
        # never found
        "closed": add_tender(lille.id, "Nettoyage clôturé", status="closed", place_ref="dep:59",
                             deadline=NOW - timedelta(days=2)),
        "draft": add_tender(lille.id, "Nettoyage en brouillon", status="draft", place_ref="dep:59", deadline=None),
        "expired": add_tender(lille.id, "Nettoyage expiré", place_ref="dep:59", deadline=NOW - timedelta(hours=1)),
        "cancelled": add_tender(lille.id, "Nettoyage annulé", status="cancelled", place_ref="dep:59",
                                deadline=NOW + timedelta(days=3)),
        "awarded": add_tender(lille.id, "Nettoyage attribué", status="awarded", place_ref="dep:59",
                              deadline=NOW - timedelta(days=9)),
    }
    ids["sector0"], ids["sector1"], ids["sector2"] = (s.id for s in sectors)
    ids["lille"], ids["region"] = lille.id, region.id
    return ids


HIDDEN = ("closed", "draft", "expired", "cancelled", "awarded")
