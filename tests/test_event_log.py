"""The instance's event log: Dagster's SQLite files, written through kept engines."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)

from dagster_project import event_log
from dagster_project.campaign import instance_yaml
from dagster_project.event_log import PooledSqliteEventLogStorage


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="numbers")])
def numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"n": 3}, check_results=[dg.AssetCheckResult(passed=True)]
    )


def test_the_upstream_storage_still_has_what_we_override() -> None:
    for name in ("_connect", "_initdb", "conn_string_for_shard"):
        assert callable(getattr(SqliteEventLogStorage, name)), name


def test_runs_are_recorded_in_dagster_default_folders(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(instance_yaml(tmp_path))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        runs = [dg.materialize([numbers], instance=instance).run_id for _ in range(6)]
        # Dagster's own event writes went through the kept engines: the index and the last run.
        assert {INDEX_SHARD_NAME, runs[-1]} <= set(instance.event_log_storage._engines)

    # A new instance (another process: the webserver, the daemon) reads what was written.
    assert {f"{r}.db" for r in runs} <= {p.name for p in (tmp_path / "history" / "runs").iterdir()}
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        latest = instance.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert latest.run_id == runs[-1]
        assert instance.event_log_storage.get_stats_for_run(runs[0]).steps_succeeded == 1
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")]
        )
        assert check[dg.AssetCheckKey(dg.AssetKey("numbers"), "positive")].run_id == runs[-1]


def test_engines_are_few_and_shared_between_threads(tmp_path: Path) -> None:
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        for n in range(event_log.MAX_ENGINES + 3):
            with storage.run_connection(f"run{n}") as conn:
                conn.exec_driver_sql("select 1")
        assert len(storage._engines) == event_log.MAX_ENGINES

        def count_runs() -> None:  # the webserver's event watcher reads from its own thread
            with storage.index_connection() as conn:
                seen.append(conn.exec_driver_sql("select count(*) from event_logs").scalar())

        seen: list[int] = []
        with storage.index_connection() as conn:
            conn.exec_driver_sql("select 1")
        thread = threading.Thread(target=count_runs)
        thread.start()
        thread.join()
        assert seen == [0]
    finally:
        storage.dispose()
    assert storage._engines == {}
