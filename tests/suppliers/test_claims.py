"""Claims state their evidence; an organisation's SIRET alone never grants a directory profile."""
from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from marche.core.models import AuditEntry
from marche.extensions import db
from marche.suppliers.models import Structure, StructureClaim
from tests.conftest import VALID_SIRETS, csrf_token, login, page_text, submit

COLLECTERIE = "75187049400026"
PROFILE = f"/structures/{COLLECTERIE}"


def claimant(app, make_user, email="nadia@collecterie.fr", siret=COLLECTERIE):
    make_user(email, kind="inclusive_structure", siret=siret, name="La Collecterie")
    client = app.test_client()
    login(client, email)
    return client


def claim_with_file(client, content: bytes, filename: str, url: str = PROFILE):
    token = csrf_token(page_text(client.get(url)))
    return client.post(f"{url}/revendiquer", content_type="multipart/form-data", data={
        "csrf_token": token, "evidence_kind": "document", "document": (io.BytesIO(content), filename)})


def the_claim(app) -> StructureClaim:
    with app.app_context():
        claim = db.session.execute(select(StructureClaim)).scalar_one()
        db.session.expunge(claim)
        return claim


def test_signing_up_with_a_profiles_siret_grants_nothing(app, client, make_structure, mailbox):
    make_structure(website="https://collecterie.fr")
    response = submit(client, "/inscription", {
        "full_name": "Usurpateur", "email": "x@usurpateur.fr", "password": "un-mot-de-passe-7",
        "password_confirm": "un-mot-de-passe-7", "kind": "inclusive_structure", "organisation_name": "La Collecterie",
        "siret": COLLECTERIE, "accept_terms": "y"})
    assert response.status_code == 302
    client.get(mailbox.link_to("x@usurpateur.fr", "/compte/confirmer/").replace("http://localhost", ""))
    assert login(client, "x@usurpateur.fr", "un-mot-de-passe-7").status_code == 302
    assert client.get(f"{PROFILE}/modifier").status_code == 404
    assert "Modifier la fiche" not in page_text(client.get(PROFILE))
    # and claiming with the matching SIRET but no evidence of its own is refused with a reason
    refused = submit(client, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE)
    assert refused.status_code == 400
    assert "« usurpateur.fr », qui n'est pas celui de la structure (« collecterie.fr »)" in page_text(refused)
    with app.app_context():
        assert db.session.execute(select(Structure.owner_organisation_id)).scalar_one() is None
        assert db.session.execute(select(StructureClaim)).first() is None


def test_email_domain_evidence_explains_each_refusal(app, make_user, make_structure):
    make_structure()  # no website, no contact yet
    nadia = claimant(app, make_user, "nadia@antenne.collecterie.fr")
    no_domain = submit(nadia, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE)
    assert no_domain.status_code == 400 and "ni site internet ni adresse e-mail" in page_text(no_domain)
    with app.app_context():
        db.session.execute(db.text("update structure set website = 'https://www.collecterie.fr/accueil'"))
        db.session.commit()
    ok = submit(nadia, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE)
    assert ok.status_code == 302  # a sub-domain of the structure's domain counts
    claim = the_claim(app)
    assert (claim.evidence_kind, claim.evidence_value, claim.status) == ("email_domain", "antenne.collecterie.fr",
                                                                          "pending")


def test_webmail_address_proves_nothing(app, make_user, make_structure):
    make_structure(website="https://collecterie.fr")
    with app.app_context():
        db.session.execute(db.text("insert into structure_contact (structure_id, name, email) "
                                   "select id, 'Accueil', 'collecterie93@gmail.com' from structure"))
        db.session.commit()
    gmail = claimant(app, make_user, "collecterie93@gmail.com")
    refused = submit(gmail, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE)
    assert refused.status_code == 400 and "messagerie publique (« gmail.com »)" in page_text(refused)


def test_document_is_checked_by_content_and_shown_only_to_approvers(app, make_user, make_structure):
    make_structure()
    nadia = claimant(app, make_user)
    fake = claim_with_file(nadia, b"MZ\x90\x00 an executable", "kbis.pdf")
    assert fake.status_code == 400 and "n'est pas un JPG, PDF, PNG valide" in page_text(fake)
    pdf = b"%PDF-1.7\n% extrait Kbis\n"
    assert claim_with_file(nadia, pdf, "kbis.pdf").status_code == 302
    claim = the_claim(app)
    stored = Path(app.instance_path) / "uploads" / claim.evidence_path
    assert claim.evidence_path.startswith("claims/") and stored.read_bytes() == pdf
    assert "static" not in stored.parts
    url = f"/structures/revendications/{claim.id}/justificatif"

    assert nadia.get(url).status_code == 404  # the claimant is no approver
    assert app.test_client().get(url).status_code == 302  # anonymous: to the login page
    make_user("plie59@example.fr", kind="facilitator", siret=VALID_SIRETS[41], name="PLIE 59")
    make_user("plie93@example.fr", kind="facilitator", siret=VALID_SIRETS[42], name="PLIE 93")
    with app.app_context():
        db.session.execute(db.text("update organisation set verification_status = 'verified', territories = "
                                   "case when siret = :a then '{dep:59}'::varchar[] else '{dep:93}'::varchar[] end "
                                   "where kind = 'facilitator'"), {"a": VALID_SIRETS[41]})
        db.session.commit()
    far, near = app.test_client(), app.test_client()
    login(far, "plie59@example.fr")
    login(near, "plie93@example.fr")
    assert far.get(url).status_code == 404
    listing = page_text(near.get("/structures/revendications"))
    assert "Document (extrait Kbis, convention SIAE…)" in listing and url in listing
    download = near.get(url)
    assert download.status_code == 200 and download.data == pdf
    assert "no-store" in download.headers["Cache-Control"]


def test_finess_evidence_for_an_esat_without_siret(app, make_user, make_structure):
    make_structure(siret=None, name="ESAT des Tilleuls", kinds=("ESAT",), finess_numbers=["930000111", "930000222"])
    make_structure(siret=VALID_SIRETS[43], name="EI sans FINESS", kinds=("EI",))
    nadia = claimant(app, make_user, siret=VALID_SIRETS[44])
    esat = "/structures/930000222"
    wrong = submit(nadia, f"{esat}/revendiquer", {"evidence_kind": "finess", "finess": "930000333"}, form_url=esat)
    assert wrong.status_code == 400 and "n'est pas celui d'un établissement de cette fiche" in page_text(wrong)
    empty = submit(nadia, f"{esat}/revendiquer", {"evidence_kind": "finess", "finess": ""}, form_url=esat)
    assert empty.status_code == 400 and "Indiquez le numéro FINESS" in page_text(empty)
    other = f"/structures/{VALID_SIRETS[43]}"
    not_esat = submit(nadia, f"{other}/revendiquer", {"evidence_kind": "finess", "finess": "930000111"},
                      form_url=other)
    assert not_esat.status_code == 400 and "ne vaut que pour un ESAT" in page_text(not_esat)
    ok = submit(nadia, f"{esat}/revendiquer", {"evidence_kind": "finess", "finess": "930 000 111"}, form_url=esat)
    assert ok.status_code == 302
    assert the_claim(app).evidence_value == "930000111"


def test_decisions_are_audited_with_approver_and_evidence(app, make_user, make_structure):
    make_structure(website="https://collecterie.fr")
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    nadia = claimant(app, make_user)
    assert submit(nadia, f"{PROFILE}/revendiquer", {"evidence_kind": "email_domain"}, form_url=PROFILE).status_code == 302
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")
    claim = the_claim(app)
    assert submit(admin, f"/structures/revendications/{claim.id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 302
    assert nadia.get(f"{PROFILE}/modifier").status_code == 200  # the approved claim, and only it, grants the profile
    with app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.claim_approved")).scalar_one()
        admin_id = db.session.execute(db.text("select id from user_account where email = 'admin@plateforme.fr'")).scalar()
        assert entry.actor_id == admin_id
        assert entry.details["evidence"] == "email_domain" and entry.details["evidence_value"] == "collecterie.fr"
        assert entry.details["capacity"] == "platform_admin"
        requested = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.claim_requested")).scalar_one()
        assert requested.details["evidence"] == "email_domain"
    again = submit(admin, f"/structures/revendications/{claim.id}", {"decision": "reject"},
                   form_url="/structures/revendications")
    assert "déjà été traitée" in page_text(admin.get(again.headers["Location"]))


def test_a_second_claim_cannot_be_approved_once_the_profile_is_managed(app, make_user, make_structure):
    """Issue 23: approving a claim on a profile another organisation got meanwhile was never tried."""
    from marche.accounts.models import Organisation

    structure_id = make_structure()
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    make_user("paul@relais.fr", kind="inclusive_structure", siret=VALID_SIRETS[40], name="Le Relais")
    with app.app_context():
        first_org, second_org = (db.session.scalar(select(Organisation.id).where(Organisation.siret == siret))
                                 for siret in (COLLECTERIE, VALID_SIRETS[40]))
        claims = [StructureClaim(structure_id=structure_id, organisation_id=org, status="pending",
                                 evidence_kind="document") for org in (first_org, second_org)]
        db.session.add_all(claims)
        db.session.commit()
        first_id, second_id = [c.id for c in claims]
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")

    def decide(claim_id, decision):
        return submit(admin, f"/structures/revendications/{claim_id}", {"decision": decision,
                      "reason": "Une autre organisation gère déjà la fiche."}, form_url="/structures/revendications")

    assert decide(first_id, "approve").status_code == 302
    refused = decide(second_id, "approve")
    assert "déjà gérée par une autre organisation" in page_text(admin.get(refused.headers["Location"]))
    with app.app_context():
        assert db.session.get(StructureClaim, second_id).status == "pending"
        assert db.session.scalar(select(Structure.owner_organisation_id)) == first_org
    assert decide(second_id, "reject").status_code == 302  # it can still be turned down
    with app.app_context():
        assert db.session.get(StructureClaim, second_id).status == "rejected"
