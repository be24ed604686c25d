"""The schemas of API v1: they read the parameters (French 400 naming the parameter), shape the answers, and the
OpenAPI document is generated from them (apispec), so the document cannot drift from what the code accepts.

A field refuses a bad value by raising `QueryError` itself, carrying the allowed values where they help; the
database checks (does this commune or sector exist) stay in `search.query.parse_query` and `geo.services`.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from ..clauses import calculator, legal
from ..clauses.catalogue import EligiblePublic, EnvironmentalCondition, FulfilmentMode
from ..clauses.spec import CLAUSE_TYPES
from ..clauses.rules import BUYER_CATEGORIES, Nature
from ..core.identifiers import is_digits, parse_int
from ..geo.services import KINDS as TERRITORY_KINDS
from ..search.need import MAX_LENGTH as NEED_MAX_LENGTH
from ..search.query import (BOOL_VALUES, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_LENGTH, MAX_RADIUS_KM, SORTS,
                            TERRITORY_MODES, QueryError)
from ..suppliers.check import MAX_LINES
from ..suppliers.models import EnvLabel, ServiceKind, SizeBand, StructureKind
from ..tenders.models import LotStatus, TenderKind
from ..tenders.models import Nature as TenderNature
from ..tenders.queries import PUBLIC_STATUSES, RESERVATIONS
from ..tenders.queries import SORTS as TENDER_SORTS
from ..tenders.queries import TERRITORY_MODES as TENDER_TERRITORY_MODES

#: no NUL byte: refused (400) by the input layer before any endpoint
TEXT_PATTERN = "^[^\\x00]*$"
#: the search refuses every control character but TAB
SEARCH_TEXT_PATTERN = "^[^\\x00-\\x08\\x0a-\\x1f]*$"
#: the canonical form of a territory reference (geo.services.CODE_PATTERNS); whether it exists is data
COMMUNE_REF = "commune:([0-9]{5}|2[AB][0-9]{3})"
AREA_REF = f"^({COMMUNE_REF}|dep:([0-9]{{2,3}}|2[AB])|reg:[0-9]{{2,3}})$"
KINDS_LIST = "^((commune|dep|reg|country)(,(commune|dep|reg|country))*)?$"
#: a sector as /api/v1/sectors publishes it: its id, or its slug
SECTOR = "^([0-9]{1,9}|[a-z0-9]+(-[a-z0-9]+)*)$"
#: the yes/no values of a flag (case does not matter)
FLAG_VALUES = [value for value in BOOL_VALUES if value]
#: autocompletes: a limit over 20 is brought back to 20, and 0 to 1 (they ask generously)
MAX_LIMIT = 20


def _values(enum) -> list[str]:
    return [str(member.value) for member in enum]


# --- fields that read a query parameter -------------------------------------------------------

class Text(fields.String):
    """Free text, bounded, without control characters (TAB allowed where `tab` is)."""

    def __init__(self, *, max_length: int | None = None, tab: bool = False, **kwargs):
        pattern = SEARCH_TEXT_PATTERN if tab else TEXT_PATTERN
        checks = [validate.Regexp(pattern)] + ([validate.Length(max=max_length)] if max_length else [])
        super().__init__(validate=checks, **kwargs)
        self.max_length, self.pattern = max_length, re.compile(pattern)

    def _deserialize(self, value, attr, data, **kwargs):
        if not self.pattern.match(value):
            raise QueryError(self.name, f"« {self.name} » contient des caractères non autorisés.")
        if self.max_length and len(value) > self.max_length:
            raise QueryError(self.name, f"La recherche est limitée à {self.max_length} caractères.")
        return value


class Choice(fields.String):
    """One of a fixed list of codes."""

    def __init__(self, choices: list[str], **kwargs):
        super().__init__(validate=validate.OneOf(choices), **kwargs)
        self.choices = list(choices)

    def _deserialize(self, value, attr, data, **kwargs):
        value = value.strip()
        if value not in self.choices:
            raise QueryError(self.name, f"Valeur inconnue pour « {self.name} » : {value}", self.choices)
        return value


class Pattern(fields.String):
    """A value of a documented shape (a territory reference, a sector slug)."""

    def __init__(self, pattern: str, message: str, **kwargs):
        super().__init__(validate=validate.Regexp(pattern), **kwargs)
        self.pattern, self.message = re.compile(pattern), message

    def _deserialize(self, value, attr, data, **kwargs):
        value = value.strip()
        if not self.pattern.match(value):
            raise QueryError(self.name, self.message.format(name=self.name, value=value[:60]))
        return value


class Number(fields.Integer):
    """A whole number written in ASCII digits, within bounds."""

    def __init__(self, low: int, high: int, **kwargs):
        super().__init__(validate=validate.Range(min=low, max=high), **kwargs)
        self.low, self.high = low, high

    def _deserialize(self, value, attr, data, **kwargs):
        number = parse_int(str(value))
        if number is None:
            raise QueryError(self.name, f"« {self.name} » doit être un nombre entier écrit en chiffres (0-9).")
        if not self.low <= number <= self.high:
            raise QueryError(self.name, f"« {self.name} » doit être compris entre {self.low} et {self.high}.")
        return number


class Limit(fields.Integer):
    """The size of an autocomplete's answer: digits only, brought within 1..MAX_LIMIT."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=0), load_default=10,
                         metadata={"description": f"{MAX_LIMIT} résultats au plus", "default": 10}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not is_digits(str(value)):
            raise QueryError(self.name, f"Paramètre « {self.name} » : nombre entier attendu entre 1 et {MAX_LIMIT}.")
        return max(1, min(int(value), MAX_LIMIT))


class Flag(fields.String):
    """Yes or no: 1/0 (also true/false, oui/non, on, in any case), read as a boolean."""

    def __init__(self, *, metadata: dict[str, Any], **kwargs):
        super().__init__(metadata={**metadata, "enum": FLAG_VALUES}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value.lower() not in FLAG_VALUES:
            raise QueryError(self.name, f"« {self.name} » attend 1 ou 0.", ["1", "0"])
        return BOOL_VALUES[value.lower()]


class Repeatable(fields.List):
    """A list parameter: repeated (kind=EI&kind=ACI) or comma-separated (kind=EI,ACI), in order, without doubles."""

    def __init__(self, item: fields.Field, **kwargs):
        super().__init__(item, load_default=list, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = [value] if isinstance(value, str) else value
        parts = [part.strip() for raw in value for part in str(raw).split(",") if part.strip()]
        self.inner.name = self.name
        return list(dict.fromkeys(self.inner.deserialize(part) for part in parts))


class TerritoryRef(fields.String):
    """A territory reference read as `geo.services.parse_ref` reads it (« DEP:2a » is dep:2A), of the given kinds;
    whether it exists is checked against the database by the search."""

    def __init__(self, kinds: tuple[str, ...], pattern: str, **kwargs):
        kwargs.setdefault("metadata", {})["pattern"] = pattern
        super().__init__(**kwargs)
        self.kinds = kinds

    def _deserialize(self, value, attr, data, **kwargs):
        from ..geo.services import TerritoryError, parse_ref

        try:
            kind, code = parse_ref(value)
        except TerritoryError as error:
            raise QueryError(self.name, str(error)) from None
        if kind not in self.kinds:
            kinds = ", ".join(sorted(self.kinds))
            raise QueryError(self.name, f"« {self.name} » attend une référence de type {kinds}.")
        return f"{kind}:{code}"


#: a number as JSON writes it (no sign but minus, no leading zero, no comma): what the document promises
JSON_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class DecimalNumber(fields.Float):
    """A number written as JSON writes it, within bounds, read as a Decimal (no float drift)."""

    def __init__(self, low, high, **kwargs):
        # bounds in the document only: the check is below, in Decimal (a float bound would refuse 0.01 ≥ 0.01)
        kwargs["metadata"] = {**kwargs.get("metadata", {}), "minimum": low, "maximum": high}
        super().__init__(**kwargs)
        self.low, self.high = Decimal(str(low)), Decimal(str(high))

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip()
        if not JSON_NUMBER.match(text):
            raise QueryError(self.name, f"« {self.name} » doit être un nombre (point décimal, par exemple 0.05).")
        number = Decimal(text)
        if not self.low <= number <= self.high:
            raise QueryError(self.name, f"« {self.name} » doit être compris entre {self.low:f} et {self.high:f}.")
        return number


class IsoDate(fields.Date):
    """A calendar day written AAAA-MM-JJ."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = str(value).strip()
        try:
            if not ISO_DATE.match(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise QueryError(self.name, f"« {self.name} » : date attendue au format AAAA-MM-JJ.") from None


# --- parameters -------------------------------------------------------------------------------

class Parameters(Schema):
    """Query parameters: unknown ones are ignored, a single-valued one given twice or given empty is a 400."""

    #: the `error` of a 400 answer
    error_title = "Paramètre invalide"
    #: parameters that may be given empty (an empty text search)
    may_be_empty: tuple[str, ...] = ()

    class Meta:
        unknown = EXCLUDE
        ordered = True

    @pre_load
    def _one_value_each(self, data, **kwargs):
        raw = getattr(data, "data", data)  # webargs hands the request's MultiDict in a proxy
        if not hasattr(raw, "getlist"):
            return data
        for name, field in self.fields.items():
            values = raw.getlist(field.data_key or name)
            if len(values) > 1 and not isinstance(field, fields.List):
                raise QueryError(name, f"« {name} » ne peut être donné qu'une fois (reçu {len(values)} fois).")
            if name not in self.may_be_empty and any(not value.strip() for value in values):
                raise QueryError(name, f"« {name} » est vide : omettez ce paramètre ou donnez-lui une valeur.")
        return data


def _describe(text: str, **kwargs) -> dict[str, Any]:
    return {"metadata": {"description": text, **kwargs}}


class StructureSearchParameters(Parameters):
    may_be_empty = ("q",)

    q = Text(max_length=MAX_QUERY_LENGTH, tab=True,
             **_describe("Texte recherché (nom, enseigne, ville, description…). Sans « territory » ni « near », "
                         "une commune, un département ou un code postal écrit dans le texte devient le territoire "
                         "(« nettoyage Lille »), et un SIRET ou SIREN écrit avec des espaces ou des points est lu "
                         "comme ses chiffres ; la réponse le dit dans « interpreted »",
                         examples=["nettoyage Lille", "espaces verts 59", "123 456 789 00012"]))
    literal = Flag(**_describe("1 : chercher le texte tel quel, sans y lire de lieu ni de SIRET"))
    kind = Repeatable(Choice(_values(StructureKind)),
                      **_describe("Type de structure (répétable, ou liste séparée par des virgules)"))
    sector = Repeatable(Pattern(SECTOR, "Secteur inconnu : {value}"),
                        **_describe("Secteur : identifiant ou slug publiés par /api/v1/sectors (répétable)"))
    territory = TerritoryRef(("commune", "dep", "reg"), AREA_REF,
                             **_describe("Territoire : commune:<code INSEE>, dep:<code>, reg:<code>",
                                         examples=["dep:59", "commune:59350", "reg:32"]))
    territory_mode = Choice(list(TERRITORY_MODES), **_describe(
        "covers : la structure peut intervenir sur le territoire ; located : elle y est implantée"))
    near = TerritoryRef(("commune",), f"^{COMMUNE_REF}$",
                        **_describe("Commune de référence (commune:<code INSEE>) pour une recherche par distance",
                                    examples=["commune:59350"]))
    radius_km = Number(1, MAX_RADIUS_KM, **_describe("Rayon autour de « near », en km (30 par défaut)"))
    env = Repeatable(Choice(_values(EnvLabel)),
                     **_describe("Engagement environnemental en cours de validité, par son code publié (répétable)"))
    service = Repeatable(Choice(_values(ServiceKind)), **_describe("Type de prestation (répétable)"))
    size = Repeatable(Choice(_values(SizeBand)), **_describe("Tranche d'effectif (répétable)"))
    zrr = Flag(**_describe("Implantée en zone de revitalisation rurale (ZRR / FRR) (1 ou 0)"))
    has_references = Flag(**_describe("A des références clients (1 ou 0)"))
    claimed = Flag(**_describe("Fiche revendiquée par la structure (1 ou 0)"))
    sort = Choice(list(SORTS), **_describe(
        "Tri des résultats. Par défaut : distance quand un lieu est donné (« near », « territory » ou lu dans "
        "le texte ; pour un département ou une région, les structures qui y sont implantées d'abord), sinon "
        "pertinence. distance demande un lieu"))
    page = Number(1, MAX_PAGE, **_describe("Page (à partir de 1)", default=1))
    per_page = Number(1, MAX_PER_PAGE, **_describe("Résultats par page", default=20))
    facets = Flag(**_describe("Ajouter le nombre de structures par valeur de chaque filtre (1 ou 0)"))


class ReferenceParameters(Parameters):
    """The autocompletes answer their errors as the rest of the site does."""

    error_title = "Requête invalide"
    may_be_empty = ("q", "kinds", "limit")


class TerritorySearchParameters(ReferenceParameters):
    q = Text(load_default="", **_describe("Nom, code postal ou code INSEE"))
    kinds = fields.String(load_default="", validate=validate.Regexp(KINDS_LIST), metadata={
        "description": f"Types de territoire, séparés par des virgules, parmi : {', '.join(TERRITORY_KINDS)}",
        "examples": ["commune,dep"]})
    limit = Limit()

    @pre_load
    def _known_kinds(self, data, **kwargs):
        raw = data.get("kinds", "") or ""
        unknown = sorted({kind.strip() for kind in raw.split(",") if kind.strip()} - set(TERRITORY_KINDS))
        if unknown:
            raise QueryError("kinds", f"Paramètre « kinds » : valeur inconnue « {unknown[0]} » "
                                      f"(valeurs possibles : {', '.join(TERRITORY_KINDS)}).")
        return data


class CpvSearchParameters(ReferenceParameters):
    q = Text(load_default="", **_describe("Code ou libellé"))
    limit = Limit()


# --- request bodies ---------------------------------------------------------------------------

LOOKUP_EXPECTED = "Corps JSON attendu : {\"sirets\": [\"…\", …]}"


class BodyError(ValueError):
    """A request body of the wrong shape: 400 with this French message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LookupRequest(Schema):
    class Meta:
        unknown = EXCLUDE

    sirets = fields.List(fields.Raw(allow_none=True, metadata={
        "description": "SIRET (14 chiffres) ou SIREN (9), en texte ou en nombre ; toute autre valeur reçoit la réponse "
                       "« invalid »"}), required=True, validate=validate.Length(max=MAX_LINES))

    @pre_load
    def _shape(self, data, **kwargs):
        if not isinstance(data, dict) or not isinstance(data.get("sirets"), list):
            raise BodyError(f"{LOOKUP_EXPECTED} (liste de SIRET ou de SIREN).")
        if len(data["sirets"]) > MAX_LINES:
            raise BodyError(f"La liste contient {len(data['sirets'])} numéros : {MAX_LINES} au plus par requête.")
        return data


# --- answers ----------------------------------------------------------------------------------

def _nullable(field_class, **kwargs):
    return field_class(allow_none=True, **kwargs)


def _enum_list(values: list[str], **kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(values)), **kwargs)


class Error(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    parameter = fields.String(metadata={"description": "Le paramètre en cause, quand il y en a un"})


class ParameterError(Error):
    parameter = fields.String(required=True)
    allowed = fields.List(fields.String(), metadata={"description": "Les valeurs acceptées, quand elles aident"})


class Structure(Schema):
    class Meta:
        ordered = True

    siret = _nullable(fields.String, required=True, validate=validate.Regexp("^[0-9]{14}$"))
    siren = _nullable(fields.String, validate=validate.Regexp("^[0-9]{9}$"))
    name = fields.String(required=True)
    brand = _nullable(fields.String)
    display_name = fields.String()
    kinds = _enum_list(_values(StructureKind), required=True)
    kind_labels = fields.List(fields.String())
    sectors = fields.List(fields.Integer(), required=True)
    sector_names = fields.List(fields.String())
    services = _enum_list(_values(ServiceKind))
    env = _enum_list(_values(EnvLabel))
    city = _nullable(fields.String, required=True)
    postcode = _nullable(fields.String)
    commune = _nullable(fields.String)
    department = _nullable(fields.String, required=True)
    region = _nullable(fields.String)
    latitude = _nullable(fields.Float, required=True)
    longitude = _nullable(fields.Float, required=True)
    area_kind = fields.String(validate=validate.OneOf(["country", "radius", "territories"]))
    area_radius_km = _nullable(fields.Integer)
    area_refs = fields.List(fields.String())
    size_band = _nullable(fields.String)
    employees = _nullable(fields.Integer)
    in_zrr = fields.Boolean()
    has_references = fields.Boolean()
    claimed = fields.Boolean()
    naf = _nullable(fields.String)
    website = _nullable(fields.String)
    siret_status = fields.String(validate=validate.OneOf(["ok", "to_check", "missing"]))
    finess = fields.List(fields.String())
    distance_km = fields.Float(metadata={"description": "Présent quand « near » est donné"})
    url = _nullable(fields.String, required=True, metadata={"description": "Adresse de la fiche publique"})


#: the fields a result shows, in this order (from search.documents.structure_document)
PUBLIC_FIELDS = tuple(name for name in Structure._declared_fields if name not in ("distance_km", "url"))


class Candidate(Schema):
    territory = fields.String(required=True, metadata={"examples": ["commune:67426"]})
    label = fields.String(required=True, metadata={"examples": ["Saint-Martin (67)"]})


class Interpreted(Schema):
    """What the search read in `q`."""

    words = fields.String(required=True, metadata={"description": "Les mots cherchés, sans le lieu lu",
                                                   "examples": ["nettoyage"]})
    territory = fields.String(metadata={"description": "Le territoire lu dans le texte (« peut intervenir à »)",
                                        "examples": ["commune:59350"]})
    territory_label = fields.String(metadata={"examples": ["Lille (59)"]})
    candidates = fields.List(fields.Nested(Candidate), metadata={
        "description": "Un nom porté par plusieurs lieux : aucun n'est choisi, les mots restent des mots ; "
                       "relancer avec territory=<l'un d'eux>"})


class SearchResponse(Schema):
    count = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    results = fields.List(fields.Nested(Structure), required=True)
    backend = fields.String(required=True, validate=validate.OneOf(["meilisearch", "sql"]))
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                         metadata={"description": (
                             "Avec facets=1 : filtre → valeur → nombre de structures. Comptes disjonctifs : le "
                             "nombre d'une valeur tient compte de tous les filtres actifs sauf celui de son propre "
                             "groupe (avec kind=ACI, « EI » donne le nombre d'EI qui répondent aux autres filtres) ; "
                             "un groupe sans filtre actif est compté sur les résultats. Même réponse si "
                             "Meilisearch est indisponible (repli SQL).")})
    interpreted = fields.Nested(Interpreted, metadata={
        "description": "Ce que la recherche a lu dans « q » (absent avec literal=1 ou quand le texte est "
                       "cherché tel quel)"})


class LookupResult(Schema):
    line = fields.Integer(required=True)
    input = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["inclusive", "not_inclusive", "invalid"]))
    siret = _nullable(fields.String)
    siren = fields.String()
    kinds = _enum_list(_values(StructureKind), required=True)
    name = _nullable(fields.String, required=True)
    matched_sirets = fields.List(fields.String())
    reason = fields.String(metadata={"description": "Pourquoi le numéro est invalide"})
    note = fields.String()


class LookupSummary(Schema):
    total = fields.Integer(required=True)
    inclusive = fields.Integer(required=True)
    not_inclusive = fields.Integer(required=True)
    invalid = fields.Integer(required=True)
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    empty_lines = fields.Integer()


class LookupResponse(Schema):
    summary = fields.Nested(LookupSummary, required=True)
    results = fields.List(fields.Nested(LookupResult), required=True)


class Territory(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(TERRITORY_KINDS)))
    code = fields.String(required=True)
    name = fields.String(required=True)
    label = fields.String(required=True)


class TerritoryHit(Schema):
    id = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(TERRITORY_KINDS)))


class TerritoryHits(Schema):
    results = fields.List(fields.Nested(TerritoryHit), required=True)


class CpvHit(Schema):
    code = fields.String(required=True, validate=validate.Regexp("^[0-9]{8}-[0-9]$"))
    label = fields.String(required=True)
    nature = fields.String(required=True, validate=validate.OneOf(["travaux", "fournitures", "services"]))


class CpvHits(Schema):
    results = fields.List(fields.Nested(CpvHit), required=True)


class SectorItem(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)


class SectorGroup(SectorItem):
    sectors = fields.List(fields.Nested(SectorItem), required=True)


class SectorGroups(Schema):
    groups = fields.List(fields.Nested(SectorGroup), required=True)


# --- the need box ---------------------------------------------------------------------------------

class NeedParameters(ReferenceParameters):
    q = Text(load_default="", max_length=NEED_MAX_LENGTH, **_describe(
        "Le besoin en quelques mots, en français (un lieu, une durée et des codes CPV peuvent s'y trouver)",
        examples=["entretien des espaces verts des écoles de Roubaix, 3 ans", "netoyage de bureaux", "90911200"]))


class NeedCpv(CpvHit):
    level = fields.String(required=True, validate=validate.OneOf(["division", "groupe", "classe", "categorie",
                                                                  "sous-categorie"]))


class NeedSector(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True, metadata={"description": "non unique : chaque groupe a son « autre »"})
    name = fields.String(required=True)
    group = fields.String(required=True)


class NeedPlace(Schema):
    ref = fields.String(required=True, metadata={"examples": ["commune:59512"]})
    label = fields.String(required=True)


class NeedAnswer(Schema):
    cpv = fields.List(fields.Nested(NeedCpv), required=True, metadata={"description": "Les meilleurs d'abord"})
    sectors = fields.List(fields.Nested(NeedSector), required=True, metadata={
        "description": "Les secteurs nommés par les mots, puis ceux des codes CPV trouvés"})
    place = fields.Nested(NeedPlace, required=True, allow_none=True)
    duration_months = fields.Integer(required=True, allow_none=True)
    backend = fields.String(required=True, validate=validate.OneOf(["meili", "sql"]), metadata={
        "description": "sql : le moteur de recherche était indisponible, les suggestions viennent de la base"})


# --- clauses ----------------------------------------------------------------------------------

class HoursParameters(Parameters):
    amount = DecimalNumber(0, int(calculator.MAX_AMOUNT), required=True,
                           **_describe("Montant estimé du lot, en euros HT", examples=[1000000]))
    labour_share = DecimalNumber(0, 1, required=True, **_describe(
        "Part de main-d'œuvre dans le montant, en fraction (0.5 pour 50 %)", examples=[0.5]))
    insertion_rate = DecimalNumber(0, 1, required=True, **_describe(
        "Taux d'insertion, en fraction (0.05 pour 5 %)", examples=[0.05]))
    hourly_cost = DecimalNumber(float(calculator.MIN_HOURLY_COST), int(calculator.MAX_HOURLY_COST), required=True,
                                **_describe("Coût horaire chargé, en euros", examples=[30]))


class Hours(Schema):
    hours = fields.Integer(required=True, metadata={"description": "Heures d'insertion, arrondies à l'heure la "
                                                                   "plus proche (demi-heure vers le haut)"})
    etp = fields.Float(required=True, metadata={"description": "Équivalents temps plein : heures ÷ 1 607, "
                                                               "deux décimales"})
    formula = fields.String(required=True, metadata={"description": "La formule et ses chiffres, en français"})


class LegalCheckParameters(Parameters):
    buyer_category = Choice(list(BUYER_CATEGORIES), required=True, **_describe(
        "Catégorie d'acheteur (celles des organisations acheteuses publiques, ou private)"))
    nature = Choice([n.value for n in Nature], required=True, **_describe("Nature du marché"))
    amount = DecimalNumber(0, int(calculator.MAX_AMOUNT), required=True,
                           **_describe("Montant estimé de toute la consultation, en euros HT"))
    launch_date = IsoDate(required=True, **_describe("Date de lancement de la consultation (AAAA-MM-JJ)",
                                                     examples=["2026-08-22"]))
    defence = Flag(load_default=False, **_describe("Marché de défense ou de sécurité (1 ou 0)"))
    specific_services = Flag(load_default=False, **_describe("Services sociaux et autres services spécifiques "
                                                             "(1 ou 0)"))
    procedure = Choice(list(legal.PROCEDURES), **_describe("Procédure envisagée (valeurs des DECP 2024)"))


class ObligationLine(Schema):
    code = fields.String(required=True, validate=validate.OneOf([o.code for o in legal.rules.OBLIGATIONS]))
    label = fields.String(required=True)
    required = fields.Boolean(required=True)
    article = fields.String(required=True)
    threshold = _nullable(fields.Float, required=True, metadata={
        "description": "Seuil en euros HT à partir duquel l'obligation s'applique (null : tout montant)"})
    applies_from = fields.Date(required=True, metadata={"description": "Consultations lancées à partir de ce jour"})
    reason = fields.String(required=True)


class ProcedureAdvice(Schema):
    applies = fields.Boolean(required=True, metadata={"description": "false pour un acheteur privé"})
    procedure = _nullable(fields.String, required=True)
    allowed = fields.List(fields.String(), required=True)
    fits = _nullable(fields.Boolean, required=True, metadata={"description": "null : procédure non donnée ou "
                                                                             "non jugeable"})
    warning = _nullable(fields.String, required=True)
    notes = fields.List(fields.String(), required=True)


class LegalCheckAnswer(Schema):
    obligations = fields.List(fields.Nested(ObligationLine), required=True)
    procedure = fields.Nested(ProcedureAdvice, required=True)


# --- tenders ----------------------------------------------------------------------------------

#: a CPV code or its beginning: 2 to 8 digits, the check digit after a dash for a whole code
CPV_PREFIX = "^[0-9]{2,8}(-[0-9])?$"


class TenderSearchParameters(Parameters):
    may_be_empty = ("q",)

    q = Text(max_length=MAX_QUERY_LENGTH, tab=True, **_describe(
        "Mots cherchés dans le titre, l'objet et les lots (titre, description), sans tenir compte des accents ni "
        "de la casse ; chaque mot doit s'y trouver (les mots d'une lettre sont ignorés)",
        examples=["espaces verts", "nettoyage écoles"]))
    cpv = Repeatable(Pattern(CPV_PREFIX, "« {name} » : code CPV ou début de code attendu (2 à 8 chiffres, par "
                                         "exemple 45 ou 45210000-2), reçu « {value} »."), **_describe(
        "Code CPV de la consultation ou d'un de ses lots, ou son début (répétable) : « 45 » ou « 45000000-7 » "
        "donnent tous les travaux (les zéros de fin d'un code sont sa hiérarchie) ; un code complet doit exister",
        examples=["77310000-6", "90"]))
    sector = Repeatable(Pattern(SECTOR, "Secteur inconnu : {value}"),
                        **_describe("Secteur : identifiant ou slug publiés par /api/v1/sectors (répétable)"))
    territory = TerritoryRef(("commune", "dep", "reg"), AREA_REF, **_describe(
        "Territoire : commune:<code INSEE>, dep:<code>, reg:<code> ; le lieu d'exécution de la consultation ou "
        "d'un lot s'y trouve", examples=["dep:59", "commune:59350", "reg:32"]))
    territory_mode = Choice(list(TENDER_TERRITORY_MODES), **_describe(
        "within (défaut) : lieu dans le territoire ; intersects : dans le territoire ou le contenant (une "
        "consultation sur tout le Nord pour commune:59350 : « là où je peux travailler »)"))
    kind = Repeatable(Choice(_values(TenderKind)), **_describe("Type de consultation (répétable)"))
    reserved = Choice(list(RESERVATIONS), **_describe(
        "Un lot réservé : siae (L2113-13), disability (EA / ESAT, L2113-12), both (les deux ensemble, L2113-14), "
        "any (toute réservation). Un lot réservé aux deux ensemble répond aussi à siae et à disability"))
    clause = Repeatable(Choice(list(CLAUSE_TYPES)), **_describe(
        "Un lot porte au moins un de ces types de clause (répétable)"))
    deadline_after = IsoDate(**_describe("Date limite de réponse ce jour ou après (AAAA-MM-JJ, heure de Paris)",
                                         examples=["2027-01-15"]))
    status = Repeatable(Choice([str(s) for s in PUBLIC_STATUSES]), **_describe(
        "Statut (répétable) ; par défaut published : les consultations ouvertes aux réponses. Une consultation "
        "publiée dont la date limite est passée est closed"))
    sort = Choice(list(TENDER_SORTS), **_describe(
        "deadline (défaut) : date limite la plus proche d'abord ; recent : dernière publiée d'abord"))
    page = Number(1, MAX_PAGE, **_describe("Page (à partir de 1)", default=1))
    per_page = Number(1, MAX_PER_PAGE, **_describe("Résultats par page", default=20))


class Place(Schema):
    ref = fields.String(required=True, metadata={"examples": ["commune:59350"]})
    label = fields.String(required=True, metadata={"examples": ["Lille (59)"]})


class Coded(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)


class TenderLotItem(Schema):
    class Meta:
        ordered = True

    position = fields.Integer(required=True)
    title = fields.String(required=True)
    amount = _nullable(fields.Float, required=True, metadata={"description": "Montant estimé, euros HT"})
    clause_types = _enum_list(list(CLAUSE_TYPES), required=True)
    insertion_hours = _nullable(fields.Integer, required=True, metadata={
        "description": "Heures d'insertion demandées par la clause (null : pas de clause d'insertion)"})


class TenderItem(Schema):
    class Meta:
        ordered = True

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([str(s) for s in PUBLIC_STATUSES]))
    buyer_name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(_values(TenderKind)))
    nature = fields.String(required=True, validate=validate.OneOf(_values(TenderNature)))
    cpv = fields.List(fields.String(), required=True, metadata={"description": "Code principal d'abord"})
    place = fields.Nested(Place, allow_none=True, required=True)
    amount = _nullable(fields.Float, required=True, metadata={"description": "Montant estimé, euros HT"})
    answers_deadline = _nullable(fields.DateTime, required=True)
    published_at = _nullable(fields.DateTime, required=True)
    lots = fields.List(fields.Nested(TenderLotItem), required=True)
    url = fields.String(required=True, metadata={"description": "Adresse de la page de la consultation"})


class TenderPage(Schema):
    count = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    results = fields.List(fields.Nested(TenderItem), required=True)


class InsertionClause(Schema):
    class Meta:
        ordered = True

    hours = fields.Integer(required=True, metadata={"description": "Heures demandées"})
    etp = fields.Float(required=True, metadata={"description": "Heures ÷ 1 607"})
    formula = fields.String(required=True, metadata={"description": "Le calcul du calculateur, en français"})
    hours_written = fields.Boolean(required=True, metadata={
        "description": "true : l'acheteur a écrit les heures lui-même (raison dans override_reason)"})
    override_reason = fields.String(required=True)
    amount_basis = fields.Float(required=True)
    labour_share = fields.Float(required=True)
    insertion_rate = fields.Float(required=True)
    hourly_cost = fields.Float(required=True)
    modes = fields.List(fields.Nested(Coded), required=True, metadata={
        "description": f"Modalités acceptées : {', '.join(_values(FulfilmentMode))}"})
    publics = fields.List(fields.Nested(Coded), required=True, metadata={
        "description": f"Publics éligibles : {', '.join(_values(EligiblePublic))}"})
    penalty_per_hour = _nullable(fields.Float, required=True)


class Reservation(Coded):
    article = fields.String(required=True)


class CriterionWeight(Schema):
    weight = fields.Float(required=True, metadata={"description": "Pondération, en %"})
    description = fields.String(required=True)
    cost = fields.Boolean(required=True, metadata={
        "description": "Critère du coût global de l'offre, caractéristiques environnementales comprises (R2152-9)"})


class LotClausesAnswer(Schema):
    class Meta:
        ordered = True

    insertion = fields.Nested(InsertionClause, allow_none=True, required=True)
    reservation = fields.Nested(Reservation, allow_none=True, required=True)
    insertion_object = fields.Boolean(required=True, metadata={"description": "Marché d'insertion (R2123-1 3°)"})
    social_criterion = fields.Nested(CriterionWeight, allow_none=True, required=True)
    environmental_conditions = fields.List(fields.Nested(Coded), required=True, metadata={
        "description": f"Conditions d'exécution : {', '.join(_values(EnvironmentalCondition))}"})
    environmental_free_text = fields.String(required=True)
    environmental_criterion = fields.Nested(CriterionWeight, allow_none=True, required=True)


class LotAwardAnswer(Schema):
    holder_name = _nullable(fields.String, required=True)
    holder_siret = _nullable(fields.String, required=True)
    amount = _nullable(fields.Float, required=True)
    awarded_on = _nullable(fields.Date, required=True)
    offers_count = _nullable(fields.Integer, required=True)


class TenderLotDetail(TenderLotItem):
    description = fields.String(required=True)
    cpv = fields.List(fields.String(), required=True)
    place = fields.Nested(Place, allow_none=True, required=True, metadata={
        "description": "null : le lieu de la consultation"})
    status = fields.String(required=True, validate=validate.OneOf(_values(LotStatus)))
    insertion_etp = _nullable(fields.Float, required=True)
    clauses = fields.Nested(LotClausesAnswer, required=True)
    award = fields.Nested(LotAwardAnswer, allow_none=True, required=True, metadata={
        "description": "Le titulaire d'un lot attribué (null sinon)"})


class Contact(Schema):
    name = _nullable(fields.String, required=True)
    email = _nullable(fields.String, required=True)
    phone = _nullable(fields.String, required=True)


class Change(Schema):
    field = fields.String(required=True)
    label = fields.String(required=True)
    before = _nullable(fields.String, required=True)
    after = _nullable(fields.String, required=True)


class Rectificatif(Schema):
    created_at = fields.DateTime(required=True)
    changes = fields.List(fields.Nested(Change), required=True)
    note = _nullable(fields.String, required=True)


class TenderDetail(TenderItem):
    object = fields.String(required=True)
    procedure = _nullable(fields.String, required=True)
    duration_months = _nullable(fields.Integer, required=True)
    launch_date = _nullable(fields.Date, required=True)
    questions_deadline = _nullable(fields.DateTime, required=True)
    planned_notification = _nullable(fields.Date, required=True)
    contact = fields.Nested(Contact, required=True)
    buyer_profile_url = _nullable(fields.String, required=True, metadata={
        "description": "Profil d'acheteur où se trouve le dossier de consultation complet"})
    sectors = fields.List(fields.Nested(SectorItem), required=True)
    lots = fields.List(fields.Nested(TenderLotDetail), required=True)
    rectificatifs = fields.List(fields.Nested(Rectificatif), required=True)


# --- market depth (tenders.matching) -----------------------------------------------------------------------------

class MarketDepthParameters(Parameters):
    sector = Repeatable(Pattern(SECTOR, "Secteur inconnu : {value}"), **_describe(
        "Secteur du lot : identifiant ou slug publiés par /api/v1/sectors (répétable : au moins un des secteurs)"))
    kind = Repeatable(Choice(_values(StructureKind)), **_describe(
        "Types de structure admis (répétable) : pour un lot réservé, EI, AI, ACI, ETTI, EITI (SIAE, L2113-13) ou "
        "EA, EATT, ESAT (L2113-12)"))
    territory = TerritoryRef(("commune", "dep", "reg"), AREA_REF, **_describe(
        "Lieu d'exécution : commune:<code INSEE>, dep:<code>, reg:<code> ; la zone d'intervention de la structure "
        "doit le couvrir (absent : toute la France)", examples=["commune:59350", "dep:59"]))
    env = Repeatable(Choice(_values(EnvLabel)), **_describe(
        "Engagement environnemental exigé, en cours de validité (répétable : l'un d'eux suffit)"))


class DepthCandidate(Schema):
    class Meta:
        ordered = True

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    siret = _nullable(fields.String, required=True)
    kinds = _enum_list(_values(StructureKind), required=True)
    city = _nullable(fields.String, required=True)
    claimed = fields.Boolean(required=True)
    score = fields.Integer(required=True, metadata={"description": "Points du classement (voir le README)"})
    distance_km = _nullable(fields.Float, required=True, metadata={
        "description": "Distance au lieu (au centre du territoire pour un département ou une région)"})
    reasons = fields.List(fields.String(), required=True, metadata={"description": "Pourquoi elle convient"})
    url = _nullable(fields.String, required=True)


class MarketDepthAnswer(Schema):
    count = fields.Integer(required=True, metadata={
        "description": "Nombre de structures qui peuvent répondre : le même que /api/v1/structures avec les mêmes "
                       "filtres et territory_mode=covers"})
    results = fields.List(fields.Nested(DepthCandidate), required=True, metadata={
        "description": "Les 20 mieux placées, de la meilleure à la moins bonne"})
    backend = fields.String(required=True, validate=validate.OneOf(["meilisearch", "sql"]))
