"""The tracking table over time: one append-only snapshot per evaluation, and the current mart.

``<marts>/suivi/historique/<annee>/<evalue_le>.parquet`` holds the table as computed at that
instant (the product's clock); ``<marts>/<annee>/mart_suivi_campagne.parquet`` (the year's
published folder) holds its latest state. "What was the state on 1 March?" is the latest snapshot at or before that instant::

    SELECT * FROM read_parquet('marts/suivi/historique/2024/*.parquet')
    WHERE evalue_le = (SELECT max(evalue_le) FROM read_parquet('marts/suivi/historique/2024/*.parquet')
                       WHERE evalue_le <= TIMESTAMP '2025-03-01 23:59:59');
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from dagster_project.atomic import write_parquet
from dagster_project.settings import Paths
from dagster_project.suivi.tableau import NON_ATTRIBUES_SCHEMA, Suivi

MART = "mart_suivi_campagne"


def folder(p: Paths, annee: int) -> Path:
    return p.suivi / "historique" / str(annee)


def record(p: Paths, suivi: Suivi) -> Path:
    """Write the snapshot (same instant: replaced, a rerun at the same clock changes nothing)
    and the current mart."""
    target = folder(p, suivi.annee) / f"{suivi.evalue_le:%Y%m%dT%H%M%S}.parquet"
    write_parquet(suivi.lignes, target)
    write_parquet(suivi.lignes, p.published(suivi.annee) / f"{MART}.parquet")
    write_parquet(suivi.non_attribues, non_attribues_path(p, suivi.annee))
    return target


def non_attribues_path(p: Paths, annee: int) -> Path:
    return p.suivi / f"fichiers_non_attribues_{annee}.parquet"


def latest(p: Paths, annee: int) -> pl.DataFrame | None:
    files = sorted(folder(p, annee).glob("*.parquet"))
    return pl.read_parquet(files[-1]) if files else None


def latest_non_attribues(p: Paths, annee: int) -> pl.DataFrame:
    path = non_attribues_path(p, annee)
    return pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=NON_ATTRIBUES_SCHEMA)


def state_at(p: Paths, annee: int, moment: datetime) -> pl.DataFrame | None:
    """The table as it was at ``moment`` (naive UTC), None before the first snapshot."""
    stamp = f"{moment:%Y%m%dT%H%M%S}"
    files = sorted(f for f in folder(p, annee).glob("*.parquet") if f.stem <= stamp)
    return pl.read_parquet(files[-1]) if files else None

