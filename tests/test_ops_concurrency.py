"""Analysts never block a run nor see half-written data: a reader holds the catalog open
while `published_marts` runs to completion."""

from __future__ import annotations

import threading

import dagster as dg
import duckdb
import pytest

from dagster_project.campaign import instance_yaml
from dagster_project.defs.automation.definitions import published_marts
from dagster_project.defs.automation.partitions import ANNEE_TAG
from dagster_project.settings import DUCKDB_WRITER_POOL
from tests.test_ops_publish import count, write_warehouse

YEAR = {ANNEE_TAG: "2024"}  # a campaign run of 2024


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_reader_keeps_a_consistent_catalog_while_a_publication_runs(workspace, instance):
    write_warehouse(workspace.warehouse, 2)
    assert dg.materialize([published_marts], instance=instance, tags=YEAR).success

    reader = duckdb.connect(str(workspace.catalog), read_only=True)
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            seen.append((count(reader, "mart_flux"), count(reader, "fct_tours")))

    thread = threading.Thread(target=read_until_done)
    try:
        thread.start()
        write_warehouse(workspace.warehouse, 7)
        result = dg.materialize([published_marts], instance=instance, tags=YEAR)
        done.set()
        thread.join()
        assert result.success
        # the reader was never blocked and always saw the old, complete snapshot
        assert seen and set(seen) == {(2, 2)}
        assert (count(reader, "mart_flux"), count(reader, "fct_tours")) == (2, 2)
    finally:
        done.set()
        reader.close()
    with duckdb.connect(str(workspace.catalog), read_only=True) as fresh:
        assert count(fresh, "mart_flux") == 7

    metadata = result.asset_materializations_for_node("published_marts")[0].metadata
    assert metadata["nb_lignes/2024/mart_flux"].value == 7
    assert metadata["run_id"].value == result.run_id


@pytest.mark.usefixtures("dbt_manifest")
def test_duckdb_writers_share_one_pool_limited_to_one(tmp_path):
    from dagster_project.definitions import defs

    graph = defs().resolve_asset_graph()
    writers = [
        node.key for node in graph.asset_nodes
        if node.key == published_marts.key or "dbt" in node.kinds
    ]
    assert published_marts.key in writers
    for key in writers:
        assert graph.get(key).pools == {DUCKDB_WRITER_POOL}, key

    (tmp_path / "dagster.yaml").write_text(instance_yaml(tmp_path))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        # one run at a time per data folder: the daemon's runs (sensor, schedule) queue
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_monitoring_enabled
