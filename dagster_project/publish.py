"""Publication of the marts for analysts: Parquet files and a read-only DuckDB catalog.

DuckDB allows one writer per file, so analysts never open the warehouse. Each publication
writes a new *snapshot* folder ``<marts>/.publications/<version>/`` with one Parquet file per
table, then

- exposes each mart as ``<marts>/<name>.parquet`` (hard link to the snapshot file, swapped in
  with ``os.replace``: a reader sees the old file or the new one, never half of one);
- builds ``catalog.duckdb`` as a *new* file of views over the snapshot files and swaps it in
  with ``os.replace``. A reader holding the previous catalog keeps reading the previous
  snapshot, whose files stay on disk for ``retention()`` (24 h by default) after a newer
  publication replaced it: retention by age, not by count, so that a connection kept open
  survives any number of publications in that time.

Nothing here depends on Dagster: the ``published_marts`` asset is a thin wrapper.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

PUBLICATIONS_DIR = ".publications"
# [choice] A replaced snapshot is deleted this long after its replacement (README: a connection
# opened on the catalog keeps working at least this long after the next publication); a
# reader holding a catalog older than that gets "file not found", never inconsistent data.
RETENTION_ENV = "FLUX_PUBLICATIONS_RETENTION_HEURES"
DEFAULT_RETENTION_HOURS = 24.0
VERSION_TIME_FORMAT = "%Y%m%dT%H%M%S%f"
# Published by the quality stage into the marts folder; snapshotted so the catalog is consistent.
QUALITY_MARTS = ("quality_scorecard", "quality_bailleur_status")
# Raw store tables worth querying when a file is rejected (see docs/runbook.md).
RAW_TABLES = ("fichiers", "anomalies")
# The status of each bailleur (dagster_project/status.py): exposed beside the marts too, the
# trames and the summary read it there.
STATUS_TABLES = ("statut_bailleurs", "statut_feuilles")


@dataclass(frozen=True)
class Publication:
    version: str
    snapshot: Path
    catalog: Path
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def marts(self) -> list[str]:
        return [name for name in self.row_counts if is_published_mart(name)]

    @property
    def exposed(self) -> list[str]:
        """The tables also published as ``<marts>/<name>.parquet``."""
        return [n for n in self.row_counts if is_published_mart(n) or n in STATUS_TABLES]


def is_published_mart(table: str) -> bool:
    """The warehouse tables published as ``<marts>/<name>.parquet`` (contracts.md §3)."""
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


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'main' "
        "order by table_name"
    ).fetchall()
    return [name for (name,) in rows if is_published_mart(name)]


def snapshot_warehouse(warehouse: Path, snapshot: Path) -> dict[str, int]:
    """Copy every mart of the warehouse (opened read-only) into the snapshot folder, rows in
    a fixed order: the same figures give the same bytes (DuckDB's threads build tables in
    any order)."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in warehouse_tables(con):
            target = snapshot / f"{table}.parquet"
            (count,) = con.execute(
                f"copy (select * from main.{sql_identifier(table)} order by all) "
                f"to {sql_literal(target)} (format parquet)"
            ).fetchone()
            counts[table] = int(count)
    return counts


def snapshot_union(sources: list[Path], target: Path) -> int | None:
    """Concatenate Parquet files (schemas unioned by name) into one snapshot file."""
    if not sources:
        return None
    files = ", ".join(sql_literal(p) for p in sorted(sources))
    with duckdb.connect() as con:
        (count,) = con.execute(
            f"copy (select * from read_parquet([{files}], union_by_name = true) order by all) "
            f"to {sql_literal(target)} (format parquet)"
        ).fetchone()
    return int(count)


def snapshot_side_tables(
    snapshot: Path,
    marts_dir: Path,
    quality_dir: Path | None,
    raw_store: Path | None,
    status_dir: Path | None = None,
) -> dict[str, int]:
    """Quality results, the bailleurs' status and the raw store's file log, when the earlier
    stages wrote them."""
    sources: dict[str, list[Path]] = {
        name: [marts_dir / f"{name}.parquet"]
        for name in QUALITY_MARTS
        if (marts_dir / f"{name}.parquet").is_file()
    }
    if status_dir is not None:
        for name in STATUS_TABLES:
            sources[name] = list((status_dir / name).glob("*.parquet"))
    if quality_dir is not None and quality_dir.is_dir():
        sources["quality_checks"] = list(quality_dir.glob("*.parquet"))
    if raw_store is not None:
        for table in RAW_TABLES:
            sources[table] = list((raw_store / table).glob("*.parquet"))
    counts = {}
    for name, files in sources.items():
        count = snapshot_union(files, snapshot / f"{name}.parquet")
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


def build_catalog(catalog: Path, snapshot: Path, version: str, row_counts: dict[str, int]) -> None:
    """Write a new catalog file of views over the snapshot, then swap it in."""
    tmp = catalog.with_name(f".{catalog.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        for name in row_counts:
            con.execute(
                f"create view {sql_identifier(name)} as "
                f"select * from read_parquet({sql_literal(snapshot / f'{name}.parquet')})"
            )
        con.execute(
            "create table _publication (version varchar, publie_le timestamptz, "
            "table_name varchar, nb_lignes bigint)"
        )
        con.executemany(
            "insert into _publication values (?, now(), ?, ?)",
            [(version, name, count) for name, count in row_counts.items()],
        )
    os.replace(tmp, catalog)


def prune_publications(root: Path, keep_for: timedelta, now: datetime | None = None) -> None:
    """Delete the snapshots replaced by a newer one more than ``keep_for`` ago (never the
    newest: the current catalog reads it)."""
    now = now or datetime.now(UTC)
    snapshots = sorted(p for p in root.iterdir() if p.is_dir())
    for old, newer in zip(snapshots, snapshots[1:], strict=False):
        replaced = version_time(newer.name)
        if replaced is not None and now - replaced > keep_for:
            shutil.rmtree(old, ignore_errors=True)


def publish(
    warehouse: Path,
    marts_dir: Path,
    catalog: Path,
    run_id: str,
    quality_dir: Path | None = None,
    raw_store: Path | None = None,
    status_dir: Path | None = None,
) -> Publication:
    """Publish the warehouse's marts; on any error the previous publication stays in place."""
    version = publication_version(run_id)
    root = marts_dir / PUBLICATIONS_DIR
    snapshot = root / version
    snapshot.mkdir(parents=True)
    try:
        counts = snapshot_warehouse(warehouse, snapshot)
        counts |= snapshot_side_tables(snapshot, marts_dir, quality_dir, raw_store, status_dir)
    except BaseException:
        shutil.rmtree(snapshot, ignore_errors=True)
        raise
    pub = Publication(version=version, snapshot=snapshot, catalog=catalog, row_counts=counts)
    for name in pub.exposed:
        replace_atomically(snapshot / f"{name}.parquet", marts_dir / f"{name}.parquet")
    build_catalog(catalog, snapshot, version, counts)
    prune_publications(root, retention())
    return pub
