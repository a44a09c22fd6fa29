"""The dbt assets materialized by Dagster on the acceptance campaign: marts, row counts,
checks, and a [choice] overridden through the run config."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from dagster_project.defs.automation.partitions import PARTITION_TAG
from dagster_project.defs.transform import incremental
from dagster_project.defs.transform.dbt_resource import PARTIAL_PARSE
from dagster_project.defs.transform.definitions import DbtBuildConfig, defs, flux_dbt_assets
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.reference import load_seed
from dagster_project.settings import Paths

# Its conventions leave `reprise_imputee` empty: the default rule decides.
BAILLEUR = "297341513"


def test_dagster_builds_the_marts_with_row_counts_checks_and_run_config(
    acceptance_landing: Paths, dbt_manifest: Path
) -> None:
    p = acceptance_landing
    ingest_partitions(p, discover_partitions(p.landing), run_id="dagster-dbt")
    config = DbtBuildConfig(vars_json=json.dumps({"reprise_imputee_par_defaut": False}))

    result = dg.materialize(
        [flux_dbt_assets()],
        resources=defs().resources,
        run_config=dg.RunConfig(ops={"flux_dbt": config}),
    )

    assert result.success
    materialized = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert materialized["mart_bilan_reservataire"]["dagster/row_count"].value == 30
    assert materialized["fct_tours"]["dagster/row_count"].value == 250
    # seeds too: one row per line of the CSV
    assert materialized["ref_typologies"]["dagster/row_count"].value == load_seed("ref_typologies").height
    assert "dagster/row_count" not in materialized["dim_logement"]  # a view: not recomputed
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    assert [c.check_name for c in checks if not c.passed] == []
    with duckdb.connect(str(p.warehouse), read_only=True) as con:
        repris, realise, attribues = con.execute(
            "select repris, realise, attribues from mart_bilan_reservataire "
            "where bailleur_siren = ? and reservataire_code = 'ALS'",
            [BAILLEUR],
        ).fetchone()
    # With the default (imputée) the acceptance figures give realise = 13 = 12 + 1 repris.
    assert (repris, realise, attribues) == (1, 12, 12)


def test_the_next_run_starts_from_the_last_parse_state_and_a_redrop_builds_its_partition(
    acceptance_landing: Paths, dbt_manifest: Path
) -> None:
    p = acceptance_landing
    ingest_partitions(p, discover_partitions(p.landing), run_id="dagster-dbt")
    logs, key = [], f"{BAILLEUR}_2024"
    # the campaign, then the landing sensor's run of one partition
    for tags in ({}, {PARTITION_TAG: key}):
        result = dg.materialize([flux_dbt_assets()], resources=defs().resources, tags=tags)
        assert result.success
        [log] = p.dbt_artifacts.glob(f"flux_dbt-{result.run_id[:7]}-*/dbt.log")
        logs.append(log.read_text("utf-8"))
        assert incremental.rebuilt_partitions(p.dbt_artifacts, result.run_id) == tuple(tags.values())
    assert (p.dbt_artifacts / PARTIAL_PARSE).is_file()
    # the partition is not a dbt var: a change of vars would make dbt parse everything again
    assert "Unable to do partial parsing" not in logs[1]
    assert "--full-refresh" in logs[0] and "--full-refresh" not in logs[1]
    assert f"(bailleur_siren = '{BAILLEUR}' and annee = 2024)" in logs[1]
    # its seeds are those of the complete build (same fingerprint): not loaded again
    assert "seed file" not in logs[1]


def test_the_dbt_resource_overrides_still_exist_upstream() -> None:
    # FluxDbtCliResource skips dagster-dbt's start-up work by overriding these private members:
    # if dagster-dbt renames them, the overrides silently stop applying.
    assert isinstance(vars(DbtCliResource)["_cli_version"], cached_property)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])
