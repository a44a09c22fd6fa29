"""The French end-of-campaign summary: the status of every bailleur, what failed, what was
written, where.

Built from what the stages leave behind (the bailleurs' status, trames folder) plus the failed
asset checks of the run, which the caller reads from Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from dagster_project import status
from dagster_project.suivi import resume as suivi_resume
from dagster_project.atomic import write_bytes
from dagster_project.settings import Paths


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    gravite: str  # ERREUR / AVERTISSEMENT


@dataclass(frozen=True)
class CampaignSummary:
    annee: int | None
    run_id: str
    status: status.Status  # of the year: the one status of each bailleur (status.py)
    failed_checks: list[FailedCheck]
    trames_ecrites: int
    trames_total: int
    paths: Paths
    failed_steps: tuple[str, ...] = ()  # set when the run failed

    def count(self, code: str) -> int:
        return self.status.bailleurs.filter(pl.col("statut") == code).height

    @property
    def nb_bailleurs(self) -> int:
        return self.status.bailleurs.height


def bailleur_lines(p: Paths, annee: int | None) -> list[str]:
    """One progress line per bailleur of the year, once ingestion is done (quality unknown)."""
    lines = []
    for r in status.compute(p, annee, with_quality=False).bailleurs.iter_rows(named=True):
        etat = r["statut_libelle"] if r["statut"] == status.COMPLET else status.short_reason(r)
        lines.append(f"    bailleur {r['bailleur_siren']} : {r['nb_fichiers']} fichier(s), {etat}")
    return lines


def count_trames(folder: Path, since: datetime | None) -> tuple[int, int]:
    """(written since ``since``, total) workbooks under the trames folder."""
    files = [p for p in folder.rglob("*.xlsx")] if folder.is_dir() else []
    if since is None:
        return len(files), len(files)
    threshold = since.timestamp()
    return sum(p.stat().st_mtime >= threshold for p in files), len(files)


def year_trames(p: Paths, annee: int | None) -> Path:
    """The trames of the year (trames/campaign.py writes ``<trames>/<annee>/``)."""
    return p.trames / str(annee) if annee is not None else p.trames


def collect(
    p: Paths,
    run_id: str,
    annee: int | None,
    run_started: datetime | None,
    failed_checks: list[FailedCheck],
    failed_steps: tuple[str, ...] = (),
) -> CampaignSummary:
    annee = annee if annee is not None else status.latest_annee(p)
    written, total = count_trames(year_trames(p, annee), run_started)
    return CampaignSummary(
        annee=annee,
        run_id=run_id,
        status=status.of_year(p, annee),
        failed_checks=failed_checks,
        trames_ecrites=written,
        trames_total=total,
        paths=p,
        failed_steps=failed_steps,
    )


def render_markdown(s: CampaignSummary) -> str:
    """The summary a person reads at the end of the campaign (French)."""
    titre = f"Campagne {s.annee}" if s.annee else "Campagne"
    lines = [
        f"# {titre} : résumé",
        "",
        f"Exécution Dagster : `{s.run_id}` (retrouvable dans l'interface : `make dev`, onglet Runs).",
        "",
    ]
    if s.failed_steps:
        lines += [
            (
                f"**L'exécution a échoué** (étapes : {', '.join(s.failed_steps)}) : les sorties "
                "ci-dessous peuvent dater d'une exécution précédente."
            ),
            "",
        ]
    lines += [
        "## Bailleurs",
        "",
        f"- bailleurs reçus : **{s.nb_bailleurs}**",
        f"- publiés (trames et consolidations régionales) : **{s.count(status.PUBLIE)}**",
        f"- incomplets (feuille obligatoire absente ou rejetée) : **{s.count(status.INCOMPLET)}**",
        f"- bloqués par les contrôles qualité : **{s.count(status.BLOQUE)}**",
    ]
    if s.count(status.COMPLET):
        lines.append(f"- complets, contrôles non exécutés : **{s.count(status.COMPLET)}**")
    lines.append("")
    if s.nb_bailleurs:
        lines += [status.markdown_table(s.status.bailleurs), ""]
    lines += sheets_to_fix(s.status)
    erreurs = [c for c in s.failed_checks if c.gravite == "ERREUR"]
    lines += [
        "## Contrôles",
        "",
        (
            f"- contrôles en échec : **{len(s.failed_checks)}** (gravité erreur : {len(erreurs)}, "
            f"avertissement : {len(s.failed_checks) - len(erreurs)})"
        ),
    ]
    lines += [f"  - [{c.gravite}] {c.asset} : {c.check}" for c in s.failed_checks]
    lines += [
        "",
        *suivi_resume.section(s.paths, s.annee),
        "## Trames",
        "",
        (
            f"- trames écrites ou réécrites par cette exécution : **{s.trames_ecrites}**"
            f" (au total : {s.trames_total})"
        ),
        "",
        "## Où regarder",
        "",
        f"- trames : `{year_trames(s.paths, s.annee)}`",
        f"- rapports de contrôle des fichiers déposés : `{s.paths.rapports}`",
        f"- marts Parquet : `{s.paths.published(s.annee)}`",
        f"- catalogue SQL (lecture seule) : `{s.paths.catalog}` (`make sql`)",
        "- lignage et historique des exécutions : `make dev` puis http://localhost:3000",
        "",
    ]
    return "\n".join(lines)


def sheets_to_fix(st: status.Status) -> list[str]:
    """The version counted of each required sheet of the incomplete bailleurs."""
    unpublished = st.bailleurs.filter(pl.col("statut") == status.INCOMPLET).select(status.BAILLEUR)
    sheets = st.feuilles.join(unpublished, on=status.BAILLEUR).filter(pl.col("obligatoire"))
    if sheets.is_empty():
        return []
    lines = [
        "### Feuilles des bailleurs incomplets",
        "",
        "| bailleur | feuille | version comptée | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for r in sheets.sort(*status.BAILLEUR, "feuille").iter_rows(named=True):
        verdict = status.VERDICT_LIBELLES[r["verdict"]]
        lines.append(f"| {r['bailleur_siren']} | {r['feuille']} | {r['chemin'] or '—'} | {verdict} |")
    return [*lines, ""]


def summary_path(p: Paths, annee: int | None) -> Path:
    return p.marts / (f"campagne_{annee}_resume.md" if annee else "campagne_resume.md")


def write_summary(s: CampaignSummary) -> Path:
    target = summary_path(s.paths, s.annee)
    write_bytes(target, render_markdown(s).encode("utf-8"))
    return target
