"""The clause annex: the wording with its figures (text to copy), and a 10-lot PDF rendered through core/pdf.py,
read back with pdftotext, timed, and turned into PNG pages to look at."""
from __future__ import annotations

import gc
import subprocess
import time
from datetime import date
from decimal import Decimal

from marche.clauses.annex import ANNEX_DOCUMENT, InsertionTerms, LotAnnex, annex_params, annex_text
from marche.clauses.legal import LotClauses, Waiver
from marche.core.documents import render_document
from tests.conftest import cpu_slowness

#: issue 19's speed target for the 10-lot annex PDF
TARGET_SECONDS = 1.5


def insertion_lot(number: int, title: str = "Entretien des espaces verts") -> LotAnnex:
    clauses = LotClauses(title, insertion_clause=True, social_criterion_weight=Decimal(10),
                         environmental_condition=True, environmental_criterion_weight=Decimal("15.5"))
    terms = InsertionTerms(Decimal(833), ("direct_hire", "made_available"), ("long_term_jobseeker", "plie"),
                           "PLIE de Roubaix, clauses@plie.example, 03 20 00 00 00", Decimal(45))
    return LotAnnex(number, clauses, terms, ("reuse", "waste_sorting", "free_text"),
                    "Les outils thermiques sont remplacés par des outils électriques.")


def test_text_of_an_insertion_lot_has_its_figures():
    text = annex_text("Espaces verts des écoles de Roubaix", [insertion_lot(1)]).replace("\u202f", " ")
    assert "LOT 1 — ENTRETIEN DES ESPACES VERTS" in text
    assert "au moins 833 heures de travail" in text
    assert "soit 0,52 équivalent(s) temps plein" in text  # 833 / 1 607 = 0.518
    assert "1 607 heures par an" in text
    assert "Embauche directe" in text and "Mise à disposition par une ETTI, une AI ou un GEIQ" in text
    assert "Demandeurs d'emploi inscrits depuis 12 mois ou plus" in text and "Personnes suivies par un PLIE" in text
    assert "PLIE de Roubaix, clauses@plie.example" in text
    assert "Il transmet chaque mois au facilitateur l'état des heures réalisées" in text
    assert "pénalité de 45,00 € HT" in text
    assert "notées pour 10 % sur le critère : performances en matière d'insertion" in text
    assert "notées pour 15,5 % sur le critère" in text
    assert "réemploi" in text and "trie les déchets" in text and "outils électriques" in text
    assert "L2112-2" in text and "R2152-7" in text


def test_reservations_insertion_object_and_waivers_are_worded():
    lots = [LotAnnex(1, LotClauses("Blanchisserie", reservation="disability")),
            LotAnnex(2, LotClauses("Chantier", insertion_object=True)),
            LotAnnex(3, LotClauses("Licences", waivers=(Waiver("social_consideration", "no_link",
                                                                "Licences logicielles sans main-d'œuvre"),))),
            LotAnnex(4, LotClauses(reservation="both")), LotAnnex(5, LotClauses(reservation="siae"))]
    text = annex_text("Divers", lots)
    assert "article L2113-12" in text and "ESAT" in text
    assert "R2123-1 3°" in text
    assert "Exception invoquée : Pas de lien suffisant avec l'objet du marché. Motif : Licences logicielles" in text
    assert "article L2113-14" in text and "article L2113-13" in text
    assert "LOT 4\n" in text  # a lot without title keeps its number


def test_an_insertion_clause_without_publics_or_penalty_still_reads():
    lot = LotAnnex(1, LotClauses(insertion_clause=True), InsertionTerms(Decimal(0)))
    text = annex_text("T", [lot])
    assert "au moins 0 heures" in text and "le facilitateur désigné par l'acheteur" in text
    assert "pénalité" not in text


def pdf_to_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_ten_lot_annex_pdf_text_and_time(app_ctx, tmp_path):
    lots = [insertion_lot(n, f"Lot de démonstration numéro {n}") for n in range(1, 11)]
    params = annex_params("Entretien des espaces verts des écoles <b>de Roubaix</b>", "Ville de Roubaix", lots,
                          date(2026, 9, 1))
    render_document(ANNEX_DOCUMENT, params)  # WeasyPrint's first import and font loading are not the annex's cost
    # the objects earlier tests left in this process are set aside from the garbage collector while it runs (the
    # whole suite holds some 500 Mo): only the annex's own work is timed
    gc.collect()
    gc.freeze()
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        data = render_document(ANNEX_DOCUMENT, params)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        gc.unfreeze()
    path = tmp_path / "annexe.pdf"
    path.write_bytes(data)
    text = pdf_to_text(path)
    assert data.startswith(b"%PDF")
    for n in range(1, 11):
        assert f"Lot {n} — Lot de démonstration numéro {n}" in text
    assert text.count("Clause sociale d'insertion") == 10
    assert "<b>de Roubaix</b>" in text  # user text is escaped, printed as typed
    assert "Édité le 01/09/2026" in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", str(path), str(tmp_path / "page")],
                   check=True)
    assert (tmp_path / "page-01.png").exists() or (tmp_path / "page-1.png").exists()
    # the rendering's own cost is its CPU time: on the shared test machine (load 15-20 on 2 cores) the wall clock
    # mostly measures the wait for a core; `make bench` reports the wall clock beside the same target. In the suite
    # the CPU time still varies from one machine to the next (1.1 s alone here, 1.88 s once in a clean-clone run
    # on 1 December 2026, cause not found): the test stops a rendering twice as slow as the target (scaled by
    # how slowly this machine's cores run Python, cpu_slowness), the bench holds the target itself
    bound = 2 * TARGET_SECONDS * cpu_slowness()
    assert cpu <= bound, (f"10-lot annex: {cpu:.2f} s CPU, {elapsed:.2f} s wall (bound {bound:.2f} s, "
                          f"target {TARGET_SECONDS} s)")


def test_an_environmental_criterion_that_is_the_global_cost_is_worded_as_such():
    cost = LotAnnex(1, LotClauses("Véhicules", environmental_condition=True,
                                  environmental_criterion_weight=Decimal(100), environmental_criterion_is_cost=True),
                    environmental_criterion_text="coût d'acquisition, d'usage et de fin de vie")
    plain = LotAnnex(2, LotClauses("Entretien", environmental_criterion_weight=Decimal(20)))
    text = annex_text("Flotte", [cost, plain])
    cost_part, plain_part = text.split("LOT 2")
    assert "notées pour 100 % sur leur coût global" in cost_part and "coût du cycle de vie" in cost_part
    assert "caractéristiques environnementales de l'offre : coût d'acquisition, d'usage et de fin de vie" in cost_part
    assert "R2152-9" in cost_part
    assert "notées pour 20 % sur le critère : performances en matière de protection" in plain_part
    assert "coût global" not in plain_part and "R2152-9" not in plain_part
