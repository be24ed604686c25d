"""The state-machine helper: allowed moves change the state and are audited; any other move is refused
in French and leaves the state and the audit log untouched. Claims and join requests use it."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marche.accounts import services as accounts
from marche.accounts.models import JoinRequest, JoinStatus, Organisation, User
from marche.core.errors import DomainError
from marche.core.models import AuditEntry
from marche.core.states import Move, StateMachine
from marche.extensions import db
from marche.suppliers import services as suppliers
from marche.suppliers.models import ClaimEvidence, ClaimStatus, Structure, StructureClaim
from tests.conftest import VALID_SIRETS

MACHINE = StateMachine("status", [
    Move(JoinStatus.PENDING, JoinStatus.APPROVED, "test.approved"),
    Move(JoinStatus.PENDING, JoinStatus.REJECTED, "test.rejected"),
], refused="Passage de « {current} » à « {target} » impossible.")


def audit_count(action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    return db.session.scalar(query.where(AuditEntry.action == action) if action else query)


@pytest.fixture
def join_request(app_ctx, make_user):
    make_user("admin@ville.fr", siret=VALID_SIRETS[30])
    make_user("nouveau@example.fr", kind="private_company", siret=VALID_SIRETS[31], name="Autre")
    user = accounts.find_user_by_email("nouveau@example.fr")
    organisation = accounts.find_organisation_by_siret(VALID_SIRETS[30])
    join = accounts.request_join(user, organisation, "Bonjour")
    db.session.commit()
    return join


def test_an_allowed_move_changes_the_state_and_is_audited(join_request):
    actor = accounts.find_user_by_email("admin@ville.fr")
    assert MACHINE.allowed(join_request, JoinStatus.APPROVED)
    assert MACHINE.targets(join_request) == [JoinStatus.APPROVED, JoinStatus.REJECTED]
    MACHINE.move(actor, join_request, JoinStatus.APPROVED, reason="test")
    db.session.commit()
    assert db.session.get(JoinRequest, join_request.id).status == JoinStatus.APPROVED
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "test.approved")).scalar_one()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (actor.id, "join_request", str(join_request.id))
    assert entry.details == {"reason": "test", "from": "pending", "to": "approved"}
    assert MACHINE.targets(join_request) == []


def test_any_other_move_is_refused_in_french_and_leaves_no_trace(join_request):
    actor = accounts.find_user_by_email("admin@ville.fr")
    MACHINE.move(actor, join_request, JoinStatus.REJECTED)
    db.session.commit()
    before = audit_count()
    with pytest.raises(DomainError) as refused:
        MACHINE.move(actor, join_request, JoinStatus.APPROVED)
    assert refused.value.message == "Passage de « Refusée » à « Acceptée » impossible."
    assert join_request.status == JoinStatus.REJECTED and audit_count() == before
    with pytest.raises(DomainError):
        MACHINE.check(join_request, "archived")  # a state the table does not know


def test_a_move_declared_twice_is_a_programming_error():
    with pytest.raises(ValueError, match=r"move \('a', 'b'\) declared twice"):
        StateMachine("status", [Move("a", "b", "x"), Move("a", "b", "y")], refused="Non.")


def test_join_requests_are_decided_once(join_request):
    actor = accounts.find_user_by_email("admin@ville.fr")
    accounts.decide_join(actor, join_request, approve=True)
    db.session.commit()
    assert audit_count("organisation.join_approved") == 1
    with pytest.raises(DomainError, match="déjà été traitée"):
        accounts.decide_join(actor, join_request, approve=False)
    db.session.rollback()
    assert db.session.get(JoinRequest, join_request.id).status == JoinStatus.APPROVED
    assert audit_count("organisation.join_rejected") == 0


def test_claims_are_decided_once_and_redirected_ones_never_here(app_ctx, make_user):
    make_user("admin@plateforme.fr", kind="platform", admin=True)
    make_user("nadia@collecterie.fr", kind="inclusive_structure", siret="75187049400026", name="La Collecterie")
    structure = Structure(siret="75187049400026", siren="751870494", name="La Collecterie", kinds=["ACI"],
                          city="Montreuil", commune_code="93048", department_code="93", region_code="11",
                          latitude=48.86, longitude=2.45, source="test", area_kind="radius", area_radius_km=30,
                          area_refs=[])
    db.session.add(structure)
    suppliers.refresh_derived(structure)
    organisation = accounts.find_organisation_by_siret("75187049400026")
    requester = accounts.find_user_by_email("nadia@collecterie.fr")
    claims = [StructureClaim(structure=structure, organisation_id=organisation.id, requested_by_id=requester.id,
                             status=status, evidence_kind=ClaimEvidence.EMAIL_DOMAIN)
              for status in (ClaimStatus.PENDING, ClaimStatus.REDIRECTED)]
    db.session.add_all(claims)
    db.session.commit()
    admin = db.session.execute(select(User).where(User.email == "admin@plateforme.fr")).scalar_one()
    pending, redirected = claims

    suppliers.decide_claim(admin, pending, approve=False, reason="Justificatif illisible.")
    db.session.commit()
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "structure.claim_rejected")).scalar_one()
    assert (entry.object_type, entry.details["claim_id"], entry.details["to"]) == ("structure", pending.id, "rejected")
    for claim in (pending, redirected):
        with pytest.raises(DomainError, match="déjà été traitée"):
            suppliers.decide_claim(admin, claim, approve=True)
        db.session.rollback()
    assert [db.session.get(StructureClaim, c.id).status for c in claims] == [ClaimStatus.REJECTED, ClaimStatus.REDIRECTED]
    assert db.session.get(Organisation, organisation.id) is not None
    assert db.session.get(Structure, structure.id).owner_organisation_id is None


def test_states_read_back_as_plain_strings_keep_their_french_labels():
    """The database gives back "rejected", not JoinStatus.REJECTED: the table still knows its label;
    a state it does not know is shown as it is."""
    read_back = JoinRequest(status="rejected")
    assert MACHINE.allowed(read_back, "approved") is False
    assert MACHINE.allowed(JoinRequest(status="pending"), "approved") is True
    assert MACHINE.targets(JoinRequest(status="pending")) == [JoinStatus.APPROVED, JoinStatus.REJECTED]
    with pytest.raises(DomainError) as refused:
        MACHINE.check(read_back, "archived")
    assert refused.value.message == "Passage de « Refusée » à « archived » impossible."
    assert (MACHINE.label("pending"), MACHINE.label(JoinStatus.APPROVED), MACHINE.label("archived")) == (
        "En attente", "Acceptée", "archived")


def test_a_label_comes_from_the_state_itself_when_the_table_does_not_name_it():
    other = StateMachine("status", [Move("draft", "sent", "test.sent")], refused="Non.")
    assert other.label(JoinStatus.APPROVED) == "Acceptée"  # a LabelledEnum carries its own label
    assert other.label("draft") == "draft"  # a plain string is its own label


def test_a_declared_move_cannot_be_altered_afterwards():
    import dataclasses

    move = Move(JoinStatus.PENDING, JoinStatus.APPROVED, "test.approved")
    with pytest.raises(dataclasses.FrozenInstanceError):
        move.target = JoinStatus.REJECTED


def test_the_audited_object_is_named_never_passed_by_position():
    """`audited` is keyword-only: a fourth positional argument is a mistake, not the audited object."""
    with pytest.raises(TypeError):
        MACHINE.move(None, JoinRequest(status="pending"), JoinStatus.APPROVED, JoinRequest())
