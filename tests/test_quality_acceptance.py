"""The suites on the real marts of the acceptance campaign: valid data, so no false alarm."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.quality.checks import CHECKS, read_warehouse, run_check
from dagster_project.settings import Paths

ACCEPTANCE = Path(__file__).parent / "fixtures" / "acceptance-2024"
BAILLEURS = {"244244034", "292178738", "297341513"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("quality-acceptance") / "data"
    p = Paths(data=data, landing=data / "raw")
    shutil.copytree(ACCEPTANCE / "landing", p.landing)
    ingest_partitions(p, discover_partitions(p.landing), "recette", max_workers=1)
    run_dbt(["build"], p)
    return p.warehouse


@pytest.mark.parametrize("spec", CHECKS, ids=lambda s: s.name)
def test_every_check_passes_on_the_acceptance_campaign(warehouse: Path, spec) -> None:
    outcomes = run_check(spec, lambda: read_warehouse(warehouse, spec.reads), "recette")
    failed = outcomes.filter(~pl.col("succes"))
    assert failed.is_empty(), failed.select(
        "suite", "expectation", "bailleur_siren", "exemples"
    ).rows()
    if spec.name != "donnees_personnelles":
        assert set(outcomes["bailleur_siren"]) == BAILLEURS
