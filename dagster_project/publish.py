"""Publication of the marts for analysts: Parquet files and a read-only DuckDB catalog.

DuckDB allows one writer per file, so analysts never open the warehouse. Several bilan years
live side by side and a run publishes only its own year: re-running 2025 never rewrites a byte
of 2024. Each publication of year N writes a new *snapshot* folder
``<marts>/.publications/<N>/<version>/`` (built under a temporary name, then renamed: a
snapshot folder is complete or absent) with one Parquet file per table holding the rows of
year N, then

- exposes each table as ``paths().published(N)/<name>.parquet`` = ``<marts>/<N>/<name>.parquet``
  (hard link to the snapshot file, swapped in with ``os.replace``: a reader sees the old file
  or the new one, never half of one);
- builds ``catalog.duckdb`` as a *new* file with one view per table over the current snapshot
  of every year, and swaps it in with ``os.replace``. A reader holding the previous catalog
  keeps reading the previous snapshots, whose files stay on disk for ``retention()`` (24 h by
  default) after a newer publication of their year replaced them: retention by age, not by
  count, so that a connection kept open survives any number of publications in that time.

Rows of no year (a file named without one, checks over the whole warehouse) are published by
every run in the folder ``published(None)`` (``sans_annee``).

Nothing here depends on Dagster: the ``published_marts`` asset is a thin wrapper.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from dagster_project.envoi.journal import ensure_schema as envois_journal
from dagster_project.envoi.journal import envois_dir
from dagster_project.settings import SANS_ANNEE, Paths

PUBLICATIONS_DIR = ".publications"
# [choice] A replaced snapshot is deleted this long after its replacement (README: a connection
# opened on the catalog keeps working at least this long after the next publication); a
# reader holding a catalog older than that gets "file not found", never inconsistent data.
RETENTION_ENV = "FLUX_PUBLICATIONS_RETENTION_HEURES"
DEFAULT_RETENTION_HOURS = 24.0
VERSION_TIME_FORMAT = "%Y%m%dT%H%M%S%f"
# Written by the quality stage (paths().scorecard); snapshotted so the catalog is consistent.
QUALITY_MARTS = ("quality_scorecard", "quality_bailleur_status")
# Raw store tables worth querying when a file is rejected (see docs/runbook.md).
RAW_TABLES = ("fichiers", "anomalies")
# The status of each bailleur (dagster_project/status.py): published beside the marts too, the
# trames and the summary read it there.
STATUS_TABLES = ("statut_bailleurs", "statut_feuilles")


@dataclass(frozen=True)
class Publication:
    """One publication: the snapshot of each year it published (None: the rows of no year)."""

    version: str
    catalog: Path
    snapshots: dict[int | None, Path]
    row_counts: dict[int | None, dict[str, int]] = field(default_factory=dict)

    @property
    def marts(self) -> list[str]:
        names = {name for counts in self.row_counts.values() for name in counts}
        return sorted(name for name in names if is_published_mart(name))


def is_published_mart(table: str) -> bool:
    """The warehouse tables published as Parquet marts (contracts.md §3)."""
    return table.startswith("mart_") or table == "fct_tours"


def publication_version(run_id: str, now: datetime | None = None) -> str:
    """A sortable, unique snapshot name: UTC timestamp then the start of the run id."""
    now = now or datetime.now(UTC)
    return f"{now.strftime(VERSION_TIME_FORMAT)}_{run_id[:8]}"


def version_time(version: str) -> datetime | None:
    try:
        return datetime.strptime(version.split("_", 1)[0], VERSION_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def retention() -> timedelta:
    return timedelta(hours=float(os.environ.get(RETENTION_ENV, DEFAULT_RETENTION_HOURS)))


def sql_literal(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def of_year(annee: int | None) -> str:
    """The SQL condition selecting the rows of bilan year ``annee`` (None: of no year)."""
    return "annee is null" if annee is None else f"annee = {int(annee)}"


def scope_name(annee: int | None) -> str:
    return SANS_ANNEE if annee is None else str(annee)


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """The published tables of the warehouse → whether they have a year column."""
    rows = con.execute(
        "select table_name, bool_or(column_name = 'annee') from information_schema.columns "
        "where table_schema = 'main' group by table_name order by table_name"
    ).fetchall()
    return {name: bool(has_year) for name, has_year in rows if is_published_mart(name)}


def snapshot_warehouse(warehouse: Path, snapshot: Path, annee: int | None) -> dict[str, int]:
    """Copy the rows of ``annee`` of every mart of the warehouse (opened read-only) into the
    snapshot folder, in a fixed order: the same figures give the same bytes (DuckDB's threads
    build tables in any order). A table without a year belongs to no year."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, has_year in warehouse_tables(con).items():
            if has_year:
                where = of_year(annee)
            elif annee is None:
                where = "true"
            else:
                continue
            target = snapshot / f"{table}.parquet"
            (count,) = con.execute(
                f"copy (select * from main.{sql_identifier(table)} where {where} order by all) "
                f"to {sql_literal(target)} (format parquet)"
            ).fetchone()
            counts[table] = int(count)
    return counts


def read_files(sources: list[Path]) -> str:
    files = ", ".join(sql_literal(p) for p in sorted(sources))
    return f"read_parquet([{files}], union_by_name = true)"


def snapshot_union(sources: list[Path], target: Path, where: str) -> int | None:
    """The rows ``where`` of Parquet files (schemas unioned by name), in one snapshot file."""
    if not sources:
        return None
    with duckdb.connect() as con:
        (count,) = con.execute(
            f"copy (select * from {read_files(sources)} where {where} order by all) "
            f"to {sql_literal(target)} (format parquet)"
        ).fetchone()
    return int(count)


def side_table_sources(p: Paths) -> dict[str, list[Path]]:
    """Quality results, the bailleurs' status and the raw store's file log, when the earlier
    stages wrote them."""
    sources: dict[str, list[Path]] = {
        name: [p.scorecard / f"{name}.parquet"]
        for name in QUALITY_MARTS
        if (p.scorecard / f"{name}.parquet").is_file()
    }
    for name in STATUS_TABLES:
        sources[name] = list((p.status / name).glob("*.parquet"))
    if p.quality.is_dir():
        sources["quality_checks"] = list(p.quality.glob("*.parquet"))
    for table in RAW_TABLES:
        sources[table] = list((p.raw_store / table).glob("*.parquet"))
    return {name: files for name, files in sources.items() if files}


def snapshot_side_tables(p: Paths, snapshot: Path, annee: int | None) -> dict[str, int]:
    """The rows of ``annee`` of every side table; an anomaly has the year of its file."""
    sources = side_table_sources(p)
    where = {name: of_year(annee) for name in sources}
    if "anomalies" in sources:
        where["anomalies"] = (
            "sha256 || chemin in (select sha256 || chemin from "
            f"{read_files(sources['fichiers'])} where {of_year(annee)})"
            if "fichiers" in sources else "false"
        )
    counts = {}
    for name, files in sources.items():
        count = snapshot_union(files, snapshot / f"{name}.parquet", where[name])
        if count is not None:
            counts[name] = count
    return counts


def replace_atomically(source: Path, target: Path) -> None:
    """Make ``target`` have the content of ``source`` in one rename (same folder, same disk)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:  # file systems without hard links
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def current_snapshots(marts_dir: Path) -> dict[str, Path]:
    """The newest complete snapshot of every year (folder name → snapshot)."""
    root = marts_dir / PUBLICATIONS_DIR
    current = {}
    for scope in sorted(root.iterdir()) if root.is_dir() else []:
        versions = sorted(v for v in scope.iterdir() if v.is_dir() and version_time(v.name))
        if versions and (scope.name.isdigit() or scope.name == SANS_ANNEE):
            current[scope.name] = versions[-1]
    return current


def build_catalog(catalog: Path, snapshots: dict[str, Path]) -> None:
    """Write a new catalog file with one view per table over the snapshots of every year,
    then swap it in."""
    files: dict[str, list[Path]] = {}
    for snapshot in snapshots.values():
        for path in sorted(snapshot.glob("*.parquet")):
            files.setdefault(path.stem, []).append(path)
    tmp = catalog.with_name(f".{catalog.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    rows = []
    with duckdb.connect(str(tmp)) as con:
        for name, paths in sorted(files.items()):
            con.execute(f"create view {sql_identifier(name)} as select * from {read_files(paths)}")
        # The delivery journal is appended to after publications: a live view over its parts.
        journal_glob = envois_journal(envois_dir(catalog.parent))
        con.execute(
            "create view envois as select * from "
            f"read_parquet({sql_literal(journal_glob)}, union_by_name = true)"
        )
        con.execute(
            "create table _publication (annee varchar, version varchar, table_name varchar, "
            "nb_lignes bigint, publie_le timestamptz)"
        )
        for scope, snapshot in sorted(snapshots.items()):
            for path in sorted(snapshot.glob("*.parquet")):
                count = pl.scan_parquet(path).select(pl.len()).collect().item()
                rows.append((scope, snapshot.name, path.stem, count, version_time(snapshot.name)))
        if rows:
            con.executemany("insert into _publication values (?, ?, ?, ?, ?)", rows)
    os.replace(tmp, catalog)


def prune_publications(root: Path, keep_for: timedelta, now: datetime | None = None) -> None:
    """Delete the snapshots of one year replaced by a newer one more than ``keep_for`` ago
    (never the newest: the current catalog reads it), and the temporaries of killed runs."""
    now = now or datetime.now(UTC)
    for stale in root.glob(".*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    snapshots = sorted(p for p in root.iterdir() if p.is_dir() and version_time(p.name))
    for old, newer in zip(snapshots, snapshots[1:], strict=False):
        replaced = version_time(newer.name)
        if replaced is not None and now - replaced > keep_for:
            shutil.rmtree(old, ignore_errors=True)


def publish_year(p: Paths, annee: int | None, version: str) -> tuple[Path, dict[str, int]]:
    """Snapshot the rows of ``annee`` and expose them in ``p.published(annee)``; on any error
    the year's previous publication stays in place."""
    root = p.marts / PUBLICATIONS_DIR / scope_name(annee)
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".{version}.tmp"
    building.mkdir()
    try:
        counts = snapshot_warehouse(p.warehouse, building, annee)
        counts |= snapshot_side_tables(p, building, annee)
        if annee is None:  # rows of no year are the exception: only the tables that have some
            for name in [n for n, count in counts.items() if not count]:
                (building / f"{name}.parquet").unlink()
                del counts[name]
        snapshot = root / version
        os.replace(building, snapshot)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    folder = p.published(annee)
    folder.mkdir(parents=True, exist_ok=True)
    for name in counts:
        replace_atomically(snapshot / f"{name}.parquet", folder / f"{name}.parquet")
    if annee is None:  # a table that has no such row any more
        for stale in folder.glob("*.parquet"):
            if stale.stem not in counts:
                stale.unlink()
    prune_publications(root, retention())
    return snapshot, counts


def remove_single_folder_layout(marts_dir: Path) -> None:
    """Before per-year folders, each table was one file of every year in ``<marts>/`` and each
    snapshot ``.publications/<version>/``: removed once the catalog no longer reads them, so
    nobody keeps reading a stale file."""
    for old in marts_dir.glob("*.parquet"):
        if is_published_mart(old.stem) or old.stem in (*QUALITY_MARTS, *STATUS_TABLES):
            old.unlink(missing_ok=True)
    for old in (marts_dir / PUBLICATIONS_DIR).glob("*"):
        if version_time(old.name):
            shutil.rmtree(old, ignore_errors=True)


def publish(p: Paths, run_id: str, annees: list[int]) -> Publication:
    """Publish the bilan years ``annees`` (and the rows of no year), then the catalog over the
    current snapshot of every year; the other years' files are not touched."""
    version = publication_version(run_id)
    snapshots, counts = {}, {}
    for annee in [*sorted(set(annees)), None]:
        snapshots[annee], counts[annee] = publish_year(p, annee, version)
    build_catalog(p.catalog, current_snapshots(p.marts))
    remove_single_folder_layout(p.marts)
    return Publication(version=version, catalog=p.catalog, snapshots=snapshots, row_counts=counts)
