"""« Décrivez votre besoin »: the suggestion over the whole CPV catalogue (9 454 codes and 154 sectors), p95
over a mix of need texts, printed beside the raw Meilisearch time of the same requests and the SQL fallback's,
with how often both backends agree on the first code; the target of issue 19 is p95 ≤ 50 ms."""
from __future__ import annotations

import json
import random
import time

from common import ROOT, summary

from marche import create_app
from marche.core import meili
from marche.extensions import db
from marche.reference.models import CpvCode
from marche.search import catalogue, need

TARGET_MS = 50.0
#: texts a buyer writes (places, durations, typos, codes, synonyms)
WRITTEN = [
    "entretien des espaces verts des écoles de Roubaix, 3 ans", "nettoyage de bureaux", "netoyage des locaux",
    "ménage des écoles", "cantine scolaire", "restauration collective Lille 2 ans", "traiteur pour un séminaire",
    "plateaux repas", "BTP", "travaux de peinture", "peintre en bâtiment Nantes", "plomberie", "électricien",
    "blanchisserie hospitalière", "pressing", "linge", "informatique reconditionnée", "ordinateurs portables",
    "création de site internet", "déchets de chantier", "collecte des encombrants", "recyclage du papier",
    "élagage des arbres", "tonte des pelouses", "espaces verts", "jardinage", "paysagiste", "déménagement",
    "courrier et colis", "gardiennage", "accueil et standard téléphonique", "traduction", "imprimerie",
    "goodies", "signalétique", "mobilier de bureau", "vêtements de travail", "EPI", "formation",
    "90911200", "4521", "77310000-6", "nettoyage de vitres Lyon 36 mois", "désherbage des trottoirs Marseille",
    "entretien des parkings", "lavage de véhicules", "réparation de vélos", "location de vélos",
    "conciergerie d'entreprise", "numérisation d'archives", "saisie de données", "mise sous pli",
    "conditionnement", "logistique", "manutention", "menuiserie", "maçonnerie", "démolition", "désamiantage",
    "isolation des combles", "carrelage",
]
MIX = 240
PLACES = ["", "", " à Lille", " Roubaix", " Nantes", " 59", " Bordeaux", " à Paris"]
DURATIONS = ["", "", " 3 ans", " 24 mois", " un an"]


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    position = rng.randrange(1, len(word) - 1)
    return word[:position] + word[position + 1:]


def texts(labels: list[str]) -> list[str]:
    """The written texts, then texts made from catalogue labels (their first words, a typo, a place)."""
    rng = random.Random(19)
    made = list(WRITTEN)
    while len(made) < MIX:
        words = rng.choice(labels).split()[:rng.randint(1, 4)]
        if rng.random() < 0.3:
            words[-1] = typo(words[-1], rng)
        made.append(" ".join(words).lower() + rng.choice(PLACES) + rng.choice(DURATIONS))
    return made


def timed(function, items) -> tuple[dict[str, float], list]:
    values, answers = [], []
    for item in items:
        started = time.perf_counter()
        answers.append(function(item))
        values.append((time.perf_counter() - started) * 1000)
    return summary(values), answers


def main() -> None:
    app = create_app()
    down = create_app({"MEILI_URL": "http://127.0.0.1:1"})
    with app.app_context():
        if not catalogue.up_to_date():
            catalogue.rebuild()
        labels = list(db.session.scalars(db.select(CpvCode.label_fr).order_by(CpvCode.code8)))
    mix = texts(labels)
    with app.test_request_context():
        for text in mix[:20]:
            need.suggest_need(text)  # caches (vocabulary, departments, sectors): once per process
        service, by_meili = timed(need.suggest_need, mix)
        reads = [need.read_need(text).query for text in mix]
        requests = [{"queries": catalogue.meili_requests(q)} for q in reads if not q.empty]
        raw, _ = timed(lambda body: meili.post("/multi-search", body, 5), requests)
        client = app.test_client()
        api, _ = timed(lambda text: client.get("/api/v1/need", query_string={"q": text}), mix)
    with down.test_request_context():
        for text in mix[:20]:
            need.suggest_need(text)
        sql, by_sql = timed(need.suggest_need, mix)
    pairs = [(m, s) for m, s in zip(by_meili, by_sql) if m.cpv]
    agree = sum(m.cpv[0]["code"] == (s.cpv[0]["code"] if s.cpv else None) for m, s in pairs) / max(1, len(pairs))
    rows = [("suggest_need (Meilisearch)", service), ("Meilisearch brut (même requête)", raw),
            ("GET /api/v1/need (client Flask)", api), ("suggest_need (repli SQL)", sql)]
    print(f"\nBesoin → CPV — {len(mix)} textes ({len(WRITTEN)} écrits, le reste tiré des libellés CPV), "
          f"catalogue entier (9 454 codes, 154 secteurs)\n")
    print(f"{'mesure':<42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cible p95':>10}  verdict")
    for label, figures in rows:
        target = TARGET_MS if "brut" not in label and "SQL" not in label else None
        verdict = "" if target is None else ("OK" if figures["p95"] <= target else "AU-DESSUS")
        print(f"{label:<42} {figures['p50']:>8.2f} {figures['p95']:>8.2f} {figures['max']:>8.2f} "
              f"{(f'{target:.1f}' if target else '—'):>10}  {verdict}")
    print(f"Premier code identique dans les deux moteurs : {agree:.0%} des {len(pairs)} textes suggérés")
    out = ROOT / "scripts" / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "need.json").write_text(json.dumps({"texts": len(mix), **{label: f for label, f in rows},
                                               "same_first_code": agree}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
