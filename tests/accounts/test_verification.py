"""A facilitator gains its powers only once a platform admin has verified it (audited decision)."""
from sqlalchemy import select

from marche.accounts.models import Organisation
from marche.core.models import AuditEntry
from marche.extensions import db
from marche.suppliers.models import StructureClaim
from tests.conftest import VALID_SIRETS, login, page_text, submit
from tests.suppliers.conftest import make_structure  # noqa: F401  (the structures fixture, reused)

COLLECTERIE = "75187049400026"


def facilitator_signup(client, mailbox, territories="country:FR"):
    response = submit(client, "/inscription", {
        "full_name": "Paul Facile", "email": "paul@plie-fictif.fr", "password": "un-mot-de-passe-7",
        "password_confirm": "un-mot-de-passe-7", "kind": "facilitator", "organisation_name": "PLIE fictif",
        "siret": VALID_SIRETS[12], "facilitator_kind": "plie", "territories": territories, "accept_terms": "y"},
        follow_redirects=True)
    assert "doit être vérifié par l'équipe de la plateforme" in page_text(response)
    client.get(mailbox.link_to("paul@plie-fictif.fr", "/compte/confirmer/").replace("http://localhost", ""))
    assert login(client, "paul@plie-fictif.fr", "un-mot-de-passe-7").status_code == 302


def pending_claim(app, make_user, make_structure):
    make_structure(website="https://collecterie.fr")
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    nadia = app.test_client()
    login(nadia, "nadia@collecterie.fr")
    assert submit(nadia, f"/structures/{COLLECTERIE}/revendiquer", {"evidence_kind": "email_domain"},
                  form_url=f"/structures/{COLLECTERIE}").status_code == 302
    with app.app_context():
        return db.session.execute(select(StructureClaim.id)).scalar_one()


def test_self_declared_national_facilitator_has_no_power_until_verified(app, client, make_user, make_structure,
                                                                         mailbox):
    claim_id = pending_claim(app, make_user, make_structure)
    facilitator_signup(client, mailbox)
    with app.app_context():
        org = db.session.execute(select(Organisation).where(Organisation.siret == VALID_SIRETS[12])).scalar_one()
        org_id = org.id
        assert org.verification_status == "pending" and org.verified_at is None
    assert "Service facilitateur en attente de vérification" in page_text(client.get("/"))
    notice = page_text(client.get(f"/organisations/{org_id}"))
    assert "Service facilitateur en attente de vérification" in notice
    assert "ne peuvent pas valider les revendications" in notice
    assert client.get("/structures/revendications").status_code == 404
    assert submit(client, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/compte").status_code == 404
    assert client.get("/verifier-mes-fournisseurs").status_code == 404
    assert client.get("/favoris").status_code == 404
    # nor can it verify itself
    assert client.get("/administration/organisations").status_code == 404
    assert submit(client, f"/administration/organisations/{org_id}", {"decision": "verify"},
                  form_url="/compte").status_code == 404

    make_user("admin@plateforme.fr", kind="platform", admin=True)
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")
    listing = page_text(admin.get("/administration/organisations"))
    # the territory the facilitator asked for, as a person reads it (not its stored reference)
    assert "PLIE fictif" in listing and "France entière" in listing and "paul@plie-fictif.fr" in listing
    assert "country:FR" not in listing
    assert submit(admin, f"/administration/organisations/{org_id}", {"decision": "verify"},
                  form_url="/administration/organisations").status_code == 302
    assert "Aucune organisation en attente de vérification." in page_text(admin.get("/administration/organisations"))
    assert mailbox.last_to("paul@plie-fictif.fr")["Subject"] == "Vérification de PLIE fictif"
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        admin_id = db.session.execute(db.text("select id from user_account where email = 'admin@plateforme.fr'")).scalar()
        assert org.verification_status == "verified" and org.verified_by_id == admin_id and org.verified_at
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "organisation.verified")).scalar_one()
        assert entry.actor_id == admin_id and entry.details["territories"] == ["country:FR"]

    assert "Service facilitateur en attente" not in page_text(client.get(f"/organisations/{org_id}"))
    assert "La Collecterie" in page_text(client.get("/structures/revendications"))
    assert submit(client, f"/structures/revendications/{claim_id}", {"decision": "approve"},
                  form_url="/structures/revendications").status_code == 302
    with app.app_context():
        assert db.session.get(StructureClaim, claim_id).status == "approved"


def test_refused_facilitator_stays_powerless_and_a_decision_is_final(app, client, make_user, mailbox):
    facilitator_signup(client, mailbox, territories="dep:93")
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    admin = app.test_client()
    login(admin, "admin@plateforme.fr")
    with app.app_context():
        org_id = db.session.execute(select(Organisation.id).where(Organisation.siret == VALID_SIRETS[12])).scalar_one()
    assert submit(admin, f"/administration/organisations/{org_id}", {"decision": "refuse"},
                  form_url="/administration/organisations").status_code == 302
    again = submit(admin, f"/administration/organisations/{org_id}", {"decision": "verify"},
                   form_url="/administration/organisations", follow_redirects=True)
    assert "déjà été examinée" in page_text(again)
    with app.app_context():
        assert db.session.get(Organisation, org_id).verification_status == "refused"
        assert db.session.execute(select(AuditEntry.action).where(
            AuditEntry.action.like("organisation.verif%"))).scalars().all() == ["organisation.verification_refused"]
    assert "Vérification refusée" in page_text(client.get(f"/organisations/{org_id}"))
    assert client.get("/structures/revendications").status_code == 404


def test_buyers_need_no_verification_and_demo_facilitator_is_verified(app, make_user):
    make_user("acheteur@ville.fr")
    buyer = app.test_client()
    login(buyer, "acheteur@ville.fr")
    assert buyer.get("/verifier-mes-fournisseurs").status_code == 200
    from marche.demo import create_demo

    with app.test_request_context(base_url=app.config["BASE_URL"]):
        create_demo()
        db.session.commit()
        create_demo()  # idempotent
        db.session.commit()
        db.session.remove()
    facilitator = app.test_client()
    login(facilitator, "facilitateur@demo.marche.local", "Demo-marche-2026")
    assert facilitator.get("/structures/revendications").status_code == 200
    with app.app_context():
        statuses = dict(db.session.execute(select(Organisation.name, Organisation.verification_status)
                                           .where(Organisation.kind == "facilitator")).all())
        org = db.session.execute(select(Organisation).where(Organisation.name == "PLIE de la Métropole lilloise (démo)")
                                 ).scalar_one()
        assert org.verification_status == "verified" and org.verified_by_id is None
    # the second demo facilitator waits for the platform, so that the admin's list is not empty
    assert statuses == {"PLIE de la Métropole lilloise (démo)": "verified",
                        "Maison de l'emploi du Roubaisis (démo, à vérifier)": "pending"}
    waiting = app.test_client()
    login(waiting, "facilitateur.attente@demo.marche.local", "Demo-marche-2026")
    assert waiting.get("/structures/revendications").status_code == 404
