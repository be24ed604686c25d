"""The import of a 10 000-line CSV of hours declarations (1 000 participants × 10 months, each one created by the
file), p50 and max of 5 imports, beside issue 22's target (≤ 5 s): the file read, every line checked, the
participants and lines written (bulk inserts), the audit entry. Each import is rolled back, so every run measures
the same work on the same database.

The bench contract lives in the bench's own database (made once, kept): a buyer of its own that keeps its records
(no facilitator), the twelve months up to the current one in Paris. Its rows are written directly, as
`grouping_pdf.py` writes its grouping: the contract's entry rules are not what is measured.
"""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone
from decimal import Decimal

from common import ROOT, summary

from marche import create_app
from marche.accounts.models import MemberRole, Membership, Organisation, OrganisationKind, User
from marche.accounts.passwords import hash_password
from marche.core.dates import today
from marche.extensions import db
from marche.insertion import imports
from marche.insertion.models import Contract, ContractStatus, DeclarationImport, HolderKind

RUNS = 5
LINES, PARTICIPANTS = 10_000, 1_000
TARGET_S = 5.0
BENCH_EMAIL = "banc-heures@example.fr"
BENCH_SIRET = "99990000220008"
BENCH_TITLE = "Banc d'essai : import des heures d'insertion"


def months_back(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def bench_contract() -> tuple[User, Contract]:
    """The bench buyer and its contract (made once, kept), its period moved to the twelve months up to now."""
    user = db.session.scalar(db.select(User).where(User.email == BENCH_EMAIL))
    if user is None:
        organisation = Organisation(name="Ville du banc d'essai des heures", kind=OrganisationKind.PUBLIC_BUYER,
                                    siret=BENCH_SIRET, buyer_category="local_authority", verification_status="not_required")
        user = User(email=BENCH_EMAIL, password_hash=hash_password("banc-d-essai-1"), full_name="Banc d'essai",
                    email_confirmed_at=datetime.now(timezone.utc))
        db.session.add_all([organisation, user, Membership(user=user, organisation=organisation,
                                                           role=MemberRole.ADMIN)])
        db.session.flush()
    organisation = user.organisation
    contract = db.session.scalar(db.select(Contract).where(Contract.title == BENCH_TITLE))
    if contract is None:
        contract = Contract(title=BENCH_TITLE, buyer_organisation_id=organisation.id, buyer_name=organisation.name,
                            holder_kind=HolderKind.COMPANY, holder_name="Entreprise du banc d'essai",
                            hours_target=Decimal(100_000), status=ContractStatus.ACTIVE,
                            starts_on=date(2000, 1, 1), ends_on=date(2000, 12, 31))
        db.session.add(contract)
    current = today().replace(day=1)
    contract.starts_on, contract.ends_on = months_back(current, 11), current
    db.session.commit()
    return user, contract


def bench_file(last_month: date) -> bytes:
    """1 000 new participants × the 10 months up to `last_month`, 7 h each; each one's first line creates it."""
    rows = ["Code participant;Mois;Mode;Heures;Année de naissance;Sexe"]
    for back in range(LINES // PARTICIPANTS - 1, -1, -1):
        month = months_back(last_month, back)
        first = back == LINES // PARTICIPANTS - 1
        rows += [f"BANC-{n:05d};{month.month:02d}/{month.year};embauche;7;"
                 + (f"1990;{'F' if n % 2 else 'M'}" if first else ";") for n in range(PARTICIPANTS)]
    return "\r\n".join(rows).encode("utf-8")


def import_once(user: User, contract: Contract, data: bytes) -> float:
    """One import as the job runs it (read, check, write, flush), rolled back; its wall clock in seconds."""
    started = time.perf_counter()
    record = DeclarationImport(contract_id=contract.id, organisation_id=user.organisation.id, user_id=user.id,
                               filename="banc.csv", sha256=imports.sha256(data), status="running")
    db.session.add(record)
    db.session.flush()
    result = imports.import_lines(user, user.organisation.id, contract, imports.read_rows(data), record)
    elapsed = time.perf_counter() - started
    assert (result.lines, result.participants) == (LINES, PARTICIPANTS), result
    db.session.rollback()
    return elapsed


def main() -> None:
    app = create_app()
    with app.test_request_context():
        user, contract = bench_contract()
        data = bench_file(contract.last_month)
        import_once(user, contract, data)  # warm-up: imports, first queries
        walls = [import_once(user, contract, data) for _ in range(RUNS)]
    figures = summary([w * 1000 for w in walls])
    print(f"\nImport de déclarations d'heures — CSV de {LINES} lignes, {PARTICIPANTS} participants créés, "
          f"{RUNS} imports\n")
    print(f"{'mesure':<30} {'ms':>8} {'cible ms':>10}  verdict")
    for name in ("p50", "max"):
        verdict = "OK" if figures[name] <= TARGET_S * 1000 else "AU-DESSUS"
        print(f"{'import 10 000 lignes (' + name + ')':<30} {figures[name]:>8.0f} {TARGET_S * 1000:>10.0f}  {verdict}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "hours_import.json").write_text(json.dumps(
        {"lines": LINES, "participants": PARTICIPANTS, "runs": RUNS, "target_s": TARGET_S, "wall_s": walls,
         "wall_ms": figures}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
