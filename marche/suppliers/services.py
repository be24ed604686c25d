"""Operations on structures: claim, profile edits, commitments, uploads, derived fields.

Every change is audited and handed to the search index through the outbox (never directly).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import ARRAY, String, cast, func, select, update

from ..accounts.models import Organisation, OrganisationKind, User, VerificationStatus
from ..core import audit, outbox
from ..core.dates import today
from ..core.errors import DomainError
from ..core.identifiers import is_digits, is_valid_finess
from ..core.mail import queue_mail
from ..core.models import utcnow
from ..core.states import Move, StateMachine
from ..core.text import normalize_search
from ..core.uploads import store_upload
from ..core.urls import external_url
from ..extensions import db
from ..geo.coverage import Area, touched
from ..geo.services import parse_territory_list
from ..reference.models import Sector
from .models import (RADIUS_CHOICES, AreaKind, ClaimEvidence, ClaimStatus, ClientReference, EnvCommitment, EnvLabel, ServiceKind,
                     Structure, StructureClaim, StructureContact, claiming_organisation, structure_sector)

STRUCTURES_CHANGED = "structures.changed"


def area_of(structure: Structure) -> Area:
    return Area(kind=structure.area_kind, radius_km=structure.area_radius_km, refs=tuple(structure.area_refs or ()),
                latitude=structure.latitude, longitude=structure.longitude,
                home_department=structure.department_code)


def refresh_derived(structure: Structure) -> None:
    """Recompute what is derived from the profile: departments/regions touched, search text."""
    if structure.area_kind != AreaKind.TERRITORIES:
        structure.area_refs = []
    if structure.area_kind != AreaKind.RADIUS:
        structure.area_radius_km = None
    structure.area_departments, structure.area_regions = touched(area_of(structure))
    structure.search_text = normalize_search(" ".join(filter(None, [
        structure.name, structure.brand, structure.city, structure.siret, (structure.description or "")[:500]])))


def mark_expired_commitments() -> int:
    """Commitments that expired since the last pass: their structures go back to the index."""
    expired = list(db.session.execute(select(EnvCommitment).where(
        EnvCommitment.expires_on < today(), EnvCommitment.expiry_processed.is_(False))).scalars())
    for commitment in expired:
        commitment.expiry_processed = True
    notify_changed([commitment.structure_id for commitment in expired])
    return len(expired)


def mark_sector_origin(structures: list[Structure], inferred: bool) -> None:
    """Record whether these structures' sectors were deduced (import) or declared (profile edit).

    Writes through `Structure.sectors` store declared rows: the origin is set on all of a structure's
    rows at once, after the flush that wrote them (a structure's sectors are all declared or all deduced)."""
    if not structures:
        return
    db.session.flush()
    db.session.execute(update(structure_sector)
                       .where(structure_sector.c.structure_id.in_([structure.id for structure in structures]))
                       .values(inferred=inferred))
    for structure in structures:
        db.session.expire(structure, ["inferred_sectors"])


def notify_changed(structure_ids: list[int]) -> None:
    """Queue the change for the search index (written in the same transaction as the change).

    `updated_at` moves too, even when only a sector, a commitment or a reference changed: it is the
    version the index carries, so a reconciliation can tell a stale document from a fresh one."""
    if structure_ids:
        ids = sorted(set(structure_ids))
        db.session.execute(update(Structure).where(Structure.id.in_(ids)).values(updated_at=func.now())
                           .execution_options(synchronize_session="fetch"))
        outbox.enqueue(STRUCTURES_CHANGED, {"ids": ids})


# --- claim, edit, commitments ----------------------------------------------------------------

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: what a proof or logo file really is, read from its first bytes (never from its name)
MAGIC = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def find_structure(ident: str) -> Structure | None:
    """A structure by SIRET (14 digits) or FINESS (9 characters)."""
    ident = ident.replace(" ", "")
    if len(ident) == 14 and is_digits(ident):
        condition = Structure.siret == ident
    elif is_valid_finess(ident.upper()):
        condition = Structure.finess_numbers.any(ident.upper())
    else:
        return None
    return db.session.execute(select(Structure).where(condition)).scalars().first()


def child_of(structure: Structure, model: type, child_id: int):
    """A commitment, reference or contact of this structure; None when it belongs to another one."""
    child = db.session.get(model, child_id)
    return child if child is not None and child.structure_id == structure.id else None


def get_claim(claim_id: int) -> StructureClaim | None:
    return db.session.get(StructureClaim, claim_id)


def pending_claims() -> list[StructureClaim]:
    return list(db.session.execute(select(StructureClaim).where(StructureClaim.status == ClaimStatus.PENDING)
                                   .order_by(StructureClaim.id)).scalars())


def users_by_id(ids: list[int]) -> dict[int, User]:
    """The accounts named by these ids (the claims page shows who asked)."""
    return {user.id: user for user in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def structure_ident(structure: Structure) -> str:
    return structure.siret or structure.finess_numbers[0]


def platform_admins() -> list[User]:
    return list(db.session.execute(select(User).where(User.is_platform_admin.is_(True), User.active.is_(True))).scalars())


#: public webmail providers: an address there proves nothing about who runs a structure
WEBMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.fr", "yahoo.com", "hotmail.fr", "hotmail.com", "outlook.fr", "outlook.com",
    "live.fr", "live.com", "msn.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net",
    "icloud.com", "me.com", "protonmail.com", "proton.me", "gmx.fr", "gmx.com", "aol.com", "bbox.fr"})


@dataclass
class ClaimProof:
    """What the claimant offers as evidence: the kind, and the document or FINESS number it needs."""

    kind: str
    document: bytes | None = None
    finess: str | None = None


def _domain(value: str) -> str:
    return value.strip().lower().rstrip(".").removeprefix("www.")


def structure_domains(structure: Structure) -> list[str]:
    """Web domains that belong to the structure: its website's, and its contacts' e-mail domains."""
    domains = []
    if structure.website:
        host = urlsplit(structure.website if "//" in structure.website else "//" + structure.website).hostname
        if host:
            domains.append(_domain(host))
    domains += [_domain(c.email.rpartition("@")[2]) for c in structure.contacts if c.email and "@" in c.email]
    return sorted({d for d in domains if d and "." in d and d not in WEBMAIL_DOMAINS})


def check_email_domain(user: User, structure: Structure) -> str:
    """The claimant's own (confirmed) address must be on the structure's domain; say why not in French."""
    domain = _domain(user.email.rpartition("@")[2])
    domains = structure_domains(structure)
    if not domains:
        raise DomainError("La fiche n'indique ni site internet ni adresse e-mail de la structure : votre adresse ne "
                          "peut pas être rapprochée de son domaine. Joignez plutôt un document (Kbis, convention).",
                          "evidence_kind")
    if domain in WEBMAIL_DOMAINS:
        raise DomainError(f"Votre adresse est une messagerie publique (« {domain} ») : elle ne prouve pas votre lien "
                          f"avec la structure, dont le domaine est « {', '.join(domains)} ».", "evidence_kind")
    if not any(domain == d or domain.endswith("." + d) for d in domains):
        raise DomainError(f"Votre adresse e-mail est sur le domaine « {domain} », qui n'est pas celui de la structure "
                          f"(« {', '.join(domains)} »). Utilisez un compte à l'adresse de la structure, ou joignez "
                          "un document.", "evidence_kind")
    return domain


def check_claim_proof(user: User, structure: Structure, proof: ClaimProof) -> tuple[str | None, str | None]:
    """Check the evidence; return (value to show the approver, stored document name)."""
    if proof.kind == ClaimEvidence.EMAIL_DOMAIN:
        return check_email_domain(user, structure), None
    if proof.kind == ClaimEvidence.DOCUMENT:
        if not proof.document:
            raise DomainError("Joignez le document : extrait Kbis, convention SIAE ou autre pièce officielle.",
                              "document")
        kind = check_upload(proof.document, {"pdf", "png", "jpg"}, "document")
        return None, store_upload(proof.document, kind, folder="claims")
    if proof.kind == ClaimEvidence.FINESS:
        finess = (proof.finess or "").replace(" ", "").upper()
        if not structure.finess_numbers:
            raise DomainError("Cette fiche n'a pas de numéro FINESS : ce justificatif ne vaut que pour un ESAT.",
                              "finess")
        if finess not in structure.finess_numbers:
            raise DomainError("Ce numéro FINESS n'est pas celui d'un établissement de cette fiche.", "finess")
        return finess, None
    raise DomainError("Choisissez un justificatif.", "evidence_kind")


def pending_claim(user: User, structure: Structure) -> StructureClaim | None:
    """The claim of one of the user's organisations on this profile that awaits a decision, if any."""
    organisation_ids = [m.organisation_id for m in user.memberships]
    if not organisation_ids:
        return None
    return db.session.execute(select(StructureClaim).where(
        StructureClaim.structure_id == structure.id, StructureClaim.organisation_id.in_(organisation_ids),
        StructureClaim.status == ClaimStatus.PENDING).order_by(StructureClaim.id)).scalars().first()


def pending_claims_of(user: User) -> list[StructureClaim]:
    """The claims of the user's organisations that await a decision (shown on « Ma fiche »)."""
    organisation_ids = [m.organisation_id for m in user.memberships]
    return list(db.session.execute(select(StructureClaim).where(
        StructureClaim.organisation_id.in_(organisation_ids), StructureClaim.status == ClaimStatus.PENDING)
        .order_by(StructureClaim.id)).scalars()) if organisation_ids else []


def owned_structures(user: User) -> list[Structure]:
    """The profiles the user's organisations manage (« Ma fiche »)."""
    organisation_ids = [m.organisation_id for m in user.memberships]
    return list(db.session.execute(select(Structure).where(Structure.owner_organisation_id.in_(organisation_ids))
                                   .order_by(Structure.name, Structure.id)).scalars()) if organisation_ids else []


#: at most this many profiles offered at once (a SIREN with more establishments is rare; search finds the rest)
MAX_CLAIM_OFFERS = 20


def claim_offers(user: User) -> list[Structure]:
    """Unclaimed profiles the user's inclusive structure may claim at once: same SIRET first, then the same
    SIREN (other establishments); those with a claim of theirs already pending are left out."""
    sirets = [m.organisation.siret for m in user.memberships
              if m.organisation.kind == OrganisationKind.INCLUSIVE_STRUCTURE and m.organisation.siret]
    if not sirets:
        return []
    organisation_ids = [m.organisation_id for m in user.memberships]
    waiting = select(StructureClaim.structure_id).where(StructureClaim.organisation_id.in_(organisation_ids),
                                                        StructureClaim.status == ClaimStatus.PENDING)
    sirens = sorted({siret[:9] for siret in sirets})
    return list(db.session.execute(
        select(Structure).where(Structure.owner_organisation_id.is_(None),
                                (Structure.siren.in_(sirens)) | (Structure.siret.in_(sirets)),
                                Structure.id.not_in(waiting))
        .order_by(Structure.siret.in_(sirets).desc(), Structure.name, Structure.id).limit(MAX_CLAIM_OFFERS)).scalars())


def territory_facilitators(structure: Structure) -> list[User]:
    """Active members of the verified facilitators competent for the profile's territory (its commune,
    department, region, or the whole country): they may decide its claims, so they hear of them."""
    refs = [ref for ref in (f"commune:{structure.commune_code}" if structure.commune_code else None,
                            f"dep:{structure.department_code}" if structure.department_code else None,
                            f"reg:{structure.region_code}" if structure.region_code else None, "country:FR") if ref]
    organisations = db.session.execute(select(Organisation).where(
        Organisation.kind == OrganisationKind.FACILITATOR, Organisation.verification_status == VerificationStatus.VERIFIED,
        Organisation.territories.op("&&")(cast(refs, ARRAY(String(40)))))).scalars()
    return [m.user for organisation in organisations for m in organisation.memberships if m.user.active]


def request_claim(user: User, structure: Structure, proof: ClaimProof, message: str | None = None) -> StructureClaim:
    """A structure's member asks to manage the profile, with evidence that the approver reads.

    Only an organisation whose SIREN is the profile's may ask (models.claiming_organisation), and its
    SIRET alone never grants the profile: the claim waits for a platform admin or a verified facilitator
    of the territory, who are all mailed. A claim on an already-claimed profile is not granted: it goes
    to the current owners and the platform admins.
    """
    organisation = claiming_organisation(user, structure)
    if organisation is None:
        if not user.has_kind(OrganisationKind.INCLUSIVE_STRUCTURE):
            raise DomainError("Seul un membre d'une structure inclusive peut revendiquer une fiche.")
        raise DomainError("Le SIREN de votre organisation ne correspond pas à celui de cette structure.")
    if structure.owner_organisation_id == organisation.id:
        raise DomainError("Votre organisation gère déjà cette fiche.")
    pending = pending_claim(user, structure)
    if pending is not None:
        raise DomainError(f"Une demande de votre organisation est déjà en cours d'examen pour cette fiche (déposée le "
                          f"{today(pending.created_at):%d/%m/%Y}) : attendez la décision.")
    evidence_value, evidence_path = check_claim_proof(user, structure, proof)
    message = (message or "").strip() or None
    claim = StructureClaim(structure=structure, organisation_id=organisation.id, requested_by_id=user.id,
                           message=message, status=ClaimStatus.PENDING, evidence_kind=proof.kind,
                           evidence_value=evidence_value, evidence_path=evidence_path)
    db.session.add(claim)
    link = external_url("suppliers.claims")
    if structure.claimed:
        claim.status = ClaimStatus.REDIRECTED
        owners = db.session.execute(select(Organisation).where(Organisation.id == structure.owner_organisation_id)).scalar_one()
        # every member of the owning organisation may edit the profile: all of them hear about the attempt
        recipients = {m.user.email for m in owners.memberships if m.user.active} | {u.email for u in platform_admins()}
        for email in sorted(recipients):
            queue_mail(email, f"Demande de gestion de la fiche {structure.display_name}", "structure_claim_redirected",
                       structure=structure, requester=user, organisation=organisation, claim=claim, link=link)
    else:
        # the platform admins and the territory's facilitators (never a member of the claiming organisation)
        claimant_ids = {m.user_id for m in organisation.memberships}
        recipients = {u.email.lower(): u.email for u in platform_admins() + territory_facilitators(structure)
                      if u.id not in claimant_ids}
        for email in sorted(recipients.values()):
            queue_mail(email, f"Revendication de la fiche {structure.display_name}", "structure_claim",
                       structure=structure, requester=user, organisation=organisation, claim=claim, link=link)
    db.session.flush()
    audit.record(user, "structure.claim_requested", structure, claim_id=claim.id, status=claim.status,
                 evidence=proof.kind, evidence_value=evidence_value, evidence_document=evidence_path)
    return claim


#: a claim is decided once; a redirected claim is for the current managers, not for a decision here
CLAIM_STATES = StateMachine("status", [
    Move(ClaimStatus.PENDING, ClaimStatus.APPROVED, "structure.claim_approved"),
    Move(ClaimStatus.PENDING, ClaimStatus.REJECTED, "structure.claim_rejected"),
], refused="Cette demande a déjà été traitée ({current}).")

#: a refusal reason is mailed as typed: long enough for an explanation, not for a pasted document
MAX_REASON_LENGTH = 2000


def decide_claim(actor: User, claim: StructureClaim, approve: bool, reason: str | None = None) -> None:
    """Approve or refuse a pending claim. A refusal needs its reason (stored, audited, mailed to the
    claimant); the approval tells the claimant to complete the profile, its deduced sectors first."""
    target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    CLAIM_STATES.check(claim, target)
    structure = claim.structure
    if approve and structure.claimed:
        raise DomainError("Cette fiche est déjà gérée par une autre organisation.")
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise DomainError("Indiquez le motif du refus : il est envoyé à la personne qui a fait la demande.", "reason")
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise DomainError(f"Le motif dépasse {MAX_REASON_LENGTH} caractères ({len(reason)}) : raccourcissez-le.",
                          "reason")
    # who decided, in which capacity, on what evidence: enough to review the decision later
    capacity = ("platform_admin" if actor.is_platform_admin else
                [org.id for org in actor.trusted_organisations(OrganisationKind.FACILITATOR)])
    CLAIM_STATES.move(actor, claim, target, audited=structure,
                      claim_id=claim.id, organisation_id=claim.organisation_id, requested_by_id=claim.requested_by_id,
                      capacity=capacity, evidence=claim.evidence_kind, evidence_value=claim.evidence_value,
                      evidence_document=claim.evidence_path, reason=None if approve else reason)
    claim.decided_by_id, claim.decided_at = actor.id, utcnow()
    claim.decision_reason = None if approve else reason
    if approve:
        structure.owner_organisation_id = claim.organisation_id
        structure.claimed_at = utcnow()
        notify_changed([structure.id])
    requester = db.session.get(User, claim.requested_by_id) if claim.requested_by_id else None
    if requester is not None and requester.active:
        ident = structure_ident(structure)
        queue_mail(requester.email, f"Votre demande pour la fiche {structure.display_name}", "structure_claim_decision",
                   structure=structure, approved=approve, reason=claim.decision_reason,
                   link=external_url("suppliers.edit" if approve else "suppliers.profile", ident=ident))


@dataclass
class ProfileData:
    name: str
    brand: str | None
    description: str | None
    website: str | None
    sector_ids: list[int]
    service_kinds: list[str]
    area_kind: str
    area_radius_km: int | None
    area_refs_text: str
    employees_count: int | None
    inclusion_workers_count: int | None
    turnover_band: str | None


def update_profile(actor: User, structure: Structure, data: ProfileData) -> None:
    """Every change is audited with the fields that changed, then sent to the search index."""
    sectors = list(db.session.execute(select(Sector).where(Sector.id.in_(data.sector_ids))).scalars())
    if len(sectors) != len(set(data.sector_ids)):
        raise DomainError("Secteur inconnu.", "sectors")
    if any(kind not in {k.value for k in ServiceKind} for kind in data.service_kinds):
        raise DomainError("Type de prestation inconnu.", "service_kinds")
    refs: list[str] = []
    if data.area_kind == AreaKind.TERRITORIES:
        refs = parse_territory_list(data.area_refs_text, field="area_refs")
        if not refs:
            raise DomainError("Choisissez au moins une commune, un département ou une région.", "area_refs")
    if data.area_kind == AreaKind.RADIUS and data.area_radius_km not in RADIUS_CHOICES:
        raise DomainError("Choisissez un rayon dans la liste.", "area_radius_km")
    before = _profile_values(structure)
    structure.name, structure.brand = data.name.strip(), (data.brand or "").strip() or None
    structure.description, structure.website = data.description, data.website
    structure.sectors = sectors  # declared: they replace every deduced or given sector
    structure.sectors_given_by = structure.sectors_given_on = None
    structure.service_kinds = data.service_kinds
    structure.area_kind, structure.area_radius_km, structure.area_refs = data.area_kind, data.area_radius_km, refs
    structure.employees_count, structure.inclusion_workers_count = data.employees_count, data.inclusion_workers_count
    structure.turnover_band = data.turnover_band
    refresh_derived(structure)
    mark_sector_origin([structure], inferred=False)
    after = _profile_values(structure)
    changes = {key: after[key] for key in after if after[key] != before[key]}
    audit.record(actor, "structure.updated", structure, changes=changes)
    notify_changed([structure.id])


def _profile_values(structure: Structure) -> dict:
    return {"name": structure.name, "brand": structure.brand, "description": structure.description,
            "website": structure.website, "sectors": sorted(s.id for s in structure.sectors),
            "service_kinds": list(structure.service_kinds or []), "area_kind": structure.area_kind,
            "area_radius_km": structure.area_radius_km, "area_refs": list(structure.area_refs or []),
            "employees_count": structure.employees_count,
            "inclusion_workers_count": structure.inclusion_workers_count, "turnover_band": structure.turnover_band}


def check_upload(data: bytes, allowed: set[str], field: str) -> str:
    """Return the real file type ("pdf", "png", "jpg") from its content, or refuse it."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError("Le fichier dépasse 10 Mo.", field)
    kind = next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), None)
    if kind is None or kind not in allowed:
        names = ", ".join(sorted(k.upper() for k in allowed))
        raise DomainError(f"Le fichier n'est pas un {names} valide (son contenu a été vérifié).", field)
    return kind


def add_env_commitment(actor: User, structure: Structure, label: str, obtained_on: date | None,
                       expires_on: date | None, proof: bytes | None) -> EnvCommitment:
    if label not in {l.value for l in EnvLabel}:
        raise DomainError("Engagement inconnu.", "label")
    if obtained_on and obtained_on > today():
        raise DomainError(f"La date d'obtention ne peut pas être dans le futur (aujourd'hui : {today():%d/%m/%Y}).",
                          "obtained_on")
    if obtained_on and expires_on and expires_on < obtained_on:
        raise DomainError("La date d'expiration précède la date d'obtention.", "expires_on")
    proof_path = store_upload(proof, check_upload(proof, {"pdf", "png", "jpg"}, "proof")) if proof else None
    commitment = EnvCommitment(structure=structure, label=label, obtained_on=obtained_on, expires_on=expires_on,
                               proof_path=proof_path)
    db.session.add(commitment)
    db.session.flush()
    audit.record(actor, "structure.env_added", structure, label=label,
                 expires_on=expires_on.isoformat() if expires_on else None)
    notify_changed([structure.id])
    return commitment


def remove_env_commitment(actor: User, commitment: EnvCommitment) -> None:
    structure = commitment.structure
    db.session.delete(commitment)
    audit.record(actor, "structure.env_removed", structure, label=commitment.label)
    notify_changed([structure.id])


def set_logo(actor: User, structure: Structure, data: bytes) -> None:
    structure.logo_path = store_upload(data, check_upload(data, {"png", "jpg"}, "logo"))
    audit.record(actor, "structure.logo_changed", structure)


def add_reference(actor: User, structure: Structure, client_name: str, description: str | None,
                  year: int | None, file: bytes | None = None) -> ClientReference:
    file_path = store_upload(file, check_upload(file, {"pdf", "png", "jpg"}, "file")) if file else None
    reference = ClientReference(structure=structure, client_name=client_name.strip(), description=description, year=year,
                                file_path=file_path)
    db.session.add(reference)
    db.session.flush()
    audit.record(actor, "structure.reference_added", structure, client=reference.client_name)
    notify_changed([structure.id])
    return reference


def remove_reference(actor: User, reference: ClientReference) -> None:
    structure = reference.structure
    db.session.delete(reference)
    audit.record(actor, "structure.reference_removed", structure, client=reference.client_name)
    notify_changed([structure.id])


def add_contact(actor: User, structure: Structure, name: str, role: str | None, email: str | None,
                phone: str | None) -> StructureContact:
    contact = StructureContact(structure=structure, name=name.strip(), role=role, email=email, phone=phone)
    db.session.add(contact)
    db.session.flush()
    audit.record(actor, "structure.contact_added", structure, name=contact.name)
    return contact


def remove_contact(actor: User, contact: StructureContact) -> None:
    audit.record(actor, "structure.contact_removed", contact.structure, name=contact.name)
    db.session.delete(contact)


def invite_colleague(actor: User, structure: Structure, email: str) -> None:
    """Owners invite a colleague into the owning organisation: an invitation the person accepts or not,
    the same whether an account exists for the address or not (accounts.services.invite)."""
    from ..accounts.services import invite

    organisation = db.session.get(Organisation, structure.owner_organisation_id)
    invitation = invite(actor, organisation, email, subject=f"gérer la fiche « {structure.display_name} »")
    audit.record(actor, "structure.colleague_invited", structure, invitation_id=invitation.id)

