"""The structure side of a published tender: why it was matched, the first view of each lot, « intéressée » or
« pas intéressée » (with a reason), the answer itself (a message and a PDF quote for a demande de devis or a
sourcing, « j'ai déposé une offre » for an appel d'offres), and the questions to the buyer.

Every answer is refused, nothing changed, with a French message: after the answers deadline (or once the tender
is no longer published), for a reserved lot by a structure of another kind (the article cited), and when it
repeats what is already recorded. Services flush and never commit; mails go through the outbox.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..clauses.rules import RESERVED_BOTH_ARTICLE, RESERVED_DISABILITY_ARTICLE, RESERVED_SIAE_ARTICLE
from ..core import audit
from ..core.errors import DomainError
from ..core.filters import fr_datetime
from ..core.mail import queue_mail
from ..core.models import LabelledEnum, utcnow
from ..core.uploads import UploadTooLarge, read_upload, store_upload, upload_root
from ..core.urls import external_url
from ..extensions import db
from ..suppliers.models import Structure
from .matching import RESERVED_KINDS
from .models import (Interest, LotResponse, SavedSearch, Tender, TenderKind, TenderLot, TenderNotification,
                     TenderQuestion, TenderStatus)


class AnswerError(DomainError):
    """An answer, a question or its reply the rules refuse; nothing was changed."""


class NotInterestedReason(LabelledEnum):
    TOO_FAR = "too_far", "Trop loin de nos implantations"
    OUT_OF_TRADE = "out_of_trade", "Hors de nos métiers"
    TOO_LARGE = "too_large", "Volume trop important pour nous"
    TOO_SHORT = "too_short", "Délai de réponse trop court"
    UNAVAILABLE = "unavailable", "Pas disponible sur la période"
    OTHER = "other", "Autre raison (à préciser)"


#: code → French label of the reasons a structure gives for « pas intéressée » ("other" needs a text)
NOT_INTERESTED_REASONS: dict[str, str] = {reason.value: reason.label for reason in NotInterestedReason}
#: the largest quote PDF accepted
MAX_QUOTE_BYTES = 10 * 1024 * 1024
QUOTES_FOLDER = "quotes"
MAX_MESSAGE_CHARS = 5000
MAX_QUESTION_CHARS = 2000
#: a reservation → (its article, who it is reserved to)
RESERVATION_ARTICLES = {
    "siae": (RESERVED_SIAE_ARTICLE, "aux structures d'insertion par l'activité économique (SIAE)"),
    "disability": (RESERVED_DISABILITY_ARTICLE, "aux entreprises adaptées et aux ESAT"),
    "both": (RESERVED_BOTH_ARTICLE, "aux SIAE, aux entreprises adaptées et aux ESAT"),
}
#: the kinds of consultation answered in the portal (a message and a quote) rather than on the buyer profile
PORTAL_KINDS = (TenderKind.QUOTE_REQUEST, TenderKind.SOURCING)


# --- the rules -------------------------------------------------------------------------------------------------

def answers_open(tender: Tender, now: datetime | None = None) -> bool:
    """Published and before its answers deadline (the deadline instant itself is too late)."""
    now = now or utcnow()
    return tender.status == TenderStatus.PUBLISHED and (tender.answers_deadline is None
                                                        or now < tender.answers_deadline)


def questions_deadline(tender: Tender) -> datetime | None:
    return tender.questions_deadline or tender.answers_deadline


def questions_open(tender: Tender, now: datetime | None = None) -> bool:
    """Published and before the questions deadline (the answers deadline when the tender sets none)."""
    now = now or utcnow()
    deadline = questions_deadline(tender)
    return tender.status == TenderStatus.PUBLISHED and (deadline is None or now < deadline)


def reserved_refusal(lot: TenderLot, structure: Structure) -> str | None:
    """Why this structure may not answer this reserved lot, citing the article; None when it may."""
    reservation = (lot.clauses or {}).get("reservation")
    allowed = RESERVED_KINDS.get(reservation)
    if allowed is None or set(structure.kinds or ()) & set(allowed):
        return None
    article, whom = RESERVATION_ARTICLES[reservation]
    return (f"Ce lot est réservé {whom} (article {article} du code de la commande publique) : "
            f"{structure.name} n'est pas d'un type autorisé à y répondre.")


def _require_open(tender: Tender, now: datetime) -> None:
    if answers_open(tender, now):
        return
    if tender.status == TenderStatus.PUBLISHED:
        raise AnswerError(f"La date limite de réponse est passée ({fr_datetime(tender.answers_deadline)}) : "
                          "la consultation ne reçoit plus de réponse.")
    raise AnswerError("Cette consultation n'est plus ouverte : elle ne reçoit plus de réponse.")


def _require_allowed(lot: TenderLot, structure: Structure, now: datetime) -> None:
    _require_open(lot.tender, now)
    refusal = reserved_refusal(lot, structure)
    if refusal:
        raise AnswerError(refusal)


# --- lot responses -----------------------------------------------------------------------------------------

def record_views(tender: Tender, structure: Structure, now: datetime | None = None) -> None:
    """The first view of each lot by this structure, never overwritten (one INSERT … ON CONFLICT)."""
    if not tender.lots:
        return
    now = now or utcnow()
    statement = pg_insert(LotResponse).values(
        [{"lot_id": lot.id, "structure_id": structure.id, "viewed_at": now} for lot in tender.lots])
    statement = statement.on_conflict_do_update(
        constraint="uq_lot_response_once", set_={"viewed_at": statement.excluded.viewed_at},
        where=LotResponse.__table__.c.viewed_at.is_(None))
    db.session.execute(statement)


def _locked_response(lot: TenderLot, structure: Structure) -> LotResponse:
    """The structure's row for this lot, created if absent, locked until the commit: two identical requests
    sent at once are read one after the other, so the second one sees the first one's answer."""
    db.session.execute(pg_insert(LotResponse).values(lot_id=lot.id, structure_id=structure.id)
                       .on_conflict_do_nothing(constraint="uq_lot_response_once"))
    return db.session.scalars(
        select(LotResponse).where(LotResponse.lot_id == lot.id, LotResponse.structure_id == structure.id)
        .with_for_update().execution_options(populate_existing=True)).one()


def responses_of(structure: Structure, lots: list[TenderLot]) -> dict[int, LotResponse]:
    if not lots:
        return {}
    rows = db.session.scalars(select(LotResponse).where(LotResponse.structure_id == structure.id,
                                                        LotResponse.lot_id.in_([lot.id for lot in lots])))
    return {row.lot_id: row for row in rows}


def declare_interest(user, lot: TenderLot, structure: Structure, interested: bool, reason_code: str | None = None,
                     reason_text: str | None = None, now: datetime | None = None) -> LotResponse:
    """« Intéressée », or « pas intéressée » with a reason (no reminder follows); either may change until the
    deadline, as long as no answer was sent."""
    now = now or utcnow()
    _require_allowed(lot, structure, now)
    reason_text = (reason_text or "").strip() or None
    if not interested:
        if reason_code not in NOT_INTERESTED_REASONS:
            raise AnswerError("Raison : choisissez une raison dans la liste.", "reason_code")
        if reason_code == NotInterestedReason.OTHER and not reason_text:
            raise AnswerError("Précisions : écrivez la raison quand vous choisissez « Autre raison ».",
                              "reason_text")
        if reason_text and len(reason_text) > MAX_MESSAGE_CHARS:
            raise AnswerError(f"Précisions : {MAX_MESSAGE_CHARS} caractères au plus.", "reason_text")
    response = _locked_response(lot, structure)
    if response.answered_at is not None:
        raise AnswerError(f"Vous avez déjà répondu à ce lot ({fr_datetime(response.answered_at)}) : "
                          "votre intérêt ne peut plus changer.")
    wanted = Interest.INTERESTED if interested else Interest.NOT_INTERESTED
    if response.interest == wanted:
        raise AnswerError("Vous avez déjà déclaré être intéressés par ce lot." if interested
                          else "Vous avez déjà déclaré ne pas être intéressés par ce lot.")
    response.interest, response.interest_at = wanted, now
    response.reason_code = None if interested else reason_code
    response.reason_text = None if interested else reason_text
    db.session.flush()
    audit.record(user, "tender.interest", lot.tender, lot=lot.id, structure=structure.id, interest=str(wanted),
                 reason=response.reason_code)
    return response


def _pdf_name(filename: str) -> str:
    name = re.sub(r"[^\w.\- ]+", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip() or "devis"
    return (name if name.lower().endswith(".pdf") else name + ".pdf")[-200:]


def send_quote(user, lot: TenderLot, structure: Structure, message: str, storage=None,
               now: datetime | None = None) -> LotResponse:
    """The answer to a demande de devis or a sourcing, in the portal: a message and an optional PDF quote
    (checked by its content, ≤ 10 MB, stored outside static/). Sent once."""
    now = now or utcnow()
    if lot.tender.kind not in PORTAL_KINDS:
        raise AnswerError("Cette consultation est un appel d'offres : l'offre se dépose sur le profil d'acheteur.")
    _require_allowed(lot, structure, now)
    message = (message or "").strip()
    if not message:
        raise AnswerError("Message : écrivez votre réponse à l'acheteur.", "message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise AnswerError(f"Message : {MAX_MESSAGE_CHARS} caractères au plus.", "message")
    data = None
    if storage is not None and getattr(storage, "filename", ""):
        try:
            data = read_upload(storage, MAX_QUOTE_BYTES, "quote")
        except UploadTooLarge as error:
            raise AnswerError(f"Devis : {error.message}", "quote") from error
        if not data.startswith(b"%PDF-"):
            raise AnswerError("Devis : seul le format PDF est accepté (le contenu du fichier n'est pas un PDF).",
                              "quote")
    response = _locked_response(lot, structure)
    if response.answered_at is not None:
        raise AnswerError(f"Vous avez déjà répondu à ce lot ({fr_datetime(response.answered_at)}).")
    if data is not None:
        response.quote_path = store_upload(data, "pdf", QUOTES_FOLDER)
        response.quote_filename = _pdf_name(storage.filename)
    response.answer_message, response.answered_at, response.answered_by_id = message, now, user.id
    _mark_interested(response, now)
    db.session.flush()
    audit.record(user, "tender.quote", lot.tender, lot=lot.id, structure=structure.id, pdf=data is not None)
    return response


def declare_offer(user, lot: TenderLot, structure: Structure, now: datetime | None = None) -> LotResponse:
    """« J'ai déposé une offre » on the buyer profile (an appel d'offres): declared once, by the structure."""
    now = now or utcnow()
    if lot.tender.kind in PORTAL_KINDS:
        raise AnswerError("Cette consultation se répond dans le portail : envoyez votre message et votre devis.")
    _require_allowed(lot, structure, now)
    response = _locked_response(lot, structure)
    if response.offer_declared:
        raise AnswerError(f"Vous avez déjà déclaré une offre pour ce lot ({fr_datetime(response.answered_at)}).")
    response.offer_declared, response.answered_at, response.answered_by_id = True, now, user.id
    _mark_interested(response, now)
    db.session.flush()
    audit.record(user, "tender.offer_declared", lot.tender, lot=lot.id, structure=structure.id)
    return response


def _mark_interested(response: LotResponse, now: datetime) -> None:
    """Who answers is interested (a « pas intéressée » before it is replaced)."""
    if response.interest != Interest.INTERESTED:
        response.interest, response.interest_at = Interest.INTERESTED, now
        response.reason_code = response.reason_text = None


def quote_path(response: LotResponse):
    return upload_root() / response.quote_path


def received_answers(tender: Tender) -> list[LotResponse]:
    """The answers sent on the tender's lots (quotes, declared offers), oldest first: what the buyer reads."""
    return list(db.session.scalars(
        select(LotResponse).join(TenderLot, TenderLot.id == LotResponse.lot_id)
        .where(TenderLot.tender_id == tender.id, LotResponse.answered_at.is_not(None))
        .order_by(TenderLot.position, LotResponse.answered_at, LotResponse.id)))


# --- questions -------------------------------------------------------------------------------------------------

def ask_question(user, tender: Tender, structure: Structure, body: str, lot: TenderLot | None = None,
                 now: datetime | None = None) -> TenderQuestion:
    """A structure's question to the buyer, before the questions deadline; the buyer's members are mailed."""
    now = now or utcnow()
    if not questions_open(tender, now):
        deadline = questions_deadline(tender)
        when = f" ({fr_datetime(deadline)})" if deadline else ""
        raise AnswerError(f"La date limite des questions est passée{when} : l'acheteur ne reçoit plus de question.")
    body = (body or "").strip()
    if not body:
        raise AnswerError("Question : écrivez votre question.", "body")
    if len(body) > MAX_QUESTION_CHARS:
        raise AnswerError(f"Question : {MAX_QUESTION_CHARS} caractères au plus.", "body")
    if lot is not None and lot.tender_id != tender.id:
        raise AnswerError("Lot : choisissez un lot de cette consultation.", "lot")
    question = TenderQuestion(tender_id=tender.id, lot_id=lot.id if lot else None, structure_id=structure.id,
                              asked_by_id=user.id, body=body, created_at=now)
    db.session.add(question)
    db.session.flush()
    audit.record(user, "tender.question", tender, question=question.id, structure=structure.id)
    link = external_url("tenders.show", tender_id=tender.id) + "#questions"
    buyers = [m.user for m in tender.organisation.memberships if m.user.active]
    for email in sorted({u.email.lower(): u.email for u in buyers}.values()):
        queue_mail(email, f"Nouvelle question sur « {tender.title} »", "tender_question", tender=tender,
                   question=question, structure=structure, link=link)
    return question


def answer_question(user, question: TenderQuestion, answer: str, now: datetime | None = None) -> TenderQuestion:
    """The buyer's answer, shown to everyone who sees the tender (asker anonymised); the asker is mailed."""
    now = now or utcnow()
    if question.answered_at is not None:
        raise AnswerError(f"Cette question a déjà une réponse ({fr_datetime(question.answered_at)}).")
    answer = (answer or "").strip()
    if not answer:
        raise AnswerError("Réponse : écrivez la réponse.", "answer")
    if len(answer) > MAX_MESSAGE_CHARS:
        raise AnswerError(f"Réponse : {MAX_MESSAGE_CHARS} caractères au plus.", "answer")
    question.answer, question.answered_at, question.answered_by_id = answer, now, user.id
    db.session.flush()
    audit.record(user, "tender.question_answered", question.tender, question=question.id)
    asker = question.asked_by
    if asker is not None and asker.active:
        tender = question.tender
        queue_mail(asker.email, f"Réponse à votre question sur « {tender.title} »", "tender_question_answered",
                   tender=tender, question=question,
                   link=external_url("tenders.show", tender_id=tender.id) + "#questions")
    return question


def public_questions(tender: Tender) -> list[TenderQuestion]:
    """The answered questions, oldest first: what everyone reads (the template shows no asker)."""
    return list(db.session.scalars(select(TenderQuestion).where(
        TenderQuestion.tender_id == tender.id, TenderQuestion.answered_at.is_not(None))
        .order_by(TenderQuestion.answered_at, TenderQuestion.id)))


def all_questions(tender: Tender) -> list[TenderQuestion]:
    """Every question with its asker, unanswered first: what the buyer's members read."""
    return list(db.session.scalars(select(TenderQuestion).where(TenderQuestion.tender_id == tender.id)
                                   .order_by(TenderQuestion.answered_at.is_not(None), TenderQuestion.id)))


def own_questions(tender: Tender, structure: Structure) -> list[TenderQuestion]:
    return list(db.session.scalars(select(TenderQuestion).where(
        TenderQuestion.tender_id == tender.id, TenderQuestion.structure_id == structure.id,
        TenderQuestion.answered_at.is_(None)).order_by(TenderQuestion.id)))


# --- why it matched -------------------------------------------------------------------------------------------

def match_reasons(tender: Tender, structure: Structure) -> dict[int, list[str]] | None:
    """Why the relay matched this structure, per lot id; None when the relay did not (found by a search)."""
    notification = db.session.scalars(select(TenderNotification).where(
        TenderNotification.tender_id == tender.id, TenderNotification.structure_id == structure.id)).one_or_none()
    if notification is None:
        return None
    reasons: dict[int, list[str]] = {}
    for key, lines in (notification.reasons or {}).items():
        try:
            reasons[int(key)] = [str(line) for line in (lines or [])]
        except (TypeError, ValueError):
            continue
    for lot_id in notification.lot_ids or []:
        reasons.setdefault(lot_id, [])
    return reasons


# --- the structure dashboard ---------------------------------------------------------------------------------

@dataclass
class Dashboard:
    structures: list[Structure]
    #: (notification, tender), newest first
    matches: list[tuple[TenderNotification, Tender]]
    #: the lot responses with an interest or an answer, by deadline
    answers: list[LotResponse]
    saved_searches: list[SavedSearch]
    #: ids of the matched tenders one of the structures already opened (the others are « nouvelles »)
    viewed_tender_ids: set[int]


DASHBOARD_ROWS = 50


def dashboard(user, structures: list[Structure]) -> Dashboard:
    ids = [s.id for s in structures]
    matches = list(db.session.execute(
        select(TenderNotification, Tender).join(Tender, Tender.id == TenderNotification.tender_id)
        .where(TenderNotification.structure_id.in_(ids), Tender.status == TenderStatus.PUBLISHED)
        .order_by(TenderNotification.created_at.desc(), TenderNotification.id.desc()).limit(DASHBOARD_ROWS)).tuples())
    answers = list(db.session.scalars(
        select(LotResponse).join(TenderLot, TenderLot.id == LotResponse.lot_id)
        .join(Tender, Tender.id == TenderLot.tender_id)
        .where(LotResponse.structure_id.in_(ids),
               (LotResponse.interest.is_not(None)) | (LotResponse.answered_at.is_not(None)))
        .order_by(Tender.answers_deadline.asc().nulls_last(), Tender.id, TenderLot.position).limit(DASHBOARD_ROWS)))
    searches = list(db.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)
                                       .order_by(SavedSearch.name, SavedSearch.id)))
    tender_ids = [tender.id for _, tender in matches]
    viewed = set(db.session.scalars(
        select(TenderLot.tender_id).join(LotResponse, LotResponse.lot_id == TenderLot.id)
        .where(TenderLot.tender_id.in_(tender_ids), LotResponse.structure_id.in_(ids),
               LotResponse.viewed_at.is_not(None)).distinct())) if tender_ids else set()
    return Dashboard(structures, matches, answers, searches, viewed)
