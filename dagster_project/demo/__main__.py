"""CLI: ``python -m dagster_project.demo --scale demo --out DIR [--seed N] [--annee 2024 [2025]]
[--vague toutes|a-l-heure|retard] [--ajout]``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dagster_project.demo.campaign import DEFAULT_SEED, VAGUES, DossierRefuse, generate_campaign
from dagster_project.demo.model import SCALES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dagster_project.demo",
        description="Génère une campagne de démonstration (fichiers de bilans au format "
                    "d'échange), identique octet pour octet pour une même graine.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo",
                        help="taille : demo (~12 bailleurs), idf (~150 bailleurs, 1,3 M "
                             "logements), idf2 (idf × 2), fr (~500 bailleurs, 6,5 M logements)")
    parser.add_argument("--out", type=Path, required=True,
                        help="dossier de sortie (vide, ou sortie précédente du générateur)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="graine")
    parser.add_argument("--annee", type=int, nargs="+", default=[2024],
                        help="année(s) N du bilan : plusieurs années côte à côte (mêmes "
                             "logements, conventions qui évoluent)")
    parser.add_argument("--vague", choices=VAGUES, default="toutes",
                        help="bailleurs écrits : tous, ceux à l'heure, ou les retardataires "
                             "(ajoutés à une sortie « a-l-heure »)")
    parser.add_argument("--ajout", action="store_true",
                        help="ajoute ces fichiers à une sortie précédente du générateur au lieu "
                             "de la remplacer (une autre année)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        resume = generate_campaign(args.out, SCALES[args.scale], args.seed, tuple(args.annee),
                                   args.vague, ajout=args.ajout)
    except DossierRefuse as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    print(f"Campagne de démonstration {', '.join(map(str, args.annee))} ({args.scale}, graine {args.seed}) écrite "
          f"dans {args.out} en {time.perf_counter() - start:.1f} s : {resume}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
