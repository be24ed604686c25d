"""« Contacter la structure »: the rules of a message (both sides of each length), the sending limits
(the 5th message of the hour and the 6th, the 20th of the day and the 21st, windows included), the two
mails received over real SMTP (structure, with Reply-To, and the sender's copy), plain text only, no
header injection, and the page (404, login, a 3 MB body refused in French with the text kept)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marche.accounts.models import OrganisationKind, User
from marche.core.errors import DomainError
from marche.core.models import utcnow
from marche.extensions import db
from marche.suppliers import contact
from marche.suppliers.models import ContactMessage, Structure, StructureContact
from tests.conftest import csrf_token, login, page_text, submit

SIRET = "75187049400026"
CONTACT = "nadia@collecterie.example.fr"
SENDER = "acheteuse@ville.example.fr"
URL = f"/structures/{SIRET}/contacter"


@pytest.fixture
def structure_id(make_structure, app):
    structure_id = make_structure(siret=SIRET, name="La Collecterie")
    with app.app_context():
        db.session.add(StructureContact(structure_id=structure_id, name="Sans e-mail", email=None))
        db.session.add(StructureContact(structure_id=structure_id, name="Nadia Haddad", email=CONTACT))
        db.session.commit()
    return structure_id


@pytest.fixture
def sender_id(make_user):
    return make_user(SENDER, kind=OrganisationKind.PUBLIC_BUYER, name="Ville de Lille")


def _send(subject="Demande de devis", body="Bonjour,\npouvez-vous nous envoyer un devis ?"):
    user = db.session.execute(select(User).where(User.email == SENDER)).scalar_one()
    structure = db.session.execute(select(Structure).where(Structure.siret == SIRET)).scalar_one()
    row = contact.send_message(user, structure, subject, body)
    db.session.commit()
    return row


def _sent_before(user_id: int, structure_id: int, *ages: timedelta) -> None:
    """Messages this user sent that long ago (the limits count what is stored)."""
    now = utcnow()
    for age in ages:
        db.session.add(ContactMessage(sender_id=user_id, sender_email=SENDER, structure_id=structure_id,
                                      recipient_email=CONTACT, subject="ancien", created_at=now - age))
    db.session.commit()


# --- the message's rules ----------------------------------------------------------------------

def test_lengths_on_both_sides():
    assert contact.clean_message("  Devis   urgent ", "  texte  \n") == contact.Message("Devis urgent", "texte")
    assert contact.clean_message("a" * 150, "b" * 5000).subject == "a" * 150
    for subject, body, field, words in [
        ("a" * 151, "ok", "subject", "151 caractères : 150 au plus"),
        ("", "ok", "subject", "Donnez un objet"),
        ("   ", "ok", "subject", "Donnez un objet"),
        ("ok", "b" * 5001, "body", "5\u202f001 caractères : 5\u202f000 au plus"),
        ("ok", " \n\t  \n ", "body", "il est vide"),
        ("ok", None, "body", "il est vide"),
    ]:
        with pytest.raises(DomainError) as error:
            contact.clean_message(subject, body)
        assert error.value.field == field and words in error.value.message, (subject[:5], error.value.message)


@pytest.mark.parametrize("subject", ["Devis\r\nBcc: victime@example.fr", "Devis\nX", "Devis\tX", "Devis\u2028X",
                                     "Devis\x00"])
def test_a_subject_is_one_line(subject):
    with pytest.raises(DomainError, match="une seule ligne") as error:
        contact.clean_message(subject, "texte")
    assert error.value.field == "subject"


def test_recipient_is_the_first_contact_with_an_email(app_ctx, structure_id):
    structure = db.session.get(Structure, structure_id)
    assert contact.contact_email(structure) == CONTACT
    for c in list(structure.contacts):
        if c.email:
            db.session.delete(c)
    db.session.flush()
    db.session.expire(structure)
    assert contact.contact_email(structure) is None


# --- the limits: 5 an hour, 20 a day --------------------------------------------------------------

def test_hour_limit_both_sides(app_ctx, structure_id, sender_id, mailbox):
    hour = contact.CONTACT_LIMITS["hour"][1]
    assert hour == 5
    # one message just outside the hour does not count; four inside do
    _sent_before(sender_id, structure_id, timedelta(hours=1, seconds=5), *[timedelta(minutes=m) for m in (50, 40, 30, 20)])
    _send()  # the 5th of the hour: allowed
    with pytest.raises(DomainError, match="déjà envoyé 5 messages dans l'heure") as error:
        _send()  # the 6th: refused
    db.session.rollback()
    # the message allowed again when the oldest of the hour (50 min ago) leaves the window, in Paris time
    assert "à partir du" in error.value.message
    name, until = contact.blocking_limit(db.session.get(User, sender_id))
    oldest = db.session.scalar(select(func.min(ContactMessage.created_at)).where(
        ContactMessage.created_at > utcnow() - timedelta(hours=1)))
    assert name == "hour" and until == oldest + timedelta(hours=1)
    assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 6  # the refused one not stored


def test_day_limit_both_sides(app_ctx, structure_id, sender_id, mailbox):
    day = contact.CONTACT_LIMITS["day"][1]
    assert day == 20
    # 19 messages spread over the last day (none in the last hour), one just outside the day
    _sent_before(sender_id, structure_id, timedelta(days=1, seconds=5),
                 *[timedelta(hours=2, minutes=m) for m in range(19)])
    _send()  # the 20th of the day
    with pytest.raises(DomainError, match="déjà envoyé 20 messages en 24 heures"):
        _send()
    db.session.rollback()


def test_limits_count_each_sender_alone(app_ctx, structure_id, sender_id, make_user, mailbox):
    other = make_user("autre@example.fr")
    _sent_before(other, structure_id, *[timedelta(minutes=1)] * 5)
    _send()  # the other sender's five do not count for this one
    assert contact.blocking_limit(db.session.get(User, other))[0] == "hour"


# --- the mails, over real SMTP -----------------------------------------------------------------

def test_structure_and_sender_receive_plain_text(app_ctx, structure_id, sender_id, mailbox):
    body = "Bonjour,\n<b>gras</b> <script>alert(1)</script> & <a href='http://x'>lien</a>\nMerci"
    row = _send("Devis <i>ménage</i>", body)
    assert (row.sender_email, row.recipient_email, row.subject) == (SENDER, CONTACT, "Devis <i>ménage</i>")
    assert row.structure_id == structure_id and row.created_at is not None
    to_structure = mailbox.last_to(CONTACT)
    assert to_structure["Reply-To"] == SENDER
    assert to_structure["Subject"] == "Message via Marché inclusif : Devis <i>ménage</i>"
    text = mailbox.body(to_structure).replace("\r\n", "\n")
    assert body in text and "Ville de Lille" in text and SENDER in text
    html = to_structure.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html and "<b>" not in html and "&lt;b&gt;gras&lt;/b&gt;" in html
    copy = mailbox.last_to(SENDER)
    assert copy["Subject"].startswith("Copie de votre message à La Collecterie")
    assert body in mailbox.body(copy).replace("\r\n", "\n") and copy["Reply-To"] is None
    assert len(mailbox) == 2


def test_structure_without_email_is_refused(app_ctx, make_structure, sender_id):
    make_structure(siret="44229377500019", name="Sans adresse")
    structure = db.session.execute(select(Structure).where(Structure.siret == "44229377500019")).scalar_one()
    with pytest.raises(DomainError, match="pas d'adresse e-mail de contact"):
        contact.send_message(db.session.get(User, sender_id), structure, "Objet", "Texte")


# --- the page ---------------------------------------------------------------------------------

def test_page_access_and_profile_button(client, structure_id, sender_id, make_structure):
    response = client.get(URL)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    profile = page_text(client.get(f"/structures/{SIRET}"))
    assert "pour contacter la structure" in profile and URL not in profile
    login(client, SENDER)
    assert URL in page_text(client.get(f"/structures/{SIRET}"))
    assert client.get("/structures/44229377500019/contacter").status_code == 404
    make_structure(siret="44229377500019", name="Sans adresse")
    profile = page_text(client.get("/structures/44229377500019"))
    assert "pas encore d'adresse e-mail de contact" in profile and "/contacter" not in profile
    page = page_text(client.get("/structures/44229377500019/contacter"))
    assert "le message ne peut pas lui être envoyé" in page and 'name="body"' not in page


def test_page_sends_and_refuses_in_french_keeping_the_text(client, app, structure_id, sender_id, mailbox):
    login(client, SENDER)
    huge = "Lorem ipsum dolor sit amet. " * 112_000  # a 3 MB body
    assert len(huge.encode()) > 3_000_000
    response = submit(client, URL, {"subject": "Devis", "body": huge})
    assert response.status_code == 400
    text = page_text(response)
    typed = f"{len(huge.strip()):,}".replace(",", "\u202f")
    assert f"Le message fait {typed} caractères : 5\u202f000 au plus." in text
    assert huge.strip() in text  # what was typed is kept
    response = submit(client, URL, {"subject": "Devis", "body": "   \n  "})
    assert response.status_code == 400 and "Écrivez votre message : il est vide." in page_text(response)
    response = submit(client, URL, {"subject": "Devis\r\nBcc: x@example.fr", "body": "texte gardé"})
    text = page_text(response)
    assert "une seule ligne" in text and "texte gardé" in text
    assert not mailbox
    response = submit(client, URL, {"subject": "  Devis  ", "body": "Bonjour"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/structures/{SIRET}")
    assert mailbox.last_to(CONTACT)["Subject"] == "Message via Marché inclusif : Devis"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1


def test_page_shows_the_limit(client, app, structure_id, sender_id, mailbox):
    with app.app_context():
        _sent_before(sender_id, structure_id, *[timedelta(minutes=5)] * 5)
    login(client, SENDER)
    assert "déjà envoyé 5 messages dans l'heure" in page_text(client.get(URL))
    response = submit(client, URL, {"subject": "Devis", "body": "Bonjour"})
    assert response.status_code == 400 and "déjà envoyé 5 messages dans l'heure" in page_text(response)
    assert not mailbox


def test_records_are_kept_a_year(app_ctx, structure_id, sender_id):
    from marche.suppliers.tasks import purge_contact_messages

    assert contact.RETENTION == timedelta(days=365)
    _sent_before(sender_id, structure_id, timedelta(days=365, minutes=1), timedelta(days=364, hours=23))
    assert purge_contact_messages() == 1
    ages = db.session.execute(select(ContactMessage.created_at)).scalars().all()
    assert len(ages) == 1 and utcnow() - ages[0] < timedelta(days=365)
