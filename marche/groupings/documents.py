"""The grouping's documents: a DC1-style candidacy summary (PDF) and a draft convention de groupement (PDF and
copyable text). Neither is an official form nor legal advice: each says so at its top.

Both read one snapshot of the grouping (`grouping_facts`): the buyer and the tender, the type and liability, the
accepted members (the mandataire first) with their SIRET, address and services, each lot's shares (percent and
amount € HT) and totals, the declared subcontractors (DC4). The convention is written once as numbered articles
(`convention_articles`: heading, paragraphs, items) that give both its text (`templates/groupings/convention.txt`,
not HTML: nothing in it is escaped or interpreted) and its PDF (`templates/groupings/pdf/convention.html`, where
Jinja's autoescape escapes every value users typed). PDFs go through `core.pdf.render_pdf`, whose fetcher reads
only our static files: a URL typed into a member's services is printed, never fetched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import render_template

from ..clauses.calculator import fr_decimal
from ..core.filters import PARIS, fr_number
from .models import Grouping, GroupingKind, GroupingMember
from .services import lot_label, shares_of

DC1_TITLE = "Lettre de candidature — récapitulatif du groupement"
DC1_NOTICE = ("Récapitulatif établi pour vous aider à remplir le formulaire officiel DC1 (lettre de candidature) : "
              "ce document n'est pas le formulaire DC1 et ne le remplace pas.")
CONVENTION_TITLE = "Projet de convention de groupement momentané d'entreprises"
CONVENTION_NOTICE = "Projet de convention — à relire et adapter, ce n'est pas un conseil juridique."
CCP = "code de la commande publique"
TO_COMPLETE = "[à compléter]"


def money(value: Decimal | None) -> str:
    """12345.6 → « 12 345,60 € HT » (narrow no-break spaces, as the clause annex writes them)."""
    return "montant non fixé" if value is None else f"{fr_number(value, 2)} € HT"


def percent(value: Decimal) -> str:
    """33.33 → « 33,33 % », 60.00 → « 60 % »."""
    return f"{fr_decimal(value)} %"


# --- the snapshot ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Party:
    name: str
    siret: str
    address: str
    kinds: tuple[str, ...]
    services: str
    is_mandataire: bool


@dataclass(frozen=True)
class ShareLine:
    member: str
    percent: str
    amount: str


@dataclass(frozen=True)
class LotShares:
    label: str
    price: str
    lines: tuple[ShareLine, ...]
    total_percent: str
    total_amount: str


@dataclass(frozen=True)
class Subcontractor:
    name: str
    siret: str
    services: str
    amount: str
    member: str


@dataclass(frozen=True)
class GroupingFacts:
    buyer: str
    tender_title: str
    tender_reference: str
    duration_months: int | None
    kind: str
    kind_label: str
    jointly_liable: bool
    liability: tuple[str, ...]
    mandataire: str
    parties: tuple[Party, ...]
    lots: tuple[LotShares, ...]
    subcontractors: tuple[Subcontractor, ...]
    pending_invitations: int
    generated_at: datetime

    @property
    def generated_label(self) -> str:
        return f"{self.generated_at:%d/%m/%Y à %H:%M} (heure de Paris)"


def member_address(member: GroupingMember) -> str:
    """A structure: its address, postcode and city; an organisation: its city; otherwise « adresse à compléter »."""
    structure, organisation = member.structure, member.organisation
    if structure is not None and (structure.address or structure.postcode or structure.city):
        town = " ".join(part for part in (structure.postcode, structure.city) if part)
        return ", ".join(part.strip() for part in (structure.address or "", town) if part and part.strip())
    if organisation is not None and organisation.city:
        return organisation.city
    return f"adresse {TO_COMPLETE}"


def liability_wording(kind: str, jointly_liable: bool, mandataire: str) -> tuple[str, ...]:
    """What the type of the grouping commits each member to (CCP R2142-19 to R2142-27; the mandataire's joint
    liability in a conjoint grouping: R2142-24)."""
    if kind == GroupingKind.SOLIDAIRE:
        return ("Groupement solidaire : chaque membre est engagé pour la totalité du marché ; il répond à l'égard de "
                "l'acheteur de l'exécution de l'ensemble des prestations, y compris celles confiées aux autres "
                "membres.",)
    own = ("Groupement conjoint : chaque membre s'engage à exécuter les seules prestations qui lui reviennent, pour "
           "sa part indiquée par lot, et n'en répond qu'à hauteur de cette part.")
    if jointly_liable:
        return own, (f"Le mandataire, {mandataire}, est solidaire de chacun des membres pour ses obligations "
                     f"contractuelles à l'égard de l'acheteur (article R2142-24 du {CCP}).")
    return own, f"Le mandataire, {mandataire}, n'est pas solidaire des autres membres."


def grouping_facts(grouping: Grouping, now: datetime | None = None) -> GroupingFacts:
    """What both documents show, read once: accepted members only, the mandataire first."""
    members = sorted(grouping.accepted_members, key=lambda m: (m.id != grouping.mandataire_id, m.id))
    mandataire = grouping.mandataire.display_name if grouping.mandataire is not None else TO_COMPLETE
    parties = tuple(Party(name=m.display_name, siret=m.siret or f"SIRET {TO_COMPLETE}", address=member_address(m),
                          kinds=tuple(m.structure.kind_labels) if m.structure is not None else (),
                          services=m.services.strip(), is_mandataire=m.id == grouping.mandataire_id)
                    for m in members)
    shares = shares_of(grouping)
    lots = []
    for grouping_lot in sorted(grouping.lots, key=lambda gl: gl.lot.position):
        held = [(m, shares[(m.id, grouping_lot.id)]) for m in members if (m.id, grouping_lot.id) in shares]
        amounts = [s.amount for _, s in held]
        total_amount = sum(amounts, Decimal(0)) if held and None not in amounts else None
        lots.append(LotShares(
            label=lot_label(grouping_lot.lot), price=money(grouping_lot.price),
            lines=tuple(ShareLine(m.display_name, percent(s.percent), money(s.amount)) for m, s in held),
            total_percent=percent(sum((s.percent for _, s in held), Decimal(0))), total_amount=money(total_amount)))
    subcontractors = tuple(Subcontractor(row.name, row.siret, row.services.strip(),
                                         money(row.amount) if row.amount is not None else "montant non précisé",
                                         row.member.display_name)
                           for row in grouping.subcontractors)
    tender = grouping.tender
    return GroupingFacts(
        buyer=tender.organisation.name, tender_title=tender.title, tender_reference=f"n° {tender.id}",
        duration_months=tender.duration_months, kind=grouping.kind, kind_label=grouping.kind_label.lower(),
        jointly_liable=grouping.mandataire_jointly_liable,
        liability=liability_wording(grouping.kind, grouping.mandataire_jointly_liable, mandataire),
        mandataire=mandataire, parties=parties, lots=tuple(lots), subcontractors=subcontractors,
        pending_invitations=len(grouping.pending_members),
        generated_at=(now or datetime.now(PARIS)).astimezone(PARIS))


# --- the DC1-style summary -------------------------------------------------------------------------------------

def dc1_pdf(grouping: Grouping, now: datetime | None = None) -> bytes:
    """The candidacy summary in PDF (needs an application context)."""
    from ..core.pdf import render_pdf  # WeasyPrint is imported on the first document, not at start-up

    facts = grouping_facts(grouping, now)
    return render_pdf("groupings/pdf/dc1.html", title=DC1_TITLE, notice=DC1_NOTICE, facts=facts,
                      issued_on=facts.generated_at.date())


# --- the draft convention --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Article:
    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def _party_line(party: Party) -> str:
    kinds = f" ({', '.join(party.kinds)})" if party.kinds else ""
    role = ", mandataire du groupement" if party.is_mandataire else ""
    return f"{party.name}{kinds}, SIRET {party.siret}, {party.address}{role}"


def _payment(facts: GroupingFacts) -> tuple[str, ...]:
    if facts.kind == GroupingKind.SOLIDAIRE:
        return ("Sauf stipulation contraire du marché, l'acheteur paie le groupement sur un compte unique, ouvert au "
                "nom du mandataire ou des membres du groupement, dont le relevé d'identité bancaire est joint à "
                "l'offre. Si le marché prévoit une répartition des paiements entre les membres, elle suit la "
                "répartition de l'article 6.",
                "Le mandataire reverse à chaque membre, dans un délai de [15] jours suivant leur encaissement, les "
                "sommes correspondant aux prestations qu'il a exécutées, selon la répartition de l'article 6.",
                "Le mandataire présente les demandes de paiement au nom du groupement, à partir des éléments que "
                "chaque membre lui transmet pour ses prestations.")
    return ("Chaque membre est payé directement par l'acheteur, sur son propre compte, pour les prestations qu'il "
            "exécute, dans la limite de sa part indiquée à l'article 6 ; chacun joint son relevé d'identité "
            "bancaire à l'offre.",
            "Chaque membre établit ses demandes de paiement pour ses propres prestations et les transmet au "
            "mandataire, qui les présente à l'acheteur avec celles des autres membres.")


def _default(facts: GroupingFacts) -> tuple[str, ...]:
    if facts.kind == GroupingKind.SOLIDAIRE:
        return ("Si un membre est défaillant, les autres membres exécutent ses prestations à sa place, l'engagement "
                "de chacun portant sur la totalité du marché ; ils se répartissent entre eux, au prorata de leurs "
                "parts, le surcoût, que le membre défaillant leur rembourse.",)
    if facts.jointly_liable:
        return ("Si un membre est défaillant, le mandataire, solidaire de chacun des membres, exécute ou fait "
                "exécuter ses prestations, en accord avec l'acheteur ; le membre défaillant lui rembourse le "
                "surcoût.",)
    return ("Si un membre est défaillant, l'acheteur peut résilier sa part du marché dans les conditions du marché "
            "et du CCAG applicable ; les autres membres continuent d'exécuter leurs propres prestations et le "
            "mandataire en informe l'acheteur sans délai.",)


def convention_articles(facts: GroupingFacts) -> list[Article]:
    """The draft convention, article by article, in the order it is signed."""
    members = [party.name for party in facts.parties]
    articles = [
        Article("Article 1 — Parties", ("Les soussignés :",), tuple(_party_line(p) for p in facts.parties),
                ("ci-après « les membres », constituent un groupement momentané d'entreprises régi par les articles "
                 f"R2142-19 à R2142-27 du {CCP} et par la présente convention.",)),
        Article("Article 2 — Objet",
                (f"La présente convention organise la réponse commune des membres à la consultation « "
                 f"{facts.tender_title} » (référence {facts.tender_reference} sur le portail marche) lancée par "
                 f"{facts.buyer}, puis, si le marché est attribué au groupement, son exécution, pour :",),
                tuple(lot.label for lot in facts.lots)),
        Article("Article 3 — Forme du groupement et responsabilité des membres",
                (f"Le groupement est {facts.kind_label}.",) + facts.liability),
        Article("Article 4 — Mandataire",
                (f"Les membres désignent {facts.mandataire} comme mandataire du groupement (article R2142-23 du "
                 f"{CCP}). Le mandataire :",),
                ("est l'interlocuteur unique de l'acheteur pendant la procédure et l'exécution du marché ;",
                 "représente l'ensemble des membres à l'égard de l'acheteur, dans la limite des habilitations que "
                 "chaque membre lui donne par écrit (signature de la candidature, de l'offre, du marché et de ses "
                 "modifications) ;",
                 "coordonne les prestations des membres, leur planning et leurs interventions, et transmet à chacun "
                 "les informations et documents reçus de l'acheteur ;",
                 "présente à l'acheteur les demandes de paiement du groupement, selon l'article 7."),
                ("Les membres lui transmettent en temps utile les pièces nécessaires à la candidature, à l'offre et à "
                 "l'exécution. Sa mission de coordination est exercée sans rémunération particulière, sauf accord "
                 f"écrit des membres {TO_COMPLETE}.",)),
        Article("Article 5 — Prestations de chaque membre",
                ("Chaque membre exécute les prestations suivantes :",),
                tuple(f"{p.name} : {p.services or f'prestations {TO_COMPLETE}'}" for p in facts.parties)),
    ]
    shares = []
    for lot in facts.lots:
        shares.append(f"{lot.label} — prix du groupement : {lot.price}")
        shares += [f"  {line.member} : {line.percent}, soit {line.amount}" for line in lot.lines]
        shares.append(f"  Total : {lot.total_percent}, soit {lot.total_amount}")
    articles += [
        Article("Article 6 — Répartition par lot",
                ("La part de chaque membre, en pourcentage des prestations du lot et en montant hors taxes sur le "
                 "prix du groupement, est la suivante :",), tuple(shares),
                ("Une modification de cette répartition fait l'objet d'un avenant à la présente convention signé "
                 "par tous les membres, et, après la remise de l'offre, de l'accord de l'acheteur.",)),
        Article("Article 7 — Paiement", _payment(facts)),
        Article("Article 8 — Sous-traitance",
                ("Chaque membre répond à l'égard des autres de ses sous-traitants. Un sous-traitant est déclaré à "
                 "l'acheteur (formulaire DC4) et accepté, ses conditions de paiement agréées, avant de commencer "
                 "ses prestations.",
                 "Sous-traitants déclarés à ce jour :" if facts.subcontractors else
                 "Aucun sous-traitant n'est déclaré à ce jour."),
                tuple(f"{s.name}, SIRET {s.siret}, pour {s.member} : {s.services} ({s.amount})"
                      for s in facts.subcontractors)),
        Article("Article 9 — Retrait, défaillance et remplacement d'un membre",
                ("Avant la remise de l'offre, un membre peut se retirer du groupement en prévenant les autres par "
                 "écrit ; sur le portail marche, la composition ne change que pendant la constitution du groupement "
                 "(le mandataire peut rouvrir un groupement confirmé tant que l'offre n'est pas déposée).",
                 f"Après la remise de la candidature, la composition du groupement ne peut plus être modifiée "
                 f"jusqu'à la signature du marché, sauf dans les cas prévus à l'article R2142-26 du {CCP} "
                 f"(opération de restructuration d'un membre, ou membre dans l'impossibilité d'accomplir sa tâche "
                 f"pour des raisons qui ne sont pas de son fait), avec l'autorisation de l'acheteur. Après la "
                 f"signature, un membre ne se retire pas seul : son remplacement ou la reprise de ses prestations "
                 f"par les autres membres suppose l'accord de l'acheteur, constaté par une modification du marché, "
                 f"et un avenant à la présente convention.") + _default(facts)
                + ("Un membre en redressement ou en liquidation judiciaire en informe sans délai le mandataire, qui "
                   "en informe l'acheteur.",)),
        Article("Article 10 — Durée et dissolution",
                ("La présente convention prend effet à sa signature par tous les membres.",
                 "Elle prend fin de plein droit si le groupement n'est pas retenu, si la consultation est déclarée "
                 "sans suite ou infructueuse, ou si les membres dissolvent le groupement avant la remise de l'offre.",
                 "Si le marché est attribué au groupement, elle dure le temps de son exécution"
                 + (f" (durée prévue : {facts.duration_months} mois)" if facts.duration_months else "")
                 + ", puis jusqu'à l'expiration des délais de garantie et au règlement définitif des comptes entre "
                   "l'acheteur et les membres et entre les membres ; le groupement est alors dissous.")),
        Article("Article 11 — Litiges",
                ("Les membres recherchent d'abord une solution amiable à tout différend né de la présente "
                 "convention ; un différend entre membres ne suspend pas l'exécution du marché due à l'acheteur.",
                 f"À défaut d'accord dans un délai de [30] jours, le différend est porté devant le tribunal "
                 f"compétent {TO_COMPLETE}.")),
        Article("Article 12 — Signatures",
                (f"Fait en {len(members)} exemplaires originaux, un pour chaque membre, le {TO_COMPLETE}.",)),
    ]
    return articles


def _convention_context(grouping: Grouping, now: datetime | None) -> dict:
    facts = grouping_facts(grouping, now)
    return {"title": CONVENTION_TITLE, "notice": CONVENTION_NOTICE, "facts": facts,
            "articles": convention_articles(facts), "issued_on": facts.generated_at.date()}


def convention_text(grouping: Grouping, now: datetime | None = None) -> str:
    """The draft convention as plain text, to copy into a word processor (needs an application context)."""
    text = render_template("groupings/convention.txt", **_convention_context(grouping, now))
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def convention_pdf(grouping: Grouping, now: datetime | None = None) -> bytes:
    """The draft convention in PDF (needs an application context)."""
    from ..core.pdf import render_pdf

    return render_pdf("groupings/pdf/convention.html", **_convention_context(grouping, now))
