"""The objects the matrix asks about, made through the real services in the test database.

One of each kind, shared by every request of the run; the routes that destroy or consume what
they are given (remove a contact, retry an outbox row) get a fresh object per request from the
`new_*` methods, so that the order of the actors never changes an answer.
"""
from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from marche.accounts import services as accounts
from marche.accounts.models import Membership, MemberRole, Organisation, OrganisationKind, User
from marche.accounts.passwords import hash_password
from marche.core import documents
from marche.core.dates import today
from marche.core.models import OutboxMessage, OutboxStatus, utcnow
from marche.extensions import db
from marche.suppliers import favorites
from marche.suppliers import services as suppliers
from marche.suppliers.check import REPORT_DOCUMENT, CheckReport, Entry, check_entries, report_params
from marche.suppliers.models import FavoriteItem, Structure
from marche.tenders.models import Tender, TenderLot
from tests.conftest import VALID_SIRETS, _luhn_sirets

from .actors import ACTORS, PASSWORD, Actor, verify_facilitator

#: La Collecterie (Montreuil, 93): the claimed profile, owned by the `structure` actor's organisation
CLAIMED_SIRET = "75187049400026"
#: an unclaimed profile in the same department; the `structure_other` actor's organisation has its SIRET
UNCLAIMED_SIRET = VALID_SIRETS[40]
#: a profile the `structure` actor's organisation created itself (Montreuil, 93), waiting for verification
PENDING_SIRET = VALID_SIRETS[41]
#: valid-looking identifiers of nothing: what a hidden object must be indistinguishable from
MISSING_SIRET = VALID_SIRETS[45]
MISSING_ID = 987654321
#: the smallest files the upload checks accept (type read from the content)
PDF = b"%PDF-1.4\n% justificatif de la matrice\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
UNCLAIMED_NAME = "Atelier Non Revendiqué"
CONTACT_EMAIL = "nadia@collecterie.example.fr"
FAVORITE_LIST_NAME = "Liste de la matrice"
JOINER_EMAIL = next(actor.email for actor in ACTORS if actor.name == "no_organisation")
#: the shared tenders' place (Montreuil) and title (the facilitators' queue shows it to those who validate)
TENDER_PLACE = "commune:93048"
TENDER_TITLE = "Consultation de la matrice"
ORGANISATION_SIRETS = {"structure_a": CLAIMED_SIRET, "structure_b": UNCLAIMED_SIRET}


@dataclass
class World:
    app: object
    users: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    claimed_id: int = 0
    commitment_id: int = 0
    reference_id: int = 0
    membership_id: int = 0
    join_request_id: int = 0
    claim_id: int = 0
    favorite_list_id: int = 0
    document_id: int = 0
    #: buyer A's tenders (Montreuil, 93): a draft, and a published one
    tender_draft_id: int = 0
    tender_published_id: int = 0
    #: tenders of buyer A in Montreuil (93): the `facilitator` actor's territory (tender workflow)
    tender_ids: dict[str, int] = field(default_factory=dict)
    #: the `structure` actor's saved search (tender watch) and its feed token; the claimed profile's calendar token
    saved_search_id: int = 0
    feed_token: str = ""
    calendar_token: str = ""
    #: URL values of the shared grouping (`grouping()`)
    grouping_values: dict = field(default_factory=dict)
    #: URL values of the shared contract (`contract()`)
    contract_values: dict = field(default_factory=dict)

    # --- per-request objects for the routes that consume theirs ------------------------------

    def _context(self):
        return self.app.test_request_context(base_url=self.app.config["BASE_URL"])

    def new_saved_search(self) -> int:
        """A saved search of the `structure` actor (its deletion consumes it)."""
        from marche.tenders import watch

        with self._context():
            saved = watch.create(self.users["structure"], "Matrice", [("q", "nettoyage")])
            db.session.commit()
            saved_id = saved.id
            db.session.remove()
        return saved_id

    def _owner(self) -> User:
        return db.session.get(User, self.users["structure"])

    def new_child(self, kind: str) -> int:
        """A fresh commitment, reference or contact of the claimed profile (remove_child deletes it)."""
        with self._context():
            structure = db.session.get(Structure, self.claimed_id)
            if kind == "engagements":
                child = suppliers.add_env_commitment(self._owner(), structure, "emas", None, None, None)
            elif kind == "references":
                child = suppliers.add_reference(self._owner(), structure, "Client à retirer", None, 2024)
            else:
                child = suppliers.add_contact(self._owner(), structure, "Contact à retirer", None, None, None)
            db.session.commit()
            child_id = child.id
            db.session.remove()
        return child_id

    def favorite_item(self) -> int:
        """The claimed profile's line in buyer A's list, put back if a previous request removed it."""
        with self._context():
            item = db.session.execute(select(FavoriteItem).where(
                FavoriteItem.favorite_list_id == self.favorite_list_id,
                FavoriteItem.structure_id == self.claimed_id)).scalar_one_or_none()
            if item is None:
                item = FavoriteItem(favorite_list_id=self.favorite_list_id, structure_id=self.claimed_id)
                db.session.add(item)
                db.session.commit()
            item_id = item.id
            db.session.remove()
        return item_id

    def new_favorite_list(self) -> int:
        """A fresh list of buyer A's organisation (deleting a list consumes it)."""
        with self._context():
            buyer = db.session.get(User, self.users["public_buyer"])
            structure = db.session.get(Structure, self.claimed_id)
            favorite_list = favorites.add_to_list(buyer, structure, None, f"Liste à supprimer {next(_LIST_NUMBERS)}")
            db.session.commit()
            list_id = favorite_list.id
            db.session.remove()
        return list_id

    def new_pending_facilitator(self) -> int:
        """A facilitator organisation awaiting verification (accounts.verify decides it for good)."""
        with self._context():
            siret = next(_FRESH_SIRETS)
            user = User(email=f"facilitateur.{siret}@matrice.example.fr", password_hash=_password_hash(),
                        full_name="Facilitateur en attente", email_confirmed_at=utcnow())
            db.session.add(user)
            db.session.flush()
            organisation = accounts.create_organisation(user, accounts.OrganisationData(
                name=f"PLIE {siret}", kind=OrganisationKind.FACILITATOR, siret=siret, territories=["dep:93"]))
            db.session.commit()
            organisation_id = organisation.id
            db.session.remove()
        return organisation_id

    def new_tender(self, status: str = "draft", validated: bool = False) -> int:
        """A fresh tender of buyer A in Montreuil (93), complete enough to move (the workflow routes move theirs)."""
        from tests.tenders.factories import make_tender

        with self._context():
            tender_id = make_tender(self.organisations["buyer_a"], status=status, validated=validated,
                                    place_ref=TENDER_PLACE, title=f"{TENDER_TITLE} ({status})")
            db.session.remove()
        return tender_id

    def tender_lot(self, key: str = "closed") -> int:
        """The first lot of one of the shared tenders."""
        from marche.tenders.models import Tender

        with self._context():
            lot_id = db.session.get(Tender, self.tender_ids[key]).lots[0].id
            db.session.remove()
        return lot_id

    def new_dead_message(self) -> int:
        """An outbox row that failed for good, as the admin page lists them (retry re-queues it)."""
        with self._context():
            message = OutboxMessage(kind=suppliers.STRUCTURES_CHANGED, payload={"ids": []}, status=OutboxStatus.DEAD,
                                    attempts=5, last_error="RuntimeError: panne simulée")
            db.session.add(message)
            db.session.commit()
            message_id = message.id
            db.session.remove()
        return message_id


    def new_tender_lot(self) -> int:
        """A fresh second lot of buyer A's draft (remove_lot deletes it)."""
        from marche.tenders import drafting
        from marche.tenders.models import Tender

        with self._context():
            tender = db.session.get(Tender, self.tender_draft_id)
            lot_id = drafting.add_lot(db.session.get(User, self.users["public_buyer"]), tender,
                                      drafting.LotInput(title="Lot à retirer")).id
            db.session.commit()
            db.session.remove()
        return lot_id

    def draft_lot(self) -> int:
        """The first lot of buyer A's draft (drafting routes)."""
        from marche.tenders.models import Tender

        with self._context():
            lot_id = db.session.get(Tender, self.tender_draft_id).lots[0].id
            db.session.remove()
        return lot_id

    def new_tender_attachment(self, tender_id: int | None = None) -> int:
        """A fresh PDF of a tender (remove_attachment deletes it)."""
        from werkzeug.datastructures import FileStorage

        from marche.tenders import drafting
        from marche.tenders.models import Tender

        with self._context():
            tender = db.session.get(Tender, tender_id or self.tender_draft_id)
            attachment_id = drafting.add_attachment(db.session.get(User, self.users["public_buyer"]), tender,
                                                    FileStorage(io.BytesIO(PDF), filename="dce.pdf")).id
            db.session.commit()
            db.session.remove()
        return attachment_id


    def published_lot(self) -> int:
        """The first lot of buyer A's published tender (the funnel's routes)."""
        from marche.tenders.models import Tender

        with self._context():
            lot_id = db.session.get(Tender, self.tender_published_id).lots[0].id
            db.session.remove()
        return lot_id

    def unsubscribe_token(self, structure_id: int | None = None) -> str:
        """The signed one-click unsubscribe token of the claimed profile (a relay mail's link)."""
        from marche.tenders.relay import unsubscribe_token

        with self._context():
            return unsubscribe_token(structure_id or self.claimed_id)

    def new_grouping(self) -> dict:
        """A grouping on buyer A's published tender, forming: the claimed profile (the `structure` actor's) is its
        mandataire; structure B's organisation is invited (its admin, `structure_other`, reads the page and
        answers); an e-mail invitation, a subcontractor and a lot share. Rows written directly (the walk asks
        for many, while the rules allow one active grouping per structure and lot). URL values of each part."""
        from marche.groupings import tokens
        from marche.groupings.models import (Grouping, GroupingLot, GroupingMember, GroupingSubcontractor,
                                             MemberStatus)
        from marche.tenders.models import Tender

        with self._context():
            tender = db.session.get(Tender, self.tender_published_id)
            grouping = Grouping(tender=tender, kind="conjoint", status="forming")
            grouping.lots = [GroupingLot(lot=tender.lots[0], price=tender.lots[0].amount)]
            lead = GroupingMember(grouping=grouping, structure_id=self.claimed_id,
                                  organisation_id=self.organisations["structure_a"], status=MemberStatus.ACCEPTED)
            invited = GroupingMember(grouping=grouping, organisation_id=self.organisations["structure_b"],
                                     status=MemberStatus.INVITED)
            by_email = GroupingMember(grouping=grouping, invited_email="invite@matrice.example.fr",
                                      company_name="Entreprise invitée", status=MemberStatus.INVITED)
            db.session.add_all([grouping, lead, invited, by_email])
            db.session.flush()
            grouping.mandataire = lead
            row = GroupingSubcontractor(grouping=grouping, member=lead, name="Sous-traitant", siret=CLAIMED_SIRET,
                                        services="Élagage")
            db.session.add(row)
            db.session.commit()
            values = {"grouping_id": grouping.id, "grouping_lot_id": grouping.lots[0].id, "member_id": invited.id,
                      "row_id": row.id, "token": tokens.make_token(by_email)}
            db.session.remove()
        return values

    def grouping(self) -> dict:
        """The walk's shared grouping (made once), for the routes that consume nothing."""
        if not self.grouping_values:
            self.grouping_values = self.new_grouping()
        return self.grouping_values

        from datetime import date
        from decimal import Decimal

        from marche.insertion.models import Contract, HoursDeclaration, Participant

        with self._context():
            contract = Contract(title="Marché de la matrice", buyer_organisation_id=self.organisations["buyer_a"],
                                buyer_name="Acheteur A", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                                place_ref="commune:93048", holder_kind="structure", holder_structure_id=self.claimed_id,
                                holder_name="La Collecterie", holder_organisation_id=self.organisations["structure_a"],
                                hours_target=Decimal(500),
                                facilitator_organisation_id=self.organisations["facilitator_93"])
            person = Participant(keeper_organisation_id=self.organisations["facilitator_93"], code="MAT-1",
                                 birth_year=1990, sex="F")
            db.session.add_all([contract, person])
            db.session.flush()
            db.session.add(HoursDeclaration(contract_id=contract.id, participant_id=person.id, month=date(2026, 1, 1),
                                            mode="direct_hire", hours=Decimal(35), status="validated"))
            db.session.commit()
            self.contract_id = contract.id
            db.session.remove()
        return self.contract_id


    def new_contract(self) -> dict:
        """A contract of buyer A in Montreuil (93): the `facilitator` actor (verified, 93) keeps it, the claimed
        profile (the `structure` actor's organisation) holds it; a participant of the facilitator's records with a
        validated line (corrected, not consumed) and a line waiting for a decision. URL values of each part."""
        from datetime import date

        from marche.insertion import services as insertion
        from marche.insertion.access import declaring_organisation
        from marche.insertion.models import DeclarationImport

        with self._context():
            buyer = db.session.get(User, self.users["public_buyer"])
            contract = insertion.create_contract(buyer, buyer.organisation, insertion.ContractData(
                title="Marché de la matrice", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                place_ref=TENDER_PLACE, holder_siret=CLAIMED_SIRET, hours_target="500"))
            facilitator = db.session.get(User, self.users["facilitator"])
            person = insertion.create_participant(facilitator, contract.keeper_organisation_id,
                                                  insertion.ParticipantData(code=f"M-{contract.id}",
                                                                            birth_year=1990, sex="F"))
            owner = self._owner()
            validated = insertion.declare(owner, declaring_organisation(owner, contract), contract,
                                          insertion.LineInput(person, date(2026, 2, 1), "direct_hire", Decimal(10)))
            insertion.validate(facilitator, validated)
            record = DeclarationImport(contract_id=contract.id, filename="heures.csv", sha256="0" * 64,
                                       status="done", lines_total=0)
            db.session.add(record)
            db.session.commit()
            values = {"contract_id": contract.id, "participant_id": person.id, "validated_id": validated.id,
                      "import_id": record.id}
            db.session.remove()
        return values

    def contract(self) -> dict:
        """The walk's shared contract (made once)."""
        if not self.contract_values:
            self.contract_values = self.new_contract()
        return self.contract_values

    def new_declaration(self) -> int:
        """A line waiting for a decision on the shared contract, declared by its holder (deciding or withdrawing
        it consumes it)."""
        from datetime import date

        from marche.insertion import services as insertion
        from marche.insertion.models import Contract, Participant

        values = self.contract()
        with self._context():
            contract = db.session.get(Contract, values["contract_id"])
            owner = self._owner()
            line = insertion.declare(owner, contract.holder_organisation_id, contract, insertion.LineInput(
                db.session.get(Participant, values["participant_id"]), date(2026, 3, 1), "direct_hire",
                Decimal("0.5")))
            db.session.commit()
            line_id = line.id
            db.session.remove()
        return line_id


_PASSWORD_HASH: list[str] = []
_LIST_NUMBERS = itertools.count(1)
#: SIRETs no other test uses, for the organisations made during the walk
_FRESH_SIRETS = itertools.islice(_luhn_sirets(), 60, None)


def _password_hash() -> str:
    """One argon2 hash shared by every account of the matrix: hashing twelve times would cost
    seconds on a busy machine and proves nothing about access (the login tests cover passwords)."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


def _make_user(actor: Actor, sirets) -> int | None:
    """The actor's confirmed account and, for a role, its organisation made by the real service."""
    if actor.name == "anonymous":
        return None
    user = User(email=actor.email, password_hash=_password_hash(), full_name=f"Acteur {actor.name}",
                email_confirmed_at=utcnow(), is_platform_admin=actor.kind == "platform", active=actor.active)
    db.session.add(user)
    db.session.flush()
    if actor.kind not in (None, "platform") and actor.org_admin:
        accounts.create_organisation(user, accounts.OrganisationData(
            name=f"Organisation {actor.organisation}", kind=actor.kind,
            siret=ORGANISATION_SIRETS.get(actor.organisation) or next(sirets),
            buyer_category="local_authority" if actor.kind == OrganisationKind.PUBLIC_BUYER else None,
            territories=list(actor.territories)))
    db.session.commit()
    return user.id


def build_world(app, make_structure) -> World:
    """Every actor's account and organisation, then one object of each kind."""
    world = World(app=app)
    sirets = iter(VALID_SIRETS[20:40])
    with world._context():
        for actor in ACTORS:
            if actor.organisation in world.organisations and not actor.org_admin:
                # a plain member of an organisation an earlier actor created
                user = db.session.get(User, _make_user(actor, sirets))
                membership = Membership(user=user, organisation_id=world.organisations[actor.organisation],
                                        role=MemberRole.MEMBER)
                db.session.add(membership)
                db.session.commit()
                world.users[actor.name] = user.id
                world.membership_id = world.membership_id or membership.id  # the first plain member's
                continue
            user_id = _make_user(actor, sirets)
            if user_id is None:
                continue
            world.users[actor.name] = user_id
            if actor.organisation:
                organisation = db.session.get(User, user_id).organisation
                if actor.kind == "facilitator":
                    verify_facilitator(organisation, actor.verified)
                world.organisations[actor.organisation] = organisation.id
                db.session.commit()
        db.session.remove()

    world.claimed_id = make_structure(siret=CLAIMED_SIRET, name="La Collecterie")
    unclaimed_id = make_structure(siret=UNCLAIMED_SIRET, name=UNCLAIMED_NAME)
    pending_id = make_structure(siret=PENDING_SIRET, name="Fiche en attente", kinds=("EA",),
                                publication="pending")

    with world._context():
        owner = world._owner()
        claimed = db.session.get(Structure, world.claimed_id)
        claimed.owner_organisation_id, claimed.claimed_at = world.organisations["structure_a"], utcnow()
        pending = db.session.get(Structure, pending_id)
        pending.owner_organisation_id, pending.claimed_at = world.organisations["structure_a"], utcnow()
        world.commitment_id = suppliers.add_env_commitment(owner, claimed, "iso14001", None, None, PDF).id
        world.reference_id = suppliers.add_reference(owner, claimed, "Ville de Montreuil", "Collecte", 2025, PNG).id
        suppliers.add_contact(owner, claimed, "Nadia Haddad", "Directrice", CONTACT_EMAIL, None)
        suppliers.set_logo(owner, claimed, PNG)
        # structure B asks for the unclaimed profile (its SIRET matches): a facilitator of 93 decides
        requester = db.session.get(User, world.users["structure_other"])
        world.claim_id = suppliers.request_claim(requester, db.session.get(Structure, unclaimed_id),
                                                 suppliers.ClaimProof(kind="document", document=PDF)).id
        # the account without organisation asks to join buyer A: buyer A's admin decides
        buyer_a = db.session.get(Organisation, world.organisations["buyer_a"])
        joiner = db.session.get(User, world.users["no_organisation"])
        world.join_request_id = accounts.request_join(joiner, buyer_a).id
        buyer = db.session.get(User, world.users["public_buyer"])
        world.favorite_list_id = favorites.add_to_list(buyer, claimed, None, FAVORITE_LIST_NAME).id
        # buyer B has a list of its own, so "another organisation's list" is not an empty case
        favorites.add_to_list(db.session.get(User, world.users["public_buyer_other"]), claimed, None, "Liste B")
        db.session.commit()
        db.session.remove()
    world.new_dead_message()  # the admin page then has a row to show
    # tender workflow: a draft, a submitted one (the queue lists it), a closed one (its lots to award)
    for status in ("draft", "submitted", "closed"):
        world.tender_ids[status] = world.new_tender(status)
    with world._context():
        # buyer A's supplier check as a stored PDF (rendered by the outbox, inline without Redis)
        report = CheckReport(lines=check_entries([Entry(2, CLAIMED_SIRET)]))
        world.document_id = documents.request_document(world.users["public_buyer"], REPORT_DOCUMENT,
                                                 report_params(report, today()), "verification.pdf").id
        db.session.commit()
        db.session.remove()
    with world._context():
        # buyer A's tenders in Montreuil (93): a draft, and a published one
        from marche.tenders import drafting
        from marche.tenders.models import TenderStatus

        buyer = db.session.get(User, world.users["public_buyer"])
        organisation = db.session.get(Organisation, world.organisations["buyer_a"])
        draft = drafting.create_tender(buyer, organisation, drafting.TenderInput(
            title="Consultation brouillon", place_ref="commune:93048", amount="300000"))
        published = drafting.create_tender(buyer, organisation, drafting.TenderInput(
            title="Consultation publiée", place_ref="commune:93048", amount="300000"))
        published.status, published.published_at = TenderStatus.PUBLISHED, utcnow()
        db.session.commit()
        world.tender_draft_id, world.tender_published_id = draft.id, published.id
        db.session.remove()
    world.new_tender_attachment()
    world.new_tender_attachment(world.tender_published_id)
    # the tender watch: a saved search of the structure's member, and its profile's calendar token
    from marche.tenders import watch
    from marche.tenders.models import SavedSearch

    world.saved_search_id = world.new_saved_search()
    with world._context():
        world.feed_token = db.session.get(SavedSearch, world.saved_search_id).feed_token
        world.calendar_token = watch.calendar_token(world.claimed_id)
        db.session.commit()
        db.session.remove()
    return world
