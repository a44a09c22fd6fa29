"""Acceptance: the real pipeline (ingestion → dbt build) on the shared 2024 campaign gives
every figure of attendu.csv.

A disagreement is resolved by understanding it (a bug in the models, or a rule the figures
make precise), never by editing attendu.csv. Every mismatch is reported at once, by metric.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.settings import Paths
from tests.conftest import ACCEPTANCE

ATTENDU = ACCEPTANCE / "attendu.csv"
# Our marts in the shape of attendu.csv (labels mapped where ours differ).
OBSERVED_SQL = Path(__file__).parent / "acceptance_observed.sql"
SCOPE = (
    "reservataire",
    "departement",
    "categorie_operation",
    "perimetre_type",
    "perimetre_code",
    "territoire",
    "dimension",
    "valeur",
    "issue",
)
# droit / ecart are given with 4 decimals.
TOLERANCE = 0.5e-4 + 1e-9


@pytest.fixture
def acceptance_warehouse(acceptance_landing: Paths) -> Path:
    keys = discover_partitions(acceptance_landing.landing)
    summary = ingest_partitions(acceptance_landing, keys, run_id="acceptance")
    rejected = [f.chemin for f in summary.files if f.statut == "REJETE"]
    assert not rejected, f"fichiers de la campagne rejetés : {rejected}"
    run_dbt(["build"], acceptance_landing)
    return acceptance_landing.warehouse


def expected() -> pl.DataFrame:
    """attendu.csv as text, empty cells as null."""
    return pl.read_csv(ATTENDU, infer_schema=False)


def mismatches(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of attendu.csv whose figure is missing from the marts or differs."""
    con.execute(f"create temp view observed as {OBSERVED_SQL.read_text()}")
    con.register("attendu", expected())
    same_scope = " and ".join(f"o.{c} is not distinct from a.{c}" for c in SCOPE)
    rows = con.execute(
        f"""
        select a.*, o.value as observed, count(o.value) over (partition by a.*) as nb_observed
        from attendu as a
        left join observed as o
            on o.bailleur = a.bailleur
            and o.metric = a.metric
            and {same_scope}
            -- the regional rows name the réservataire by SIREN
            and (a.bailleur <> '*' or o.siren = a.siren)
        """
    ).pl()
    bad = rows.filter(
        rows["observed"].is_null()
        | (rows["nb_observed"] > 1)
        | ((rows["observed"] - rows["value"].cast(float)).abs() > TOLERANCE)
    )
    return bad.to_dicts()


def report(bad: list[dict]) -> str:
    by_metric: dict[str, list[str]] = defaultdict(list)
    for row in bad:
        scope = ", ".join(f"{c}={row[c]}" for c in ("bailleur", *SCOPE) if row[c] is not None)
        by_metric[row["metric"]].append(
            f"  {scope}: attendu {row['value']}, obtenu {row['observed']}"
            + (f" ({row['nb_observed']} lignes)" if row["nb_observed"] > 1 else "")
        )
    return "\n".join(
        f"{metric} — {len(lines)} écart(s) :\n" + "\n".join(lines)
        for metric, lines in sorted(by_metric.items())
    )


def test_every_expected_figure_is_in_the_marts(acceptance_warehouse: Path) -> None:
    with duckdb.connect(str(acceptance_warehouse), read_only=True) as con:
        bad = mismatches(con)
    nb_expected = expected().height
    assert nb_expected > 900
    assert not bad, f"{len(bad)} chiffres sur {nb_expected} diffèrent :\n{report(bad)}"
