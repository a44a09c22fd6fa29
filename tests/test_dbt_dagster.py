"""The dbt assets materialized by Dagster on the acceptance campaign: marts, row counts,
checks, a [choice] overridden through the run config, then a re-drop's incremental build
(one campaign build shared by the module)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.automation.partitions import PARTITION_TAG
from dagster_project.defs.transform import incremental
from dagster_project.defs.transform.definitions import DbtBuildConfig, defs, flux_dbt_assets
from dagster_project.defs.transform.parse_state import PARTIAL_PARSE
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.reference import load_seed
from dagster_project.settings import Paths, paths
from tests.conftest import ACCEPTANCE

# Its conventions leave `reprise_imputee` empty: the default rule decides.
BAILLEUR = "297341513"


CONFIG = dg.RunConfig(ops={"flux_dbt": DbtBuildConfig(
    vars_json=json.dumps({"reprise_imputee_par_defaut": False}))})


def dbt_log(p: Paths, result: dg.ExecuteInProcessResult) -> str:
    [log] = p.dbt_artifacts.glob(f"flux_dbt-{result.run_id[:7]}-*/dbt.log")
    return log.read_text("utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: Path):
    """The acceptance campaign ingested, then built by Dagster as a campaign does (every
    partition), with a [choice] overridden through the run config."""
    data = tmp_path_factory.mktemp("dagster-dbt") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLUX_DATA_DIR", str(data))
        mp.setenv("FLUX_LANDING_DIR", str(data / "raw"))
        mp.setenv("FLUX_LANDING_SETTLE_SECONDS", "0")
        p = paths()
        shutil.copytree(ACCEPTANCE / "landing", p.landing)
        ingest_partitions(p, discover_partitions(p.landing), run_id="dagster-dbt")
        result = dg.materialize([flux_dbt_assets()], resources=defs().resources, run_config=CONFIG)
        yield p, result


def test_dagster_builds_the_marts_with_row_counts_checks_and_run_config(built) -> None:
    p, result = built
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
    built,
) -> None:
    p, campaign = built
    assert campaign.success
    key = f"{BAILLEUR}_2024"
    # the landing sensor's run of one partition, with the same vars as the campaign's build
    redrop = dg.materialize([flux_dbt_assets()], resources=defs().resources, run_config=CONFIG,
                            tags={PARTITION_TAG: key})
    assert redrop.success
    logs = [dbt_log(p, campaign), dbt_log(p, redrop)]
    assert incremental.rebuilt_partitions(p.dbt_artifacts, campaign.run_id) == ()
    assert incremental.rebuilt_partitions(p.dbt_artifacts, redrop.run_id) == (key,)
    assert (p.dbt_artifacts / PARTIAL_PARSE).is_file()
    # the partition is not a dbt var: a change of vars would make dbt parse everything again
    assert "Unable to do partial parsing" not in logs[1]
    assert "--full-refresh" in logs[0] and "--full-refresh" not in logs[1]
    assert f"(bailleur_siren = '{BAILLEUR}' and annee = 2024)" in logs[1]
    # its seeds are those of the complete build (same fingerprint): not loaded again
    assert "seed file" not in logs[1]
