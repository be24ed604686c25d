"""Forms of the tender workflow (panel, queue, award); the facilitator choices are passed in by the view."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..core.forms import AsciiIntegerField, Form, ascii_int
from .workflow import MAX_TEXT


class ActionForm(Form):
    """Submit or publish: one button, the CSRF token."""


class ValidateForm(Form):
    note = TextAreaField("Commentaire pour l'acheteur (facultatif)", validators=[Optional(), Length(max=MAX_TEXT)])


class SendBackForm(Form):
    comment = TextAreaField("Ce qu'il faut changer", validators=[Length(max=MAX_TEXT)],
                            description="Envoyé à l'acheteur avec la consultation, qui redevient un brouillon.")


class CancelForm(Form):
    reason = TextAreaField("Motif de l'annulation", validators=[Length(max=MAX_TEXT)],
                           description="Obligatoire : il reste affiché avec la consultation.")


class CommentForm(Form):
    body = TextAreaField("Votre commentaire", validators=[Length(max=MAX_TEXT)])


class AssistForm(Form):
    organisation = SelectField("Facilitateur", coerce=ascii_int, validate_choice=False,
                               description="Seuls les facilitateurs vérifiés dont le territoire couvre le lieu "
                                           "d'exécution sont proposés.")


class AwardForm(Form):
    grouping_id = AsciiIntegerField("Groupement qui a répondu", validators=[Optional()])
    structure_id = AsciiIntegerField("Structure de l'annuaire", validators=[Optional()])
    siret = StringField("SIRET du titulaire", validators=[Optional(), Length(max=20)],
                        description="14 chiffres. Une structure de l'annuaire est reconnue par son SIRET.")
    holder_name = StringField("Nom du titulaire", validators=[Optional(), Length(max=250)],
                              description="Obligatoire pour une entreprise absente de l'annuaire.")
    amount = StringField("Montant attribué (€ HT)", validators=[Optional(), Length(max=30)])
    awarded_on = DateField("Date d'attribution", validators=[Optional()],
                           description="Pas dans le futur, ni avant le lancement de la consultation.")
    offers_count = AsciiIntegerField("Nombre d'offres reçues", validators=[Optional()])


class UnsuccessfulForm(Form):
    reason = TextAreaField("Motif", validators=[Length(max=MAX_TEXT)],
                           description="Par exemple : aucune offre reçue, offres toutes irrégulières ou "
                                       "inacceptables.")
    offers_count = AsciiIntegerField("Nombre d'offres reçues", validators=[Optional()])
