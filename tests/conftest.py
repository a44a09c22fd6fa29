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
    p = paths()
    p.landing.mkdir(parents=True)
    return p


@pytest.fixture
def acceptance_landing(workspace: Paths) -> Paths:
    """The workspace with the shared acceptance campaign dropped in its landing folder."""
    shutil.copytree(ACCEPTANCE / "landing", workspace.landing, dirs_exist_ok=True)
    return workspace
