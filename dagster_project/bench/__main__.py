"""CLI: ``python -m dagster_project.bench [--scale idf] [--skip-2x] [--fr] [--skip-redrop]
[--private-api-rounds N] [--root DIR] [--regenerate] [--only lecture]``.

``--only lecture`` measures only the memory of reading one file (``bench/lecture.py``, a few
minutes), without the campaigns. ``--fr`` adds the national campaign (``make bench-fr``).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from collections.abc import Callable
from pathlib import Path

import psutil

from dagster_project.bench import lecture, plancher, report, runs
from dagster_project.demo.campaign import DEFAULT_SEED
from dagster_project.demo.model import SCALES, Scale
from dagster_project.settings import paths

REPORT_FILE = "benchmark.json"
REPORT_FILE_FR = "benchmark-fr.json"  # make bench-fr: its own file beside make bench's


NATIONAL = "fr"


def doubled(scale: str) -> Scale:
    """The 2× campaign of the linearity measure (``idf2`` for ``idf``)."""
    return SCALES.get(f"{scale}2") or SCALES[scale].fois(2)


def say(line: str) -> None:
    print(line, flush=True)


def measure_campaign(root: Path, scale: Scale, seed: int, annee: int, regenerate: bool) -> dict:
    say(f"[{scale.nom}] préparation de {root / 'raw'} …")
    generation = runs.prepare(root, scale, seed, annee, regenerate)
    say(f"[{scale.nom}] campagne complète (python -m dagster_project.campaign run) …")
    run = runs.run_full_campaign(root, root / "bench-campagne.log")
    say(f"[{scale.nom}] {run['secondes']} s, run {run.get('run_id')} : {run.get('statut')}")
    return {"echelle": scale.nom, "racine": str(root), "generation": generation,
            "depot": runs.landing_size(root / "raw")} | run


def measure_floor(campaign: dict, annee: int) -> None:
    """The I/O floor on the data of ``campaign`` (a successful run), added to its figures."""
    if campaign.get("statut") != "SUCCESS":
        return
    root = Path(campaign["racine"])
    say(f"[{campaign['echelle']}] plancher d'entrées-sorties (lecture des dépôts, écriture des trames) …")
    p = runs.bench_paths(root)
    campaign["plancher"] = plancher.measure(root, p.landing, p.published(annee),
                                            campaign["secondes"])
    campaign["plancher_secondes"] = campaign["plancher"]["plancher_secondes"]
    say(f"[{campaign['echelle']}] plancher {campaign['plancher_secondes']} s")


def measure_redrops(root: Path, annee: int, private_api_rounds: int, per_launch: int) -> dict:
    try:
        redrops = runs.run_redrops(root, annee, private_api_rounds, per_launch)
    except Exception as exc:  # the pipeline under measure failed: report it, keep measuring
        say(f"[{root.name}] redépôt en échec : {exc!r}")
        return {"erreur": repr(exc)}
    for launch in runs.LAUNCHES:
        say(f"[{root.name}] redépôt ({launch}) : {redrops[launch].get('secondes')} s")
    return redrops


def benchmark(base: Path, scale: str, seed: int, annee: int, skip_2x: bool,
              regenerate: bool, fr: bool = False, skip_redrop: bool = False,
              private_api_rounds: int = 2, reading: bool = True,
              redrops_per_launch: int = runs.REDROPS_PER_LAUNCH,
              save: Callable[[dict], None] = lambda figures: None) -> dict:
    """Every measure asked for; ``save(figures)`` after each one, so that a long run stopped
    midway keeps what it measured."""
    figures: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"coeurs": os.cpu_count(), "memoire_octets": psutil.virtual_memory().total,
                    "charge_debut": runs.load()},
        "graine": seed, "annee": annee,
    }
    full = measure_campaign(base / scale, SCALES[scale], seed, annee, regenerate)
    figures["campagne"] = full
    save(figures)
    measure_floor(full, annee)
    save(figures)
    if skip_redrop:
        pass
    elif full.get("statut") == "SUCCESS":
        say(f"[{scale}] redépôt d'un fichier corrigé …")
        figures["redepot"] = measure_redrops(base / scale, annee, private_api_rounds,
                                             redrops_per_launch)
    else:
        figures["redepot"] = {"erreur": "campagne complète en échec : pas de mesure du redépôt"}
    save(figures)
    if not skip_2x:
        double = doubled(scale)
        figures["campagne_2x"] = measure_campaign(base / double.nom, double, seed, annee,
                                                  regenerate)
        figures["ratio_2x"] = round(figures["campagne_2x"]["secondes"] / full["secondes"], 3)
        save(figures)
    if fr:
        figures["campagne_fr"] = measure_campaign(base / NATIONAL, SCALES[NATIONAL], seed, annee,
                                                  regenerate)
        figures["ratio_fr"] = round(figures["campagne_fr"]["secondes"] / full["secondes"], 3)
        save(figures)
        measure_floor(figures["campagne_fr"], annee)
        save(figures)
    if reading:
        figures["lecture"] = lecture.measure(base / "lecture", say)
    figures["machine"]["charge_fin"] = runs.load()
    return figures


def table(figures: dict) -> str:
    lines = report.campaign_lines(figures["campagne"]["echelle"], figures["campagne"])
    lines += report.floor_lines(figures["campagne"]["echelle"], figures["campagne"])
    redrops = figures.get("redepot", {})
    if "erreur" in redrops:
        lines += report.redrop_lines("—", redrops)
    for launch in (m for m in runs.LAUNCHES if m in redrops):
        lines += report.redrop_lines(launch, redrops[launch])
    if "api_privee" in redrops:
        lines += report.private_api_lines(redrops["api_privee"])
    if "campagne_2x" in figures:
        lines += report.campaign_lines(figures["campagne_2x"]["echelle"], figures["campagne_2x"],
                                       judged=False)
        lines += report.ratio_lines(figures["ratio_2x"])
    if "campagne_fr" in figures:
        lines += report.campaign_lines(NATIONAL, figures["campagne_fr"], judged=False)
        lines += report.floor_lines(NATIONAL, figures["campagne_fr"])
        lines += report.national_lines(figures["campagne_fr"], figures["ratio_fr"])
    if "lecture" in figures:
        lines += reading_lines(figures["lecture"])
    machine = figures["machine"]
    lines.append(report.Line("machine : cœurs, charge début → fin",
                             f"{machine['coeurs']}, {machine['charge_debut']} → {machine['charge_fin']}"))
    return report.render_table(lines)


def reading_lines(reading: dict) -> list[report.Line]:
    """Peak RSS of reading the largest allowed CSV and a forged bomb, against the target."""
    target = reading["cible_octets"]
    lines = []
    for key, label in (("csv_taille_max", "lecture du plus gros CSV autorisé"),
                       ("xlsx_decompresse_max", "lecture du plus gros classeur autorisé"),
                       ("bombe_zip", "lecture d'une bombe zip")):
        one = reading[key]
        if "erreur" in one:
            lines.append(report.Line(f"{label} : pic de mémoire", f"échec : {one['erreur']}"))
            continue
        size = one["taille_octets"] / 1024**2
        lines.append(report.Line(
            f"{label} ({size:.0f} Mo, {one['statut']}, {one['secondes']} s) : pic de mémoire",
            f"{one['pic_rss_octets'] / 1024**3:.2f} Gio", f"≤ {target / 1024**3:.1f} Gio",
            one["pic_rss_octets"] <= target))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.bench",
                                     description="Mesure des performances du pipeline complet.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="idf", help="taille (défaut idf)")
    parser.add_argument("--skip-2x", action="store_true",
                        help="ne pas mesurer la campagne double (linéarité)")
    parser.add_argument("--root", type=Path, help="dossier des campagnes de mesure "
                        "(défaut : <FLUX_DATA_DIR>/bench)")
    parser.add_argument("--fr", action="store_true",
                        help="mesurer aussi la campagne nationale (fr, ≈ 5 × idf ; make bench-fr)")
    parser.add_argument("--skip-redrop", action="store_true", help="ne pas mesurer le redépôt")
    parser.add_argument("--skip-lecture", action="store_true",
                        help="ne pas mesurer la mémoire de lecture d'un fichier")
    parser.add_argument("--private-api-rounds", type=int, default=2,
                        help="tours de redépôts sans chaque module d'API privée (défaut 2, 0 : aucun)")
    parser.add_argument("--redrops-per-launch", type=int, default=runs.REDROPS_PER_LAUNCH,
                        help=f"redépôts par mode de lancement (défaut {runs.REDROPS_PER_LAUNCH})")
    parser.add_argument("--regenerate", action="store_true",
                        help="régénérer les fichiers même s'ils sont déjà là")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--annee", type=int, default=2024)
    parser.add_argument("--only", choices=["lecture"],
                        help="lecture : seulement la mémoire de lecture d'un fichier (quelques minutes)")
    args = parser.parse_args(argv)
    base = (args.root or paths().data / "bench").resolve()
    if args.only == "lecture":
        reading = lecture.measure(base / "lecture", say)
        report.write_json({"lecture": reading}, base / "lecture" / REPORT_FILE)
        say(report.render_table(reading_lines(reading)))
        return 0 if all(reading[k].get("pic_rss_octets", 1 << 62) <= reading["cible_octets"]
                        for k in ("csv_taille_max", "xlsx_decompresse_max", "bombe_zip")) else 1
    target = base / args.scale / "marts" / (REPORT_FILE_FR if args.fr else REPORT_FILE)
    figures = benchmark(base, args.scale, args.seed, args.annee, args.skip_2x, args.regenerate,
                        fr=args.fr, skip_redrop=args.skip_redrop,
                        private_api_rounds=args.private_api_rounds, reading=not args.skip_lecture,
                        redrops_per_launch=args.redrops_per_launch,
                        save=lambda partial: report.write_json(partial, target))
    report.write_json(figures, target)
    say("")
    say(table(figures))
    say(f"\nMesures enregistrées dans {target}")
    return 0 if figures["campagne"].get("statut") == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
