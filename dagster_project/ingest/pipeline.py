"""Ingestion of the landing folder, usable without Dagster (campaign CLI, benchmark, tests).

``discover_partitions(landing)`` lists the ``<siren>_<annee>`` keys found in the landing
folder; ``ingest_partitions(paths, keys, run_id)`` ingests every new file version of those
bailleurs (a process per partition when there are several) and returns a summary.
Dropped files are only read: never modified, moved or deleted.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dagster_project.documents.dates import PARIS_LABEL, paris
from dagster_project.ingest import rapport, store
from dagster_project.ingest.contract import AVERTISSEMENT, ERREUR, rules_frame
from dagster_project.ingest.files import CheckedFile, DroppedFile, check_file
from dagster_project.ingest.naming import is_ignored, parse_file_name, plausible_year, safe_file_name
from dagster_project.ingest.reader import ROW
from dagster_project.ingest.references import LINKS, SheetSource, broken_references, orphans
from dagster_project.settings import Paths, max_file_bytes

log = logging.getLogger(__name__)

POOL_MIN_PARTITIONS = 40
ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE = "ACCEPTE", "ACCEPTE_AVEC_AVERTISSEMENTS", "REJETE"


@dataclass
class FileSummary:
    partition: str | None
    chemin: str
    sha256: str
    statut: str
    nb_erreurs: int
    nb_avertissements: int
    nouveau: bool  # False when this content was already ingested (no-op)
    lignes: dict[str, int] = field(default_factory=dict)
    rapport: str | None = None


@dataclass
class IngestSummary:
    run_id: str
    files: list[FileSummary]

    def by_partition(self) -> dict[str | None, list[FileSummary]]:
        out: dict[str | None, list[FileSummary]] = defaultdict(list)
        for f in self.files:
            out[f.partition].append(f)
        return dict(out)

    def as_dicts(self) -> list[dict]:
        return [asdict(f) for f in self.files]


# ---------------------------------------------------------------------------- discovery


def landing_files(landing: Path) -> Iterator[Path]:
    """Regular files under the landing folder; symlinks, hidden and lock files are skipped."""
    for root, dirs, files in os.walk(landing, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if is_ignored(name):
                continue
            if path.is_symlink() or not path.is_file():
                log.warning("Ignoré (lien symbolique ou fichier spécial) : %s", path)
                continue
            yield path


def partition_of(name: str) -> str | None:
    parsed = parse_file_name(name)
    return parsed.partition_key if parsed.identified and plausible_year(parsed.annee) else None


def discover_partitions(landing: Path) -> list[str]:
    return sorted({k for p in landing_files(landing) if (k := partition_of(p.name))})


def files_by_partition(landing: Path) -> dict[str | None, list[Path]]:
    out: dict[str | None, list[Path]] = defaultdict(list)
    for path in landing_files(landing):
        out[partition_of(path.name)].append(path)
    return dict(out)


# ---------------------------------------------------------------------------- ingestion


def ingest_partitions(paths: Paths, partition_keys: list[str], run_id: str,
                      max_workers: int | None = None) -> IngestSummary:
    """Ingest the new file versions of these partitions, plus any unidentified file.

    ``max_workers``: size of the process pool; by default a pool of CPU-count workers is used
    only from ``POOL_MIN_PARTITIONS`` partitions on.
    """
    store.ensure_schemas(paths.raw_store)
    grouped = files_by_partition(paths.landing)
    summaries = ingest_files(paths, grouped.get(None, []), run_id)  # rejected, bailleur unknown
    jobs = [(paths, key, grouped.get(key, []), run_id) for key in partition_keys]
    # A spawned worker pays ~3 s of imports and Polars is already multi-threaded: a pool only
    # pays off for big campaigns (or when the caller asks for one explicitly).
    workers = min(len(jobs), max_workers or os.cpu_count() or 1)
    if workers > 1 and (max_workers is not None or len(jobs) >= POOL_MIN_PARTITIONS):
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(_ingest_job, jobs):
                summaries.extend(result)
    else:
        for job in jobs:
            summaries.extend(_ingest_job(job))
    return IngestSummary(run_id, summaries)


def _ingest_job(job: tuple[Paths, str, list[Path], str]) -> list[FileSummary]:
    paths, key, files, run_id = job
    return ingest_files(paths, files, run_id, partition=key)


def ingest_files(paths: Paths, file_paths: list[Path], run_id: str,
                 partition: str | None = None) -> list[FileSummary]:
    """Ingest one bailleur-year's files (or unidentified ones) — idempotent per sha256."""
    files = [DroppedFile.at(p, paths.landing) for p in file_paths]
    known = store.known_versions(paths.raw_store)
    summaries: list[FileSummary] = []
    stored = store.read_registry(paths.raw_store, sorted({f.sha256 for f in files if f.sha256 in known}))
    for row in stored.iter_rows(named=True):
        summaries.append(FileSummary(partition, row["chemin"], row["sha256"], row["statut"],
                                     row["nb_erreurs"], row["nb_avertissements"], nouveau=False))
    new: dict[str, DroppedFile] = {}
    for f in sorted(files, key=lambda f: f.order):
        if f.sha256 in known:
            continue
        if f.sha256 in new:
            log.info("Contenu identique à %s, ignoré : %s", new[f.sha256].chemin, f.chemin)
            continue
        new[f.sha256] = f
    if not new:
        return summaries
    limit = max_file_bytes()
    checked = [check_file(f, limit) for f in new.values()]
    enriched = {c.file.sha256: enrich(c.anomalies()) for c in checked}
    drop_set = _drop_set(paths, stored, checked, enriched)
    for c in checked:
        _cross_checks(c, drop_set)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    for c in checked:
        summaries.append(_finalise(paths, c, partition, run_id, loaded_at))
    return summaries


def enrich(anomalies: pl.DataFrame) -> pl.DataFrame:
    """Add gravité, French message and hint from the rules table."""
    rules = rules_frame().select("regle", "gravite", "message", "conseil")
    joined = anomalies.join(rules, on="regle", how="left", validate="m:1")
    message = pl.col("message")
    for placeholder in ("valeur", "detail", "colonne"):
        message = message.str.replace_all("{" + placeholder + "}", pl.col(placeholder).fill_null(""),
                                          literal=True)
    return joined.with_columns(message=message, conseil=pl.col("conseil").str.replace_all(
        "{valeur}", pl.col("valeur").fill_null(""), literal=True))


def _has_errors(anomalies: pl.DataFrame) -> bool:
    return anomalies.filter(pl.col("gravite") == ERREUR).height > 0


def _drop_set(paths: Paths, stored: pl.DataFrame, checked: list[CheckedFile],
              enriched: dict[str, pl.DataFrame]) -> dict[str, tuple[tuple, SheetSource]]:
    """Per sheet, the newest non-rejected version among the stored and the new files."""
    best: dict[str, tuple[tuple, SheetSource]] = {}

    def offer(sheet: str, order: tuple, source: SheetSource) -> None:
        if sheet not in best or order > best[sheet][0]:
            best[sheet] = (order, source)

    for row in stored.filter(pl.col("statut") != REJETE).iter_rows(named=True):
        for sheet in row["feuilles"] or []:
            target = store.table_path(paths.raw_store, sheet, row["sha256"])
            offer(sheet, (row["depose_le"], row["chemin"]),
                  SheetSource(row["nom_fichier"], row["sha256"],
                              lambda col, t=target: pl.read_parquet(t, columns=[col]).to_series(),
                              stored=True))
    for c in checked:
        if _has_errors(enriched[c.file.sha256]):
            continue
        for sheet, result in c.sheets.items():
            offer(sheet, c.file.order,
                  SheetSource(c.file.name.name, c.file.sha256,
                              lambda col, frame=result.typed: frame[col]))
    return best


def _cross_checks(c: CheckedFile, drop_set: dict[str, tuple[tuple, SheetSource]]) -> None:
    own = {sheet: SheetSource(c.file.name.name, c.file.sha256, lambda col, f=r.typed: f[col])
           for sheet, r in c.sheets.items()}
    for link in LINKS:
        if link.referencing in c.sheets:
            result = c.sheets[link.referencing]
            own_file = link.referenced in own
            source = own[link.referenced] if own_file else drop_set.get(link.referenced, (None, None))[1]
            c.extra.append(broken_references(link, result.typed, result.written[link.column],
                                             source, own_file))
        elif link.referenced in c.sheets and link.referencing in drop_set:
            # files of this batch report their own broken references
            source = drop_set[link.referencing][1]
            if source.stored:
                c.extra.append(orphans(link, c.sheets[link.referenced].typed, source))


def _finalise(paths: Paths, c: CheckedFile, partition: str | None, run_id: str,
              loaded_at: datetime) -> FileSummary:
    f = c.file
    anomalies = enrich(c.anomalies())
    errors = anomalies.filter(pl.col("gravite") == ERREUR).height
    warnings = anomalies.filter(pl.col("gravite") == AVERTISSEMENT).height
    statut = REJETE if errors else (ACCEPTE_AVEC_AVERTISSEMENTS if warnings else ACCEPTE)
    tables: dict[str, pl.DataFrame] = {}
    archive_path = None
    if statut != REJETE:
        for sheet, result in c.sheets.items():
            tables[sheet] = _with_provenance(result.typed, f, sheet, run_id, loaded_at)
        archived = store.archive(f.path, paths.archive, f.sha256, f.name.extension)
        archive_path = archived.relative_to(paths.data).as_posix()
    report = rapport.report_base(paths.rapports, f.name.siren, f.name.annee if f.name.identified else None,
                                 safe_file_name(f.name.name), f.sha256)
    xlsx, _ = rapport.write_report(report, _report_header(c, statut, errors, warnings, loaded_at),
                                   anomalies.with_columns(chemin=pl.lit(f.chemin)))
    fichier = pl.DataFrame([{
        "sha256": f.sha256, "chemin": f.chemin, "nom_fichier": f.name.name,
        "bailleur_siren": f.name.siren, "annee": f.name.annee, "feuilles": sorted(c.sheets),
        "statut": statut, "nb_erreurs": errors, "nb_avertissements": warnings,
        "depose_le": f.mtime, "charge_le": loaded_at, "run_id": run_id,
        "chemin_archive": archive_path, "taille_octets": f.size,
    }], schema=store.FICHIERS_SCHEMA)
    store.write_version(paths.raw_store, f.sha256, tables,
                        anomalies.with_columns(sha256=pl.lit(f.sha256), chemin=pl.lit(f.chemin)), fichier)
    log.info("%s : %s (%d erreur(s), %d avertissement(s))", f.chemin, statut, errors, warnings)
    return FileSummary(partition, f.chemin, f.sha256, statut, errors, warnings, nouveau=True,
                       lignes={t: d.height for t, d in tables.items()}, rapport=str(xlsx))


def _with_provenance(typed: pl.DataFrame, f: DroppedFile, sheet: str, run_id: str,
                     loaded_at: datetime) -> pl.DataFrame:
    return typed.with_columns(
        bailleur_siren=pl.lit(f.name.siren),
        annee=pl.lit(f.name.annee, pl.Int32),
        _source_file=pl.lit(f.chemin),
        _source_sha256=pl.lit(f.sha256),
        _sheet=pl.lit(sheet),
        _row_number=pl.col(ROW),
        _loaded_at=pl.lit(loaded_at, pl.Datetime("us")),
        _run_id=pl.lit(run_id),
    )


def _report_header(c: CheckedFile, statut: str, errors: int, warnings: int,
                   loaded_at: datetime) -> dict[str, str]:
    f = c.file
    return {
        "Rapport de contrôle": f.name.name,
        "Verdict": rapport.VERDICTS[statut],
        "Chemin dans le dépôt": f.chemin,
        "SIREN du bailleur": f.name.siren or "non identifié",
        "Année du bilan": str(f.name.annee) if f.name.annee else "non identifiée",
        "Feuilles lues": ", ".join(sorted(c.sheets)) or "aucune",
        "Lignes lues": ", ".join(f"{s} : {r.typed.height}" for s, r in sorted(c.sheets.items())) or "0",
        "Erreurs (bloquantes)": str(errors),
        "Avertissements": str(warnings),
        "Empreinte SHA-256": f.sha256,
        f"Déposé le ({PARIS_LABEL})": paris(f.mtime),
        f"Contrôlé le ({PARIS_LABEL})": paris(loaded_at),
    }
