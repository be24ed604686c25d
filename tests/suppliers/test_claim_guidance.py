"""Claims that guide (issue 18 item 4): the claim offered after signup, only where the SIREN matches;
the pending state shown; approvers told who asks, facilitators of the territory mailed; a refusal
carries its reason; « Ma fiche » in the menu; no commitment obtained in the future."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import select

from marche.accounts.models import Organisation
from marche.core.dates import today
from marche.core.models import AuditEntry
from marche.extensions import db
from marche.suppliers.models import Structure, StructureClaim
from tests.conftest import VALID_SIRETS, csrf_token, login, page_text, submit

COLLECTERIE = "75187049400026"  # SIREN 751870494
PROFILE = f"/structures/{COLLECTERIE}"
CLAIMS = "/structures/revendications"
PDF = b"%PDF-1.7\n% extrait Kbis\n"


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    return sum(d if i % 2 == 0 else sum(divmod(2 * d, 10)) for i, d in enumerate(digits)) % 10 == 0


def siret_of(siren: str, start: int = 1) -> str:
    """A valid SIRET of this SIREN (the first establishment number from `start` that passes Luhn)."""
    return next(f"{siren}{n:05d}" for n in range(start, 99999) if luhn_ok(f"{siren}{n:05d}"))


#: another establishment of La Collecterie (same SIREN), and a structure of another SIREN
COLLECTERIE_2 = siret_of("751870494", 27)
OTHER_SIREN = siret_of("432198765")


def signed_in(app, make_user, email: str, siret: str, kind: str = "inclusive_structure", name: str = "La Collecterie"):
    make_user(email, kind=kind, siret=siret, name=name)
    client = app.test_client()
    login(client, email)
    return client


def claim_document(client, url: str = PROFILE, message: str = ""):
    token = csrf_token(page_text(client.get(url)))
    return client.post(f"{url}/revendiquer", content_type="multipart/form-data", data={
        "csrf_token": token, "evidence_kind": "document", "document": (io.BytesIO(PDF), "kbis.pdf"),
        "message": message})


def verified_facilitator(app, make_user, email: str, siret: str, territories: list[str], verified: bool = True):
    make_user(email, kind="facilitator", siret=siret, name=f"PLIE {email}")
    with app.app_context():
        organisation = db.session.execute(select(Organisation).where(Organisation.siret == siret)).scalar_one()
        organisation.territories = territories
        organisation.verification_status = "verified" if verified else "pending"
        db.session.commit()


def decide(client, claim_id: int, decision: str, reason: str = ""):
    return submit(client, f"{CLAIMS}/{claim_id}", {"decision": decision, "reason": reason}, form_url=CLAIMS)


def only_claim(app) -> StructureClaim:
    with app.app_context():
        claim = db.session.execute(select(StructureClaim)).scalar_one()
        db.session.expunge(claim)
        return claim


# --- « C'est ma structure » only where the SIREN matches -------------------------------------------

def test_the_claim_is_offered_only_to_the_profiles_siren(app, make_user, make_structure):
    make_structure()
    same_siren = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE_2)
    other_siren = signed_in(app, make_user, "paul@autre.fr", OTHER_SIREN, name="Autre structure")
    buyer = signed_in(app, make_user, "achat@ville.fr", VALID_SIRETS[3], kind="public_buyer", name="Ville")

    assert "C'est ma structure" in page_text(same_siren.get(PROFILE))
    for client in (other_siren, buyer, app.test_client()):
        assert "C'est ma structure" not in page_text(client.get(PROFILE))
    # the route answers like a missing page to those the button is hidden from, whatever they send
    for client in (other_siren, buyer):
        token = csrf_token(page_text(client.get("/")))
        refused = client.post(f"{PROFILE}/revendiquer", data={"csrf_token": token, "evidence_kind": "document"})
        assert refused.status_code == 404
    assert claim_document(same_siren).status_code == 302
    claim = only_claim(app)
    with app.app_context():
        assert db.session.get(Organisation, claim.organisation_id).siret == COLLECTERIE_2


# --- offered at once after signup, or after creating the organisation ------------------------------

SIGNUP = {"full_name": "Nadia Haddad", "email": "nadia@collecterie.fr", "password": "un-mot-de-passe-7",
          "password_confirm": "un-mot-de-passe-7", "kind": "inclusive_structure",
          "organisation_name": "La Collecterie", "siret": COLLECTERIE, "accept_terms": "y"}


def test_signup_with_a_matching_siret_leads_to_the_offered_claims(app, client, make_structure, make_user, mailbox):
    make_structure(name="La Collecterie")                                  # same SIRET
    make_structure(siret=COLLECTERIE_2, name="Collecterie Atelier Vélo")  # same SIREN, other establishment
    make_structure(siret=OTHER_SIREN, name="Structure Voisine")            # another SIREN: not offered
    managed = make_structure(siret=siret_of("751870494", 40), name="Collecterie Déjà Gérée")
    make_user("gerant@ailleurs.fr", kind="inclusive_structure", siret=VALID_SIRETS[5], name="Ailleurs")
    with app.app_context():
        owner = db.session.execute(select(Organisation.id).where(Organisation.siret == VALID_SIRETS[5])).scalar_one()
        db.session.get(Structure, managed).owner_organisation_id = owner
        db.session.commit()

    signup = submit(client, "/inscription", SIGNUP)
    assert signup.status_code == 302 and signup.headers["Location"] == "/connexion?next=/ma-fiche"
    login_page = page_text(client.get(signup.headers["Location"]))
    assert "une fois connecté, la plateforme vous proposera de la revendiquer" in login_page
    client.get(mailbox.link_to("nadia@collecterie.fr", "/compte/confirmer/").replace("http://localhost", ""))
    # even without `next` (the confirmation link leads to a bare login page), the offers come first
    landed = login(client, "nadia@collecterie.fr", "un-mot-de-passe-7")
    assert landed.headers["Location"] == "/ma-fiche"
    page = page_text(client.get("/ma-fiche"))
    assert page.count("Revendiquer cette fiche") == 2
    assert page.index("<strong>La Collecterie</strong>") < page.index("<strong>Collecterie Atelier Vélo</strong>")
    assert "Structure Voisine" not in page and "Déjà Gérée" not in page
    # one click opens the claim form with its evidence step
    link = re.search(r'href="(/structures/' + COLLECTERIE + r'\?revendiquer=1#revendiquer)"', page).group(1)
    form_page = page_text(client.get(link))
    assert '<details class="fr-mt-2w" open>' in form_page and "Justificatif de votre lien avec la structure" in form_page


def test_a_user_without_matching_profiles_lands_as_before(app, client, make_structure, mailbox):
    make_structure(siret=OTHER_SIREN, name="Structure Voisine")
    signup = submit(client, "/inscription", SIGNUP)
    assert signup.headers["Location"] == "/connexion"
    client.get(mailbox.link_to("nadia@collecterie.fr", "/compte/confirmer/").replace("http://localhost", ""))
    assert login(client, "nadia@collecterie.fr", "un-mot-de-passe-7").headers["Location"] == "/"


def test_creating_the_organisation_later_leads_to_the_offers(app, make_user, make_structure):
    make_structure()
    make_user("nadia@collecterie.fr", kind="public_buyer", siret=VALID_SIRETS[7], name="Ancienne organisation")
    client = app.test_client()
    login(client, "nadia@collecterie.fr")
    created = submit(client, "/organisations/nouvelle", {"organisation_name": "La Collecterie",
                                                          "kind": "inclusive_structure", "siret": COLLECTERIE})
    assert created.status_code == 302 and created.headers["Location"] == "/ma-fiche"
    assert "Revendiquer cette fiche" in page_text(client.get("/ma-fiche"))


# --- the pending state, and no second claim meanwhile -----------------------------------------------

def test_a_pending_claim_is_shown_and_a_second_one_refused(app, make_user, make_structure, mailbox):
    make_structure()
    nadia = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE)
    colleague = app.test_client()
    with app.app_context():
        # a colleague of the same organisation sees the same pending state
        from marche.accounts import services as accounts
        from marche.accounts.models import Membership
        user = accounts.create_user("karim@collecterie.fr", "motdepasse-solide-1", "Karim", confirmed=True)
        db.session.add(Membership(user=user, organisation=accounts.find_organisation_by_siret(COLLECTERIE),
                                  role="member"))
        db.session.commit()
    login(colleague, "karim@collecterie.fr")
    assert "Revendiquer cette fiche" in page_text(nadia.get("/ma-fiche"))

    assert claim_document(nadia, message="Je suis la directrice.").status_code == 302
    pending = f"Demande en cours d'examen (déposée le {today():%d/%m/%Y})"
    for client in (nadia, colleague):
        profile = page_text(client.get(PROFILE))
        assert pending in profile and "C'est ma structure" not in profile
        mine = page_text(client.get("/ma-fiche"))
        assert f"demande en cours d'examen (déposée le {today():%d/%m/%Y})" in mine
        assert "Revendiquer cette fiche" not in mine
    stranger = signed_in(app, make_user, "paul@collecterie.fr", COLLECTERIE_2, name="Collecterie bis")
    assert "Demande en cours d'examen" not in page_text(stranger.get(PROFILE))

    again = claim_document(colleague)
    assert again.status_code == 400
    assert (f"Une demande de votre organisation est déjà en cours d'examen pour cette fiche (déposée le "
            f"{today():%d/%m/%Y})") in page_text(again)
    with app.app_context():
        assert db.session.execute(select(StructureClaim)).scalars().all().__len__() == 1


# --- approvers: who asks, facilitators mailed, reasons for refusals ----------------------------------

def test_admins_and_the_territorys_facilitators_are_mailed_and_see_who_asks(app, make_user, make_structure, mailbox):
    make_structure()  # Montreuil, 93
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    verified_facilitator(app, make_user, "plie93@example.fr", VALID_SIRETS[41], ["dep:93"])
    verified_facilitator(app, make_user, "idf@example.fr", VALID_SIRETS[42], ["reg:11"])
    verified_facilitator(app, make_user, "plie59@example.fr", VALID_SIRETS[43], ["dep:59"])
    verified_facilitator(app, make_user, "attente93@example.fr", VALID_SIRETS[44], ["dep:93"], verified=False)
    nadia = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE)
    mailbox.clear()
    assert claim_document(nadia).status_code == 302

    recipients = sorted(m["To"] for m in mailbox if m["Subject"].startswith("Revendication de la fiche"))
    assert recipients == ["admin@plateforme.fr", "idf@example.fr", "plie93@example.fr"]
    body = mailbox.body(mailbox.last_to("plie93@example.fr"))
    assert "Camille Test (nadia@collecterie.fr), de « La Collecterie » (SIRET 75187049400026)" in body
    assert "http://localhost/structures/revendications" in body

    near = app.test_client()
    login(near, "plie93@example.fr")
    page = page_text(near.get(CLAIMS))
    for shown in ("Camille Test", "nadia@collecterie.fr", "La Collecterie — SIRET déclaré 75187049400026",
                  "Document (extrait Kbis, convention SIAE…)", f"{today():%d/%m/%Y}"):
        assert shown in page
    far = app.test_client()
    login(far, "plie59@example.fr")
    assert "nadia@collecterie.fr" not in page_text(far.get(CLAIMS))


def test_a_refusal_needs_a_reason_which_is_stored_audited_and_mailed(app, make_user, make_structure, mailbox):
    make_structure()
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    nadia = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE)
    assert claim_document(nadia).status_code == 302
    claim = only_claim(app)
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")

    for blank in ("", "   \n\t "):
        refused = decide(admin, claim.id, "reject", blank)
        assert refused.status_code == 400
        assert "Indiquez le motif du refus" in page_text(refused)
        assert f'id="reason-{claim.id}-erreurs"' in page_text(refused)
    assert decide(admin, claim.id, "peut-etre", "Motif.").status_code == 400  # neither button: nothing decided
    too_long = "Justificatif illisible. " * 100  # 2 400 characters
    refused = decide(admin, claim.id, "reject", too_long)
    assert refused.status_code == 400 and "Le motif dépasse 2000 caractères" in page_text(refused)
    assert too_long.strip() in page_text(refused)  # what was typed is kept
    assert only_claim(app).status == "pending"

    mailbox.clear()
    reason = "Le Kbis joint est celui d'une autre société <script>."
    assert decide(admin, claim.id, "reject", f"  {reason}  ").status_code == 302
    stored = only_claim(app)
    assert (stored.status, stored.decision_reason) == ("rejected", reason)
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.claim_rejected")).scalar_one()
        assert entry.details["reason"] == reason
    message = mailbox.last_to("nadia@collecterie.fr")
    assert f"Motif du refus : {reason}" in mailbox.body(message)
    assert "&lt;script&gt;" in message.get_body(preferencelist=("html",)).get_content()
    # deciding again answers in French, not with a 500
    again = decide(admin, claim.id, "approve")
    assert again.status_code == 302
    assert "Cette demande a déjà été traitée (Refusée)." in page_text(admin.get(again.headers["Location"]))
    # the profile is open to a new claim, with other evidence
    assert "C'est ma structure" in page_text(nadia.get(PROFILE))


def test_an_approval_is_mailed_and_opens_ma_fiche(app, make_user, make_structure, mailbox):
    make_structure()
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    verified_facilitator(app, make_user, "plie93@example.fr", VALID_SIRETS[41], ["dep:93"])
    nadia = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE)
    assert "Ma fiche</a>" not in page_text(nadia.get("/"))
    assert claim_document(nadia).status_code == 302
    facilitator = app.test_client()
    login(facilitator, "plie93@example.fr")
    mailbox.clear()
    assert decide(facilitator, only_claim(app).id, "approve").status_code == 302
    body = mailbox.body(mailbox.last_to("nadia@collecterie.fr"))
    assert "Votre demande est acceptée" in body and f"http://localhost{PROFILE}/modifier" in body
    assert "« Ma fiche »" in body

    home = page_text(nadia.get("/"))
    assert '<a class="fr-nav__link" href="/ma-fiche"' in home and "Ma fiche</a>" in home
    single = nadia.get("/ma-fiche")  # one profile: straight to its edit page
    assert single.status_code == 302 and single.headers["Location"] == f"{PROFILE}/modifier"
    # nobody else gets the entry
    assert "Ma fiche</a>" not in page_text(facilitator.get("/"))
    assert facilitator.get("/ma-fiche").status_code == 404

    # a second profile managed by the same organisation: « Ma fiche » lists both
    second = make_structure(siret=COLLECTERIE_2, name="Collecterie Atelier Vélo")
    with app.app_context():
        structure = db.session.get(Structure, second)
        structure.owner_organisation_id = db.session.execute(
            select(Organisation.id).where(Organisation.siret == COLLECTERIE)).scalar_one()
        db.session.commit()
    listing = nadia.get("/ma-fiche")
    assert listing.status_code == 200
    text = page_text(listing)
    assert f'href="{PROFILE}/modifier"' in text and f'href="/structures/{COLLECTERIE_2}/modifier"' in text


# --- a commitment obtained in the future is refused ---------------------------------------------------

def test_a_commitment_obtained_in_the_future_is_refused(app, make_user, make_structure):
    structure_id = make_structure()
    nadia = signed_in(app, make_user, "nadia@collecterie.fr", COLLECTERIE)
    with app.app_context():
        db.session.get(Structure, structure_id).owner_organisation_id = db.session.execute(
            select(Organisation.id).where(Organisation.siret == COLLECTERIE)).scalar_one()
        db.session.commit()
    edit = f"{PROFILE}/modifier"
    tomorrow, today_ = today() + timedelta(days=1), today()

    refused = submit(nadia, f"{PROFILE}/engagements", {"env-label": "emas", "env-obtained_on": tomorrow.isoformat()},
                     form_url=edit)
    assert refused.status_code == 400
    text = page_text(refused)
    assert f"La date d'obtention ne peut pas être dans le futur (aujourd'hui : {today_:%d/%m/%Y})." in text
    assert 'id="env-obtained_on-erreurs"' in text and f'value="{tomorrow.isoformat()}"' in text
    accepted = submit(nadia, f"{PROFILE}/engagements", {"env-label": "emas", "env-obtained_on": today_.isoformat()},
                      form_url=edit)
    assert accepted.status_code == 302
    with app.app_context():
        assert [c.obtained_on for c in db.session.get(Structure, structure_id).env_commitments] == [today_]


def test_a_manager_is_not_sent_to_the_offers_at_each_login(app, make_user, make_structure):
    owned = make_structure()
    make_structure(siret=COLLECTERIE_2, name="Collecterie Atelier Vélo")  # another establishment, unclaimed
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    client = app.test_client()
    assert login(client, "nadia@collecterie.fr").headers["Location"] == "/ma-fiche"  # nothing managed yet
    with app.app_context():
        db.session.get(Structure, owned).owner_organisation_id = db.session.execute(
            select(Organisation.id).where(Organisation.siret == COLLECTERIE)).scalar_one()
        db.session.commit()
    again = app.test_client()
    assert login(again, "nadia@collecterie.fr").headers["Location"] == "/"
    page = again.get("/ma-fiche")  # one profile managed, one offered: the list, not the edit page
    assert page.status_code == 200
    text = page_text(page)
    assert "Modifier « La Collecterie »" in text and "Revendiquer cette fiche" in text
