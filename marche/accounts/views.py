"""Signup, login, profile, password reset, organisations and join requests."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from ..core import access
from ..core.errors import render_error
from ..core.forms import add_error, commit_or_report
from ..core.urls import safe_next
from ..extensions import limiter, login_manager
from ..geo.services import parse_territory_list
from . import services, tokens
from .forms import (ChangePasswordForm, DecisionForm, InviteForm, JoinForm, LoginForm, OrganisationForm, ProfileForm,
                    ResendConfirmationForm, ResetPasswordForm, ResetRequestForm, SignupForm)
from .models import User

bp = Blueprint("accounts", __name__)

FACILITATOR_PENDING = ("Votre service facilitateur doit être vérifié par l'équipe de la plateforme avant de pouvoir "
                       "valider des revendications de fiches sur son territoire.")


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The cookie holds the user's current session token (rotated on logout and password changes)."""
    if not session_token or len(session_token) > 64:
        return None
    return services.user_by_session_token(session_token)


#: other domains may send a user to a page of theirs first, after signing in or creating an organisation
#: (suppliers: « Ma fiche », when unclaimed profiles match the organisation's SIRET); each returns a URL or None
LANDINGS: list = []


def register_landing(landing) -> None:
    if landing not in LANDINGS:
        LANDINGS.append(landing)


def landing_for(user: User) -> str | None:
    return next((url for landing in LANDINGS if (url := landing(user))), None)


def organisation_data(form) -> services.OrganisationData:
    return services.OrganisationData(
        name=form.organisation_name.data, kind=form.kind.data, siret=form.siret.data,
        buyer_category=form.buyer_category.data or None, facilitator_kind=form.facilitator_kind.data or None,
        territories=parse_territory_list(form.territories.data or "", field="territories"),
    )


@bp.route("/inscription", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = SignupForm()
    if form.validate_on_submit():
        done = commit_or_report(lambda: services.signup(form.email.data, form.password.data, form.full_name.data,
                                                        organisation_data(form)), form)
        if done:
            user, outcome = done.value
            if form.kind.data == "facilitator" and outcome == "created":
                flash(FACILITATOR_PENDING, "info")
            if outcome == "join_requested":
                flash("Votre compte est créé. Cette organisation existe déjà : ses administrateurs ont reçu "
                      "votre demande pour la rejoindre.", "info")
            flash("Un e-mail de confirmation vient de vous être envoyé. Cliquez sur le lien qu'il contient "
                  "pour activer votre compte.", "success")
            if landing := landing_for(user):
                flash("Une fiche de l'annuaire correspond au SIRET de votre organisation : une fois connecté, la "
                      "plateforme vous proposera de la revendiquer.", "info")
                return redirect(url_for("accounts.login", next=landing))
            return redirect(url_for("accounts.login"))
    return render_template("accounts/signup.html", form=form)


def too_many_attempts():
    return render_error(429, "Trop de tentatives de connexion échouées pour ce compte depuis cette adresse. "
                             "Patientez quelques minutes avant de réessayer, ou réinitialisez votre mot de passe.")


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        address = request.remote_addr or "inconnue"
        outcome, user = commit_or_report(lambda: services.log_in(form.email.data, form.password.data, address)).value
        if outcome == services.LoginOutcome.BLOCKED:
            return too_many_attempts()
        if outcome == services.LoginOutcome.FAILED:
            flash("Adresse e-mail ou mot de passe incorrect.", "error")
        elif outcome == services.LoginOutcome.UNCONFIRMED:
            flash("Confirmez d'abord votre adresse e-mail : utilisez le lien reçu par e-mail, "
                  "ou demandez-en un nouveau ci-dessous.", "warning")
            return render_template("accounts/login.html", form=form, resend=ResendConfirmationForm(email=user.email)), 403
        else:
            login_user(user, remember=form.remember.data)
            flash(f"Bienvenue, {user.full_name}.", "success")
            return redirect(safe_next(request.args.get("next") or landing_for(user)))
    return render_template("accounts/login.html", form=form, resend=None)


@bp.post("/deconnexion")
@login_required
def logout():
    commit_or_report(lambda: services.end_all_sessions(current_user))
    logout_user()
    flash("Vous êtes déconnecté. Vos sessions sur vos autres appareils sont fermées aussi.", "info")
    return redirect(url_for("core.home"))


@bp.get("/compte/confirmer/<token>")
def confirm(token: str):
    try:
        commit_or_report(lambda: services.confirm_email(token))
    except tokens.TokenError as error:
        return render_template("accounts/token_invalid.html", expired=error.expired,
                               form=ResendConfirmationForm()), 400
    flash("Votre adresse e-mail est confirmée. Vous pouvez vous connecter.", "success")
    return redirect(url_for("accounts.login") if not current_user.is_authenticated else url_for("core.home"))


@bp.post("/compte/renvoyer-confirmation")
@limiter.limit("5 per minute")
def resend_confirmation():
    form = ResendConfirmationForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if user is not None and not user.email_confirmed:
            commit_or_report(lambda: services.send_confirmation(user))
    flash("Si un compte non confirmé existe pour cette adresse, un nouveau lien vient d'être envoyé.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def forgot_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        commit_or_report(lambda: services.request_password_reset(form.email.data))
        flash("Si un compte existe pour cette adresse, un lien de réinitialisation vient d'être envoyé.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    try:
        services.user_for_reset(token)
    except tokens.TokenError as error:
        return render_template("accounts/reset_invalid.html", expired=error.expired), 400
    if form.validate_on_submit():
        try:
            done = commit_or_report(lambda: services.reset_password(token, form.password.data), form)
        except tokens.TokenError as error:
            return render_template("accounts/reset_invalid.html", expired=error.expired), 400
        if done:
            flash("Votre mot de passe est modifié. Vous pouvez vous connecter.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/compte", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit() and commit_or_report(lambda: services.update_profile(current_user,
                                                                                     form.full_name.data), form):
        flash("Votre profil est enregistré.", "success")
        return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, pending=services.pending_requests_of(current_user))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if commit_or_report(lambda: services.change_password(current_user, form.current_password.data,
                                                             form.password.data), form):
            # the token changed: keep this browser logged in with the new one, every other session ends
            login_user(current_user._get_current_object(), remember=bool(request.cookies.get(
                current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))))
            flash("Votre mot de passe est modifié.", "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/organisations/nouvelle", methods=["GET", "POST"])
@login_required
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        done = commit_or_report(lambda: services.create_organisation(current_user, organisation_data(form)), form)
        if done:
            organisation = done.value
            flash(f"L'organisation « {organisation.name} » est créée.", "success")
            if not organisation.trusted:
                flash(FACILITATOR_PENDING, "info")
            return redirect(landing_for(current_user) or url_for("accounts.organisation", organisation_id=organisation.id))
    return render_template("accounts/organisation_form.html", form=form)


@bp.route("/organisations/rejoindre", methods=["GET", "POST"])
@login_required
def join():
    form = JoinForm()
    if form.validate_on_submit():
        organisation = services.find_organisation_by_siret(form.siret.data)
        if organisation is None:
            add_error(form.siret, "Aucune organisation inscrite avec ce SIRET. Vous pouvez la créer.")
        elif commit_or_report(lambda: services.request_join(current_user, organisation, form.message.data), form):
            flash(f"Votre demande a été envoyée aux administrateurs de « {organisation.name} ».", "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/join.html", form=form)


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    org = access.get_or_404(services.get_organisation(organisation_id), current_user, "view")
    requests_ = services.pending_requests_for(org) if access.can(current_user, "manage", org) else []
    return render_template("accounts/organisation.html", organisation=org, join_requests=requests_,
                           decision_form=DecisionForm(), invite_form=InviteForm(prefix="invite"))


@bp.post("/organisations/<int:organisation_id>/demandes/<int:request_id>")
@login_required
def decide(organisation_id: int, request_id: int):
    join_request = access.get_or_404(services.get_join_request(organisation_id, request_id), current_user, "decide")
    if not DecisionForm().validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "approve"
    if commit_or_report(lambda: services.decide_join(current_user, join_request, approve)):
        flash("Demande acceptée : la personne est désormais membre." if approve else "Demande refusée.", "success")
    return redirect(url_for("accounts.organisation", organisation_id=organisation_id))


@bp.post("/organisations/<int:organisation_id>/membres/<int:membership_id>/role")
@login_required
def member_role(organisation_id: int, membership_id: int):
    membership = services.get_membership(organisation_id, membership_id)
    if membership is None:
        abort(404)
    access.get_or_404(membership.organisation, current_user, "manage")
    if not DecisionForm().validate_on_submit():
        abort(400)
    if commit_or_report(lambda: services.set_member_role(current_user, membership, request.form.get("role", ""))):
        flash("Rôle modifié.", "success")
    return redirect(url_for("accounts.organisation", organisation_id=organisation_id))


@bp.post("/organisations/<int:organisation_id>/inviter")
@login_required
def invite(organisation_id: int):
    org = access.get_or_404(services.get_organisation(organisation_id), current_user, "manage")
    form = InviteForm(prefix="invite")
    if form.validate_on_submit():
        if commit_or_report(lambda: services.invite(current_user, org, form.email.data)):
            # the same answer whether the address has an account or not: nothing to learn from it
            flash(services.INVITATION_SENT, "success")
    else:
        for errors in form.errors.values():
            flash(errors[0], "error")
    return redirect(url_for("accounts.organisation", organisation_id=organisation_id))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The invitee reads who invites them where, then accepts or declines (logged in as the invited address)."""
    try:
        invitation_ = services.invitation_for(token)
    except tokens.TokenError as error:
        return render_template("accounts/invitation_invalid.html", expired=error.expired), 400
    form = DecisionForm()
    if request.method == "POST":
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not form.validate_on_submit():
            abort(400)
        accept = request.form.get("decision") == "accept"
        if commit_or_report(lambda: services.answer_invitation(current_user, invitation_, accept)):
            if accept:
                flash(f"Vous avez rejoint « {invitation_.organisation.name} ».", "success")
                return redirect(url_for("accounts.organisation", organisation_id=invitation_.organisation_id))
            flash("Invitation déclinée : vous n'avez pas été ajouté à l'organisation.", "info")
            return redirect(url_for("core.home"))
    return render_template("accounts/invitation.html", invitation=invitation_, form=form, token=token)


@bp.get("/administration/organisations")
@login_required
def verifications():
    if not access.can(current_user, "verify_organisations"):
        abort(404)
    return render_template("accounts/verifications.html", organisations=services.organisations_awaiting_verification(),
                           form=DecisionForm())


@bp.post("/administration/organisations/<int:organisation_id>")
@login_required
def verify(organisation_id: int):
    if not access.can(current_user, "verify_organisations"):
        abort(404)
    org = services.get_organisation(organisation_id)
    if org is None:
        abort(404)
    if not DecisionForm().validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "verify"
    if commit_or_report(lambda: services.verify_organisation(current_user, org, approve)):
        flash(f"« {org.name} » est vérifiée : ses pouvoirs de facilitateur sont actifs." if approve else
              f"La vérification de « {org.name} » est refusée.", "success")
    return redirect(url_for("accounts.verifications"))
