"""Structure profiles: public page, claim and approval, edits audited and sent to the index, uploads checked."""
import io

import openpyxl
from sqlalchemy import select

from marche.core.models import AuditEntry, OutboxMessage
from marche.extensions import db
from marche.suppliers.models import EnvCommitment, Structure, StructureClaim
from tests.conftest import VALID_SIRETS, login, page_text, submit

COLLECTERIE = "75187049400026"


def test_public_profile_and_hidden_ones(client, make_structure):
    make_structure()
    page = client.get(f"/structures/{COLLECTERIE}")
    assert page.status_code == 200
    assert "La Collecterie" in page_text(page) and "Atelier et chantier d'insertion" in page_text(page)
    assert client.get("/structures/00000000000000").status_code == 404
    assert client.get("/structures/pas-un-siret").status_code == 404


def claim_setup(app, make_user, make_structure):
    make_structure(website="https://www.collecterie.fr")
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    structure_client = app.test_client()
    login(structure_client, "nadia@collecterie.fr")
    return structure_client


def test_claim_approve_edit(app, make_user, make_structure, mailbox):
    structure_client = claim_setup(app, make_user, make_structure)
    assert structure_client.get(f"/structures/{COLLECTERIE}/modifier").status_code == 404  # not yet its owner
    response = submit(structure_client, f"/structures/{COLLECTERIE}/revendiquer",
                      {"evidence_kind": "email_domain", "message": ""}, form_url=f"/structures/{COLLECTERIE}")
    assert response.status_code == 302
    assert mailbox.last_to("admin@plateforme.fr")["Subject"].startswith("Revendication de la fiche")

    admin = app.test_client()
    login(admin, "admin@plateforme.fr")
    listing = page_text(admin.get("/structures/revendications"))
    assert "La Collecterie" in listing
    with app.app_context():
        claim_id = db.session.execute(select(StructureClaim.id)).scalar_one()
    assert submit(admin, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 302
    assert "acceptée" in mailbox.body(mailbox.last_to("nadia@collecterie.fr"))

    edit = structure_client.get(f"/structures/{COLLECTERIE}/modifier")
    assert edit.status_code == 200
    response = submit(structure_client, f"/structures/{COLLECTERIE}/modifier", {
        "name": "LA COLLECTERIE", "brand": "La Collecterie", "description": "Ressourcerie à Montreuil",
        "website": "https://lacollecterie.org", "sectors": ["23"], "service_kinds": ["prestation", "fourniture"],
        "area_kind": "territories", "area_radius_km": "50", "area_refs": "dep:93,dep:75", "employees_count": "40",
        "inclusion_workers_count": "25", "turnover_band": ""})
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        structure = db.session.execute(select(Structure).where(Structure.siret == COLLECTERIE)).scalar_one()
        assert structure.area_refs == ["dep:93", "dep:75"]
        assert structure.area_departments == ["75", "93"] and structure.area_regions == ["11"]
        assert [s.id for s in structure.sectors] == [23]
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.updated")).scalar_one()
        assert entry.details["changes"]["area_refs"] == ["dep:93", "dep:75"]
        kinds = db.session.execute(select(OutboxMessage.kind)).scalars().all()
        assert "structures.changed" in kinds


def test_bad_profile_input_answers_beside_the_field(app, make_user, make_structure):
    structure_client = claim_setup(app, make_user, make_structure)
    with app.app_context():
        structure = db.session.execute(select(Structure)).scalar_one()
        structure.owner_organisation_id = db.session.execute(
            select(db.text("id from organisation where siret = :s").bindparams(s=COLLECTERIE))).scalar()
        db.session.commit()
    response = submit(structure_client, f"/structures/{COLLECTERIE}/modifier", {
        "name": "", "area_kind": "territories", "area_refs": "dep:999", "employees_count": "10",
        "inclusion_workers_count": "20", "website": "lacollecterie.org"})
    text = page_text(response)
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in text
    assert "ne peut pas dépasser le nombre de salariés" in text
    assert "http:// ou https://" in text
    response = submit(structure_client, f"/structures/{COLLECTERIE}/modifier", {
        "name": "La Collecterie", "area_kind": "territories", "area_refs": "dep:999", "area_radius_km": "50"})
    assert "Territoire inconnu : dep:999" in page_text(response)


def own(app, siret=COLLECTERIE):
    with app.app_context():
        structure = db.session.execute(select(Structure).where(Structure.siret == siret)).scalar_one()
        structure.owner_organisation_id = db.session.execute(
            db.text("select id from organisation where siret = :s"), {"s": siret}).scalar()
        db.session.commit()


def post_file(client, url, form_url, fields, name, content, filename):
    from tests.conftest import csrf_token

    page = client.get(form_url)
    token = csrf_token(page_text(page))
    data = {**fields, "env-csrf_token": token, "logo-csrf_token": token, "csrf_token": token,
            name: (io.BytesIO(content), filename)}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_proof_files_are_checked_by_content(app, make_user, make_structure):
    structure_client = claim_setup(app, make_user, make_structure)
    own(app)
    url, form_url = f"/structures/{COLLECTERIE}/engagements", f"/structures/{COLLECTERIE}/modifier"
    fake = post_file(structure_client, url, form_url, {"env-label": "iso14001"}, "env-proof",
                     b"MZ\x90\x00 not a pdf at all", "certificat.pdf")
    assert fake.status_code == 400
    assert "n'est pas un JPG, PDF, PNG valide" in page_text(fake)
    big = post_file(structure_client, url, form_url, {"env-label": "iso14001"}, "env-proof",
                    b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024 + 1), "gros.pdf")
    assert big.status_code in (400, 413)
    assert "10 Mo" in page_text(big)
    ok = post_file(structure_client, url, form_url, {"env-label": "iso14001", "env-expires_on": "2099-12-31"},
                   "env-proof", b"%PDF-1.7\n%fake but starts right\n", "certificat.pdf")
    assert ok.status_code == 302
    with app.app_context():
        commitment = db.session.execute(select(EnvCommitment)).scalar_one()
        assert commitment.proof_path.endswith(".pdf")
    logo = post_file(structure_client, f"/structures/{COLLECTERIE}/logo", form_url, {}, "logo-logo",
                     b"%PDF-1.7 a pdf is not a logo", "logo.png")
    assert logo.status_code == 400 and "n'est pas un JPG, PNG valide" in page_text(logo)


def test_expired_commitment_no_longer_shows(app, client, make_structure):
    structure_id = make_structure()
    from datetime import date

    with app.app_context():
        db.session.add_all([EnvCommitment(structure_id=structure_id, label="iso14001", expires_on=date(2020, 1, 1)),
                            EnvCommitment(structure_id=structure_id, label="emas", expires_on=date(2099, 1, 1))])
        db.session.commit()
    text = page_text(client.get(f"/structures/{COLLECTERIE}"))
    assert "EMAS" in text and "ISO 14001" not in text


def test_claim_on_claimed_profile_goes_to_owners_not_granted(app, make_user, make_structure, mailbox):
    claim_setup(app, make_user, make_structure)
    own(app)
    make_user("intrus@autre.fr", kind="inclusive_structure", siret=VALID_SIRETS[31], name="Autre structure")
    # Same SIREN is required: the other organisation's SIRET does not match, so it cannot even ask
    # (no « C'est ma structure », and the route answers like a missing page).
    other = app.test_client()
    login(other, "intrus@autre.fr")
    assert "C'est ma structure" not in page_text(other.get(f"/structures/{COLLECTERIE}"))
    for evidence in ("document", "email_domain"):
        refused = submit(other, f"/structures/{COLLECTERIE}/revendiquer", {"evidence_kind": evidence},
                         form_url=f"/structures/{COLLECTERIE}")
        assert refused.status_code == 404
    # A second organisation whose SIRET matches the profile asks while nadia's organisation owns it:
    # the claim is not granted but sent to the owners and the platform admins.
    make_user("collegue@collecterie.fr", kind="inclusive_structure", siret=VALID_SIRETS[32], name="Doublon")
    colleague = app.test_client()
    login(colleague, "collegue@collecterie.fr")
    with app.app_context():
        db.session.execute(db.text("update structure set siret = :s, siren = :n"),
                           {"s": VALID_SIRETS[32], "n": VALID_SIRETS[32][:9]})
        db.session.commit()
    mailbox.clear()
    response = submit(colleague, f"/structures/{VALID_SIRETS[32]}/revendiquer", {"evidence_kind": "email_domain"},
                      form_url=f"/structures/{VALID_SIRETS[32]}")
    assert response.status_code == 302
    with app.app_context():
        claim = db.session.execute(select(StructureClaim)).scalar_one()
        assert claim.status == "redirected"
        structure = db.session.get(Structure, claim.structure_id)
        assert structure.owner_organisation_id != claim.organisation_id
    recipients = {m["To"] for m in mailbox}
    assert "nadia@collecterie.fr" in recipients and "admin@plateforme.fr" in recipients
    assert "Justificatif fourni : adresse e-mail sur le domaine de la structure" in mailbox.body(
        mailbox.last_to("nadia@collecterie.fr"))


def test_facilitator_decides_claims_in_its_territory_only(app, make_user, make_structure):
    make_structure(website="https://collecterie.fr")
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    structure_client = app.test_client()
    login(structure_client, "nadia@collecterie.fr")
    submit(structure_client, f"/structures/{COLLECTERIE}/revendiquer", {"evidence_kind": "email_domain"},
           form_url=f"/structures/{COLLECTERIE}")
    with app.app_context():
        claim_id = db.session.execute(select(StructureClaim.id)).scalar_one()
    make_user("plie93@example.fr", kind="facilitator", siret=VALID_SIRETS[33], name="PLIE 93")
    make_user("plie59@example.fr", kind="facilitator", siret=VALID_SIRETS[34], name="PLIE 59")
    with app.app_context():
        db.session.execute(db.text("update organisation set territories = '{dep:93}' where siret = :s"),
                           {"s": VALID_SIRETS[33]})
        db.session.execute(db.text("update organisation set territories = '{dep:59}' where siret = :s"),
                           {"s": VALID_SIRETS[34]})
        db.session.commit()
    far = app.test_client()
    login(far, "plie59@example.fr")
    assert "La Collecterie" not in page_text(far.get("/structures/revendications"))
    assert submit(far, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 404
    near = app.test_client()
    login(near, "plie93@example.fr")
    # competent for the territory but not yet verified by the platform: no power yet
    assert near.get("/structures/revendications").status_code == 404
    assert submit(near, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/compte").status_code == 404
    with app.app_context():
        db.session.execute(db.text("update organisation set verification_status = 'verified' where kind = 'facilitator'"))
        db.session.commit()
    assert "La Collecterie" not in page_text(far.get("/structures/revendications"))  # verified, still out of territory
    assert submit(near, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 302
    assert structure_client.get(f"/structures/{COLLECTERIE}/modifier").status_code == 200


def test_favourites_list_and_export(app, make_user, make_structure):
    make_structure()
    make_user("acheteur@ville.fr")
    make_user("autre@ville.fr", siret=VALID_SIRETS[35], name="Autre ville")
    buyer = app.test_client()
    login(buyer, "acheteur@ville.fr")
    response = submit(buyer, f"/structures/{COLLECTERIE}/favoris", {"favorite_list": "0", "new_list": "Nettoyage 2027"},
                      form_url=f"/structures/{COLLECTERIE}")
    assert response.status_code == 302
    lists = page_text(buyer.get("/favoris"))
    assert "Nettoyage 2027" in lists
    with app.app_context():
        list_id = db.session.execute(db.text("select id from favorite_list")).scalar()
    export = buyer.get(f"/favoris/{list_id}/export?format=xlsx")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.values)
    assert rows[0][0] == "SIRET" and rows[1][0] == COLLECTERIE and rows[1][2] == "La Collecterie"
    csv_export = buyer.get(f"/favoris/{list_id}/export?format=csv")
    assert csv_export.data.decode("utf-8-sig").splitlines()[1].startswith(COLLECTERIE + ";")
    stranger = app.test_client()
    login(stranger, "autre@ville.fr")
    assert stranger.get(f"/favoris/{list_id}").status_code == 404
    assert stranger.get(f"/favoris/{list_id}/export?format=csv").status_code == 404


def test_reference_with_photo_is_shown_and_fake_image_refused(app, make_user, make_structure, client):
    structure_client = claim_setup(app, make_user, make_structure)
    own(app)
    url, form_url = f"/structures/{COLLECTERIE}/references", f"/structures/{COLLECTERIE}/modifier"
    from tests.conftest import csrf_token

    def post(content, name):
        token = csrf_token(page_text(structure_client.get(form_url)))
        return structure_client.post(url, content_type="multipart/form-data", data={
            "ref-csrf_token": token, "ref-client_name": "Est Ensemble", "ref-year": "2025",
            "ref-file": (io.BytesIO(content), name)})

    refused = post(b"<html>not an image</html>", "chantier.jpg")
    assert refused.status_code == 400 and "n'est pas un JPG, PDF, PNG valide" in page_text(refused)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert post(png, "chantier.png").status_code == 302
    profile = page_text(client.get(f"/structures/{COLLECTERIE}"))
    assert "Photo de la prestation pour Est Ensemble" in profile
    with app.app_context():
        reference_id = db.session.execute(db.text("select id from client_reference")).scalar()
    photo = client.get(f"/structures/{COLLECTERIE}/references/{reference_id}/fichier")
    assert photo.status_code == 200 and photo.data == png
