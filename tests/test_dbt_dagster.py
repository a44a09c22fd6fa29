"""The dbt assets materialized by Dagster on the acceptance campaign: marts, row counts, checks."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.defs.transform.definitions import defs, flux_dbt_assets
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.settings import Paths


def test_dagster_builds_the_marts_with_row_counts_and_checks(
    acceptance_landing: Paths, dbt_manifest: Path
) -> None:
    p = acceptance_landing
    ingest_partitions(p, discover_partitions(p.landing), run_id="dagster-dbt")

    result = dg.materialize([flux_dbt_assets()], resources=defs().resources)

    assert result.success
    materialized = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert materialized["mart_bilan_reservataire"]["dagster/row_count"].value == 30
    assert materialized["fct_tours"]["dagster/row_count"].value == 250
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    assert [c.check_name for c in checks if not c.passed] == []
    assert p.warehouse.exists()
