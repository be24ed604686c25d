"""Account and organisation forms (French labels and messages)."""
from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from ..core.forms import Form
from ..core.identifiers import is_valid_siret, normalize_digits
from .models import BuyerCategory, FacilitatorKind, OrganisationKind

REQUIRED = "Ce champ est obligatoire."
#: what the password rule (accounts.services.check_password_strength) asks, shown under every password field
PASSWORD_HINT = "10 caractères au moins, avec des lettres et des chiffres ou symboles."
PUBLIC_KINDS = [k for k in OrganisationKind.choices() if k[0] != OrganisationKind.PLATFORM]


def validate_siret_field(form, field) -> None:
    if field.data and not is_valid_siret(normalize_digits(field.data)):
        raise ValidationError("SIRET invalide")


class OrganisationFieldsMixin:
    kind = SelectField("Type d'organisation", choices=PUBLIC_KINDS, validators=[DataRequired(REQUIRED)])
    organisation_name = StringField("Nom de l'organisation", validators=[DataRequired(REQUIRED), Length(max=250)])
    siret = StringField("SIRET de l'organisation", validators=[DataRequired(REQUIRED), validate_siret_field],
                        description="14 chiffres. Si l'organisation existe déjà, une demande est envoyée à ses administrateurs.")
    buyer_category = SelectField("Catégorie d'acheteur public", choices=[("", "—")] + BuyerCategory.choices(),
                                 validators=[Optional()],
                                 description="Pour les acheteurs publics : détermine les seuils applicables.")
    facilitator_kind = SelectField("Type de service facilitateur", choices=[("", "—")] + FacilitatorKind.choices(),
                                   validators=[Optional()])
    territories = StringField("Territoires de compétence", validators=[Optional(), Length(max=2000)],
                              description="Pour les facilitateurs : départements, communes ou régions couverts.")

    def validate_buyer_category(self, field) -> None:
        if self.kind.data == OrganisationKind.PUBLIC_BUYER and not field.data:
            raise ValidationError("Choisissez la catégorie d'acheteur public.")


class SignupForm(OrganisationFieldsMixin, Form):
    full_name = StringField("Prénom et nom", validators=[DataRequired(REQUIRED), Length(max=200)])
    email = EmailField("Adresse e-mail", validators=[DataRequired(REQUIRED), Email("Adresse e-mail invalide."),
                                                     Length(max=254)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED), Length(min=10, max=200,
                             message="Le mot de passe doit contenir au moins 10 caractères.")],
                             description=PASSWORD_HINT)
    password_confirm = PasswordField("Confirmer le mot de passe",
                                     validators=[DataRequired(REQUIRED),
                                                 EqualTo("password", "Les deux mots de passe diffèrent.")])
    accept_terms = BooleanField("J'accepte les conditions d'utilisation du portail",
                                validators=[DataRequired("Vous devez accepter les conditions d'utilisation.")])


class OrganisationForm(OrganisationFieldsMixin, Form):
    pass


class LoginForm(Form):
    email = EmailField("Adresse e-mail", validators=[DataRequired(REQUIRED)])
    password = PasswordField("Mot de passe", validators=[DataRequired(REQUIRED)])
    remember = BooleanField("Rester connecté")


class ProfileForm(Form):
    full_name = StringField("Prénom et nom", validators=[DataRequired(REQUIRED), Length(max=200)])


class ChangePasswordForm(Form):
    current_password = PasswordField("Mot de passe actuel", validators=[DataRequired(REQUIRED)])
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired(REQUIRED)], description=PASSWORD_HINT)
    password_confirm = PasswordField("Confirmer le nouveau mot de passe",
                                     validators=[DataRequired(REQUIRED),
                                                 EqualTo("password", "Les deux mots de passe diffèrent.")])


class ResetRequestForm(Form):
    email = EmailField("Adresse e-mail", validators=[DataRequired(REQUIRED), Email("Adresse e-mail invalide.")])


class ResetPasswordForm(Form):
    password = PasswordField("Nouveau mot de passe", validators=[DataRequired(REQUIRED)], description=PASSWORD_HINT)
    password_confirm = PasswordField("Confirmer le mot de passe",
                                     validators=[DataRequired(REQUIRED),
                                                 EqualTo("password", "Les deux mots de passe diffèrent.")])


class ResendConfirmationForm(Form):
    email = EmailField("Adresse e-mail", validators=[DataRequired(REQUIRED), Email("Adresse e-mail invalide.")])


class JoinForm(Form):
    siret = StringField("SIRET de l'organisation à rejoindre", validators=[DataRequired(REQUIRED), validate_siret_field])
    message = TextAreaField("Message aux administrateurs (facultatif)", validators=[Optional(), Length(max=1000)])


class DecisionForm(Form):
    """Approve or reject a join request (the button pressed gives the decision)."""


class InviteForm(Form):
    email = EmailField("E-mail de la personne à inviter", validators=[DataRequired(REQUIRED),
                       Email("Adresse e-mail invalide."), Length(max=254)])
