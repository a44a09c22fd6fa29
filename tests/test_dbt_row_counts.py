"""Row counts logged by the tables' post-hook, read from dbt's event stream (the end-to-end
path, dbt → Dagster materialization metadata, is in test_dbt_dagster.py)."""

from __future__ import annotations

from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from dagster_project.defs.transform.row_counts import logged_row_count


def dbt_event(name: str, msg: str, unique_id: str | None = "model.flux.fct_tours") -> DbtCoreCliEventMessage:
    data = {"node_info": {"unique_id": unique_id}} if unique_id else {}
    return DbtCoreCliEventMessage(raw_event={"info": {"name": name, "msg": msg}, "data": data},
                                  event_history_metadata={})


def test_a_row_count_line_names_its_node_and_rows() -> None:
    assert logged_row_count(dbt_event("JinjaLogInfo", "flux_row_count 1234")) == (
        "model.flux.fct_tours", 1234)


def test_other_lines_are_not_row_counts() -> None:
    assert logged_row_count(dbt_event("JinjaLogInfo", "autre message")) is None
    assert logged_row_count(dbt_event("LogModelResult", "flux_row_count 3")) is None
    assert logged_row_count(dbt_event("JinjaLogInfo", "flux_row_count 3", unique_id=None)) is None
