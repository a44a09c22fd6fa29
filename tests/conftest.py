"""Shared fixtures: a throw-away workspace per test, the acceptance campaign, and the two
campaigns run by the CLI that several test files read (each built once per session)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dagster_project.settings import Paths, paths
from tests.campaign_cli import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
ACCEPTANCE = FIXTURES / "acceptance-2024"
# The spoilt campaign: 244244034 drops a `tours` file that is rejected (incomplete: its
# conventions and logements alone would give trames where every figure is 0); 297341513
# orients a dwelling to a réservataire without a convention there (rule §6.2, ERREUR: blocked);
# 292178738 is complete and valid, the only one published.
INCOMPLETE, BLOCKED, PUBLISHED = "244244034", "297341513", "292178738"
TOUR, MISDIRECTED = "L2-00022,1,2024-08-21,CD91,", "L2-00022,1,2024-08-21,VILLE77284,"


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
    from dagster_project.defs.transform.dbt_cli import run_dbt
    from dagster_project.settings import DBT_PROJECT_DIR

    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:  # xdist workers share dbt/target
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = tmp_path_factory.mktemp("dbt-parse")
        run_dbt(["parse"], Paths(data=data, landing=data / "raw"), target_path=target)
    return target / "manifest.json"


def shared_campaign(factory: pytest.TempPathFactory, name: str, spoil=None
                    ) -> tuple[Paths, subprocess.CompletedProcess]:
    """The acceptance campaign run once by the CLI for the whole session, whichever xdist
    worker asks first (the others wait for it and read the same folder: no test changes it)."""
    base = factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data, landing, done = root / "data", root / "depot", root / "resultat.json"
        if not done.is_file():
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(ACCEPTANCE / "landing", landing)
            if spoil:
                spoil(landing)
            result = run_cli(data, "--landing", str(landing))
            done.write_text(json.dumps([result.args, result.returncode, result.stdout,
                                        result.stderr]), encoding="utf-8")
        result = subprocess.CompletedProcess(*json.loads(done.read_text(encoding="utf-8")))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return Paths(data=data.resolve(), landing=landing.resolve()), result


@pytest.fixture(scope="session")
def campagne_recette(tmp_path_factory, dbt_manifest) -> tuple[Paths, subprocess.CompletedProcess]:
    """The acceptance campaign dropped in a custom landing folder, run once by the CLI.
    Tests may run the campaign again on it, never change its landing folder."""
    return shared_campaign(tmp_path_factory, "campagne-recette")


def spoil(landing: Path) -> None:
    (landing / "depot" / INCOMPLETE / f"{INCOMPLETE}_2024_tours.csv").write_text(
        "colonne inconnue;autre\n1;2\n", encoding="utf-8")
    tours = landing / BLOCKED / f"{BLOCKED}_2024_tours.csv"
    text = tours.read_text(encoding="utf-8-sig")
    assert TOUR in text
    tours.write_text(text.replace(TOUR, MISDIRECTED), encoding="utf-8")


@pytest.fixture(scope="session")
def campagne_abimee(tmp_path_factory, dbt_manifest) -> tuple[Paths, subprocess.CompletedProcess]:
    """The acceptance campaign with one bailleur incomplete and one blocked, run by the CLI."""
    return shared_campaign(tmp_path_factory, "campagne-abimee", spoil)

