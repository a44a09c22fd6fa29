"""The code location: merges each domain's definitions with the global settings."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.automation.definitions import (
    CAMPAIGN_EXECUTION,
    CAMPAIGN_SELECTION,
)
from dagster_project.defs.automation.definitions import defs as automation_defs
from dagster_project.defs.ingest.definitions import defs as ingest_defs
from dagster_project.defs.quality.definitions import defs as quality_defs
from dagster_project.defs.reports.definitions import defs as reports_defs
from dagster_project.defs.transform.definitions import defs as transform_defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(
        # A re-drop seen by the landing sensor refreshes everything downstream of that bailleur,
        # executed like the campaign.
        ingest_defs(job_selection=CAMPAIGN_SELECTION, job_config=CAMPAIGN_EXECUTION),
        transform_defs(),
        quality_defs(),
        reports_defs(),
        automation_defs(),
    )
