"""Every use of a library's private API (dagster_project/private_api/): still applying to the
pinned version, refused under another one, and doing what the stock code does."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re
import threading
from functools import cached_property
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster_dbt import DbtCliResource
from openpyxl.writer.excel import ExcelWriter

from dagster_project import private_api
from dagster_project.campaign import instance_yaml
from dagster_project.documents.workbook import DEFAULT_FONT, new_workbook
from dagster_project.private_api import dagster_sqlite_event_log as event_log
from dagster_project.private_api.dagster_sqlite_event_log import PooledSqliteEventLogStorage
from dagster_project.trames.render import build_workbook, serialise
from tests.test_trames_render import _report

MODULES = ("dagster_sqlite_event_log", "dagster_dbt_cli", "openpyxl_writer",
           "openpyxl_default_font")


PYPROJECT = Path(__file__).parents[1] / "pyproject.toml"


@pytest.mark.parametrize("name", MODULES)
def test_a_module_names_the_pinned_version_of_its_library(name) -> None:
    module = importlib.import_module(f"dagster_project.private_api.{name}")
    [(distribution, expected)] = re.findall(r'written_for\("([^"]+)", "([^"]+)"\)',
                                            inspect.getsource(module))
    assert f'"{distribution}=={expected}"' in PYPROJECT.read_text("utf-8")
    private_api.written_for(distribution, expected)  # the installed one


def test_private_api_refuses_another_version_of_its_library() -> None:
    with pytest.raises(private_api.PrivateApiVersionError, match="0.0.1"):
        private_api.written_for("openpyxl", "0.0.1")


def test_the_benchmark_turns_a_module_off_by_name(monkeypatch) -> None:
    monkeypatch.setenv(private_api.DISABLED_ENV, "openpyxl_writer, dagster_dbt_cli")
    assert private_api.disabled("dagster_dbt_cli") and private_api.disabled("openpyxl_writer")
    assert not private_api.disabled("dagster_sqlite_event_log")


def test_the_dbt_resource_overrides_still_exist_upstream() -> None:
    # FluxDbtCliResource skips dagster-dbt's start-up work by overriding these private members:
    # if dagster-dbt renames them, the overrides silently stop applying.
    assert isinstance(vars(DbtCliResource)["_cli_version"], cached_property)
    assert callable(vars(DbtCliResource)["_initialize_dbt_core_adapter"])


def test_the_in_memory_writer_writes_what_openpyxl_writes() -> None:
    assert callable(vars(ExcelWriter)["write_worksheet"])
    report = _report()
    now = dt.datetime(2025, 2, 1, 8, 0)
    ours = serialise(build_workbook(report, "run-1", now), stock_writer=False)
    stock = serialise(build_workbook(report, "run-1", now), stock_writer=True)
    assert ours == stock


def test_a_new_workbook_uses_the_layout_font(tmp_path: Path) -> None:
    wb = new_workbook()
    wb.active["A1"] = "texte"
    wb.save(tmp_path / "x.xlsx")
    back = openpyxl.load_workbook(tmp_path / "x.xlsx")
    assert back._fonts[0].name == DEFAULT_FONT.name and back._fonts[0].sz == DEFAULT_FONT.sz
    assert back.active["A1"].font.name == DEFAULT_FONT.name


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
