"""The I/O floor of a campaign, measured on its own data: what reading its inputs and writing
its trames cost with the project's reader and writer and nothing else.

- reading: every dropped file opened and read by the ingestion's reader (``read_csv`` /
  ``read_xlsx``: bytes to cleaned text cells), without validation, store or rapport;
- writing: the same trames as the campaign's (same reports, hence the same number and size),
  each drawn as an openpyxl workbook first (not timed: that is the project's own layout work,
  reported apart as ``construction``), then serialised by the project's writer and written to
  a scratch folder (timed). Other writers are timed on one trame in ``ALTERNATIVES_EVERY``
  (``bench/writers.py``).

Both use as many worker processes as the pipeline does (one per core); a worker times each
file, and a stage's floor is the sum of its files' times divided by the workers (process
start and imports are not part of the floor).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dagster_project.atomic import write_bytes
from dagster_project.bench import writers
from dagster_project.demo.campaign import MARKER
from dagster_project.ingest.naming import parse_file_name
from dagster_project.ingest.reader import read_csv, read_xlsx
from dagster_project.ingest.rejection import Rejection
from dagster_project.trames.campaign import default_workers, plan
from dagster_project.trames.loader import load_campaign
from dagster_project.trames.options import Options
from dagster_project.trames.render import build_workbook, serialise

FLOOR_DIR = "plancher"
ALTERNATIVES_EVERY = 10


def dropped_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.name != MARKER)


def read_one(path: Path) -> tuple[float, int, bool]:
    """(seconds, bytes, read without rejection) of reading one dropped file."""
    name = parse_file_name(path.name)
    started = time.perf_counter()
    try:
        with path.open("rb") as fh:
            read_xlsx(fh) if name.extension == ".xlsx" else read_csv(fh, name)
        ok = True
    except Rejection:
        ok = False
    return time.perf_counter() - started, path.stat().st_size, ok


@dataclass(frozen=True)
class Written:
    """One workbook of the write floor: its sizes and the seconds of each way of writing it."""

    octets: int
    construction: float  # drawing the report into an openpyxl workbook (not in the floor)
    ecriture: float  # the project's writer: serialise + write the file (the floor)
    serialisation_stock: float  # openpyxl's own writer (private_api/openpyxl_writer.py off)
    serialisation: float  # the project's writer, serialising only
    alternatives: dict[str, tuple[float, int]] | None = None  # writer → (seconds, bytes)


def write_one(task: tuple) -> Written:
    report, target, run_id, at, compare = task
    started = time.perf_counter()
    wb = build_workbook(report, run_id, at)
    built = time.perf_counter()
    data = serialise(wb)
    serialised = time.perf_counter()
    write_bytes(target, data)
    written = time.perf_counter()
    serialise(wb, stock_writer=True)  # the same workbook again (openpyxl can save it twice)
    stock = time.perf_counter() - written
    return Written(len(data), built - started, written - built, stock, serialised - built,
                   writers.time_writers(wb) if compare else None)


def in_pool(fn: Callable, items: list, workers: int) -> Iterable:
    if workers <= 1:
        yield from map(fn, items)
        return
    context = multiprocessing.get_context("spawn")  # as the pipeline's pools
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(fn, items, chunksize=max(1, min(32, len(items) // (workers * 4))))


def read_floor(landing: Path, workers: int) -> dict:
    files = dropped_files(landing)
    started = time.perf_counter()
    results = list(in_pool(read_one, files, workers))
    seconds = sum(r[0] for r in results)
    return {
        "fichiers": len(files), "octets": sum(r[1] for r in results),
        "rejetes_a_la_lecture": sum(not r[2] for r in results),
        "secondes": round(seconds / workers, 2), "secondes_somme": round(seconds, 2),
        "mur_secondes": round(time.perf_counter() - started, 2),
    }


def write_floor(marts: Path, scratch: Path, workers: int) -> dict:
    """The trames of the published year ``marts`` (``paths().published(annee)``) written again
    into ``scratch`` (emptied first, then removed)."""
    shutil.rmtree(scratch, ignore_errors=True)
    campaign = load_campaign(marts)
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tasks = []
    for annee in campaign.annees:
        year = plan(campaign, annee, Options(), {}, scratch / str(annee))
        tasks += [(r, scratch / str(annee) / r.relpath, "plancher", at,
                   (len(tasks) + i) % ALTERNATIVES_EVERY == 0)
                  for i, r in enumerate(year.reports)]
    started = time.perf_counter()
    results: list[Written] = list(in_pool(write_one, tasks, workers))
    wall = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)

    def total(field: str) -> float:
        return sum(getattr(r, field) for r in results)

    n = len(results) or 1
    compared = [r.alternatives for r in results if r.alternatives]
    return {
        "trames": len(results), "octets": sum(r.octets for r in results),
        "secondes": round(total("ecriture") / workers, 2),
        "construction_secondes": round(total("construction") / workers, 2),
        "mur_secondes": round(wall, 2),
        # per workbook, in milliseconds, for the writer alternatives
        "ms_par_trame": {
            "construction": round(1000 * total("construction") / n, 2),
            "serialisation": round(1000 * total("serialisation") / n, 2),
            "serialisation_openpyxl_stock": round(1000 * total("serialisation_stock") / n, 2),
            "ecriture_fichier": round(1000 * (total("ecriture") - total("serialisation")) / n, 2),
        },
        # the same content written from scratch by each writer (cells created + serialised)
        "ecrivains": {
            "trames_comparees": len(compared),
            "ms_par_trame": {w: round(1000 * sum(c[w][0] for c in compared) / len(compared), 2)
                             for w in writers.WRITERS} if compared else {},
            "octets_par_trame": {w: round(sum(c[w][1] for c in compared) / len(compared))
                                 for w in writers.WRITERS} if compared else {},
        },
    }


def measure(root: Path, landing: Path, marts: Path, end_to_end: float | None,
            workers: int | None = None) -> dict:
    """Both floors, their sum (``plancher_secondes``) and end to end ÷ floor."""
    workers = workers or default_workers()
    reading = read_floor(landing, workers)
    writing = write_floor(marts, root / FLOOR_DIR, workers)
    floor = reading["secondes"] + writing["secondes"]
    return {
        "processus": workers,
        "lecture": reading,
        "ecriture_trames": writing,
        "plancher_secondes": round(floor, 2),
        "bout_en_bout_sur_plancher": round(end_to_end / floor, 2) if end_to_end and floor else None,
    }

