"""Forms of the drafting pages: the tender, a lot, the clause builder of a lot, an attachment. Choices from the
database (sectors) are passed in by the view; business checks live in `tenders.drafting`."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, DateTimeLocalField, EmailField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, URLField, widgets)
from wtforms.validators import DataRequired, Length, Optional

from ..clauses import legal
from ..clauses.catalogue import EligiblePublic, EnvironmentalCondition, FulfilmentMode
from ..clauses.rules import SOCIAL_CONSIDERATION
from ..core.forms import AsciiIntegerField, Form, ascii_int
from ..suppliers.models import EnvLabel
from .drafting import MAX_ATTACHMENT_BYTES, LotInput, TenderInput
from .models import Nature, TenderKind

REQUIRED = "Ce champ est obligatoire."
DATE_ERROR = "Date invalide : utilisez le format jj/mm/aaaa."
DATETIME_ERROR = "Date et heure invalides."


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class TenderForm(Form):
    title = StringField("Intitulé de la consultation", validators=[DataRequired(REQUIRED), Length(max=250)])
    object = TextAreaField("Objet", validators=[Optional(), Length(max=10_000)],
                           description="Ce que vous achetez, pour qui, où, pendant combien de temps.")
    kind = SelectField("Type de consultation", choices=TenderKind.choices(), default=TenderKind.CALL_FOR_TENDERS)
    procedure = SelectField("Procédure", choices=[("", "À déterminer")] + [(p, p) for p in legal.PROCEDURES],
                            validators=[Optional()])
    defence = BooleanField("Marché de défense ou de sécurité")
    specific_services = BooleanField("Services sociaux et autres services spécifiques")
    cpv_codes = StringField("Codes CPV", validators=[Optional(), Length(max=400)],
                            description="Le code principal d'abord, au format 12345678-9, séparés par des virgules.")
    nature = SelectField("Nature", choices=[("", "Déduite du code CPV principal")] + Nature.choices(),
                         validators=[Optional()])
    sectors = SelectMultipleField("Secteurs d'activité", coerce=ascii_int, validators=[Optional()],
                                  description="Tapez pour chercher un secteur ; plusieurs choix possibles.")
    place_ref = StringField("Lieu d'exécution", validators=[Optional(), Length(max=40)],
                            description="Commune, département ou région : tapez un nom ou un numéro.")
    amount = StringField("Montant estimé (€ HT)", validators=[Optional(), Length(max=40)],
                         description="Pour toute la durée, tous lots confondus, par exemple 250 000.")
    duration_months = AsciiIntegerField("Durée (mois)", validators=[Optional()])
    launch_date = DateField("Date de lancement", validators=[Optional()],
                            description="Les obligations légales s'apprécient à cette date.")
    questions_deadline = DateTimeLocalField("Date limite des questions", validators=[Optional()],
                                            format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    answers_deadline = DateTimeLocalField("Date limite de réponse", validators=[Optional()],
                                          format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    planned_notification = DateField("Notification prévue", validators=[Optional()])
    contact_name = StringField("Nom du contact", validators=[Optional(), Length(max=200)])
    contact_email = EmailField("E-mail du contact", validators=[Optional(), Length(max=254)])
    contact_phone = StringField("Téléphone du contact", validators=[Optional(), Length(max=30)])
    buyer_profile_url = URLField("Lien vers le profil d'acheteur (DCE complet)", validators=[Optional(), Length(max=500)])
    allotted = BooleanField("Consultation allotie (plusieurs lots)")
    note = TextAreaField("Motif de la modification (rectificatif)", validators=[Optional(), Length(max=2000)],
                         description="Consultation publiée : chaque changement est publié comme rectificatif.")

    def __init__(self, *args, sector_groups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = {group.name: [(s.id, s.name) for s in sectors] for group, sectors in sector_groups}
        self._messages = {"launch_date": DATE_ERROR, "planned_notification": DATE_ERROR,
                          "questions_deadline": DATETIME_ERROR, "answers_deadline": DATETIME_ERROR}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name, message in self._messages.items():  # WTForms' own date messages are in English
            field = getattr(self, name)
            if field.errors:
                field.errors = [message]
        return ok

    def to_input(self) -> TenderInput:
        return TenderInput(
            title=self.title.data or "", object=self.object.data or "", kind=self.kind.data,
            procedure=self.procedure.data or None, defence=self.defence.data,
            specific_services=self.specific_services.data, cpv_codes=self.cpv_codes.data or "",
            nature=self.nature.data or None, place_ref=self.place_ref.data, amount=self.amount.data,
            duration_months=self.duration_months.data, launch_date=self.launch_date.data,
            questions_deadline=self.questions_deadline.data, answers_deadline=self.answers_deadline.data,
            planned_notification=self.planned_notification.data, contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "", contact_phone=self.contact_phone.data or "",
            buyer_profile_url=self.buyer_profile_url.data or "", allotted=self.allotted.data,
            sector_ids=self.sectors.data or [])


class LotForm(Form):
    title = StringField("Intitulé du lot", validators=[DataRequired(REQUIRED), Length(max=250)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10_000)])
    amount = StringField("Montant estimé du lot (€ HT)", validators=[Optional(), Length(max=40)])
    cpv_codes = StringField("Codes CPV du lot", validators=[Optional(), Length(max=400)],
                            description="Format 12345678-9, séparés par des virgules.")
    place_ref = StringField("Lieu d'exécution du lot", validators=[Optional(), Length(max=40)],
                            description="Laissez vide : celui de la consultation.")

    def to_input(self) -> LotInput:
        return LotInput(self.title.data or "", self.description.data or "", self.amount.data,
                        self.cpv_codes.data or "", self.place_ref.data)


RESERVATION_CHOICES = [("", "Aucune réservation"),
                       ("siae", f"Réservé aux SIAE ({legal.RESERVATIONS['siae']})"),
                       ("disability", f"Réservé aux EA et ESAT ({legal.RESERVATIONS['disability']})"),
                       ("both", f"Réservé aux SIAE, EA et ESAT ensemble ({legal.RESERVATIONS['both']})")]


class ClauseForm(Form):
    """The builder of one lot's clauses; shares and weights are typed in %."""

    insertion = BooleanField("Clause sociale d'insertion (L2112-2)")
    amount_basis = StringField("Montant servant au calcul (€ HT)", validators=[Optional(), Length(max=40)])
    labour_share = StringField("Part de main-d'œuvre (%)", validators=[Optional(), Length(max=20)])
    insertion_rate = StringField("Taux d'insertion (%)", validators=[Optional(), Length(max=20)])
    hourly_cost = StringField("Coût horaire chargé (€/h)", validators=[Optional(), Length(max=20)])
    hours_override = StringField("Heures retenues (si vous modifiez le calcul)", validators=[Optional(), Length(max=20)])
    override_reason = TextAreaField("Motif de la modification des heures", validators=[Optional(), Length(max=2000)])
    modes = CheckboxesField("Modalités de réalisation acceptées", choices=FulfilmentMode.choices(),
                            validators=[Optional()])
    publics = CheckboxesField("Publics éligibles", choices=EligiblePublic.choices(), validators=[Optional()])
    penalty_per_hour = StringField("Pénalité par heure non réalisée (€ HT)", validators=[Optional(), Length(max=20)])
    reservation = RadioField("Réservation du lot", choices=RESERVATION_CHOICES, default="", validators=[Optional()])
    insertion_object = BooleanField("Marché d'insertion et de qualification (R2123-1 3°)")
    social_criterion = BooleanField("Critère d'attribution social (R2152-7)")
    social_criterion_weight = StringField("Pondération du critère social (%)", validators=[Optional(), Length(max=20)])
    social_criterion_description = TextAreaField("Libellé du critère social", validators=[Optional(), Length(max=2000)])
    environmental_conditions = CheckboxesField("Conditions d'exécution environnementales (L2112-2)",
                                               choices=EnvironmentalCondition.choices(), validators=[Optional()])
    environmental_free_text = TextAreaField("Autre condition environnementale (texte libre)",
                                            validators=[Optional(), Length(max=2000)])
    environmental_criterion = BooleanField("Critère d'attribution environnemental (L2152-7, R2152-7)")
    environmental_criterion_weight = StringField("Pondération du critère environnemental (%)",
                                                 validators=[Optional(), Length(max=20)])
    environmental_criterion_description = TextAreaField("Libellé du critère environnemental",
                                                        validators=[Optional(), Length(max=2000)])
    environmental_criterion_cost = BooleanField(
        "Ce critère est le coût global de l'offre (coût du cycle de vie, caractéristiques environnementales "
        "comprises) : le seul critère qui puisse peser 100 % (R2152-7 1°, R2152-9)")
    required_env = CheckboxesField("Engagements environnementaux exigés", choices=EnvLabel.choices(),
                                   validators=[Optional()],
                                   description="Seules les structures dont l'un de ces engagements est en cours de "
                                               "validité peuvent répondre.")
    waiver_exception = SelectField(
        f"Exception à la considération sociale obligatoire ({SOCIAL_CONSIDERATION.article})",
        choices=[("", "Aucune exception invoquée")] + list(SOCIAL_CONSIDERATION.exceptions), validators=[Optional()])
    waiver_reason = TextAreaField("Motif de l'exception (conservé avec la consultation)",
                                  validators=[Optional(), Length(max=2000)])

    def values(self) -> dict:
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token"}


class AttachmentForm(Form):
    file = FileField(f"Pièce jointe (PDF, {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo au plus)")


class EmptyForm(Form):
    pass
