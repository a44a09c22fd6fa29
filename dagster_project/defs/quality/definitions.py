"""Great Expectations suites as blocking Dagster asset checks, and the quality scorecard.

Severity (lead's decision, docs/contracts.md §4): an ERREUR failure pinned on bailleurs
blocks only their trames, through ``quality_bailleur_status.parquet``; the check then reports
``passed=False`` with severity WARN and lists them in ``bailleurs_bloques``, so the other
bailleurs' trames still run. A failure that concerns everyone (a regional table, a personal
data column, a check that could not run) is severity ERROR: being blocking, it stops every
asset downstream of the mart.
"""

import dagster as dg
import duckdb
import polars as pl

from dagster_project.defs.transform.incremental import rebuilt_partitions
from dagster_project.defs.quality.metadata import check_metadata, scorecard_metadata
from dagster_project.quality.checks import (
    CHECKS,
    VALIDATED_MARTS,
    CheckSpec,
    read_warehouse,
    run_check,
)
from dagster_project.quality.outcomes import failure_row, summarize
from dagster_project.quality.scorecard import SOURCES_SCHEMA, bailleur_status, scorecard
from dagster_project.atomic import write_parquet
from dagster_project.quality.store import merge_outcomes, outcome_path, read_outcomes
from dagster_project.settings import DUCKDB_WRITER_POOL, paths

SOURCES_MART = "mart_sources"
SCORECARD = "quality_scorecard"
STATUS = "quality_bailleur_status"


def _asset_check(spec: CheckSpec) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey([spec.mart]),
        name=spec.name,
        description=spec.description,
        blocking=True,
        pool=DUCKDB_WRITER_POOL,
        additional_deps=[dg.AssetKey([m]) for m in spec.reads if m != spec.mart],
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        p = paths()
        run_id = context.op_execution_context.run_id
        stored = outcome_path(p.quality, spec.name)
        # A re-drop validates the partitions its dbt build rebuilt; the other bailleurs keep
        # their stored outcomes (unchanged rows, unchanged outcomes).
        partitions = rebuilt_partitions(p.dbt_artifacts, run_id) if stored.exists() else ()
        outcomes = run_check(
            spec, lambda: read_warehouse(p.warehouse, spec.reads, partitions), run_id
        )
        if partitions:
            context.log.info(f"Contrôle limité aux partitions reconstruites : {', '.join(partitions)}")
            outcomes = merge_outcomes(pl.read_parquet(stored), outcomes, partitions)
        write_parquet(outcomes, stored)
        summary = summarize(outcomes)
        return dg.AssetCheckResult(
            passed=summary.passed,
            severity=dg.AssetCheckSeverity.ERROR
            if summary.global_error
            else dg.AssetCheckSeverity.WARN,
            metadata=check_metadata(outcomes, summary),
        )

    return _check


def _read_sources() -> pl.DataFrame:
    try:
        with duckdb.connect(str(paths().warehouse), read_only=True) as con:
            return con.sql(f"select * from main.{SOURCES_MART}").pl()
    except duckdb.Error:  # no file or no mart yet: summaries just name no file
        return pl.DataFrame(schema=SOURCES_SCHEMA)


@dg.asset(
    name=SCORECARD,
    deps=[dg.AssetKey([m]) for m in (*VALIDATED_MARTS, SOURCES_MART)],
    pool=DUCKDB_WRITER_POOL,
    group_name="quality",
    description="Bilan qualité par bailleur : contrôles passés, échecs, lignes et fichiers "
    "en cause ; "
    "statut bloquant lu par les trames.",
)
def quality_scorecard(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths()
    run_id = context.run.run_id
    outcomes, missing = read_outcomes(p.quality, [spec.name for spec in CHECKS])
    # A check that never ran verified nothing: it blocks every bailleur until it runs.
    never_run = [
        failure_row(check, "aucun résultat, le contrôle n'a jamais été exécuté", run_id)
        for check in missing
    ]
    outcomes = pl.concat([outcomes, *never_run])
    sources = _read_sources()
    card = scorecard(outcomes, sources)
    status = bailleur_status(card, sources)
    write_parquet(card, p.scorecard / f"{SCORECARD}.parquet")
    write_parquet(status, p.scorecard / f"{STATUS}.parquet")
    return dg.MaterializeResult(metadata=scorecard_metadata(card, status, missing, run_id))


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[quality_scorecard], asset_checks=[_asset_check(spec) for spec in CHECKS]
    )
