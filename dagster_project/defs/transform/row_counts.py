"""Row counts of the dbt tables, read once dbt has finished and released flux.duckdb.

dagster-dbt's ``fetch_row_counts()`` goes through an in-process dbt adapter that keeps a
read-write DuckDB instance open in the run's process afterwards, so the next step opening
the warehouse in the same process (in-process executor, tests) fails. Here one read-only
connection is opened after dbt exits and closed before the events are handed to Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb


def count_table_rows(warehouse: Path, names: Iterable[str]) -> dict[str, int]:
    """Rows of each named base table of schema main (views are skipped: counting them means
    recomputing them, e.g. the whole RPLS extract behind dim_logement)."""
    wanted = set(names)
    if not wanted or not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_type = 'BASE TABLE'"
            ).fetchall()
        }
        return {
            name: con.execute(f'select count(*) from main."{name}"').fetchone()[0]
            for name in sorted(wanted & tables)
        }
