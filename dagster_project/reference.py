"""Reference lists, read from the dbt seeds so that Python and SQL share one source of truth."""

from __future__ import annotations

from functools import cache

import polars as pl

from dagster_project.settings import SEEDS_DIR


@cache
def load_seed(name: str) -> pl.DataFrame:
    """The seed ``dbt/seeds/<name>.csv`` with every column as text (codes keep leading zeros)."""
    return pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema=False)
