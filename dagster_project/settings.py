"""Where the pipeline reads and writes, resolved once from the environment.

Everything derives from two roots so that the demo campaign, the tests and a real campaign
never mix: ``FLUX_DATA_DIR`` (default ``data/``) holds every output, ``FLUX_LANDING_DIR``
(default ``<data>/raw``) is the folder bailleurs drop files into. Paths are read at call time,
not import time, so tests can point them at a temporary directory with ``monkeypatch.setenv``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

# Every step that opens flux.duckdb (dbt, quality checks, publication) runs in this Dagster
# pool, limited to 1 by the instance's dagster.yaml: DuckDB allows one writer per file.
DUCKDB_WRITER_POOL = "duckdb_writer"

# The published folder of the rows that belong to no bilan year (a file named without one,
# checks over the whole warehouse): every run publishes it beside its year's folder.
SANS_ANNEE = "sans_annee"

# Files larger than this are rejected unread (a bailleur's real export is a few MB; the largest
# RPLS extract of an Île-de-France bailleur, about 10 MB). The limit is what reading one file
# in bounded memory is measured against: make bench-lecture (docs/benchmark.md).
DEFAULT_MAX_FILE_MB = 50


@dataclass(frozen=True)
class Paths:
    data: Path
    landing: Path

    @property
    def archive(self) -> Path:
        """Accepted files, copied byte for byte, named by SHA-256."""
        return self.data / "archive"

    @property
    def raw_store(self) -> Path:
        """One Parquet file per (file version, sheet): the ingested rows, never rewritten."""
        return self.data / "warehouse" / "raw"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file dbt writes to. One writer at a time (pool ``duckdb_writer``)."""
        return self.data / "warehouse" / "flux.duckdb"

    @property
    def dbt_artifacts(self) -> Path:
        """dbt's target folder for this data root: the parse state every run starts from
        (partial parsing; it is only valid for this profile, i.e. this warehouse path) and one
        sub-folder per Dagster run's invocation (manifest, run_results.json, dbt.log)."""
        return self.data / "warehouse" / "dbt"

    @property
    def quality(self) -> Path:
        """Per-check, per-bailleur results written by the Great Expectations checks."""
        return self.data / "warehouse" / "quality"

    @property
    def status(self) -> Path:
        """The status of each bailleur and year (``dagster_project/status.py``), read by the
        regional dbt models and published with the marts."""
        return self.data / "warehouse" / "statut"

    @property
    def scorecard(self) -> Path:
        """The quality scorecard of every bailleur and year, written by the quality stage and
        read by ``status.py``; published per year with the marts."""
        return self.data / "warehouse" / "scorecard"

    @property
    def marts(self) -> Path:
        """Published outputs: one folder per bilan year (``published``), the analysts' catalog,
        trames, rapports, tracking, summaries."""
        return self.data / "marts"

    def published(self, annee: int | None) -> Path:
        """The published folder of bilan year ``annee``: the Parquet files of its marts, status,
        quality results and file log (publish.py); None: the rows of no year."""
        return self.marts / (SANS_ANNEE if annee is None else str(annee))

    @property
    def catalog(self) -> Path:
        return self.marts / "catalog.duckdb"

    @property
    def trames(self) -> Path:
        return self.marts / "trames"

    @property
    def rapports(self) -> Path:
        """Rapports de contrôle, one per dropped file."""
        return self.marts / "rapports"

    @property
    def apparitions(self) -> Path:
        """When each file content was first seen in the landing folder (ingest/apparitions.py)."""
        return self.data / "warehouse" / "apparitions"

    @property
    def suivi(self) -> Path:
        """Campaign tracking: workbook, history of states, relances, rapports per bailleur."""
        return self.marts / "suivi"


def paths() -> Paths:
    data = Path(os.environ.get("FLUX_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    landing = Path(os.environ.get("FLUX_LANDING_DIR", data / "raw")).resolve()
    return Paths(data=data, landing=landing)


def max_file_bytes() -> int:
    return int(float(os.environ.get("FLUX_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)) * 1024 * 1024)
