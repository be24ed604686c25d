"""The clause catalogue (DOMAIN.md §3): ways a holder fulfils the hours (modes), eligible publics, and the
library of environmental execution conditions. Values in English, French label beside them."""
from __future__ import annotations

from ..core.models import LabelledEnum


class FulfilmentMode(LabelledEnum):
    DIRECT_HIRE = "direct_hire", ("Embauche directe (CDI, CDD, contrat de professionnalisation ou "
                                  "d'apprentissage)")
    MADE_AVAILABLE = "made_available", "Mise à disposition par une ETTI, une AI ou un GEIQ"
    SUBCONTRACTING = "subcontracting", ("Sous-traitance ou co-traitance avec une SIAE, une EA ou un ESAT (heures "
                                        "comptées sur le montant sous-traité)")
    TRAINING = "training", "Action de formation"


class EligiblePublic(LabelledEnum):
    LONG_TERM_JOBSEEKER = "long_term_jobseeker", "Demandeurs d'emploi inscrits depuis 12 mois ou plus"
    MINIMUM_INCOME = "minimum_income", "Allocataires du RSA, de l'ASS ou de l'AAH et leurs ayants droit"
    DISABILITY = "disability", "Personnes reconnues travailleurs handicapés (RQTH)"
    YOUNG_UNQUALIFIED = "young_unqualified", ("Jeunes de moins de 26 ans sans qualification (niveau inférieur au "
                                              "CAP) ou suivis par une mission locale")
    OVER_50 = "over_50", "Demandeurs d'emploi de plus de 50 ans"
    IAE = "iae", "Personnes en contrat d'insertion (IAE) ou titulaires d'un PASS IAE (valable 2 ans)"
    PRIORITY_AREA = "priority_area", "Résidents d'un QPV ou d'une commune ZRR / FRR"
    PLIE = "plie", "Personnes suivies par un PLIE"


class EnvironmentalCondition(LabelledEnum):
    REUSE = "reuse", "Réemploi et réutilisation (loi AGEC)"
    SHORT_SUPPLY_CHAIN = "short_supply_chain", "Circuits courts d'approvisionnement"
    PACKAGING = "packaging", "Réduction et reprise des emballages"
    LOW_EMISSION_DELIVERY = "low_emission_delivery", "Livraisons à faibles émissions"
    ECOLABELLED = "ecolabelled", "Produits écolabellisés (Écolabel européen ou équivalent)"
    WASTE_SORTING = "waste_sorting", "Tri et valorisation des déchets"
    FREE_TEXT = "free_text", "Autre condition (texte libre)"


#: the wording of each library condition in the annex (free text: the buyer's own words)
ENVIRONMENTAL_WORDING = {
    EnvironmentalCondition.REUSE: "Le titulaire privilégie le réemploi et la réutilisation des biens et matériaux "
                                  "et justifie la part réemployée.",
    EnvironmentalCondition.SHORT_SUPPLY_CHAIN: "Le titulaire s'approvisionne en circuits courts et indique la "
                                               "provenance des produits livrés.",
    EnvironmentalCondition.PACKAGING: "Le titulaire limite les emballages, utilise des emballages réutilisables "
                                      "ou recyclables et reprend ceux qu'il livre.",
    EnvironmentalCondition.LOW_EMISSION_DELIVERY: "Les livraisons sont effectuées par des véhicules à faibles "
                                                  "émissions ou par des modes actifs.",
    EnvironmentalCondition.ECOLABELLED: "Les produits fournis portent l'Écolabel européen ou un label "
                                        "équivalent.",
    EnvironmentalCondition.WASTE_SORTING: "Le titulaire trie les déchets produits par l'exécution du marché et en "
                                          "justifie la valorisation.",
}
