"""The French end-of-campaign summary: who dropped what, what failed, what was written, where.

Built from what the stages leave behind (raw store file log, quality status, trames folder)
plus the failed asset checks of the run, which the caller reads from Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from dagster_project.atomic import write_bytes
from dagster_project.settings import Paths

REJETE = "REJETE"


@dataclass(frozen=True)
class BailleurStatus:
    bailleur_siren: str
    nb_fichiers: int
    nb_rejetes_en_attente: int  # rejected files not superseded by a later accepted one
    bloque: bool = False
    resume_qualite: str = ""

    @property
    def accepte(self) -> bool:
        return self.nb_rejetes_en_attente == 0 and self.nb_fichiers > 0


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    gravite: str  # ERREUR / AVERTISSEMENT


@dataclass(frozen=True)
class CampaignSummary:
    annee: int | None
    run_id: str
    bailleurs: list[BailleurStatus]
    failed_checks: list[FailedCheck]
    trames_ecrites: int
    trames_total: int
    paths: Paths
    failed_steps: tuple[str, ...] = ()  # set when the run failed

    @property
    def acceptes(self) -> list[BailleurStatus]:
        return [b for b in self.bailleurs if b.accepte]

    @property
    def rejetes(self) -> list[BailleurStatus]:
        return [b for b in self.bailleurs if not b.accepte]

    @property
    def bloques(self) -> list[BailleurStatus]:
        return [b for b in self.bailleurs if b.bloque]


def read_parquet_glob(folder: Path) -> pl.DataFrame | None:
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


def outstanding_rejections(files: list[dict]) -> int:
    """Rejected files of one bailleur that no later accepted file replaces.

    A later accepted file replaces a rejected one when they share a sheet, or when the
    rejected file could not even be read (no sheet known). Files are dicts with ``statut``,
    ``depose_le`` and ``feuilles`` (list of sheet names, possibly empty).
    """
    accepted = [f for f in files if f["statut"] != REJETE]
    outstanding = 0
    for rejected in (f for f in files if f["statut"] == REJETE):
        sheets = set(rejected.get("feuilles") or [])
        replaced = any(
            a["depose_le"] >= rejected["depose_le"]
            and (not sheets or sheets & set(a.get("feuilles") or []))
            for a in accepted
        )
        outstanding += not replaced
    return outstanding


def bailleur_statuses(
    fichiers: pl.DataFrame | None, status: pl.DataFrame | None, annee: int | None
) -> list[BailleurStatus]:
    """One status per bailleur that dropped at least one file for ``annee``."""
    if fichiers is None or fichiers.is_empty():
        return []
    if annee is not None:
        fichiers = fichiers.filter(pl.col("annee").cast(pl.Int64, strict=False) == annee)
    blocked: dict[str, str] = {}
    if status is not None and not status.is_empty():
        rows = status
        if annee is not None and "annee" in status.columns:
            rows = status.filter(pl.col("annee").cast(pl.Int64, strict=False) == annee)
        blocked = {
            str(r["bailleur_siren"]): str(r.get("resume") or "")
            for r in rows.filter(pl.col("bloque")).iter_rows(named=True)
        }
    out = []
    for (siren,), group in sorted(fichiers.group_by("bailleur_siren"), key=lambda g: str(g[0][0])):
        rows = group.select("statut", "depose_le", "feuilles").to_dicts()
        out.append(
            BailleurStatus(
                bailleur_siren=str(siren),
                nb_fichiers=len(rows),
                nb_rejetes_en_attente=outstanding_rejections(rows),
                bloque=str(siren) in blocked,
                resume_qualite=blocked.get(str(siren), ""),
            )
        )
    return out


def bailleur_lines(p: Paths, annee: int | None) -> list[str]:
    """One progress line per bailleur of the year, from the raw store's file log."""
    fichiers = read_parquet_glob(p.raw_store / "fichiers")
    lines = []
    for b in bailleur_statuses(fichiers, None, annee):
        statut = "accepté" if b.accepte else f"REJETÉ ({b.nb_rejetes_en_attente} fichier(s) à redéposer)"
        lines.append(f"    bailleur {b.bailleur_siren} : {b.nb_fichiers} fichier(s), {statut}")
    return lines


def latest_annee(fichiers: pl.DataFrame | None) -> int | None:
    if fichiers is None or fichiers.is_empty():
        return None
    value = fichiers.select(pl.col("annee").cast(pl.Int64, strict=False).max()).item()
    return int(value) if value is not None else None


def count_trames(folder: Path, since: datetime | None) -> tuple[int, int]:
    """(written since ``since``, total) workbooks under the trames folder."""
    files = [p for p in folder.rglob("*.xlsx")] if folder.is_dir() else []
    if since is None:
        return len(files), len(files)
    threshold = since.timestamp()
    return sum(p.stat().st_mtime >= threshold for p in files), len(files)


def collect(
    p: Paths,
    run_id: str,
    annee: int | None,
    run_started: datetime | None,
    failed_checks: list[FailedCheck],
    failed_steps: tuple[str, ...] = (),
) -> CampaignSummary:
    fichiers = read_parquet_glob(p.raw_store / "fichiers")
    annee = annee if annee is not None else latest_annee(fichiers)
    status_file = p.marts / "quality_bailleur_status.parquet"
    status = pl.read_parquet(status_file) if status_file.is_file() else None
    written, total = count_trames(p.trames, run_started)
    return CampaignSummary(
        annee=annee,
        run_id=run_id,
        bailleurs=bailleur_statuses(fichiers, status, annee),
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
        "## Dépôts",
        "",
        f"- bailleurs reçus : **{len(s.bailleurs)}**",
        f"- bailleurs acceptés : **{len(s.acceptes)}**",
        f"- bailleurs rejetés (au moins un fichier à redéposer) : **{len(s.rejetes)}**",
        f"- bailleurs bloqués par les contrôles qualité (pas de trames) : **{len(s.bloques)}**",
        "",
    ]
    if s.bailleurs:
        lines += ["| bailleur | fichiers | rejetés en attente | statut |", "| --- | --- | --- | --- |"]
        for b in s.bailleurs:
            statut = "rejeté" if not b.accepte else ("bloqué" if b.bloque else "accepté")
            detail = f" ({b.resume_qualite})" if b.bloque and b.resume_qualite else ""
            lines.append(
                f"| {b.bailleur_siren} | {b.nb_fichiers} | {b.nb_rejetes_en_attente} | {statut}{detail} |"
            )
        lines.append("")
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
        "## Trames",
        "",
        (
            f"- trames écrites ou réécrites par cette exécution : **{s.trames_ecrites}**"
            f" (au total : {s.trames_total})"
        ),
        "",
        "## Où regarder",
        "",
        f"- trames : `{s.paths.trames}`",
        f"- rapports de contrôle des fichiers déposés : `{s.paths.rapports}`",
        f"- marts Parquet : `{s.paths.marts}`",
        f"- catalogue SQL (lecture seule) : `{s.paths.catalog}` (`make sql`)",
        "- lignage et historique des exécutions : `make dev` puis http://localhost:3000",
        "",
    ]
    return "\n".join(lines)


def summary_path(p: Paths, annee: int | None) -> Path:
    return p.marts / (f"campagne_{annee}_resume.md" if annee else "campagne_resume.md")


def write_summary(s: CampaignSummary) -> Path:
    target = summary_path(s.paths, s.annee)
    write_bytes(target, render_markdown(s).encode("utf-8"))
    return target
