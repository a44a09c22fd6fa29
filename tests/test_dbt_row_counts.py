"""Row counts read from the warehouse after dbt: tables counted, views skipped."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.defs.transform.row_counts import count_table_rows


def test_counts_base_tables_only_and_closes_the_file(tmp_path: Path) -> None:
    warehouse = tmp_path / "flux.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table mart_flux as select * from range(3)")
        con.execute("create view stg_tours as select * from range(5)")

    counts = count_table_rows(warehouse, ["mart_flux", "stg_tours", "absent"])

    assert counts == {"mart_flux": 3}
    with duckdb.connect(str(warehouse)) as con:  # the read-only handle is gone
        con.execute("drop table mart_flux")


def test_no_warehouse_no_counts(tmp_path: Path) -> None:
    assert count_table_rows(tmp_path / "missing.duckdb", ["mart_flux"]) == {}
