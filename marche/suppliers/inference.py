"""First sectors and kinds of service for imported structures, when the source gives none.

The public lists carry no sectors per structure (data/README.md). Until a structure claims its
profile and fills it, we derive a first sector from an unambiguous NAF code, and the usual kind of
service from the structure's kind. A claimed profile is never touched by the import.
"""
from __future__ import annotations

from .models import ServiceKind, StructureKind

#: NAF (APE form) → sector ids of data/secteurs_lemarche.csv; only codes that name one trade
NAF_SECTORS: dict[str, tuple[int, ...]] = {
    "8130Z": (23,),   # services d'aménagement paysager → Création et entretien des espaces verts
    "8121Z": (8,),    # nettoyage courant des bâtiments → Nettoyage de locaux
    "8122Z": (165,),  # autres activités de nettoyage des bâtiments et nettoyage industriel → Nettoyage industriel
    "3811Z": (137,),  # collecte des déchets non dangereux → Autre (Collecte des déchets)
    "3832Z": (138,),  # récupération de déchets triés → Autre (Recyclage)
    "4779Z": (138,),  # commerce de détail de biens d'occasion → Autre (Recyclage)
    "0113Z": (74,),   # culture de légumes, maraîchage → Maraîchage
    "0210Z": (1,),    # sylviculture → Travaux forestiers
    "4520A": (5,),    # entretien et réparation de véhicules → Garage
    "5610A": (111,),  # restauration traditionnelle → Restaurants, cantines
    "5621Z": (30,),   # services des traiteurs → Traiteur
    "9601A": (13,),   # blanchisserie-teinturerie de gros → Blanchisserie
    "9601B": (13,),   # blanchisserie-teinturerie de détail → Blanchisserie
    "4334Z": (99,),   # travaux de peinture et vitrerie → Peinture & revêtement des murs
    "9522Z": (124,),  # réparation d'appareils électroménagers → Autre (Réparation)
    "4941B": (114,),  # transports routiers de fret de proximité → Transport de marchandises
    "4942Z": (37,),   # services de déménagement → Déménagement
    "1812Z": (113,),  # autre imprimerie → Impressions
}

#: what each kind usually sells: people made available (AI, ETTI, GEIQ, EATT) or services
KIND_SERVICES: dict[str, str] = {
    StructureKind.AI: ServiceKind.STAFFING,
    StructureKind.ETTI: ServiceKind.STAFFING,
    StructureKind.GEIQ: ServiceKind.STAFFING,
    StructureKind.EATT: ServiceKind.STAFFING,
    StructureKind.EI: ServiceKind.SERVICES,
    StructureKind.ACI: ServiceKind.SERVICES,
    StructureKind.EITI: ServiceKind.SERVICES,
    StructureKind.EA: ServiceKind.SERVICES,
    StructureKind.ESAT: ServiceKind.SERVICES,
}


def sector_ids_for(naf_code: str | None) -> tuple[int, ...]:
    return NAF_SECTORS.get((naf_code or "").upper(), ())


def services_for(kinds: list[str]) -> list[str]:
    return sorted({KIND_SERVICES[kind].value for kind in kinds if kind in KIND_SERVICES})
