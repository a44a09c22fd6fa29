"""Per-stage durations of a run, read from its Dagster event log (the run measures itself).

A step's stage follows from what it plans to produce (ASSET_MATERIALIZATION_PLANNED and
ASSET_CHECK_EVALUATION_PLANNED events), so a renamed op or a new check lands in the right
stage without a list of step keys here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import dagster as dg

INGESTION, DBT, CHECKS, PUBLICATION, TRAMES, SUMMARY, OTHER = (
    "ingestion", "dbt", "checks", "publication", "trames", "summary", "other")
STAGES = (INGESTION, DBT, CHECKS, PUBLICATION, TRAMES, SUMMARY, OTHER)
# Non-dbt assets with a stage of their own (contracts.md §5).
ASSET_STAGES = {
    "quality_scorecard": CHECKS,
    "published_marts": PUBLICATION,
    "trames": TRAMES,
    "campaign_summary": SUMMARY,
}


@dataclass
class StepPlan:
    assets: set[str] = field(default_factory=set)  # user strings, e.g. "raw/tours"
    checks: int = 0
    start: float | None = None
    end: float | None = None
    status: str = "NOT_STARTED"

    @property
    def seconds(self) -> float:
        return (self.end - self.start) if self.start and self.end else 0.0


def stage_of(step_key: str, plan: StepPlan) -> str:
    if any(a.startswith("raw/") for a in plan.assets):
        return INGESTION
    if "dbt" in step_key:
        return DBT
    for asset in plan.assets:
        if asset in ASSET_STAGES:
            return ASSET_STAGES[asset]
    if plan.checks and not plan.assets:
        return CHECKS
    return OTHER


@dataclass
class StageTiming:
    seconds: float = 0.0  # sum of its steps' durations
    first_start: float | None = None
    last_end: float | None = None
    steps: dict[str, float] = field(default_factory=dict)  # step key → seconds
    failed: list[str] = field(default_factory=list)


_END = {
    dg.DagsterEventType.STEP_SUCCESS: "SUCCESS",
    dg.DagsterEventType.STEP_FAILURE: "FAILURE",
    dg.DagsterEventType.STEP_SKIPPED: "SKIPPED",
}


def step_plans(instance: dg.DagsterInstance, run_id: str) -> dict[str, StepPlan]:
    plans: dict[str, StepPlan] = defaultdict(StepPlan)
    for record in instance.get_records_for_run(run_id, limit=1_000_000).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        plan = plans[event.step_key]
        kind = event.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            plan.assets.add(event.asset_key.to_user_string())
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            plan.checks += 1
        elif kind == dg.DagsterEventType.STEP_START:
            plan.start, plan.status = entry.timestamp, "STARTED"
        elif kind in _END:
            plan.end, plan.status = entry.timestamp, _END[kind]
    return dict(plans)


def group_by_stage(plans: dict[str, StepPlan]) -> dict[str, StageTiming]:
    stages = {name: StageTiming() for name in STAGES}
    for step_key, plan in sorted(plans.items()):
        if plan.start is None:
            continue
        stage = stages[stage_of(step_key, plan)]
        stage.seconds += plan.seconds
        stage.steps[step_key] = plan.seconds
        if plan.status == "FAILURE":
            stage.failed.append(step_key)
        stage.first_start = min(filter(None, (stage.first_start, plan.start)))
        if plan.end:
            stage.last_end = max(filter(None, (stage.last_end, plan.end)))
    return {name: timing for name, timing in stages.items() if timing.steps}


def asset_metadata(instance: dg.DagsterInstance, run_id: str, asset: str) -> dict:
    """Plain values of the metadata of ``asset``'s materialization in this run ({} if none)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1_000_000).records
    for record in records:
        materialization = record.event_log_entry.dagster_event.event_specific_data.materialization
        if materialization.asset_key.to_user_string() == asset:
            return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    return {}
