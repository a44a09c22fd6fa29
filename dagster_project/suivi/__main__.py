"""CLI: ``python -m dagster_project.suivi observer`` records the drop date of every file now in
the landing folder that the product has not seen yet (what the landing sensor does at each
look, for a campaign run without ``make dev``)."""

from __future__ import annotations

import argparse
import sys

from dagster_project.ingest import apparitions
from dagster_project.ingest.landing import scan_landing
from dagster_project.settings import paths


def observe() -> int:
    p = paths()
    if not p.landing.is_dir():
        print(f"Dossier de dépôt introuvable : {p.landing}", file=sys.stderr)
        return 2
    # the sensor's look: settled files only, links and special files refused safely
    scan = scan_landing(p.landing, {})
    dates = apparitions.record(p.apparitions, [(c.chemin, c.sha256) for c in scan.changed])
    waiting = len(scan.settling)
    print(f"{len(dates)} contenu(s) daté(s) dans {p.landing} ({p.apparitions})"
          + (f" ; {waiting} fichier(s) en cours d'écriture, datés au prochain passage" if waiting else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.suivi",
                                     description="Suivi de la campagne.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("observer", help="enregistrer la date de dépôt des nouveaux fichiers")
    args = parser.parse_args(argv)
    if args.command == "observer":
        return observe()
    return 2


if __name__ == "__main__":
    sys.exit(main())
