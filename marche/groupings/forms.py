"""The grouping pages' forms (CSRF on each). The rules live in `services`; these only read the fields."""
from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import AsciiIntegerField, Form, ascii_int
from .models import GroupingKind
from .services import MAX_MESSAGE, MAX_TEXT

KIND_HINT = ("Conjoint : chaque membre ne s'engage que pour sa part. Solidaire : chacun répond de l'exécution de "
             "tout le marché.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StartForm(Form):
    structure_id = AsciiIntegerField("Structure mandataire", validators=[Optional()])
    lot_ids = CheckboxesField("Lots auxquels le groupement répond", coerce=ascii_int)
    kind = RadioField("Type de groupement", choices=GroupingKind.choices(), default=GroupingKind.CONJOINT,
                      description=KIND_HINT)
    jointly_liable = BooleanField("Le mandataire est solidaire des autres membres (groupement conjoint)")


class TermsForm(Form):
    lot_ids = CheckboxesField("Lots auxquels le groupement répond", coerce=ascii_int)
    kind = RadioField("Type de groupement", choices=GroupingKind.choices(), description=KIND_HINT)
    jointly_liable = BooleanField("Le mandataire est solidaire des autres membres (groupement conjoint)")


class InviteStructureForm(Form):
    structure_id = AsciiIntegerField("Structure de l'annuaire", validators=[DataRequired("Choisissez une structure.")])
    services = TextAreaField("Prestations confiées", validators=[Optional(), Length(max=MAX_TEXT)])


class InviteEmailForm(Form):
    email = StringField("Adresse e-mail", validators=[DataRequired("Ce champ est obligatoire."), Length(max=254)])
    company_name = StringField("Raison sociale", validators=[DataRequired("Ce champ est obligatoire."),
                                                             Length(max=250)])
    siret = StringField("SIRET (facultatif)", validators=[Optional(), Length(max=20)])
    services = TextAreaField("Prestations confiées", validators=[Optional(), Length(max=MAX_TEXT)])


class MemberForm(Form):
    """A member chosen among the grouping's (remove, make mandataire)."""

    member_id = AsciiIntegerField("Membre", validators=[DataRequired()])


class AnswerForm(Form):
    decision = RadioField("Réponse", choices=[("accept", "Accepter"), ("decline", "Décliner")],
                          validators=[DataRequired("Acceptez ou déclinez.")])
    organisation_id = AsciiIntegerField("Organisation qui rejoint le groupement", validators=[Optional()])
    reason = TextAreaField("Motif (si vous déclinez, facultatif)", validators=[Optional(), Length(max=1000)])


class SubcontractorForm(Form):
    member_id = AsciiIntegerField("Membre qui sous-traite", validators=[DataRequired("Choisissez le membre.")])
    name = StringField("Raison sociale du sous-traitant", validators=[DataRequired("Ce champ est obligatoire."),
                                                                      Length(max=250)])
    siret = StringField("SIRET du sous-traitant", validators=[DataRequired("Ce champ est obligatoire."),
                                                              Length(max=20)])
    services = TextAreaField("Prestations sous-traitées", validators=[DataRequired("Ce champ est obligatoire."),
                                                                       Length(max=MAX_TEXT)])
    amount = StringField("Montant sous-traité (€ HT, facultatif)", validators=[Optional(), Length(max=30)])


class MessageForm(Form):
    body = TextAreaField("Votre message aux membres", validators=[DataRequired("Écrivez un message."),
                                                                  Length(max=MAX_MESSAGE)])


class DissolveForm(Form):
    reason = TextAreaField("Motif de la dissolution", validators=[DataRequired("Indiquez le motif."),
                                                                  Length(max=2000)])


class EmptyForm(Form):
    """A move with nothing to type (confirm, reopen, submit): the CSRF token only."""
