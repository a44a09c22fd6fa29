"""One campaign at a time and recovery of dead runs (defs/automation/run_guard.py), on a real
Dagster instance."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, EngineEventData

from dagster_project.defs.automation.progress import slot_holder
from dagster_project.defs.automation.run_guard import (
    CampaignBusy,
    CampaignLock,
    recover_dead_runs,
    refuse_if_busy,
    remove_stale_temporaries,
)
from dagster_project.settings import DUCKDB_WRITER_POOL


def dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def started_run(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    """A run STARTED whose last event comes from process ``pid``, holding the writer slot."""
    run = instance.add_run(dg.DagsterRun(job_name="campagne", status=dg.DagsterRunStatus.STARTED))
    event = DagsterEvent(event_type_value=dg.DagsterEventType.ENGINE_EVENT.value,
                         job_name="campagne", message="dbt", pid=pid,
                         event_specific_data=EngineEventData())
    instance.report_dagster_event(event, run_id=run.run_id)
    instance.event_log_storage.set_concurrency_slots(DUCKDB_WRITER_POOL, 1)
    instance.event_log_storage.claim_concurrency_slot(DUCKDB_WRITER_POOL, run.run_id, "flux_dbt")
    return run


def test_a_run_whose_process_is_gone_is_marked_failed_and_frees_its_slot():
    with dg.instance_for_test() as instance:
        run = started_run(instance, dead_pid())
        said = recover_dead_runs(instance)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.event_log_storage.get_concurrency_info(
            DUCKDB_WRITER_POOL).claimed_slots
        assert len(said) == 1 and said[0].startswith("Reprise après incident : exécution")
        refuse_if_busy(instance)  # nothing in progress any more


def test_a_live_run_is_left_alone_and_named_in_the_refusal():
    with dg.instance_for_test() as instance:
        run = started_run(instance, dead_pid())
        instance.report_dagster_event(
            DagsterEvent(event_type_value=dg.DagsterEventType.ENGINE_EVENT.value,
                         job_name="campagne", message="en cours", pid=os.getpid(),
                         event_specific_data=EngineEventData()),  # this (live) process
            run_id=run.run_id)
        assert recover_dead_runs(instance) == []
        assert slot_holder(instance, "autre")(DUCKDB_WRITER_POOL) == (
            f"tenu par exécution {run.run_id} (étape flux_dbt)")
        with pytest.raises(CampaignBusy, match=f"déjà en cours.*{run.run_id}"):
            refuse_if_busy(instance)


def test_a_second_lock_on_the_same_data_folder_is_refused_in_french(tmp_path):
    first = CampaignLock(tmp_path / "campagne.lock")
    first.acquire("python -m dagster_project.campaign run")
    try:
        with pytest.raises(CampaignBusy, match="déjà en cours.*commande « python -m"):
            CampaignLock(tmp_path / "campagne.lock").acquire("autre")
    finally:
        first.release()
    again = CampaignLock(tmp_path / "campagne.lock")
    again.acquire("autre")  # released: free again
    again.release()


def test_stale_temporaries_are_removed(tmp_path):
    (tmp_path / "trames").mkdir()
    (tmp_path / "trames" / ".a.xlsx.x1y2.tmp").write_bytes(b"moitie")
    (tmp_path / "trames" / "a.xlsx").write_bytes(b"entier")
    assert remove_stale_temporaries(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["a.xlsx"]
