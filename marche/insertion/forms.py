"""The forms of the contract and participant pages (CSRF on each). The rules live in `services`; these only read
the fields, in French."""
from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from ..clauses.catalogue import EligiblePublic, FulfilmentMode
from ..core.forms import Form
from .models import ContractStatus, Sex

REQUIRED = "Ce champ est obligatoire."
DATE_MESSAGE = "Date attendue au format JJ/MM/AAAA."


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FrenchDateField(DateField):
    """A date typed as people write it here (JJ/MM/AAAA), or as AAAA-MM-JJ; a text box, shown as JJ/MM/AAAA."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"placeholder": "JJ/MM/AAAA", "inputmode": "numeric"})
        super().__init__(label, validators, format=["%d/%m/%Y", "%Y-%m-%d"], **kwargs)

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(DATE_MESSAGE) from None


class ContractForm(Form):
    title = StringField("Objet du marché", validators=[DataRequired(REQUIRED), Length(max=300)])
    reference = StringField("Référence du marché (facultatif)", validators=[Optional(), Length(max=64)])
    buyer_name = StringField("Acheteur", validators=[Optional(), Length(max=250)],
                             description="Le nom de l'acheteur public ou privé qui a passé le marché.")
    buyer_siret = StringField("SIRET de l'acheteur (facultatif)", validators=[Optional(), Length(max=20)])
    cpv_codes = StringField("Codes CPV (facultatif)", validators=[Optional(), Length(max=400)],
                            description="Séparés par des virgules, au format 12345678-9.")
    amount = StringField("Montant HT en euros (facultatif)", validators=[Optional(), Length(max=30)])
    starts_on = FrenchDateField("Début d'exécution", validators=[DataRequired(DATE_MESSAGE)])
    ends_on = FrenchDateField("Fin d'exécution", validators=[DataRequired(DATE_MESSAGE)])
    place_ref = StringField("Lieu d'exécution", validators=[Optional(), Length(max=40)],
                            description="Une commune, un département ou une région ; il désigne le facilitateur.")
    holder_siret = StringField("SIRET du titulaire", validators=[DataRequired(REQUIRED), Length(max=20)],
                               description="Une structure de l'annuaire est reconnue par son SIRET.")
    holder_name = StringField("Raison sociale du titulaire", validators=[Optional(), Length(max=250)])
    hours_target = StringField("Heures d'insertion à réaliser", validators=[DataRequired(REQUIRED), Length(max=20)])
    modes = CheckboxesField("Modes de réalisation acceptés (aucun coché : tous)", choices=FulfilmentMode.choices())
    publics = CheckboxesField("Publics éligibles", choices=EligiblePublic.choices())


class DeclareForm(Form):
    code = StringField("Code du participant", validators=[DataRequired(REQUIRED), Length(max=32)],
                       description="Le code que le facilitateur a donné, jamais un nom.")
    month = StringField("Mois (MM/AAAA)", validators=[DataRequired(REQUIRED), Length(max=10)])
    mode = SelectField("Mode", choices=FulfilmentMode.choices())
    hours = StringField("Heures", validators=[DataRequired(REQUIRED), Length(max=12)])
    birth_year = StringField("Année de naissance (nouveau participant)", validators=[Optional(), Length(max=4)])
    sex = SelectField("Sexe (nouveau participant)", choices=[("", "—"), *Sex.choices()], validators=[Optional()])


class DecisionForm(Form):
    reason = TextAreaField("Motif du rejet", validators=[Optional(), Length(max=2000)])


class CorrectionForm(Form):
    mode = SelectField("Mode", choices=FulfilmentMode.choices())
    hours = StringField("Heures corrigées", validators=[DataRequired(REQUIRED), Length(max=12)])


class EmptyForm(Form):
    """A button: only the CSRF token."""


class MonthForm(Form):
    month = StringField("Mois à verrouiller (MM/AAAA)", validators=[DataRequired(REQUIRED), Length(max=10)])


class StatusForm(Form):
    target = HiddenField(validators=[DataRequired()])

    def target_status(self) -> str | None:
        return self.target.data if self.target.data in {s.value for s in ContractStatus} else None


class PartnerForm(Form):
    siret = StringField("SIRET de l'organisation", validators=[DataRequired(REQUIRED), Length(max=20)])


class ParticipantForm(Form):
    code = StringField("Code du participant", validators=[DataRequired(REQUIRED), Length(max=32)],
                       description="Un code de votre choix (lettres sans accent, chiffres, . _ -), jamais un nom.")
    birth_year = StringField("Année de naissance", validators=[DataRequired(REQUIRED), Length(max=4)])
    sex = SelectField("Sexe", choices=Sex.choices())
    publics = CheckboxesField("Publics", choices=EligiblePublic.choices())
    qpv = BooleanField("Réside dans un quartier prioritaire de la politique de la ville (QPV)")
    qpv_code = StringField("Code du QPV (facultatif)", validators=[Optional(), Length(max=16)])
    residence_commune_code = StringField("Commune de résidence, code INSEE (facultatif)",
                                         validators=[Optional(), Length(max=5)],
                                         description="La résidence en ZRR en est déduite.")
    pass_iae_number = StringField("Numéro de PASS IAE (facultatif)", validators=[Optional(), Length(max=32)])
    pass_iae_expires_on = FrenchDateField("Fin de validité du PASS IAE", validators=[Optional()])


class EligibilityForm(Form):
    checked_on = FrenchDateField("Éligibilité vérifiée le", validators=[Optional()])
