"""Where check outcomes live between the checks and the scorecard (contracts §4)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from dagster_project.quality.outcomes import OUTCOME_SCHEMA


def outcome_path(directory: Path, check: str) -> Path:
    return directory / f"{check}.parquet"


def read_outcomes(directory: Path, checks: Iterable[str]) -> tuple[pl.DataFrame, list[str]]:
    """The latest outcomes of ``checks`` and the names of those that never wrote any."""
    frames, missing = [], []
    for check in checks:
        path = outcome_path(directory, check)
        if path.exists():
            frames.append(pl.read_parquet(path).cast(OUTCOME_SCHEMA))
        else:
            missing.append(check)
    return (pl.concat(frames) if frames else pl.DataFrame(schema=OUTCOME_SCHEMA)), missing


def merge_outcomes(stored: pl.DataFrame, new: pl.DataFrame, partitions: tuple[str, ...]) -> pl.DataFrame:
    """The outcomes of a check validated on ``partitions`` only (a re-drop), merged with its
    stored outcomes of the other bailleurs. Rows that concern everyone (empty
    ``bailleur_siren``) are the new run's: it ran the check, on the partitions that changed."""
    key = pl.col("bailleur_siren") + "_" + pl.col("annee").cast(pl.String)
    kept = stored.cast(OUTCOME_SCHEMA).filter(
        pl.col("bailleur_siren").is_not_null() & ~key.is_in(list(partitions))
    )
    return pl.concat([kept, new.cast(OUTCOME_SCHEMA)]).sort(
        "check", "suite", "expectation", "bailleur_siren", "annee", nulls_last=True,
        maintain_order=True,
    )
