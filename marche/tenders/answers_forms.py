"""Forms of the structure side of a tender: interest, quote, offer, questions and the buyer's answers.

Each form a structure sends carries the structure that answers (`structure`, checked by the view against the
user's organisations: another organisation's structure answers 404)."""
from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.forms import Form, MaxFileSize, ascii_int
from .answers import MAX_MESSAGE_CHARS, MAX_QUESTION_CHARS, MAX_QUOTE_BYTES, NOT_INTERESTED_REASONS


class StructureForm(Form):
    """The structure that answers (an id of the user's structures)."""

    structure = HiddenField()

    def structure_id(self) -> int | None:
        try:
            return ascii_int(self.structure.data)
        except ValueError:
            return None


class InterestForm(StructureForm):
    interest = RadioField("Votre intérêt pour ce lot",
                          choices=[("interested", "Intéressés"), ("not_interested", "Pas intéressés")],
                          validators=[DataRequired("Votre intérêt : choisissez « Intéressés » ou « Pas intéressés ».")])
    reason_code = SelectField("Raison (si pas intéressés)",
                              choices=[("", "— Choisir une raison —"), *NOT_INTERESTED_REASONS.items()],
                              validators=[Optional()])
    reason_text = TextAreaField("Précisions (obligatoires pour « Autre raison »)",
                                validators=[Optional(), Length(max=MAX_MESSAGE_CHARS)])


class QuoteForm(StructureForm):
    message = TextAreaField("Votre réponse à l'acheteur",
                            validators=[DataRequired("Message : écrivez votre réponse à l'acheteur."),
                                        Length(max=MAX_MESSAGE_CHARS)])
    quote = FileField(f"Devis (PDF, {MAX_QUOTE_BYTES // (1024 * 1024)} Mo au plus, facultatif)",
                      validators=[MaxFileSize(MAX_QUOTE_BYTES)])


class OfferForm(StructureForm):
    pass


class QuestionForm(StructureForm):
    body = TextAreaField("Votre question", validators=[DataRequired("Question : écrivez votre question."),
                                                       Length(max=MAX_QUESTION_CHARS)])
    lot = SelectField("Elle porte sur", coerce=ascii_int, default=0, validators=[Optional()])

    def __init__(self, *args, lots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lot.choices = [(0, "La consultation entière")] + [(lot.id, f"Lot {lot.position} : {lot.title}")
                                                              for lot in lots]


class QuestionAnswerForm(Form):
    answer = TextAreaField("Réponse (publiée pour tous, sans le nom de la structure)",
                           validators=[DataRequired("Réponse : écrivez la réponse."), Length(max=MAX_MESSAGE_CHARS)])
