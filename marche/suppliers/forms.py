"""Structure profile forms; sector choices are passed in from the database."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (DateField, EmailField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField, URLField, widgets)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from ..core.forms import AsciiIntegerField, Form, ascii_int
from .models import RADIUS_CHOICES, AreaKind, ClaimEvidence, EnvLabel, ServiceKind, TurnoverBand

REQUIRED = "Ce champ est obligatoire."


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ProfileForm(Form):
    name = StringField("Raison sociale", validators=[DataRequired(REQUIRED), Length(max=250)])
    brand = StringField("Enseigne (nom commercial)", validators=[Optional(), Length(max=250)])
    description = TextAreaField("Présentation", validators=[Optional(), Length(max=5000)],
                                description="Ce que fait la structure, pour qui, avec quels moyens.")
    website = URLField("Site internet", validators=[Optional(), Length(max=300)])
    sectors = SelectMultipleField("Secteurs d'activité", coerce=ascii_int, validators=[Optional()],
                                  description="Tapez pour chercher un secteur ; plusieurs choix possibles.")
    service_kinds = CheckboxesField("Types de prestation", choices=ServiceKind.choices(), validators=[Optional()])
    area_kind = RadioField("Zone d'intervention", choices=AreaKind.choices(), default=AreaKind.RADIUS,
                           validators=[DataRequired(REQUIRED)])
    area_radius_km = SelectField("Rayon autour de la structure", coerce=ascii_int,
                                 choices=[(r, f"{r} km") for r in RADIUS_CHOICES], validators=[Optional()])
    area_refs = StringField("Communes, départements ou régions", validators=[Optional(), Length(max=4000)],
                            description="Pour une zone choisie : tapez un nom, un code postal ou un numéro de département.")
    employees_count = AsciiIntegerField("Nombre de salariés", validators=[Optional(), NumberRange(0, 100000,
                                   "Indiquez un nombre entre 0 et 100 000.")])
    inclusion_workers_count = AsciiIntegerField("Dont personnes en insertion ou en situation de handicap",
                                           validators=[Optional(), NumberRange(0, 100000,
                                                       "Indiquez un nombre entre 0 et 100 000.")])
    turnover_band = SelectField("Chiffre d'affaires", choices=[("", "—")] + TurnoverBand.choices(),
                                validators=[Optional()])

    def validate_inclusion_workers_count(self, field) -> None:
        if field.data is not None and self.employees_count.data is not None and field.data > self.employees_count.data:
            raise ValidationError("Ce nombre ne peut pas dépasser le nombre de salariés.")

    def validate_website(self, field) -> None:
        if field.data and not field.data.startswith(("http://", "https://")):
            raise ValidationError("L'adresse doit commencer par http:// ou https://.")


class EnvCommitmentForm(Form):
    label = SelectField("Engagement environnemental", choices=EnvLabel.choices(), validators=[DataRequired(REQUIRED)])
    obtained_on = DateField("Date d'obtention", validators=[Optional()])
    expires_on = DateField("Date d'expiration", validators=[Optional()],
                           description="Laissez vide s'il n'expire pas. Un engagement expiré ne compte plus.")
    proof = FileField("Justificatif (PDF, PNG ou JPEG, 10 Mo au plus)")


class LogoForm(Form):
    logo = FileField("Logo (PNG ou JPEG, 10 Mo au plus)", validators=[DataRequired("Choisissez un fichier.")])


class ReferenceForm(Form):
    client_name = StringField("Client", validators=[DataRequired(REQUIRED), Length(max=250)])
    description = TextAreaField("Prestation réalisée", validators=[Optional(), Length(max=2000)])
    year = AsciiIntegerField("Année", validators=[Optional(), NumberRange(1950, 2100, "Année invalide.")])
    file = FileField("Photo ou document (PDF, PNG ou JPEG, 10 Mo au plus)")


class ContactForm(Form):
    name = StringField("Nom du contact", validators=[DataRequired(REQUIRED), Length(max=200)])
    role = StringField("Fonction", validators=[Optional(), Length(max=200)])
    email = EmailField("E-mail", validators=[Optional(), Email("Adresse e-mail invalide."), Length(max=254)])
    phone = StringField("Téléphone", validators=[Optional(), Length(max=30)])


class ClaimForm(Form):
    evidence_kind = RadioField("Justificatif de votre lien avec la structure", choices=ClaimEvidence.choices(),
                               validators=[DataRequired("Choisissez un justificatif.")])
    document = FileField("Document (PDF, PNG ou JPEG, 10 Mo au plus)",
                         description="Extrait Kbis de moins de 3 mois, convention SIAE, agrément… Seules les personnes "
                                     "qui valident les demandes peuvent l'ouvrir.")
    finess = StringField("Numéro FINESS de l'établissement", validators=[Length(max=20)],
                         description="Pour un ESAT : 9 caractères, tel qu'inscrit au répertoire FINESS.")
    message = TextAreaField("Message pour l'équipe qui valide (facultatif)", validators=[Optional(), Length(max=1000)])

    def validate_document(self, field) -> None:
        if self.evidence_kind.data == ClaimEvidence.DOCUMENT and not field.data:
            raise ValidationError("Joignez le document : extrait Kbis, convention SIAE ou autre pièce officielle.")

    def validate_finess(self, field) -> None:
        if self.evidence_kind.data == ClaimEvidence.FINESS and not (field.data or "").strip():
            raise ValidationError("Indiquez le numéro FINESS de l'établissement.")


class ClaimDecisionForm(Form):
    """One claim's decision on the claims page: the button says which; a refusal needs its reason
    (checked by the service, which also bounds its length)."""

    reason = TextAreaField("Motif du refus", description="Obligatoire pour refuser : il est envoyé à la personne "
                                                         "qui a fait la demande.")


class InviteForm(Form):
    email = EmailField("E-mail du collègue", validators=[DataRequired(REQUIRED), Email("Adresse e-mail invalide.")])


class EmptyForm(Form):
    """A button-only form: just the CSRF token."""


class RenameListForm(Form):
    name = StringField("Nouveau nom de la liste", description="120 caractères au plus.")


class FavoriteForm(Form):
    favorite_list = SelectField("Liste", coerce=ascii_int, validators=[Optional()])
    new_list = StringField("Ou nouvelle liste", validators=[Optional(), Length(max=120)])

    def validate_new_list(self, field) -> None:
        if not field.data and not self.favorite_list.data:
            raise ValidationError("Choisissez une liste ou donnez le nom d'une nouvelle liste.")
