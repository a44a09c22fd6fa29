"""The code location loads (as `dg check defs` and the UI load it) and keeps its asset keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from dagster_project.defs.automation.definitions import (
    CAMPAIGN_JOB,
    DEFAULT_CAMPAIGN_CRON,
    PUBLISHED_MODELS,
)

ROOT = Path(__file__).resolve().parent.parent

# contracts.md §5: the keys other stages and the auditors rely on.
CONTRACT_KEYS = {
    "raw/fichiers", "raw/anomalies", "raw/logements", "raw/tours", "raw/conventions",
    "raw/previsionnel", "quality_scorecard", "published_marts", "trames", "campaign_summary",
    *PUBLISHED_MODELS,
}


def code_location() -> dg.Definitions:
    from dagster_project.definitions import defs

    return defs()


def test_dg_check_defs_passes(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "FLUX_DATA_DIR": str(tmp_path / "data")}
    bin_dir = Path(sys.executable).parent
    result = subprocess.run([str(bin_dir / "dg"), "check", "defs"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_contract_asset_keys_are_defined():
    keys = {k.to_user_string() for k in code_location().resolve_asset_graph().get_all_asset_keys()}
    assert CONTRACT_KEYS <= keys, sorted(CONTRACT_KEYS - keys)


def test_campaign_job_spans_ingestion_to_summary_and_runs_yearly():
    defs = code_location()
    job = defs.resolve_job_def(CAMPAIGN_JOB)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"raw/tours", "mart_flux", "published_marts", "trames", "campaign_summary"} <= keys
    schedule = defs.resolve_schedule_def("campagne_annuelle")
    assert schedule.job_name == CAMPAIGN_JOB
    assert schedule.cron_schedule == DEFAULT_CAMPAIGN_CRON
    assert schedule.execution_timezone == "Europe/Paris"


def test_lineage_runs_from_landing_files_to_the_summary():
    graph = code_location().resolve_asset_graph()
    reached: set[dg.AssetKey] = set()
    frontier = {dg.AssetKey(["landing", "fichiers"])}
    while frontier:
        key = frontier.pop()
        reached.add(key)
        frontier |= set(graph.get(key).child_keys) - reached
    for name in ("raw/tours", "fct_tours", "mart_bilan_reservataire", "published_marts", "trames",
                 "campaign_summary"):
        assert dg.AssetKey.from_user_string(name) in reached, name


def test_a_redrop_by_one_bailleur_recomputes_everything_downstream():
    """The landing sensor's job (one bailleur partition) also refreshes dbt, checks,
    publication, trames (rewritten only where content changed) and the summary."""
    defs = code_location()
    sensor = defs.resolve_sensor_def("landing_sensor")
    (job,) = sensor.targets
    keys = {k.to_user_string() for k in defs.resolve_job_def(job.job_name).asset_layer.executable_asset_keys}
    assert {"raw/tours", "mart_flux", "quality_scorecard", "published_marts", "trames",
            "campaign_summary"} <= keys
