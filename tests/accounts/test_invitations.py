"""Invitations need consent: nobody joins an organisation without accepting a signed, expiring link."""
import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from marche.accounts.models import Invitation, Membership, Organisation
from marche.core.models import AuditEntry
from marche.extensions import db
from tests.conftest import VALID_SIRETS, login, page_text, submit
from tests.suppliers.conftest import make_structure  # noqa: F401  (the structures fixture, reused)

COLLECTERIE = "75187049400026"
SENT = "Une invitation a été envoyée à cette adresse."


def owner_of_collecterie(app, make_user, make_structure):
    make_structure()
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret=COLLECTERIE, name="La Collecterie")
    with app.app_context():
        db.session.execute(db.text("update structure set owner_organisation_id = (select id from organisation "
                                   "where siret = :s)"), {"s": COLLECTERIE})
        db.session.commit()
    owner = app.test_client()
    login(owner, "nadia@collecterie.fr")
    return owner


def invite_colleague(owner, email):
    return submit(owner, f"/structures/{COLLECTERIE}/inviter", {"invite-email": email},
                  form_url=f"/structures/{COLLECTERIE}/modifier", follow_redirects=True)


def members(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership).join(Organisation)
                                 .where(Organisation.siret == COLLECTERIE))


def test_existing_account_is_invited_not_added_and_answer_reveals_nothing(app, make_user, make_structure, mailbox):
    owner = owner_of_collecterie(app, make_user, make_structure)
    make_user("existe@ailleurs.fr", kind="private_company", siret=VALID_SIRETS[46], name="Ailleurs")
    known = invite_colleague(owner, "existe@ailleurs.fr")
    unknown = invite_colleague(owner, "inconnu@nulle-part.fr")
    assert SENT in page_text(known) and SENT in page_text(unknown)
    assert known.status_code == unknown.status_code == 200
    # same mail subject for both: the inviter's outcome says nothing about accounts
    assert mailbox.last_to("existe@ailleurs.fr")["Subject"] == mailbox.last_to("inconnu@nulle-part.fr")["Subject"]
    assert members(app) == 1  # nobody added without consent

    link = mailbox.link_to("existe@ailleurs.fr", "/invitations/").replace("http://localhost", "")
    anonymous = app.test_client()
    assert "connectez-vous avec le compte de existe@ailleurs.fr" in page_text(anonymous.get(link))
    intruder = app.test_client()
    make_user("intrus@ailleurs.fr", kind="private_company", siret=VALID_SIRETS[47], name="Intrus")
    login(intruder, "intrus@ailleurs.fr")
    refused = submit(intruder, link, {"decision": "accept"}, follow_redirects=True)
    assert "adressée à une autre adresse e-mail" in page_text(refused)
    assert members(app) == 1

    invitee = app.test_client()
    login(invitee, "existe@ailleurs.fr")
    page = page_text(invitee.get(link))
    assert "Camille Test vous invite" in page and "gérer la fiche « La Collecterie »" in page
    assert submit(invitee, link, {"decision": "accept"}).status_code == 302
    assert members(app) == 2
    assert invitee.get(f"/structures/{COLLECTERIE}/modifier").status_code == 200
    twice = submit(invitee, link, {"decision": "decline"}, follow_redirects=True)
    assert "déjà reçu une réponse" in page_text(twice) and members(app) == 2
    with app.app_context():
        actions = db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions.count("organisation.invitation_sent") == 2
        assert "structure.colleague_invited" in actions and "organisation.invitation_accepted" in actions


def test_declined_invitation_adds_nobody(app, make_user, make_structure, mailbox):
    owner = owner_of_collecterie(app, make_user, make_structure)
    make_user("existe@ailleurs.fr", kind="private_company", siret=VALID_SIRETS[46], name="Ailleurs")
    invite_colleague(owner, "Existe@Ailleurs.fr")
    link = mailbox.link_to("Existe@Ailleurs.fr", "/invitations/").replace("http://localhost", "")
    invitee = app.test_client()
    login(invitee, "existe@ailleurs.fr")  # the address matches whatever its case
    assert submit(invitee, link, {"decision": "decline"}).status_code == 302
    assert members(app) == 1
    with app.app_context():
        assert db.session.execute(select(Invitation.status)).scalar_one() == "declined"
        assert db.session.execute(select(AuditEntry).where(
            AuditEntry.action == "organisation.invitation_declined")).scalar_one()


def test_link_is_signed_and_expires(app, make_user, make_structure, mailbox):
    owner = owner_of_collecterie(app, make_user, make_structure)
    invite_colleague(owner, "existe@ailleurs.fr")
    link = mailbox.link_to("existe@ailleurs.fr", "/invitations/").replace("http://localhost", "")
    assert app.test_client().get(link).status_code == 200
    assert app.test_client().get(link[:-3] + "abc").status_code == 400

    class Backdated(TimestampSigner):
        """Signs with our key as if `age` seconds ago (itsdangerous reads the time from the token)."""
        age = 0

        def get_timestamp(self):
            return int(time.time()) - Backdated.age

    with app.app_context():
        invitation_id = db.session.execute(select(Invitation.id)).scalar_one()
    max_age = app.config["INVITATION_MAX_AGE"]
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="marche-invitation", signer=Backdated)
    data = {"iid": invitation_id, "email": "existe@ailleurs.fr"}
    Backdated.age = max_age - 60
    assert app.test_client().get(f"/invitations/{serializer.dumps(data)}").status_code == 200
    Backdated.age = max_age + 60
    expired = app.test_client().get(f"/invitations/{serializer.dumps(data)}")
    assert expired.status_code == 400 and "a expiré" in page_text(expired)


def test_organisation_admin_invites_from_the_organisation_page(app, make_user, mailbox):
    make_user("admin@ville.fr", siret=VALID_SIRETS[48])
    make_user("membre@ville.fr", siret=VALID_SIRETS[49], name="Autre")
    with app.app_context():
        org_id = db.session.execute(select(Organisation.id).where(Organisation.siret == VALID_SIRETS[48])).scalar_one()
    admin = app.test_client()
    login(admin, "admin@ville.fr")
    response = submit(admin, f"/organisations/{org_id}/inviter", {"invite-email": "membre@ville.fr"},
                      form_url=f"/organisations/{org_id}", follow_redirects=True)
    assert SENT in page_text(response)
    invitee = app.test_client()
    login(invitee, "membre@ville.fr")
    assert invitee.get(f"/organisations/{org_id}").status_code == 404  # not a member before accepting
    # a non-admin cannot invite into someone else's organisation
    assert submit(invitee, f"/organisations/{org_id}/inviter", {"invite-email": "x@y.fr"},
                  form_url="/compte").status_code == 404
    link = mailbox.link_to("membre@ville.fr", "/invitations/").replace("http://localhost", "")
    assert submit(invitee, link, {"decision": "accept"}).status_code == 302
    assert invitee.get(f"/organisations/{org_id}").status_code == 200
    again = submit(admin, f"/organisations/{org_id}/inviter", {"invite-email": "membre@ville.fr"},
                   form_url=f"/organisations/{org_id}", follow_redirects=True)
    assert "déjà membre" in page_text(again)
