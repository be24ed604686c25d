"""The life of a tender: one table of allowed moves (TENDER_STATES), each audited, and the services that make
them with their guards: submit (refused while the legal check has a blocking line), validate or send back with a
comment, publish (only once validated), close when the answers deadline passes, cancel with a reason, and
conclude once every lot is awarded or declared unsuccessful (`tenders.award`). Also the buyer's request for a
facilitator's assistance and the comments thread.

Services take the acting user (None for the worker), change the session, flush, and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ARRAY, String, cast, select

from ..accounts.models import Organisation, OrganisationKind, User, VerificationStatus
from ..clauses import legal, rules
from ..clauses.spec import ClauseSpec, ClauseSpecError
from ..core import audit
from ..core.errors import DomainError
from ..core.mail import queue_mail
from ..core.urls import external_url
from ..core.models import utcnow
from ..core.states import Move, StateMachine
from ..extensions import db
from . import relay, workflow_access
from .models import CommentKind, LotStatus, Tender, TenderComment, TenderStatus

S = TenderStatus
#: every move a tender may make; anything else is refused with the message below and changes nothing
TENDER_STATES = StateMachine("status", [
    Move(S.DRAFT, S.SUBMITTED, "tender.submitted"),
    Move(S.DRAFT, S.CANCELLED, "tender.cancelled"),
    Move(S.SUBMITTED, S.DRAFT, "tender.sent_back"),
    Move(S.SUBMITTED, S.PUBLISHED, "tender.published"),
    Move(S.SUBMITTED, S.CANCELLED, "tender.cancelled"),
    Move(S.PUBLISHED, S.CLOSED, "tender.closed"),
    Move(S.PUBLISHED, S.CANCELLED, "tender.cancelled"),
    Move(S.CLOSED, S.AWARDED, "tender.awarded"),
    Move(S.CLOSED, S.UNSUCCESSFUL, "tender.unsuccessful"),
    Move(S.CLOSED, S.CANCELLED, "tender.cancelled"),
], refused="Cette consultation est « {current} » : elle ne peut pas passer à l'état « {target} ».")

#: comments, send-back and cancellation reasons: long enough for an explanation, not for a pasted document
MAX_TEXT = 4000
#: states in which the buyer may still ask a facilitator to assist
ASSIST_STATES = (S.DRAFT, S.SUBMITTED)


# --- the legal check and what else a submission needs -----------------------------------------------

def buyer_category(organisation: Organisation) -> str:
    """The legal check's category: a public buyer's own, "private" for a company."""
    if organisation.kind == OrganisationKind.PUBLIC_BUYER and organisation.buyer_category:
        return organisation.buyer_category
    return rules.PRIVATE


def legal_check(tender: Tender) -> legal.LegalCheck:
    """The legal check of the tender as stored (facts of the tender, clauses of each lot)."""
    facts = legal.TenderFacts(buyer_category=buyer_category(tender.organisation), nature=tender.nature,
                              amount=tender.amount, launch_date=tender.launch_date, defence=tender.defence,
                              specific_services=tender.specific_services, procedure=tender.procedure)
    lots = [ClauseSpec.from_json(lot.clauses).lot_clauses(f"Lot {lot.position} « {lot.title} »")
            for lot in tender.lots]
    return legal.check(facts, lots)


def missing_for_submission(tender: Tender, now: datetime | None = None) -> list[str]:
    """What stops the tender from being submitted or published, in French: the facts the legal check and the
    validators need, then each blocking legal line with its article. Empty when nothing does."""
    now = now or utcnow()
    problems = []
    if tender.amount is None:
        problems.append("Indiquez le montant estimé HT de la consultation.")
    if tender.launch_date is None:
        problems.append("Indiquez la date de lancement de la consultation.")
    if not tender.place_ref:
        problems.append("Indiquez le lieu d'exécution (il désigne le facilitateur qui valide).")
    if tender.answers_deadline is None:
        problems.append("Indiquez la date limite de réponse.")
    elif tender.answers_deadline <= now:
        problems.append("La date limite de réponse est passée : reportez-la avant d'envoyer la consultation.")
    if not tender.lots:
        problems.append("La consultation n'a aucun lot.")
    if tender.amount is None or tender.launch_date is None:
        return problems
    try:
        check = legal_check(tender)
    except (ClauseSpecError, legal.LegalCheckError) as error:
        return problems + [error.message]
    return problems + [f"Ligne légale non respectée : {line}" for line in check.blocking]


def _refuse_if_missing(tender: Tender, what: str, now: datetime | None = None) -> None:
    problems = missing_for_submission(tender, now)
    if problems:
        raise DomainError(f"{what} impossible : " + " ".join(problems))


def _text(value: str | None, field_name: str, label: str, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"{label} : ce champ est obligatoire.", field_name)
    if len(text) > MAX_TEXT:
        raise DomainError(f"{label} : {MAX_TEXT} caractères au plus ({len(text)}).", field_name)
    return text


def _comment(actor: User | None, tender: Tender, kind: str, body: str,
             organisation: Organisation | None = None) -> TenderComment:
    comment = TenderComment(tender=tender, author_id=getattr(actor, "id", None),
                            organisation_id=organisation.id if organisation else None, kind=kind, body=body)
    db.session.add(comment)
    return comment


def _acting_organisation(actor: User, tender: Tender) -> Organisation | None:
    """In whose name the actor writes on this tender: the buyer, the assisting facilitator, a validator."""
    for membership in actor.memberships:
        if membership.organisation_id == tender.organisation_id:
            return membership.organisation
    for membership in actor.memberships:
        if membership.organisation_id == tender.assisting_organisation_id:
            return membership.organisation
    validators = workflow_access.validating_organisations(actor, tender)
    return validators[0] if validators else None


# --- who hears of a move ---------------------------------------------------------------------------------

def validators_of(tender: Tender) -> list[User]:
    """Active members of the verified facilitator organisations covering the place (the platform admins when
    none does): they are told a tender waits for them. Never a member of the buyer organisation."""
    buyers = {m.user_id for m in tender.organisation.memberships}
    users = [m.user for org in assist_candidates(tender) for m in org.memberships]
    if not users:
        users = list(db.session.execute(select(User).where(User.is_platform_admin.is_(True))).scalars())
    return [u for u in users if u.active and u.id not in buyers]


def _notify(users: list[User], event: str, tender: Tender, **context) -> None:
    subjects = {"submitted": f"Consultation à valider : {tender.title}",
                "validated": f"Consultation validée : {tender.title}",
                "sent_back": f"Consultation renvoyée : {tender.title}",
                "assist": f"Demande d'accompagnement : {tender.title}"}
    link = external_url("tender_workflow.show", tender_id=tender.id)
    for email in sorted({u.email.lower(): u.email for u in users if u.active}.values()):
        queue_mail(email, subjects[event], "tender_workflow", event=event, tender=tender, link=link, **context)


def _buyers(tender: Tender) -> list[User]:
    return [m.user for m in tender.organisation.memberships]


def _signature(actor: User, tender: Tender) -> str:
    organisation = _acting_organisation(actor, tender)
    return f"{actor.full_name} ({organisation.name})" if organisation else actor.full_name


# --- the moves -----------------------------------------------------------------------------------------

def submit(actor: User, tender: Tender, now: datetime | None = None) -> None:
    """The buyer sends the draft for validation; refused while something is missing or a legal line blocks."""
    TENDER_STATES.check(tender, S.SUBMITTED)
    _refuse_if_missing(tender, "Envoi pour validation", now)
    TENDER_STATES.move(actor, tender, S.SUBMITTED)
    tender.submitted_at = now or utcnow()
    tender.validated_at, tender.validated_by_id = None, None
    db.session.flush()
    _notify(validators_of(tender), "submitted", tender)


def validate(actor: User, tender: Tender, comment: str | None = None) -> None:
    """A validator approves the submitted tender (it stays « en attente » until the buyer publishes it)."""
    if tender.status != S.SUBMITTED:
        raise DomainError(f"Seule une consultation en attente de validation peut être validée "
                          f"(celle-ci est « {TENDER_STATES.label(tender.status)} »).")
    if tender.validated_at is not None:
        raise DomainError("Cette consultation est déjà validée.")
    body = _text(comment, "note", "Commentaire", required=False) or "Consultation validée."
    tender.validated_at, tender.validated_by_id = utcnow(), actor.id
    _comment(actor, tender, CommentKind.VALIDATED, body, _acting_organisation(actor, tender))
    audit.record(actor, "tender.validated", tender, capacity=_capacity(actor, tender))
    db.session.flush()
    _notify(_buyers(tender), "validated", tender, by=_signature(actor, tender), note=(comment or "").strip())


def send_back(actor: User, tender: Tender, comment: str | None) -> None:
    """A validator returns the tender to the buyer with what to change; it is a draft again."""
    TENDER_STATES.check(tender, S.DRAFT)
    body = _text(comment, "comment", "Ce qu'il faut changer")
    TENDER_STATES.move(actor, tender, S.DRAFT, capacity=_capacity(actor, tender))
    tender.validated_at, tender.validated_by_id = None, None
    _comment(actor, tender, CommentKind.SENT_BACK, body, _acting_organisation(actor, tender))
    db.session.flush()
    _notify(_buyers(tender), "sent_back", tender, by=_signature(actor, tender), note=body)


def publish(actor: User, tender: Tender, now: datetime | None = None) -> None:
    """The buyer publishes a validated tender; the legal check and the deadline are read once more."""
    TENDER_STATES.check(tender, S.PUBLISHED)
    if tender.validated_at is None:
        raise DomainError("Publication impossible : la consultation n'est pas encore validée par un facilitateur "
                          "de son territoire ou par la plateforme.")
    _refuse_if_missing(tender, "Publication", now)
    TENDER_STATES.move(actor, tender, S.PUBLISHED)
    tender.published_at = now or utcnow()
    db.session.flush()
    relay.request_relay(tender)  # the matching structures are mailed by the outbox, after the commit


def cancel(actor: User, tender: Tender, reason: str | None) -> None:
    """Declared « sans suite » by the buyer, with its reason (kept and shown)."""
    TENDER_STATES.check(tender, S.CANCELLED)
    reason = _text(reason, "reason", "Motif de l'annulation")
    TENDER_STATES.move(actor, tender, S.CANCELLED, reason=reason)
    tender.outcome_reason = reason
    db.session.flush()


def close(actor: User | None, tender: Tender, now: datetime | None = None) -> None:
    TENDER_STATES.move(actor, tender, S.CLOSED, answers_deadline=tender.answers_deadline.isoformat()
                       if tender.answers_deadline else None)
    tender.closed_at = now or utcnow()


def is_due(tender: Tender, now: datetime | None = None) -> bool:
    """A published tender closes at its answers deadline: from that instant on, no answer is accepted."""
    now = now or utcnow()
    return (tender.status == S.PUBLISHED and tender.answers_deadline is not None
            and tender.answers_deadline <= now)


def close_if_due(tender: Tender, now: datetime | None = None) -> bool:
    """On read: a page showing a published tender past its deadline closes it (the worker may be late)."""
    if not is_due(tender, now):
        return False
    close(None, tender, now)
    db.session.flush()
    return True


def close_due(now: datetime | None = None) -> int:
    """Close every published tender whose answers deadline has passed; return how many. Never commits."""
    now = now or utcnow()
    due = db.session.execute(
        select(Tender).where(Tender.status == S.PUBLISHED, Tender.answers_deadline <= now)
        .order_by(Tender.id).with_for_update(skip_locked=True)).scalars().all()
    for tender in due:
        close(None, tender, now)
    db.session.flush()
    return len(due)


def close_due_task() -> int:
    """The worker's periodic pass (`flask marche worker`)."""
    count = close_due()
    db.session.commit()
    return count


def conclude(actor: User | None, tender: Tender) -> str | None:
    """Once every lot is decided, the tender is awarded (one lot awarded at least) or unsuccessful. Returns the
    new status, None while a lot is still open."""
    if tender.status != S.CLOSED or any(lot.status == LotStatus.OPEN for lot in tender.lots):
        return None
    target = S.AWARDED if any(lot.status == LotStatus.AWARDED for lot in tender.lots) else S.UNSUCCESSFUL
    TENDER_STATES.move(actor, tender, target)
    if target == S.UNSUCCESSFUL:
        tender.outcome_reason = " ; ".join(f"Lot {lot.position} : {lot.award.unsuccessful_reason}"
                                           for lot in tender.lots if lot.award is not None)[:MAX_TEXT]
    db.session.flush()
    return target


def _capacity(actor: User, tender: Tender) -> str | list[int]:
    """Who validated, in which capacity: enough to review the decision later."""
    if actor.is_platform_admin:
        return "platform_admin"
    return [org.id for org in workflow_access.validating_organisations(actor, tender)]


# --- assistance and comments ------------------------------------------------------------------------------

def assist_candidates(tender: Tender) -> list[Organisation]:
    """The facilitator organisations the buyer may ask: verified, and covering the tender's place."""
    refs = workflow_access.place_refs(tender)
    if not refs:
        return []

    return list(db.session.execute(select(Organisation).where(
        Organisation.kind == OrganisationKind.FACILITATOR,
        Organisation.verification_status == VerificationStatus.VERIFIED,
        Organisation.territories.op("&&")(cast(list(refs), ARRAY(String(40)))))
        .order_by(Organisation.name, Organisation.id)).scalars())


def request_assist(actor: User, tender: Tender, organisation_id: int | None) -> Organisation | None:
    """The buyer asks a facilitator of its territory to assist (read and comment the draft); None withdraws."""
    if tender.status not in ASSIST_STATES:
        raise DomainError("L'assistance se demande avant la publication de la consultation.", "organisation")
    if organisation_id is None:
        if tender.assisting_organisation_id is None:
            raise DomainError("Choisissez un facilitateur.", "organisation")
        audit.record(actor, "tender.assist_withdrawn", tender, organisation_id=tender.assisting_organisation_id)
        tender.assisting_organisation_id, tender.assist_requested_at = None, None
        db.session.flush()
        return None
    organisation = next((o for o in assist_candidates(tender) if o.id == organisation_id), None)
    if organisation is None:
        raise DomainError("Choisissez un facilitateur vérifié dont le territoire couvre le lieu d'exécution.",
                          "organisation")
    tender.assisting_organisation_id, tender.assist_requested_at = organisation.id, utcnow()
    audit.record(actor, "tender.assist_requested", tender, organisation_id=organisation.id)
    db.session.flush()
    _notify([m.user for m in organisation.memberships], "assist", tender)
    return organisation


def add_comment(actor: User, tender: Tender, body: str | None) -> TenderComment:
    comment = _comment(actor, tender, CommentKind.COMMENT, _text(body, "body", "Commentaire"),
                       _acting_organisation(actor, tender))
    db.session.flush()
    audit.record(actor, "tender.commented", tender, comment_id=comment.id)
    return comment


# --- what the pages read ------------------------------------------------------------------------------

@dataclass
class Queue:
    """A facilitator's queue: tenders waiting for its validation, and those it was asked to assist."""

    to_validate: list[Tender] = field(default_factory=list)
    assisted: list[Tender] = field(default_factory=list)


def queue_for(user: User) -> Queue:
    """Submitted tenders not yet validated in the user's territories (every one for a platform admin), and the
    tenders, not yet concluded, whose buyer asked the user's organisation to assist."""
    waiting = list(db.session.execute(
        select(Tender).where(Tender.status == S.SUBMITTED, Tender.validated_at.is_(None))
        .order_by(Tender.submitted_at, Tender.id)).scalars())
    # submitted tenders are few at any time: the territory test reads each place once (geo caches them)
    to_validate = [t for t in waiting if user.is_platform_admin or workflow_access.can_validate(user, t)]
    organisation_ids = [m.organisation_id for m in user.memberships
                        if m.organisation.kind == OrganisationKind.FACILITATOR and m.organisation.trusted]
    assisted = list(db.session.execute(
        select(Tender).where(Tender.assisting_organisation_id.in_(organisation_ids),
                             Tender.status.in_([S.DRAFT, S.SUBMITTED, S.PUBLISHED, S.CLOSED]))
        .order_by(Tender.updated_at.desc(), Tender.id)).scalars()) if organisation_ids else []
    return Queue(to_validate, assisted)
