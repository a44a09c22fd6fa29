"""The code location loads (as `dg check defs` and the UI load it) and keeps its asset keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.marts import PUBLISHED_MODELS
from dagster_project.defs.automation.definitions import (
    CAMPAIGN_JOB,
    DEFAULT_CAMPAIGN_CRON,
)

ROOT = Path(__file__).resolve().parent.parent
# The code location loads the dbt assets from dbt/target/manifest.json.
pytestmark = pytest.mark.usefixtures("dbt_manifest")

# contracts.md §5: the keys other stages and the auditors rely on.
CONTRACT_KEYS = {
    "raw/fichiers", "raw/anomalies", "raw/logements", "raw/tours", "raw/conventions",
    "raw/previsionnel", "quality_scorecard", "statut_bailleurs", "published_marts", "trames",
    "campaign_summary",
    *PUBLISHED_MODELS,
}


# Snapshot of every asset key (sorted): a rename or a removal shows here as a diff. After a
# deliberate change, update the list (print the keys of `defs().resolve_asset_graph()`).
ASSET_KEYS = (
    "campaign_summary",
    "dim_code_commune",
    "dim_commune",
    "dim_convention",
    "dim_logement",
    "dim_reservataire",
    "dim_territoire",
    "envois_brouillons",
    "fct_tours",
    "int_bailleur_reservataires",
    "int_bailleurs_publies",
    "int_destination_logements",
    "int_destination_ventilation",
    "int_dimension_valeurs",
    "int_flux_logements",
    "int_logement_territoires",
    "int_logement_territoires_consolides",
    "int_logements_avec_tours",
    "int_territoire_logements",
    "landing/fichiers",
    "mart_bilan_reservataire",
    "mart_bilan_territoire",
    "mart_bilan_territoire_detail",
    "mart_bilan_ventilation",
    "mart_droits_report",
    "mart_evolution",
    "mart_flux",
    "mart_flux_perimetre",
    "mart_previsionnel",
    "mart_previsionnel_droits",
    "mart_previsionnel_realise",
    "mart_recipients",
    "mart_regional_evolution",
    "mart_regional_previsionnel_realise",
    "mart_regional_reservataire",
    "mart_regional_territoire",
    "mart_sources",
    "mart_soustraits",
    "mart_territoire_ventilation",
    "published_marts",
    "quality_scorecard",
    "raw/anomalies",
    "raw/conventions",
    "raw/fichiers",
    "raw/logements",
    "raw/previsionnel",
    "raw/tours",
    "ref_bailleurs",
    "ref_categories_operation",
    "ref_categories_reservataire",
    "ref_cog",
    "ref_communes",
    "ref_communes_historiques",
    "ref_departements",
    "ref_destinataires",
    "ref_echeances",
    "ref_epci",
    "ref_epci_lec",
    "ref_ept",
    "ref_financements",
    "ref_hors_assiette",
    "ref_issues",
    "ref_periodes_construction",
    "ref_qpv",
    "ref_typologies",
    "ref_ventilations",
    "statut_bailleurs",
    "stg_conventions",
    "stg_fichiers",
    "stg_logements",
    "stg_previsionnel",
    "stg_tours",
    "suivi_campagne",
    "trames",
)


def code_location() -> dg.Definitions:
    from dagster_project.definitions import defs

    return defs()


def test_dagster_validates_the_code_location(tmp_path):
    """What `dg check defs` does, without its component scan (three times faster)."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "FLUX_DATA_DIR": str(tmp_path / "data")}
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "dagster_project.definitions"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_asset_keys_match_the_snapshot_and_the_contract():
    keys = sorted(k.to_user_string() for k in code_location().resolve_asset_graph().get_all_asset_keys())
    assert CONTRACT_KEYS <= set(keys), sorted(CONTRACT_KEYS - set(keys))
    assert keys == list(ASSET_KEYS)


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


def test_every_job_runs_its_steps_in_the_run_process():
    """A process per step cost 3–15 s each (docs/benchmark.md); a job-level executor config
    was silently not applied to the partitioned sensor job, so the default is the code
    location's."""
    defs = code_location()
    (sensor_job,) = defs.resolve_sensor_def("landing_sensor").targets
    for name in (CAMPAIGN_JOB, sensor_job.job_name):
        assert defs.resolve_job_def(name).executor_def is dg.in_process_executor, name
