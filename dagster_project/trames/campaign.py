"""Produce every trame of a campaign: plan the reports, skip the unchanged, render the rest in parallel.

Entry point: ``generate_trames(marts_dir, trames_dir, run_id)``. The marts are read once; each
report model is built in this process from its recipient's slice only, then the workbooks that
changed are rendered by a process pool (openpyxl is CPU-bound) and written atomically.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from dagster_project.trames import etat, previsionnel, regional, reservataire, territoire
from dagster_project.trames.loader import BailleurMarts, Campaign, load_campaign
from dagster_project.trames.inputs import input_digest
from dagster_project.trames.manifest import (
    Entry,
    is_current,
    is_intact,
    read_manifest,
    write_manifest,
)
from dagster_project.trames.model import Report
from dagster_project.trames.options import Options
from dagster_project.trames.render import RenderTask, write_report

Builder = Callable[[BailleurMarts, dict, Options], Report | None]
# A dimension value that is not known (dbt var non_renseigne): no recipient to send it to.
NON_RENSEIGNE = "NON_RENSEIGNE"

BUILDERS: dict[str, Builder] = {
    "RESERVATAIRE": lambda b, r, o: reservataire.build(b, r),
    "EPCI_EPT": lambda b, r, o: territoire.build(b, r),
    "ETAT": etat.build,
    "PREVISIONNEL": lambda b, r, o: previsionnel.build(b, r),
}


@dataclass
class CampaignResult:
    written: list[str] = field(default_factory=list)  # paths relative to the trames folder
    unchanged: int = 0
    removed: int = 0
    excluded: dict[str, str] = field(default_factory=dict)  # "<siren>_<annee>" → French reason
    files: int = 0
    seconds: float = 0.0

    @property
    def files_per_second(self) -> float:
        return len(self.written) / self.seconds if self.seconds else 0.0


def bailleur_reports(b: BailleurMarts, options: Options, previsionnel: bool = True) -> list[Report]:
    """Every trame of one bailleur, in a stable order, one per row of ``mart_recipients``;
    the prévisionnel ones only when ``previsionnel`` (an accepted prévisionnel sheet), and
    none for a territory that is not known (``NON_RENSEIGNE``)."""
    recipients = b["mart_recipients"]
    if recipients.is_empty():
        return []
    if not previsionnel:
        recipients = recipients.filter(pl.col("kind") != "PREVISIONNEL")
    recipients = recipients.filter(
        ~pl.col("kind").is_in(["ETAT", "EPCI_EPT"]) | (pl.col("recipient_code") != NON_RENSEIGNE)
    )
    reports = []
    for recipient in recipients.sort(
        "kind", "recipient_code", "departement", nulls_last=True
    ).iter_rows(named=True):
        builder = BUILDERS.get(recipient["kind"])
        report = builder(b, recipient, options) if builder else None
        if report is not None:
            reports.append(report)
    return reports


@dataclass
class YearPlan:
    """One campaign year: the reports to build (and compare with the manifest) and the manifest
    entries kept without building, those of bailleurs whose inputs did not change."""

    reports: list[Report] = field(default_factory=list)
    kept: list[Entry] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # report path → its input digest


def plan(campaign: Campaign, annee: int, options: Options, previous: dict[str, Entry],
         year_dir: Path) -> YearPlan:
    """Only published bailleurs (status PUBLIE) get reports and appear in the regional detail."""
    year = YearPlan()
    entries_of: dict[str, list[Entry]] = defaultdict(list)
    for entry in previous.values():
        entries_of[entry.bailleur_siren].append(entry)
    published = []
    for key, b in campaign.bailleurs.items():
        if b.annee != annee or key not in campaign.published:
            continue
        published.append(b)
        digest = input_digest(b, options)
        old = entries_of.get(b.siren, [])
        if old and all(e.input_digest == digest and is_intact(e, year_dir) for e in old):
            year.kept.extend(old)
            continue
        reports = bailleur_reports(b, options, key in campaign.with_previsionnel)
        for report in _unique_paths(reports):
            year.reports.append(report)
            year.digests[report.relpath] = digest
    excluded = {s: why for (s, y), why in campaign.excluded(short=True).items() if y == annee}
    year.reports.extend(_unique_paths(
        regional.build_all(annee, campaign.regional, published, excluded)
    ))
    return year


def _unique_paths(reports: list[Report]) -> list[Report]:
    """Two codes may sanitise to one file name: suffix the later ones rather than overwrite."""
    seen: set[str] = set()
    unique = []
    for report in reports:
        path, n = report.relpath, 1
        while path in seen:
            n += 1
            stem, dot, ext = report.relpath.rpartition(".")
            path = f"{stem}-{n}{dot}{ext}"
        seen.add(path)
        unique.append(report if path == report.relpath else replace(report, relpath=path))
    return unique


# Starting a spawned worker (interpreter, openpyxl, Polars: ≈ 1.5 s) costs about as much as
# writing this many workbooks in-process (idf, one bailleur's 67 trames: 2.1 s in-process,
# 2.7 s with 2 workers; 266 trames: 6.4 s vs 5.7 s).
WORKBOOKS_PER_WORKER_START = 100


def _render_all(tasks: list[RenderTask], workers: int) -> Iterable[tuple[str, str]]:
    """(relpath, sha256) of each workbook written, as they are written."""
    if workers <= 1 or len(tasks) < 4 * workers:
        yield from (write_report(task) for task in tasks)
        return
    # spawn, not fork: the parent holds Polars' thread pool, which a fork would copy mid-flight.
    context = multiprocessing.get_context("spawn")
    chunksize = max(1, min(32, len(tasks) // (workers * 4)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(write_report, tasks, chunksize=chunksize)


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def auto_workers(nb_tasks: int) -> int:
    """As many worker processes as there are cores and as the batch is worth starting."""
    return max(1, min(default_workers(), nb_tasks // WORKBOOKS_PER_WORKER_START))


def generate_trames(
    marts_dir: Path,
    trames_dir: Path,
    run_id: str,
    *,
    options: Options | None = None,
    workers: int | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CampaignResult:
    """Write ``trames_dir/<annee>/…`` and its manifests from the published marts;
    ``progress(written, to_write)`` is called as the workbooks of a year are written."""
    started = time.perf_counter()
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    campaign = load_campaign(marts_dir)
    result = CampaignResult(
        excluded={f"{siren}_{annee}": why for (siren, annee), why in campaign.excluded().items()}
    )
    stamp = now.isoformat()
    options = options or Options()
    for annee in campaign.annees:
        year_dir = trames_dir / str(annee)
        previous = read_manifest(year_dir)
        year = plan(campaign, annee, options, previous, year_dir)
        entries = {entry.file: entry for entry in year.kept}
        result.unchanged += len(year.kept)
        tasks = []
        for report in year.reports:
            old = previous.get(report.relpath)
            digest = year.digests.get(report.relpath, "")
            if is_current(old, report, year_dir):
                entries[report.relpath] = replace(old, input_digest=digest)
                result.unchanged += 1
            else:
                tasks.append((report, year_dir / report.relpath, run_id, now))
        by_path = {report.relpath: report for report in year.reports}
        step = max(1, len(tasks) // 10)
        rendered = _render_all(tasks, workers or auto_workers(len(tasks)))
        for done, (relpath, sha) in enumerate(rendered, start=1):
            entries[relpath] = Entry.of(by_path[relpath], sha, run_id, stamp,
                                        year.digests.get(relpath, ""))
            result.written.append(f"{annee}/{relpath}")
            if progress is not None and (done % step == 0 or done == len(tasks)):
                progress(done, len(tasks))
        for stale in previous.keys() - entries.keys():
            (year_dir / stale).unlink(missing_ok=True)
            result.removed += 1
        excluded = {s: why for (s, y), why in campaign.excluded().items() if y == annee}
        write_manifest(year_dir, annee, list(entries.values()), excluded)
        result.files += len(entries)
    result.seconds = time.perf_counter() - started
    return result
