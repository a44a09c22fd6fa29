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
