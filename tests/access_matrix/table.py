"""The expectation table: for each endpoint of the URL map, what each actor must get.

Outcomes, from the actor's side:
- OK: access granted (a page, a file, a redirect after the action, or a form error 200/400);
- LOGIN: redirected to the login page (anonymous on a login-required page);
- FORBIDDEN: 403 (no route answers it today: a role without the right also gets 404 from `can()`);
- HIDDEN: 404, exactly as for an object that does not exist (hidden objects never answer 403).

A row is built by `row(default, anonymous=…, ok=[actors…], other_actor=OUTCOME…)`: every actor
gets the default unless named, so a new actor needs no edit here until its answer differs.
A `Case` names the endpoint, fills its URL from the world's objects and sends a minimal body.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .actors import ACTORS, LOGGED_OUT, NAMES
from .world import (PDF, CLAIMED_SIRET, CONTACT_EMAIL, FAVORITE_LIST_NAME, JOINER_EMAIL, MISSING_ID, MISSING_SIRET,
                    PENDING_SIRET, TENDER_TITLE, UNCLAIMED_NAME, UNCLAIMED_SIRET, World)

OK, LOGIN, FORBIDDEN, HIDDEN = "OK", "LOGIN", "FORBIDDEN", "HIDDEN"

# --- groups of actors, so that rows read as sentences ---------------------------------------------
ADMIN = ("platform_admin",)
BUYER_A = ("public_buyer", "public_buyer_member")  # the two members of the organisation that owns the objects
BUYERS = BUYER_A + ("public_buyer_other", "private_buyer")
#: facilitators whose organisation a platform admin verified: only they have facilitator powers
FACILITATORS = ("facilitator", "facilitator_other")
OWNER = ("structure",)  # member of the organisation that owns the claimed profile
SIGNED_IN = tuple(name for name in NAMES if name not in LOGGED_OUT)


def row(default: str, *, anonymous: str | None = None, ok: Iterable[str] = (), **cells: str) -> dict[str, str]:
    """One outcome per actor: `default`, then `anonymous` (for every logged-out actor, a deactivated
    account included), then OK for `ok`, then named cells."""
    unknown = (set(ok) | set(cells)) - set(NAMES)
    assert not unknown, f"acteurs inconnus dans la table : {sorted(unknown)}"
    outcome = {name: default for name in NAMES}
    if anonymous is not None:
        outcome.update({name: anonymous for name in LOGGED_OUT})
    outcome.update({name: OK for name in ok})
    outcome.update(cells)
    return outcome


PUBLIC = row(OK)
LOGGED_IN = row(OK, anonymous=LOGIN)
NOBODY = row(HIDDEN)
ADMIN_ONLY = row(HIDDEN, anonymous=LOGIN, ok=ADMIN)
OWNER_ONLY = row(HIDDEN, anonymous=LOGIN, ok=OWNER + ADMIN)
BUYER_A_ONLY = row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + ADMIN)
ASKER_ONLY = row(HIDDEN, anonymous=LOGIN, ok=("public_buyer",))
BUYERS_AND_FACILITATORS = row(HIDDEN, anonymous=LOGIN, ok=BUYERS + FACILITATORS + ADMIN)


#: a buyer drafts: members of any buyer organisation, public or private (a platform admin has none)
BUYERS_ONLY = row(HIDDEN, anonymous=LOGIN, ok=BUYERS)
#: buyer A's draft tender: a page anyone may ask for, answered 404 to all but its members
DRAFT_ONLY = row(HIDDEN, ok=BUYER_A + ADMIN)
DRAFT_EDITORS = row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + ADMIN)


@dataclass(frozen=True)
class Case:
    endpoint: str
    expect: dict[str, str]
    #: URL values, from the world's objects (called once per request: some objects are consumed)
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    #: the same URL with objects that do not exist: refused actors must get the same answer
    missing: Callable[[World], dict[str, Any]] | None = None
    #: minimal form body for POST (CSRF is off in the matrix app; tested apart), or JSON body
    data: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    label: str = ""
    #: (text, actors): on a GET page that answers OK, these actors see the text and no one else does
    shows: tuple[str, tuple[str, ...]] | None = None

    @property
    def key(self) -> str:
        return self.endpoint + (f"#{self.label}" if self.label else "")


def claimed(w: World) -> dict:
    return {"ident": CLAIMED_SIRET}


def unknown_structure(w: World) -> dict:
    return {"ident": MISSING_SIRET}


def draft(w: World) -> dict:
    return {"tender_id": w.tender_draft_id}


def published(w: World) -> dict:
    return {"tender_id": w.tender_published_id}


def no_tender(w: World) -> dict:
    return {"tender_id": MISSING_ID}
def tender(key: str):
    """URL values of one of the shared tenders, and of a tender that does not exist."""
    return (lambda w: {"tender_id": w.tender_ids[key]}), (lambda w: {"tender_id": MISSING_ID})


def fresh_tender(status: str, validated: bool = False):
    """A tender per request, for the moves that change theirs."""
    return (lambda w: {"tender_id": w.new_tender(status, validated)}), (lambda w: {"tender_id": MISSING_ID})


#: the tender's buyer organisation and the verified facilitator of its territory (93), not the Nord one
TENDER_FOLLOWERS = BUYER_A + ("facilitator",) + ADMIN
BUYER_A_ROW = row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + ADMIN)
VALIDATOR_ROW = row(HIDDEN, anonymous=LOGIN, ok=("facilitator",) + ADMIN)


def child(kind: str) -> Case:
    return Case("suppliers.remove_child", OWNER_ONLY, label=kind,
                params=lambda w: {"ident": CLAIMED_SIRET, "kind": kind, "child_id": w.new_child(kind)},
                missing=lambda w: {"ident": CLAIMED_SIRET, "kind": kind, "child_id": MISSING_ID})


CASES: list[Case] = [
    # --- core -------------------------------------------------------------------------------
    Case("core.home", PUBLIC),
    # --- insertion: the import of hours declarations (declare: the holder and the keeper; status: who sees) ----
    Case("insertion_import.upload", row(HIDDEN, anonymous=LOGIN, ok=OWNER + ("facilitator",) + ADMIN),
         params=lambda w: {"contract_id": w.contract()["contract_id"]},
         missing=lambda w: {"contract_id": MISSING_ID}),
    Case("insertion_import.status", row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + OWNER + ("facilitator",) + ADMIN),
         params=lambda w: contract("import_id")(w), missing=lambda w: {"contract_id": w.contract()["contract_id"],
                                                           "import_id": MISSING_ID}),
    Case("insertion_import.template_file", PUBLIC, params=lambda w: {"fmt": "xlsx"}),
    Case("core.healthz", PUBLIC),
    # --- pages: what a public site owes, open to all ------------------------------------------
    Case("pages.legal_notice", PUBLIC),
    Case("pages.personal_data", PUBLIC),
    Case("pages.terms", PUBLIC),
    Case("pages.accessibility", PUBLIC),
    Case("pages.status", PUBLIC),
    Case("static", PUBLIC, params=lambda w: {"filename": "css/marche.css"}),
    # the development mail box exists only without an SMTP server: the tests have one
    Case("core.dev_mails", NOBODY),
    Case("core.outbox_admin", ADMIN_ONLY),
    Case("core.outbox_retry", ADMIN_ONLY, params=lambda w: {"message_id": w.new_dead_message()},
         missing=lambda w: {"message_id": MISSING_ID}),
    # a stored PDF: only the buyer who asked for it, not even a platform admin (it is their own list)
    Case("core.document", ASKER_ONLY, params=lambda w: {"document_id": w.document_id},
         missing=lambda w: {"document_id": MISSING_ID}),
    Case("core.document_download", ASKER_ONLY, params=lambda w: {"document_id": w.document_id},
         missing=lambda w: {"document_id": MISSING_ID}),
    # --- accounts: public forms (a logged-in user is sent home, which is still an answer) -----
    Case("accounts.signup", PUBLIC),
    Case("accounts.login", PUBLIC),
    Case("accounts.confirm", PUBLIC, params=lambda w: {"token": "jeton-invalide"}),
    Case("accounts.resend_confirmation", PUBLIC),
    Case("accounts.forgot_password", PUBLIC),
    Case("accounts.reset_password", PUBLIC, params=lambda w: {"token": "jeton-invalide"}),
    Case("accounts.logout", LOGGED_IN),
    Case("accounts.profile", LOGGED_IN),
    Case("accounts.change_password", LOGGED_IN),
    Case("accounts.new_organisation", LOGGED_IN),
    Case("accounts.join", LOGGED_IN),
    # --- accounts: buyer A's organisation page, its join request and its members' roles ---------
    # members see the page; only its administrators see who asks to join (asked before accounts.decide
    # below rejects that request)
    Case("accounts.organisation", BUYER_A_ONLY, params=lambda w: {"organisation_id": w.organisations["buyer_a"]},
         missing=lambda w: {"organisation_id": MISSING_ID}, shows=(JOINER_EMAIL, ("public_buyer",) + ADMIN)),
    Case("accounts.decide", row(HIDDEN, anonymous=LOGIN, ok=("public_buyer",) + ADMIN), data={"decision": "reject"},
         params=lambda w: {"organisation_id": w.organisations["buyer_a"], "request_id": w.join_request_id},
         missing=lambda w: {"organisation_id": w.organisations["buyer_a"], "request_id": MISSING_ID}),
    # the join request asked with another organisation's id in the URL
    Case("accounts.decide", row(HIDDEN, anonymous=LOGIN), label="wrong-organisation", data={"decision": "reject"},
         params=lambda w: {"organisation_id": w.organisations["buyer_b"], "request_id": w.join_request_id}),
    # an unknown role is refused by the service after access: no role changes during the walk
    # inviting into buyer A's organisation: its administrators (an empty address is a form error)
    Case("accounts.invite", row(HIDDEN, anonymous=LOGIN, ok=("public_buyer",) + ADMIN), data={"invite-email": ""},
         params=lambda w: {"organisation_id": w.organisations["buyer_a"]},
         missing=lambda w: {"organisation_id": MISSING_ID}),
    # an invitation is read by whoever holds its signed link; a forged link is refused to all (400)
    Case("accounts.invitation", PUBLIC, params=lambda w: {"token": "jeton-invalide"}),
    # verifying facilitator organisations: the platform only (each request decides a fresh one)
    Case("accounts.verifications", ADMIN_ONLY),
    Case("accounts.verify", ADMIN_ONLY, data={"decision": "verify"},
         params=lambda w: {"organisation_id": w.new_pending_facilitator()},
         missing=lambda w: {"organisation_id": MISSING_ID}),
    Case("accounts.member_role", row(HIDDEN, anonymous=LOGIN, ok=("public_buyer",) + ADMIN), data={"role": "inconnu"},
         params=lambda w: {"organisation_id": w.organisations["buyer_a"], "membership_id": w.membership_id},
         missing=lambda w: {"organisation_id": w.organisations["buyer_a"], "membership_id": MISSING_ID}),
    # --- territories, catalogues, search (public), search export (logged in) ------------------
    Case("api_v1.territories", PUBLIC),
    Case("api_v1.territory", PUBLIC, params=lambda w: {"ref": "dep:93"}),
    Case("geo.departments_geojson", PUBLIC),
    Case("api_v1.cpv", PUBLIC),
    Case("api_v1.sectors", PUBLIC),
    Case("api_v1.need", PUBLIC),
    Case("need.page", PUBLIC),
    Case("need.suggestions", PUBLIC),
    Case("search.structures", PUBLIC),
    Case("search_map.points", PUBLIC),
    Case("search.export", LOGGED_IN),
    # --- self-created profiles: a structure's member creates; admins and the territory's facilitator verify
    Case("structure_creation.create", row(HIDDEN, anonymous=LOGIN, ok=("structure", "structure_other") + ADMIN)),
    Case("structure_creation.pending", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN)),
    # a refusal without a reason is a form error (400, nothing decided): the profile stays for the next actor
    Case("structure_creation.decide", row(HIDDEN, anonymous=LOGIN, ok=("facilitator",) + ADMIN),
         data={"decision": "refuse"}, params=lambda w: {"ident": PENDING_SIRET}, missing=unknown_structure),
    # --- « Secteurs à compléter »: verified facilitators for their territories, and the platform admins ------
    Case("sector_completion.index", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN)),
    Case("sector_completion.template_file", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN),
         params=lambda w: {"fmt": "csv"}),
    # the list as a spreadsheet: each facilitator gets its own territory's profiles (tested in the supplier tests)
    Case("sector_completion.export", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN),
         params=lambda w: {"fmt": "xlsx"}),
    # an empty upload is a form error (400): nothing is read, nothing changes
    Case("sector_completion.upload", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN)),
    # the unclaimed profile (93): its territory's facilitator and the admins; an empty choice is a form error
    Case("sector_completion.structure", row(HIDDEN, anonymous=LOGIN, ok=("facilitator",) + ADMIN),
         params=lambda w: {"ident": UNCLAIMED_SIRET}, missing=unknown_structure),
    # a claimed profile is its owners' alone: nobody chooses its sectors here, not even an admin
    Case("sector_completion.structure", row(HIDDEN, anonymous=LOGIN), label="claimed", params=claimed,
         missing=unknown_structure),
    Case("sector_completion.structure", row(HIDDEN, anonymous=LOGIN), label="pending",
         params=lambda w: {"ident": PENDING_SIRET}, missing=unknown_structure),
    # --- structure profiles -------------------------------------------------------------------
    Case("suppliers.profile", PUBLIC, params=claimed, missing=unknown_structure, shows=(CONTACT_EMAIL, SIGNED_IN)),
    # a self-created profile waiting for verification: its organisation, the admins and the facilitator
    # of its territory (93) only; 404 for everyone else, anonymous included, exactly as an absent one
    Case("suppliers.profile", row(HIDDEN, ok=OWNER + ("facilitator",) + ADMIN), label="pending",
         params=lambda w: {"ident": PENDING_SIRET}, missing=unknown_structure),
    Case("suppliers.logo", PUBLIC, params=claimed, missing=unknown_structure),
    # a reference's photo or document is part of the public profile (a showcase of past work); a
    # commitment's proof (certificate) is for signed-in users, who check it before buying
    Case("suppliers.reference_file", PUBLIC, missing=lambda w: {
        "ident": CLAIMED_SIRET, "reference_id": MISSING_ID},
        params=lambda w: {"ident": CLAIMED_SIRET, "reference_id": w.reference_id}),
    Case("suppliers.proof", LOGGED_IN, missing=lambda w: {"ident": CLAIMED_SIRET, "commitment_id": MISSING_ID},
         params=lambda w: {"ident": CLAIMED_SIRET, "commitment_id": w.commitment_id}),
    # --- editing a profile: its owners and the platform only; empty bodies are form errors -------
    Case("suppliers.edit", OWNER_ONLY, params=claimed, missing=unknown_structure),
    Case("suppliers.edit", row(HIDDEN, anonymous=LOGIN, ok=ADMIN), label="unclaimed",
         params=lambda w: {"ident": UNCLAIMED_SIRET}),
    Case("suppliers.add_commitment", OWNER_ONLY, params=claimed, missing=unknown_structure),
    Case("suppliers.upload_logo", OWNER_ONLY, params=claimed, missing=unknown_structure),
    Case("suppliers.add_reference", OWNER_ONLY, params=claimed, missing=unknown_structure),
    Case("suppliers.add_contact", OWNER_ONLY, params=claimed, missing=unknown_structure),
    Case("suppliers.invite", OWNER_ONLY, params=claimed, missing=unknown_structure),
    child("engagements"),
    child("references"),
    child("contacts"),
    # --- claims: inclusive structures ask (not for their own profile), facilitators of the
    # territory and the platform decide; the service turns away what access lets through -------
    # only where the SIREN of the claimant's organisation is the profile's (structure B has the unclaimed
    # profile's SIRET; structure A's SIREN is another one, and it already manages its own profile)
    Case("suppliers.claim", row(HIDDEN, anonymous=LOGIN, ok=("structure_other",) + ADMIN),
         label="unclaimed", params=lambda w: {"ident": UNCLAIMED_SIRET}, missing=unknown_structure),
    Case("suppliers.claim", row(HIDDEN, anonymous=LOGIN, ok=ADMIN), label="own-profile", params=claimed),
    # « Ma fiche »: a structure's own profiles, claims and offers (the admin passes every rule, sees nothing)
    Case("suppliers.my_profiles", row(HIDDEN, anonymous=LOGIN, ok=("structure", "structure_other") + ADMIN)),
    Case("suppliers.claims", row(HIDDEN, anonymous=LOGIN, ok=("facilitator", "facilitator_other") + ADMIN),
         shows=(UNCLAIMED_NAME, ("facilitator",) + ADMIN)),
    # the claim's document (Kbis, convention): only those who may decide the claim
    Case("suppliers.claim_evidence", row(HIDDEN, anonymous=LOGIN, ok=("facilitator",) + ADMIN),
         params=lambda w: {"claim_id": w.claim_id}, missing=lambda w: {"claim_id": MISSING_ID}),
    Case("suppliers.decide_claim", row(HIDDEN, anonymous=LOGIN, ok=("facilitator",) + ADMIN),
         data={"decision": "reject"}, params=lambda w: {"claim_id": w.claim_id},
         missing=lambda w: {"claim_id": MISSING_ID}),
    # --- favourites: buyers and facilitators; a list belongs to its organisation ----------------
    Case("suppliers.add_favorite", BUYERS_AND_FACILITATORS, params=claimed, missing=unknown_structure),
    Case("suppliers.favorite_lists", BUYERS_AND_FACILITATORS, shows=(FAVORITE_LIST_NAME, BUYER_A)),
    Case("suppliers.favorite_list", BUYER_A_ONLY, params=lambda w: {"list_id": w.favorite_list_id},
         missing=lambda w: {"list_id": MISSING_ID}),
    Case("suppliers.export_favorites", BUYER_A_ONLY, params=lambda w: {"list_id": w.favorite_list_id},
         missing=lambda w: {"list_id": MISSING_ID}),
    # renaming to an empty name is a form error (400) for those who may; deleting consumes a fresh list
    Case("suppliers.rename_favorite_list", BUYER_A_ONLY, data={"name": ""},
         params=lambda w: {"list_id": w.favorite_list_id}, missing=lambda w: {"list_id": MISSING_ID}),
    Case("suppliers.delete_favorite_list", BUYER_A_ONLY, params=lambda w: {"list_id": w.new_favorite_list()},
         missing=lambda w: {"list_id": MISSING_ID}),
    Case("suppliers.remove_favorite", BUYER_A_ONLY,
         params=lambda w: {"list_id": w.favorite_list_id, "item_id": w.favorite_item()},
         missing=lambda w: {"list_id": w.favorite_list_id, "item_id": MISSING_ID}),
    # --- « Contacter la structure »: any signed-in user (an empty message is a form error, 400) ---
    Case("contact.contact_structure", LOGGED_IN, params=claimed, missing=unknown_structure),
    # --- « Ce fournisseur est-il inclusif ? » (one number, public) and « Vérifier mes fournisseurs » --
    Case("public_check.check", PUBLIC),
    Case("supplier_check.check", BUYERS_AND_FACILITATORS),
    Case("supplier_check.export", BUYERS_AND_FACILITATORS),
    # --- API v1: public and read-only; no token or session gives more ---------------------------
    Case("api_v1.structures", PUBLIC),
    Case("api_v1.structure", PUBLIC, params=lambda w: {"siret": UNCLAIMED_SIRET},
         missing=lambda w: {"siret": MISSING_SIRET}),
    Case("api_v1.lookup", PUBLIC, json={"sirets": [CLAIMED_SIRET, UNCLAIMED_SIRET]}),
    Case("api_v1.openapi", PUBLIC),
    Case("api_v1.market_depth", PUBLIC),
    # --- tenders through the API: published ones to everyone; a draft to no one, its buyer included
    # (the API is the public face: drafts are read on the tender pages, by those who may)
    Case("api_v1.tenders", PUBLIC),
    Case("api_v1.tender", PUBLIC, params=lambda w: {"tender_id": w.tender_published_id}),
    Case("api_v1.tender", NOBODY, label="brouillon", params=lambda w: {"tender_id": w.tender_draft_id},
         missing=lambda w: {"tender_id": MISSING_ID}),
    # --- clauses: the calculator and the legal check of figures (public, no data behind them) ----
    Case("api_v1.clause_hours", PUBLIC, params=lambda w: {"amount": "1000000", "labour_share": "0.5",
                                                          "insertion_rate": "0.05", "hourly_cost": "30"}),
    Case("api_v1.clause_legal_check", PUBLIC, params=lambda w: {"buyer_category": "state", "nature": "works",
                                                                "amount": "5404000", "launch_date": "2026-08-22"}),
    # --- tenders, drafting: buyer A's draft is seen by its members only (404 for everyone else, signed in or
    # not); its published tender by everyone; « Mes consultations » and « Nouvelle consultation » by buyers
    Case("tenders.mine", BUYERS_ONLY),
    Case("tenders.new", BUYERS_ONLY, data={"title": "Matrice"}),
    Case("tenders.show", DRAFT_ONLY, label="brouillon", params=draft, missing=no_tender),
    # everyone reads a published tender; only its buyer (and an admin) is offered to change it
    Case("tenders.show", PUBLIC, label="publiée", params=published,
         shows=("Modifier la consultation", BUYER_A + ADMIN)),
    Case("tenders.edit", DRAFT_EDITORS, params=draft, missing=no_tender, data={"title": "Matrice"}),
    Case("tenders.duplicate", DRAFT_EDITORS, params=draft, missing=no_tender),
    Case("tenders.lots", DRAFT_EDITORS, params=draft, missing=no_tender, data={"title": "Lot de la matrice"}),
    Case("tenders.edit_lot", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.draft_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}, data={"title": "Lot 1"}),
    Case("tenders.remove_lot", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.new_tender_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}),
    Case("tenders.clauses", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.draft_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}),
    Case("tenders.check", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.draft_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}),
    # the market depth panel of a lot (tenders.depth_views): those who see the draft's tools, as the clause page
    Case("tender_depth.page", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.draft_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}),
    Case("tender_depth.panel", DRAFT_EDITORS, params=lambda w: {**draft(w), "lot_id": w.draft_lot()},
         missing=lambda w: {**draft(w), "lot_id": MISSING_ID}),
    Case("tenders.annex", DRAFT_ONLY, params=draft, missing=no_tender),
    Case("tenders.annex_pdf", DRAFT_ONLY, params=draft, missing=no_tender),
    Case("tenders.add_attachment", DRAFT_EDITORS, params=draft, missing=no_tender),
    Case("tenders.attachment", DRAFT_ONLY, label="brouillon",
         params=lambda w: {**draft(w), "attachment_id": w.new_tender_attachment()},
         missing=lambda w: {**draft(w), "attachment_id": MISSING_ID}),
    Case("tenders.attachment", PUBLIC, label="publiée",
         params=lambda w: {**published(w), "attachment_id": w.new_tender_attachment(w.tender_published_id)}),
    Case("tenders.remove_attachment", DRAFT_EDITORS,
         params=lambda w: {**draft(w), "attachment_id": w.new_tender_attachment()},
         missing=lambda w: {**draft(w), "attachment_id": MISSING_ID}),
    # --- tender workflow: the buyer's organisation moves its tender; the verified facilitator of the place
    # (93) validates or sends back; a draft is the buyer's alone (and its assisting facilitator's) ---------
    Case("tender_workflow.show", row(HIDDEN, anonymous=LOGIN, ok=TENDER_FOLLOWERS), label="submitted",
         params=tender("submitted")[0], missing=tender("submitted")[1]),
    Case("tender_workflow.show", BUYER_A_ROW, label="draft", params=tender("draft")[0], missing=tender("draft")[1]),
    Case("tender_workflow.submit", BUYER_A_ROW, params=fresh_tender("draft")[0], missing=fresh_tender("draft")[1]),
    Case("tender_workflow.publish", BUYER_A_ROW, params=fresh_tender("submitted", True)[0],
         missing=fresh_tender("submitted")[1]),
    # an empty reason, comment or choice is a form error (400) for those who may: nothing moves
    Case("tender_workflow.cancel", BUYER_A_ROW, params=tender("draft")[0], missing=tender("draft")[1]),
    Case("tender_workflow.assist", BUYER_A_ROW, params=tender("draft")[0], missing=tender("draft")[1]),
    Case("tender_workflow.comment", row(HIDDEN, anonymous=LOGIN, ok=TENDER_FOLLOWERS),
         params=tender("submitted")[0], missing=tender("submitted")[1]),
    Case("tender_workflow.validate", VALIDATOR_ROW, params=fresh_tender("submitted")[0],
         missing=fresh_tender("submitted")[1]),
    Case("tender_workflow.send_back", VALIDATOR_ROW, params=tender("submitted")[0], missing=tender("submitted")[1]),
    # the queue: verified facilitators (each sees its territory's tenders) and the platform
    Case("tender_workflow.queue", row(HIDDEN, anonymous=LOGIN, ok=FACILITATORS + ADMIN),
         shows=(TENDER_TITLE, ("facilitator",) + ADMIN)),
    # --- tender search and watch (issue 20): the search is public; saved searches are their owner's alone (404 for
    # everyone else, a platform admin included); the feeds answer to their private token, 404 to a wrong one
    Case("tender_search.search", PUBLIC),
    Case("tender_watch.index", LOGGED_IN),
    Case("tender_watch.create", LOGGED_IN, data={"name": "Matrice", "arg_q": "nettoyage"}),
    Case("tender_watch.edit", row(HIDDEN, anonymous=LOGIN, ok=("structure",)),
         params=lambda w: {"saved_id": w.saved_search_id}, missing=lambda w: {"saved_id": MISSING_ID},
         data={"name": "Matrice", "frequency": "weekly"}),
    Case("tender_watch.delete", row(HIDDEN, anonymous=LOGIN, ok=("structure",)),
         params=lambda w: {"saved_id": w.new_saved_search()}, missing=lambda w: {"saved_id": MISSING_ID}),
    Case("tender_watch.renew_feed", row(HIDDEN, anonymous=LOGIN, ok=("structure",)),
         params=lambda w: {"saved_id": w.new_saved_search()}, missing=lambda w: {"saved_id": MISSING_ID}),
    Case("tender_watch.calendar_create", row(HIDDEN, anonymous=LOGIN, ok=("structure",)),
         params=lambda w: {"structure_id": w.claimed_id}, missing=lambda w: {"structure_id": MISSING_ID}),
    Case("tender_watch.atom", PUBLIC, params=lambda w: {"token": w.feed_token},
         missing=lambda w: {"token": "jeton-inconnu"}),
    Case("tender_watch.calendar", PUBLIC, params=lambda w: {"token": w.calendar_token},
         missing=lambda w: {"token": "jeton-inconnu"}),
    Case("api_v1.tenders_search", PUBLIC),
    # awarding a lot of the closed tender (a POST without its outcome is refused, 400: nothing recorded)
    Case("tender_workflow.award", BUYER_A_ROW,
         params=lambda w: {"tender_id": w.tender_ids["closed"], "lot_id": w.tender_lot("closed")},
         missing=lambda w: {"tender_id": w.tender_ids["closed"], "lot_id": MISSING_ID}),
    # --- relay: the one-click unsubscribe link works for whoever holds it (the signed token is the proof; a
    # tampered one is 404); the relay preferences of a profile belong to its organisation's members
    Case("tender_relay.unsubscribe", PUBLIC, params=lambda w: {"token": w.unsubscribe_token()}),
    Case("tender_relay.unsubscribe_confirm", PUBLIC, params=lambda w: {"token": w.unsubscribe_token()}),
    Case("tender_relay.unsubscribe", NOBODY, label="jeton altéré",
         params=lambda w: {"token": w.unsubscribe_token()[:-3] + "xyz"}),
    Case("tender_relay.preferences", OWNER_ONLY, params=claimed, missing=unknown_structure),
    # --- the buyer's funnel of its published tender: its members only (an empty message is a 400) --------
    Case("tender_funnel.show", BUYER_A_ROW, params=published, missing=no_tender),
    Case("tender_funnel.export", BUYER_A_ROW, params=lambda w: {**published(w), "fmt": "csv"},
         missing=lambda w: {**no_tender(w), "fmt": "csv"}),
    Case("tender_funnel.contact", BUYER_A_ROW, params=lambda w: {**published(w), "lot_id": w.published_lot()},
         missing=lambda w: {**published(w), "lot_id": MISSING_ID}),
    Case("tender_funnel.renotify", BUYER_A_ROW, params=lambda w: {**published(w), "lot_id": w.published_lot()},
         missing=lambda w: {**published(w), "lot_id": MISSING_ID}),
]


# --- the structure side of buyer A's published tender (tenders/answers*.py): the claimed profile's members
# answer (a form naming no structure answers for their only one); the buyer reads the questions with their
# asker and the quote; a platform admin speaks for no structure ----------------------------------------------
ANSWER_QUESTION = "Question posée par la matrice"


def published_lot(w: World) -> int:
    from marche.extensions import db
    from marche.tenders.models import Tender

    with w._context():
        lot_id = db.session.get(Tender, w.tender_published_id).lots[0].id
        db.session.remove()
    return lot_id


def structure_question(w: World) -> int:
    """The claimed profile's question on the published tender, unanswered (created once)."""
    from marche.extensions import db
    from marche.tenders.models import TenderQuestion

    with w._context():
        question = db.session.query(TenderQuestion).filter_by(tender_id=w.tender_published_id).first()
        if question is None:
            question = TenderQuestion(tender_id=w.tender_published_id, structure_id=w.claimed_id,
                                      asked_by_id=w.users["structure"], body=ANSWER_QUESTION)
            db.session.add(question)
            db.session.commit()
        question_id = question.id
        db.session.remove()
    return question_id


def structure_quote(w: World) -> dict:
    """URL values of the claimed profile's quote PDF on the published tender's lot (created once)."""
    from marche.core.uploads import store_upload
    from marche.extensions import db
    from marche.tenders.models import LotResponse

    lot_id = published_lot(w)
    with w._context():
        response = db.session.query(LotResponse).filter_by(lot_id=lot_id, structure_id=w.claimed_id).first()
        if response is None:
            response = LotResponse(lot_id=lot_id, structure_id=w.claimed_id)
            db.session.add(response)
        if not response.quote_path:
            response.quote_path, response.quote_filename = store_upload(PDF, "pdf", "quotes"), "devis.pdf"
        db.session.commit()
        response_id = response.id
        db.session.remove()
    return {"tender_id": w.tender_published_id, "lot_id": lot_id, "response_id": response_id}


STRUCTURE_ROW = row(HIDDEN, anonymous=LOGIN, ok=OWNER)
STRUCTURE_ASKER = next(actor.email for actor in ACTORS if actor.name == "structure")
CASES += [
    Case("tenders.show", PUBLIC, label="publiée, côté structure", params=published,
         shows=("Répondre en tant que structure", OWNER)),
    # the unanswered question: its asker and the buyer read it; the asker's e-mail only the buyer
    Case("tenders.show", PUBLIC, label="publiée, question en attente",
         params=lambda w: (structure_question(w), published(w))[1],
         shows=(ANSWER_QUESTION, BUYER_A + OWNER + ADMIN)),
    Case("tenders.show", PUBLIC, label="publiée, auteur de la question",
         params=lambda w: (structure_question(w), published(w))[1],
         shows=(STRUCTURE_ASKER, BUYER_A + ADMIN)),
    *[Case(f"tender_answers.{name}", STRUCTURE_ROW,
           params=lambda w: {**published(w), "lot_id": published_lot(w)},
           missing=lambda w: {**published(w), "lot_id": MISSING_ID}) for name in ("interest", "quote", "offer")],
    Case("tender_answers.ask", STRUCTURE_ROW, params=published, missing=no_tender),
    Case("tender_answers.answer_question", BUYER_A_ROW,
         params=lambda w: {**published(w), "question_id": structure_question(w)},
         missing=lambda w: {**published(w), "question_id": MISSING_ID}),
    Case("tender_answers.quote_file", row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + OWNER + ADMIN),
         params=structure_quote, missing=lambda w: {**structure_quote(w), "response_id": MISSING_ID}),
    Case("tender_answers.dashboard", STRUCTURE_ROW),
]


# --- groupings (GME): the `structure` actor's claimed profile leads a grouping on buyer A's published tender and
# manages it; structure B's organisation is invited (its admin reads, posts, answers); the buyer sees nothing of a
# grouping still forming; a platform admin passes every rule -------------------------------------------------
GROUPING_MEMBERS = OWNER + ("structure_other",) + ADMIN
GROUPING_MANAGERS = OWNER + ADMIN
MEMBERS_ROW = row(HIDDEN, anonymous=LOGIN, ok=GROUPING_MEMBERS)
MANAGERS_ROW = row(HIDDEN, anonymous=LOGIN, ok=GROUPING_MANAGERS)


def grouping(*keys: str):
    def values(w: World) -> dict:
        return {key: w.grouping()[key] for key in ("grouping_id", *keys)}
    return values


def no_grouping(*keys: str):
    def values(w: World) -> dict:
        return {**grouping(*keys)(w), "grouping_id": MISSING_ID}
    return values


CASES += [
    Case("groupings.start", STRUCTURE_ROW, params=published, missing=no_tender),
    Case("groupings.show", MEMBERS_ROW, params=grouping(), missing=no_grouping(),
         shows=("Inviter un partenaire", GROUPING_MANAGERS)),
    Case("groupings.show", MEMBERS_ROW, label="invitation à accepter", params=grouping(), missing=no_grouping(),
         shows=("Accepter l'invitation", ("structure_other",))),
    *[Case(f"groupings.{name}", MANAGERS_ROW, params=grouping(), missing=no_grouping())
      for name in ("terms", "invite", "invite_email", "remove", "mandataire", "subcontractor", "confirm", "reopen",
                   "submit", "dissolve")],
    Case("groupings.shares", MANAGERS_ROW, params=grouping("grouping_lot_id"), missing=no_grouping("grouping_lot_id")),
    Case("groupings.remove_subcontractor", MANAGERS_ROW,
         params=lambda w: {key: value for key, value in w.new_grouping().items() if key in ("grouping_id", "row_id")},
         missing=no_grouping("row_id")),
    Case("groupings.message", MEMBERS_ROW, params=grouping(), missing=no_grouping()),
    Case("groupings.answer", row(HIDDEN, anonymous=LOGIN, ok=("structure_other",) + ADMIN),
         params=grouping("member_id"), missing=no_grouping("member_id")),
    # an e-mail invitation is read by whoever holds its signed link; only the invited address answers it
    Case("groupings.invitation", PUBLIC, params=lambda w: {"token": w.grouping()["token"]}),
    Case("groupings.mine", LOGGED_IN),
    Case("groupings.dc1", MEMBERS_ROW, params=grouping(), missing=no_grouping()),
    Case("groupings.convention", MEMBERS_ROW, params=grouping(), missing=no_grouping()),
]


# --- contracts and insertion hours: buyer A's contract in Montreuil (93), kept by the `facilitator` actor (verified,
# 93), held by the claimed profile (the `structure` actor's organisation); buyers and verified facilitators enter
# contracts and keep participants; a platform admin passes the rules but keeps no records of its own -------------
CONTRACT_KEEPER = ("facilitator",) + ADMIN
CONTRACT_DECLARERS = OWNER + CONTRACT_KEEPER
KEEPER_ROW = row(HIDDEN, anonymous=LOGIN, ok=CONTRACT_KEEPER)
DECLARERS_ROW = row(HIDDEN, anonymous=LOGIN, ok=CONTRACT_DECLARERS)
RECORD_KEEPERS = row(HIDDEN, anonymous=LOGIN, ok=BUYERS + FACILITATORS)


def contract(*keys: str):
    def values(w: World) -> dict:
        return {key: w.contract()[key] for key in ("contract_id", *keys)}
    return values


def no_contract(w: World) -> dict:
    return {"contract_id": MISSING_ID}


def fresh_declaration(w: World) -> dict:
    return {"declaration_id": w.new_declaration()}


def no_declaration(w: World) -> dict:
    return {"declaration_id": MISSING_ID}


CASES += [
    Case("insertion.mine", LOGGED_IN, params=lambda w: {} if w.contract() else {}, shows=("Marché de la matrice", BUYER_A + CONTRACT_DECLARERS)),
    Case("insertion.create", RECORD_KEEPERS),
    Case("insertion.show", row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + CONTRACT_DECLARERS), params=contract(),
         missing=no_contract, shows=("Verrouiller le mois", CONTRACT_KEEPER)),
    Case("insertion.declare", DECLARERS_ROW, params=contract(), missing=no_contract),
    *[Case(f"insertion.{name}", KEEPER_ROW, params=contract(), missing=no_contract)
      for name in ("lock", "move", "add_partner")],
    *[Case(f"insertion.{name}", KEEPER_ROW, params=fresh_declaration, missing=no_declaration)
      for name in ("validate", "reject")],
    Case("insertion.withdraw", DECLARERS_ROW, params=fresh_declaration, missing=no_declaration),
    Case("insertion.correct", DECLARERS_ROW, params=lambda w: {"declaration_id": w.contract()["validated_id"]},
         missing=no_declaration),
    Case("insertion.participants", RECORD_KEEPERS),
    Case("insertion.new_participant", RECORD_KEEPERS),
    Case("insertion.participant", DECLARERS_ROW, params=lambda w: {"participant_id": w.contract()["participant_id"]},
         missing=lambda w: {"participant_id": MISSING_ID}),
    *[Case(f"insertion.{name}", KEEPER_ROW, params=lambda w: {"participant_id": w.contract()["participant_id"]},
           missing=lambda w: {"participant_id": MISSING_ID}) for name in ("edit_participant", "eligibility")],
]


# --- insertion dashboards and bilans: the same contract; a year's bilan for the organisations one keeps (a buyer, a
# verified facilitator), any for a platform admin that names it -------------------------------------------------
CONTRACT_READERS = row(HIDDEN, anonymous=LOGIN, ok=BUYER_A + CONTRACT_DECLARERS)


def contract_values(**extra):
    return lambda w: {"contract_id": w.contract()["contract_id"], **extra}


def no_contract_with(**extra):
    return lambda w: {"contract_id": MISSING_ID, **extra}


def buyer_a_year(**extra):
    return lambda w: {"year": 2026, "organisation": w.organisations["buyer_a"], **extra}


CASES += [
    Case("insertion_dashboards.contract_pdf", CONTRACT_READERS, params=contract_values(), missing=no_contract_with()),
    Case("insertion_dashboards.contract_export", CONTRACT_READERS, params=contract_values(fmt="csv"),
         missing=no_contract_with(fmt="csv")),
    Case("insertion_dashboards.exits", KEEPER_ROW, params=contract_values(), missing=no_contract_with(),
         data={"participant_id": "0", "situation": "cdi", "observed_on": "2026-11-02"}),
    Case("insertion_dashboards.index", RECORD_KEEPERS),
    Case("insertion_dashboards.year_page", RECORD_KEEPERS, label="son organisation", params=lambda w: {"year": 2026}),
    *[Case(f"insertion_dashboards.{name}", BUYER_A_ONLY, params=buyer_a_year(**extra),
           missing=lambda w, extra=extra: {"year": 2026, "organisation": MISSING_ID, **extra})
      for name, extra in (("year_page", {}), ("year_pdf", {}), ("year_export", {"fmt": "csv"}))],
]

#: cells where today's code answers OK although the table refuses: (case key, actor) -> why.
#: The test checks that each gap is still open (the answer is OK), and fails once it closes, so
#: this list only shrinks: remove a line when the test says « faille connue refermée ».
KNOWN_GAP: dict[tuple[str, str], str] = {}



#: The dangerous powers, spelled out: who at most may ever get OK on these endpoints. A row that
#: grants more than this (a buyer editing a profile, a stranger reading a list) fails the test
#: even if someone "fixes" the table to match the code.
GUARD_RAILS: dict[str, tuple[str, ...]] = {
    **{endpoint: OWNER + ADMIN for endpoint in (
        "suppliers.edit", "suppliers.add_commitment", "suppliers.upload_logo", "suppliers.add_reference",
        "suppliers.add_contact", "suppliers.invite", "suppliers.remove_child")},
    **{endpoint: BUYER_A + ADMIN for endpoint in (
        "suppliers.favorite_list", "suppliers.export_favorites", "suppliers.remove_favorite",
        "suppliers.rename_favorite_list", "suppliers.delete_favorite_list")},
    "suppliers.decide_claim": ("facilitator",) + ADMIN,
    "suppliers.claim_evidence": ("facilitator",) + ADMIN,
    "accounts.verify": ADMIN,
    "accounts.verifications": ADMIN,
    "accounts.invite": ("public_buyer",) + ADMIN,
    "accounts.decide": ("public_buyer",) + ADMIN,
    "accounts.member_role": ("public_buyer",) + ADMIN,
    "core.outbox_admin": ADMIN,
    "core.outbox_retry": ADMIN,
    **{endpoint: BUYER_A + ADMIN for endpoint in (
        "tenders.edit", "tenders.lots", "tenders.edit_lot", "tenders.remove_lot", "tenders.clauses",
        "tenders.check", "tenders.add_attachment", "tenders.remove_attachment", "tenders.duplicate")},
    **{f"tender_workflow.{name}": BUYER_A + ADMIN for name in ("submit", "publish", "cancel", "assist", "award")},
    "tender_workflow.validate": ("facilitator",) + ADMIN,
    "tender_workflow.send_back": ("facilitator",) + ADMIN,
    "tender_workflow.show": BUYER_A + ("facilitator",) + ADMIN,
    "tender_workflow.comment": BUYER_A + ("facilitator",) + ADMIN,
    "tender_relay.preferences": OWNER + ADMIN,
    **{f"tender_funnel.{name}": BUYER_A + ADMIN for name in ("show", "export", "contact", "renotify")},
    "core.document": ("public_buyer",),
    "tender_depth.page": BUYER_A + ADMIN,
    "tender_depth.panel": BUYER_A + ADMIN,
    "tender_watch.edit": ("structure",),
    "tender_watch.delete": ("structure",),
    "tender_watch.renew_feed": ("structure",),
    "tender_watch.calendar_create": ("structure",),
    "core.document_download": ("public_buyer",),
    **{f"tender_answers.{name}": OWNER for name in ("interest", "quote", "offer", "ask", "dashboard")},
    "tender_answers.answer_question": BUYER_A + ADMIN,
    "tender_answers.quote_file": BUYER_A + OWNER + ADMIN,
    **{f"groupings.{name}": OWNER + ADMIN for name in (
        "terms", "invite", "invite_email", "remove", "mandataire", "subcontractor", "confirm", "reopen", "submit",
        "dissolve", "shares", "remove_subcontractor")},
    **{f"groupings.{name}": OWNER + ("structure_other",) + ADMIN for name in (
        "show", "message", "dc1", "convention")},
    "groupings.answer": ("structure_other",) + ADMIN,
    "groupings.start": OWNER,
    **{f"insertion.{name}": ("facilitator",) + ADMIN for name in (
        "validate", "reject", "lock", "move", "add_partner", "edit_participant", "eligibility")},
    **{f"insertion.{name}": OWNER + ("facilitator",) + ADMIN for name in ("declare", "correct", "withdraw")},
}

#: POST routes that take no CSRF token, and why (every other POST route must refuse a missing token)
CSRF_EXEMPT = {"api_v1.lookup": "API JSON sans session, appelée par des scripts (lecture seule)",
               "tender_relay.unsubscribe_confirm": "désabonnement en un clic (RFC 8058) : le client de messagerie "
                                                   "poste sans formulaire, le jeton signé de l'URL est la preuve"}
