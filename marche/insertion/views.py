"""Pages of contracts, participants and hours declarations (blueprint "insertion").

« Mes marchés » lists the contracts a user follows; a contract's page shows its obligation, its hours month by
month with the decisions, and the actions the user may take (declare, validate or reject, correct, withdraw, lock
a month, move the status, name a partner). « Participants » are the keeper's pseudonymous records. A contract, a
declaration or a participant the user may not see answers 404; a refusal of the rules is said in French beside
its field or flashed, nothing changed.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..accounts.models import Organisation
from ..clauses.catalogue import EligiblePublic, FulfilmentMode
from ..core.access import can, get_or_404
from ..core.forms import commit_or_report, flash_form_errors, write_and_return
from ..extensions import db
from ..suppliers.views import profile_url
from . import access, services
from .forms import (ContractForm, CorrectionForm, DecisionForm, DeclareForm, EligibilityForm, EmptyForm, MonthForm,
                    ParticipantForm, PartnerForm, StatusForm)
from .models import Contract, ContractStatus, DeclarationStatus, HoursDeclaration, Participant

bp = Blueprint("insertion", __name__)


def _contract(contract_id: int, action: str = "view") -> Contract:
    contract = get_or_404(db.session.get(Contract, contract_id), current_user, "view")
    if action != "view" and not can(current_user, action, contract):
        abort(404)
    return contract


def _declaration(declaration_id: int, action: str) -> HoursDeclaration:
    declaration = db.session.get(HoursDeclaration, declaration_id)
    if declaration is None or not can(current_user, "view", declaration.contract) \
            or not can(current_user, action, declaration):
        abort(404)
    return declaration


def _status() -> int:
    """A form page rendered again after its POST was refused (a redirect follows every success): 422."""
    return 422 if request.method == "POST" else 200


def _back(contract: Contract, anchor: str = "declarations"):
    return redirect(url_for("insertion.show", contract_id=contract.id) + f"#{anchor}")


def _do(contract: Contract, form, operation, message: str, anchor: str = "declarations"):
    """One write of the contract page, then back to the page."""
    return write_and_return(form, operation, message, _back(contract, anchor))


# --- contracts -------------------------------------------------------------------------------------------

@bp.get("/contrats")
@login_required
def mine():
    return render_template("insertion/contracts.html", contracts=services.contracts_of(current_user),
                           can_create=can(current_user, "create_contract"), statuses=ContractStatus)


def _creating_organisation() -> Organisation:
    organisations = [db.session.get(Organisation, i) for i in sorted(access.kept_organisation_ids(current_user))]
    if not organisations:
        abort(404)
    return organisations[0]


@bp.route("/contrats/nouveau", methods=["GET", "POST"])
@login_required
def create():
    if not can(current_user, "create_contract"):
        abort(404)
    organisation = _creating_organisation()
    form = ContractForm()
    if form.validate_on_submit():
        data = services.ContractData(
            title=form.title.data, reference=form.reference.data or "", buyer_name=form.buyer_name.data or "",
            buyer_siret=form.buyer_siret.data or "", cpv_codes=form.cpv_codes.data or "", amount=form.amount.data,
            starts_on=form.starts_on.data, ends_on=form.ends_on.data, place_ref=form.place_ref.data or "",
            holder_siret=form.holder_siret.data, holder_name=form.holder_name.data or "",
            hours_target=form.hours_target.data, modes=form.modes.data or [], publics=form.publics.data or [])
        done = commit_or_report(lambda: services.create_contract(current_user, organisation, data), form)
        if done:
            flash("Marché enregistré : ses heures d'insertion peuvent être déclarées.", "success")
            return redirect(url_for("insertion.show", contract_id=done.value.id))
    return render_template("insertion/contract_form.html", form=form, organisation=organisation), _status()


@bp.get("/contrats/<int:contract_id>")
@login_required
def show(contract_id: int):
    contract = _contract(contract_id)
    keeper = can(current_user, "keep", contract)
    declarations = services.declarations_of(contract)
    corrected = {d.corrects_id for d in declarations if d.corrects_id and d.status == DeclarationStatus.VALIDATED}
    declare_form = DeclareForm()
    if contract.modes:
        declare_form.mode.choices = [c for c in FulfilmentMode.choices() if c[0] in contract.modes]
    return render_template(
        "insertion/contract.html", contract=contract, declarations=declarations, corrected=corrected,
        keeper=keeper, can_declare=can(current_user, "declare", contract), declare_form=declare_form,
        declares_as_keeper=access.declares_only_as_keeper(current_user, contract),
        decision_form=DecisionForm(), correction_form=CorrectionForm(), empty_form=EmptyForm(),
        month_form=MonthForm(), partner_form=PartnerForm(), status_form=StatusForm(),
        locked=services.locked_months(contract), moves=services.CONTRACT_STATES.targets(contract) if keeper else [],
        state_label=services.CONTRACT_STATES.label, month_label=services.month_label,
        modes=dict(FulfilmentMode.choices()), publics=dict(EligiblePublic.choices()),
        current_month=services.current_month(), profile_url=profile_url,
        import_url=url_for("insertion_import.upload", contract_id=contract.id))


@bp.post("/contrats/<int:contract_id>/declarer")
@login_required
def declare(contract_id: int):
    contract = _contract(contract_id, "declare")
    form = DeclareForm()
    if contract.modes:
        form.mode.choices = [c for c in FulfilmentMode.choices() if c[0] in contract.modes]

    def operation():
        month = services.parse_month(form.month.data)
        hours = services.parse_hours(form.hours.data)
        person = services.participant_for(current_user, contract, form.code.data, form.birth_year.data,
                                          form.sex.data)
        return services.declare(current_user, access.declaring_organisation(current_user, contract), contract,
                                services.LineInput(person, month, form.mode.data, hours))

    return _do(contract, form, operation, "Heures déclarées : elles attendent la validation du facilitateur.",
               "declarer")


@bp.post("/declarations/<int:declaration_id>/valider")
@login_required
def validate(declaration_id: int):
    declaration = _declaration(declaration_id, "decide")
    return _do(declaration.contract, EmptyForm(), lambda: services.validate(current_user, declaration),
               "Déclaration validée.")


@bp.post("/declarations/<int:declaration_id>/rejeter")
@login_required
def reject(declaration_id: int):
    declaration = _declaration(declaration_id, "decide")
    form = DecisionForm()
    return _do(declaration.contract, form, lambda: services.reject(current_user, declaration, form.reason.data),
               "Déclaration rejetée : son motif est visible du déclarant.")


@bp.post("/declarations/<int:declaration_id>/corriger")
@login_required
def correct(declaration_id: int):
    declaration = _declaration(declaration_id, "correct")
    form = CorrectionForm()
    contract = declaration.contract
    return _do(contract, form, lambda: services.correct(
        current_user, access.declaring_organisation(current_user, contract), declaration, form.mode.data,
        services.parse_hours(form.hours.data)), "Correction déclarée : une fois validée, elle remplacera la ligne.")


@bp.post("/declarations/<int:declaration_id>/retirer")
@login_required
def withdraw(declaration_id: int):
    declaration = _declaration(declaration_id, "withdraw")
    return _do(declaration.contract, EmptyForm(), lambda: services.withdraw(current_user, declaration),
               "Déclaration retirée.")


@bp.post("/contrats/<int:contract_id>/verrouiller")
@login_required
def lock(contract_id: int):
    contract = _contract(contract_id, "keep")
    form = MonthForm()
    return _do(contract, form, lambda: services.lock_month(current_user, contract,
                                                           services.parse_month(form.month.data)),
               "Mois verrouillé : il ne reçoit plus de déclaration ni de correction.", "mois")


@bp.post("/contrats/<int:contract_id>/statut")
@login_required
def move(contract_id: int):
    contract = _contract(contract_id, "keep")
    form = StatusForm()
    target = form.target_status() if form.validate_on_submit() else None
    if target is None:
        flash_form_errors(form)
        flash("Statut inconnu.", "error")
        return _back(contract, "statut")
    if commit_or_report(lambda: services.move_contract(current_user, contract, target)):
        flash(f"Marché : {services.CONTRACT_STATES.label(target)}.", "success")
    return _back(contract, "statut")


@bp.post("/contrats/<int:contract_id>/partenaires")
@login_required
def add_partner(contract_id: int):
    contract = _contract(contract_id, "keep")
    form = PartnerForm()
    return _do(contract, form, lambda: services.add_partner(current_user, contract, form.siret.data),
               "Organisation ajoutée : ses membres peuvent déclarer des heures sur ce marché.", "declarants")


# --- participants ----------------------------------------------------------------------------------------

def _participant(participant_id: int, action: str = "view") -> Participant:
    participant = get_or_404(db.session.get(Participant, participant_id), current_user, "view")
    if action != "view" and not can(current_user, action, participant):
        abort(404)
    return participant


@bp.get("/participants")
@login_required
def participants():
    kept = access.kept_organisation_ids(current_user)
    if not kept:
        abort(404)
    return render_template("insertion/participants.html", participants=services.participants_of(kept),
                           publics=dict(EligiblePublic.choices()))


def _participant_data(form: ParticipantForm) -> services.ParticipantData:
    return services.ParticipantData(
        code=form.code.data, birth_year=form.birth_year.data, sex=form.sex.data, publics=form.publics.data or [],
        qpv=form.qpv.data, qpv_code=form.qpv_code.data or "",
        residence_commune_code=form.residence_commune_code.data or "",
        pass_iae_number=form.pass_iae_number.data or "", pass_iae_expires_on=form.pass_iae_expires_on.data)


@bp.route("/participants/nouveau", methods=["GET", "POST"])
@login_required
def new_participant():
    kept = sorted(access.kept_organisation_ids(current_user))
    if not kept:
        abort(404)
    form = ParticipantForm()
    if form.validate_on_submit():
        done = commit_or_report(lambda: services.create_participant(current_user, kept[0], _participant_data(form)),
                                form)
        if done:
            flash(f"Participant {done.value.code} enregistré.", "success")
            return redirect(url_for("insertion.participant", participant_id=done.value.id))
    return render_template("insertion/participant_form.html", form=form, participant=None), _status()


@bp.get("/participants/<int:participant_id>")
@login_required
def participant(participant_id: int):
    person = _participant(participant_id)
    editable = can(current_user, "edit", person)
    lines = [d for d in services.declarations_of_participant(person) if can(current_user, "view", d.contract)]
    return render_template("insertion/participant.html", participant=person, lines=lines, editable=editable,
                           eligibility_form=EligibilityForm(), publics=dict(EligiblePublic.choices()),
                           modes=dict(FulfilmentMode.choices()), month_label=services.month_label)


@bp.route("/participants/<int:participant_id>/modifier", methods=["GET", "POST"])
@login_required
def edit_participant(participant_id: int):
    person = _participant(participant_id, "edit")
    form = ParticipantForm()
    if request.method == "GET":
        form.process(data={"birth_year": str(person.birth_year), "sex": person.sex, "publics": person.publics,
                           "qpv": person.qpv, "qpv_code": person.qpv_code or "",
                           "residence_commune_code": person.residence_commune_code or "",
                           "pass_iae_number": person.pass_iae_number or "",
                           "pass_iae_expires_on": person.pass_iae_expires_on})
    form.code.data = person.code  # a code is not renamed: other files and declarations name it
    if form.validate_on_submit():
        if commit_or_report(lambda: services.update_participant(current_user, person, _participant_data(form)), form):
            flash("Participant mis à jour.", "success")
            return redirect(url_for("insertion.participant", participant_id=person.id))
    return render_template("insertion/participant_form.html", form=form, participant=person), _status()


@bp.post("/participants/<int:participant_id>/eligibilite")
@login_required
def eligibility(participant_id: int):
    person = _participant(participant_id, "edit")
    form = EligibilityForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    elif commit_or_report(lambda: services.record_eligibility(current_user, person, form.checked_on.data)):
        flash("Éligibilité enregistrée.", "success")
    return redirect(url_for("insertion.participant", participant_id=person.id))
