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
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dagster_project.documents.dates import PARIS_LABEL, paris
from dagster_project.ingest import apparitions, copies, rapport, store
from dagster_project.ingest.contract import AVERTISSEMENT, ERREUR, rules_frame
from dagster_project.ingest.dropped import (
    DroppedFile,
    StillWriting,
    landing_entries,
    relative,
    settle_seconds,
)
from dagster_project.ingest.files import CheckedFile, check_file
from dagster_project.ingest.naming import parse_file_name, plausible_year
from dagster_project.ingest.reader import ROW
from dagster_project.ingest.references import LINKS, SheetSource, broken_references, orphans
from dagster_project.ingest.text import visible
from dagster_project.settings import Paths, max_file_bytes

log = logging.getLogger(__name__)

POOL_MIN_PARTITIONS = 40
ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE = "ACCEPTE", "ACCEPTE_AVEC_AVERTISSEMENTS", "REJETE"
EN_COURS_DE_DEPOT = "EN_COURS_DE_DEPOT"  # no verdict yet: the file is still being written


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
    version: str = ""  # raw store key (dropped.version_id)


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


def partition_of(name: str) -> str | None:
    parsed = parse_file_name(visible(name))
    return parsed.partition_key if parsed.identified and plausible_year(parsed.annee) else None


def discover_partitions(landing: Path) -> list[str]:
    return sorted({k for p in landing_entries(landing) if (k := partition_of(p.name))})


def files_by_partition(landing: Path) -> dict[str | None, list[Path]]:
    out: dict[str | None, list[Path]] = defaultdict(list)
    for path in landing_entries(landing):
        out[partition_of(path.name)].append(path)
    return dict(out)


def survey(paths: Paths, file_paths: list[Path]) -> tuple[list[DroppedFile], list[FileSummary]]:
    """The settled files among ``file_paths``, and a summary for each one still being written.

    A file modified less than the settle delay ago is looked at again once that delay has
    passed (one wait for all of them): unchanged, it is taken; changed, it waits for the next run.
    """
    dropped, young = [], []
    for path in file_paths:
        try:
            dropped.append(DroppedFile.at(path, paths.landing))
        except StillWriting:
            young.append(path)
        except FileNotFoundError:
            log.info("Fichier retiré pendant la lecture du dépôt : %s", path)
        except OSError as error:  # not even its metadata can be read: the others go on
            log.warning("Entrée du dépôt illisible, ignorée : %s (%s)", path, error)
    pending: list[FileSummary] = []
    if young:
        time.sleep(settle_seconds())
        for path in young:
            try:
                dropped.append(DroppedFile.at(path, paths.landing))
            except StillWriting:
                chemin = visible(relative(path, paths.landing))
                log.info("En cours de dépôt, pris au prochain passage : %s", chemin)
                pending.append(FileSummary(partition_of(path.name), chemin, "", EN_COURS_DE_DEPOT,
                                           0, 0, nouveau=False))
            except FileNotFoundError:
                log.info("Fichier retiré pendant la lecture du dépôt : %s", path)
    return dropped, pending


# ---------------------------------------------------------------------------- ingestion


@dataclass
class Batch:
    """One bailleur-year's files (or the unidentified ones) and what the raw store knows of them."""

    partition: str | None
    files: list[DroppedFile]
    stored: pl.DataFrame  # registry rows of these file versions (already ingested)
    earlier: dict[str, copies.EarlierDrop]  # per version: the first drop of its bytes elsewhere


def plan(paths: Paths, groups: dict[str | None, list[DroppedFile]]) -> list[Batch]:
    """The batches of this run; the registry is read once, copies looked for across all groups."""
    registry = store.read_registry(paths.raw_store)
    earlier = copies.earlier_drops(registry, [f for files in groups.values() for f in files])
    return [Batch(key, files, registry.filter(pl.col("version").is_in([f.version for f in files])),
                  {f.version: earlier[f.version] for f in files if f.version in earlier})
            for key, files in groups.items()]


def ingest_partitions(paths: Paths, partition_keys: list[str], run_id: str,
                      max_workers: int | None = None) -> IngestSummary:
    """Ingest the new file versions of these partitions, plus any unidentified file.

    ``max_workers``: size of the process pool; by default a pool of CPU-count workers is used
    only from ``POOL_MIN_PARTITIONS`` partitions on. A partition whose worker fails gets
    last-resort verdicts; the others go on.
    """
    store.ensure_schemas(paths.raw_store)
    grouped = files_by_partition(paths.landing)
    wanted = [None, *partition_keys]
    dropped, summaries = survey(paths, [p for key in wanted for p in grouped.get(key, [])])
    by_key: dict[str | None, list[DroppedFile]] = {key: [] for key in wanted}
    for f in dropped:
        by_key[partition_of(f.path.name)].append(f)
    unidentified, *batches = plan(paths, by_key)
    summaries += ingest_batch(paths, unidentified, run_id)
    jobs = [(paths, batch, run_id) for batch in batches]
    # A spawned worker pays ~3 s of imports and Polars is already multi-threaded: a pool only
    # pays off for big campaigns (or when the caller asks for one explicitly).
    workers = min(len(jobs), max_workers or os.cpu_count() or 1)
    if workers > 1 and (max_workers is not None or len(jobs) >= POOL_MIN_PARTITIONS):
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [(job, pool.submit(_ingest_job, job)) for job in jobs]
            for job, future in futures:
                try:
                    summaries.extend(future.result())
                except Exception:  # the worker died (memory, signal): its files get a verdict
                    log.exception("Échec du processus d'ingestion de %s", job[1].partition)
                    summaries.extend(_partition_lost(*job))
    else:
        for job in jobs:
            summaries.extend(_ingest_job(job))
    return IngestSummary(run_id, summaries)


def _ingest_job(job: tuple[Paths, Batch, str]) -> list[FileSummary]:
    return ingest_batch(*job)


def _partition_lost(paths: Paths, batch: Batch, run_id: str) -> list[FileSummary]:
    known = store.known_versions(paths.raw_store)
    loaded_at = _now()
    return [_finalise_safely(paths, unexpected(f, run_id), batch.partition, run_id, loaded_at)
            for f in batch.files if f.version not in known]


def ingest_files(paths: Paths, file_paths: list[Path], run_id: str,
                 partition: str | None = None) -> list[FileSummary]:
    """Ingest these files of one bailleur-year (or unidentified ones): one summary per file."""
    dropped, pending = survey(paths, file_paths)
    (batch,) = plan(paths, {partition: dropped})
    return pending + ingest_batch(paths, batch, run_id)


def ingest_batch(paths: Paths, batch: Batch, run_id: str) -> list[FileSummary]:
    """One verdict per file version (content at a place); known versions are not read again."""
    stored, partition = batch.stored, batch.partition
    summaries = [
        FileSummary(partition, row["chemin"], row["sha256"], row["statut"], row["nb_erreurs"],
                    row["nb_avertissements"], nouveau=False, version=row["version"])
        for row in stored.iter_rows(named=True)
    ]
    known = set(stored["version"])
    new = sorted((f for f in batch.files if f.version not in known), key=lambda f: f.order)
    if not new:
        return summaries
    limit = max_file_bytes()
    checked = [_guarded(f, run_id, check_file, f, limit, batch.earlier.get(f.version)) for f in new]
    enriched = {c.file.version: enrich(c.anomalies()) for c in checked}
    drop_set = _drop_set(paths, stored, checked, enriched)
    checked = [_guarded(c.file, run_id, _cross_checks, c, drop_set) for c in checked]
    loaded_at = _now()
    return summaries + [_finalise_safely(paths, c, partition, run_id, loaded_at) for c in checked]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------------------- last-resort net


def unexpected(f: DroppedFile, run_id: str) -> CheckedFile:
    """What the design missed: a REJETE verdict with a reference; the detail is in the log."""
    reference = f"{run_id}/{f.sha256[:8]}"
    log.exception("Erreur inattendue sur %s (référence %s)", f.chemin, reference)
    checked = CheckedFile(f)
    checked.notes.append({"regle": "FICHIER_NON_TRAITE", "detail": reference})
    return checked


def _guarded(f: DroppedFile, run_id: str, step, *args) -> CheckedFile:
    try:
        return step(*args)
    except Exception:
        return unexpected(f, run_id)


def _finalise_safely(paths: Paths, c: CheckedFile, partition: str | None, run_id: str,
                     loaded_at: datetime) -> FileSummary:
    try:
        return _finalise(paths, c, partition, run_id, loaded_at)
    except Exception:
        pass
    try:
        return _finalise(paths, unexpected(c.file, run_id), partition, run_id, loaded_at)
    except Exception:  # even the rapport could not be written (disk full…): the log says why
        log.exception("Rapport impossible à écrire pour %s", c.file.chemin)
        return FileSummary(partition, c.file.chemin, c.file.sha256, REJETE, 1, 0, nouveau=True,
                           version=c.file.version)


def enrich(anomalies: pl.DataFrame) -> pl.DataFrame:
    """Add gravité, French message and hint from the rules table.

    Placeholders are filled in both texts; `` ({x})`` disappears when ``x`` is empty, so no
    message ends with empty parentheses.
    """
    rules = rules_frame().select("regle", "gravite", "message", "conseil")
    joined = anomalies.join(rules, on="regle", how="left", validate="m:1")
    texts = {"message": pl.col("message"), "conseil": pl.col("conseil")}
    for placeholder in ("valeur", "detail", "colonne"):
        value = pl.col(placeholder).fill_null("")
        in_parentheses = pl.when(value == "").then(pl.lit("")).otherwise(pl.format(" ({})", value))
        for key, text in texts.items():
            texts[key] = (text.str.replace_all(" ({" + placeholder + "})", in_parentheses, literal=True)
                          .str.replace_all("{" + placeholder + "}", value, literal=True))
    return joined.with_columns(**texts)


def _has_errors(anomalies: pl.DataFrame) -> bool:
    return anomalies.filter(pl.col("gravite") == ERREUR).height > 0


DropSet = dict[str, tuple[tuple, SheetSource]]


def _drop_set(paths: Paths, stored: pl.DataFrame, checked: list[CheckedFile],
              enriched: dict[str, pl.DataFrame]) -> tuple[DropSet, dict[str, str]]:
    """Per sheet, the newest non-rejected version among the stored and the new files; and per
    sheet only ever dropped in rejected files, the newest such file's name."""
    best: DropSet = {}
    rejected: dict[str, tuple[tuple, str]] = {}

    def offer(sheet: str, order: tuple, source: SheetSource) -> None:
        if sheet not in best or order > best[sheet][0]:
            best[sheet] = (order, source)

    def refuse(sheet: str, order: tuple, name: str) -> None:
        if sheet not in rejected or order > rejected[sheet][0]:
            rejected[sheet] = (order, name)

    for row in stored.iter_rows(named=True):
        for sheet in row["feuilles"] or []:
            order = (row["depose_le"], row["chemin"])
            if row["statut"] == REJETE:
                refuse(sheet, order, row["nom_fichier"])
                continue
            target = store.table_path(paths.raw_store, sheet, row["version"])
            offer(sheet, order, SheetSource(row["nom_fichier"], row["sha256"],
                                            lambda col, t=target: pl.read_parquet(t, columns=[col]).to_series(),
                                            stored=True))
    for c in checked:
        for sheet, result in c.sheets.items():
            if _has_errors(enriched[c.file.version]):
                refuse(sheet, c.file.order, c.file.name.name)
            else:
                offer(sheet, c.file.order, SheetSource(c.file.name.name, c.file.sha256,
                                                       lambda col, frame=result.typed: frame[col]))
    return best, {sheet: name for sheet, (_, name) in rejected.items() if sheet not in best}


def _cross_checks(c: CheckedFile, drop_set: tuple[DropSet, dict[str, str]]) -> CheckedFile:
    best, rejected = drop_set
    own = {sheet: SheetSource(c.file.name.name, c.file.sha256, lambda col, f=r.typed: f[col])
           for sheet, r in c.sheets.items()}
    for link in LINKS:
        if link.referencing in c.sheets:
            result = c.sheets[link.referencing]
            own_file = link.referenced in own
            source = own[link.referenced] if own_file else best.get(link.referenced, (None, None))[1]
            c.extra.append(broken_references(link, result.typed, result.written[link.column],
                                             source, own_file, rejected.get(link.referenced)))
        elif link.referenced in c.sheets and link.referencing in best:
            # files of this batch report their own broken references
            source = best[link.referencing][1]
            if source.stored:
                c.extra.append(orphans(link, c.sheets[link.referenced].typed, source))
    return c


def _finalise(paths: Paths, c: CheckedFile, partition: str | None, run_id: str,
              loaded_at: datetime) -> FileSummary:
    f = c.file
    anomalies = enrich(_quotable(c.anomalies()))
    errors = anomalies.filter(pl.col("gravite") == ERREUR).height
    warnings = anomalies.filter(pl.col("gravite") == AVERTISSEMENT).height
    statut = REJETE if errors else (ACCEPTE_AVEC_AVERTISSEMENTS if warnings else ACCEPTE)
    tables: dict[str, pl.DataFrame] = {}
    archive_path = None
    if statut != REJETE:
        for sheet, result in c.sheets.items():
            tables[sheet] = _with_provenance(result.typed, f, sheet, run_id, loaded_at)
        archived = store.archive(f.path, paths.landing, paths.archive, f.sha256, f.name.extension)
        archive_path = archived.relative_to(paths.data).as_posix()
    report = rapport.version_report_base(paths.rapports, f.name.siren,
                                         f.name.annee if f.name.identified else None,
                                         f.name.name, f.version)
    xlsx, _ = rapport.write_report(report, _report_header(c, statut, errors, warnings, loaded_at),
                                   anomalies.with_columns(chemin=pl.lit(f.chemin)))
    fichier = pl.DataFrame([{
        "sha256": f.sha256, "chemin": f.chemin, "nom_fichier": f.name.name,
        "bailleur_siren": f.name.siren, "annee": f.name.annee, "feuilles": sorted(c.sheets),
        "statut": statut, "nb_erreurs": errors, "nb_avertissements": warnings,
        "depose_le": f.mtime,
        "apparu_le": apparitions.record(paths.apparitions, [(f.chemin, f.sha256)])[f.sha256],
        "charge_le": loaded_at, "run_id": run_id,
        "chemin_archive": archive_path, "taille_octets": f.size,
    }], schema=store.FICHIERS_SCHEMA)
    store.write_version(paths.raw_store, f.version, tables,
                        anomalies.with_columns(sha256=pl.lit(f.sha256), chemin=pl.lit(f.chemin)), fichier)
    log.info("%s : %s (%d erreur(s), %d avertissement(s))", f.chemin, statut, errors, warnings)
    return FileSummary(partition, f.chemin, f.sha256, statut, errors, warnings, nouveau=True,
                       lignes={t: d.height for t, d in tables.items()}, rapport=str(xlsx),
                       version=f.version)


_QUOTED_CHARS = 200


def _quotable(anomalies: pl.DataFrame) -> pl.DataFrame:
    """Values quoted in a rapport are cut: a 10 MB cell is named, not copied."""
    def cut(column: str) -> pl.Expr:
        text = pl.col(column)
        return pl.when(text.str.len_chars() > _QUOTED_CHARS).then(
            text.str.slice(0, _QUOTED_CHARS - 1) + pl.lit("…")).otherwise(text)

    return anomalies.with_columns(valeur=cut("valeur"), detail=cut("detail"))


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
