"""A contract column can never be dropped silently between the raw store and staging.

Every column of ``contrat/format_echange.csv`` is selected by its sheet's ``stg_<sheet>.sql``,
under its own name and cast to the type the ingestion writes.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from dagster_project.ingest.contract import sheets
from dagster_project.ingest.parsers import DTYPES
from dagster_project.settings import DBT_PROJECT_DIR

STAGING = DBT_PROJECT_DIR / "models" / "staging"
SQL_TYPES = {pl.String: "varchar", pl.Int32: "integer", pl.Float64: "double", pl.Date: "date",
             pl.Boolean: "boolean"}
_SELECTED = re.compile(r"^\s*(?P<expr>.+?)\s+as\s+(?P<name>[a-z_0-9]+)\s*,?\s*$", re.M | re.I)
_CAST = re.compile(r"cast\(\s*(?P<column>[a-z_0-9]+)\s+as\s+(?P<type>[a-z]+)\s*\)", re.I)


def staging_columns(sheet: str) -> dict[str, str]:
    """Output column → the SQL type it is cast to (``?`` when the expression has no cast)."""
    sql = (STAGING / f"stg_{sheet}.sql").read_text()
    out = {}
    for m in _SELECTED.finditer(sql):
        cast = _CAST.search(m["expr"])
        out[m["name"].lower()] = cast["type"].lower() if cast else "?"
    return out


@pytest.mark.parametrize("sheet", sorted(sheets()))
def test_every_contract_column_reaches_staging_with_its_type(sheet):
    selected = staging_columns(sheet)
    expected = {c.name: SQL_TYPES[DTYPES[c.type]] for c in sheets()[sheet].columns}
    assert {c: selected.get(c, "absente") for c in expected} == expected


def test_a_dropped_column_would_be_noticed(tmp_path, monkeypatch):
    """The check itself can fail: a staging model without one contract column."""
    sql = (STAGING / "stg_tours.sql").read_text()
    (tmp_path / "stg_tours.sql").write_text(re.sub(r"^.*as nb_candidats,\n", "", sql, flags=re.M))
    monkeypatch.setattr(f"{__name__}.STAGING", tmp_path)
    assert "nb_candidats" not in staging_columns("tours")
