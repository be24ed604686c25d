"""The watch's digests: 10 000 daily saved searches (each its own user; a quarter of them « where this structure
can work » when the bench's directory has structures) over 20 000 published tenders, 200 of them new since the
last digest. Measures the matching pass (`watch.digests`) and the whole pass with its mails rendered and queued
(`watch.send_digests`, rolled back: nothing is sent). Target: ≤ 60 s."""
from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta, timezone

from common import ROOT

from sqlalchemy import func, insert, select, text

from marche import create_app
from marche.accounts.models import User
from marche.extensions import db
from marche.suppliers.models import Structure
from marche.tenders import watch
from marche.tenders.models import SavedSearch
from tender_data import ensure_tenders

SEARCHES, TARGET_S = 10_000, 60.0
EMAIL = "bench.veille.{n}@marche.example.fr"
ARGS = [[["territory", "dep:59"]], [["reserved", "siae"]], [["q", "nettoyage"]], [["kind", "quote_request"]],
        [["clause", "insertion"], ["territory", "reg:32"]], [["cpv", "90"]], [["q", "espaces verts"]],
        [["reserved", "both"], ["territory", "dep:75"]], [], [["q", "recyclage"], ["clause", "environmental_condition"]]]


def ensure_searches() -> int:
    have = db.session.scalar(select(func.count()).select_from(SavedSearch).join(User).where(
        User.email.like("bench.veille.%")))
    structures = list(db.session.execute(select(Structure.id).where(Structure.publication == "published")
                                         .order_by(Structure.id).limit(2500)).scalars())
    rng = random.Random(10)
    for start in range(have, SEARCHES, 2000):
        users = [{"email": EMAIL.format(n=n), "password_hash": "!", "full_name": f"Veille {n}",
                  "session_token": f"bench-veille-{n}-{rng.getrandbits(64):x}"}
                 for n in range(start, min(start + 2000, SEARCHES))]
        ids = db.session.execute(insert(User).returning(User.id), users).scalars().all()
        rows = []
        for n, user_id in enumerate(ids, start=start):
            args = ([["structure", str(structures[n % len(structures)])]] if structures and n % 4 == 0
                    else ARGS[n % len(ARGS)])
            rows.append({"user_id": user_id, "name": f"Veille {n}", "args": args, "frequency": "daily",
                         "feed_token": watch.new_token()})
        db.session.execute(insert(SavedSearch), rows)
        db.session.commit()
    # due now: the last digest was a day ago (the 200 fresh tenders were published since)
    db.session.execute(text("UPDATE saved_search SET last_digest_at = now() - interval '1 day 1 minute' "
                            "WHERE user_id IN (SELECT id FROM user_account WHERE email LIKE 'bench.veille.%')"))
    db.session.execute(text("DELETE FROM saved_search_delivery WHERE saved_search_id IN (SELECT s.id FROM "
                            "saved_search s JOIN user_account u ON u.id = s.user_id WHERE u.email LIKE 'bench.veille.%')"))
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(SavedSearch).where(SavedSearch.frequency == "daily"))


def main() -> None:
    app = create_app()
    with app.test_request_context():
        tenders = ensure_tenders()
        searches = ensure_searches()
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        found = watch.digests("daily", now)
        matching_s = time.perf_counter() - started
        db.session.rollback()
        started = time.perf_counter()
        mails = watch.send_digests("daily", now)
        db.session.flush()
        whole_s = time.perf_counter() - started
        db.session.rollback()  # nothing is sent, nothing recorded: the bench can run again
    matches = sum(len(d.tenders) for d in found)
    print(f"\nVeille — {searches} recherches enregistrées quotidiennes, {tenders} consultations publiées\n")
    print(f"Appariement (watch.digests) : {matching_s:.1f} s — {len(found)} récapitulatifs, {matches} consultations")
    print(f"Passe complète, courriels rendus et mis en file (watch.send_digests) : {whole_s:.1f} s — {mails} courriels")
    print(f"Cible ≤ {TARGET_S:.0f} s : {'OK' if whole_s <= TARGET_S else 'AU-DESSUS'}")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "digests.json").write_text(json.dumps({"saved_searches": searches, "tenders": tenders,
                                                  "matching_s": matching_s, "whole_s": whole_s, "mails": mails,
                                                  "matches": matches}, indent=2))


if __name__ == "__main__":
    main()
