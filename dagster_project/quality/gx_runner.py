"""Validate a Polars frame against a suite with Great Expectations 1.x, in memory.

GX takes seconds to import, so it is imported lazily (loading the Dagster code location must
not pay for it) and its ephemeral context is built once per process, by the first validation.
Only the columns the suite reads are converted to pandas (GX has no Polars engine, and it
hashes the whole batch).
Row-level expectations report the positions of the offending rows (``result_format``
COMPLETE), which is what lets a failure be pinned on the bailleurs whose rows fail.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from dagster_project.quality.suites import Expectation, Suite

_RANK = "_rang"  # meta key that ties a GX result back to the suite's expectation


@dataclass(frozen=True)
class ExpectationResult:
    expectation: Expectation
    success: bool
    # Positions (0-based) of the offending rows; None when the expectation judges the whole
    # table (or could not run), so the failure cannot be pinned on rows.
    failing_rows: tuple[int, ...] | None
    error: str | None = None  # why GX could not evaluate it


@cache
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("flux").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("frame_entiere")


def _gx_suite(suite: Suite) -> Any:
    import great_expectations as gx

    raw = copy.deepcopy(suite.raw)
    for rank, expectation in enumerate(raw["expectations"]):
        expectation.setdefault("meta", {})[_RANK] = rank
    return gx.ExpectationSuite(**raw)


def _result(expectation: Expectation, gx_result: Any) -> ExpectationResult:
    info = gx_result.exception_info or {}
    if "raised_exception" not in info:  # keyed by metric when something raised
        info = next(iter(info.values()), {})
    if info.get("raised_exception"):
        return ExpectationResult(
            expectation, False, None, info.get("exception_message") or "erreur GX"
        )
    rows = gx_result.result.get("unexpected_index_list")
    failing = tuple(int(i) for i in rows) if rows is not None else None
    if gx_result.success:
        failing = ()
    return ExpectationResult(expectation, bool(gx_result.success), failing)


def validate(
    suite: Suite, frame: pl.DataFrame, parameters: dict[str, Any]
) -> list[ExpectationResult]:
    """Run ``suite`` on ``frame``; one result per expectation, in the suite's order."""
    import pandas as pd

    # Column by column through NumPy: several times faster than DataFrame.to_pandas() here,
    # and dates arrive as datetime64, which GX compares natively.
    data = pd.DataFrame({c: frame[c].to_numpy() for c in suite.columns(frame.columns)})
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": data})
    validation = batch.validate(
        _gx_suite(suite),
        result_format={"result_format": "COMPLETE", "include_unexpected_rows": False},
        expectation_parameters=parameters,
    )
    by_rank = {r.expectation_config.meta[_RANK]: r for r in validation.results}
    return [_result(e, by_rank[rank]) for rank, e in enumerate(suite.expectations)]
