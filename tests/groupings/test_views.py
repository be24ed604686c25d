"""The grouping pages through the Flask client: forming from the tender page, inviting from the directory and by
e-mail, answering, sharing a lot, confirming; a non-member gets 404 on every page and nothing changes; bad input
answers a French message."""
from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import func, select

from marche.extensions import db
from marche.groupings import tokens
from marche.groupings.models import Grouping, GroupingMember, GroupingShare, GroupingStatus, MemberStatus
from marche.tenders.models import Tender
from tests.conftest import csrf_token, login, page_text, statements_during
from tests.groupings.world import ACI, BUYER, COMPANY, EA, STRANGER, formed, gme  # noqa: F401 (fixture)


def client_of(app, email: str):
    client = app.test_client()
    login(client, email)
    return client


def post(client, url: str, page: str, data: dict):
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def formed_in(app, ids, **options) -> int:
    with app.app_context():
        return formed(ids, **options)


def lots_of(app, tender_id: int) -> list[int]:
    with app.app_context():
        return [lot.id for lot in db.session.get(Tender, tender_id).lots]


def snapshot(app, grouping_id: int) -> tuple:
    """Every row of the grouping and its members and shares, to compare before and after a refused request."""
    with app.app_context():
        db.session.expire_all()
        grouping = db.session.get(Grouping, grouping_id)
        members = [(m.id, m.status, m.structure_id, m.organisation_id, m.services) for m in grouping.members]
        shares = db.session.execute(select(GroupingShare.member_id, GroupingShare.grouping_lot_id,
                                           GroupingShare.percent, GroupingShare.amount)
                                    .order_by(GroupingShare.id)).all()
        return (grouping.status, grouping.kind, grouping.mandataire_id, members, [tuple(s) for s in shares],
                [gl.lot_id for gl in grouping.lots])


def test_an_aci_forms_invites_the_ea_which_accepts_then_shares_and_confirms(app, gme, mailbox):
    aci = client_of(app, ACI)
    tender_page = f"/consultations/{gme['tender']}"
    assert "Répondre en groupement" in page_text(aci.get(tender_page))
    lot1, lot2 = lots_of(app, gme["tender"])
    start = f"/consultations/{gme['tender']}/groupement"
    response = post(aci, start, start, {"lot_ids": [lot1, lot2], "kind": "solidaire"})
    assert response.status_code == 302
    with app.app_context():
        grouping = db.session.scalar(select(Grouping))
        grouping_id, mandataire_id = grouping.id, grouping.mandataire_id
        assert (grouping.kind, grouping.status, [gl.lot_id for gl in grouping.lots]) == (
            "solidaire", GroupingStatus.FORMING, [lot1, lot2])
    page = f"/groupements/{grouping_id}"
    # the directory search offers the EA (claimed), the invitation mails its admin
    assert "Atelier du Nord" in page_text(aci.get(f"{page}?q=Atelier"))
    response = post(aci, f"{page}/inviter", page, {"annuaire-structure_id": gme["ea_s"],
                                                   "annuaire-services": "Tonte et taille"})
    assert response.status_code == 302
    assert any(m["To"] == EA and "Invitation à un groupement" in m["Subject"] for m in mailbox)
    # the EA's admin sees the invitation and accepts it
    ea = client_of(app, EA)
    text = page_text(ea.get(page))
    assert "Invitation pour Atelier du Nord" in text
    with app.app_context():
        member_id = db.session.scalar(select(GroupingMember.id).where(GroupingMember.structure_id == gme["ea_s"]))
    response = post(ea, f"{page}/invitations/{member_id}", page, {"decision": "accept"})
    assert response.status_code == 302
    # shares of lot 1: 70/30 of the estimate (100 000 €)
    with app.app_context():
        grouping_lots = [gl.id for gl in db.session.get(Grouping, grouping_id).lots]
    for grouping_lot_id, split in zip(grouping_lots, (("70", "30"), ("50", "50"))):
        url = f"{page}/lots/{grouping_lot_id}/parts"
        response = post(aci, url, url, {f"part-{mandataire_id}": split[0], f"part-{member_id}": split[1], "prix": ""})
        assert response.status_code == 302, page_text(response)
    with app.app_context():
        amounts = dict(db.session.execute(select(GroupingShare.member_id, GroupingShare.amount).where(
            GroupingShare.grouping_lot_id == grouping_lots[0])).all())
    assert amounts == {mandataire_id: Decimal("70000.00"), member_id: Decimal("30000.00")}
    response = post(aci, f"{page}/confirmer", page, {})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Grouping, grouping_id).status == GroupingStatus.CONFIRMED
    # the buyer sees the grouping that answered, with its members
    buyer_text = page_text(client_of(app, BUYER).get(tender_page))
    assert "Groupements qui ont répondu" in buyer_text
    assert "Les Jardins Solidaires / Atelier du Nord" in buyer_text and "70,00 %" in buyer_text
    # the log, visible to the members, tells each step
    log = page_text(ea.get(page))
    for line in ("Groupement créé", "Atelier du Nord invité", "Atelier du Nord a accepté l'invitation",
                 "Répartition d'un lot enregistrée", "Groupement confirmé"):
        assert line in log


def test_a_non_member_gets_404_on_every_grouping_page_and_nothing_changes(app, gme):
    grouping_id = formed_in(app, gme)
    before = snapshot(app, grouping_id)
    page = f"/groupements/{grouping_id}"
    with app.app_context():
        grouping = db.session.get(Grouping, grouping_id)
        grouping_lot_id, member_id = grouping.lots[0].id, grouping.members[1].id
    for email in (STRANGER, BUYER, COMPANY):
        client = client_of(app, email)
        token = csrf_token(page_text(client.get("/groupements")))
        assert client.get(page).status_code == 404
        assert client.get(f"{page}/lots/{grouping_lot_id}/parts").status_code == 404
        assert client.get(f"{page}/convention").status_code == 404
        for url, data in ((f"{page}/confirmer", {}), (f"{page}/dissoudre", {"reason": "x"}),
                          (f"{page}/messages", {"body": "coucou"}), (f"{page}/membres/retirer", {"member_id": member_id}),
                          (f"{page}/invitations/{member_id}", {"decision": "decline"}),
                          (f"{page}/inviter", {"annuaire-structure_id": gme["stranger_s"]})):
            assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    # a grouping that does not exist answers the same
    assert client_of(app, ACI).get("/groupements/999999").status_code == 404
    assert snapshot(app, grouping_id) == before
    # the buyer reads nothing of a grouping still forming, not even its summary
    assert client_of(app, BUYER).get(f"{page}/recapitulatif-dc1.pdf").status_code == 404


def test_only_the_mandataire_side_manages_a_member_reads_and_posts(app, gme):
    grouping_id = formed_in(app, gme)
    page = f"/groupements/{grouping_id}"
    ea = client_of(app, EA)
    before = snapshot(app, grouping_id)
    assert post(ea, f"{page}/confirmer", page, {}).status_code == 404
    assert post(ea, f"{page}/dissoudre", page, {"reason": "non"}).status_code == 404
    assert snapshot(app, grouping_id) == before
    response = post(ea, f"{page}/messages", page, {"body": "Nous pouvons <b>aussi</b> faire la taille."})
    assert response.status_code == 302
    text = client_of(app, ACI).get(page).get_data(as_text=True)
    assert "Nous pouvons &lt;b&gt;aussi&lt;/b&gt; faire la taille." in text  # escaped, never markup


def test_shares_that_do_not_sum_to_100_are_refused_in_french_and_nothing_is_saved(app, gme):
    grouping_id = formed_in(app, gme)
    with app.app_context():
        grouping = db.session.get(Grouping, grouping_id)
        url = f"/groupements/{grouping_id}/lots/{grouping.lots[0].id}/parts"
        ids = [m.id for m in grouping.accepted_members]
    before = snapshot(app, grouping_id)
    aci = client_of(app, ACI)
    for parts, message in (((60, 30), "les parts des membres font 90 % au total"),
                           (("60,005", "39,995"), "deux décimales au plus"),
                           (("abc", "40"), "n'est pas un pourcentage"),
                           ((120, -20), "compris entre 0 et 100")):
        response = post(aci, url, url, {f"part-{ids[0]}": parts[0], f"part-{ids[1]}": parts[1]})
        assert response.status_code == 400
        assert message in page_text(response)
    assert snapshot(app, grouping_id) == before


def test_an_email_invitation_is_answered_through_its_link_by_the_invited_address(app, gme, mailbox):
    grouping_id = formed_in(app, gme, lots=(0,))  # lot 2 is reserved: no company there
    page = f"/groupements/{grouping_id}"
    aci = client_of(app, ACI)
    response = post(aci, f"{page}/inviter-par-courriel", page, {
        "courriel-email": COMPANY, "courriel-company_name": "Paysages Durand SARL", "courriel-siret": "",
        "courriel-services": "Élagage"})
    assert response.status_code == 302
    message = next(m for m in mailbox if m["To"] == COMPANY)
    link = re.search(r"https?://\S+/groupements/invitation/\S+", message.get_body(("plain",)).get_content()).group(0)
    path = link[link.index("/groupements/"):]
    # anonymous: told to sign in; another account: told whose invitation it is; a tampered token: 400
    assert "Se connecter" in page_text(app.test_client().get(path))
    assert "adressée à " + COMPANY in page_text(client_of(app, STRANGER).get(path))
    assert app.test_client().get(path + "x").status_code == 400
    company = client_of(app, COMPANY)
    response = post(company, path, path, {"decision": "accept"})
    assert response.status_code == 302
    with app.app_context():
        member = db.session.scalar(select(GroupingMember).where(GroupingMember.invited_email == COMPANY))
        assert member.status == MemberStatus.ACCEPTED
        assert member.organisation.name == "Paysages Durand SARL"
    # the link is spent
    assert "déjà reçu une réponse" in page_text(company.get(path))
    assert company.get(page).status_code == 200


def test_an_expired_email_link_says_so(app, gme, monkeypatch):
    grouping_id = formed_in(app, gme, lots=(0,))
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        from marche.groupings import services
        from tests.groupings.world import grouping, user

        member = services.invite_by_email(user(gme["aci"]), grouping(grouping_id), "x@y.example.fr", "X SARL", None)
        db.session.commit()
        token = tokens.make_token(member)
    app.config["INVITATION_MAX_AGE"], saved = -1, app.config["INVITATION_MAX_AGE"]
    try:
        response = app.test_client().get(f"/groupements/invitation/{token}")
    finally:
        app.config["INVITATION_MAX_AGE"] = saved
    assert response.status_code == 400 and "a expiré" in page_text(response)


def test_the_award_page_offers_the_grouping_and_the_award_moves_it(app, gme):
    grouping_id = formed_in(app, gme, lots=(0,), confirm=True)
    with app.app_context():
        tender = db.session.get(Tender, gme["tender"])
        tender.status = "closed"
        db.session.commit()
        lot_id = tender.lots[0].id
    url = f"/consultations/{gme['tender']}/lots/{lot_id}/attribution"
    buyer = client_of(app, BUYER)
    assert "Les Jardins Solidaires / Atelier du Nord" in page_text(buyer.get(url))
    response = post(buyer, url, url, {"outcome": "awarded", "attribution-grouping_id": grouping_id,
                                      "attribution-amount": "95000", "attribution-awarded_on": "2026-11-02",
                                      "attribution-offers_count": "3"})
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        grouping = db.session.get(Grouping, grouping_id)
        assert grouping.status == GroupingStatus.AWARDED and grouping.decp_type == "Solidaire"
        award = grouping.tender.lots[0].award
        assert (award.holder_grouping_id, award.holder_siret) == (grouping_id, grouping.mandataire.siret)
        assert db.session.scalar(select(func.count()).select_from(Grouping)) == 1


def statements_of(client, url: str) -> int:
    """The SQL statements one visit of `url` runs."""
    def visit():
        assert client.get(url).status_code == 200

    with client.application.app_context():
        return statements_during(db.engine, visit)


def test_the_buyers_panel_costs_the_same_queries_for_one_grouping_or_two(app, gme):
    """No query per grouping or per member: the groupings that answered come with their lots, members (structure,
    organisation) and shares."""
    from flask import current_app

    from marche.groupings import services
    from tests.groupings.world import structure, tender, user

    formed_in(app, gme, lots=(0,), confirm=True)
    buyer = client_of(app, BUYER)
    page = f"/consultations/{gme['tender']}"
    statements_of(buyer, page)  # the first visit fills the caches every visit shares
    one = statements_of(buyer, page)
    with app.app_context(), current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        the_tender = tender(gme["tender"])
        second = services.start(user(gme["stranger"]), the_tender, structure(gme["stranger_s"]),
                                [the_tender.lots[1].id], "conjoint")
        member = services.invite_structure(user(gme["stranger"]), second, structure(gme["ea_s"]), "Entretien")
        services.answer_invitation(user(gme["ea"]), member, True)
        services.set_shares(user(gme["stranger"]), second, second.lots[0],
                            {second.mandataire_id: "50", member.id: "50"})
        services.confirm(user(gme["stranger"]), second)
        db.session.commit()
    text = page_text(buyer.get(page))
    assert "Les Jardins Solidaires / Atelier du Nord" in text and "Chantier d'ailleurs" in text
    assert statements_of(buyer, page) == one
