"""The code location: merges each domain's definitions with the global settings."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.automation.definitions import CAMPAIGN_SELECTION
from dagster_project.defs.automation.definitions import defs as automation_defs
from dagster_project.defs.ingest.definitions import defs as ingest_defs
from dagster_project.defs.quality.definitions import defs as quality_defs
from dagster_project.defs.reports.definitions import defs as reports_defs
from dagster_project.defs.suivi.definitions import defs as suivi_defs
from dagster_project.defs.transform.definitions import defs as transform_defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        # A re-drop seen by the landing sensor refreshes everything downstream of that bailleur,
        # executed like the campaign.
        ingest_defs(job_selection=CAMPAIGN_SELECTION),
        transform_defs(),
        quality_defs(),
        reports_defs(),
        suivi_defs(),
        automation_defs(),
        # Every job runs its steps in the run's own process, one after the other: after
        # ingestion every step waits for the duckdb_writer pool anyway, the heavy work has
        # its own processes (ingestion and trames pools, dbt), and a process per step costs
        # 3 s (forked) to 15 s (spawned, code and Great Expectations imported again): most of
        # a re-drop's time (docs/benchmark.md).
        dg.Definitions(executor=dg.in_process_executor),
    )
