"""Shared fixtures: a throw-away workspace per test and the acceptance campaign."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dagster_project.settings import Paths, paths

FIXTURES = Path(__file__).parent / "fixtures"
ACCEPTANCE = FIXTURES / "acceptance-2024"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Point every path of the pipeline at an empty temporary data folder."""
    monkeypatch.setenv("FLUX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FLUX_LANDING_DIR", str(tmp_path / "data" / "raw"))
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "0")  # tests drop then ingest at once
    p = paths()
    p.landing.mkdir(parents=True)
    return p


@pytest.fixture
def acceptance_landing(workspace: Paths) -> Paths:
    """The workspace with the shared acceptance campaign dropped in its landing folder."""
    shutil.copytree(ACCEPTANCE / "landing", workspace.landing, dirs_exist_ok=True)
    return workspace


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dbt parse` once per session (the Dagster dbt assets read dbt/target/manifest.json).

    Parsing reads no data; every later dbt command parses again with its own FLUX_DATA_DIR.
    """
    import fcntl

    from dagster_project.defs.transform.dbt_cli import run_dbt
    from dagster_project.settings import DBT_PROJECT_DIR

    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:  # xdist workers share dbt/target
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = tmp_path_factory.mktemp("dbt-parse")
        run_dbt(["parse"], Paths(data=data, landing=data / "raw"), target_path=target)
    return target / "manifest.json"
